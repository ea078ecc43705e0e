"""Which parser reads a document, and what it makes of the document's form.

In: a feed's bytes and Content-Type. Out: the parser's result (feedparser's shape), whether
feedparser-rs read it, whether the document lists more than `MAX_ENTRIES` entries, how
its bytes were read where not as it declares, and feedparser's complaint worth a warning
(`complaint`). Raises: `ParseError` when feedparser fails on the bytes.

feedparser-rs (Rust, feedparser's API) parses a well-formed UTF-8 feed about 50 times
faster than feedparser; feedparser takes every other body: one not in valid UTF-8 or
declaring another encoding (in its XML declaration or Content-Type), one feedparser-rs
calls malformed or cannot read, a FeedBurner feed (feedparser-rs drops `origLink`), one
whose entries link to hosts feedparser-rs blanks, RSS whose items it misreads, Atom whose
text holds markup not escaped, Atom whose link has an `xml:base` of its own, and RSS or
RDF with an `xml:base` and a relative link (`misreads`). A body not in the encoding it
declares, where `charsets` can tell its own, is read again in UTF-8 first, by either
parser. A JSON Feed goes to neither: `json_feed` reads it into the same shape. What
feedparser-rs reads otherwise than feedparser in a document it does read (a link's `&`
escaped twice, some dates, Windows-1252 character references, an Atom entry's alternates)
is put right where the entry is read (`parse`, `dates`, `normalise`).
"""

from __future__ import annotations

import codecs
import io
import re
import xml.sax
from typing import Any

import feedparser
import feedparser_rs

from watcher.charsets import legible, server_charset, xml_encoding
from watcher.errors import ParseError
from watcher.json_feed import is_json_feed, read_json_feed
from watcher.misreads import (
    LINK_BASE,
    PRIVATE_HOST,
    XML_BASE,
    has_relative_link,
    misread_atom,
    misread_items,
    misread_media,
)

# a document's entries read, the first in its order (feeds list the newest first): a feed of
# more is an archive, or a hostile one (10 MB of empty items make a million stories)
MAX_ENTRIES = 10_000  # feedparser-rs's default limit: it stops reading there
TOO_MANY = f"the feed lists more than {MAX_ENTRIES:,} entries: the first {MAX_ENTRIES:,} are read"
_UTF8_CHARSETS = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})
ORIG_LINK = b"origLink"


def read_document(body: bytes, content_type: str | None) -> tuple[Any, bool, bool, str | None]:
    """The document read by the parser for it, whether that was feedparser-rs, whether it
    lists more than `MAX_ENTRIES` entries (feedparser-rs and `json_feed` read no more;
    feedparser reads them all, and all but the first are dropped), and how its bytes were
    read where they are not in the encoding it declares (`charsets.legible`), else None."""
    if is_json_feed(body):
        result = read_json_feed(body, MAX_ENTRIES)
        return result, False, bool(result.get("cut")), None
    fast = fast_parse(body, content_type)
    if fast is not None:
        return fast, True, _over_limit(fast), None
    recoded = legible(body, content_type)  # only here: a UTF-8 feed is read above
    read_as = None
    if recoded is not None:
        body, content_type, read_as = recoded
        fast = fast_parse(body, content_type)
        if fast is not None:
            return fast, True, _over_limit(fast), read_as
    full = _full_parse(body, content_type)
    return full, False, len(full.entries) > MAX_ENTRIES, read_as


def fast_parse(body: bytes, content_type: str | None) -> Any | None:
    """feedparser-rs's result for a well-formed UTF-8 feed, else None (feedparser decides).
    A FeedBurner feed goes to feedparser too: feedparser-rs drops its `origLink`."""
    if not _is_utf8(body, content_type) or ORIG_LINK in body:
        return None
    result = _rust_parse(body, resolve=False)
    if result is None or (result.bozo and not _over_limit(result)) or not result.entries:
        return None
    version = str(result.version)
    atom = version.startswith("atom")
    if version.startswith("rss") and misread_items(body, result.entries):
        return None  # feedparser reads them right
    if atom and misread_atom(body):
        return None  # likewise
    if misread_media(body, result.entries):
        return None  # a caption taken for a title, or dropped
    if any(not entry.get("link") for entry in result.entries) and PRIVATE_HOST.search(body):
        return None  # feedparser-rs blanks links to such hosts: feedparser keeps them
    if any(has_relative_link(entry, atom) for entry in result.entries):
        # parsed again, resolving against xml:base and the channel's link, as feedparser does
        # with xml:base: rare, and resolving every summary's markup costs time. An xml:base
        # on a link itself feedparser-rs ignores, and in RSS and RDF any
        if LINK_BASE.search(body) or (not atom and XML_BASE.search(body)):
            return None
        return _fast_resolved(body, result)
    return result


def _media_text_apart() -> None:
    """Have feedparser read Media RSS's `<media:description>` and `<media:title>` (a photo's
    caption, a video's title) into keys of their own, `media_description` and `media_title`,
    as feedparser-rs does: it read them as the entry's description and title, so an item
    whose `<media:content>` came before its description had the caption for its summary,
    and one without a title the caption's title. Its handlers are replaced, as feedparser
    (pinned below 7) names them."""
    namespace = feedparser.namespaces.mediarss.Namespace
    for key in ("media_description", "media_title"):

        def start(parser: Any, attrs: dict[str, str], key: str = key) -> None:
            parser.push_content(key, attrs, "text/plain", parser.infeed or parser.inentry)

        def end(parser: Any, key: str = key) -> None:
            parser.pop_content(key)

        setattr(namespace, f"_start_{key}", start)
        setattr(namespace, f"_end_{key}", end)


_media_text_apart()


def read_loosely(result: Any) -> bool:
    """Whether feedparser read the document with its lenient parser, as it does one that is
    not well-formed XML (or in an encoding it cannot tell): that parser leaves `&lt;`,
    `&gt;`, `&quot;` and `&apos;` in an Atom link's href, and in an RSS link drops their `;`
    too (`O&aposBrien`)."""
    exc = result.get("bozo_exception")
    return isinstance(exc, xml.sax.SAXException | feedparser.CharacterEncodingUnknown)


def _over_limit(result: Any) -> bool:
    """Whether feedparser-rs stopped at `MAX_ENTRIES`, its limit, with more to read."""
    exc = str(result.get("bozo_exception") or "")
    return len(result.entries) == MAX_ENTRIES and exc.startswith("Entry limit exceeded")


def _fast_resolved(body: bytes, unresolved: Any) -> Any:
    result = _rust_parse(body, resolve=True)
    return result if result is not None and len(result.entries) == len(unresolved.entries) else None


def _rust_parse(body: bytes, *, resolve: bool) -> Any | None:
    """feedparser-rs's result, or None where it failed (feedparser decides): an error, or a
    panic of its Rust code, which Python sees as a `PanicException`, no `Exception` (a date
    such as `30.日-` raised one, which failed the feed's poll every time)."""
    try:
        return feedparser_rs.parse(body, sanitize_html=False, resolve_relative_uris=resolve)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # PanicException derives from BaseException alone
        return None


def _is_utf8(body: bytes, content_type: str | None) -> bool:
    """Declared as UTF-8 (or not declared) in the Content-Type and the XML, and valid UTF-8."""
    names = ((server_charset(content_type) or "utf-8").lower(),
             (xml_encoding(body) or "utf-8").lower())  # fmt: skip
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
    content_type = _as_bom_says(body, content_type)
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


# UTF-32's marks first: UTF-32LE's begins as UTF-16LE's does
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32le"), (codecs.BOM_UTF32_BE, "utf-32be"),
    (codecs.BOM_UTF16_LE, "utf-16le"), (codecs.BOM_UTF16_BE, "utf-16be"),
)  # fmt: skip


def _as_bom_says(body: bytes, content_type: str | None) -> str | None:
    """The Content-Type with the charset a UTF-16 or UTF-32 document's byte order mark
    names, whatever the header says, as RFC 7303 has it: feedparser read such a feed served
    as `text/xml` without a charset as US-ASCII, and failed on it or warned."""
    for bom, charset in _BOMS:
        if body.startswith(bom):
            media = (content_type or "application/xml").split(";")[0].strip()
            return f"{media}; charset={charset}"
    return content_type


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
        own = (xml_encoding(body) or "utf-8").lower()
        return (
            media.startswith("text/")
            and not server_charset(content_type)
            and own == str(read_as).lower()
        )
    return "undefined entity" in str(exc) and _EXTERNAL_DTD.search(body[:4096]) is not None


_EXTERNAL_DTD = re.compile(rb"<!DOCTYPE\s+[\w:.-]+\s+(?:PUBLIC|SYSTEM)\s", re.IGNORECASE)
