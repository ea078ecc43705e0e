"""A restart of `watcher run` polls each feed when it would have been polled had the
service kept running: its interval after its last poll, or the end of its backoff; a
feed never read at its URL at once; and it holds a server that asked to wait before it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest

from tests.conftest import FakeClock
from tests.feedserver import FeedServer, fixture_bytes
from watcher.cli.common import utc_now
from watcher.config import Config, PollSettings
from watcher.feed_state import first_poll_in
from watcher.fetch import Fetcher
from watcher.health import status_document
from watcher.holds import hold_of
from watcher.models import FeedConfig, FeedState
from watcher.pipeline import Pipeline
from watcher.schedule import Service
from watcher.store import Store
from watcher.store.base import SERVERS_HELD

T = TypeVar("T")
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
    assert first_poll_in(state, 600, NOW, longest_wait=3600) == expected


async def run_for_a_while(
    tmp_path: Path, store: Store, feeds: tuple[FeedConfig, ...], clock: Callable[[], datetime],
    look: Callable[[Service], T],
) -> T:  # fmt: skip
    """Run the service over `feeds` for 3 s; what `look` sees of it then, before it stops."""
    settings = PollSettings(total_timeout=10, jitter=0)
    fetcher = Fetcher(settings)
    pipeline = Pipeline(store=store, fetcher=fetcher, settings=settings, clock=clock)
    config = Config(path=tmp_path, state=store.path, rules=tmp_path, feeds=feeds, poll=settings)
    service = Service(config, pipeline, store, clock=clock)
    stop = asyncio.Event()
    running = asyncio.create_task(service.run(stop))
    await asyncio.sleep(3)
    seen = look(service)
    stop.set()
    await running
    await fetcher.aclose()
    return seen


def test_a_restart_polls_a_feed_read_lately_at_its_time_and_a_new_one_at_once(
    server: FeedServer, tmp_path: Path
) -> None:
    server.feed("/wire.xml", lambda: fixture_bytes("wire.rss.xml"))
    server.feed("/other.xml", lambda: fixture_bytes("wire.rss.xml").replace(b"wire-", b"o-"))
    read = FeedConfig(name="Read", url=server.url("/wire.xml"), interval=600)
    new = FeedConfig(name="New", url=server.url("/other.xml"), interval=600)
    store = Store(tmp_path / "w.db")
    clock = FakeClock(NOW - timedelta(seconds=100))

    def waits(service: Service) -> dict[str, float]:
        """The seconds until each feed's next poll."""
        now = datetime.now().astimezone()
        return {
            name: (job.next_run_time - now).total_seconds()
            for name in ("Read", "New") if (job := service.scheduler.get_job(f"feed:{name}"))
        }  # fmt: skip

    def service_run(feeds: tuple[FeedConfig, ...]) -> dict[str, float]:
        return asyncio.run(run_for_a_while(tmp_path, store, feeds, clock, waits))

    service_run((read,))  # the first run reads Read
    assert len(server.seen("/wire.xml")) == 1
    clock.now = NOW  # 100 s later, a restart with New added
    after = service_run((read, new))
    assert len(server.seen("/wire.xml")) == 1 and len(server.seen("/other.xml")) == 1
    assert 490 < after["Read"] <= 500  # 600 s after its poll
    assert 590 < after["New"] <= 600  # polled at once: its interval from then


def test_a_restart_keeps_a_servers_hold_for_its_feeds_not_polled_before(
    server: FeedServer, tmp_path: Path
) -> None:
    """A 429 with Retry-After holds its server: recorded at once, kept at a clean stop and
    read again on start, so a feed of that server added before the restart waits too (no
    failure of its own: its first poll at the hold's end)."""
    server.status("/limited.xml", 429, {"Retry-After": "300"})
    server.feed("/added.xml", fixture_bytes("wire.rss.xml"))
    limited = FeedConfig(name="Limited", url=server.url("/limited.xml"), interval=600)
    added = FeedConfig(name="Added", url=server.url("/added.xml"), interval=600)
    store = Store(tmp_path / "w.db")

    def recorded(_: Service) -> list[dict[str, str]]:
        """The servers held as recorded while it runs, before it stops."""
        return store.servers_held()

    def service_run(feeds: tuple[FeedConfig, ...]) -> list[dict[str, str]]:
        return asyncio.run(run_for_a_while(tmp_path, store, feeds, utc_now, recorded))

    [held] = service_run((limited,))  # recorded at once: a SIGKILL keeps it
    assert store.servers_held() == [held]
    assert held["why"] == "HTTP 429 Too Many Requests" and held["server"].startswith("127.0.0.1:")
    service_run((limited, added))
    assert len(server.seen("/limited.xml")) == 1 and server.seen("/added.xml") == []
    state = store.feed_state("Added")
    assert state.last_polled_at is None and state.last_error is None
    assert state.next_poll_at is not None and state.next_poll_at > utc_now() + timedelta(
        seconds=280
    )


def test_a_hold_is_resumed_for_the_wait_it_has_left_and_never_longer_than_any_wait() -> None:
    fetcher = Fetcher(PollSettings(max_backoff=3600))
    now = datetime.now(UTC)
    recorded = [
        {"server": "a.test:443", "until": (now + timedelta(seconds=300)).isoformat(), "why": "429"},
        {"server": "b.test:443", "until": (now - timedelta(seconds=1)).isoformat(), "why": "429"},
        {"server": "c.test:443", "until": (now + timedelta(days=30)).isoformat(), "why": "503"},
        {"server": "d.test:443", "until": "soon", "why": "429"},
        {"server": "e.test:443"},
        {"server": "f.test:443", "until": "2999-12-05T12:00:00", "why": "not in UTC"},
        {"server": ["g.test"], "until": (now + timedelta(seconds=9)).isoformat(), "why": "x"},
    ]  # fmt: skip
    holds = [hold for entry in recorded if (hold := hold_of(entry))]
    assert [h.server for h in holds] == ["a.test:443", "b.test:443", "c.test:443"]
    assert fetcher.resume_holds(holds) == ["a.test:443", "c.test:443"]
    waits = {h["server"]: datetime.fromisoformat(h["until"]) - now for h in fetcher.held_servers()}
    assert timedelta(seconds=298) < waits["a.test:443"] <= timedelta(seconds=301)
    assert timedelta(seconds=3598) < waits["c.test:443"] <= timedelta(seconds=3601)


def test_status_shows_the_recorded_holds_not_over(tmp_path: Path) -> None:
    store = Store(tmp_path / "w.db")
    now = utc_now()
    held = [
        {"server": "over.test:443", "until": (now - timedelta(seconds=5)).isoformat(), "why": "x"},
        {"server": "on.test:443", "until": (now + timedelta(seconds=60)).isoformat(), "why": "y"},
        {"server": "naive.test:443", "until": "2999-01-01T00:00:00", "why": "z"},
    ]
    store.put_service_values({SERVERS_HELD: json.dumps([*held, "not a hold"])}, now)
    assert store.servers_held() == held
    assert [h["server"] for h in status_document(store, now, {})["servers_held"]] == ["on.test:443"]
    store.put_service_values({SERVERS_HELD: "{not json"}, now)
    assert store.servers_held() == [] and status_document(store, now, {})["servers_held"] == []
