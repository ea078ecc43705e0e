"""The prune: stories past `retention_days`, the clusters they leave empty, and sent alerts
past `alert_retention_days`, each in batches that let the event loop run between them (and
keep each transaction, so the write-ahead log, small).

In: the store, the config, the time, and what expires the clustering window. Out: what went,
logged as `pruned stories`; when it ran, in the store (`watcher once` prunes when it is due).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from watcher.config import Config
from watcher.errors import StoreError
from watcher.logs import event
from watcher.store import Store
from watcher.store.base import PRUNED_AT
from watcher.store.rows import NEVER

log = logging.getLogger(__name__)

PRUNE_INTERVAL = timedelta(hours=6)


def prune_due(store: Store, now: datetime) -> bool:
    """Whether `PRUNE_INTERVAL` has passed since the last prune (of `run` or `once`)."""
    _, at = store.service_values().get(PRUNED_AT, ("", NEVER))
    return now - at >= PRUNE_INTERVAL


async def prune(
    store: Store, config: Config, now: datetime, expire_window: Callable[[], int]
) -> None:
    """Stories first fetched more than `retention_days` ago (`Store.prune_stories` says which
    stay), the window's stories past it (`expire_window`), the clusters left without
    stories, and old sent alerts of clusters gone; logged, and its time recorded."""
    cutoff = now - timedelta(days=config.retention_days)
    feeds = [f.name for f in config.feeds]
    removed = await _in_batches(partial(store.prune_stories, feeds=feeds), cutoff, "old stories")
    expired = expire_window()
    # a cluster goes once last updated before the window's expiry too: a story still in the
    # window (with a `retention_days` shorter than it) keeps its cluster
    window = timedelta(seconds=2 * config.clustering.window)
    emptied = await _in_batches(store.prune_clusters, min(cutoff, now - window), "empty clusters")
    sent_before = now - timedelta(days=config.alert_retention_days)
    alerts = await _in_batches(store.prune_alerts, sent_before, "old alerts")
    event(
        log, logging.INFO, "pruned stories",
        removed=removed, fetched_before=cutoff, window_expired=expired, clusters=emptied,
        alerts=alerts,
    )  # fmt: skip
    try:
        store.put_service_values({PRUNED_AT: now.isoformat()}, now)
    except StoreError as exc:
        event(log, logging.ERROR, "recording the prune failed", error=str(exc))


async def _in_batches(batch: Callable[[datetime], int], before: datetime, what: str) -> int:
    """`batch(before)` until it takes nothing, the event loop running between; how many it
    took."""
    taken = 0
    try:
        while removed := batch(before):
            taken += removed
            await asyncio.sleep(0)
    except StoreError as exc:
        event(log, logging.ERROR, f"prune of {what} failed", error=str(exc))
    return taken
