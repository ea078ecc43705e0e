"""Read a JSON Feed (https://jsonfeed.org, versions 1.0 and 1.1) as the parsers read XML.

In: the bytes of a document that begins with `{`.
Out: a feedparser-shaped result (`feed`, `entries`, `version`, `bozo`) that `parse` turns
into stories as it does feedparser's, so one code path makes stories of every format.
Raises: `ParseError` when the bytes are not JSON, or JSON but not a JSON Feed.

Read with Python's own JSON reader rather than feedparser-rs's: that one drops an item's
`external_url` and a number given as `id` (which the spec says a reader takes as text), and
says only "Feed format not recognized" of a document it cannot read, where an operator wants
the line and column. The fields are mapped as the spec defines them: `url` (else
`external_url`) is the link, `summary` and `content_text` are plain text and are escaped
here, since `parse` reads every field as HTML; `content_html` is the full text.
"""

from __future__ import annotations

import json
import re
from html import escape
from typing import Any

from feedparser import FeedParserDict

from watcher.errors import ParseError
from watcher.normalise import SURROGATE

VERSIONS = ("https://jsonfeed.org/version/", "http://jsonfeed.org/version/")
_BLANK = b"\xef\xbb\xbf \t\r\n"
_DANGLING_AT = re.compile(r"(?: starting)? at$")


def is_json_feed(body: bytes) -> bool:
    """Whether the document begins as JSON does: `{`, after white space or a byte order mark.
    No XML, RSS, Atom or RDF document can."""
    return body[:1024].lstrip(_BLANK).startswith(b"{")


def read_json_feed(body: bytes, max_items: int) -> FeedParserDict:
    """The feed and its first `max_items` items (`cut` when it has more); `bozo` with a
    message where bytes not in UTF-8 were replaced or items that are not objects skipped."""
    document, problems = _document(body)
    if not isinstance(document, dict):
        raise ParseError("no feed found: the document is JSON, but not an object (a JSON Feed is)")
    version = document.get("version")
    if not isinstance(version, str) or not version.startswith(VERSIONS):
        raise ParseError(
            'no feed found: the document is JSON, but not a JSON Feed (its "version" is not '
            f"{VERSIONS[0]}...)"
        )
    items = document.get("items")
    if not isinstance(items, list):
        raise ParseError('malformed JSON Feed: it has no "items" list')
    objects = [item for item in items if isinstance(item, dict)]
    entries = [_entry(item) for item in objects[:max_items]]
    if skipped := len(items) - len(objects):
        problems.append(f"{skipped} of its items are not objects (skipped)")
    feed = FeedParserDict(title=_text(document.get("title")),
                          link=_text(document.get("home_page_url")))  # fmt: skip
    result = FeedParserDict(feed=feed, entries=entries, version=_version(version), bozo=False,
                            cut=len(objects) > max_items)  # fmt: skip
    if problems:
        result["bozo"] = True
        result["bozo_exception"] = f"JSON Feed {'; '.join(problems)}"
    return result


def _document(body: bytes) -> tuple[Any, list[str]]:
    """The parsed JSON, and what was mended to read it."""
    try:
        return _loads(body), []
    except UnicodeDecodeError:
        pass
    text = body.decode("utf-8", "replace")
    return _loads(text), ["not in valid UTF-8 (bytes read as U+FFFD)"]


def _loads(document: bytes | str) -> Any:
    try:
        return json.loads(document, parse_int=str, parse_float=str)
    except json.JSONDecodeError as exc:
        what = _DANGLING_AT.sub("", exc.msg)  # "Unterminated string starting at"
        where = f"line {exc.lineno}, column {exc.colno}"
        raise ParseError(f"malformed JSON Feed: {what} at {where}") from exc
    except RecursionError as exc:
        raise ParseError("malformed JSON Feed: nested too deeply to read") from exc


def _entry(item: dict[str, Any]) -> FeedParserDict:
    """One item with feedparser's keys: its text escaped where the spec says it is plain."""
    content_html, content_text = _text(item.get("content_html")), _text(item.get("content_text"))
    content = content_html or _escaped(content_text)
    return FeedParserDict(
        id=_text(item.get("id")),
        title=_escaped(_text(item.get("title"))),
        link=_text(item.get("url")) or _text(item.get("external_url")),
        summary=_escaped(_text(item.get("summary"))),
        content=[FeedParserDict(value=content)] if content else [],
        published=_text(item.get("date_published")) or None,
        updated=_text(item.get("date_modified")) or None,
    )


def _escaped(text: str) -> str:
    """Plain text as the HTML of the same text: `<` and `>` as numeric references, which
    the reading of HTML a feed escaped twice (`entry_html`, looking for `&lt;`) leaves
    alone: `Gallium <b>bold</b>` in JSON Feed is those words, tags and all."""
    return escape(text, quote=False).replace("&lt;", "&#60;").replace("&gt;", "&#62;")


def _text(value: Any) -> str:
    """A string field as text, a number as it was written (read as a string: the spec's
    rule for `id`); anything else (an object, a list, true) as none. Half a surrogate pair
    (`"\\ud800"`, which JSON allows and UTF-8 cannot hold) becomes U+FFFD."""
    return SURROGATE.sub("\ufffd", value).strip() if isinstance(value, str) else ""


def _version(version: str) -> str:
    """feedparser-rs's name for the version: `json10`, `json11`, else `json`."""
    number = version.rpartition("/")[2]
    return {"1": "json10", "1.0": "json10", "1.1": "json11"}.get(number, "json")
