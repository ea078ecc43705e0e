"""Alerts: who gets which cluster, what the message says, and delivering it.

route(match, rules, subscribers) -> [(subscriber, channel)]   which alerts a match makes
render(...)  -> Message                                        the words of one alert
Sender(...).deliver_due()                                      the outbox, delivered
"""

from __future__ import annotations

from collections.abc import Iterable

from watcher.config import Subscriber
from watcher.models import Match
from watcher.rules.model import Rule


def follows(subscriber: Subscriber, rule: Rule) -> bool:
    """A subscriber follows a rule by name, by one of its tags, by "*", or is named by it."""
    wanted = set(subscriber.follow)
    named = "*" in wanted or rule.name in wanted or bool(wanted & set(rule.tags))
    return (named or subscriber.name in rule.notify) and rule.priority >= subscriber.min_priority


def route(
    match: Match, rules: dict[str, Rule], subscribers: Iterable[Subscriber]
) -> list[tuple[str, str]]:
    """The (subscriber, channel) pairs a new match alerts; none for a rule no longer loaded."""
    rule = rules.get(match.rule)
    if rule is None:
        return []
    return [(s.name, channel) for s in subscribers if follows(s, rule) for channel in s.channels()]
