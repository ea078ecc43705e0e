"""Parse the bytes of a feed into normalised stories.

In: the body we fetched, its Content-Type and URL, the feed's name and the fetch time.
Out: a `ParsedFeed`. A malformed feed that still yields entries is used, with a warning.
Raises: `ParseError` when the bytes hold no feed at all.

Two parsers with one output. feedparser-rs (Rust, feedparser's API) parses a well-formed
UTF-8 feed about 50 times faster than feedparser; feedparser takes every other body: one
not in valid UTF-8 or declaring another encoding (in its XML declaration or Content-Type),
and one feedparser-rs calls malformed or cannot read. feedparser then reads a mislabelled
encoding as its fallback and says so, where feedparser-rs would replace the bytes it cannot
decode. Both give the same stories on the shared corpus and our fixtures
(tests/test_parse.py holds them to it), so a feed's story ids never depend on the parser. A
JSON Feed goes to neither: `json_feed` reads it into the same shape. Of a document, the
first `MAX_ENTRIES` entries are read (feedparser-rs and `json_feed` stop there; feedparser's
are cut).

Neither parser fetches: they get bytes. Neither expands entity declarations of a DOCTYPE or
loads external entities, so entity bombs and references to local files expand to nothing.
HTML is not sanitised because every field is reduced to plain text below and escaped
wherever it is shown.
"""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import datetime
from html import unescape
from typing import Any

import feedparser
import feedparser_rs

from watcher.boilerplate import coverage, repeats_title, without_post_footer
from watcher.dates import entry_time, published_time
from watcher.errors import ParseError
from watcher.json_feed import is_json_feed, read_json_feed
from watcher.links import Links, named_feeds, page_host
from watcher.models import ParsedFeed, Story
from watcher.normalise import plain_text, repaired, story_id, title_of_untitled
from watcher.urls import is_relative_url

MAX_TITLE = 1000
MAX_SUMMARY = 20_000
MAX_BODY = 20_000  # characters of an entry's full text kept, as of a summary
BODY_HTML_CHARS = 5 * MAX_BODY  # of its HTML, all that is read
# a document's entries read, the first in its order (feeds list the newest first): a feed of
# more is an archive, or a hostile one (10 MB of empty items make a million stories)
MAX_ENTRIES = 10_000  # feedparser-rs's default limit: it stops reading there
TOO_MANY = f"the feed lists more than {MAX_ENTRIES:,} entries: the first {MAX_ENTRIES:,} are read"
_UTF8_CHARSETS = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_DECLARED = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*[\"']([\w.:-]+)")
_XML_ENTITY = re.compile(r"&(?:#[xX]([0-9a-fA-F]+)|#([0-9]+)|(amp|lt|gt|quot|apos));")
_XML_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def parse_feed(
    body: bytes,
    *,
    feed: str,
    fetched_at: datetime,
    content_type: str | None = None,
    source: str | None = None,
    url: str | None = None,
) -> ParsedFeed:
    """Parse `body` into stories of `feed`; `source` overrides the outlet name. `url`, where
    the feed was fetched from, is the base of last resort for relative links (see `_story`).
    A story whose link redirects (`unwrapped_url`) is, without an outlet of its own or a
    configured one, from the host of the page it leads to: a Google Alerts feed's title
    names the search, not the outlet."""
    result, fast, cut = _parsed(body, content_type)
    problem = None if fast and cut else _bozo_message(result, content_type, body)  # bozo: `cut`
    problem = "; ".join(filter(None, [problem, TOO_MANY if cut else None])) or None
    entries = result.entries[:MAX_ENTRIES]
    if not entries:
        if problem or not result.get("version"):
            raise ParseError(_no_feed(problem, body, url))
        return ParsedFeed(title=_feed_title(result), stories=())
    channel_title = _feed_title(result)
    # feedparser-rs leaves entities undecoded in attributes, as in an Atom link's href
    attribute_links = fast and str(result.version).startswith("atom")
    raw_links = [_entry_link(entry, attribute_links) for entry in entries]
    links = Links.of(raw_links, result.feed.get("link"), url)
    entry_links = [links.story_link(raw) for raw in raw_links]
    shared = _shared_guids(entries, entry_links)
    stories = tuple(
        _story(
            entry, link, feed=feed, fetched_at=fetched_at,
            source=source or page_host(raw) or channel_title or feed, links=links,
            shared_guids=shared,
        )
        for entry, raw, link in zip(entries, raw_links, entry_links, strict=True)
    )  # fmt: skip
    return ParsedFeed(title=channel_title, stories=_without_boilerplate(stories), warning=problem)


def _parsed(body: bytes, content_type: str | None) -> tuple[Any, bool, bool]:
    """The document read by the parser for it, whether that was feedparser-rs, and whether
    it lists more than `MAX_ENTRIES` entries (feedparser-rs and `json_feed` read no more;
    feedparser reads them all, and all but the first are dropped)."""
    if is_json_feed(body):
        result = read_json_feed(body, MAX_ENTRIES)
        return result, False, bool(result.get("cut"))
    fast = _fast_parse(body, content_type)
    if fast is not None:
        return fast, True, _over_limit(fast)
    full = _full_parse(body, content_type)
    return full, False, len(full.entries) > MAX_ENTRIES


def _fast_parse(body: bytes, content_type: str | None) -> Any | None:
    """feedparser-rs's result for a well-formed UTF-8 feed, else None (feedparser decides).
    A FeedBurner feed goes to feedparser too: feedparser-rs drops its `origLink`."""
    if not _is_utf8(body, content_type) or _ORIG_LINK in body:
        return None
    try:
        result = feedparser_rs.parse(body, sanitize_html=False, resolve_relative_uris=False)
    except Exception:  # any failure of the fast path: feedparser decides
        return None
    if (result.bozo and not _over_limit(result)) or not result.entries:
        return None
    if any(not entry.get("link") for entry in result.entries) and _PRIVATE_HOST.search(body):
        return None  # feedparser-rs blanks links to such hosts: feedparser keeps them
    if any(is_relative_url(entry.get("link") or "") for entry in result.entries):
        # parsed again, resolving against xml:base and the channel's link, as feedparser does
        # with xml:base: rare, and resolving every summary's markup costs time
        return _fast_parse_resolved(body, result)
    return result


# a URL whose host feedparser-rs takes for a private one and blanks as an entry's link: an IP
# literal (127.0.0.1, 10.x, 192.168.x, [::1], 2130706433), localhost, *.local, *.internal.
# A feed on a company's network links its own hosts; feedparser keeps their links.
_PRIVATE_HOST = re.compile(
    rb"://(?:[^/?#@\s\"'<>]*@)?(?:\[|\d|[^/?#\s\"'<>]*(?:localhost|\.local|\.internal)\b)",
    re.IGNORECASE,
)


def _over_limit(result: Any) -> bool:
    """Whether feedparser-rs stopped at `MAX_ENTRIES`, its limit, with more to read."""
    exc = str(result.get("bozo_exception") or "")
    return len(result.entries) == MAX_ENTRIES and exc.startswith("Entry limit exceeded")


def _fast_parse_resolved(body: bytes, unresolved: Any) -> Any:
    try:
        result = feedparser_rs.parse(body, sanitize_html=False, resolve_relative_uris=True)
    except Exception:  # any failure of the fast path: feedparser decides
        return None
    return result if len(result.entries) == len(unresolved.entries) else None


def _is_utf8(body: bytes, content_type: str | None) -> bool:
    """Declared as UTF-8 (or not declared) in the Content-Type and the XML, and valid UTF-8."""
    charset = _CHARSET.search(content_type or "")
    declared = _DECLARED.match(body[:512])
    names = (charset.group(1).lower() if charset else "utf-8",
             declared.group(1).decode().lower() if declared else "utf-8")  # fmt: skip
    if not all(name in _UTF8_CHARSETS for name in names):
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _full_parse(body: bytes, content_type: str | None) -> Any:
    """feedparser's result. A numeric character reference to no character (`&#xD800;`, a
    half of a surrogate pair, or past U+10FFFF) raises inside feedparser: the body is read
    again with each such reference as U+FFFD, so one bad entry does not lose the feed."""
    try:
        return _feedparser(body, content_type)
    except (UnicodeEncodeError, ValueError, OverflowError) as exc:
        mended = _CHAR_REF.sub(_valid_char_ref, body)
        if mended == body:
            raise ParseError(f"malformed feed: {type(exc).__name__}: {exc}") from exc
        try:
            return _feedparser(mended, content_type)
        except (UnicodeEncodeError, ValueError, OverflowError) as again:
            raise ParseError(f"malformed feed: {type(again).__name__}: {again}") from again


def _feedparser(body: bytes, content_type: str | None) -> Any:
    """feedparser's result; a failure of its own (its lenient parser can trip on a closing
    tag it never saw open) is a `ParseError` naming it."""
    headers = {"content-type": content_type} if content_type else {}
    try:
        return feedparser.parse(
            io.BytesIO(body),
            response_headers=headers,
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except (UnicodeEncodeError, ValueError, OverflowError):
        raise  # a character reference to no character: `_full_parse` mends the body
    except Exception as exc:
        raise ParseError(f"malformed feed: feedparser failed on it: {exc!r}") from exc


_CHAR_REF = re.compile(rb"&#(?:[xX]0*([0-9a-fA-F]+)|0*([0-9]+));")


def _valid_char_ref(ref: re.Match[bytes]) -> bytes:
    """The reference, or U+FFFD's where it names no character."""
    hexadecimal, decimal = ref.group(1), ref.group(2)
    digits = hexadecimal or decimal or b"0"
    if len(digits) > 8:  # past U+10FFFF, in either base (and int() refuses thousands)
        return b"&#xFFFD;"
    value = int(digits, 16 if hexadecimal else 10)
    return b"&#xFFFD;" if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF else ref.group()


def _bozo_message(result: Any, content_type: str | None, body: bytes) -> str | None:
    """feedparser's complaint as the feed's warning; None for one about a feed read right
    (`_is_harmless`)."""
    if not result.get("bozo"):
        return None
    exc = result.get("bozo_exception")
    if _is_harmless(exc, content_type, body, result.get("encoding")):
        return None
    if isinstance(exc, str):  # `json_feed`'s
        return f"malformed feed: {exc}"
    return f"malformed feed: {type(exc).__name__}: {exc}" if exc else "malformed feed"


def _is_harmless(exc: object, content_type: str | None, body: bytes, read_as: Any) -> bool:
    """Whether feedparser's complaint is of a server's label or of a rule no reader keeps,
    about a feed it read right: a media type that is no XML one (`text/html`), a namespace
    prefix never declared, a text/* type without charset taken for US-ASCII where the
    document was read in the encoding it declares (RFC 3023's rule, which RFC 7303 dropped:
    the XML declaration decides), or an entity the document's DTD declares, as RSS 0.91's
    declares `&nbsp;` (XML asks no reader to fetch a DTD; one that does not reads such a
    document as well formed, and feedparser as HTML would)."""
    if isinstance(exc, feedparser.NonXMLContentType | feedparser.UndeclaredNamespace):
        return True
    if isinstance(exc, feedparser.CharacterEncodingOverride):
        media = (content_type or "").partition(";")[0].strip().lower()
        declared = _DECLARED.match(body[:512])
        own = declared.group(1).decode().lower() if declared else "utf-8"
        return (
            media.startswith("text/")
            and not _CHARSET.search(content_type or "")
            and own == str(read_as).lower()
        )
    return "undefined entity" in str(exc) and _EXTERNAL_DTD.search(body[:4096]) is not None


_EXTERNAL_DTD = re.compile(rb"<!DOCTYPE\s+[\w:.-]+\s+(?:PUBLIC|SYSTEM)\s", re.IGNORECASE)


def _feed_title(result: Any) -> str | None:
    return _plain(result.feed.get("title"))[:MAX_TITLE] or None


def _no_feed(problem: str | None, body: bytes, url: str | None) -> str:
    """Why a body holds no feed; for a web page, that it is one, and the feeds it names."""
    if not _is_web_page(body):
        return f"no feed found: {problem or 'the document is not RSS, Atom, RDF or JSON Feed'}"
    message = "no feed found: the document is a web page (HTML), not RSS, Atom, RDF or JSON Feed"
    if feeds := named_feeds(body, url):
        message += f"; the page names its feeds: {', '.join(feeds)} (use one as the url)"
    return message


def _is_web_page(body: bytes) -> bool:
    """Whether a document begins as a web page does: `<!DOCTYPE html` or `<html`, after
    white space, a byte order mark or an XML declaration (XHTML)."""
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<?xml"):
        head = head.partition(b"?>")[2].lstrip()
    return head.startswith((b"<!doctype html", b"<html"))


def _plain(field: str | None) -> str:
    """A title as plain text: mojibake repaired first (its non-breaking spaces are still
    there to see), then HTML stripped and white space folded."""
    return plain_text(repaired(field))


def _without_boilerplate(stories: tuple[Story, ...]) -> tuple[Story, ...]:
    """A summary the document gives to stories with other titles ("Subscribe to continue
    reading.") says nothing of any of them: it is dropped, so that clustering does not take
    the stories for reprints of each other."""
    titles: dict[str, set[str]] = {}
    for story in stories:
        if story.summary:
            titles.setdefault(story.summary, set()).add(story.title)
    shared = {summary for summary, found in titles.items() if len(found) > 1}
    if not shared:
        return stories
    return tuple(replace(s, summary="") if s.summary in shared else s for s in stories)


def _shared_guids(entries: Any, links: list[str]) -> frozenset[str]:
    """Guids the document gives to entries with different links: they identify nothing."""
    found: dict[str, set[str]] = {}
    for entry, link in zip(entries, links, strict=True):
        if guid := _guid(entry):
            found.setdefault(guid, set()).add(link)
    return frozenset(guid for guid, links_of in found.items() if len(links_of) > 1)


_ORIG_LINK = b"origLink"


def _entry_link(entry: Any, attribute_links: bool) -> str:
    """The entry's link as the document gives it (FeedBurner's `origLink`, the story's own
    page, before its feedproxy.google.com redirect); `attribute_links`: the parser left
    entities in Atom hrefs."""
    link = (entry.get("feedburner_origlink") or "").strip() or entry.get("link") or ""
    return _XML_ENTITY.sub(_xml_character, link) if link and attribute_links else link


def _guid(entry: Any) -> str | None:
    return (entry.get("id") or "").strip() or None


def _story(
    entry: Any, entry_link: str, *, feed: str, fetched_at: datetime, source: str,
    links: Links, shared_guids: frozenset[str],
) -> Story:  # fmt: skip
    """One entry as a story; `entry_link`: its own link as `links` made it ('' for none or a
    link home), for which a guid that is a web address stands in. A guid in `shared_guids`
    is dropped: the story is known by its link, and clustering does not take stories that
    shared it for one."""
    own_title = _plain(entry.get("title"))[:MAX_TITLE]
    summary_html = _summary_html(entry)
    listed = coverage(repaired(summary_html), own_title)
    summary = without_post_footer(plain_text(listed.own), own_title)[:MAX_SUMMARY]
    body = _body(entry, summary_html, summary, own_title)
    guid = _guid(entry)
    guid = None if guid in shared_guids else guid
    web_guid = guid if guid and guid.startswith("http") else ""
    link = entry_link or links.story_link(web_guid)
    title = own_title or title_of_untitled(summary, link)
    source = _plain((entry.get("source") or {}).get("title")) or source
    if repeats_title(summary, own_title, source):
        summary = ""  # nothing to show or match that the title does not hold
    raw_published, raw_updated = _raw(entry, "published"), _raw(entry, "updated")
    published = published_time(
        entry_time(raw_published, _raw(entry, "published_parsed")),
        entry_time(raw_updated, _raw(entry, "updated_parsed")),
        fetched_at,
    )
    raw_date = raw_published or raw_updated or ""
    return Story(
        id=story_id(feed, guid, link, title, raw_date),
        feed=feed,
        guid=guid,
        source=source,
        title=title,
        summary=summary,
        link=link,
        published=published,
        fetched_at=fetched_at,
        related=links.related(listed.others, link),
        body=body,
    )


def _xml_character(found: re.Match[str]) -> str:
    hex_code, code, name = found.groups()
    if name:
        return _XML_NAMED[name]
    number = int(hex_code, 16) if hex_code else int(code)
    return chr(number) if 0 < number <= 0x10FFFF else found.group(0)


def _raw(entry: Any, key: str) -> Any:
    """A field as the feed gave it, without feedparser's deprecated published/updated aliasing."""
    if isinstance(entry, dict):
        return dict.get(entry, key)
    return getattr(entry, key, None)


def _body(entry: Any, summary_html: str, summary: str, title: str) -> str:
    """The entry's full text (RSS `content:encoded`, Atom `content`) as plain text, where
    it says more than the summary (a WordPress feed's excerpt); '' where it does not, and
    where the summary is that text already (an entry with a content and no summary)."""
    html = _content_html(entry)
    if not html or html == summary_html:
        return ""
    body = without_post_footer(plain_text(repaired(html[:BODY_HTML_CHARS])), title)[:MAX_BODY]
    return body if len(body) > len(summary) else ""


def _summary_html(entry: Any) -> str:
    summary = entry.get("summary") or entry.get("description")
    return _escaped_once_more(str(summary)) if summary else _content_html(entry)


def _content_html(entry: Any) -> str:
    content = entry.get("content") or []
    return _escaped_once_more(str(content[0].get("value", ""))) if content else ""


# HTML a feed escaped twice begins with an escaped tag: `&lt;p&gt;`, `&lt;img src=...`
_ESCAPED_TAG = re.compile(
    r"\s*&lt;/?(?:p|div|br|img|a|b|i|strong|em|span|h[1-6]|ul|ol|li|table|figure|blockquote)"
    r"(?:\s|/?&gt;)",
    re.IGNORECASE,
)


def _escaped_once_more(html: str) -> str:
    """HTML that a feed escaped once more than XML asks (its markup shown as text: `<p>The
    plant...`), read as the HTML it is: it begins with an escaped tag and has no tag of its
    own. Else `html` as it is."""
    if "<" in html or not _ESCAPED_TAG.match(html):
        return html
    return unescape(html)
