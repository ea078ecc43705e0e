"""Polling feeds from a real HTTP server on 127.0.0.1, through the whole pipeline."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gc
import gzip
import logging
import os
import resource
import tempfile
import threading
import time
import zlib
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor
from contextlib import nullcontext
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest

from tests.conftest import HOSTILE_RETRY_AFTER, ROOT, FakeClock, answering_once
from tests.feedserver import FeedServer, fixture_bytes, rss, send
from watcher.config import Config, PollSettings
from watcher.errors import ConfigError, FetchError
from watcher.feed_state import catch_up_delay
from watcher.fetch import UNASKED_304, Fetcher
from watcher.health import status_document
from watcher.jsonl import read_stories
from watcher.models import FeedConfig, FeedState, PollOutcome
from watcher.parse_pool import GC_THRESHOLDS, WORKER_NICE, parse_pool, running_pool
from watcher.pipeline import Pipeline
from watcher.rules.live import LiveRules
from watcher.schedule import Service
from watcher.server_waits import SERVER_WAIT
from watcher.store import Store
from watcher.transport import bypasses
from watcher.urls import same_origin

DAY = timedelta(days=1)
SETTINGS = PollSettings(connect_timeout=2, read_timeout=2, total_timeout=3, max_bytes=1024 * 1024)


class Harness:
    """A pipeline over a real store file and a real fetcher, with a hand-moved clock."""

    def __init__(self, db: Path, clock: FakeClock, settings: PollSettings = SETTINGS) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.store = Store(db)

    def feed(self, name: str, url: str) -> FeedConfig:
        feed = FeedConfig(name=name, url=url, interval=600)
        self.store.sync_feeds([feed])
        return feed

    def poll(
        self,
        *feeds: FeedConfig,
        force: bool = False,
        executor: Executor | None = None,
        rules: LiveRules | None = None,
    ) -> list[PollOutcome]:
        async def go() -> list[PollOutcome]:
            fetcher = Fetcher(self.settings)
            pipeline = Pipeline(
                store=self.store, fetcher=fetcher, settings=self.settings, clock=self.clock,
                parse_executor=executor, rules=rules,
            )  # fmt: skip
            try:
                return list(
                    await asyncio.gather(*(pipeline.refresh_feed(f, force=force) for f in feeds))
                )
            finally:
                await fetcher.aclose()

        return asyncio.run(go())


def test_new_stories_are_stored_once(server: FeedServer, harness: Harness) -> None:
    server.feed("/wire.xml", fixture_bytes("wire.rss.xml"), validators=False)
    feed = harness.feed("Wire", server.url("/wire.xml"))
    (first,) = harness.poll(feed)
    assert first.status == "new" and len(first.new_stories) == 2
    harness.clock.now += timedelta(hours=1)
    (second,) = harness.poll(feed)
    assert second.status == "unchanged" and second.new_stories == ()
    assert harness.store.count_stories() == 2


def test_conditional_get_sends_validators_and_304_adds_nothing(
    server: FeedServer, harness: Harness
) -> None:
    server.feed("/wire.xml", fixture_bytes("wire.rss.xml"))
    feed = harness.feed("Wire", server.url("/wire.xml"))
    harness.poll(feed)
    (again,) = harness.poll(feed)
    sent = server.seen("/wire.xml")[1].headers
    assert sent["If-None-Match"].startswith('"') and sent["If-Modified-Since"].endswith("GMT")
    assert again.status == "not_modified" and again.http_status == 304
    assert harness.store.count_stories() == 2
    state = harness.store.feed_state("Wire")
    assert state.etag == sent["If-None-Match"]  # validators are kept across a 304


def test_a_server_that_answers_304_for_good_hides_new_stories_a_day_at_most(
    server: FeedServer, harness: Harness
) -> None:
    """web.dev's feed (App Engine) gave a Last-Modified stuck in 1980, and answered 304 to
    every If-Modified-Since after it: readers that send their validators at every poll
    never saw a new story. Once in each day of the feed's own, a poll sends none."""
    body = {"xml": fixture_bytes("wire.rss.xml")}
    stuck = "Tue, 01 Jan 1980 00:00:01 GMT"

    def route(handler: BaseHTTPRequestHandler) -> None:
        if handler.headers.get("If-Modified-Since"):
            send(handler, 304, b"", None, {"Last-Modified": stuck})
        else:
            send(handler, 200, body["xml"], "application/rss+xml", {"Last-Modified": stuck})

    server.routes["/stuck.xml"] = route
    feed = harness.feed("Stuck", server.url("/stuck.xml"))
    assert harness.poll(feed)[0].status == "new"
    extra = b"<item><title>Tungsten tender opens</title><link>https://wire.test/t</link></item>"
    body["xml"] = body["xml"].replace(b"<item>", extra + b"<item>", 1)
    polls = []
    for _ in range(12):  # every 2 hours, a day long
        harness.clock.now += timedelta(hours=2)
        polls.append(harness.poll(feed)[0])
    assert [p.status for p in polls].count("not_modified") == len(polls) - 1
    (full,) = [p for p in polls if p.status != "not_modified"]
    assert [s.title for s in full.new_stories] == ["Tungsten tender opens"]
    asked = [r.headers.get("If-Modified-Since") for r in server.seen("/stuck.xml")]
    assert asked.count(None) == 2  # the first poll, and the day's


def test_changed_feed_adds_only_the_new_story(server: FeedServer, harness: Harness) -> None:
    body = {"xml": fixture_bytes("wire.rss.xml")}
    server.feed("/wire.xml", lambda: body["xml"])
    feed = harness.feed("Wire", server.url("/wire.xml"))
    harness.poll(feed)
    extra = b"<item><title>Tungsten tender opens</title><link>https://wire.test/t</link><guid>wire-103</guid></item>"
    body["xml"] = body["xml"].replace(b"<item>", extra + b"<item>", 1)
    harness.clock.now += timedelta(minutes=10)
    (outcome,) = harness.poll(feed)
    assert [s.title for s in outcome.new_stories] == ["Tungsten tender opens"]
    assert harness.store.count_stories() == 3
    # the stories stored before are marked as listed again (the prune keeps them); the new
    # one is not, nor were any at the first poll: nothing was stored to mark
    seen = dict(harness.store.db.execute("SELECT title, seen_at FROM stories").fetchall())
    assert seen.pop("Tungsten tender opens") is None
    assert set(seen.values()) == {harness.clock.now.isoformat()}


def numbered_items(numbers: range, start: datetime, guid: str = "n") -> list[str]:
    """RSS items numbered `numbers`, each its own news, dated `start` plus n minutes."""
    topics = ["tin", "zinc", "cobalt", "nickel", "lead", "copper", "bismuth", "tungsten"]
    return [
        f"<item><title>Item {n}: {topics[n % 8]} smelter {n * 7} tonnes</title>"
        f"<link>https://drill.test/{n}</link><guid>{guid}-{n}</guid>"
        f"<pubDate>{format_datetime(start + timedelta(minutes=n))}</pubDate></item>"
        for n in numbers
    ]


def test_a_feed_that_lists_only_new_stories_is_warned_of_until_it_overlaps_again(
    server: FeedServer, harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """More stories came than the feed holds: the ones between may be lost. Not on the
    first poll, not for a feed listing two, not for a site that changed its guids."""
    start = harness.clock.now
    body = {"xml": b""}
    server.feed("/f.xml", lambda: body["xml"], validators=False)
    feed = harness.feed("Fast", server.url("/f.xml"))
    outcomes, warnings = [], []
    for numbers, guid in [
        (range(1, 5), "n"), (range(3, 7), "n"), (range(7, 11), "n"), (range(9, 13), "n"),
        (range(9, 13), "moved"), (range(13, 15), "n"),
    ]:  # fmt: skip
        harness.clock.now += timedelta(minutes=10)
        body["xml"] = rss(numbered_items(numbers, start, guid))
        with caplog.at_level(logging.WARNING, logger="watcher.pipeline"):
            (outcome,) = harness.poll(feed)
        outcomes.append((len(outcome.new_stories), outcome.gap))
        (shown,) = status_document(harness.store, harness.clock.now, {"Fast": None})["feeds"]
        assert shown["warning"] == harness.store.feed_state("Fast").warning
        warnings.append(shown["warning"])
    assert outcomes == [(4, False), (2, False), (4, True), (2, False), (4, False), (2, False)]
    assert [w is not None for w in warnings] == [False, False, True, False, False, False]
    assert "all 4 stories it lists are new since the last poll" in (warnings[2] or "")
    (logged,) = [r for r in caplog.records if "feed may have dropped stories" in r.getMessage()]
    assert logged.event_fields["feed"] == "Fast" and logged.event_fields["listed"] == 4
    harness.store.sync_feeds([replace(feed, url=server.url("/f.xml?moved"))])
    body["xml"] = rss(numbered_items(range(20, 24), start))
    (afresh,) = harness.poll(replace(feed, url=server.url("/f.xml?moved")))
    assert len(afresh.new_stories) == 4 and not afresh.gap  # another URL: nothing to compare


@pytest.mark.parametrize(
    ("interval", "gaps", "after"),
    [
        (600, 0, None), (600, 1, 300), (600, 2, 150), (600, 5, 150),  # a quarter at most
        (3600, 1, 1800), (100, 1, 60), (60, 1, None),  # never sooner than a minute
    ],
)  # fmt: skip
def test_catch_up_delay(interval: float, gaps: int, after: float | None) -> None:
    assert catch_up_delay(interval, gaps) == after


@contextlib.asynccontextmanager
async def scheduled(harness: Harness, *feeds: FeedConfig) -> AsyncIterator[Service]:
    """`watcher run`'s Service over the harness's store, each feed's job added, its scheduler
    paused: no poll runs but those a test makes (`Service.poll`)."""
    config = Config(path=harness.db, state=harness.db, rules=harness.db, feeds=feeds)
    fetcher = Fetcher(SETTINGS)
    pipeline = Pipeline(store=harness.store, fetcher=fetcher, settings=SETTINGS,
                        clock=harness.clock)  # fmt: skip
    service = Service(config, pipeline, harness.store, clock=harness.clock)
    for feed in feeds:
        service._add_feed_job(feed, None)
    service.scheduler.start(paused=True)
    try:
        yield service
    finally:
        service.scheduler.shutdown(wait=False)
        await fetcher.aclose()


def test_a_feeds_gaps_are_counted_until_a_poll_overlaps_and_kept_through_a_failure(
    server: FeedServer, harness: Harness
) -> None:
    """The store counts a feed's polls in a row that listed only new stories (feed notices
    tell of 3): a poll that overlaps, or finds nothing new, counts afresh; a failed poll
    (here a body that is no feed) leaves the count as it was."""
    start = harness.clock.now
    body = {"xml": b""}
    server.feed("/f.xml", lambda: body["xml"], validators=False)
    feed = harness.feed("Fast", server.url("/f.xml"))
    counts, gap_at = [], []
    for xml in [
        rss(numbered_items(range(1, 5), start)), rss(numbered_items(range(5, 9), start)),
        b"<html><body>Maintenance</body></html>", rss(numbered_items(range(9, 13), start)),
        rss(numbered_items(range(9, 13), start)), rss(numbered_items(range(13, 17), start)),
        rss(numbered_items(range(16, 20), start)),
    ]:  # fmt: skip
        harness.clock.now += timedelta(minutes=10)
        body["xml"] = xml
        harness.poll(feed, force=True)  # through the failure's backoff
        counts.append(harness.store.feed_state("Fast").gaps)
        gap_at.append(harness.store.feed_state("Fast").gap_at)
    # first poll; a gap; no feed (kept); a gap; nothing new (afresh); a gap; an overlap
    assert counts == [0, 1, 1, 2, 0, 1, 0]
    minutes = [None if at is None else (at - start) // timedelta(minutes=1) for at in gap_at]
    assert minutes == [None, 20, 20, 40, 40, 60, 60]  # when the last gap was, kept till the next


def test_watcher_run_polls_a_feed_that_drops_stories_sooner_until_it_overlaps_again(
    server: FeedServer, harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """A poll that lists only new stories pulls the feed's next poll in: after half its
    interval, then a quarter while it keeps dropping; never later than it was due."""
    start = harness.clock.now
    body = {"xml": b""}
    server.feed("/f.xml", lambda: body["xml"], validators=False)
    feed = harness.feed("Fast", server.url("/f.xml"))

    gaps: list[int] = []

    async def polls() -> list[float]:
        waits = []
        async with scheduled(harness, feed) as service:
            job = service.scheduler.get_job("feed:Fast")
            for numbers, at_interval in [
                (range(1, 5), True), (range(5, 9), False), (range(9, 13), False),
                (range(13, 17), False), (range(16, 20), False), (range(20, 24), True),
            ]:  # fmt: skip
                if at_interval:  # as after a poll at its interval
                    job.modify(next_run_time=datetime.now().astimezone() + timedelta(seconds=600))
                body["xml"] = rss(numbered_items(numbers, start))
                await service.poll(feed)
                waits.append((job.next_run_time - datetime.now().astimezone()).total_seconds())
                gaps.append(harness.store.feed_state("Fast").gaps)
        return waits

    with caplog.at_level(logging.INFO, logger="watcher.schedule"):
        waits = asyncio.run(polls())
    # gaps at the 2nd, 3rd and 4th polls; the 5th lists story 16 again; the 6th drops again
    expected = [600, 300, 150, 150, 150, 300]
    assert [round(w / 10) * 10 for w in waits] == expected
    assert gaps == [0, 1, 2, 3, 0, 1]  # kept in the store: the 4th is told of (feed notices)
    logged = [r.event_fields for r in caplog.records if r.getMessage() == "feed polled sooner"]
    assert [(f["feed"], f["after"]) for f in logged] == [
        ("Fast", "300s"),
        ("Fast", "150s"),
        ("Fast", "300s"),
    ]


def test_only_a_poll_that_stored_stories_or_failed_has_an_info_line_and_run_sums_them_up(
    server: FeedServer, harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """A poll that stored no story (a 304, a new body without a new story) is logged at
    DEBUG; `watcher run` logs every 10 minutes one line of the polls since the last."""
    body = {"xml": fixture_bytes("wire.rss.xml")}
    server.feed("/wire.xml", lambda: body["xml"])
    wire, broken = (
        harness.feed("Wire", server.url("/wire.xml")),
        harness.feed("Broken", server.url("/none")),
    )

    async def polls() -> None:
        async with scheduled(harness, wire, broken) as service:
            for feed in (wire, wire, broken):
                await service.poll(feed)
            body["xml"] = body["xml"].replace(b"fixture", b"fixture, reworded")  # no new story
            await service.poll(wire)
            harness.clock.now += timedelta(minutes=10)
            service.sum_up_polls()
            service.sum_up_polls()  # no poll since: no line

    with caplog.at_level(logging.DEBUG, logger="watcher"):
        asyncio.run(polls())
    polls_logged = [
        (r.event_fields["feed"], r.event_fields["status"], r.levelname)  # type: ignore[attr-defined]
        for r in caplog.records if r.getMessage() == "poll"
    ]  # fmt: skip
    assert polls_logged == [
        ("Wire", "new", "INFO"), ("Wire", "not_modified", "DEBUG"),
        ("Broken", "failed", "WARNING"), ("Wire", "new", "DEBUG"),
    ]  # fmt: skip
    (summary,) = [r for r in caplog.records if r.getMessage() == "polls"]
    assert summary.levelname == "INFO"
    assert summary.event_fields == {  # type: ignore[attr-defined]
        "polls": 4, "failed": 1, "new": 2, "not_modified": 1, "stories": 2, "minutes": 10,
    }  # fmt: skip


def test_relative_links_are_stored_absolute_and_keep_outlets_apart(
    server: FeedServer, harness: Harness
) -> None:
    """Two outlets whose feeds link their own, unrelated stories as "/news/1": resolved
    against each channel's link (or the feed's URL), they are two links and two news items,
    where one relative link would have joined them as the same story."""
    item = "<item><title>{0}</title><link>/news/1</link><description>{1}</description></item>"
    feeds = {
        "/a.xml": ("<link>https://a.test/</link>", "Gallium plant opens in Kazakhstan",
                   "The Pavlodar smelter starts gallium output."),
        "/b.xml": ("", "Antimony mine floods in Bolivia",
                   "Heavy rain stopped work at an antimony pit near Potosi."),
    }  # fmt: skip
    for path, (link, title, text) in feeds.items():
        channel = f'<rss version="2.0"><channel><title>{path}</title>{link}'
        server.feed(path, (channel + item.format(title, text) + "</channel></rss>").encode())
    harness.poll(*(harness.feed(path, server.url(path)) for path in feeds))
    links = {s.title: s.link for s in harness.store.recent_stories(harness.clock.now - DAY)}
    assert links == {
        "Gallium plant opens in Kazakhstan": "https://a.test/news/1",
        "Antimony mine floods in Bolivia": server.url("/news/1"),
    }
    assert harness.store.count_clusters() == 2


def test_stories_sharing_only_a_paywall_teaser_stay_apart(
    server: FeedServer, harness: Harness
) -> None:
    """Taken for their text, two stories of a paywalled feed would be reprints of each other,
    and every later story of the feed would join them without an alert of its own."""
    paywall = "Log in to Fastmarkets or subscribe to Fastmarkets Metal Bulletin to read the story."
    items = [
        f"<item><title>{title}</title><link>https://p.test/{n}</link>"
        f"<description>{paywall}</description></item>"
        for n, title in enumerate(["Port workers end strike at northern harbour",
                                   "Gallium prices rise in Rotterdam on export curbs"])
    ]  # fmt: skip
    server.feed("/paywalled.xml", rss(items))
    harness.poll(harness.feed("Paywalled", server.url("/paywalled.xml")))
    assert harness.store.count_stories() == 2
    assert harness.store.count_clusters() == 2


def test_stories_linking_the_home_page_stay_apart(server: FeedServer, harness: Harness) -> None:
    """A feed whose entries all link to the site's home page: two stories, two news items."""
    items = [
        f"<item><title>{title}</title><link>https://drill.test/</link></item>"
        for title in ["Port workers end strike at northern harbour",
                      "Gallium prices rise in Rotterdam on export curbs"]
    ]  # fmt: skip
    server.feed("/home-links.xml", rss(items))
    harness.poll(harness.feed("Home links", server.url("/home-links.xml")))
    assert harness.store.count_stories() == 2
    assert harness.store.count_clusters() == 2


@pytest.mark.parametrize("pooled", [False, True], ids=["in the loop", "in the parse pool"])
def test_a_guid_given_again_to_another_story_loses_no_story(
    server: FeedServer, harness: Harness, pooled: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """Feeds that number entries by position give guid 1 to each newest story: a new story
    under a stored story's guid is stored and matched, not taken as known; an edit of a
    story (another link and title, the same text) stays the story it was."""

    def entry(guid: str, title: str, slug: str, text: str) -> str:
        return (f"<item><guid>{guid}</guid><title>{title}</title>"
                f"<link>https://pos.test/{slug}</link><description>{text}</description></item>")  # fmt: skip

    gallium = entry("1", "Gallium plant opens in Kazakhstan", "gallium",
                    "The Pavlodar smelter starts gallium output for export to Japan.")  # fmt: skip
    lithium = entry("2", "Lithium brine project wins approval in Chile", "lithium",
                    "Regulators in Santiago approved the Maricunga brine venture.")  # fmt: skip
    antimony = entry("1", "Antimony mine floods in Bolivia", "antimony",
                     "Rain stopped an antimony pit near Potosi and delayed its offtake deal.")  # fmt: skip
    edited = entry("2", "Lithium brine project wins final approval in Chile", "lithium-final",
                   "Regulators in Santiago approved the Maricunga brine venture.")  # fmt: skip
    tin = entry("3", "Tin smelter restarts in Indonesia", "tin",
                "PT Timah restarted its Muntok smelter after a month of repairs.")  # fmt: skip
    body = {"xml": rss([gallium, lithium])}
    server.feed("/pos.xml", lambda: body["xml"], validators=False)
    feed = harness.feed("Positions", server.url("/pos.xml"))
    rules = LiveRules(ROOT / "rules")

    def poll(*items: str) -> PollOutcome:
        body["xml"] = rss(list(items))
        harness.clock.now += timedelta(hours=1)
        with parse_pool(1) if pooled else nullcontext() as pool:
            (outcome,) = harness.poll(feed, executor=pool, rules=rules)
        return outcome

    assert len(poll(gallium, lithium).new_stories) == 2
    with caplog.at_level(logging.INFO, logger="watcher.known"):
        again = poll(antimony, lithium)
    assert [s.title for s in again.new_stories] == ["Antimony mine floods in Bolivia"]
    assert [r.getMessage() for r in caplog.records] == ["guid given again"]
    assert {m.story for m in again.matches} == {again.new_stories[0].id}  # and alerted
    with caplog.at_level(logging.INFO, logger="watcher.known"):
        assert [s.title for s in poll(antimony, edited, tin).new_stories] == [
            "Tin smelter restarts in Indonesia"
        ]  # the antimony story is known now, the edit is the lithium story
    assert [r.getMessage() for r in caplog.records] == ["guid given again"]  # once
    assert harness.store.count_stories() == 4
    titles = {s.link: s.title for s in harness.store.recent_stories(harness.clock.now - DAY)}
    assert titles["https://pos.test/lithium-final"] == (
        "Lithium brine project wins final approval in Chile"
    )  # the edit, with its new link, is the stored lithium story now
    # the feed lists the antimony story under guid 1: its story is listed, and kept by the
    # prune (pruned, it came back as new at the next poll, and alerted again)
    assert harness.store.prune_stories(harness.clock.now + DAY, ["Positions"]) == 0


def test_a_parse_past_its_deadline_fails_the_poll_and_says_so(
    server: FeedServer, harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A parse stuck on hostile text held its poll, and its place among the polls, without a
    word: past PARSE_SECONDS the poll fails, as a parse error, and the next one reads the
    feed anew. (A real parse of 5,000 items, against a deadline it cannot meet.)"""
    items = [f"<item><title>Story {n}</title><link>https://t.test/{n}</link></item>"
             for n in range(5_000)]  # fmt: skip
    server.feed("/big.xml", rss(items))
    feed = harness.feed("Big", server.url("/big.xml"))
    monkeypatch.setattr("watcher.parse_pool.PARSE_SECONDS", 0.001)
    with parse_pool(1) as pool:
        (late,) = harness.poll(feed, executor=pool)
    assert late.status == "failed", late
    assert late.error == "parsing took longer than 0.001 s (the parse worker finishes it)"
    state = harness.store.feed_state("Big")
    assert state.consecutive_failures == 1 and state.last_error == late.error
    assert harness.store.count_stories() == 0
    monkeypatch.setattr("watcher.parse_pool.PARSE_SECONDS", 300.0)
    with parse_pool(1) as pool:
        (read,) = harness.poll(feed, executor=pool, force=True)
    assert read.status == "new" and len(read.new_stories) == 5_000


@pytest.mark.parametrize("pooled", [False, True], ids=["in the loop", "in the parse pool"])
def test_a_story_given_a_title_that_names_a_mineral_is_matched_again(
    server: FeedServer, harness: Harness, pooled: bool
) -> None:
    """A developing story's headline comes to name what it did not: the stored story takes
    the new title, and a rule it matches now matches its cluster, once."""

    def body(title: str, hours_ago: float = 1) -> bytes:
        when = format_datetime(harness.clock.now - timedelta(hours=hours_ago))
        return rss([f"<item><guid>dev-1</guid><title>{title}</title><link>https://dev.test/1"
                    f"</link><pubDate>{when}</pubDate><description>An explosion hit a smelter "
                    "near Pavlodar on Monday.</description></item>"])  # fmt: skip

    served = {"xml": body("Explosion at a smelter in Kazakhstan")}
    server.feed("/dev.xml", lambda: served["xml"], validators=False)
    feed = harness.feed("Developing", server.url("/dev.xml"))
    rules = LiveRules(ROOT / "rules")

    def poll(xml: bytes) -> PollOutcome:
        served["xml"] = xml
        harness.clock.now += timedelta(minutes=10)
        with parse_pool(1) if pooled else nullcontext() as pool:
            (outcome,) = harness.poll(feed, executor=pool, rules=rules)
        return outcome

    first = poll(served["xml"])
    assert len(first.new_stories) == 1 and first.matches == ()
    named = poll(body("Explosion at a Kazakh gallium smelter kills three"))
    assert named.new_stories == () and "gallium" in {m.rule for m in named.matches}
    (story,) = harness.store.recent_stories(harness.clock.now - DAY)
    assert story.title == "Explosion at a Kazakh gallium smelter kills three"
    again = poll(body("Explosion at a Kazakh gallium smelter kills four"))
    assert again.matches == ()  # the cluster matched that rule already


def test_session_ids_in_links_make_no_new_stories(server: FeedServer, harness: Harness) -> None:
    """A server that puts a session id in the links it gives a client without cookies gives
    another on every poll: the links, and the stories known by them, stay the same."""
    polls = iter(range(1, 100))

    def body() -> bytes:
        session = f"{next(polls):04X}.node1"
        return rss([f"<item><title>Sojitz results</title><link>https://ir.test/news/{n}"
                    f";jsessionid={session}</link></item>" for n in (1, 2)])  # fmt: skip

    server.feed("/ir.xml", body, validators=False)
    feed = harness.feed("IR", server.url("/ir.xml"))
    assert len(harness.poll(feed)[0].new_stories) == 2
    harness.clock.now += timedelta(hours=1)
    (again,) = harness.poll(feed)
    assert again.status == "new" and again.new_stories == ()  # parsed again, nothing new
    assert {s.link for s in harness.store.recent_stories(harness.clock.now - DAY)} == {
        "https://ir.test/news/1",
        "https://ir.test/news/2",
    }


def test_a_poll_whose_writes_fail_leaves_no_trace_and_the_next_one_stores_it(
    server: FeedServer, harness: Harness
) -> None:
    """A write failing late in a poll (a trigger refuses its cluster rows) undoes all of the
    poll, in the store and in the clustering window; the next poll fetches the stories again
    (the validators were not saved either) and stores them once."""
    server.feed("/wire.xml", fixture_bytes("wire.rss.xml"))
    feed = harness.feed("Wire", server.url("/wire.xml"))
    harness.store.db.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON clusters BEGIN SELECT RAISE(ABORT, 'no room'); END"
    )

    async def go() -> tuple[PollOutcome, int, PollOutcome, int]:
        fetcher = Fetcher(SETTINGS)
        pipeline = Pipeline(
            store=harness.store, fetcher=fetcher, settings=SETTINGS, clock=harness.clock
        )
        try:
            failed = await pipeline.refresh_feed(feed, force=True)
            window_after_failure = len(pipeline.clusterer.index)
            harness.store.db.execute("DROP TRIGGER refuse")
            stored = await pipeline.refresh_feed(feed, force=True)
            return failed, window_after_failure, stored, len(pipeline.clusterer.index)
        finally:
            await fetcher.aclose()

    failed, window_after_failure, stored, window = asyncio.run(go())
    assert failed.status == "failed" and "no room" in (failed.error or "")
    assert window_after_failure == 0
    assert "If-None-Match" not in server.seen("/wire.xml")[1].headers
    assert stored.status == "new" and len(stored.new_stories) == 2
    assert harness.store.count_stories() == 2 and window == 2
    assert harness.store.count_clusters() == 2


def test_permanent_redirect_updates_the_url(server: FeedServer, harness: Harness) -> None:
    server.redirect("/old.xml", "/new.xml", 301)
    server.feed("/new.xml", fixture_bytes("wire.rss.xml"))
    feed = harness.feed("Wire", server.url("/old.xml"))
    (outcome,) = harness.poll(feed)
    assert outcome.status == "new"
    assert harness.store.feed_state("Wire").url == server.url("/new.xml")


def test_temporary_redirect_keeps_the_url(server: FeedServer, harness: Harness) -> None:
    server.redirect("/old.xml", "/new.xml", 302)
    server.feed("/new.xml", fixture_bytes("wire.rss.xml"))
    feed = harness.feed("Wire", server.url("/old.xml"))
    harness.poll(feed)
    assert harness.store.feed_state("Wire").url == server.url("/old.xml")


@pytest.mark.parametrize(
    ("status", "reason", "outcome"),
    [(200, "Réussi", "new"), (500, "Erreur interne du serveur (accès refusé)", "failed")],
)
def test_a_reason_phrase_in_latin_1_is_read_as_latin_1(
    server: FeedServer, harness: Harness, status: int, reason: str, outcome: str
) -> None:
    """aiohttp reads a status line as UTF-8 (a byte that is none as a lone surrogate) and
    httpx-aiohttp encoded the phrase again, strictly: a server's Latin-1 phrase, as older
    French or German servers send, raised UnicodeEncodeError out of every poll."""

    def latin_1(handler: Any) -> None:
        item = "<item><title>Gallium exports rise</title><link>https://l.test/1</link></item>"
        body = rss([item]) if status == 200 else b""
        handler.send_response(status, reason)  # http.server writes it in Latin-1
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    server.routes["/latin.xml"] = latin_1
    (polled,) = harness.poll(harness.feed("Latin", server.url("/latin.xml")))
    assert polled.status == outcome, polled.error
    if status == 200:
        assert [s.title for s in polled.new_stories] == ["Gallium exports rise"]
    else:
        assert "HTTP 500 Erreur interne du serveur (acc" in (polled.error or "")  # httpx
        # keeps a phrase's ASCII alone


def test_redirect_loop_is_an_error(server: FeedServer, harness: Harness) -> None:
    server.redirect("/a", "/b", 302)
    server.redirect("/b", "/a", 302)
    (outcome,) = harness.poll(harness.feed("Loop", server.url("/a")))
    assert outcome.status == "failed" and "too many redirects" in (outcome.error or "")
    assert len(server.requests) == SETTINGS.max_redirects + 1


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.1:abc/feed",
        "http://[::1/feed",
        "http://127.0.0.1:99999/feed",
        "http://:80/feed",
        f"http://{'x' * 64}.example.org/feed",
        "http://xn--/feed",  # no punycode after xn--: httpx's request raised IDNAError
        "http://xn--zz.example.org/feed",
    ],
)
def test_a_redirect_to_a_malformed_url_is_the_feeds_failure(
    server: FeedServer, harness: Harness, location: str
) -> None:
    """A hostile Location (a port that is no number or out of range, a broken IPv6 host, no
    host) is a failure recorded on the feed, with backoff, that names it."""
    server.redirect("/bad", location, 302)
    (outcome,) = harness.poll(harness.feed("Bad", server.url("/bad")))
    assert outcome.status == "failed"
    assert f"redirect to a malformed URL {location!r} refused" in (outcome.error or "")
    state = harness.store.feed_state("Bad")
    assert state.consecutive_failures == 1 and "malformed URL" in (state.last_error or "")


def test_a_validator_that_is_not_ascii_is_neither_kept_nor_sent(
    server: FeedServer, harness: Harness
) -> None:
    """A Latin-1 ETag or Last-Modified could not go back as a header: every later poll of
    the feed failed before its request."""
    body = fixture_bytes("wire.rss.xml")
    server.routes["/latin.xml"] = lambda h: send(
        h, 200, body, "application/rss+xml", {"ETag": '"caf\xe9"', "Last-Modified": "d\xe9c"}
    )
    feed = harness.feed("Latin", server.url("/latin.xml"))
    first, second = harness.poll(feed, force=True)[0], harness.poll(feed, force=True)[0]
    assert (first.status, second.status) == ("new", "unchanged")
    state = harness.store.feed_state("Latin")
    assert state.etag is None and state.last_modified is None
    harness.store.record_poll(replace(state, etag='"caf\xe9"'))  # kept by an older version
    (third,) = harness.poll(feed, force=True)
    assert third.status == "unchanged"
    assert "If-None-Match" not in server.seen("/latin.xml")[-1].headers


def test_gone_disables_the_feed(server: FeedServer, harness: Harness) -> None:
    server.status("/gone.xml", 410)
    feed = harness.feed("Gone", server.url("/gone.xml"))
    (outcome,) = harness.poll(feed)
    assert outcome.status == "gone"
    state = harness.store.feed_state("Gone")
    assert state.disabled and "410" in (state.last_error or "")
    harness.clock.now += timedelta(days=1)
    (later,) = harness.poll(feed, force=True)
    assert later.status == "skipped" and len(server.requests) == 1


@pytest.mark.parametrize(
    ("status", "headers", "told"),
    [
        pytest.param(401, {"WWW-Authenticate": 'Basic realm="feeds"'}, "HTTP 401 Unauthorized: the feed asks for credentials (Basic): give them in its url", id="credentials"),
        pytest.param(403, {"cf-mitigated": "challenge", "Server": "cloudflare"}, "HTTP 403 Forbidden: refused by the site's bot protection (Cloudflare's challenge), which no feed reader passes", id="cloudflare-challenge"),
        pytest.param(403, {"Server": "ddos-guard"}, "HTTP 403 Forbidden: refused by the site's bot protection (DDoS-Guard)", id="ddos-guard"),
        pytest.param(403, {"X-DataDome": "protected"}, "HTTP 403 Forbidden: refused by the site's bot protection (DataDome)", id="datadome"),
        pytest.param(503, {"X-Iinfo": "1-2-3"}, "HTTP 503 Service Unavailable: refused by the site's bot protection (Imperva)", id="imperva"),
        pytest.param(403, {"Server": "nginx"}, "HTTP 403 Forbidden", id="plain-403"),
        pytest.param(503, {"Server": "cloudflare"}, "HTTP 503 Service Unavailable", id="cloudflare-origin-down"),
    ],
)  # fmt: skip
def test_a_refusal_says_what_it_asks_of_the_operator(
    server: FeedServer, harness: Harness, status: int, headers: dict[str, str], told: str
) -> None:
    """A feed that wants credentials, or a site whose bot protection refuses feed readers,
    fails with what to do, not a bare status: an operator reading `watcher feeds` or a
    feed notice sees why the feed fails and that retrying will not help."""
    server.routes["/refused.xml"] = lambda h: send(
        h, status, b"<html>no</html>", "text/html", headers
    )
    (outcome,) = harness.poll(harness.feed("Refused", server.url("/refused.xml")))
    assert outcome.status == "failed"
    error = outcome.error or ""
    assert error.startswith(told) and (":" in error) == (":" in told), error  # plain stays so


def test_server_errors_back_off_exponentially_and_reset_on_success(
    server: FeedServer, harness: Harness
) -> None:
    server.status("/flaky.xml", 500)
    feed = harness.feed("Flaky", server.url("/flaky.xml"))
    delays = []
    for _ in range(3):
        (outcome,) = harness.poll(feed)
        assert outcome.status == "failed" and "HTTP 500" in (outcome.error or "")
        state = harness.store.feed_state("Flaky")
        assert state.next_poll_at is not None
        delays.append((state.next_poll_at - harness.clock.now).total_seconds())
        (skipped,) = harness.poll(feed)  # not due while backing off
        assert skipped.status == "skipped"
        harness.clock.now = state.next_poll_at
    assert state.consecutive_failures == 3
    assert delays[0] < delays[1] < delays[2] <= SETTINGS.max_backoff * 1.1
    server.feed("/flaky.xml", fixture_bytes("wire.rss.xml"))
    harness.poll(feed)
    state = harness.store.feed_state("Flaky")
    assert state.consecutive_failures == 0 and state.next_poll_at is None


def test_a_clock_set_back_leaves_no_feed_waiting_for_it(
    server: FeedServer, harness: Harness
) -> None:
    """A failing feed's next poll was set while the clock ran a year ahead: once the clock
    is put right, that wait is longer than max_backoff allows, so the feed is polled, not
    left idle for a year."""
    server.status("/flaky.xml", 500)
    feed = harness.feed("Flaky", server.url("/flaky.xml"))
    right = harness.clock.now
    harness.clock.now = right + timedelta(days=365)
    assert harness.poll(feed)[0].status == "failed"
    harness.clock.now = right + timedelta(minutes=1)
    server.feed("/flaky.xml", fixture_bytes("wire.rss.xml"))
    (polled,) = harness.poll(feed)
    assert polled.status == "new", polled
    server.status("/flaky.xml", 500)
    harness.poll(feed, force=True)  # a backoff set now is kept, as ever
    assert harness.poll(feed)[0].status == "skipped"


def test_backoff_is_capped(server: FeedServer, harness: Harness) -> None:
    server.status("/down.xml", 503)
    feed = harness.feed("Down", server.url("/down.xml"))
    for _ in range(12):
        harness.poll(feed, force=True)
    state = harness.store.feed_state("Down")
    assert state.next_poll_at is not None
    assert (state.next_poll_at - harness.clock.now).total_seconds() <= SETTINGS.max_backoff


@pytest.mark.parametrize("code", [429, 503])
def test_retry_after_is_honoured(server: FeedServer, harness: Harness, code: int) -> None:
    server.status("/busy.xml", code, {"Retry-After": "7200"})
    harness.poll(harness.feed("Busy", server.url("/busy.xml")))
    state = harness.store.feed_state("Busy")
    assert state.next_poll_at is not None
    assert (state.next_poll_at - harness.clock.now).total_seconds() >= 7200


@pytest.mark.parametrize(
    ("code", "headers", "wait"),
    [
        pytest.param(429, {"Retry-After": "30"}, 30, id="429-retry-after"),
        pytest.param(429, {}, SERVER_WAIT, id="429-without"),
        pytest.param(503, {"Retry-After": "30"}, 30, id="503-retry-after"),
        pytest.param(429, {"Retry-After": "999999"}, SETTINGS.max_backoff, id="capped"),
        pytest.param(503, {}, None, id="503-without: a fault, not a request to wait"),
        pytest.param(500, {"Retry-After": "30"}, None, id="500"),
    ],
)
def test_a_server_that_asks_to_wait_is_asked_nothing_by_its_other_feeds(
    server: FeedServer, code: int, headers: dict[str, str], wait: float | None
) -> None:
    """Google News answers a burst of searches with 429: polling its other feeds then would
    prolong the limit. Another server is polled as ever."""
    other = FeedServer().start()
    server.status("/limited.xml", code, headers)
    server.feed("/next.xml", fixture_bytes("wire.rss.xml"))
    other.feed("/elsewhere.xml", fixture_bytes("wire.rss.xml"))

    async def go() -> tuple[FetchError, FetchError | None]:
        fetcher = Fetcher(SETTINGS)
        try:
            with pytest.raises(FetchError) as limited:
                await fetcher.fetch(server.url("/limited.xml"))
            assert (await fetcher.fetch(other.url("/elsewhere.xml"))).kind == "ok"
            try:
                await fetcher.fetch(server.url("/next.xml"))
            except FetchError as held:
                return limited.value, held
            return limited.value, None
        finally:
            await fetcher.aclose()

    try:
        limited, held = asyncio.run(go())
    finally:
        other.stop()
    assert limited.status == code
    if wait is None:
        assert held is None and len(server.seen("/next.xml")) == 1
        return
    assert held is not None and server.seen("/next.xml") == []  # not asked at all
    server_name = server.base.removeprefix("http://")
    assert str(held).startswith(f"not polled: {server_name} answered HTTP {code} ")
    assert held.retry_after is not None and wait - 5 < held.retry_after <= wait


def test_a_feed_held_for_its_server_is_not_failed_and_is_polled_once_the_wait_is_over(
    server: FeedServer, harness: Harness
) -> None:
    """Held: no failure counted and no backoff (the feed did nothing wrong), its next poll
    not before the server's wait is over."""
    server.status("/limited.xml", 429, {"Retry-After": "1"})
    server.feed("/next.xml", fixture_bytes("wire.rss.xml"))
    limited = harness.feed("Limited", server.url("/limited.xml"))
    following = harness.feed("Next", server.url("/next.xml"))

    async def go() -> list[PollOutcome]:
        fetcher = Fetcher(SETTINGS)
        pipeline = Pipeline(store=harness.store, fetcher=fetcher, settings=SETTINGS,
                            clock=harness.clock)  # fmt: skip
        try:
            outcomes = [
                await pipeline.refresh_feed(limited),
                await pipeline.refresh_feed(following),
            ]
            states.append(harness.store.feed_state("Next"))
            await asyncio.sleep(1.1)
            harness.clock.now += timedelta(seconds=1.1)
            return [*outcomes, await pipeline.refresh_feed(following)]  # due: not forced
        finally:
            await fetcher.aclose()

    states: list[FeedState] = []
    start = harness.clock.now
    first, held, later = asyncio.run(go())
    assert first.status == "failed" and first.http_status == 429
    assert held.status == "held" and "asked to wait" in (held.error or "")
    (waiting,) = states
    assert waiting.consecutive_failures == 0 and waiting.last_error is None
    assert waiting.next_poll_at is not None
    assert waiting.next_poll_at == start + timedelta(seconds=1)  # the wait, to the second
    assert later.status == "new" and len(later.new_stories) == 2
    assert [r.path for r in server.requests].count("/next.xml") == 1


@pytest.mark.parametrize("value", HOSTILE_RETRY_AFTER)
def test_a_hostile_retry_after_is_a_failure_recorded_on_its_feed(
    server: FeedServer, harness: Harness, value: str
) -> None:
    """A Retry-After of digits Python reads but HTTP does not, or of a wait of centuries,
    fails the poll as any 503 does: recorded, with a wait of at most poll.max_backoff."""
    server.status("/busy.xml", 503, {"Retry-After": value})
    (outcome,) = harness.poll(harness.feed("Busy", server.url("/busy.xml")))
    assert outcome.status == "failed" and outcome.http_status == 503
    state = harness.store.feed_state("Busy")
    assert state.consecutive_failures == 1 and state.next_poll_at is not None
    assert (state.next_poll_at - harness.clock.now).total_seconds() <= SETTINGS.max_backoff


def test_garbage_body_is_a_failure_that_keeps_the_feed(
    server: FeedServer, harness: Harness
) -> None:
    server.feed("/page.xml", fixture_bytes("page.html"), content_type="text/html")
    (outcome,) = harness.poll(harness.feed("Page", server.url("/page.xml")))
    assert outcome.status == "failed" and "no feed found" in (outcome.error or "")
    state = harness.store.feed_state("Page")
    assert state.consecutive_failures == 1 and not state.disabled


def test_a_body_that_holds_no_feed_fails_every_poll_counted_and_is_fetched_whole_again(
    server: FeedServer, harness: Harness
) -> None:
    """Its failure kept the page's ETag and the poll's success and failure count: the next
    poll's If-None-Match drew a 304, and the feed looked healthy (failures 0, last success
    set) while serving a web page; without validators, failures stayed at 1, so neither
    backoff nor the feed notice (after 3) ever came."""
    server.feed("/page.xml", fixture_bytes("page.html"), content_type="text/html")
    feed = harness.feed("Page", server.url("/page.xml"))
    for _ in range(3):
        (outcome,) = harness.poll(feed, force=True)
        assert outcome.status == "failed" and "no feed found" in (outcome.error or "")
    state = harness.store.feed_state("Page")
    assert (state.consecutive_failures, state.last_success_at) == (3, None)
    assert (state.etag, state.last_modified, state.last_status) == (None, None, 200)
    assert all("If-None-Match" not in seen.headers for seen in server.seen("/page.xml"))


def test_a_url_changed_while_its_feed_is_polled_is_not_undone_by_that_poll(
    server: FeedServer, harness: Harness
) -> None:
    """A reload that gives a feed another URL while a poll of it is in flight: the poll's
    state, read under the old URL, wrote the old URL back over the reset, and the feed
    polled the old URL from then on."""
    server.feed("/old.xml", fixture_bytes("wire.rss.xml"), delay=0.5)
    feed = harness.feed("Wire", server.url("/old.xml"))
    moved = replace(feed, url=server.url("/new.xml"))

    async def go() -> PollOutcome:
        fetcher = Fetcher(SETTINGS)
        pipeline = Pipeline(store=harness.store, fetcher=fetcher, settings=SETTINGS,
                            clock=harness.clock)  # fmt: skip
        asyncio.get_running_loop().call_later(0.2, harness.store.sync_feeds, [moved])
        try:
            return await pipeline.refresh_feed(feed)
        finally:
            await fetcher.aclose()

    assert asyncio.run(go()).status == "new"  # its stories are kept
    state = harness.store.feed_state("Wire")
    assert (state.url, state.config_url) == (moved.url, moved.url)
    assert (state.etag, state.first_read_at, state.last_polled_at) == (None, None, None)


def test_malformed_feed_with_entries_is_stored_with_a_warning(
    server: FeedServer, harness: Harness
) -> None:
    server.feed("/broken.xml", fixture_bytes("broken.rss.xml"))
    (outcome,) = harness.poll(harness.feed("Broken", server.url("/broken.xml")))
    assert outcome.status == "new" and len(outcome.new_stories) == 2
    assert "malformed" in (harness.store.feed_state("Broken").warning or "")


def hang(handler: BaseHTTPRequestHandler) -> None:
    time.sleep(10)


def trickle(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/rss+xml")
    handler.send_header("Content-Length", "100000")
    handler.end_headers()
    for _ in range(20):
        handler.wfile.write(b"<")
        handler.wfile.flush()
        time.sleep(1)


@pytest.mark.parametrize(
    ("route", "words"), [(hang, "timed out"), (trickle, "total timeout")], ids=["silent", "trickle"]
)
def test_slow_servers_are_cut_off(server: FeedServer, harness: Harness, route, words: str) -> None:  # type: ignore[no-untyped-def]
    server.routes["/slow.xml"] = route
    started = time.monotonic()
    (outcome,) = harness.poll(harness.feed("Slow", server.url("/slow.xml")))
    elapsed = time.monotonic() - started
    assert outcome.status == "failed" and words in (outcome.error or "")
    assert elapsed < SETTINGS.total_timeout + 1.5


def test_oversized_body_is_cut_off_with_bounded_memory(
    server: FeedServer, harness: Harness
) -> None:
    def huge(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/rss+xml")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        chunk = b"x" * 65536
        for _ in range(800):  # 50 MiB if read whole
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        handler.wfile.write(b"0\r\n\r\n")

    server.routes["/huge.xml"] = huge
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    (outcome,) = harness.poll(harness.feed("Huge", server.url("/huge.xml")))
    assert outcome.status == "failed" and "larger than 1,048,576 bytes" in (outcome.error or "")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 30 * 1024


def test_declared_oversized_body_is_refused_before_reading(
    server: FeedServer, harness: Harness
) -> None:
    server.routes["/big.xml"] = lambda h: send(
        h, 200, b"x" * (2 * 1024 * 1024), "application/rss+xml"
    )
    (outcome,) = harness.poll(harness.feed("Big", server.url("/big.xml")))
    assert "larger than" in (outcome.error or "")


def test_gzip_bomb_is_cut_off(server: FeedServer, harness: Harness) -> None:
    bomb = gzip.compress(b"\0" * (200 * 1024 * 1024), compresslevel=9)
    server.routes["/bomb.xml"] = lambda h: send(
        h, 200, bomb, "application/rss+xml", {"Content-Encoding": "gzip"}
    )
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    (outcome,) = harness.poll(harness.feed("Bomb", server.url("/bomb.xml")))
    assert outcome.status == "failed" and "larger than" in (outcome.error or "")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 30 * 1024


def test_gzip_feed_is_decoded(server: FeedServer, harness: Harness) -> None:
    body = gzip.compress(fixture_bytes("wire.rss.xml"))
    server.routes["/gz.xml"] = lambda h: send(
        h, 200, body, "application/rss+xml", {"Content-Encoding": "gzip"}
    )
    (outcome,) = harness.poll(harness.feed("Gz", server.url("/gz.xml")))
    assert len(outcome.new_stories) == 2


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        pytest.param("deflate", zlib.compress, id="deflate-zlib"),
        pytest.param(
            "deflate", lambda b: zlib.compress(b, wbits=-zlib.MAX_WBITS), id="deflate-raw"
        ),
        pytest.param("gzip", lambda b: b, id="gzip-label-on-a-plain-body"),
    ],
)
def test_bodies_servers_label_loosely_are_read_as_feedparser_reads_them(
    server: FeedServer, harness: Harness, encoding: str, encode: Callable[[bytes], bytes]
) -> None:
    """Raw deflate (old IIS) and a plain feed labelled gzip failed every poll ("corrupt
    compressed body"); feedparser, so the naive loop and rss2email, reads both."""
    body = encode(fixture_bytes("wire.rss.xml"))
    server.routes["/x.xml"] = lambda h: send(
        h, 200, body, "application/rss+xml", {"Content-Encoding": encoding}
    )
    (outcome,) = harness.poll(harness.feed("X", server.url("/x.xml")))
    assert outcome.status == "new" and len(outcome.new_stories) == 2, outcome.error


RAW_ANSWERS = [
    (b"\x16\x03\x01\x02\x00" + b"\xb7" * 3000,  # TLS spoken to http://, then noise
     "broken HTTP response: Bad status line: Expected HTTP/, RTSP/ or ICE/"),
    (b"HTTP/1.1 abc Bad\r\n\r\n", "broken HTTP response: Bad status line: Invalid status code"),
    (b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 5\r\nContent-Length: 6"
     b"\r\n\r\nabcde", "broken HTTP response: Duplicate Content-Length"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n<rss>",
     "broken HTTP response: Not enough data to satisfy content length header (received 5 of 99"
     " bytes)."),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
     "broken HTTP response: Not enough data to satisfy transfer length header."),
    (b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n",
     "broken HTTP response: Got more than 8190 bytes when reading: b'" + "a" * 78 + "…"),
]  # fmt: skip


@pytest.mark.parametrize(("answer", "said"), RAW_ANSWERS)
def test_a_response_aiohttp_cannot_read_is_said_in_one_line(answer: bytes, said: str) -> None:
    """The error of a broken response is what aiohttp's parser found, on one line: it was
    the repr of its message, with `\\n` in it and the bytes it quoted (1,600 characters of a
    noise answer), or the repr of a response's head where the server closed mid-way."""

    async def fetch(url: str) -> FetchError:
        fetcher = Fetcher(PollSettings())
        try:
            with pytest.raises(FetchError) as caught:
                await fetcher.fetch(url)
            return caught.value
        finally:
            await fetcher.aclose()

    with answering_once(answer) as port:
        url = f"http://127.0.0.1:{port}/feed"
        error = asyncio.run(fetch(url))
    assert (str(error), error.url) == (said, url)


def test_a_server_that_closed_within_a_response_is_said_so() -> None:
    """aiohttp's error gives the response's head it read, as a repr, for its message."""
    from aiohttp import ServerDisconnectedError

    from watcher.transport import describe_error

    head = object()  # aiohttp's RawResponseMessage
    assert describe_error(ServerDisconnectedError(head)) == (
        "broken HTTP response: the server closed the connection within the response"
    )
    assert describe_error(ServerDisconnectedError()) == "broken HTTP response: Server disconnected"


def test_a_304_to_a_poll_that_sent_no_validator_is_a_failure(
    server: FeedServer, harness: Harness
) -> None:
    """A broken cache answering 304 to every request: the feed, never read, looked polled
    and healthy for ever."""
    server.routes["/x.xml"] = lambda h: send(h, 304, b"", None)
    (outcome,) = harness.poll(harness.feed("X", server.url("/x.xml")))
    assert (outcome.status, outcome.error) == ("failed", UNASKED_304)
    assert server.seen("/x.xml")[0].headers.get("If-None-Match") is None


def test_a_body_decodes_whatever_its_chunks() -> None:
    """The first two bytes choose the decoder; they may come one at a time."""
    from watcher.bodies import BodyDecoder
    from watcher.errors import FetchError

    plain = fixture_bytes("wire.rss.xml")
    for encoding, body in [
        ("gzip", gzip.compress(plain)), ("deflate", zlib.compress(plain)),
        ("deflate", zlib.compress(plain, wbits=-zlib.MAX_WBITS)), ("gzip", plain), ("", plain),
    ]:  # fmt: skip
        decoder = BodyDecoder(encoding, 10 * len(plain), "http://x.test/")
        for i in range(len(body)):
            decoder.feed(body[i : i + 1])
        assert decoder.finish() == plain, encoding
    # codings applied one over another (RFC 9110), each undone; identity is none
    for encoding, body in [
        ("gzip, gzip", gzip.compress(gzip.compress(plain))),
        ("deflate, GZIP", gzip.compress(zlib.compress(plain))),
        ("identity, gzip", gzip.compress(plain)),
        ("gzip, gzip", gzip.compress(plain)),  # said twice, done once: the rest is plain
    ]:
        decoder = BodyDecoder(encoding, 10 * len(plain), "http://x.test/")
        for i in range(0, len(body), 7):
            decoder.feed(body[i : i + 7])
        assert decoder.finish() == plain, encoding
    with pytest.raises(FetchError, match="unsupported Content-Encoding 'br'"):
        BodyDecoder("gzip, br", 100, "http://x.test/")
    bomb = gzip.compress(gzip.compress(b"\0" * 5_000_000))  # 5 MB in a few KB, twice over
    with pytest.raises(FetchError, match="response larger than 1,000,000 bytes"):
        decoder = BodyDecoder("gzip, gzip", 1_000_000, "http://x.test/")
        decoder.feed(bomb)
        decoder.finish()
    one_byte = BodyDecoder("gzip", 100, "http://x.test/")
    one_byte.feed(b"<")
    assert one_byte.finish() == b"<"
    broken = BodyDecoder("gzip", 10 * len(plain), "http://x.test/")
    with pytest.raises(FetchError, match="corrupt compressed body"):
        broken.feed(b"\x1f\x8b" + b"not gzip at all" * 10)


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_compressed_body_cut_short_fails_the_poll(encoding: str, harness: Harness) -> None:
    """A body whose end is the connection's close (no Content-Length, not chunked) says it
    was cut short only by its compressed stream's missing end: the part that came was
    parsed, a story made of the entry it cut in two, and the feed stored as read."""
    from watcher.bodies import CUT_SHORT

    plain = fixture_bytes("wire.rss.xml")
    whole = gzip.compress(plain) if encoding == "gzip" else zlib.compress(plain)
    cut = len(whole) * 2 // 3
    answer = (b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Encoding: "
              + encoding.encode() + b"\r\nConnection: close\r\n\r\n" + whole[:cut])  # fmt: skip
    with answering_once(answer) as port:
        (outcome,) = harness.poll(harness.feed("Wire", f"http://127.0.0.1:{port}/wire.xml"))
    assert (outcome.status, outcome.error) == ("failed", CUT_SHORT)
    assert harness.store.count_stories() == 0


def test_a_feed_signed_by_a_private_ca_is_read_with_poll_ca_file(
    tmp_path: Path, clock: FakeClock
) -> None:
    """An intranet feed whose certificate a company CA signed failed every poll; poll.ca_file
    trusts that CA as well, and only then is the feed read."""
    import ssl

    import trustme

    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server = FeedServer(tls=context).start()
    try:
        server.feed("/wire.xml", fixture_bytes("wire.rss.xml"))
        assert server.url("/wire.xml").startswith("https://127.0.0.1:")
        untrusted = Harness(tmp_path / "a.db", clock, SETTINGS)
        (refused,) = untrusted.poll(untrusted.feed("Wire", server.url("/wire.xml")))
        assert refused.status == "failed", refused
        assert (refused.error or "").startswith("TLS certificate refused: "), refused.error
        trusting = Harness(tmp_path / "b.db", clock, replace(SETTINGS, ca_file=ca_file))
        (read,) = trusting.poll(trusting.feed("Wire", server.url("/wire.xml")))
        assert read.status == "new" and len(read.new_stories) == 2, read.error
    finally:
        server.stop()


def _tls_context(leaf: Any, *, chain: bool = True) -> Any:
    """A server context presenting `leaf` (a trustme certificate), with its chain or alone."""
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    if chain:
        leaf.configure_cert(context)
        return context
    with tempfile.TemporaryDirectory() as folder:
        cert, key = Path(folder) / "cert.pem", Path(folder) / "key.pem"
        cert.write_bytes(leaf.cert_chain_pems[0].bytes())
        key.write_bytes(leaf.private_key_pem.bytes())
        context.load_cert_chain(cert, key)
    return context


def _refusals() -> list[Any]:
    import trustme

    root, past = trustme.CA(), datetime(2020, 1, 1, tzinfo=UTC)
    intermediate = root.create_child_ca()
    return [
        pytest.param(root, _tls_context(intermediate.issue_cert("127.0.0.1"), chain=False),
                     "unable to get local issuer certificate: the server does not send the "
                     "chain to a CA trusted here: add the intermediate certificate it leaves "
                     "out, or its private CA, to poll.ca_file", id="intermediate-left-out"),
        pytest.param(root, _tls_context(root.issue_cert("127.0.0.1", not_before=past,
                                                        not_after=past.replace(month=2))),
                     "certificate has expired: only the site can renew it", id="expired"),
        pytest.param(root, _tls_context(root.issue_cert("other.test")),
                     "IP address mismatch, certificate is not valid for '127.0.0.1'",
                     id="another-host"),
        pytest.param(None, _tls_context(root.issue_cert("127.0.0.1")),
                     "unable to get local issuer certificate: the server does not send",
                     id="a-private-ca"),
    ]  # fmt: skip


@pytest.mark.parametrize(("trusted", "context", "error"), _refusals())
def test_a_refused_certificate_is_said_in_a_line_with_what_to_do(
    trusted: Any, context: Any, error: str, tmp_path: Path, clock: FakeClock
) -> None:
    """aiohttp's message named the host, the port and an exception's repr; what OpenSSL
    found is what the operator needs, and where poll.ca_file helps, that it does."""
    ca_file = None
    if trusted is not None:
        ca_file = tmp_path / "ca.pem"
        trusted.cert_pem.write_to_path(str(ca_file))
    server = FeedServer(tls=context).start()
    try:
        server.feed("/wire.xml", fixture_bytes("wire.rss.xml"))
        harness = Harness(tmp_path / "w.db", clock, replace(SETTINGS, ca_file=ca_file))
        (refused,) = harness.poll(harness.feed("Wire", server.url("/wire.xml")))
    finally:
        server.stop()
    assert refused.status == "failed"
    assert (refused.error or "").startswith(f"TLS certificate refused: {error}"), refused.error


def test_unreachable_host_is_recorded(harness: Harness) -> None:
    (outcome,) = harness.poll(harness.feed("Nowhere", "http://127.0.0.1:9/feed.xml"))
    assert outcome.status == "failed" and "cannot connect" in (outcome.error or "")


def test_one_bad_feed_does_not_stop_the_others(server: FeedServer, harness: Harness) -> None:
    server.status("/bad.xml", 500)
    server.feed("/good.xml", fixture_bytes("journal.atom.xml"))
    bad, good = (
        harness.feed("Bad", server.url("/bad.xml")),
        harness.feed("Good", server.url("/good.xml")),
    )
    outcomes = {o.feed: o for o in harness.poll(bad, good)}
    assert outcomes["Bad"].status == "failed" and outcomes["Good"].status == "new"


def test_per_host_limit_bounds_concurrency(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    settings = PollSettings(per_host=2, concurrency=10, total_timeout=10)
    harness = Harness(tmp_path / "w.db", clock, settings)
    feeds = []
    for i in range(6):
        server.feed(f"/f{i}.xml", fixture_bytes("wire.rss.xml"), delay=0.3)
        feeds.append(harness.feed(f"F{i}", server.url(f"/f{i}.xml")))
    harness.poll(*feeds)
    assert server.peak == 2


def test_per_host_limit_counts_a_host_written_out_and_in_punycode_as_one(
    server: FeedServer, tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An outlet's domain, written out by one feed's URL and in punycode by another's, is
    one server to spare and to wait for (the proxy answers for both)."""
    monkeypatch.setenv("HTTP_PROXY", server.base)
    harness = Harness(tmp_path / "w.db", clock, PollSettings(per_host=1, total_timeout=10))
    host = "пример.рф"
    urls = [f"http://{host}/a.xml", f"http://{host.encode('idna').decode()}/b.xml"]
    for url in urls:  # asked for with the host in punycode, as it goes on the wire
        server.feed(
            url.replace(host, "xn--e1afmkfd.xn--p1ai"), fixture_bytes("wire.rss.xml"), delay=0.3
        )
    outcomes = harness.poll(*(harness.feed(f"F{i}", url) for i, url in enumerate(urls)))
    assert [o.status for o in outcomes] == ["new", "new"]
    assert server.peak == 1
    for url in urls:  # and one server to wait for, when it asks
        server.status(url.replace(host, "xn--e1afmkfd.xn--p1ai"), 429, {"Retry-After": "60"})
    before = len(server.requests)
    outcomes = harness.poll(*(harness.feed(f"F{i}", url) for i, url in enumerate(urls)))
    assert sorted(o.status for o in outcomes) == ["failed", "held"]
    assert len(server.requests) == before + 1


def basic(user: str, password: str) -> str:
    """The Authorization header value of Basic credentials, built here the standard way."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_credentials_in_the_url_go_as_basic_auth(server: FeedServer, harness: Harness) -> None:
    server.feed("/private.xml", fixture_bytes("wire.rss.xml"))
    url = server.url("/private.xml").replace("http://", "http://reader:p%40ss@")
    (outcome,) = harness.poll(harness.feed("Private", url))
    sent = server.seen("/private.xml")[0].headers
    assert outcome.status == "new"
    assert sent["Authorization"] == basic("reader", "p@ss")


OWN = (("Authorization", "Bearer t0ken"), ("X-Api-Key", "k-1"), ("User-Agent", "Reader/1.0"))


def test_a_feeds_own_headers_go_to_its_origin_only(server: FeedServer, harness: Harness) -> None:
    """Sent with the poll and a redirect on the feed's origin; a redirect to another origin
    (here another port) goes without them."""
    other = FeedServer().start()
    try:
        server.redirect("/private.xml", "/here.xml", 302)
        server.redirect("/here.xml", other.url("/there.xml"), 302)
        other.feed("/there.xml", fixture_bytes("wire.rss.xml"))
        feed = FeedConfig(name="Private", url=server.url("/private.xml"), interval=600,
                          headers=OWN)  # fmt: skip
        harness.store.sync_feeds([feed])
        (outcome,) = harness.poll(feed)
        (there,) = other.seen("/there.xml")
    finally:
        other.stop()
    assert outcome.status == "new"
    for path in ("/private.xml", "/here.xml"):
        (seen,) = server.seen(path)
        assert [seen.headers.get(name) for name, _ in OWN] == [value for _, value in OWN]
    assert "Authorization" not in there.headers and "X-Api-Key" not in there.headers
    assert there.headers["User-Agent"].startswith("watcher/")


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("https://a.test/feed", "https://a.test:443/other", True),  # the default port
        ("http://A.test/feed", "http://a.test/", True),
        ("http://a.test/feed", "https://a.test/feed", False),
        ("http://a.test/feed", "http://b.a.test/feed", False),
        ("http://a.test:8080/", "http://a.test/", False),
        ("http://a.test:abc/", "http://a.test/", False),  # a malformed redirect's port
        # a host written out and the punycode of it a redirect's Location gives
        ("https://ПРИМЕР.рф/rss", "https://xn--e1afmkfd.xn--p1ai:443/feed", True),
        ("https://пример.рф/rss", "https://xn--e1afmkfd.xn--p1ai.evil.test/", False),
    ],
)
def test_same_origin(a: str, b: str, same: bool) -> None:
    assert same_origin(a, b) is same


def test_a_feed_moved_to_another_origin_is_polled_without_its_headers(
    server: FeedServer, harness: Harness
) -> None:
    """The headers are for the configured URL's origin, not for one a permanent redirect
    has since moved the stored URL to."""
    other = FeedServer().start()
    try:
        server.redirect("/private.xml", other.url("/moved.xml"), 301)
        other.feed("/moved.xml", fixture_bytes("wire.rss.xml"), validators=False)
        feed = FeedConfig(name="Private", url=server.url("/private.xml"), interval=600,
                          headers=OWN)  # fmt: skip
        harness.store.sync_feeds([feed])
        harness.poll(feed)
        assert harness.store.feed_state("Private").url == other.url("/moved.xml")
        harness.poll(feed, force=True)
        polls = other.seen("/moved.xml")
    finally:
        other.stop()
    assert len(polls) == 2 and not any("Authorization" in p.headers for p in polls)


# nothing listens on this loopback address: only a proxy can answer for it
ELSEWHERE = "http://127.0.0.2:9"


def test_polls_go_through_the_proxy_the_environment_names(
    server: FeedServer, harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.feed(f"{ELSEWHERE}/wire.xml", fixture_bytes("wire.rss.xml"))  # the proxy answers
    monkeypatch.setenv("HTTP_PROXY", server.base.replace("http://", "http://ops:s%3Dcret@"))
    (outcome,) = harness.poll(harness.feed("Wire", f"{ELSEWHERE}/wire.xml"))
    assert outcome.status == "new" and len(outcome.new_stories) > 0
    (seen,) = server.seen(f"{ELSEWHERE}/wire.xml")  # asked for in absolute form
    assert seen.headers["Proxy-Authorization"] == basic("ops", "s=cret")
    assert seen.headers["User-Agent"].startswith("watcher/")


def test_https_polls_ask_the_proxy_for_a_tunnel(
    server: FeedServer, harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", server.base.replace("http://", "http://ops:pw@"))
    (outcome,) = harness.poll(harness.feed("Secure", "https://127.0.0.2:9/wire.xml"))
    (seen,) = server.seen("CONNECT 127.0.0.2:9")
    assert seen.headers["Proxy-Authorization"] == basic("ops", "pw")
    assert (outcome.status, outcome.error) == ("failed", "the proxy refused: 403 Forbidden")


def test_hosts_no_proxy_lists_are_reached_directly(
    server: FeedServer, harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.feed("/wire.xml", fixture_bytes("wire.rss.xml"))
    proxy = FeedServer().start()
    try:
        monkeypatch.setenv("http_proxy", proxy.base)
        monkeypatch.setenv("no_proxy", "localhost, 127.0.0.0/8")
        (outcome,) = harness.poll(harness.feed("Wire", server.url("/wire.xml")))
    finally:
        proxy.stop()
    assert outcome.status == "new" and proxy.requests == [] and len(server.requests) == 1


def test_alert_webhooks_go_through_the_proxy_too(
    server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.routes[f"{ELSEWHERE}/hook"] = lambda h: send(h, 200, b"ok", "text/plain")
    monkeypatch.setenv("HTTP_PROXY", server.base)

    async def post() -> int:
        fetcher = Fetcher(SETTINGS)
        try:
            return (await fetcher.client.post(f"{ELSEWHERE}/hook", json={"text": "hi"})).status_code
        finally:
            await fetcher.aclose()

    assert asyncio.run(post()) == 200
    assert server.posts == [(f"{ELSEWHERE}/hook", b'{"text":"hi"}')]


@pytest.mark.parametrize(
    ("no_proxy", "host", "port", "bypassed"),
    [
        ("*", "feeds.example.com", 443, True),
        ("example.com", "feeds.example.com", 443, True),
        (".example.com", "example.com", 80, True),
        ("example.com", "badexample.com", 80, False),
        ("feeds.example.com:8080", "feeds.example.com", 8080, True),
        ("feeds.example.com:8080", "feeds.example.com", 443, False),
        ("10.0.0.0/8, intranet", "10.2.3.4", 80, True),
        ("10.0.0.0/8", "11.2.3.4", 80, False),
        ("::1", "::1", 80, True),
        ("", "example.com", 80, False),
    ],
)
def test_no_proxy_is_read_as_curl_reads_it(
    no_proxy: str, host: str, port: int, bypassed: bool
) -> None:
    assert bypasses(no_proxy, host, port) is bypassed


def test_a_proxy_watcher_cannot_use_is_a_config_error_that_hides_its_password() -> None:
    with pytest.raises(ConfigError) as caught:
        Fetcher(SETTINGS, proxies={"https": "socks5://ops:hunter2@10.0.0.1:1080", "http": "p:3128"})
    message = str(caught.value)
    assert "HTTPS_PROXY" in message and "socks5://ops:***@10.0.0.1:1080" in message
    assert "hunter2" not in message and "HTTP_PROXY" not in message  # host:port is http://
    with pytest.raises(ConfigError) as caught:  # each poll raised UnicodeError, or went nowhere
        Fetcher(SETTINGS, proxies={"http": "http://ops:hunter2@proxy..corp:3128", "https": "p:0"})
    assert [str(p) for p in caught.value.problems] == [
        "environment: HTTP_PROXY: http://ops:***@proxy..corp:3128: malformed URL: in its host "
        "name, a part between dots is empty or longer than 63 characters",
        "environment: HTTPS_PROXY: http://p:0: malformed URL: port 0 is no port a server "
        "listens on",
    ]


def test_user_agent_names_the_service(server: FeedServer, harness: Harness) -> None:
    server.feed("/wire.xml", fixture_bytes("wire.rss.xml"))
    harness.poll(harness.feed("Wire", server.url("/wire.xml")))
    agent = server.requests[0].headers["User-Agent"]
    assert agent.startswith("watcher/") and "+http" in agent


def test_file_url_feed(tmp_path: Path, harness: Harness) -> None:
    path = tmp_path / "local.xml"
    path.write_bytes(fixture_bytes("asia.rdf.xml"))
    feed = harness.feed("Local", path.as_uri())
    (outcome,) = harness.poll(feed)
    assert outcome.status == "new"
    (again,) = harness.poll(feed)
    assert again.status == "unchanged"


def test_a_file_feed_that_is_no_regular_file_fails_without_blocking_the_others(
    tmp_path: Path, harness: Harness
) -> None:
    """Opening a named pipe blocks until a writer comes: it stopped the event loop, every
    feed's polls with it (the pipe's writer here comes after 5 s, to end the old wait)."""
    pipe = tmp_path / "feed.xml"
    os.mkfifo(pipe)

    def late_writer() -> None:
        time.sleep(5)
        with pipe.open("wb"):
            pass

    threading.Thread(target=late_writer, daemon=True).start()
    path = tmp_path / "local.xml"
    path.write_bytes(fixture_bytes("asia.rdf.xml"))
    pipe_feed, good = harness.feed("Pipe", pipe.as_uri()), harness.feed("Local", path.as_uri())
    (failed, polled) = harness.poll(pipe_feed, good)
    assert failed.status == "failed" and failed.error == f"{pipe} is not a regular file"
    assert polled.status == "new"
    folder = harness.feed("Folder", tmp_path.as_uri())
    open_before = len(os.listdir("/proc/self/fd"))
    for _ in range(20):  # each poll of a folder kept the descriptor it opened
        (outcome,) = harness.poll(folder, force=True)
        assert outcome.status == "failed" and "is not a regular file" in (outcome.error or "")
    assert len(os.listdir("/proc/self/fd")) <= open_before


def test_restart_keeps_all_state(server: FeedServer, tmp_path: Path, clock: FakeClock) -> None:
    server.feed("/wire.xml", fixture_bytes("wire.rss.xml"))
    first = Harness(tmp_path / "w.db", clock)
    feed = first.feed("Wire", server.url("/wire.xml"))
    first.poll(feed)
    etag = first.store.feed_state("Wire").etag
    first.store.close()
    second = Harness(tmp_path / "w.db", clock)
    second.feed("Wire", server.url("/wire.xml"))
    assert second.store.feed_state("Wire").etag == etag
    (outcome,) = second.poll(feed)
    assert outcome.status == "not_modified" and second.store.count_stories() == 2


def test_the_parse_pool_changes_nothing_that_is_stored(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    """Stories parsed, fingerprinted and matched in the pool are stored, clustered and
    matched as those the event loop handles itself: over three feeds of reprints, a
    duplicate guid and a later poll that finds one new story among the known ones."""
    stories = read_stories(ROOT / "tests" / "fixtures" / "stories.jsonl")
    items = [
        f"<item><title>{escape(s.title)}</title><link>{escape(s.link)}</link>"
        f"<guid>{s.id}</guid><pubDate>{format_datetime(s.published)}</pubDate>"
        f"<description>{escape(s.summary)}</description></item>"
        for s in stories
    ]
    bodies = {n: rss(items[n::3]) for n in range(3)}
    bodies[0] = rss([*items[0::3], items[0].replace("</title>", " (corrected)</title>")])
    for n in range(3):
        server.feed(f"/{n}.xml", lambda n=n: bodies[n])
    rules = LiveRules(ROOT / "rules")
    in_loop, pooled = Harness(tmp_path / "loop.db", clock), Harness(tmp_path / "pool.db", clock)
    with parse_pool(1) as pool:
        for run, executor in ((in_loop, None), (pooled, pool)):
            feeds = [run.feed(f"feed{n}", server.url(f"/{n}.xml")) for n in range(3)]
            for feed in feeds:  # one at a time: cluster numbers follow the order of polls
                run.poll(feed, executor=executor, rules=rules)
            bodies[1] = rss([items[4].replace("</title>", " again</title>").replace(
                f"<guid>{stories[4].id}</guid>", "<guid>later</guid>"), *items[1::3]])  # fmt: skip
            (later,) = run.poll(feeds[1], executor=executor, rules=rules)
            assert len(later.new_stories) == 1
            bodies[1] = rss(items[1::3])
    assert _stored(pooled.store) == _stored(in_loop.store)
    stored, matched = _stored(in_loop.store)
    assert len(stored) == len(stories) + 1 and matched  # the duplicate guid stored once,
    assert sum(row[5].endswith(" (corrected)") for row in stored) == 1  # as its last version
    assert len({row[1] for row in stored}) < len(stored)  # some stories share a cluster


def _stored(store: Store) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    stories = store.db.execute(
        "SELECT id, cluster_id, cluster_level, cluster_match, cluster_reason, title "
        "FROM stories ORDER BY id"
    ).fetchall()
    matches = store.db.execute(
        "SELECT cluster_id, rule, story_id, terms FROM matches ORDER BY cluster_id, rule"
    ).fetchall()
    return stories, matches


def test_parse_workers_run_below_the_event_loop_and_collect_garbage_as_it_does() -> None:
    with parse_pool(1) as pool:
        niceness, thresholds = pool.submit(_worker_settings).result(timeout=60)
    assert niceness == os.nice(0) + WORKER_NICE
    assert thresholds == GC_THRESHOLDS


def _worker_settings() -> tuple[int, tuple[int, int, int]]:
    return os.nice(0), gc.get_threshold()


def test_run_and_once_stop_their_pool_without_waiting_for_a_parse_that_goes_on() -> None:
    """A parse past PARSE_SECONDS may never end: `run` and `once` stop their pool without
    waiting for it (they waited as long as the parse took; here an hour)."""
    started = time.monotonic()
    with running_pool(1) as pool:
        parsing = pool.submit(time.sleep, 3600)
        while not parsing.running():
            time.sleep(0.05)
        (worker,) = pool._processes.values()
    # the executor's own thread joins its workers too: where it reaps this one, our join
    # returns at once, and the worker reads as alive until that thread records its end
    while worker.is_alive() and time.monotonic() - started < 30:
        time.sleep(0.05)
    assert not worker.is_alive()
    assert time.monotonic() - started < 60
