"""Feeds from an OPML file, as Feedly, Inoreader, Miniflux, NetNewsWire and rss2email export
their subscriptions, and feeds as such a file.

In: the file's bytes and its name. Out: `OpmlFeed`s (name, URL, the folders it sat in as
tags) and the outlines skipped, with why. Raises `InputError` (path and line) for a file
that is not XML or not OPML. Expat reads it: no DOCTYPE is fetched and no external entity
loaded, and an entity bomb is refused. `write_opml` makes the bytes of `OpmlFeed`s, each tag
a folder, which `read_opml` reads back as the same feeds.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import datetime
from email.utils import format_datetime
from typing import NamedTuple
from urllib.parse import urlsplit

from watcher.config.feeds import malformed, subscribe_link_target
from watcher.errors import InputError
from watcher.misreads import BARE_AMPERSAND
from watcher.normalise import LINE_BREAKS_AND_CONTROLS, fold_space
from watcher.urls import canonical_url, comparable_url


class OpmlFeed(NamedTuple):
    name: str
    url: str
    tags: tuple[str, ...]  # the folders it was found in, outermost first


class OpmlFeeds(NamedTuple):
    feeds: list[OpmlFeed]
    skipped: list[str]  # one line each: the outline and why


def read_opml(data: bytes, path: str) -> OpmlFeeds:
    """Every outline with an http(s) `xmlUrl` (its name in any case; a browser's `feed:`
    link read as the URL it names), once per URL (its folders merged as tags; URLs the
    config takes for one, `config.feeds.same_urls`, are one: the first written), named by
    its `title` or `text` (else its URL), names made unique with " (2)", " (3)". A file
    that is XML once its bare `&`s are escaped is read so."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        mended = _with_bare_ampersands(data)
        if mended is None:
            raise InputError(f"not XML: {exc}", path=path, line=exc.position[0]) from exc
        root = mended
    body = root.find("body")
    if root.tag != "opml" or body is None:
        raise InputError("not OPML: no <opml> with a <body>", path=path)
    found: dict[str, OpmlFeed] = {}
    skipped: list[str] = []
    for outline, folders in _outlines(body):
        url = _attribute(outline, "xmlUrl").strip()
        name = _label(outline)
        if not url:
            if (why := _no_feed_url(outline)) is not None:
                skipped.append(f"{name or '(no title)'}: {why}")
            continue  # else a folder
        url = subscribe_link_target(url) or url
        problem = _url_problem(url)
        if problem:
            shown = url if url.isprintable() else repr(url)
            skipped.append(f"{name or shown}: {shown}: {problem}")
            continue
        key = comparable_url(canonical_url(url))  # as the config tells one feed's URLs
        known = found.get(key)
        tags = tuple(dict.fromkeys((*known.tags, *folders))) if known else folders
        found[key] = (
            known._replace(tags=tags) if known else OpmlFeed(name or fold_space(url), url, tags)
        )
    return OpmlFeeds(_unique_names(list(found.values())), skipped)


def _with_bare_ampersands(data: bytes) -> ET.Element | None:
    """The file read with each `&` that begins no reference written `&amp;`, as exports
    leave it in a URL's query (`?emc=rss&partner=rss`); None when that is not XML either."""
    mended = BARE_AMPERSAND.sub(b"&amp;", data)
    if mended == data:
        return None
    try:
        return ET.fromstring(mended)
    except ET.ParseError:
        return None


def _url_problem(url: str) -> str | None:
    """Why `url` is no feed URL to write into the config, if it is not: white space or a
    control character in it, or what the config's check (`config.feeds.malformed`)
    refuses."""
    if LINE_BREAKS_AND_CONTROLS.search(url) or any(c.isspace() for c in url):
        return "not a valid URL (it holds white space or a control character)"
    if (why := malformed(url)) is not None:
        return f"not a valid URL: {why}"
    return None if urlsplit(url).scheme.lower() in ("http", "https") else "not an http(s) URL"


def _no_feed_url(outline: ET.Element) -> str | None:
    """Why an outline without `xmlUrl` that stands for a feed (a feed's `type`, or a link
    and no outline within: no folder) is skipped; None for a folder."""
    links = ((name, _attribute(outline, name)) for name in ("url", "htmlUrl"))
    link = next(((name, value) for name, value in links if value), None)
    if _attribute(outline, "type").lower() not in ("rss", "atom") and (
        link is None or outline.find("outline") is not None
    ):
        return None
    return "no xmlUrl, the feed's URL" + (f" (its {link[0]} is {link[1]!r})" if link else "")


MAX_FOLDERS = 20  # of the folders an outline sits in, the outermost taken as its tags


def _outlines(body: ET.Element) -> list[tuple[ET.Element, tuple[str, ...]]]:
    """Every outline under `body`, in document order, with the folders it sits in, each name
    once, the outermost `MAX_FOLDERS` (a stack, not recursion: a hostile file may nest
    outlines deeper than Python recurses; and a bounded tuple, shared once full: a copy of
    every folder above for each took 4 GB for a 1 MB file of 40,000 nested outlines)."""
    found: list[tuple[ET.Element, tuple[str, ...]]] = []
    stack: list[tuple[ET.Element, tuple[str, ...]]] = [
        (outline, ()) for outline in reversed(body.findall("outline"))
    ]
    while stack:
        outline, folders = stack.pop()
        found.append((outline, folders))
        folder = _label(outline)
        inner = folders
        if folder and not _attribute(outline, "xmlUrl") and len(folders) < MAX_FOLDERS:
            inner = folders if folder in folders else (*folders, folder)
        stack += [(child, inner) for child in reversed(outline.findall("outline"))]
    return found


def _label(outline: ET.Element) -> str:
    """An outline's `title`, else its `text`, as a feed's title is made one line ('' for
    none): white space folded, control characters as white space or as Windows-1252 gives
    them, invisible ones dropped; the config takes no name or tag with a control in it."""
    return fold_space(_attribute(outline, "title") or _attribute(outline, "text"))


def _attribute(outline: ET.Element, name: str) -> str:
    """An outline's attribute, its name in any case (`xmlurl`, `URL`), as exports write
    them; '' for none."""
    found = outline.get(name)
    if found is None:
        folded = name.lower()
        found = next((v for k, v in outline.attrib.items() if k.lower() == folded), None)
    return found or ""


def _unique_names(feeds: list[OpmlFeed]) -> list[OpmlFeed]:
    """Config feed names are unique: a name taken already gets " (2)", " (3)", ..."""
    taken: set[str] = set()
    tried: dict[str, int] = {}  # the last number tried for a name: n feeds of one name cost n
    unique = []
    for feed in feeds:
        name, n = feed.name, tried.get(feed.name, 1)
        while name in taken:
            n += 1
            name = f"{feed.name} ({n})"
        tried[feed.name] = n
        taken.add(name)
        unique.append(feed._replace(name=name))
    return unique


def write_opml(feeds: Sequence[OpmlFeed], title: str, created: datetime) -> bytes:
    """OPML 2.0 of `feeds`: those without tags at the top, each tag a folder holding every
    feed that has it (a feed of two tags is in both, as readers export a feed in two
    folders), in the order the tags first appear."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(created)
    body = ET.SubElement(root, "body")
    folders: dict[str, ET.Element] = {}
    for feed in feeds:
        for tag in feed.tags:
            if tag not in folders:
                folders[tag] = ET.SubElement(body, "outline", text=tag, title=tag)
    for feed in feeds:
        for parent in [folders[t] for t in feed.tags] or [body]:
            ET.SubElement(parent, "outline", type="rss", text=feed.name, title=feed.name,
                          xmlUrl=feed.url)  # fmt: skip
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
