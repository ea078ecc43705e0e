"""JSON Feed (jsonfeed.org 1.0 and 1.1): read into the stories an RSS feed of the same news
gives, its faults named, and polled through the whole pipeline."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Inbox
from tests.feedserver import FeedServer, fixture_bytes
from tests.test_polling import Harness
from watcher.errors import ParseError
from watcher.links import named_feeds
from watcher.models import ParsedFeed
from watcher.parse import parse_feed

FETCHED = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
V11 = "https://jsonfeed.org/version/1.1"


def parse_json(document: dict[str, Any] | bytes, **kw: Any) -> ParsedFeed:
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    return parse_feed(body, feed="test", fetched_at=FETCHED, **kw)


def feed_of(*items: Any, version: str = V11, **top: Any) -> dict[str, Any]:
    return {"version": version, "title": "Desk", **top, "items": list(items)}


def test_a_json_feed_gives_the_stories_of_the_rss_feed_of_the_same_news() -> None:
    """Same ids, links, titles, summaries, outlet and times: a site that moves its feed from
    RSS to JSON Feed (or a reader that takes both) makes no new story."""
    rss = parse_feed(fixture_bytes("wire.rss.xml"), feed="test", fetched_at=FETCHED)
    json_feed = parse_feed(fixture_bytes("wire.feed.json"), feed="test", fetched_at=FETCHED)
    assert json_feed == rss
    assert json_feed.title == "Test Wire - Markets" and len(json_feed.stories) == 2


def test_plain_text_that_looks_like_markup_stays_as_written() -> None:
    """JSON Feed's `title`, `summary` and `content_text` are plain text, escaped once to be
    read as HTML: text that begins with a tag, or holds one opened and closed, read as HTML
    a feed escaped twice, lost its tags."""
    parsed = parse_json(feed_of(
        {"id": "1", "url": "https://desk.test/1", "title": "<b>Gallium</b> rises",
         "summary": "Use <br> or <p>text</p>", "content_text": "<p> and </p> mark a "
         "paragraph, which the summary above shows in far fewer words than this does."},
    ))  # fmt: skip
    (story,) = parsed.stories
    assert (story.title, story.summary) == ("<b>Gallium</b> rises", "Use <br> or <p>text</p>")
    assert story.body.startswith("<p> and </p> mark a paragraph")


def test_each_item_field_is_read_as_the_spec_defines_it() -> None:
    parsed = parse_json(
        feed_of(
            {"id": "1", "url": "https://desk.test/a", "title": "Gallium <b>bold</b> & co",
             "summary": "Prices: a < b", "content_html": "<p>Full <i>text</i> of it, longer "
             "than the summary by far.</p>", "date_published": "2026-11-20T09:00:00+09:00"},
            {"id": "2", "external_url": "https://elsewhere.test/story", "title": "Linked post",
             "content_text": "Tags like <script> are words here.",
             "date_modified": "2026-11-21T10:00:00Z"},
            {"id": 3, "url": "/posts/3", "content_text": "Sojitz said on Friday it would buy "
             "gallium from Kazakhstan for its Japanese customers, who need it for chips."},
            home_page_url="https://desk.test/",
        )
    )  # fmt: skip
    first, linked, untitled = parsed.stories
    assert first.title == "Gallium <b>bold</b> & co"  # plain text in JSON Feed: kept as written
    assert (
        first.summary == "Prices: a < b"
        and first.body == "Full text of it, longer than the summary by far."
    )
    assert first.published == datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
    assert linked.link == "https://elsewhere.test/story"  # no `url`: its `external_url`
    assert linked.summary == "Tags like <script> are words here."
    assert linked.published == datetime(2026, 11, 21, 10, 0, tzinfo=UTC)  # date_modified
    assert untitled.guid == "3"  # a number as `id` is read as its digits
    assert untitled.link == "https://desk.test/posts/3"  # relative, against home_page_url
    assert untitled.title.startswith("Sojitz said on Friday it would buy gallium")
    assert untitled.published == FETCHED  # undated: its fetch time


def test_a_number_as_id_is_the_same_story_as_its_digits_as_text() -> None:
    as_number = parse_json(feed_of({"id": 12345678901234567890123, "title": "A"}))
    as_text = parse_json(feed_of({"id": "12345678901234567890123", "title": "A"}))
    assert as_number.stories[0].id == as_text.stories[0].id


def test_a_json_feed_1_0_and_an_empty_one_are_read() -> None:
    old = parse_json(feed_of({"id": "a", "title": "T", "url": "https://d.test/a"},
                             version="https://jsonfeed.org/version/1"))  # fmt: skip
    assert [s.title for s in old.stories] == ["T"]
    empty = parse_json(feed_of())
    assert empty.stories == () and empty.title == "Desk" and empty.warning is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(b'{"version": "https://jsonfeed.org/version/1.1",\n  "items": [{"id": }]}',
                     "malformed JSON Feed: Expecting value at line 2, column 20", id="bad-json"),
        pytest.param(b'{"items": []}', 'the document is JSON, but not a JSON Feed (its "version" '
                     "is not https://jsonfeed.org/version/...)", id="no-version"),
        pytest.param(b'{"version": "https://jsonfeed.org/version/1.1"}',
                     'malformed JSON Feed: it has no "items" list', id="no-items"),
        pytest.param(b'{"version": "https://jsonfeed.org/version/1.1", "items": {"a": 1}}',
                     'malformed JSON Feed: it has no "items" list', id="items-not-a-list"),
        pytest.param(b'{"version": "https://jsonfeed.org/version/1.1", "items": [' + b"[" * 100_000
                     + b"]" * 100_000 + b"]}", "malformed JSON Feed: nested too deeply to read",
                     id="nesting-bomb"),
    ],
)  # fmt: skip
def test_a_document_that_is_no_json_feed_is_an_error_that_says_where(
    body: bytes, message: str
) -> None:
    with pytest.raises(ParseError) as raised:
        parse_json(body)
    assert message in str(raised.value)


def test_faults_a_json_feed_can_be_read_past_are_warnings() -> None:
    """Bytes not in UTF-8, items that are not objects, half a surrogate pair: the rest of
    the feed is read, and the warning says what was wrong."""
    body = json.dumps(feed_of("a string", {"id": "1", "title": "Caf\xe9 \ud800 report"}, 7))
    assert "\\ud800" in body and "\\u00e9" in body  # JSON escapes, as written
    parsed = parse_json(body.replace("\\u00e9", "\xe9").encode("latin-1"))
    (story,) = parsed.stories
    assert story.title == "Caf\ufffd \ufffd report"
    assert parsed.warning == (
        "malformed feed: JSON Feed not in valid UTF-8 (bytes read as U+FFFD); "
        "2 of its items are not objects (skipped)"
    )


def test_fields_of_the_wrong_type_are_read_as_absent() -> None:
    parsed = parse_json(feed_of({"id": ["x"], "title": {"t": 1}, "url": True,
                                 "content_text": "A lithium find", "summary": None}))  # fmt: skip
    (story,) = parsed.stories
    assert story.guid is None and story.link == "" and story.title == "A lithium find"


def test_a_web_page_names_its_json_feed_but_not_its_json_api() -> None:
    """`application/feed+json` is JSON Feed's type; WordPress gives every page an alternate
    `application/json` link to its REST API, which is no feed."""
    page = (b'<html><head><link rel="alternate" type="application/json" href="/wp-json/wp/v2/'
            b'posts/7"><link rel="alternate" type="application/feed+json" href="/feed.json">'
            b"</head></html>")  # fmt: skip
    assert named_feeds(page, "https://site.test/news/") == ["https://site.test/feed.json"]


def test_a_json_feed_is_polled_stored_and_asked_for_by_its_type(
    server: FeedServer, harness: Harness
) -> None:
    items = [{"id": "g1", "url": "https://desk.test/g1", "title": "Gallium exports resume",
              "date_published": (FETCHED - timedelta(hours=1)).isoformat()}]  # fmt: skip
    server.feed("/feed.json", lambda: json.dumps(feed_of(*items)).encode(),
                content_type="application/feed+json")  # fmt: skip
    feed = harness.feed("Desk", server.url("/feed.json"))
    (first,) = harness.poll(feed)
    assert [s.title for s in first.new_stories] == ["Gallium exports resume"]
    assert "application/feed+json" in server.seen("/feed.json")[0].headers["Accept"]
    (again,) = harness.poll(feed)
    assert again.status == "not_modified"
    items.insert(0, {"id": "g2", "url": "https://desk.test/g2", "title": "Germanium too"})
    (changed,) = harness.poll(feed)
    assert [s.title for s in changed.new_stories] == ["Germanium too"]
    assert harness.store.count_stories() == 2


def test_a_broken_json_feed_is_its_feeds_failure_and_keeps_its_stories(
    server: FeedServer, harness: Harness, tmp_path: Path
) -> None:
    body = {"doc": fixture_bytes("wire.feed.json")}
    server.feed("/feed.json", lambda: body["doc"], content_type="application/feed+json")
    feed = harness.feed("Desk", server.url("/feed.json"))
    harness.poll(feed)
    body["doc"] = body["doc"][:-40]
    (broken,) = harness.poll(feed)
    assert broken.status == "failed" and "malformed JSON Feed:" in (broken.error or "")
    state = harness.store.feed_state("Desk")
    assert state.consecutive_failures == 1 and "line" in (state.last_error or "")
    assert harness.store.count_stories() == 2


def test_a_json_feed_and_an_rss_feed_of_one_news_item_alert_once(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path
) -> None:
    """The site's JSON Feed and a wire's RSS of the same story: one news item, one email
    and one Slack message, whichever format came first."""
    from tests.test_alerts import WIRE, add_feed, slack_route, write_config
    from tests.test_cli import watcher

    port, inbox = smtp
    slack_route(server, [])
    config = write_config(tmp_path, smtp_port=port, slack=server.url("/slack"))
    add_feed(config, "Desk", fixture_bytes("wire.feed.json"))
    add_feed(config, "Wire", WIRE)
    result = watcher("--config", str(config), "once")
    assert result.returncode == 0, result.stderr
    assert "polled 2 feeds (0 skipped): 4 new stories, 0 failed" in result.stdout
    (mail,) = inbox.messages
    assert mail["Subject"] == (
        "[watcher] germanium-news: Smelter Group To Start Germanium Output In Ontario"
    )
    assert len(server.posts) == 1
