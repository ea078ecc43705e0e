"""What feedparser-rs reads otherwise than feedparser in a document it parses without a
complaint, found in the document's bytes: such a document goes to feedparser (`parsers`).

In: a document's bytes and feedparser-rs's entries of it. Out: whether it holds what
feedparser-rs misreads (`misread_items` in RSS and RDF, `misread_atom` in Atom). Pure; a
pass or two over the bytes.
"""

from __future__ import annotations

import re
from typing import Any

from watcher.urls import is_relative_url


def misread_items(body: bytes, entries: Any) -> bool:
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


# a title not empty: `<title>X`, `<title type="xhtml"><div ...>X`, not `<title/>`,
# `<title type="text"/>`, `<title> </title>` or `<title><![CDATA[]]></title>`
_TITLED = re.compile(rb"<title(?:\s[^>]*)?(?<!/)>\s*(?!</title>|<!\[CDATA\[\s*\]\]>)")
_SOURCE = re.compile(rb"<source\b.*?</source>", re.DOTALL)  # an entry's, with its own title


def misread_media(body: bytes, entries: Any) -> bool:
    """Whether feedparser-rs may have misread an RSS item's or Atom entry's Media RSS
    caption, which feedparser reads right: taken its `<media:title>` for the title of an
    entry without one (`_caption_titles`), or dropped the `<media:description>` within a
    `<media:content>` of an entry without a summary (`_dropped_captions`)."""
    first = min((at for at in (body.find(b"<item"), body.find(b"<entry")) if at >= 0), default=0)
    return _caption_titles(body, first, entries) or _dropped_captions(body, first, entries)


def _caption_titles(body: bytes, first: int, entries: Any) -> bool:
    """Some entry has a media title, and fewer titles with text follow the first item or
    entry than there are entries (a `<source>`'s title aside)."""
    if not any(entry.get("media_title") for entry in entries):
        return False
    items = _SOURCE.sub(b"", body[first:])
    return sum(1 for _ in _TITLED.finditer(items)) < len(entries)


def _dropped_captions(body: bytes, first: int, entries: Any) -> bool:
    """Some entry has neither summary nor media description, and the document has a
    `<media:description>` (feedparser-rs reads one in a `<media:group>`, not one within a
    `<media:content>`: a video's or photo's caption, all the text such an item has)."""
    if all(entry.get("summary") or entry.get("media_description") for entry in entries):
        return False
    return body.find(b"<media:description", first) >= 0


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


def misread_atom(body: bytes) -> bool:
    """Whether an Atom document has a title, summary or content of type `text` or `html`
    (the default is text) that holds markup its feed neither escaped nor wrapped in CDATA
    (`<content type="html"><p>One.</p><p>Two.</p></content>`): feedparser-rs keeps its
    text up to the end of the first element within ("One."), feedparser all of it, as
    HTML. An `xhtml` one holds its markup as XML: both read it alike, but for an `&` that
    begins no character reference (`A & B`), where feedparser-rs stops ("A") without a
    complaint, as it complains of one elsewhere. One without a type (so text) that holds a
    tag, escaped or in CDATA, is text: feedparser-rs drops the tag as HTML's."""
    return (
        BARE_AMPERSAND.search(body) is not None
        or _found_unless(_ATOM_MARKUP, _XHTML_TYPE, body)
        or _found_unless(_TEXT_TAG, _TYPED, body)
    )


def _found_unless(construct: re.Pattern[bytes], attributes: re.Pattern[bytes], body: bytes) -> bool:
    """Whether `construct` is found in `body` once where its attributes (its first group) do
    not match `attributes`."""
    return any(not attributes.search(found[1] or b"") for found in construct.finditer(body))


# an Atom text construct's start tag, its attributes the first group: unprefixed, as Atom
# is written (`media:content`, `media:title` are Media RSS's), and not self-closed
# (`<content src="..."/>`)
_TEXT_CONSTRUCT = rb"<(?:title|summary|content|subtitle)(\s[^<>]*?)?(?<!/)>"
# one whose text is followed by a child element: not a closing tag, a comment or CDATA
_ATOM_MARKUP = re.compile(_TEXT_CONSTRUCT + rb"[^<]*<(?![!/])")
# an `&` that begins no character or entity reference (a name begins with a letter or `_`),
# which XML forbids: feedparser-rs reads an xhtml text up to it, `import-opml` escapes it
BARE_AMPERSAND = re.compile(rb"&(?!(?:[A-Za-z_][\w.-]*|#[0-9]+|#x[0-9A-Fa-f]+);)")
_XHTML_TYPE = re.compile(rb"""\btype\s*=\s*["'](?:xhtml|application/xhtml\+xml)["']""")
# a text construct without a type whose text holds a tag, escaped or in CDATA (`<title>Fix
# &lt;Suspense&gt; bug</title>`): of type text, the default, that is text, which feedparser-rs
# reads as HTML (as it does not one typed `text`), dropping the tag; feedparser keeps it
_TEXT_TAG = re.compile(_TEXT_CONSTRUCT + rb"\s*(?:<!\[CDATA\[[^<\]]*<|[^<]*&lt;)[A-Za-z/!?]")
_TYPED = re.compile(rb"\btype\s*=")


# a URL whose host feedparser-rs takes for a private one and blanks as an entry's link: an IP
# literal (127.0.0.1, 10.x, 192.168.x, [::1], 2130706433), localhost, *.local, *.internal.
# A feed on a company's network links its own hosts; feedparser keeps their links.
PRIVATE_HOST = re.compile(
    rb"://(?:[^/?#@\s\"'<>]*@)?(?:\[|\d|[^/?#\s\"'<>]*(?:localhost|\.local|\.internal)\b)",
    re.IGNORECASE,
)


def has_relative_link(entry: Any, atom: bool) -> bool:
    """Whether the entry's link, or one of an Atom entry's links (its page may be another
    than the one feedparser-rs took: `parse._alternate`), is relative."""
    if is_relative_url(entry.get("link") or ""):
        return True
    links = entry.get("links") or () if atom else ()
    return any(is_relative_url(link.get("href") or "") for link in links)


# an `xml:base` on a link itself, which feedparser-rs ignores resolving a relative link
LINK_BASE = re.compile(rb"<(?:atom:)?link\b[^>]*\sxml:base\s*=")
# any `xml:base`: in RSS and RDF (Drupal puts one on `<rss>`), feedparser-rs ignores each
XML_BASE = re.compile(rb"\sxml:base\s*=")
