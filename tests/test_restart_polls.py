"""A restart of `watcher run` polls each feed when it would have been polled had the
service kept running: its interval after its last poll, or the end of its backoff; a
feed never read at its URL at once."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import FakeClock
from tests.feedserver import FeedServer, fixture_bytes
from watcher.config import Config, PollSettings
from watcher.feed_state import first_poll_in
from watcher.fetch import Fetcher
from watcher.models import FeedConfig, FeedState
from watcher.pipeline import Pipeline
from watcher.schedule import Service
from watcher.store import Store

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
READ = FeedState(name="f", url="https://f.test/", content_hash="abc", last_polled_at=NOW)


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        pytest.param(None, None, id="not-in-the-database"),
        pytest.param(replace(READ, last_polled_at=ago(100)), 500, id="polled-100s-ago"),
        pytest.param(replace(READ, last_polled_at=ago(600)), None, id="due-now"),
        pytest.param(replace(READ, last_polled_at=ago(7200)), None, id="long-ago"),
        pytest.param(replace(READ, content_hash=None, last_polled_at=ago(100)), None,
                     id="never-read-at-its-url"),
        pytest.param(replace(READ, last_polled_at=ago(-100)), None, id="polled-ahead-of-the-clock"),
        pytest.param(replace(READ, last_polled_at=ago(100), gaps=1), 200,
                     id="dropping-stories-half-its-interval"),
        pytest.param(replace(READ, last_polled_at=ago(100), next_poll_at=ago(-1200)), 1200,
                     id="backing-off"),
        pytest.param(replace(READ, content_hash=None, next_poll_at=ago(-1200)), 1200,
                     id="failing-since-its-url-changed"),
        pytest.param(replace(READ, next_poll_at=ago(-7200)), None, id="backoff-past-the-cap"),
        pytest.param(replace(READ, last_polled_at=ago(100), disabled=True), None, id="disabled"),
    ],
)  # fmt: skip
def test_first_poll_in(state: FeedState | None, expected: float | None) -> None:
    assert first_poll_in(state, 600, NOW, max_backoff=3600) == expected


def test_a_restart_polls_a_feed_read_lately_at_its_time_and_a_new_one_at_once(
    server: FeedServer, tmp_path: Path
) -> None:
    server.feed("/wire.xml", lambda: fixture_bytes("wire.rss.xml"))
    server.feed("/other.xml", lambda: fixture_bytes("wire.rss.xml").replace(b"wire-", b"o-"))
    read = FeedConfig(name="Read", url=server.url("/wire.xml"), interval=600)
    new = FeedConfig(name="New", url=server.url("/other.xml"), interval=600)
    store = Store(tmp_path / "w.db")
    settings = PollSettings(total_timeout=10, jitter=0)
    clock = FakeClock(NOW - timedelta(seconds=100))

    async def service_run(feeds: tuple[FeedConfig, ...]) -> dict[str, float]:
        """Run the service for 3 s; the seconds until each feed's next poll then."""
        fetcher = Fetcher(settings)
        pipeline = Pipeline(store=store, fetcher=fetcher, settings=settings, clock=clock)
        config = Config(path=tmp_path, state=tmp_path / "w.db", rules=tmp_path, feeds=feeds,
                        poll=settings)  # fmt: skip
        service = Service(config, pipeline, store, clock=clock)
        stop = asyncio.Event()
        running = asyncio.create_task(service.run(stop))
        await asyncio.sleep(3)
        now = datetime.now().astimezone()
        waits = {
            feed.name: (job.next_run_time - now).total_seconds()
            for feed in feeds if (job := service.scheduler.get_job(f"feed:{feed.name}"))
        }  # fmt: skip
        stop.set()
        await running
        await fetcher.aclose()
        return waits

    asyncio.run(service_run((read,)))  # the first run reads Read
    assert len(server.seen("/wire.xml")) == 1
    clock.now = NOW  # 100 s later, a restart with New added
    waits = asyncio.run(service_run((read, new)))
    assert len(server.seen("/wire.xml")) == 1 and len(server.seen("/other.xml")) == 1
    assert 490 < waits["Read"] <= 500  # 600 s after its poll
    assert 590 < waits["New"] <= 600  # polled at once: its interval from then
