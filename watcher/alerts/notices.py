"""Feed notices: the subscribers who take them hear when a feed fails, is gone, falls
silent, keeps dropping stories or has only new stories dated too old to alert, and when it
recovers; a dead feed would otherwise lose its news unseen. Delivery notices: those who
take them hear when alerts go to the dead-letter list.

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
from watcher.models import Alert, DeliveryNotice, FeedConfig, FeedNotice, Lanes
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


HELD_AFTER = 3  # a lane's server failures in a row before its hold is told of


def queue_delivery_notices(
    store: Store, config: Config, now: datetime, lanes: Lanes | None = None
) -> list[DeliveryNotice]:
    """Queue a notice of the alerts gone to the dead-letter list since the last reading,
    one for each subscriber's channel (the notices' own dead letters aside: a notice that
    cannot be delivered is not told of, through the same channels, for ever); and, given
    the sender's `lanes`, of each lane held after `HELD_AFTER` failures, and of each told
    so that a send went through on since (after a restart, none is known to fail).
    It goes to every channel of every subscriber with `delivery_problems: true` but the
    channels told of as failing: they would refuse their notice. None, and nothing stored,
    when no subscriber takes them. A database error is logged: the next reading tries
    again."""
    takers = [s for s in config.subscribers if s.delivery_problems and s.channels()]
    if not takers:
        return []
    try:
        dead = [a for a in store.alerts(dead_only=True) if not a.notices]
        told_dead, told_held = store.delivery_told()
        now_dead = {(a.id, a.sends) for a in dead}
        notices = _undelivered([a for a in dead if (a.id, a.sends) not in told_dead])
        lane_notices, held = _lanes(lanes, told_held) if lanes is not None else ([], told_held)
        notices += lane_notices
        if not notices and told_dead == now_dead and held == told_held:
            return []
        recipients = [
            (s.name, channel, notices)
            for s in takers for channel in s.channels()
            if notices and not _refuses(s.name, channel, notices)
        ]  # fmt: skip
        store.record_delivery_notices(recipients, now_dead, held, now)
    except StoreError as exc:
        event(log, logging.ERROR, "delivery notices not queued", error=str(exc))
        return []
    for notice in notices:
        event(
            log, logging.INFO if notice.problem == "resumed" else logging.WARNING,
            "delivery notice", problem=notice.problem, lane=notice.about,
            dead=notice.alerts, error=notice.error or None, alerts=len(recipients),
        )  # fmt: skip
    return notices


def _lanes(
    lanes: Lanes, told: set[tuple[str, str]]
) -> tuple[list[DeliveryNotice], set[tuple[str, str]]]:
    """The lanes held (failing after `HELD_AFTER` failures) not told of yet, and those told
    of that a send went through on since; and the lanes told of as held after them."""
    failing = lanes.failing
    held = {lane for lane, (failures, _) in failing.items() if failures >= HELD_AFTER}
    resumed = (told - set(failing)) & lanes.delivered
    notices = [
        DeliveryNotice(subscriber=subscriber, channel=channel, problem="held",
                       failures=failing[channel, subscriber][0],
                       error=failing[channel, subscriber][1])
        for channel, subscriber in sorted(held - told)
    ] + [
        DeliveryNotice(subscriber=subscriber, channel=channel, problem="resumed")
        for channel, subscriber in sorted(resumed)
    ]  # fmt: skip
    return notices, held | (told - resumed)


def _refuses(subscriber: str, channel: str, notices: list[DeliveryNotice]) -> bool:
    """Whether the subscriber's channel is one the notices tell of as failing: dead
    letters of its own, or its lane held (the email lane: every subscriber's email)."""
    return any(
        n.problem != "resumed" and n.channel == channel and n.subscriber in ("", subscriber)
        for n in notices
    )


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
