"""The rule set in force, reloaded when its files change; a broken edit never takes effect.

In: the rules folder. Out: the current `Matcher` and the state of the last reload.
A reload that fails keeps the last good rules and records the problems, which the service
logs and `watcher status`-style callers can show.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from watcher.errors import RuleError
from watcher.logs import event
from watcher.models import ClusteredStory, Match, Story
from watcher.rules.loader import load_rules, rule_files
from watcher.rules.matcher import Matcher, StoryMatch
from watcher.rules.model import RuleSet

EMPTY = RuleSet(lists={}, rules=(), version="none", files=())

log = logging.getLogger("watcher.rules")

Snapshot = tuple[tuple[str, int, int], ...]


@dataclass(frozen=True)
class ReloadResult:
    changed: bool
    error: RuleError | None = None


class LiveRules:
    """Holds the current matcher; `reload_if_changed` polls the files' size and mtime."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.feed_tags: dict[str, tuple[str, ...]] = {}  # the config's feeds' (rules' feeds:)
        self.snapshot: Snapshot = self._snapshot()
        self.last_error: RuleError | None = None
        if os.path.isdir(folder):
            self.matcher = Matcher(load_rules(folder))  # a broken rule set at start is fatal
        else:
            event(
                log,
                logging.WARNING,
                "no rules folder: no rule matches until it exists",
                folder=folder,
            )
            self.matcher = Matcher(EMPTY)

    @property
    def version(self) -> str:
        return self.matcher.ruleset.version

    def _snapshot(self) -> Snapshot:
        items = []
        for path in rule_files(self.folder) if os.path.isdir(self.folder) else []:
            try:
                stat = path.stat()
            except OSError:
                continue
            items.append((str(path), stat.st_mtime_ns, stat.st_size))
        return tuple(items)

    def reload_if_changed(self) -> ReloadResult:
        snapshot = self._snapshot()
        if snapshot == self.snapshot:
            return ReloadResult(changed=False)
        self.snapshot = snapshot
        return self.reload()

    def reload(self) -> ReloadResult:
        """Load the files now; on any problem keep the rules in force."""
        if not os.path.isdir(self.folder) and self.version == EMPTY.version:
            return ReloadResult(changed=False)
        try:
            ruleset = load_rules(self.folder)
        except RuleError as exc:
            self.last_error = exc
            for problem in exc.problems:
                event(
                    log, logging.ERROR, "rule reload failed, keeping the rules in force",
                    version=self.version, problem=str(problem),
                )  # fmt: skip
            return ReloadResult(changed=False, error=exc)
        self.last_error = None
        if ruleset.version == self.version:
            return ReloadResult(changed=False)
        self.matcher = Matcher(ruleset)
        event(log, logging.INFO, "rules reloaded", version=ruleset.version, rules=ruleset.summary())
        return ReloadResult(changed=True)

    def rules_matched(self, story: Story) -> frozenset[str]:
        """The names of the rules `story` matches."""
        found = self.matcher.match_story(story, self.feed_tags.get(story.feed, ()))
        return frozenset(m.rule for m in found.rules)

    def may_match(self, premade: PoolMatches | None) -> Callable[[Story], bool]:
        """Whether a story may match a rule: matched none in the pool (`premade`, made
        against the rule set in force) is no; without, any may."""
        if premade is None or premade.version != self.version:
            return lambda story: True
        return lambda story: story.id in premade.by_story

    def matches(
        self, clustered: Sequence[ClusteredStory], premade: PoolMatches | None, now: datetime
    ) -> list[Match]:
        """Every rule each new story matches, recorded against the story's cluster; `premade`
        matches are used when they were made against the rule set in force."""
        matcher = self.matcher
        pooled = premade is not None and premade.version == matcher.ruleset.version
        made = premade.by_story if premade is not None and pooled else {}
        found = []
        for item in clustered:
            story = item.story
            result = made.get(story.id)
            if result is None:
                if pooled:  # the pool matched it: no rule
                    continue
                result = matcher.match_story(story, self.feed_tags.get(story.feed, ()))
            terms = {name: list(words) for name, words in result.terms.items() if words}
            found += [
                Match(
                    cluster=item.assignment.cluster, rule=m.rule, story=story.id, terms=terms,
                    clause=m.clause, ruleset_version=matcher.ruleset.version, matched_at=now,
                )
                for m in result.rules
            ]  # fmt: skip
        return found


# -- matching in a pool worker -------------------------------------------------------------


class PoolMatches(NamedTuple):
    """Stories' matches made in a pool worker, against the rule set of `version`: only the
    stories that matched a rule are listed, every other one matched none (most stories match
    no rule, and their empty results cost more to pickle than all the others)."""

    version: str
    by_story: dict[str, StoryMatch]


class _PoolMatcher:
    """A pool worker's copy of the rule set in force, built from the same folder."""

    def __init__(self) -> None:
        self.matcher: Matcher | None = None
        self.missed: set[str] = set()  # versions the folder did not hold when asked for

    def get(self, folder: Path, version: str) -> Matcher | None:
        if self.matcher is not None and self.matcher.ruleset.version == version:
            return self.matcher
        if version in self.missed:
            return None
        try:
            ruleset = load_rules(folder)
        except (RuleError, OSError):
            ruleset = None
        if ruleset is None or ruleset.version != version:
            self.missed.add(version)
            return None
        self.matcher = Matcher(ruleset)
        return self.matcher


_POOL_MATCHER = _PoolMatcher()  # one per process; used in pool workers only


def match_in_pool(
    stories: Sequence[Story], folder: Path, version: str, tags: tuple[str, ...] = ()
) -> PoolMatches | None:
    """In a pool worker: the stories' matches against the rule set of `version`, read from
    `folder`, their feed tagged `tags`; None when the folder holds another version (the
    service matches them itself)."""
    matcher = _POOL_MATCHER.get(folder, version)
    if matcher is None:
        return None
    found = {s.id: matcher.match_story(s, tags) for s in stories}
    return PoolMatches(version, {key: match for key, match in found.items() if match.rules})
