"""`watcher rules test --diff`: what an edit of the rules changes, before it is made.

In: the stories tested, each with what the edited rules and the rules compared with (the
rules in force) matched, and the news item and outlets of each story. Out: the stories the
two match otherwise, and per rule the news items it would alert on, gained and lost.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, NamedTuple

from watcher.cli.common import count
from watcher.models import Story
from watcher.rules.matcher import RuleMatch, StoryMatch


class NewsItems(NamedTuple):
    """The news item (cluster) of each story tested, and the outlets of each news item; a
    story with no cluster is its own."""

    of: dict[str, Any]
    outlets: dict[Any, int]


class Compared(NamedTuple):
    """A story with what each rule set matched in it."""

    story: Story
    after: StoryMatch  # the rules tested (the edit)
    before: StoryMatch  # the rules compared with (in force)


def print_changes(compared: Sequence[Compared], tested: int, only: str | None) -> int:
    """Each story the two rule sets match otherwise: `+ rule: clause` for a rule the edit
    makes match it, `- rule: clause` for one it no longer matches; how many such stories,
    of `tested`."""
    changed = 0
    for c in compared:
        gained, lost = _rules(c.after, c.before, only), _rules(c.before, c.after, only)
        if not gained and not lost:
            continue
        changed += 1
        print(f"{c.story.id}  {c.story.title}")
        for sign, matches in (("+", gained), ("-", lost)):
            for m in matches:
                print(f"    {sign} {m.rule}: {m.clause}")
    stories = count(tested, "story", "stories")
    print(f"{changed} of {stories} matched otherwise" + (f" by rule {only}" if only else ""))
    return changed


def print_alert_changes(
    compared: Sequence[Compared], items: NewsItems, need: tuple[dict[str, int], dict[str, int]],
    only: str | None,
) -> None:  # fmt: skip
    """Per rule, the news items it would alert on (matched, and carried by its
    `min_sources` outlets: `need`, after and before) before and after the edit, and how
    many it gains and loses; the most changed first."""
    now = alerting([(c.story, c.after) for c in compared], items, need[0], only)
    then = alerting([(c.story, c.before) for c in compared], items, need[1], only)
    rules = sorted(now.keys() | then.keys(), key=lambda r: (-len(now[r] ^ then[r]), r))
    if not rules:
        return
    width = max(map(len, ("rule", *rules)))
    print(f"\n{'rule':<{width}}  news items before  after  gained  lost")
    for rule in rules:
        gained, lost = len(now[rule] - then[rule]), len(then[rule] - now[rule])
        print(
            f"{rule:<{width}}  {len(then[rule]):>17}  {len(now[rule]):>5}  {gained:>6}  {lost:>4}"
        )


def alerting(
    results: Sequence[tuple[Story, StoryMatch]], items: NewsItems, need: dict[str, int],
    only: str | None,
) -> defaultdict[str, set[Any]]:  # fmt: skip
    """Each rule's news items with a match and enough outlets (`min_sources`)."""
    found: defaultdict[str, set[Any]] = defaultdict(set)
    for story, result in results:
        item = items.of[story.id]
        for name in rule_names(result, only):
            if items.outlets[item] >= need.get(name, 1):
                found[name].add(item)
    return found


def rule_names(result: StoryMatch, only: str | None) -> list[str]:
    """The rules the story matched (only `only`, if given)."""
    return [m.rule for m in result.rules if only is None or m.rule == only]


def _rules(result: StoryMatch, other: StoryMatch, only: str | None) -> list[RuleMatch]:
    """The rules of `result` (only `only`, if given) that `other` lacks."""
    theirs = {m.rule for m in other.rules}
    return [m for m in result.rules if m.rule not in theirs and (only is None or m.rule == only)]
