"""A feed the config pauses (`paused: true`) keeps its stories and state but is not
polled, nor told of in feed notices, until the operator resumes it."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import FakeClock, free_port
from tests.feedserver import FeedServer, fixture_bytes
from tests.test_cli import watcher, write_config
from watcher.config import Config, PollSettings, load_config
from watcher.fetch import Fetcher
from watcher.health import feed_health, feed_notice
from watcher.models import FeedConfig, FeedState
from watcher.pipeline import Pipeline
from watcher.schedule import Service
from watcher.store import Store

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def _paused(config: Path, name: str, paused: bool = True) -> None:
    """Add or take away `paused: true` under the feed called `name`."""
    line = f"  - name: {name}\n"
    text = config.read_text().replace(line + "    paused: true\n", line)
    config.write_text(text.replace(line, line + "    paused: true\n") if paused else text)


def test_paused_is_read_from_the_config(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(
        "feeds:\n  - name: A\n    url: https://a.test/\n    paused: true\n"
        "  - name: B\n    url: https://b.test/\n"
    )
    assert [f.paused for f in load_config(path, env={}).feeds] == [True, False]
    path.write_text("feeds:\n  - name: A\n    url: https://a.test/\n    paused: soon\n")
    result = watcher("--config", str(path), "feeds")
    assert result.returncode == 2 and "feeds[0].paused" in result.stderr


def test_the_database_keeps_what_the_config_says(tmp_path: Path) -> None:
    store = Store(tmp_path / "w.db")
    feed = FeedConfig(name="A", url="https://a.test/", interval=600, paused=True)
    store.sync_feeds([feed])
    assert store.feed_state("A").paused
    store.sync_feeds([replace(feed, paused=False)])
    assert not store.feed_state("A").paused


@pytest.mark.parametrize(
    "state",
    [
        pytest.param(FeedState(name="f", url="u", consecutive_failures=5), id="failing"),
        pytest.param(FeedState(name="f", url="u", disabled=True), id="gone"),
        pytest.param(FeedState(name="f", url="u", last_success_at=NOW, gaps=4), id="dropping"),
        pytest.param(FeedState(name="f", url="u", last_success_at=NOW), id="silent"),
    ],
)
def test_a_paused_feed_is_paused_and_told_of_no_problem(state: FeedState) -> None:
    assert feed_notice(state, None, 3600, NOW) is not None  # told of, unpaused
    paused = replace(state, paused=True)
    assert feed_health(paused, 3600, NOW) == "paused"
    assert feed_notice(paused, None, 3600, NOW) is None
    assert feed_notice(paused, "failing", 3600, NOW) is None  # no "recovered" either


def test_once_polls_no_paused_feed_and_feeds_shows_it(server: FeedServer, tmp_path: Path) -> None:
    server.feed("/wire.xml", lambda: fixture_bytes("wire.rss.xml"))
    server.feed("/other.xml", lambda: fixture_bytes("wire.rss.xml").replace(b"wire-", b"o-"))
    config = write_config(tmp_path, server, ("Wire", "/wire.xml"), ("Other", "/other.xml"))
    _paused(config, "Other")
    result = watcher("--config", str(config), "once", "--force")
    assert result.returncode == 0, result.stderr
    assert "polled 1 feed (1 skipped)" in result.stdout
    assert len(server.seen("/wire.xml")) == 1 and server.seen("/other.xml") == []
    listed = watcher("--config", str(config), "feeds").stdout
    (other,) = [line for line in listed.splitlines() if line.startswith("Other")]
    assert other.split()[1] == "paused" and " never " in other  # no next poll
    _paused(config, "Other", paused=False)  # resumed: polled at the next once
    assert watcher("--config", str(config), "once").returncode == 0
    assert len(server.seen("/other.xml")) == 1


def test_run_schedules_no_paused_feed_and_a_reload_pauses_and_resumes(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # a poll that comes meanwhile fails at once
    feeds = (
        FeedConfig(name="A", url=f"{closed}/a.xml", interval=600),
        FeedConfig(name="B", url=f"{closed}/b.xml", interval=600, paused=True),
    )
    store = Store(tmp_path / "w.db")
    settings = PollSettings()
    config = Config(path=tmp_path, state=tmp_path / "w.db", rules=tmp_path, feeds=feeds)

    async def jobs() -> list[set[str]]:
        fetcher = Fetcher(settings)
        pipeline = Pipeline(store=store, fetcher=fetcher, settings=settings, clock=FakeClock(NOW))
        service = Service(config, pipeline, store, clock=FakeClock(NOW))
        stop = asyncio.Event()
        running = asyncio.create_task(service.run(stop))
        await asyncio.sleep(0.1)  # scheduled; the first polls come within 2 s

        def feed_jobs() -> set[str]:
            return {j.id for j in service.scheduler.get_jobs() if j.id.startswith("feed:")}

        seen = [feed_jobs()]
        service.apply_config(replace(config, feeds=(replace(feeds[0], paused=True), feeds[1])))
        seen.append(feed_jobs())
        service.apply_config(replace(config, feeds=(feeds[0], replace(feeds[1], paused=False))))
        seen.append(feed_jobs())
        stop.set()
        await running
        await fetcher.aclose()
        return seen

    assert asyncio.run(jobs()) == [{"feed:A"}, set(), {"feed:A", "feed:B"}]
    assert not store.feed_state("A").paused and not store.feed_state("B").paused


def test_healthz_does_not_wait_for_the_polls_of_a_paused_feed(tmp_path: Path) -> None:
    """Twice the shortest interval of the feeds polled: a paused one's 60 s would fail the
    check 200 s after the start, with no poll yet."""
    store = Store(tmp_path / "w.db")
    closed = f"http://127.0.0.1:{free_port()}"
    fast = FeedConfig(name="Fast", url=f"{closed}/f.xml", interval=60, paused=True)
    slow = FeedConfig(name="Slow", url=f"{closed}/s.xml", interval=3600)
    clock = FakeClock(NOW)
    settings = PollSettings()
    pipeline = Pipeline(store=store, fetcher=Fetcher(settings), settings=settings, clock=clock)

    def polls_check(*feeds: FeedConfig) -> tuple[bool, str]:
        config = Config(path=tmp_path, state=tmp_path / "w.db", rules=tmp_path, feeds=feeds)
        service = Service(config, pipeline, store, clock=clock)
        clock.now = NOW + timedelta(seconds=200)
        (polls,) = [c for c in service.checks() if c.name == "polls"]
        clock.now = NOW
        return polls.ok, polls.detail

    assert polls_check(fast, slow) == (True, "no poll yet; due within 7200s")
    assert polls_check(replace(fast, paused=False), slow)[0] is False
    assert polls_check(fast) == (True, "no feed to poll (none configured, or every one paused)")
