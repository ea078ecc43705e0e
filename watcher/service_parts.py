"""What the parts of `schedule.Service` (`reports`, `reload`) read of the service they are
mixed into: its collaborators, as the CLI built them, and its config in force."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from watcher.alerts.sender import Sender
from watcher.config import Config
from watcher.metrics import Metrics
from watcher.pipeline import Pipeline
from watcher.store import Store


class ServiceParts:
    """The attributes every part of `schedule.Service` reads; `Service` sets them."""

    config: Config
    store: Store
    pipeline: Pipeline
    sender: Sender | None
    clock: Callable[[], datetime]
    scheduler: AsyncIOScheduler
    metrics: Metrics
