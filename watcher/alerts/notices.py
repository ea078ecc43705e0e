"""Feed notices: the subscribers who take them hear when a feed fails, is gone or falls
silent, and when it recovers; a dead feed would otherwise lose its news unseen.

In: the store (each feed's health, and the problem last told of it) and the config (its
feeds and subscribers). Out: the notices made, each queued in the outbox as an alert, due
now, to every channel of every subscriber with `feed_problems: true` (or naming the
feeds): one alert for all the feeds whose health changed, so that a network outage that
fails every feed is one message, not one a feed. The transaction records each problem as
told: each is told once, and delivered as alerts are.
"""

from __future__ import annotations

import logging
from datetime import datetime

from watcher.config import Config, Subscriber
from watcher.errors import StoreError
from watcher.health import configured_states, feed_notice, silent_after_of
from watcher.logs import event
from watcher.models import FeedConfig, FeedNotice
from watcher.store import Store

log = logging.getLogger("watcher.alerts")


def queue_feed_notices(store: Store, config: Config, now: datetime) -> list[FeedNotice]:
    """Queue a notice for each configured feed whose problem is new, other than told, or
    over; none when no subscriber takes them (a subscriber added later hears of the
    problems there are then). A subscriber whose `feed_problems:` names feeds hears only of
    theirs. A database error is logged: the next reading tries again, and the alerts
    already queued go out meanwhile."""
    takers = [s for s in config.subscribers if s.feed_problems and s.channels()]
    if not takers:
        return []
    silent_after = silent_after_of(config.feeds)
    feeds = {f.name: f for f in config.feeds}
    try:
        told = store.notified()
        notices = [
            notice
            for state in configured_states(store, silent_after)
            if (notice := feed_notice(state, told.get(state.name), silent_after[state.name], now))
        ]  # fmt: skip
        recipients = _recipients(takers, notices, feeds)
        store.record_notices(notices, recipients, now)
    except StoreError as exc:
        event(log, logging.ERROR, "feed notices not queued", error=str(exc))
        return []
    for notice in notices:
        level = logging.INFO if notice.problem == "recovered" else logging.WARNING
        event(
            log, level, "feed notice", feed=notice.feed, problem=notice.problem,
            detail=notice.detail, alerts=sum(notice in told for _, _, told in recipients),
        )  # fmt: skip
    return notices


def _recipients(
    takers: list[Subscriber], notices: list[FeedNotice], feeds: dict[str, FeedConfig]
) -> list[tuple[str, str, list[FeedNotice]]]:
    """Each (subscriber, channel) that hears of some of `notices`, with those it hears of."""
    found = []
    for subscriber in takers:
        told = [n for n in notices if subscriber.told_of(feeds[n.feed])]
        found += [(subscriber.name, channel, told) for channel in subscriber.channels() if told]
    return found
