"""Parse the bytes of a feed into normalised stories.

In: the body we fetched, its Content-Type and URL, the feed's name and the fetch time.
Out: a `ParsedFeed`. A malformed feed that still yields entries is used, with a warning.
Raises: `ParseError` when the bytes hold no feed at all.

Two parsers with one output (`parsers` picks one): feedparser-rs for a well-formed UTF-8
feed, about 50 times faster, and feedparser for every other body. Both give the same
stories on the shared corpus and our fixtures (tests/test_parse.py holds them to it), so a
feed's story ids never depend on the parser. A JSON Feed goes to neither: `json_feed` reads
it into the same shape. Of a document, the first `MAX_ENTRIES` entries are read.

Neither parser fetches: they get bytes. Neither expands entity declarations of a DOCTYPE or
loads external entities, so entity bombs and references to local files expand to nothing.
HTML is not sanitised because every field is reduced to plain text below and escaped
wherever it is shown.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from watcher import entry_html
from watcher.boilerplate import coverage, repeats_title, without_post_footer
from watcher.dates import published_time
from watcher.entry_dates import document_order, entry_dates, raw_date, unread_dates
from watcher.errors import ParseError
from watcher.freshness import channel_ttl
from watcher.links import Links, named_feeds, page_host
from watcher.models import DateOrder, ParsedFeed, Story
from watcher.normalise import plain_text, repaired, story_id, title_of_untitled
from watcher.parsers import MAX_ENTRIES, TOO_MANY, complaint, read_document, read_loosely

MAX_TITLE = 1000
MAX_SUMMARY = 20_000
MAX_BODY = 20_000  # characters of an entry's full text kept, as of a summary
BODY_HTML_CHARS = 5 * MAX_BODY  # of its HTML, all that is read
_ENTITY = r"&(?:#[xX]([0-9a-fA-F]+)|#([0-9]+)|({names}));"  # the groups `_xml_character` reads
_XML_ENTITY = re.compile(_ENTITY.format(names="amp|lt|gt|quot|apos"))
# what feedparser's lenient parser leaves in an Atom href: it reads `&amp;` alone
_LOOSE_ATOM_ENTITY = re.compile(_ENTITY.format(names="lt|gt|quot|apos"))
_XML_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
# What feedparser's lenient parser leaves of an entity in an RSS link: `&apos;` as `&apos`,
# `&amp;amp;p=2` as `&ampp=2` (`&amp=1`, the AMP parameter, is left as it is)
_LOOSE_ENTITY = re.compile(r"&(?:(lt|gt|quot|apos);?|amp(?=[^=&#;]))")


def parse_feed(
    body: bytes,
    *,
    feed: str,
    fetched_at: datetime,
    content_type: str | None = None,
    source: str | None = None,
    url: str | None = None,
    timezone: str | None = None,
    date_order: DateOrder | None = None,
) -> ParsedFeed:
    """Parse `body` into stories of `feed`; `source` overrides the outlet name. `url`, where
    the feed was fetched from, is the base of last resort for relative links (see `_story`).
    `timezone` (an IANA zone) is the zone of the entries' dates that name none, else UTC;
    `date_order`, what comes first in their dates with the year last, else what the
    document's dates show (`entry_dates.document_order`).
    A story whose link redirects (`unwrapped_url`) is, without an outlet of its own or a
    configured one, from the host of the page it leads to: a Google Alerts feed's title
    names the search, not the outlet."""
    result, fast, cut, read_as = read_document(body, content_type)
    problem = None if fast and cut else complaint(result, content_type, body)  # bozo: `cut`
    problem = "; ".join(filter(None, [read_as, problem, TOO_MANY if cut else None])) or None
    entries = result.entries[:MAX_ENTRIES]
    if not entries:
        if problem or not result.get("version"):
            raise ParseError(_no_feed(problem, body, url))
        return ParsedFeed(title=_feed_title(result), stories=(), ttl=_ttl(result))
    channel_title = _feed_title(result)
    atom = str(result.version).startswith("atom")  # `_entry_link` reads its links alike
    loose = not fast and read_loosely(result)
    raw_links = [_entry_link(entry, fast=fast, loose=loose, atom=atom) for entry in entries]
    links = Links.of(raw_links, result.feed.get("link"), url)
    entry_links = [links.story_link(raw) for raw in raw_links]
    shared = _shared_guids(entries, entry_links)
    entry_links = _without_shared_links(entries, entry_links)
    zone = ZoneInfo(timezone) if timezone else None
    order = date_order or document_order(entries)
    stories = tuple(
        _story(
            entry, link, feed=feed, fetched_at=fetched_at,
            source=source or page_host(raw) or channel_title or feed, links=links,
            shared_guids=shared, zone=zone, atom=atom, order=order,
        )
        for entry, raw, link in zip(entries, raw_links, entry_links, strict=True)
    )  # fmt: skip
    unread = unread_dates(entries, stories, order, zone)
    return ParsedFeed(
        title=channel_title, stories=_without_boilerplate(stories),
        warning="; ".join(filter(None, [problem, unread])) or None, ttl=_ttl(result),
    )  # fmt: skip


def _ttl(result: Any) -> float | None:
    return channel_ttl(result.feed.get("ttl"))


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


def _without_shared_links(entries: Any, links: list[str]) -> list[str]:
    """The entries' links, '' for one the document gives to entries of other titles and
    guids: a press page or a section's index that every entry links to is no story's page,
    and the stories that shared it were clustered as one news item, alerted once for all.
    One entry listed twice (under one title, or one guid) keeps its link."""
    if len(set(links)) == len(links):  # nearly every document: each entry its own link
        return links
    titles: dict[str, set[str]] = {}
    keys: dict[str, set[str]] = {}
    for entry, link in zip(entries, links, strict=True):
        if link:
            title = _plain(entry.get("title"))
            titles.setdefault(link, set()).add(title)
            keys.setdefault(link, set()).add(_guid(entry) or title)
    shared = {link for link in titles if len(titles[link]) > 1 and len(keys[link]) > 1}
    return ["" if link in shared else link for link in links] if shared else links


def _entry_link(entry: Any, *, fast: bool, loose: bool, atom: bool) -> str:
    """The entry's link as the document gives it (FeedBurner's `origLink`, the story's own
    page, before its feedproxy.google.com redirect), as feedparser reads a well-formed
    document, whichever parser read it (`fast`: feedparser-rs; `loose`: feedparser's
    lenient parser, `read_loosely`): both leave entities in Atom hrefs; feedparser-rs
    reads an RSS link's ampersand escaped twice (`?a=1&amp;amp;b=2`, as some publishing
    systems write it) as `&amp;`, where feedparser reads `&`, and the lenient parser
    `&apos;` as `&apos` (`O&aposBrien`) and that `&` as `&amp` (`_LOOSE_ENTITY`); feedparser
    reads an RSS item's link taken from its guid (it has no `<link>`) as feedparser-rs does.
    An Atom entry's link is its `_alternate`."""
    own = (atom and _alternate(entry)) or entry.get("link") or ""
    link = (entry.get("feedburner_origlink") or "").strip() or own
    from_guid = not atom and link == own and entry.get("guidislink")
    if not (link and (fast or loose or from_guid)):
        return link
    if atom:
        return (_XML_ENTITY if fast else _LOOSE_ATOM_ENTITY).sub(_xml_character, link)
    if loose:
        return _LOOSE_ENTITY.sub(lambda found: _XML_NAMED[found.group(1) or "amp"], link)
    return link.replace("&amp;", "&")


_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


def _alternate(entry: Any) -> str:
    """An Atom entry's web page: its first `alternate` link of an HTML type (`rel` and `type`
    in any case, the type's parameters ignored), else its first alternate; '' for none.
    feedparser took the last HTML one (of `hreflang` versions), none with parameters and
    none in capitals, and the entry's id where no alternate was HTML; feedparser-rs the
    first alternate whatever its type (a PDF before the page) and none in capitals."""
    other = ""
    for link in entry.get("links") or ():
        href = (link.get("href") or "").strip()
        if not href or (link.get("rel") or "alternate").lower() != "alternate":
            continue
        if (link.get("type") or "text/html").split(";")[0].strip().lower() in _HTML_TYPES:
            return href
        other = other or href
    return other


def _guid(entry: Any) -> str | None:
    return (entry.get("id") or "").strip() or None


def _story(
    entry: Any, entry_link: str, *, feed: str, fetched_at: datetime, source: str,
    links: Links, shared_guids: frozenset[str], zone: tzinfo | None = None, atom: bool = False,
    order: DateOrder | None = None,
) -> Story:  # fmt: skip
    """One entry as a story; `entry_link`: its own link as `links` made it ('' for none, a
    link home or one shared, `_without_shared_links`), for which a guid that is a web
    address stands in. A guid in `shared_guids` is dropped: the story is known by its link,
    and clustering does not take stories that shared it for one. `zone`: of dates that name
    none (`entry_time`). `atom`: its text constructs of type text are text
    (`entry_html.as_html`). `order`: of day and month in its document's dates with the
    year last (`numeric_dates.year_last_order`)."""
    title_html = entry_html.as_html(entry.get("title"), entry.get("title_detail"), atom)
    own_title = _plain(title_html)[:MAX_TITLE]
    summary_html = entry_html.summary_html(entry, atom)
    listed = coverage(repaired(summary_html), own_title)
    summary = without_post_footer(plain_text(listed.own), own_title)[:MAX_SUMMARY]
    body = _body(entry, summary_html, summary, own_title, atom)
    guid = _guid(entry)
    guid = None if guid in shared_guids else guid
    web_guid = guid if guid and guid.startswith("http") else ""
    link = entry_link or links.story_link(web_guid)
    title = own_title or title_of_untitled(summary, link)
    source = _plain((entry.get("source") or {}).get("title")) or source
    if repeats_title(summary, own_title, source):
        summary = ""  # nothing to show or match that the title does not hold
    published = published_time(*entry_dates(entry, order, zone), fetched_at)
    return Story(
        id=story_id(feed, guid, link, title, raw_date(entry)),
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
    digits = hex_code or code
    if len(digits.lstrip("0")) > 8:  # past U+10FFFF in either base; int() refuses thousands
        return found.group(0)
    number = int(digits, 16 if hex_code else 10)
    return chr(number) if _is_xml_char(number) else found.group(0)


def _is_xml_char(code: int) -> bool:
    """Whether XML 1.0 allows the character: not a lone surrogate (`&#xD800;`, which no text
    can store or encode as UTF-8), nor a control but tab and line ends, nor U+FFFE/FFFF."""
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def _body(entry: Any, summary_html: str, summary: str, title: str, atom: bool) -> str:
    """The entry's full text (RSS `content:encoded`, Atom `content`) as plain text, where
    it says more than the summary (a WordPress feed's excerpt); '' where it does not, and
    where the summary is that text already (an entry with a content and no summary)."""
    html = entry_html.content_html(entry, atom)
    if not html or html == summary_html:
        return ""
    body = without_post_footer(plain_text(repaired(html[:BODY_HTML_CHARS])), title)[:MAX_BODY]
    return body if len(body) > len(summary) else ""
