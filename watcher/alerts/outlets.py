"""Matches that wait for outlets: a rule with `min_sources` alerts a news item only once that
many outlets carry it.

In: matches, the news items (clusters) that gained stories, the rule set in force and the
router. Out: the matches recorded, with their alerts, through the store (in the caller's
transaction). A waiting match is recorded quiet; it alerts, once, when its news item has
the outlets its rule asks for, or its rule comes to ask for fewer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime

from watcher.models import AlertPlan, Match
from watcher.rules.model import RuleSet
from watcher.store import Store

Route = Callable[[Match], Iterable[AlertPlan]]


def record_matches(
    store: Store, ruleset: RuleSet | None, route: Route | None, matches: list[Match],
    clusters: set[int], now: datetime,
) -> list[Match]:  # fmt: skip
    """Record matches and their alerts (`Store.record_matches`). A match of a rule with
    `min_sources` waits, quiet, while its news item has fewer outlets; the waiting matches
    of `clusters`, the news items that gained stories, alert once theirs have enough."""
    if ruleset is None or not ruleset.waits:
        return store.record_matches(matches, route)
    need = ruleset.min_sources
    counts = store.source_counts(clusters | {m.cluster for m in matches})
    matches = [
        replace(m, quiet=True, waiting=True)
        if not m.quiet and counts.get(m.cluster, 0) < need[m.rule]
        else m
        for m in matches
    ]
    recorded = store.record_matches(matches, route)
    waiting = store.waiting_matches(clusters=clusters)
    return recorded + promote(store, ruleset, route, waiting, counts, now)


def promote(
    store: Store, ruleset: RuleSet | None, route: Route | None, waiting: list[Match],
    counts: dict[int, int], now: datetime,
) -> list[Match]:  # fmt: skip
    """The `waiting` matches whose news items now have the outlets (`counts`) their rules ask
    for, recorded loud, with their alerts; a match of a rule no longer in force stays."""
    need = ruleset.min_sources if ruleset is not None else {}
    version = ruleset.version if ruleset is not None else ""
    ready = [
        replace(m, quiet=False, waiting=False, matched_at=now, ruleset_version=version)
        for m in waiting
        if m.rule in need and counts.get(m.cluster, 0) >= need[m.rule]
    ]
    return store.record_matches(ready, route) if ready else []


def recheck_waiting(
    store: Store, ruleset: RuleSet | None, route: Route | None, since: datetime, now: datetime
) -> list[Match]:
    """The matches made since `since` that wait for outlets, alerted if their rule now asks
    for no more than their news items have."""
    with store.transaction():
        waiting = store.waiting_matches(since=since)
        if not waiting:
            return []
        counts = store.source_counts(m.cluster for m in waiting)
        return promote(store, ruleset, route, waiting, counts, now)
