"""Which alerts a new match makes: the subscribers that follow its rule, on every channel."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from watcher.alerts.digest import next_digest, next_hour, quiet_until
from watcher.config import Subscriber
from watcher.logs import event
from watcher.models import AlertPlan, Match
from watcher.rules.live import LiveRules
from watcher.rules.model import Rule

log = logging.getLogger("watcher.alerts")


def follows(subscriber: Subscriber, rule: Rule) -> bool:
    """A subscriber follows a rule by name, by one of its tags, by "*", or is named by it."""
    wanted = set(subscriber.follow)
    named = "*" in wanted or rule.name in wanted or bool(wanted & set(rule.tags))
    return (named or subscriber.name in rule.notify) and rule.priority >= subscriber.min_priority


def unknown_names(rules: Iterable[Rule], subscribers: Iterable[Subscriber]) -> list[str]:
    """Each name in a subscriber's `follow` that is no rule's name or tag, and each name in
    a rule's `notify` that is no subscriber's, as a sentence: a typo in either silences
    alerts without an error, since rules and config are read and reloaded apart."""
    rules, subscribers = list(rules), list(subscribers)
    followable = {r.name for r in rules} | {tag for r in rules for tag in r.tags} | {"*"}
    names = {s.name for s in subscribers}
    found = [
        f"subscriber {s.name!r} follows {name!r}, which is no rule's name or tag"
        for s in subscribers for name in s.follow if name not in followable
    ]  # fmt: skip
    found += [
        f"{r.path}:{r.line}: rule {r.name!r} notifies {name!r}, who is no subscriber"
        for r in rules for name in r.notify if name not in names
    ]  # fmt: skip
    notified = {name for r in rules for name in r.notify}
    found += [
        f"subscriber {s.name!r} follows no rule (follow: []), no rule notifies it, and it "
        "takes no feed notices (feed_problems): it gets nothing"
        for s in subscribers if not s.follow and s.name not in notified and not s.feed_problems
    ]  # fmt: skip
    return found


def warn_unknown_names(rules: Iterable[Rule], subscribers: Iterable[Subscriber]) -> None:
    """`unknown_names` logged, one warning each."""
    for problem in unknown_names(rules, subscribers):
        event(log, logging.WARNING, "a name in the rules or subscribers names no one",
              problem=problem)  # fmt: skip


def route(
    match: Match, rules: dict[str, Rule], subscribers: Iterable[Subscriber]
) -> list[AlertPlan]:
    """The alerts a new match makes; none for a rule no longer loaded."""
    rule = rules.get(match.rule)
    if rule is None:
        return []
    return [
        plan
        for s in subscribers if follows(s, rule)
        for plan in _plans(s, match.matched_at, rule.priority)
    ]  # fmt: skip


URGENT = 5  # a rule's priority that breaks through a subscriber's quiet hours


def _plans(subscriber: Subscriber, now: datetime, priority: int) -> list[AlertPlan]:
    zone = ZoneInfo(subscriber.timezone)
    quiet = None
    if subscriber.quiet_hours and priority < URGENT:
        quiet = quiet_until(subscriber.quiet_hours, zone, now)
    if subscriber.mode == "digest":
        due, digest = next_digest(subscriber.digest, zone, now), True
    elif quiet is not None:  # a digest when the quiet hours end
        due, digest = quiet, True
    else:
        due, digest = now, False
    cap = subscriber.max_per_hour if not digest else None
    overflow = next_hour(zone, now) if cap else None
    return [
        AlertPlan(
            subscriber=subscriber.name,
            channel=channel,
            due=due,
            digest=digest,
            cap=cap,
            overflow_due=overflow,
        )
        for channel in subscriber.channels()
    ]


def router(
    rules: LiveRules, subscribers: tuple[Subscriber, ...]
) -> Callable[[Match], list[AlertPlan]]:
    """`route` bound to the rules in force (read at each match) and these subscribers."""

    def route_match(match: Match) -> list[AlertPlan]:
        named = {r.name: r for r in rules.matcher.ruleset.rules}
        return route(match, named, subscribers)

    return route_match
