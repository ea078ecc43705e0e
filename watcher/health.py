"""Is the service healthy, and what is its state: for /healthz, /status and `watcher status`.

In: the store and what the running service knows (scheduler running, last poll, how to
record its heartbeat). Out: plain data (`Check`s and a JSON-ready status document). The
service records its own facts (start, rule set, heartbeat) in the store's `service` table,
so `watcher status` in another process, or after the service stopped, reads the same story.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from watcher.errors import StoreError
from watcher.feed_state import OLD_DATES_TOLD
from watcher.holds import holds_not_over
from watcher.logs import redact
from watcher.models import FeedConfig, FeedNotice, FeedProblem, FeedState
from watcher.normalise import printable
from watcher.store import Store
from watcher.store.base import PRUNED_AT, SERVERS_HELD, servers_held_in
from watcher.store.notices import DEAD_TOLD, HELD_TOLD


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def check_health(
    *,
    record_heartbeat: Callable[[], None],
    now: datetime,
    scheduler_running: bool,
    started_at: datetime,
    last_poll_at: datetime | None,
    interval: float | None,
) -> list[Check]:
    """Scheduler running, database writable (`record_heartbeat` writes to it, raising
    `StoreError` when it cannot), and the last poll ended within twice the shortest poll
    interval (counted from the start before the first)."""
    checks = [Check("scheduler", scheduler_running, "running" if scheduler_running else "stopped")]
    try:
        record_heartbeat()
        checks.append(Check("database", True, "writable"))
    except StoreError as exc:
        checks.append(Check("database", False, str(exc)))
    checks.append(_polls(now, started_at, last_poll_at, interval))
    return checks


def _polls(
    now: datetime, started_at: datetime, last_poll_at: datetime | None, interval: float | None
) -> Check:
    if interval is None:
        return Check("polls", True, "no feed to poll (none configured, or every one paused)")
    since = last_poll_at or started_at
    late = now - since > timedelta(seconds=2 * interval)
    what = f"last poll {last_poll_at.isoformat()}" if last_poll_at else "no poll yet"
    return Check("polls", not late, f"{what}; due within {2 * interval:.0f}s")


def feed_health(
    state: FeedState, silent_after: float | None = None, now: datetime | None = None
) -> str:
    """paused (by the config), ok, failing, disabled (410 Gone), new (never polled), or
    silent: polled well, but no story kept was first fetched within `silent_after` of `now`
    (a feed frozen at its last stories, or a search that finds nothing, fails no poll).
    `state` as `feed_states` reads it; without `silent_after` and `now`, never silent."""
    if state.paused:
        return "paused"
    if state.disabled:
        return "disabled"
    if state.consecutive_failures:
        return "failing"
    if not state.last_success_at:
        return "new"
    if silent_after is None or now is None:
        return "ok"
    newest = state.newest_story_at
    quiet = newest is None or (now - newest).total_seconds() > silent_after
    return "silent" if quiet else "ok"


# polls failed in a row before a feed's notice says it fails: a blip (one 503, a timeout)
# tells no one, and backoff spaces the polls out, so the third comes some time after the first
FAILING_NOTICE_AFTER = 3
# polls in a row that listed only new stories before a feed's notice says it drops stories:
# `watcher run` polls it after half its interval, then a quarter, so the third is a feed
# that drops stories even polled 4 times as often (`feed_state.catch_up_delay`)
DROPPING_NOTICE_AFTER = 3
# a feed told of as failing (or dropping stories) is told recovered once it has polled without
# a failure (a poll that listed only new stories) this long: one that fails and recovers by
# turns is told of once, not at each turn
STEADY_AFTER = timedelta(hours=1)


def feed_problem(state: FeedState, health: str) -> FeedProblem | None:
    """What a feed notice tells of the feed, given its `feed_health`: failing
    (`FAILING_NOTICE_AFTER` polls or more in a row), gone (410 Gone: no longer polled),
    silent, dropping (`DROPPING_NOTICE_AFTER` polls or more in a row that listed only new
    stories: some came and went unseen), or old_dates (`OLD_DATES_TOLD` new stories
    or more in a row dated more than its `max_age` ago: none alerted); None for none of
    these, and for a paused feed."""
    if health == "paused":
        return None
    if health == "disabled":
        return "gone"
    if health == "failing":
        return "failing" if state.consecutive_failures >= FAILING_NOTICE_AFTER else None
    if health == "silent":
        return "silent"
    if state.gaps >= DROPPING_NOTICE_AFTER:
        return "dropping"
    return "old_dates" if state.old_dates >= OLD_DATES_TOLD else None


def feed_notice(
    state: FeedState, notified: str | None, silent_after: float | None, now: datetime
) -> FeedNotice | None:
    """The notice the feed calls for, given the problem last told of it (`notified`): one
    when its problem is new or other than told, and one when a told problem is over (the
    feed ok again; after failing, without a failure for `STEADY_AFTER`; after dropping
    stories, without a poll that listed only new ones for as long); None when there is
    nothing new to tell."""
    health = feed_health(state, silent_after, now)
    problem = feed_problem(state, health)
    if problem is not None and problem != notified:
        detail = _problem_detail(state, problem, silent_after, now)
        since = state.last_success_at
        return FeedNotice(feed=state.name, problem=problem, url=redact(state.url),
                          detail=detail, since=since)  # fmt: skip
    if problem is not None or not notified or health != "ok":
        return None
    last = {"failing": state.last_error_at, "dropping": state.gap_at}.get(notified)
    if last is not None and now - last < STEADY_AFTER:
        return None
    return FeedNotice(feed=state.name, problem="recovered", url=redact(state.url),
                      detail=f"it was {notified}", since=None)  # fmt: skip


def _problem_detail(
    state: FeedState, problem: FeedProblem, silent_after: float | None, now: datetime
) -> str:
    if problem == "silent":
        newest = state.newest_story_at
        after = f"silent_after {_duration(silent_after or 0)}"
        if newest is None:
            return f"polled well, but no story of it is kept ({after})"
        return f"polled well, but no new story since {_minute(newest)} ({after})"
    if problem == "old_dates":
        last = state.old_dated.strftime("%Y-%m-%d") if state.old_dated else "unknown"
        return (
            f"its last {state.old_dates} new stories were dated more than its max_age before "
            f"they came (the last {last}), so none alerted: its dates may be stuck"
        )
    if problem == "dropping":
        return (
            f"{state.gaps} polls in a row listed only stories new since the poll before: "
            "stories come and go between its polls, unseen"
        )
    error = printable(redact(state.last_error or "no error recorded"))  # as a server sent it
    if problem == "gone":
        return f"no longer polled: {error}"
    return f"{state.consecutive_failures} polls failed in a row; the last: {error}"


def _minute(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _duration(seconds: float) -> str:
    """As the config writes durations: 7d, 36h, 90m, 45s."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


SilentAfter = Mapping[str, float | None]  # feed name -> its silent_after


def configured_states(store: Store, silent_after: SilentAfter) -> list[FeedState]:
    """The states of the configured feeds (the keys of `silent_after`): the database keeps a
    removed feed's row, which would count as failing for ever if it failed."""
    return [state for state in store.feed_states() if state.name in silent_after]


def silent_after_of(feeds: Iterable[FeedConfig]) -> dict[str, float | None]:
    """Each configured feed's `silent_after` by name, as `status_document` takes them."""
    return {feed.name: feed.silent_after for feed in feeds}


def status_document(
    store: Store, now: datetime, silent_after: SilentAfter, checks: list[Check] | None = None
) -> dict[str, Any]:
    """The service's state as JSON-ready data: /status serves it, `watcher status` prints it.
    `silent_after`: each configured feed's (see `feed_health`); a feed removed from the
    config, whose row the database keeps, is not shown."""
    service = {key: value for key, (value, _) in store.service_values().items()}
    held = json.loads(service.pop("delivery_held", "") or "[]")
    servers = holds_not_over(servers_held_in(service.pop(SERVERS_HELD, "")), now)
    for key in (DEAD_TOLD, HELD_TOLD, PRUNED_AT):  # the delivery notices' own, the prune's
        service.pop(key, None)
    depth = store.outbox_depth()
    outbox: dict[str, dict[str, int]] = {}
    for (status, channel), count in sorted(depth.items()):
        outbox.setdefault(status, {})[channel] = count
    document: dict[str, Any] = {
        "service": service,
        "rules": {
            "version": service.get("rules_version"),
            "summary": service.get("rules_summary"),
            "error": service.get("rules_error") or None,
        },
        "feeds": [
            _feed(f, silent_after[f.name], now) for f in configured_states(store, silent_after)
        ],
        "outbox": outbox,
        "delivery_held": [{**lane, "error": redact(lane["error"])} for lane in held],
        "servers_held": servers,
        "dead_letters": [
            {
                "id": a.id,
                "subscriber": a.subscriber,
                "channel": a.channel,
                "error": redact(a.last_error or ""),
            }
            for a in store.alerts(dead_only=True)[:20]
        ],
        "clusters": store.count_clusters(),
        "stories": store.count_stories(),
    }
    if checks is not None:
        document["healthy"] = all(c.ok for c in checks)
        document["checks"] = {c.name: {"ok": c.ok, "detail": c.detail} for c in checks}
    return document


def _feed(state: FeedState, silent_after: float | None, now: datetime) -> dict[str, Any]:
    def when(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "name": state.name,
        "url": redact(state.url),
        "health": feed_health(state, silent_after, now),
        "last_status": state.last_status,
        "last_success_at": when(state.last_success_at),
        "consecutive_failures": state.consecutive_failures,
        "next_poll_at": when(state.next_poll_at),
        "last_error": redact(state.last_error) if state.last_error else None,
        "last_error_at": when(state.last_error_at),
        "warning": redact(state.warning) if state.warning else None,
        "stories": state.stories,
        "newest_story_at": when(state.newest_story_at),
    }
