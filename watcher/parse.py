"""Parse the bytes of a feed into normalised stories.

In: the body we fetched, its Content-Type, the feed's name and the fetch time.
Out: a `ParsedFeed`. A malformed feed that still yields entries is used, with a warning.
Raises: `ParseError` when the bytes hold no feed at all.

feedparser never fetches here: it gets bytes. Entity declarations in a DOCTYPE are dropped
by feedparser before parsing and external entities are never loaded, so entity bombs and
references to local files expand to nothing. HTML is not sanitised by feedparser because
every field is reduced to plain text below and escaped wherever it is shown.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import feedparser

from watcher.errors import ParseError
from watcher.models import ParsedFeed, Story
from watcher.normalise import (
    canonical_url,
    plain_text,
    published_time,
    story_id,
    struct_to_datetime,
)

MAX_TITLE = 1000
MAX_SUMMARY = 20_000


def parse_feed(
    body: bytes,
    *,
    feed: str,
    fetched_at: datetime,
    content_type: str | None = None,
    source: str | None = None,
) -> ParsedFeed:
    """Parse `body` into stories of `feed`; `source` overrides the outlet name."""
    headers = {"content-type": content_type} if content_type else {}
    result = feedparser.parse(
        io.BytesIO(body),
        response_headers=headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    problem = _bozo_message(result)
    if not result.entries:
        if problem or not result.get("version"):
            raise ParseError(f"no feed found: {problem or 'the document is not RSS, Atom or RDF'}")
        return ParsedFeed(title=_feed_title(result), stories=())
    channel_title = _feed_title(result)
    stories = tuple(
        _story(entry, feed=feed, fetched_at=fetched_at, source=source or channel_title or feed)
        for entry in result.entries
    )
    return ParsedFeed(title=channel_title, stories=stories, warning=problem)


def _bozo_message(result: Any) -> str | None:
    if not result.get("bozo"):
        return None
    exc = result.get("bozo_exception")
    return f"malformed feed: {type(exc).__name__}: {exc}" if exc else "malformed feed"


def _feed_title(result: Any) -> str | None:
    return plain_text(result.feed.get("title"))[:MAX_TITLE] or None


def _story(entry: Any, *, feed: str, fetched_at: datetime, source: str) -> Story:
    title = plain_text(entry.get("title"))[:MAX_TITLE]
    summary = plain_text(_summary_html(entry))[:MAX_SUMMARY]
    guid = (entry.get("id") or "").strip() or None
    raw_link = entry.get("link") or (guid if guid and guid.startswith("http") else "")
    link = canonical_url(raw_link) if raw_link else ""
    published = published_time(
        struct_to_datetime(_raw(entry, "published_parsed")),
        struct_to_datetime(_raw(entry, "updated_parsed")),
        fetched_at,
    )
    raw_date = _raw(entry, "published") or _raw(entry, "updated") or ""
    entry_source = entry.get("source") or {}
    return Story(
        id=story_id(feed, guid, link, title, raw_date),
        feed=feed,
        guid=guid,
        source=plain_text(entry_source.get("title")) or source,
        title=title,
        summary=summary,
        link=link,
        published=published,
        fetched_at=fetched_at,
    )


def _raw(entry: Any, key: str) -> Any:
    """A field as the feed gave it, without feedparser's deprecated published/updated aliasing."""
    return dict.get(entry, key)


def _summary_html(entry: Any) -> str:
    summary = entry.get("summary") or entry.get("description")
    if summary:
        return str(summary)
    content = entry.get("content") or []
    return str(content[0].get("value", "")) if content else ""
