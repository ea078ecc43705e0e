"""A feed's `full_text: true`: each new story's page read for its main text, which the
rules match; served by a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import FakeClock
from tests.feedserver import FeedServer, rss, send
from tests.test_polling import SETTINGS, Harness
from watcher import full_text
from watcher.config import PollSettings, load_config
from watcher.errors import ConfigError
from watcher.fetch import Fetcher
from watcher.full_text import PagesRead, page_text, with_full_text
from watcher.metrics import Metrics
from watcher.models import FeedConfig, PollOutcome, Story
from watcher.pipeline import Pipeline
from watcher.rules.live import LiveRules

ARTICLE = """<html><head><title>Trade desk</title></head><body>
<nav><a href="/">Home</a> <a href="/markets">Markets</a> <a href="/gallium">Gallium prices</a></nav>
<div class="consent">We use cookies. Accept all cookies to read on.</div>
<article><h1>Trading house signs a supply deal</h1>
<p>TOKYO, Dec 4 -- A Japanese trading house said on Friday it had agreed to buy {metal} from
a new plant in Pavlodar, Kazakhstan, securing a metal used in chips and radar.</p>
<p>The first cargo is due next year, a spokesman said, declining to give the volume.</p>
</article>
<aside><h3>Related</h3><ul><li><a href="/x">Antimony prices hit a record</a></li></ul></aside>
<footer>Copyright 2026 Trade Desk. All rights reserved.</footer></body></html>"""
FETCHED = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
RULES = "lists:\n  minerals: [gallium, antimony]\nrules:\n  - name: g\n    when: '@minerals'\n"


def item(slug: str, title: str, hours_ago: float, clock: FakeClock) -> str:
    when = (clock.now - timedelta(hours=hours_ago)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    return (f"<item><title>{title}</title><link>{{base}}/news/{slug}</link><guid>{slug}</guid>"
            f"<description>A trading house signs a deal.</description><pubDate>{when}</pubDate>"
            "</item>")  # fmt: skip


@pytest.fixture
def rules(tmp_path: Path) -> LiveRules:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "r.yaml").write_text(RULES)
    return LiveRules(folder)


def serve(server: FeedServer, items: list[str], pages: dict[str, tuple[int, str, bytes]]) -> None:
    body = rss([i.replace("{base}", server.base) for i in items])
    server.feed("/feed.xml", body)
    for slug, (status, kind, page) in pages.items():
        server.routes[f"/news/{slug}"] = (
            lambda h, s=status, k=kind, p=page: send(h, s, p, k)  # type: ignore[misc]
        )


def poll(
    harness: Harness, feed: FeedConfig, rules: LiveRules, settings: PollSettings = SETTINGS
) -> PollOutcome:
    async def go() -> PollOutcome:
        fetcher = Fetcher(settings)
        pipeline = Pipeline(store=harness.store, fetcher=fetcher, settings=settings,
                            clock=harness.clock, rules=rules)  # fmt: skip
        try:
            return await pipeline.refresh_feed(feed, force=True)
        finally:
            await fetcher.aclose()

    return asyncio.run(go())


def page(metal: str) -> tuple[int, str, bytes]:
    return 200, "text/html; charset=utf-8", ARTICLE.format(metal=metal).encode()


def test_a_page_is_read_to_its_main_text_without_menus_or_related_lists() -> None:
    text = page_text(ARTICLE.format(metal="germanium").encode(), "https://desk.test/news/a")
    assert text.startswith("Trading house signs a supply deal TOKYO, Dec 4 -- A Japanese")
    assert "germanium" in text and "declining to give the volume." in text
    for chrome in ("Gallium prices", "cookies", "Antimony prices", "Copyright"):
        assert chrome not in text
    assert page_text(b"\x00\x01 not a page", "https://desk.test/x") == ""


def test_a_story_whose_metal_only_its_page_names_is_matched_on_its_full_text(
    server: FeedServer, harness: Harness, rules: LiveRules, caplog: pytest.LogCaptureFixture
) -> None:
    """The feed's entries carry a line; the page names the metal. Its backlog (quiet, on the
    first poll) is not read: no one is alerted for it."""
    clock = harness.clock
    serve(server, [item("old", "Old deal", 48, clock)], {"old": page("gallium")})
    feed = replace(harness.feed("Desk", server.url("/feed.xml")), full_text=True)
    first = poll(harness, feed, rules)
    assert first.status == "new" and server.seen("/news/old") == []  # backlog: quiet
    serve(server, [item("new", "Trading house signs a supply deal", 1, clock),
                   item("old", "Old deal", 48, clock)], {"new": page("gallium")})  # fmt: skip
    clock.now += timedelta(minutes=10)
    with caplog.at_level(logging.INFO, logger="watcher.pipeline"):
        second = poll(harness, feed, rules)
    (story,) = second.new_stories
    assert "buy gallium from a new plant in Pavlodar" in story.body
    assert [(m.rule, m.story, m.quiet) for m in second.matches] == [("g", story.id, False)]
    assert harness.store.story(story.id).body == story.body  # stored with it
    assert second.pages == (1, 0) and first.pages == (0, 0)
    assert "full text not read" not in caplog.text


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        pytest.param((404, "text/html", b"gone"), "HTTP 404", id="404"),
        pytest.param((200, "application/pdf", b"%PDF-1.7"), "not a web page", id="pdf"),
        pytest.param(
            (200, "x" * 3000 + "/html", b"<html>"), f"not a web page ({'x' * 100}…)", id="huge-type"
        ),
        pytest.param((200, "text/html", b"<html><body></body></html>"), "no main text", id="empty"),
    ],
)
def test_a_page_that_cannot_be_read_leaves_the_story_as_its_feed_gave_it(
    server: FeedServer, harness: Harness, rules: LiveRules, caplog: pytest.LogCaptureFixture,
    answer: tuple[int, str, bytes], why: str,
) -> None:  # fmt: skip
    clock = harness.clock
    feed = replace(harness.feed("Desk", server.url("/feed.xml")), full_text=True)
    serve(server, [], {})
    poll(harness, feed, rules)
    serve(server, [item("new", "Trading house signs a deal", 1, clock)], {"new": answer})
    clock.now += timedelta(minutes=10)
    with caplog.at_level(logging.INFO, logger="watcher.pipeline"):
        outcome = poll(harness, feed, rules)
    assert outcome.status == "new" and outcome.new_stories[0].body == ""
    assert outcome.pages == (0, 1)
    metrics = Metrics(harness.store, clock=harness.clock)
    metrics.record_poll(outcome, 0)
    assert b'watcher_full_text_pages_total{outcome="not_read"} 1.0' in metrics.exposition()
    assert outcome.matches == ()  # the feed's line names no metal
    (logged,) = [r for r in caplog.records if r.getMessage() == "full text not read"]
    fields = logged.event_fields  # type: ignore[attr-defined]
    assert fields["feed"] == "Desk" and fields["url"] == server.url("/news/new")
    assert why in fields["error"]
    warning = harness.store.feed_state("Desk").warning or ""
    assert warning.startswith(f"full text: 1 page not read (the last: {why}")


def test_a_story_link_no_fetch_can_take_is_not_read_and_the_poll_goes_on(
    server: FeedServer, harness: Harness, rules: LiveRules
) -> None:
    """A link whose host is never closed (`https://[::1/...`) raised ValueError out of the
    full-text step: every poll of the feed failed, its stories never stored or alerted."""
    clock = harness.clock
    feed = replace(harness.feed("Desk", server.url("/feed.xml")), full_text=True)
    serve(server, [], {})
    poll(harness, feed, rules)
    broken = [
        item(slug, f"Trading house deal {n}", 1, clock).replace("{base}/news/" + slug, link)
        for n, (slug, link) in enumerate([("v6", "https://[::1/news/a"),
                                          ("port", "http://127.0.0.1:99999/news/b")])
    ]  # fmt: skip
    good = item("new", "Trading house signs a deal", 1, clock)
    serve(server, [*broken, good], {"new": page("gallium")})
    clock.now += timedelta(minutes=10)
    outcome = poll(harness, feed, rules)
    assert outcome.status == "new" and len(outcome.new_stories) == 3
    assert outcome.pages == (1, 2)
    bodies = {s.link: s.body for s in outcome.new_stories}
    assert "gallium" in bodies[server.url("/news/new")]
    assert bodies["https://[::1/news/a"] == bodies["http://127.0.0.1:99999/news/b"] == ""
    assert len(outcome.matches) == 1
    warning = harness.store.feed_state("Desk").warning or ""
    assert warning.startswith("full text: 2 pages not read (the last: not a valid URL: ")


def test_the_feeds_headers_go_to_pages_on_its_origin_only(
    server: FeedServer, harness: Harness, rules: LiveRules
) -> None:
    other = FeedServer().start()
    try:
        clock = harness.clock
        elsewhere = item("far", "Far story", 1, clock).replace("{base}", other.base)
        other.routes["/news/far"] = lambda h: send(h, *page("antimony"))
        serve(server, [], {})
        feed = replace(harness.feed("Desk", server.url("/feed.xml")), full_text=True,
                       headers=(("X-Api-Key", "k-1"),))  # fmt: skip
        poll(harness, feed, rules)
        serve(server, [item("near", "Near story", 1, clock), elsewhere], {"near": page("tin")})
        clock.now += timedelta(minutes=10)
        outcome = poll(harness, feed, rules)
        assert len(outcome.new_stories) == 2
        assert server.seen("/news/near")[0].headers["X-Api-Key"] == "k-1"
        assert "X-Api-Key" not in other.seen("/news/far")[0].headers
    finally:
        other.stop()


def test_a_feed_without_full_text_reads_no_page(
    server: FeedServer, harness: Harness, rules: LiveRules
) -> None:
    clock = harness.clock
    feed = harness.feed("Desk", server.url("/feed.xml"))
    serve(server, [], {})
    poll(harness, feed, rules)
    serve(server, [item("new", "Trading house signs a deal", 1, clock)], {"new": page("gallium")})
    clock.now += timedelta(minutes=10)
    outcome = poll(harness, feed, rules)
    assert outcome.new_stories[0].body == "" and server.seen("/news/new") == []


def test_full_text_is_a_feeds_true_or_false(tmp_path: Path) -> None:
    config = tmp_path / "watcher.yaml"
    config.write_text(
        "feeds:\n  - {name: A, url: 'https://a.test/rss', full_text: true}\n"
        "  - {name: B, url: 'https://b.test/rss'}\n"
    )
    assert [f.full_text for f in load_config(config, env={}).feeds] == [True, False]
    config.write_text("feeds:\n  - {name: A, url: 'https://a.test/rss', full_text: sometimes}\n")
    with pytest.raises(ConfigError, match=re.escape("feeds[0].full_text: must be true or false")):
        load_config(config, env={})


def test_rules_test_live_reads_a_full_text_feeds_pages_as_the_service_does(
    server: FeedServer, harness: Harness, tmp_path: Path
) -> None:
    from tests.test_cli import watcher

    serve(server, [item("new", "Trading house signs a deal", 1, harness.clock)],
          {"new": page("gallium")})  # fmt: skip
    (tmp_path / "rules").mkdir(exist_ok=True)
    (tmp_path / "rules" / "r.yaml").write_text(RULES)
    config = tmp_path / "watcher.yaml"
    line = f"  - {{name: Desk, url: '{server.url('/feed.xml')}', full_text: FLAG}}\n"
    for flag, rules in (("true", [["g"]]), ("false", [[]])):
        config.write_text("state: w.db\nrules: rules\nfeeds:\n" + line.replace("FLAG", flag))
        tested = watcher("--config", str(config), "rules", "test", "--live", "--format", "jsonl")
        assert tested.returncode == 0, tested.stderr
        assert [json.loads(out)["rules"] for out in tested.stdout.splitlines()] == rules


def test_ingest_full_text_prints_the_stories_with_their_pages_text(
    server: FeedServer, harness: Harness
) -> None:
    from tests.test_cli import watcher

    clock = harness.clock
    items = [item("one", "Deal one", 1, clock), item("two", "Deal two", 2, clock)]
    serve(server, items, {"one": page("gallium"), "two": (404, "text/html", b"gone")})
    plain = watcher("ingest", server.url("/feed.xml"))
    assert [json.loads(line)["body"] for line in plain.stdout.splitlines()] == ["", ""]
    read = watcher("ingest", server.url("/feed.xml"), "--full-text")
    assert read.returncode == 0, read.stderr
    one, two = (json.loads(line) for line in read.stdout.splitlines())
    assert "buy gallium from a new plant in Pavlodar" in one["body"] and two["body"] == ""
    assert f"watcher: full text not read: {server.url('/news/two')}: HTTP 404" in read.stderr


def test_a_huge_page_is_read_only_as_far_as_its_first_megabyte(
    server: FeedServer, harness: Harness, rules: LiveRules
) -> None:
    """Reading grows faster than the page: a hostile 4.7 MB of paragraphs took 21 s in a
    parse worker. An article that begins past the first 1 MB is not read."""
    clock = harness.clock
    feed = replace(harness.feed("Desk", server.url("/feed.xml")), full_text=True)
    serve(server, [], {})
    poll(harness, feed, rules)
    script = b"<script>var padding = '" + b"x" * 1_100_000 + b"';</script>"
    article = ARTICLE.format(metal="antimony").encode().replace(b"<body>", b"<body>" + script)
    near = ARTICLE.format(metal="gallium").encode()
    serve(server, [item("far", "A deal", 1, clock), item("near", "Another deal", 1, clock)],
          {"far": (200, "text/html", article), "near": (200, "text/html", near)})  # fmt: skip
    clock.now += timedelta(minutes=10)
    outcome = poll(harness, feed, rules, replace(SETTINGS, max_bytes=4 * 1024 * 1024))
    far, near_story = outcome.new_stories
    assert far.body == "" and "gallium" in near_story.body
    assert [m.story for m in outcome.matches] == [near_story.id]


def test_a_page_whose_reading_takes_too_long_is_not_read_and_the_others_are(
    server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The poll waits for every page: a page that held the reader for good (a worker stuck
    in it) held the feed's poll, and so its every later poll, with it."""
    slow_html, released = b"<html><body><p>slow</p></body></html>", threading.Event()

    def reader(html: bytes, url: str) -> str:
        if html == slow_html:
            released.wait(60)
        return page_text(html, url)

    page_text(page("gallium")[2], "https://x.test/")  # the reader loaded, as in a running pool
    monkeypatch.setattr(full_text, "page_text", reader)
    monkeypatch.setattr(full_text, "PAGE_SECONDS", 2.0)
    server.routes["/news/slow"] = lambda h: send(h, 200, slow_html, "text/html")
    server.routes["/news/good"] = lambda h: send(h, 200, page("gallium")[2], "text/html")
    stories = [
        Story(id=slug, feed="Desk", guid=None, source="Desk", title=f"Deal {slug}", summary="",
              link=server.url(f"/news/{slug}"), published=FETCHED, fetched_at=FETCHED)
        for slug in ("slow", "good")
    ]  # fmt: skip
    feed = FeedConfig(name="Desk", url=server.url("/feed.xml"), interval=600, full_text=True)

    async def go(pool: ThreadPoolExecutor) -> PagesRead:
        fetcher = Fetcher(SETTINGS)
        try:
            return await with_full_text(stories, feed, fetcher, pool)
        finally:
            await fetcher.aclose()

    pool = ThreadPoolExecutor(2)
    try:
        pages = asyncio.run(go(pool))
    finally:
        released.set()
        pool.shutdown()
    assert pages.not_read == [(stories[0], "reading its text took longer than 2 s")]
    assert pages.stories[0].body == "" and "gallium" in pages.stories[1].body
    assert pages.read == 1


def test_a_google_news_link_is_not_fetched_for_its_full_text(
    server: FeedServer, harness: Harness
) -> None:
    """news.google.com's article links lead to a page that redirects by script: read, it
    would give Google's words as the story's."""
    story = Story(
        id="g1", feed="Search", guid=None, source="Reuters", title="Gallium deal",
        summary="", link="https://news.google.com/rss/articles/CBMiX2h0dHBz?oc=5",
        published=FETCHED, fetched_at=FETCHED,
    )  # fmt: skip
    feed = FeedConfig(name="Search", url=server.url("/feed.xml"), interval=600, full_text=True)

    async def go() -> PagesRead:
        fetcher = Fetcher(SETTINGS)
        try:
            return await with_full_text([story], feed, fetcher, None)
        finally:
            await fetcher.aclose()

    pages = asyncio.run(go())
    assert pages.stories == [story]
    assert pages.not_read == [(story, "a redirector's page, which holds no article")]


def test_a_full_text_storys_revised_summary_alerts_and_its_page_text_stays(
    server: FeedServer, harness: Harness, tmp_path: Path
) -> None:
    """A `full_text` story is stored with its page's text as its body, which its feed's
    entry never carries: a revision of its summary that, with the page, matches a rule
    alerts, though the entry alone (all the parse pool sees) does not match; the page's
    text is kept, not replaced by the entry's."""
    folder = tmp_path / "both"
    folder.mkdir()
    (folder / "r.yaml").write_text("rules:\n  - name: g\n    when: 'gallium AND Pavlodar'\n")
    clock, rules = harness.clock, LiveRules(folder)

    def poll_in_pool() -> PollOutcome:
        async def go() -> PollOutcome:
            fetcher = Fetcher(SETTINGS)
            with ThreadPoolExecutor(1) as pool:  # the parse pool's work, in a thread
                pipeline = Pipeline(store=harness.store, fetcher=fetcher, settings=SETTINGS,
                                    clock=clock, rules=rules, parse_executor=pool)  # fmt: skip
                try:
                    return await pipeline.refresh_feed(feed, force=True)
                finally:
                    await fetcher.aclose()

        return asyncio.run(go())

    serve(server, [], {})
    feed = replace(harness.feed("Desk", server.url("/feed.xml")), full_text=True)
    poll_in_pool()  # the first poll: an empty feed, no backlog
    entry = item("deal", "Trading house signs a supply deal", 1, clock)
    serve(server, [entry], {"deal": page("germanium")})
    clock.now += timedelta(minutes=10)
    (story,) = poll_in_pool().new_stories
    assert "Pavlodar" in story.body and harness.store.story(story.id).body == story.body
    serve(server, [entry.replace("signs a deal.", "signs a gallium deal.")], {})
    clock.now += timedelta(minutes=10)
    outcome = poll_in_pool()
    assert [(m.rule, m.story, m.quiet) for m in outcome.matches] == [("g", story.id, False)]
    stored = harness.store.story(story.id)
    assert stored.summary == "A trading house signs a gallium deal." and stored.body == story.body
    assert len(server.seen("/news/deal")) == 1  # its page was read once
