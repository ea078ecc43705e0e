"""Feed notices: the subscribers who take them hear when a feed fails, is gone or falls
silent, and when it recovers; a dead feed would otherwise lose its news unseen. Delivery
notices: those who take them hear when alerts go to the dead-letter list.

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
from watcher.models import Alert, DeliveryNotice, FeedConfig, FeedNotice
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


def queue_delivery_notices(store: Store, config: Config, now: datetime) -> list[DeliveryNotice]:
    """Queue a notice of the alerts gone to the dead-letter list since the last reading,
    one for each subscriber's channel (the notices' own dead letters aside: a notice that
    cannot be delivered is not told of, through the same channels, for ever), to every
    channel of every subscriber with `delivery_problems: true` but the channels told of:
    the channel that refused the alerts would refuse their notice. None, and nothing
    stored, when no subscriber takes them. A database error is logged: the next reading
    tries again."""
    takers = [s for s in config.subscribers if s.delivery_problems and s.channels()]
    if not takers:
        return []
    try:
        dead = [a for a in store.alerts(dead_only=True) if not a.notices]
        told, now_dead = store.dead_letters_told(), {(a.id, a.sends) for a in dead}
        notices = _undelivered([a for a in dead if (a.id, a.sends) not in told])
        if not notices and told == now_dead:
            return []
        failing = {(n.subscriber, n.channel) for n in notices}
        recipients = [
            (s.name, channel, notices)
            for s in takers for channel in s.channels()
            if notices and (s.name, channel) not in failing
        ]  # fmt: skip
        store.record_delivery_notices(recipients, now_dead, now)
    except StoreError as exc:
        event(log, logging.ERROR, "delivery notices not queued", error=str(exc))
        return []
    for notice in notices:
        event(
            log, logging.WARNING, "delivery notice", subscriber=notice.subscriber,
            channel=notice.channel, dead=notice.alerts, error=notice.error,
            alerts=len(recipients),
        )  # fmt: skip
    return notices


def _undelivered(dead: list[Alert]) -> list[DeliveryNotice]:
    """The dead letters by subscriber and channel: how many, and the newest one's error."""
    by_route: dict[tuple[str, str], list[Alert]] = {}
    for alert in sorted(dead, key=lambda a: a.id):
        by_route.setdefault((alert.subscriber, alert.channel), []).append(alert)
    return [
        DeliveryNotice(
            subscriber=subscriber,
            channel=channel,
            alerts=len(alerts),
            error=alerts[-1].last_error or "",
        )
        for (subscriber, channel), alerts in sorted(by_route.items())
    ]
