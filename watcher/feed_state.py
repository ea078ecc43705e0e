"""What a poll does to a feed's state: when it is due, its state after a success (its next
poll put off where the feed asks, `freshness`) or a failure (exponential backoff with
jitter, capped, or the server's Retry-After), and which stories of its first poll are its
backlog.

In: a `FeedState` and what the poll found. Out: a new `FeedState` or a time. No I/O.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from watcher.freshness import hinted_wait
from watcher.models import FeedConfig, FeedState, FetchResult, Story


def next_poll_after_failure(
    state: FeedState,
    *,
    interval: float,
    max_backoff: float,
    retry_after: float | None,
    now: datetime,
) -> datetime:
    """When to try a failing feed again: exponential backoff with jitter, capped, or Retry-After."""
    failures = state.consecutive_failures + 1
    delay = interval * 2 ** min(failures, 20) * random.uniform(0.9, 1.1)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return now + timedelta(seconds=min(delay, max_backoff))


DAY = 86_400  # seconds: a feed's poll sends no validators once in each


def sends_validators(state: FeedState, now: datetime) -> bool:
    """Whether a poll sends the feed's validators (If-None-Match, If-Modified-Since): not
    its first poll in each day of its own (one that begins at a time of the day taken from
    its name, so that feeds' full reads spread over the day). A server whose validators
    never change while its feed does (a Last-Modified stuck in 1980, as App Engine served;
    one in the future; nginx's ETag of a file whose time reproducible builds fix) answers
    them 304 for good: its new stories come a day late at most, not never. A full body
    that hashes as the last one is not parsed again."""
    if state.last_polled_at is None:
        return True
    offset = zlib.crc32(state.name.encode()) % DAY
    return (state.last_polled_at.timestamp() + offset) // DAY == (now.timestamp() + offset) // DAY


def longest_wait(feed: FeedConfig, max_backoff: float) -> float:
    """The longest a feed's next poll is put off (a backoff, or as it asked): a stored wait
    beyond it was set while the clock ran ahead."""
    return max(max_backoff, feed.max_ttl)


def is_due(state: FeedState, now: datetime, longest_wait: float) -> bool:
    """A feed is due unless it is disabled, backing off or left as it asked. A wait longer
    than `longest_wait` (which caps every wait) means the clock went back since it was set:
    the feed is due, rather than idle until the clock reaches that time again."""
    if state.disabled or state.next_poll_at is None or state.next_poll_at <= now:
        return not state.disabled
    return state.next_poll_at - now > timedelta(seconds=longest_wait)


def first_poll_in(
    state: FeedState | None, interval: float, now: datetime, longest_wait: float
) -> float | None:
    """How long `watcher run`, starting, waits to poll a feed: until its backoff (or the
    wait it asked for, `as_asked`) ends, or, for a feed read before, until its interval
    since its last poll is over (a shorter wait while it may be dropping stories,
    `catch_up_delay`), so that a restart polls no feed sooner than it would have been.
    None (at once) for a feed never read at its URL and not backing off, one whose time
    has come, or one whose time lies further ahead than any wait (the clock went back)."""
    if state is None or state.disabled:
        return None
    if state.next_poll_at is not None:  # backing off, a server's Retry-After, or as it asked
        due, longest = state.next_poll_at, longest_wait
    elif state.last_polled_at is None or state.content_hash is None:
        return None
    else:
        wait = catch_up_delay(interval, state.gaps) or interval
        due, longest = state.last_polled_at + timedelta(seconds=wait), interval
    seconds = (due - now).total_seconds()
    return seconds if 0 < seconds <= longest else None


def after_success(state: FeedState, result: FetchResult, now: datetime) -> FeedState:
    """After a fetch that worked: validators kept or replaced, failures and gaps forgotten
    (the caller counts a gap, `gap`, again)."""
    keep_validators = result.kind == "not_modified"
    return replace(
        state,
        url=result.permanent_url or state.url,
        etag=result.etag or (state.etag if keep_validators else None),
        last_modified=result.last_modified or (state.last_modified if keep_validators else None),
        content_hash=result.content_hash or state.content_hash,
        consecutive_failures=0,
        gaps=0,
        next_poll_at=None,
        last_polled_at=now,
        last_success_at=now,
        last_status=result.status,
        first_read_at=state.first_read_at or now,
    )


# seconds before the end of a wait a feed asked for from which it is due: its scheduled poll
# at that end (a wait of whole intervals) starts a moment later than this one did, and is
# not put off by a whole interval for that moment
DUE_SLACK = 5.0


def as_asked(
    polled: FeedState, *, ttl: float | None, fresh_for: float | None, interval: float,
    max_ttl: float, now: datetime,
) -> FeedState:  # fmt: skip
    """The state after a good poll with what the feed asks: its `ttl` kept (that of the
    last body read, for a 304 or an unchanged body), and its next poll put off where that
    or the response's HTTP freshness asks for longer than its interval, by at most
    `max_ttl` (`freshness.hinted_wait`)."""
    wait = hinted_wait(ttl, fresh_for, interval, max_ttl)
    next_poll = now + timedelta(seconds=wait - DUE_SLACK) if wait is not None else None
    return replace(polled, ttl=ttl, next_poll_at=next_poll)


def asked_wait(polled: FeedState, now: datetime) -> float | None:
    """The seconds `as_asked` left the feed for, at `now`; None where it left it not."""
    if polled.next_poll_at is None:
        return None
    return (polled.next_poll_at - now).total_seconds() + DUE_SLACK


def after_failure(
    state: FeedState,
    exc: Exception,
    now: datetime,
    *,
    next_poll: datetime | None,
    disabled: bool = False,
) -> FeedState:
    """After a failed fetch or parse: counted, with the error and when to try again."""
    status = getattr(exc, "status", None)
    return replace(
        state,
        consecutive_failures=state.consecutive_failures + 1,
        next_poll_at=next_poll,
        disabled=disabled or state.disabled,
        last_polled_at=now,
        last_error=str(exc),
        last_error_at=now,
        last_status=status if status is not None else state.last_status,
    )


def backlog(
    state: FeedState, backfill: float | None, stories: Sequence[Story], now: datetime
) -> set[str]:
    """On a feed's first successful poll (of its configured URL: one put in place of another
    starts afresh), the ids of stories older than its `backfill` (seconds): stored, not
    alerted. A story dated at its fetch had no date (or one in the future): its age is
    unknown, so it counts as older."""
    if state.first_read_at is not None or backfill is None:
        return set()
    oldest = now - timedelta(seconds=backfill)
    return {s.id for s in stories if s.published < oldest or s.published == s.fetched_at}


def was_backlog(
    story: Story, backfill: float | None, first_read_at: datetime | None,
    first_fetch: datetime | None,
) -> bool:  # fmt: skip
    """Whether a stored story came in its feed's backlog, older than `backfill`, in the first
    poll of the URL it came from: its feed's `first_read_at`, or, for a story fetched before
    it (at a URL the config has changed since), the feed's first fetch of a story kept
    (`Store.first_fetch`)."""
    fresh_url = first_read_at is not None and story.fetched_at >= first_read_at
    if story.fetched_at != (first_read_at if fresh_url else first_fetch):
        return False
    first = FeedState(name=story.feed, url="")
    return story.id in backlog(first, backfill, [story], story.fetched_at)


def stale(
    state: FeedState, max_age: float | None, stories: Sequence[Story], now: datetime
) -> set[str]:
    """On a feed's later polls, the ids of stories its feed dated more than `max_age`
    (seconds) ago: old news that a feed gives again (a search feed's results change with
    their relevance), stored, not alerted. An undated story is news."""
    if state.last_success_at is None or max_age is None:
        return set()
    oldest = now - timedelta(seconds=max_age)
    return {s.id for s in stories if s.published < oldest and s.published != s.fetched_at}


# a feed that lists fewer stories than this says little by listing only new ones (one that
# lists its latest story alone does so at each change)
GAP_LISTED = 3


def gap(state: FeedState, listed: int, new: int, quiet: int) -> str | None:
    """On a later poll of a feed's URL (one whose body was read before: a changed URL starts
    afresh), a warning when every story it lists (`listed`, at least `GAP_LISTED`) is `new`
    and none of them old news or a stored story under a new id (`quiet`): more came since
    the last poll than it holds, so some may have come and gone unseen. The caller checks
    that stories of the feed were stored before (an empty feed's first stories are all new)."""
    if state.last_success_at is None or state.content_hash is None or quiet:
        return None
    if listed < GAP_LISTED or new < listed:
        return None
    return (
        f"all {listed} stories it lists are new since the last poll: stories may have "
        "come and gone between polls (poll it more often)"
    )


# new stories in a row dated more than the feed's `max_age` before they came (so alerting
# no one) from which its state's warning, and a feed notice, say its dates are too old: one
# old story is a search's find (Google News brings back weeks-old articles), three in a row
# a feed whose dates may be stuck
OLD_DATES_TOLD = 3


def old_dates(polled: FeedState, new: Sequence[Story], quiet: set[str], old: set[str]) -> FeedState:
    """The feed's run of new stories dated more than its `max_age` ago (`old`, ids among
    `new`), which alert no one: ended by a new story that may alert (not `quiet`), else
    lengthened by those of this poll, whose latest date is kept; from `OLD_DATES_TOLD`, told
    in its warning. A feed whose dates are stuck in the past (a template's, a build's) thus
    shows, where it would only be silent."""
    if any(story.id not in quiet for story in new):
        return replace(polled, old_dates=0, old_dated=None)
    dated = [story.published for story in new if story.id in old]
    if dated:
        polled = replace(
            polled, old_dates=polled.old_dates + len(dated), old_dated=max(dated)
        )  # fmt: skip
    if polled.old_dates < OLD_DATES_TOLD:
        return polled
    told = _old_dates_told(polled.old_dates)
    return replace(polled, warning="; ".join(filter(None, [polled.warning, told])))


def _old_dates_told(run: int) -> str:
    return f"its last {run} new stories were dated more than max_age ago: none alerted"


def old_dates_outdated(state: FeedState, max_age: float | None, now: datetime) -> FeedState:
    """The state without its run of old-dated stories (`old_dates`) where the feed's
    `max_age` no longer makes the last of them old, now: raised or set off since (the cure
    its notice tells of). Its warning then no longer tells of the run either. A run that
    the feed's `max_age` still makes old is kept: a story old when it came is older now."""
    if not state.old_dates or (
        max_age is not None
        and state.old_dated is not None
        and state.old_dated <= now - timedelta(seconds=max_age)
    ):
        return state
    told = _old_dates_told(state.old_dates)
    parts = [part for part in (state.warning or "").split("; ") if part != told]
    return replace(state, old_dates=0, old_dated=None, warning="; ".join(parts) or None)


CATCH_UP_STEPS = 2  # halvings: a feed that drops stories is polled up to 4 times as often
CATCH_UP_FLOOR = 60.0  # seconds: never sooner than this (the shortest `interval`)


def catch_up_delay(interval: float, gaps: int) -> float | None:
    """When to poll again a feed whose last `gaps` polls in a row may have dropped stories
    (`gap`): after half its interval, then a quarter; never sooner than `CATCH_UP_FLOOR`.
    None when that is no sooner than its interval."""
    delay = max(interval / 2 ** min(gaps, CATCH_UP_STEPS), CATCH_UP_FLOOR)
    return delay if gaps > 0 and delay < interval else None
