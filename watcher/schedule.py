"""The long-lived service: one APScheduler job per feed, on the service's event loop.

In: the config and a `Pipeline`. Runs until `stop` is set (the CLI sets it on SIGTERM or
SIGINT), then stops scheduling, lets polls in flight finish for up to `drain_seconds`, cancels
the rest and returns. Every job is coalesced and runs at most once at a time.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from watcher.alerts.sender import Sender
from watcher.config import Config
from watcher.errors import StoreError
from watcher.logs import event
from watcher.models import FeedConfig
from watcher.pipeline import Pipeline
from watcher.store import Store

log = logging.getLogger("watcher.schedule")

PRUNE_INTERVAL = timedelta(hours=6)
RULES_POLL_SECONDS = 2.0  # how often rule files are checked for edits
DELIVERY_POLL_SECONDS = 2.0  # how often the outbox is checked for alerts due
FIRST_POLL_SPREAD = 2.0  # seconds over which the first polls of all feeds are spread


class Service:
    """Schedules polls of every configured feed and prunes old stories."""

    def __init__(
        self,
        config: Config,
        pipeline: Pipeline,
        store: Store,
        *,
        clock: Callable[[], datetime],
        sender: Sender | None = None,
        drain_seconds: float = 8.0,
    ) -> None:
        self.config = config
        self.pipeline = pipeline
        self.store = store
        self.clock = clock
        self.sender = sender
        self.drain_seconds = drain_seconds
        self._running: set[asyncio.Task[object]] = set()
        self.scheduler = AsyncIOScheduler(timezone="UTC")

    async def run(self, stop: asyncio.Event) -> None:
        """Schedule every feed, then wait for `stop` and shut down cleanly."""
        self.store.sync_feeds(self.config.feeds)
        for feed in self.config.feeds:
            self._add_feed_job(feed)
        self.scheduler.add_job(
            self._tracked, IntervalTrigger(seconds=PRUNE_INTERVAL.total_seconds()),
            args=[self.prune], id="prune", next_run_time=datetime.now().astimezone(),
            coalesce=True, max_instances=1,
        )  # fmt: skip
        if self.sender is not None:
            self.scheduler.add_job(
                self._tracked, IntervalTrigger(seconds=DELIVERY_POLL_SECONDS),
                args=[self.sender.deliver_due], id="alerts", coalesce=True, max_instances=1,
            )  # fmt: skip
        if self.pipeline.rules is not None:
            self.scheduler.add_job(
                self.pipeline.rules.reload_if_changed, IntervalTrigger(seconds=RULES_POLL_SECONDS),
                id="rules", coalesce=True, max_instances=1,
            )  # fmt: skip
        self.scheduler.start()
        event(
            log,
            logging.INFO,
            "service started",
            feeds=len(self.config.feeds),
            state=self.store.path,
        )
        await stop.wait()
        await self.shutdown()

    def _add_feed_job(self, feed: FeedConfig) -> None:
        first = datetime.now().astimezone() + timedelta(
            seconds=random.uniform(0, FIRST_POLL_SPREAD)
        )
        self.scheduler.add_job(
            self._tracked,
            IntervalTrigger(seconds=feed.interval, jitter=self.config.poll.jitter or None),
            args=[self.pipeline.refresh_feed, feed],
            id=f"feed:{feed.name}",
            name=f"poll {feed.name}",
            next_run_time=first,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=int(feed.interval),
        )

    async def _tracked(self, work: Callable[..., object], *args: object) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._running.add(task)
        try:
            result = work(*args)
            if asyncio.iscoroutine(result):
                await result
        finally:
            self._running.discard(task)

    async def prune(self) -> None:
        cutoff = self.clock() - timedelta(days=self.config.retention_days)
        try:
            removed = self.store.prune_stories(cutoff)
        except StoreError as exc:
            event(log, logging.ERROR, "prune failed", error=str(exc))
            return
        expired = self.pipeline.clusterer.expire()
        event(
            log, logging.INFO, "pruned stories",
            removed=removed, fetched_before=cutoff, window_expired=expired,
        )  # fmt: skip

    async def shutdown(self) -> None:
        """Stop scheduling; give polls in flight `drain_seconds`, then cancel them."""
        self.scheduler.shutdown(wait=False)
        pending = set(self._running)
        if pending:
            event(log, logging.INFO, "draining polls in flight", count=len(pending))
            _, still = await asyncio.wait(pending, timeout=self.drain_seconds)
            for task in still:
                task.cancel()
            if still:
                await asyncio.wait(still, timeout=1.0)
        event(log, logging.INFO, "service stopped")
