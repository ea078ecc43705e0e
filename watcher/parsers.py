"""Which parser reads a document, and what it makes of the document's form.

In: a feed's bytes and Content-Type. Out: the parser's result (feedparser's shape), whether
feedparser-rs read it, whether the document lists more than `MAX_ENTRIES` entries, and
feedparser's complaint worth a warning (`complaint`). Raises: `ParseError` when feedparser
fails on the bytes.

feedparser-rs (Rust, feedparser's API) parses a well-formed UTF-8 feed about 50 times
faster than feedparser; feedparser takes every other body: one not in valid UTF-8 or
declaring another encoding (in its XML declaration or Content-Type), one feedparser-rs
calls malformed or cannot read, a FeedBurner feed (feedparser-rs drops `origLink`), one
whose entries link to hosts feedparser-rs blanks, and RSS whose items it misreads
(`_MISREAD`). A JSON Feed goes to neither: `json_feed` reads it into the same shape. What
feedparser-rs reads otherwise than feedparser in a document it does read (a link's `&`
escaped twice, some dates, Windows-1252 character references) is put right where the
entry is read (`parse`, `dates`, `normalise`).
"""

from __future__ import annotations

import io
import re
from typing import Any

import feedparser
import feedparser_rs

from watcher.errors import ParseError
from watcher.json_feed import is_json_feed, read_json_feed
from watcher.urls import is_relative_url

# a document's entries read, the first in its order (feeds list the newest first): a feed of
# more is an archive, or a hostile one (10 MB of empty items make a million stories)
MAX_ENTRIES = 10_000  # feedparser-rs's default limit: it stops reading there
TOO_MANY = f"the feed lists more than {MAX_ENTRIES:,} entries: the first {MAX_ENTRIES:,} are read"
_UTF8_CHARSETS = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_DECLARED = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*[\"']([\w.:-]+)")
ORIG_LINK = b"origLink"


def read_document(body: bytes, content_type: str | None) -> tuple[Any, bool, bool]:
    """The document read by the parser for it, whether that was feedparser-rs, and whether
    it lists more than `MAX_ENTRIES` entries (feedparser-rs and `json_feed` read no more;
    feedparser reads them all, and all but the first are dropped)."""
    if is_json_feed(body):
        result = read_json_feed(body, MAX_ENTRIES)
        return result, False, bool(result.get("cut"))
    fast = fast_parse(body, content_type)
    if fast is not None:
        return fast, True, _over_limit(fast)
    full = _full_parse(body, content_type)
    return full, False, len(full.entries) > MAX_ENTRIES


def fast_parse(body: bytes, content_type: str | None) -> Any | None:
    """feedparser-rs's result for a well-formed UTF-8 feed, else None (feedparser decides).
    A FeedBurner feed goes to feedparser too: feedparser-rs drops its `origLink`."""
    if not _is_utf8(body, content_type) or ORIG_LINK in body:
        return None
    try:
        result = feedparser_rs.parse(body, sanitize_html=False, resolve_relative_uris=False)
    except Exception:  # any failure of the fast path: feedparser decides
        return None
    if (result.bozo and not _over_limit(result)) or not result.entries:
        return None
    if str(result.version).startswith("rss") and _misread_items(body, result.entries):
        return None  # feedparser reads them right
    if any(not entry.get("link") for entry in result.entries) and _PRIVATE_HOST.search(body):
        return None  # feedparser-rs blanks links to such hosts: feedparser keeps them
    atom = str(result.version).startswith("atom")
    if any(_has_relative_link(entry, atom) for entry in result.entries):
        # parsed again, resolving against xml:base and the channel's link, as feedparser does
        # with xml:base: rare, and resolving every summary's markup costs time. An xml:base
        # on a link itself feedparser-rs ignores
        return None if _LINK_BASE.search(body) else _fast_resolved(body, result)
    return result


def _misread_items(body: bytes, entries: Any) -> bool:
    """Whether an RSS or RDF document has items feedparser-rs misreads: `_MISREAD`, an
    item's Atom element (`_atom_elements`), a second description (`_SECOND_SUMMARY`), a
    `dc:identifier` as guid (`_identifier_guids`) or a date it dropped (`_dropped_dates`)."""
    first = body.find(b"<item")
    if first < 0:
        return False
    if _MISREAD.search(body) or _atom_elements(body, first):
        return True
    if _SECOND_SUMMARY.search(body, first) and body.find(b"<description", first) >= 0:
        return True
    return _identifier_guids(body, first, entries) or _dropped_dates(body, first, entries)


def _identifier_guids(body: bytes, first: int, entries: Any) -> bool:
    """Whether feedparser-rs took an item's `<dc:identifier>` for its guid, where the items
    have no `<guid>`: feedparser ignores it, and the story's id would hang on the parser."""
    if not any(entry.get("id") for entry in entries) or body.find(b"<guid", first) >= 0:
        return False
    return body.find(b"<dc:identifier", first) >= 0


def _dropped_dates(body: bytes, first: int, entries: Any) -> bool:
    """Whether feedparser-rs dated fewer entries than there are items with a date
    (`_DATED`). Items are looked at only where some entry has no date."""
    dated = sum(1 for entry in entries if entry.get("published") or entry.get("updated"))
    if dated == len(entries):
        return False
    starts = [found.start() for found in _ITEM.finditer(body, first)]
    ends = [*starts[1:], len(body)]
    with_date = sum(1 for at, end in zip(starts, ends, strict=True) if _DATED.search(body, at, end))
    return dated < with_date


# What of an RSS or RDF item (or channel) feedparser-rs misreads, found in one pass:
# - a text element written empty and self-closed (`<guid/>`, `<description/>`,
#   `<dc:creator/>`, `<category/>`), as XML writers write an empty value: it reads it as
#   holding what follows, so the title, link or summary after it is lost or misplaced (the
#   title None, the link the guid's). Elements it reads for attributes alone
#   (`<enclosure .../>`, `<media:content .../>`) are read right. Such a tag in an entry's
#   HTML (`<source srcset=...>` in a <picture>) sends the feed to feedparser too: slower,
#   and as right;
# - a title or description (or content:encoded) whose HTML the feed neither escaped nor
#   wrapped in CDATA (`<description><p>Raw <b>markup</b> here</p></description>`): it keeps
#   the text up to the end of the first element within ("Raw markup"), feedparser all of
#   it, as HTML (in the channel's title, the outlet's name). Text, escaped markup, CDATA or
#   a comment before the first tag pass.
_MISREAD = re.compile(
    rb"""<(?:
        (?:(?:dc|dcterms|content|wfw|slash|itunes):[\w.-]+|title|link|description|author
           |category|comments|source|pubDate|guid)(?:\s[^<>]*)?/>
        | (?:title|description|content:encoded)>[^<]*<(?![!/])
    )""",
    re.VERBOSE,
)
# the prefixes an RSS document binds to Atom's namespace (`atom`, `atom10`, .NET's `a10`)
_ATOM_PREFIX = re.compile(rb"""xmlns:([\w.-]+)\s*=\s*["']http://www\.w3\.org/2005/Atom["']""")
_ATOM_ELEMENT = re.compile(rb"(?:link|summary|content)\b")


def _atom_elements(body: bytes, first: int) -> bool:
    """Whether an item holds an Atom link (its web page where it has no `<link>`), summary
    or content, under a prefix the document binds to Atom before its first item:
    feedparser-rs ignores them, taking the guid, or nothing, for the story's link, and no
    summary or full text."""
    for prefix in set(_ATOM_PREFIX.findall(body, 0, first)):
        tag = b"<" + prefix + b":"
        at = body.find(tag, first)
        while at >= 0:
            if _ATOM_ELEMENT.match(body, at + len(tag)):
                return True
            at = body.find(tag, at + 1)
    return False


# a summary beside an item's `<description>`: feedparser reads the second as the item's
# full text, feedparser-rs keeps one (the last) as its summary and drops the other
_SECOND_SUMMARY = re.compile(rb"<(?:dc:description|itunes:summary)\b")
# an item's date: feedparser-rs drops a `dc:date` it cannot read (`2026-12-05T10:00+09:00`,
# W3C-DTF without seconds) and ignores `dcterms:modified` or an Atom date (`a10:updated`);
# feedparser reads them
_DATED = re.compile(
    rb"<(?:pubDate|[\w.-]+:(?:date|issued|modified|created|updated|published))>\s*[^\s<]"
)
_ITEM = re.compile(rb"<item[\s>]")


# a URL whose host feedparser-rs takes for a private one and blanks as an entry's link: an IP
# literal (127.0.0.1, 10.x, 192.168.x, [::1], 2130706433), localhost, *.local, *.internal.
# A feed on a company's network links its own hosts; feedparser keeps their links.
_PRIVATE_HOST = re.compile(
    rb"://(?:[^/?#@\s\"'<>]*@)?(?:\[|\d|[^/?#\s\"'<>]*(?:localhost|\.local|\.internal)\b)",
    re.IGNORECASE,
)


def _has_relative_link(entry: Any, atom: bool) -> bool:
    """Whether the entry's link, or one of an Atom entry's links (its page may be another
    than the one feedparser-rs took: `parse._alternate`), is relative."""
    if is_relative_url(entry.get("link") or ""):
        return True
    links = entry.get("links") or () if atom else ()
    return any(is_relative_url(link.get("href") or "") for link in links)


_LINK_BASE = re.compile(rb"<(?:atom:)?link\b[^>]*\sxml:base\s*=")


def _over_limit(result: Any) -> bool:
    """Whether feedparser-rs stopped at `MAX_ENTRIES`, its limit, with more to read."""
    exc = str(result.get("bozo_exception") or "")
    return len(result.entries) == MAX_ENTRIES and exc.startswith("Entry limit exceeded")


def _fast_resolved(body: bytes, unresolved: Any) -> Any:
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


def complaint(result: Any, content_type: str | None, body: bytes) -> str | None:
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
