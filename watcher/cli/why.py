"""`watcher why STORY`: which alerts a stored story's news item made, and why a subscriber
got none.

Reads the database (the story, its cluster, the cluster's matches and alerts) and the config
(subscribers, feeds' ages, the rule files in force); changes nothing.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from typing import Any

from watcher.alerts.routing import follows
from watcher.cli.common import EXIT_FAILED, printable, reading, utf8_text, when
from watcher.config import Config, Subscriber
from watcher.dedupe.window import KEPT_APART
from watcher.errors import RuleError
from watcher.feed_state import stale, was_backlog
from watcher.models import Alert, Cluster, FeedState, Match, Story, tags_by_feed
from watcher.rules import Matcher, load_rules
from watcher.rules.model import Rule, RuleSet
from watcher.store import Store


def add_parsers(commands: Any) -> None:
    why = commands.add_parser(
        "why",
        help="show which alerts a story's news item made, and why a subscriber got none",
        description="Find a stored story (by id, the first 6 or more characters of its id, or "
        "its link) and show its news item (cluster) and how the story joined it (or, when it "
        "reads as the same event as a story of a news item begun more than "
        "clustering.max_span before it, that it started one of its own; when it started one "
        "because it tells, in the same wording as a story it would have joined, of other "
        "names, another day or the opposite, that story's id and why), the rules "
        "the news item matched, the alerts made for it with their status (a sent email's "
        "with the addresses that refused it, if any; a pending one's last failure and the "
        "attempts it spent, or what it waits for: its digest time, the end of quiet hours "
        "or days, the next hour over max_per_hour, or its settle), then each subscriber's "
        "answer: "
        "alerted (one of its alerts was sent), alert queued (not sent yet), not alerted "
        "because its alert failed (dead, or dropped), or for a subscriber without one, why: "
        "no rule matched (and which rules in force match the "
        "story now, and which hold words in it but take no story of its feed: feeds:); it "
        "has no channel; it follows none of the rules matched, or their "
        "priority is below its min_priority; the story that matched was older than "
        "its feed's backfill (on the feed's first poll) or max_age (later), or a stored story "
        "under a new id (the news item's next story to match the rule alerts then); the rules "
        "it follows wait for more outlets (min_sources); or none of these, when the config or "
        "the rules changed since. Reads the database; changes "
        "nothing.",
    )
    why.add_argument(
        "story",
        metavar="STORY",
        type=utf8_text,
        help="a story id, its first 6 or more characters, or a link",
    )
    why.set_defaults(handler=cmd_why, needs_config=True)


def cmd_why(config: Config, args: argparse.Namespace) -> int:
    with reading(config.state) as store:
        found = store.find_stories(args.story.strip())
        if len(found) != 1:
            print(_not_one(args.story, found), file=sys.stderr)
            return EXIT_FAILED
        print("\n".join(_report(store, config, found[0])))
    return 0


def _not_one(key: str, found: list[Story]) -> str:
    if not found:
        return f"watcher: why: no stored story has the id or link {key!r}"
    listed = "".join(f"\n  {s.id}  {s.title}" for s in found)
    return f"watcher: why: {len(found)} stories match {key!r}; give one id:{listed}"


def _report(store: Store, config: Config, story: Story) -> list[str]:
    lines = [
        f"story:    {story.id}  {story.title}",
        f"          {story.source}, feed {story.feed}, published {when(story.published)}, "
        f"first fetched {when(story.fetched_at)}",
    ]
    cluster_id, level, linked, reason = store.placement(story.id)
    if cluster_id is None:
        return [*lines, "cluster:  none yet (the service clusters it when it next starts)"]
    cluster = store.cluster(cluster_id)
    lines += _cluster_lines(story, cluster, level, linked, reason)
    ruleset = _ruleset_now(config)
    rules = {rule.name: rule for rule in ruleset.rules} if ruleset else None
    matches = store.matches_for(cluster_id)
    tags = tags_by_feed(config.feeds).get(story.feed, ())
    lines += _match_lines(matches, story, ruleset, tags)
    alerts = store.alerts_for(cluster_id)
    lines += [f"alert:    {_alert_text(a)}" for a in alerts]
    for subscriber in config.subscribers:
        mine = [a for a in alerts if a.subscriber == subscriber.name]
        answer = _alerted(mine) if mine else _why_not(store, config, subscriber, cluster,
                                                      matches, rules)  # fmt: skip
        lines.append(f"{subscriber.name + ':':<10}{answer}")
    return lines


def _alerted(alerts: list[Alert]) -> str:
    """A subscriber's state, from its alerts of the news item (a channel each)."""
    statuses = {alert.status for alert in alerts}
    if "sent" in statuses:
        return "alerted"
    if statuses & {"pending", "sending"}:
        return "alert queued, not sent yet (see its alert above)"
    if "dead" in statuses:
        return "not alerted: its alert failed, and is in the dead-letter list"
    return "not alerted: its alert failed, and was dropped from the dead-letter list"


def _cluster_lines(
    story: Story, cluster: Cluster, level: str | None, linked: str | None, reason: str | None
) -> list[str]:
    outlets = len(cluster.sources)
    head = (
        f"cluster:  {cluster.id}, {_count(len(cluster.members), 'story', 'stories')} from "
        f"{_count(outlets, 'outlet', 'outlets')}"
    )
    if level is None and linked is not None:  # it linked only news items begun too early
        return [head, f"          this story started it: it reads as the same event as {linked}, "
                f"but {reason}"]  # fmt: skip
    if level is None or linked is None:  # a reason for one kept apart from another story
        kept = f": {reason}" if reason and reason.startswith(KEPT_APART) else ""
        return [head, f"          this story started it{kept}"]
    return [head, f"          this story joined it as a {level} of {linked} ({reason})"]


def _match_lines(
    matches: list[Match], story: Story, ruleset: RuleSet | None, tags: tuple[str, ...]
) -> list[str]:
    if not matches:
        lines = ["rules:    none matched this news item"]
        if ruleset is None:
            return lines
        matcher = Matcher(ruleset)
        found = matcher.match(story.title, story.summary, story.source, story.body)
        now = [m.rule for m in matcher.in_feed(found, story.feed, tags).rules]
        if now:  # rules written or changed since the story came
            lines.append(f"          the rules in force match this story now: {', '.join(now)}")
        if kept := [m.rule for m in found.rules if m.rule not in now]:  # kept off by feeds:
            lines.append(
                f"          the words of {', '.join(kept)} are in it, but not its feeds: "
                f"(this story is of feed {story.feed!r})"
            )
        return lines
    return [
        f"rule:     {m.rule}, matched {when(m.matched_at)} by story {m.story}"
        + (" (this one)" if m.story == story.id else "")
        + f": {m.clause}"
        + _kept(m)
        for m in matches
    ]


def _kept(match: Match) -> str:
    if match.waiting:
        return "; waiting for the outlets the rule asks for (min_sources)"
    return "; quiet (the story was kept from alerting)" if match.quiet else ""


def _alert_text(alert: Alert) -> str:
    about = f"{alert.subscriber} by {alert.channel}" + (" (digest)" if alert.digest else "")
    if alert.status == "sent":
        state = f"sent {when(alert.sent_at)}"
        state += f" ({alert.last_error})" if alert.last_error else ""  # refused by some
    elif alert.status == "dead":
        state = f"in the dead-letter list, {_spent(alert)}: {alert.last_error}"
    elif alert.status == "dropped":
        state = f"dropped, never sent, {_spent(alert)}: {alert.last_error}"
    else:
        state = f"{alert.status}, due {when(alert.next_attempt_at)}"
        if alert.last_error:
            state += f" (last try failed, {_spent(alert)}: {alert.last_error})"
        elif alert.waits is not None and alert.sends == 0:
            state += f" (waiting for {_WAITS_FOR[alert.waits]})"
        elif _settling(alert):
            state += " (settling: its subscriber's settle lets other outlets' coverage join)"
    return printable(f"#{alert.id} {about}: {state}")  # its error is a server's text


_WAITS_FOR = {
    "digest": "its subscriber's digest time",
    "quiet": "the end of its subscriber's quiet hours or days",
    "cap": "the next hour: its subscriber's max_per_hour was reached",
}


def _settling(alert: Alert) -> bool:
    """Whether a pending alert waits for its subscriber's `settle`: made to go alone, later
    than it was made, and never tried."""
    return (
        not alert.digest and not alert.notices and alert.sends == 0
        and alert.next_attempt_at > alert.created_at
    )  # fmt: skip


def _spent(alert: Alert) -> str:
    """Its attempts spent: a try while its server was down spends none (see `Sender`)."""
    return _count(alert.attempts, "attempt spent", "attempts spent")


def _why_not(
    store: Store, config: Config, subscriber: Subscriber, cluster: Cluster,
    matches: list[Match], rules: dict[str, Rule] | None,
) -> str:  # fmt: skip
    if not matches:
        return "not alerted: no rule matched this news item"
    if not subscriber.channels():
        return "not alerted: it has no channel"
    if rules is None:
        return "not alerted (the rule files cannot be read now to say more)"
    matched = [rules[m.rule] for m in matches if m.rule in rules]
    gone = [m.rule for m in matches if m.rule not in rules]
    followed = [m for m in matches if m.rule in rules and follows(subscriber, rules[m.rule])]
    if not followed:
        unranked = replace(subscriber, min_priority=1)
        low = [r for r in matched if follows(unranked, r)]
        if low:
            names = ", ".join(f"{r.name} (priority {r.priority})" for r in low)
            floor = subscriber.min_priority
            return f"not alerted: it follows {names}, below its min_priority {floor}"
        names = ", ".join(r.name for r in matched) or "-"
        extra = f"; no longer in the rule files: {', '.join(gone)}" if gone else ""
        return f"not alerted: it follows none of the rules matched ({names}){extra}"
    if all(m.waiting for m in followed):
        waits = ", ".join(f"{m.rule} at {rules[m.rule].min_sources}" for m in followed)
        return (
            f"not alerted yet: the rules it follows wait for outlets (min_sources: {waits}); "
            f"{_count(len(cluster.sources), 'outlet carries', 'outlets carry')} this news item"
        )
    match = next(m for m in followed if not m.waiting)
    quiet = _too_old(store, config, store.story(match.story))
    if match.quiet:
        reason = quiet or (
            f"story {match.story} was kept from alerting (a stored story under a new id, or "
            "too old when its feed gave it another title)"
        )
        later = f"the next story of this news item to match {match.rule} will"
        return f"not alerted: {reason}; {later}"
    if quiet:  # matched before quiet matches were recorded as such (schema 9)
        return f"not alerted: {quiet}"
    return (
        f"not alerted, though it follows {match.rule}: no alert was made when the rule matched "
        f"({when(match.matched_at)}); the subscriber, its follow list or the rule changed since"
    )


def _too_old(store: Store, config: Config, story: Story) -> str | None:
    """Why the story was kept from alerting by its age, as `feed_state.backlog` (on its
    feed's first poll) and `feed_state.stale` (later) decided it, at its first fetch; None
    when its age was no bar."""
    feed = next((f for f in config.feeds if f.name == story.feed), None)
    if feed is None:
        return None
    first_read = store.feed_state(story.feed).first_read_at
    if was_backlog(story, feed.backfill, first_read, store.first_fetch(story.feed)):
        undated = story.published == story.fetched_at
        limit = _span(feed.backfill or 0)  # backlog finds none without a backfill
        age = "undated" if undated else f"older than backfill ({limit})"
        return f"story {story.id} came in its feed's first poll and was {age}"
    polled = FeedState(name=feed.name, url=feed.url, last_success_at=story.fetched_at)
    if story.id in stale(polled, feed.max_age, [story], story.fetched_at):
        return (
            f"story {story.id} was dated over max_age ({_span(feed.max_age or 0)}) before it came"
        )
    return None


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def _ruleset_now(config: Config) -> RuleSet | None:
    """The rule files as they are now; None when they cannot be read."""
    try:
        return load_rules(config.rules)
    except (RuleError, OSError):
        return None
