"""The long-lived service: one APScheduler job per feed, on the service's event loop.

In: the config and a `Pipeline`. Runs until `stop` is set (the CLI sets it on SIGTERM or
SIGINT), then stops scheduling, lets polls in flight finish for up to `drain_seconds`, cancels
the rest and returns. Every job is coalesced and runs at most once at a time. It serves
/healthz, /metrics and /status on `listen` (their pages and its heartbeat: `reports`), and
takes a new config with `apply_config` (SIGHUP) without dropping what is in flight
(`reload`).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from watcher.alerts.lanes import Delivery
from watcher.alerts.notices import queue_delivery_notices, queue_feed_notices
from watcher.alerts.sender import Sender
from watcher.config import CHANNELS, Config
from watcher.endpoint import Endpoint, url_of
from watcher.errors import ServiceError, StoreError
from watcher.feed_state import catch_up_delay, first_poll_in, longest_wait
from watcher.holds import resume_holds
from watcher.logs import event
from watcher.metrics import Metrics
from watcher.models import FeedConfig, FeedState
from watcher.pipeline import Pipeline
from watcher.prune import PRUNE_INTERVAL, prune
from watcher.reload import Reloads
from watcher.reports import Reports
from watcher.server_waits import HOLDING
from watcher.store import Store

log = logging.getLogger("watcher.schedule")

RULES_POLL_SECONDS = 2.0  # how often rule files are checked for edits
DELIVERY_POLL_SECONDS = 2.0  # how often the outbox is checked for alerts due
HEARTBEAT_SECONDS = 15.0  # how often the service records its state for `watcher status`
FEED_NOTICE_SECONDS = 60.0  # how often the feeds' health is read for feed notices
POLL_SUMMARY_SECONDS = 600.0  # how often `watcher run` sums up its polls in the log
FIRST_POLL_SPREAD = 2.0  # seconds over which the first polls of all feeds are spread


class Service(Reports, Reloads):
    """Schedules polls of every configured feed, delivers alerts, prunes, and reports."""

    def __init__(
        self,
        config: Config,
        pipeline: Pipeline,
        store: Store,
        *,
        clock: Callable[[], datetime],
        sender: Sender | None = None,
        drain_seconds: float = 8.0,
        listen: tuple[str, int] | None = None,
    ) -> None:
        self.config = config
        self.pipeline = pipeline
        self.store = store
        self.clock = clock
        self.sender = sender
        self.drain_seconds = drain_seconds
        self.listen = listen
        self.address: tuple[str, int] | None = None  # where the endpoint listens, once started
        self._running: dict[asyncio.Task[Any], str] = {}  # each job in flight: what it does
        self._loop: asyncio.AbstractEventLoop | None = None  # the store's thread, once running
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.metrics = Metrics(store, self._channels, self._silent_after, clock)
        self.started_at = clock()
        self.last_poll_at: datetime | None = None
        self._held_recorded: list[dict[str, Any]] = []  # the held lanes `watcher status` has
        self._servers_recorded: set[str] = set()  # and the servers held
        self._polled: Counter[str] = Counter()  # polls by outcome since the last summary
        self._stored = 0  # the new stories they stored
        self._summed_at = clock()  # when the last summary was logged
        self.endpoint = Endpoint(
            {"/healthz": self.healthz, "/metrics": self.metrics_page, "/status": self.status_page}
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Schedule every feed, then wait for `stop` and shut down cleanly."""
        self._loop = asyncio.get_running_loop()
        self.store.sync_feeds(self.config.feeds)
        if self.listen is not None:
            await self._start_endpoint(*self.listen)
        resume_holds(self.store, self.pipeline.fetcher)
        states = self._feed_states()
        for feed in self.config.feeds:
            if not feed.paused:
                self._add_feed_job(feed, states.get(feed.name))
        self._add_job(self.prune, PRUNE_INTERVAL.total_seconds(), "prune", first=self.clock())
        self._add_job(self.heartbeat, HEARTBEAT_SECONDS, "heartbeat", first=self.clock())
        self._add_job(self.sum_up_polls, POLL_SUMMARY_SECONDS, "poll summary")
        if self.sender is not None:
            for channel in CHANNELS:  # a job each: see deliver
                deliver = partial(self.deliver, channel)
                self._add_job(deliver, DELIVERY_POLL_SECONDS, f"alerts:{channel}")
            first = self.clock()  # problems found before this start are told at once
            self._add_job(self.notice_feeds, FEED_NOTICE_SECONDS, "feed notices", first=first)
        if self.pipeline.rules is not None:
            self.scheduler.add_job(
                self.reload_rules, IntervalTrigger(seconds=RULES_POLL_SECONDS),
                id="rules", coalesce=True, max_instances=1,
            )  # fmt: skip
        self.scheduler.start()
        feeds = len(self.config.feeds)
        event(log, logging.INFO, "service started", feeds=feeds, state=self.store.path)
        try:
            await stop.wait()
        finally:
            await self.shutdown()

    async def _start_endpoint(self, host: str, port: int) -> None:
        try:
            self.address = await self.endpoint.start(host, port)
        except OSError as exc:
            raise ServiceError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        url = url_of(self.address[0], self.address[1])
        event(log, logging.INFO, "http endpoint listening", url=url)

    def _add_job(
        self, work: Callable[[], object], seconds: float, job_id: str, first: datetime | None = None
    ) -> None:
        when = {"next_run_time": first} if first else {}  # None would add it paused
        self.scheduler.add_job(
            self._tracked, IntervalTrigger(seconds=seconds), args=[work], id=job_id,
            coalesce=True, max_instances=1, **when,
        )  # fmt: skip

    def _feed_states(self) -> dict[str, FeedState]:
        """The feeds' states by name; none when the database cannot tell (polled at once)."""
        try:
            return {state.name: state for state in self.store.feed_states(counted=False)}
        except StoreError as exc:
            event(log, logging.ERROR, "feed states not read", error=str(exc))
            return {}

    def _add_feed_job(self, feed: FeedConfig, state: FeedState | None) -> None:
        """The feed's job, first run when its interval since its last poll is over
        (`first_poll_in`), else within `FIRST_POLL_SPREAD` seconds, the feeds spread."""
        settings = self.config.poll
        longest = longest_wait(feed, settings.max_backoff)
        wait = first_poll_in(state, feed.interval, self.clock(), longest)
        if wait is None:
            wait = random.uniform(0, FIRST_POLL_SPREAD)
        first = datetime.now().astimezone() + timedelta(seconds=wait)
        self.scheduler.add_job(
            self._tracked,
            IntervalTrigger(seconds=feed.interval, jitter=self.config.poll.jitter or None),
            args=[self.poll, feed],
            id=f"feed:{feed.name}",
            name=f"poll {feed.name}",
            next_run_time=first,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=int(feed.interval),
            replace_existing=True,
        )

    async def _tracked(self, work: Callable[..., object], *args: object) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._running[task] = what = _job_name(work, args)
        try:
            result = work(*args)
            if asyncio.iscoroutine(result):
                await result
        except asyncio.CancelledError:  # only at shutdown, after the drain time
            event(log, logging.WARNING, "cancelled at shutdown", job=what)
        finally:
            self._running.pop(task, None)

    async def poll(self, feed: FeedConfig) -> None:
        outcome = await self.pipeline.refresh_feed(feed)
        now = self.clock()
        self.last_poll_at = now
        self.metrics.record_poll(outcome, now.timestamp())
        self._polled[outcome.status] += 1
        self._stored += len(outcome.new_stories)
        if outcome.matches:
            self._deliver_now()
        if outcome.http_status in HOLDING and self._holds_changed():  # now, not in 15 s
            self.heartbeat()
        if outcome.status != "skipped":
            self._catch_up(feed, outcome.gap)

    def sum_up_polls(self) -> None:
        """Log one line for the polls since the last: how many, by outcome, and the new
        stories they stored. Only a poll that stored stories (INFO) or failed (WARNING) is
        logged on its own line, one that found nothing new at DEBUG."""
        now = self.clock()
        minutes = round((now - self._summed_at).total_seconds() / 60)
        polled, stories = self._polled, self._stored
        self._polled, self._stored, self._summed_at = Counter(), 0, now
        if polled:
            event(log, logging.INFO, "polls", polls=polled.total(), **dict(sorted(polled.items())),
                  stories=stories, minutes=minutes)  # fmt: skip

    def _catch_up(self, feed: FeedConfig, gap: bool) -> None:
        """Poll a feed that may have dropped stories again sooner (`catch_up_delay`, by its
        polls in a row that did, as the store counts them), for as long as its polls list
        only new stories; its interval again from the first poll that lists a story seen
        before."""
        if not gap or not self.scheduler.running:
            return
        try:
            gaps = self.store.feed_state(feed.name).gaps
        except StoreError:  # a database that fails now: the feed's next poll at its interval
            return
        delay = catch_up_delay(feed.interval, gaps)
        if delay is None:
            return
        job = self.scheduler.get_job(f"feed:{feed.name}")
        sooner = datetime.now().astimezone() + timedelta(seconds=delay)
        if job is None or (job.next_run_time is not None and job.next_run_time <= sooner):
            return
        job.modify(next_run_time=sooner)
        event(log, logging.INFO, "feed polled sooner", feed=feed.name, after=f"{delay:g}s",
              interval=f"{feed.interval:g}s", reason="it may have dropped stories")  # fmt: skip

    def _deliver_now(self) -> None:
        """Start the delivery rounds now, not at the jobs' next tick."""
        if self.sender is not None and self.scheduler.running:
            for channel in CHANNELS:
                self.start_rounds(channel)

    async def deliver(self, channel: str) -> None:
        """The channel's delivery job: `start_rounds`."""
        self.start_rounds(channel)

    def start_rounds(self, channel: str) -> None:
        """Start the channel's rounds of due alerts, a task each lane (see
        `Sender.start_due`), and return: each lane's round is a task of its own, so a
        server that hangs until its timeout (an SMTP server, one subscriber's webhook)
        delays no other lane's alerts, in this round or the next."""
        assert self.sender is not None
        try:
            rounds = self.sender.start_due(channel=channel)
        except StoreError as exc:  # the database locked, damaged: the next tick tries again
            event(log, logging.ERROR, "delivery failed", channel=channel, error=str(exc))
            return
        for task in rounds:
            self._running[task] = task.get_name()
            task.add_done_callback(partial(self._round_ended, channel))

    def _round_ended(self, channel: str, task: asyncio.Task[list[Delivery]]) -> None:
        """A lane's round ended: count its deliveries and the channel's lanes held."""
        assert self.sender is not None
        what = self._running.pop(task, "deliver")
        if task.cancelled():  # only at shutdown, after the drain time
            event(log, logging.WARNING, "cancelled at shutdown", job=what)
            return
        if isinstance(exc := task.exception(), StoreError):  # the database locked, full
            event(log, logging.ERROR, "delivery round failed", job=what, error=str(exc))
            return
        if exc is not None:  # a bug: with its traceback
            log.error("%s failed", what, exc_info=exc)
            return
        self.metrics.record_deliveries(task.result())
        held = self.sender.held_now()
        self.metrics.delivery_held.labels(channel).set(sum(h["channel"] == channel for h in held))
        if held != self._held_recorded:  # for `watcher status`, now
            self.heartbeat()

    def notice_feeds(self) -> None:
        """Queue the feed and delivery notices due (see `queue_feed_notices` and
        `queue_delivery_notices`), and deliver them now."""
        now = self.clock()
        feeds = queue_feed_notices(self.store, self.config, now)
        lanes = self.sender.lanes() if self.sender is not None else None
        if queue_delivery_notices(self.store, self.config, now, lanes) or feeds:
            self._deliver_now()

    async def prune(self) -> None:
        await prune(self.store, self.config, self.clock(), self.pipeline.clusterer.expire)

    # -- lifecycle ---------------------------------------------------------------------------

    async def shutdown(self) -> None:
        """Stop scheduling; give the jobs in flight (polls, deliveries) `drain_seconds`,
        then cancel them.

        The scheduler is paused, not shut down, while they drain: APScheduler's asyncio
        executor cancels the jobs it runs when it shuts down."""
        if self.scheduler.running:
            self.scheduler.pause()
        await self.endpoint.close()
        pending = set(self._running)
        if pending:
            jobs = ", ".join(sorted(self._running.values()))
            event(log, logging.INFO, "draining jobs in flight", count=len(pending), jobs=jobs)
            _, still = await asyncio.wait(pending, timeout=self.drain_seconds)
            for task in still:
                task.cancel()
            if still:
                await asyncio.wait(still, timeout=1.0)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.heartbeat(stopped=True)
        event(log, logging.INFO, "service stopped")


def _job_name(work: Callable[..., object], args: tuple[object, ...]) -> str:
    """What a job does, for the log: `poll Wire`, `deliver email`, `prune`."""
    words = list(work.args) if isinstance(work, partial) else []
    words += [a.name if isinstance(a, FeedConfig) else a for a in args]
    name = getattr(work.func if isinstance(work, partial) else work, "__name__", "job")
    return " ".join([name, *map(str, words)])
