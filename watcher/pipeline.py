"""One poll of one feed, top to bottom: fetch, parse, store, cluster, match rules, hand on.

In: a `FeedConfig` and the collaborators built once by the CLI. Out: a `PollOutcome`.
Raises nothing for a feed's own trouble: fetch and parse errors are recorded on the feed and
logged with its name and URL, so one feed never stops the others. A `StoreError` is logged
too; an unexpected exception is a bug, logged with its traceback at this boundary.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Executor
from dataclasses import replace
from datetime import datetime, timedelta

from watcher.clusterer import Clock, Clusterer
from watcher.config import PollSettings
from watcher.dedupe import ClusterSettings
from watcher.errors import FeedGoneError, FetchError, ParseError, ServerHeldError, StoreError
from watcher.feed_state import (
    after_failure,
    after_success,
    as_asked,
    asked_wait,
    gap,
    is_due,
    longest_wait,
    next_poll_after_failure,
    old_dates,
    old_dates_outdated,
    sends_validators,
)
from watcher.fetch import Fetcher
from watcher.full_text import not_read_warning, with_full_text
from watcher.known import Sorted, sort_stories
from watcher.logs import event
from watcher.models import (
    ClusteredStory,
    FeedConfig,
    FeedState,
    FetchResult,
    Match,
    ParsedFeed,
    PollOutcome,
    Story,
)
from watcher.parse import parse_feed
from watcher.parse_pool import parse_in_pool
from watcher.prepare import Prepared
from watcher.rules.live import LiveRules, PoolMatches
from watcher.settle import Route, Settler
from watcher.store import Store
from watcher.urls import same_origin

log = logging.getLogger("watcher.pipeline")

NewStoriesHandler = Callable[[Sequence[ClusteredStory], Sequence[Match]], Awaitable[None] | None]


class Pipeline:
    """Polls feeds and hands new stories on; collaborators are passed in, built once."""

    def __init__(
        self,
        *,
        store: Store,
        fetcher: Fetcher,
        settings: PollSettings,
        clock: Clock,
        clusterer: Clusterer | None = None,
        rules: LiveRules | None = None,
        route: Route | None = None,
        on_new_stories: NewStoriesHandler | None = None,
        parse_executor: Executor | None = None,
    ) -> None:
        self.store = store
        self.fetcher = fetcher
        self.settings = settings
        self.clock = clock
        self.clusterer = clusterer or Clusterer(store, ClusterSettings(), clock)
        self.rules = rules
        self.settler = Settler(
            store=store, clusterer=self.clusterer, clock=clock, rules=rules, route=route
        )
        self.on_new_stories = on_new_stories
        self.parse_executor = parse_executor
        # polls between their fetch and their last write: each holds a body, then its
        # stories; when fetching outruns parsing, the rest wait before fetching
        self._in_flight = asyncio.Semaphore(settings.concurrency)

    def recover(self) -> int:
        """On start: settle the stories left stored but unclustered; how many."""
        return self.settler.recover(self.parse_executor)

    async def refresh_feed(self, feed: FeedConfig, *, force: bool = False) -> PollOutcome:
        """Poll one feed; its failures are recorded on it, never raised."""
        started = time.perf_counter()
        try:
            outcome = await self._refresh(feed, force)
        except StoreError as exc:
            event(log, logging.ERROR, "store error", feed=feed.name, error=str(exc))
            outcome = PollOutcome(feed=feed.name, url=feed.url, status="failed", error=str(exc))
        except Exception as exc:  # a bug: keep the service and the other feeds going
            log.exception("unexpected error feed=%r url=%r", feed.name, feed.url)
            outcome = PollOutcome(feed=feed.name, url=feed.url, status="failed", error=repr(exc))
        outcome = replace(outcome, elapsed_ms=_ms_since(started))
        _log_outcome(outcome)
        return outcome

    async def _refresh(self, feed: FeedConfig, force: bool) -> PollOutcome:
        async with self._in_flight:
            state = self.store.feed_state(feed.name)
            now = self.clock()
            if (
                state.disabled
                or state.paused
                or not (force or is_due(state, now, longest_wait(feed, self.settings.max_backoff)))
            ):
                return PollOutcome(feed=feed.name, url=state.url, status="skipped")
            return await self._poll(feed, state, now)

    async def _poll(self, feed: FeedConfig, state: FeedState, now: datetime) -> PollOutcome:
        started = time.perf_counter()
        validated = sends_validators(state, now)  # not once a day: `sends_validators`
        try:
            result = await self.fetcher.fetch(
                state.url,
                etag=state.etag if validated else None,
                last_modified=state.last_modified if validated else None,
                content_hash=state.content_hash,
                # the operator gave the headers for the configured URL's origin, not for one
                # a permanent redirect has since moved the feed to
                headers=feed.headers if feed.headers and same_origin(state.url, feed.url) else (),
            )
        except ServerHeldError as exc:  # no fault of this feed's: no failure, no backoff
            wait = timedelta(seconds=math.ceil(exc.retry_after or 0))  # stored to the second
            self.store.record_poll(replace(state, next_poll_at=now + wait))
            return PollOutcome(
                feed=feed.name, url=state.url, status="held", error=str(exc),
                fetch_ms=_ms_since(started),
            )  # fmt: skip
        except FeedGoneError as exc:
            self.store.record_poll(after_failure(state, exc, now, next_poll=None, disabled=True))
            return PollOutcome(
                feed=feed.name, url=state.url, status="gone", http_status=410, error=str(exc),
                fetch_ms=_ms_since(started),
            )  # fmt: skip
        except FetchError as exc:
            next_poll = self._retry_at(feed, state, now, exc.retry_after)
            self.store.record_poll(after_failure(state, exc, now, next_poll=next_poll))
            return PollOutcome(
                feed=feed.name, url=exc.url, status="failed", http_status=exc.status,
                error=str(exc), fetch_ms=_ms_since(started),
            )  # fmt: skip
        fetched = _ms_since(started)
        return replace(await self._store_result(feed, state, result, now), fetch_ms=fetched)

    async def _store_result(
        self, feed: FeedConfig, state: FeedState, result: FetchResult, now: datetime
    ) -> PollOutcome:
        polled = old_dates_outdated(after_success(state, result, now), feed.max_age, now)
        if result.kind != "ok":
            polled = self._as_asked(feed, polled, result, state.ttl, now)
            self.store.record_poll(polled)
            return PollOutcome(
                feed=feed.name, url=result.url, status=result.kind, http_status=result.status,
                wait=asked_wait(polled, now),
            )  # fmt: skip
        try:
            parsed, prepared = await self._parse(feed, result, now)
        except ParseError as exc:
            return self._parse_failed(feed, state, polled, result, exc, now)
        if parsed.warning:
            event(
                log, logging.WARNING, "malformed feed used",
                feed=feed.name, url=result.url, warning=parsed.warning,
            )  # fmt: skip
        polled = self._as_asked(
            feed, replace(polled, warning=parsed.warning), result, parsed.ttl, now
        )
        found = sort_stories(
            self.store, parsed.stories, state=state, feed=feed, prepared=prepared,
            settings=self.clusterer.settings, now=now,
        )  # fmt: skip
        new_ids = {s.id for s in found.new}  # none stored: a first poll writes nothing here
        ids = [s.id for s in parsed.stories] + found.renamed
        if listed := [i for i in ids if i not in new_ids]:
            self.store.mark_listed(feed.name, listed, now)
        premade, pages = prepared.matches if prepared else None, (0, 0)
        if feed.full_text and found.new:  # matched again, on the full text
            found, polled, pages = await self._read_pages(feed, found, polled)
            premade = None
        new, clustered, matches, gapped = self._store_new(
            feed, state, polled, parsed, found, prepared, premade, now
        )
        if (clustered or matches) and self.on_new_stories is not None:
            handled = self.on_new_stories(clustered, matches)
            if handled is not None:
                await handled
        return PollOutcome(
            feed=feed.name, url=result.url, status="new", http_status=result.status,
            new_stories=tuple(new), clustered=tuple(clustered), matches=tuple(matches),
            gap=gapped, pages=pages, wait=None if gapped else asked_wait(polled, now),
        )  # fmt: skip

    def _as_asked(
        self, feed: FeedConfig, polled: FeedState, result: FetchResult, ttl: float | None,
        now: datetime,
    ) -> FeedState:  # fmt: skip
        return as_asked(
            polled, ttl=ttl, fresh_for=result.fresh_for, interval=feed.interval,
            max_ttl=feed.max_ttl, now=now,
        )  # fmt: skip

    def _parse_failed(
        self, feed: FeedConfig, state: FeedState, polled: FeedState, result: FetchResult,
        exc: ParseError, now: datetime,
    ) -> PollOutcome:  # fmt: skip
        """A body that holds no feed: a failure counted on the feed's state before the poll,
        with the URL a permanent redirect gave and the HTTP status. Its validators and
        content hash stay those of the last good body, so the same body is fetched, parsed
        and reported again (kept, a server's 304 made a feed that serves a web page look
        healthy), and a feed never read stays never read (its first good poll keeps its
        backlog quiet)."""
        next_poll = self._retry_at(feed, state, now, None)
        kept = replace(state, url=polled.url, last_status=polled.last_status)
        failed = after_failure(kept, exc, now, next_poll=next_poll)
        self.store.record_poll(failed)
        return PollOutcome(
            feed=feed.name, url=result.url, status="failed", http_status=result.status,
            error=str(exc),
        )  # fmt: skip

    async def _read_pages(
        self, feed: FeedConfig, found: Sorted, polled: FeedState
    ) -> tuple[Sorted, FeedState, tuple[int, int]]:
        """The poll's new stories that may alert given their pages' main text as their body
        (`full_text`; the quiet ones, which alert no one, as their feed gave them); the
        pages not read logged, and told in the feed's warning."""
        loud = [s for s in found.new if s.id not in found.quiet]
        pages = await with_full_text(loud, feed, self.fetcher, self.parse_executor)
        for story, why in pages.not_read:
            event(log, logging.INFO, "full text not read", feed=feed.name, story=story.id,
                  url=story.link, error=why)  # fmt: skip
        read = {s.id: s for s in pages.stories}
        warning = "; ".join(filter(None, [polled.warning, not_read_warning(pages)])) or None
        found = found._replace(new=[read.get(s.id, s) for s in found.new])
        return found, replace(polled, warning=warning), (pages.read, len(pages.not_read))

    def _store_new(
        self, feed: FeedConfig, state: FeedState, polled: FeedState, parsed: ParsedFeed,
        found: Sorted, prepared: Prepared | None, premade: PoolMatches | None, now: datetime,
    ) -> tuple[list[Story], list[ClusteredStory], list[Match], bool]:  # fmt: skip
        """The poll's stories not stored before (`found`), settled with the feed's new state
        (only the state is written when none is new), and its stories retitled since they
        were stored; the new stories, as clustered, the matches of both, and whether the
        feed may have dropped stories since the last poll (`gap`: its state's warning says
        so). `premade`: the parse pool's matches, where they hold."""
        prints = prepared.prints if prepared else None
        retitled = self.settler.retitle(
            found.retitled, found.quiet, premade, now, feed=feed.name, prints=prints
        )
        retitled += self.settler.revise(feed, state, found.same, premade, now, prints)
        new = found.new
        polled = old_dates(polled, new, found.quiet, found.old)  # its warning, new or not
        if not new:
            self.store.record_poll(polled)
            return [], [], retitled, False
        gapped = self._gap(feed, state, len(parsed.stories), found.new, found.quiet)
        if gapped:
            warning = "; ".join(filter(None, [polled.warning, gapped]))
            # polled sooner (`Service._catch_up`), whatever the feed asks
            polled = replace(
                polled, warning=warning, gaps=state.gaps + 1, gap_at=now, next_poll_at=None
            )
        new_prints = [prints[s.id] for s in new] if prints is not None else None
        clustered, matches = self.settler.settle(
            new, found.quiet, new_prints, polled=polled, premade=premade
        )
        return new, clustered, matches + retitled, gapped is not None

    def _gap(
        self, feed: FeedConfig, state: FeedState, listed: int, new: list[Story], quiet: set[str]
    ) -> str | None:
        """The warning `feed_state.gap` gives, logged, when stories of the feed were stored
        before: a feed that lists only new stories."""
        warning = gap(state, listed, len(new), len(quiet))
        if warning is None or self.store.first_fetch(feed.name) is None:
            return None
        event(
            log, logging.WARNING, "feed may have dropped stories", feed=feed.name,
            url=state.url, listed=listed, interval=feed.interval,
        )  # fmt: skip
        return warning

    def _retry_at(
        self, feed: FeedConfig, state: FeedState, now: datetime, retry_after: float | None
    ) -> datetime:
        return next_poll_after_failure(
            state, interval=feed.interval, max_backoff=self.settings.max_backoff,
            retry_after=retry_after, now=now,
        )  # fmt: skip

    async def _parse(
        self, feed: FeedConfig, result: FetchResult, now: datetime
    ) -> tuple[ParsedFeed, Prepared | None]:
        """The feed's stories; with a parse pool, also their fingerprints and rule matches,
        made there in the same task (the costly work that needs neither the window nor the
        store, so both cores share it). Every story is prepared, stored or not: one round
        trip costs the event loop less than a second one for only the new stories would."""
        work = functools.partial(
            parse_feed, result.body, feed=feed.name, fetched_at=now,
            content_type=result.content_type, source=feed.source, url=result.url,
            timezone=feed.timezone, date_order=feed.date_order,
        )  # fmt: skip
        if self.parse_executor is None:
            return work(), None
        rules = (
            (self.rules.folder, self.rules.version, feed.tags) if self.rules is not None else None
        )
        return await parse_in_pool(self.parse_executor, work, rules)


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _log_outcome(outcome: PollOutcome) -> None:
    """A poll's line: at DEBUG when it stored no story, at 5,000 feeds polled every 10
    minutes 720,000 lines a day at INFO (`watcher run` sums them up every 10 minutes)."""
    level = logging.INFO if outcome.new_stories or outcome.status == "held" else logging.DEBUG
    if outcome.status in ("failed", "gone"):
        level = logging.WARNING
    event(
        log, level, "poll", feed=outcome.feed, url=outcome.url, status=outcome.status,
        http=outcome.http_status, new=len(outcome.new_stories), ms=round(outcome.elapsed_ms),
        **({"error": outcome.error} if outcome.error else {}),
        **({"wait": round(outcome.wait)} if outcome.wait else {}),
    )  # fmt: skip
