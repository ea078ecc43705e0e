"""A feed whose bytes are not in the encoding it declares (or, declaring none, not UTF-8),
read as a browser or a person would: UTF-8 declared as another encoding (a server's
default charset, windows-1251, over a UTF-8 site) as UTF-8; UTF-8 with a few broken
sequences (a summary cut in the middle of a character) as UTF-8, each broken sequence
U+FFFD; a Cyrillic, Greek, CJK or other non-Latin text in a legacy encoding (windows-1251,
KOI8-R, Shift_JIS, GBK, EUC-KR) in the encoding charset_normalizer finds. feedparser read
each in the declared encoding or as Windows-1252 (or another single-byte code page):
every title mojibake, no rule's words found.

A Latin-script text stays feedparser's: Windows-1252, which feedparser falls back to, is
what an old Western feed is in, and a guess among the Latin code pages (1250, 1252, 1254)
from a few accented letters is often wrong.

In: a body and its Content-Type. Out: the body in UTF-8, declaring it, with a warning; or
None, to be read as it is. Pure.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections import Counter

import charset_normalizer

_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*[\"']([\w.:-]+)")
# a byte order mark says the encoding (`parsers._as_bom_says`); UTF-32LE's begins as UTF-16LE's
_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE)
_FFFD = "\ufffd"
_WIDE = ("utf-16", "utf-32")  # codec names of encodings whose text may read as UTF-8

# a body is UTF-8 with some sequences broken when its well-formed sequences beyond ASCII
# outnumber its broken ones this many times: in text of another encoding read as UTF-8,
# nearly every byte beyond ASCII breaks a sequence
UTF8_SHARE = 2
# a guess is taken when it reads at least this many letters beyond ASCII, at least half of
# them of a script other than Latin
MIN_LETTERS = 8
SAMPLE = 200_000  # characters of the text whose letters are counted


def server_charset(content_type: str | None) -> str | None:
    """The charset a Content-Type names, if any."""
    charset = _CHARSET.search(content_type or "")
    return charset.group(1) if charset else None


def xml_encoding(body: bytes) -> str | None:
    """The encoding a document's XML declaration names, if any."""
    declared = _XML_ENCODING.match(body[:512])
    return declared.group(1).decode("ascii") if declared else None


def declared_encoding(body: bytes, content_type: str | None) -> str | None:
    """The encoding the Content-Type's charset names, else the XML declaration's."""
    return server_charset(content_type) or xml_encoding(body)


def legible(body: bytes, content_type: str | None) -> tuple[bytes, str, str] | None:
    """The body in UTF-8 (its XML declaration saying so), its Content-Type with charset
    UTF-8, and the warning that says how it was read, where its bytes are not in the
    encoding it declares (or UTF-8) and are UTF-8 but for a few broken sequences, or text
    in a non-Latin script in another encoding; None where it is read as it is."""
    if body.startswith(_BOMS):
        return None
    declared = declared_encoding(body, content_type)
    name = _codec(declared or "utf-8")
    if name is None:
        return None  # an unknown encoding is feedparser's to report
    if name != "utf-8" and _utf8_instead(body, name):
        return _in_utf8(body.decode("utf-8"), content_type, f"declares {declared} but is UTF-8")
    if _decodes(body, name):
        return None
    if name == "utf-8" and (text := _mostly_utf8(body)) is not None:
        broken = text.count(_FFFD) - body.count(_FFFD.encode())
        said = f"not all UTF-8: {broken} broken sequence{'s' if broken > 1 else ''} read as U+FFFD"
        return _in_utf8(text, content_type, said)
    guess = _non_latin_guess(body)
    if guess is None:
        return None
    encoding, text = guess
    said = (
        f"not in the {declared} it declares" if declared else "not UTF-8, and declares no encoding"
    )
    return _in_utf8(text, content_type, f"{said}: read as {encoding}, guessed from its letters")


def _codec(name: str) -> str | None:
    """The codec of a text encoding's name; None for an unknown one, and for a codec of
    bytes to bytes or of text to text (`hex`, `zlib`, `rot13`), whose decode raised
    LookupError out of the parse."""
    try:
        codec = codecs.lookup(name).name
        b"\0".decode(codec)  # (Python skips an empty input's decode, and this check with it)
    except LookupError:
        return None
    except ValueError:  # utf-16 takes no single byte, `undefined` none at all: text encodings
        pass
    return codec


WIDE_SAMPLE = 64  # bytes of a body's beginning, where a document's markup begins


def _utf8_instead(body: bytes, codec: str) -> bool:
    """Whether a body declared in another `codec` is UTF-8: for UTF-16 or UTF-32, UTF-8
    without their zero bytes (`_wide`); for the rest, UTF-8 beyond ASCII (ASCII alone reads
    the same in them)."""
    if codec.startswith(_WIDE):
        return not _wide(body) and _decodes(body, "utf-8")
    return _utf8_beyond_ascii(body)


def _wide(body: bytes) -> bool:
    """Whether the body may be UTF-16 or UTF-32: those write each character of the markup a
    document begins with (`<?xml`, `<rss`, `{`) with a zero byte; UTF-8 and the legacy
    encodings write none. A UTF-8 feed a server declared UTF-16 was read as UTF-16: no feed,
    every poll failed."""
    return b"\0" in body[:WIDE_SAMPLE]


def _decodes(body: bytes, encoding: str) -> bool:
    try:
        body.decode(encoding)
    except (UnicodeDecodeError, ValueError):
        return False
    return True


def _utf8_beyond_ascii(body: bytes) -> bool:
    """Whether the body is UTF-8 with characters beyond ASCII: text in a legacy encoding
    (windows-1251's letters are bytes of 0xC0 and up, its punctuation below) is not."""
    return not body.isascii() and _decodes(body, "utf-8")


def _mostly_utf8(body: bytes) -> str | None:
    """The body decoded as UTF-8, each broken sequence U+FFFD, where its well-formed
    sequences beyond ASCII outnumber the broken ones `UTF8_SHARE` times; else None."""
    text = body.decode("utf-8", "replace")
    replaced = text.count(_FFFD)
    broken = replaced - body.count(_FFFD.encode())
    beyond = len(text) - len(text.encode("ascii", "ignore")) - replaced
    return text if beyond >= UTF8_SHARE * broken else None


def _non_latin_guess(body: bytes) -> tuple[str, str] | None:
    """charset_normalizer's encoding for the body and the text it reads, where that text
    has `MIN_LETTERS` letters beyond ASCII, at least half of them not Latin."""
    best = charset_normalizer.from_bytes(body).best()
    if best is None:
        return None
    text = str(best)
    letters = {
        char: n for char, n in Counter(text[:SAMPLE]).items() if char > "\x7f" and char.isalpha()
    }
    latin = sum(n for char, n in letters.items() if "LATIN" in unicodedata.name(char, ""))
    total = sum(letters.values())
    if total < MIN_LETTERS or latin * 2 > total:
        return None
    return best.encoding, text


def _in_utf8(text: str, content_type: str | None, warning: str) -> tuple[bytes, str, str]:
    """The text as UTF-8 bytes, its XML declaration's encoding UTF-8, and a Content-Type
    of the same media type saying charset UTF-8."""
    body = text.encode("utf-8")
    if declared := _XML_ENCODING.match(body[:512]):
        body = body[: declared.start(1)] + b"utf-8" + body[declared.end(1) :]
    media = (content_type or "application/xml").partition(";")[0].strip()
    return body, f"{media}; charset=utf-8", warning
