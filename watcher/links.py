"""How a document's entries' links become stories' links: made absolute against the
channel's link or the feed's URL, through redirectors, canonical; a link home is none.

In: the raw links of one document. Out: stories' links, the links a coverage list gives
other stories, the outlet a redirector's link names, and the feeds a web page names.
Pure; no I/O.
"""

from __future__ import annotations

import re
from html import unescape
from typing import NamedTuple
from urllib.parse import urljoin, urlsplit

from watcher.normalise import TAG, without_controls
from watcher.urls import absolute_url, canonical_url, is_relative_url, unwrapped_url

MAX_RELATED = 20  # links of a coverage list's other stories kept


class Links(NamedTuple):
    """How a document's entries' links become stories' links.

    A relative link the parser did not resolve (against xml:base) is resolved against the
    first of `bases` (the channel's link, then the feed's http(s) URL) that makes it
    absolute. A link to one of `homes` (the same two) is the site's or the feed's, not the
    story's. Canonical links drop fragments, but not those in `fragmented`: links that the
    document gives to several entries with other fragments (a page of news with anchors)."""

    bases: tuple[str | None, ...]
    homes: frozenset[str]
    fragmented: frozenset[str]

    @classmethod
    def of(cls, raw_links: list[str], channel_link: str | None, url: str | None) -> Links:
        bases = (channel_link, url if url and url.startswith(("http:", "https:")) else None)
        homes = frozenset(canonical_url(b) for b in bases if b and not is_relative_url(b))
        fragments: dict[str, set[str]] = {}
        for raw in raw_links:
            if "#" in raw:
                absolute = unwrapped_url(absolute_url(raw, *bases))
                fragments.setdefault(canonical_url(absolute), set()).add(_fragment(absolute))
        fragmented = frozenset(link for link, found in fragments.items() if len(found) > 1)
        return cls(bases, homes, fragmented)

    def story_link(self, raw: str) -> str:
        """The canonical absolute link of `raw` (of the page it leads to, for a link that
        only redirects: `unwrapped_url`), or '' for none, a link home, or a link of another
        scheme than http(s) (`javascript:`, `data:`, `file:`: no story's page, and a
        hostile feed's way into an alert's links)."""
        if not raw:
            return ""
        if not raw.isprintable() or " " in raw:  # an ESC would reach a terminal, a space
            raw = without_controls(raw.strip())  # end a link in a text, U+202E turn it
        absolute = unwrapped_url(absolute_url(raw, *self.bases))
        link = canonical_url(absolute)
        if link in self.fragmented and (fragment := _fragment(absolute)):
            link = f"{link}#{fragment}"
        web = link[:6].lower().startswith(("http:", "https:")) or is_relative_url(link)
        if link in self.homes or not web:
            return ""
        return link

    def related(self, others: tuple[str, ...], link: str) -> tuple[str, ...]:
        """The web links of the stories a coverage list names besides the entry's own
        (`link`), as stories' links are made; none holds a line break, as the store keeps
        them a line each."""
        if not others:  # nearly every entry
            return ()
        found = dict.fromkeys(map(self.story_link, others[:MAX_RELATED]))
        return tuple(
            other for other in found
            if other != link and other.startswith(("http:", "https:")) and "\n" not in other
        )  # fmt: skip


def page_host(raw_link: str) -> str | None:
    """The host, without "www.", of the page a redirector's link leads to; None for a link
    that does not redirect."""
    page = unwrapped_url(raw_link)
    if page == raw_link:
        return None
    try:
        host = urlsplit(page).hostname or ""
    except ValueError:  # a malformed host: no outlet to name
        return None
    return host.removeprefix("www.") or None


def _fragment(url: str) -> str:
    return url.partition("#")[2]


# -- the feeds a web page names ------------------------------------------------------------

FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/feed+json",  # not application/json: WordPress so links its REST API's pages
)
PAGE_HEAD_BYTES = 256 * 1024  # of a page, all that is searched for its feeds' links
MAX_NAMED_FEEDS = 5
# a name begins after no other name character: tried at each letter of a long run, the
# pattern took 11 minutes over a page whose one <link> held 256 KB of letters
_ATTRIBUTE = re.compile(
    r"""(?<![\w:-])([a-zA-Z][\w:-]*+)\s*+=\s*+(?:"([^"]*)"|'([^']*)'|([^\s"'<>`]+))"""
)


def named_feeds(page: bytes, url: str | None) -> list[str]:
    """The feeds a web page names, as feed readers find them: its `<link rel="alternate">`
    tags of an RSS, Atom, RDF or JSON Feed type, made absolute against `url`, the web links
    each once, at most `MAX_NAMED_FEEDS`. One pass over the tags of the page's beginning: linear in
    its length, whatever the page holds."""
    text = page[:PAGE_HEAD_BYTES].decode("utf-8", "replace")
    found: dict[str, None] = {}
    for tag in TAG.finditer(text):
        if tag.group(1) or tag.group(2).lower() != "link":
            continue
        attributes = _attributes(tag.group(3))
        kind = attributes.get("type", "").partition(";")[0].strip().lower()
        if "alternate" not in attributes.get("rel", "").lower().split() or kind not in FEED_TYPES:
            continue
        try:
            href = urljoin(url or "", attributes.get("href", "").strip())
        except ValueError:  # a malformed href (`http://[::1/feed`): no feed to name
            continue
        if href.startswith(("http://", "https://")):
            found[href] = None
        if len(found) == MAX_NAMED_FEEDS:
            break
    return list(found)


def _attributes(text: str) -> dict[str, str]:
    """A tag's attributes by lower-case name, character references read."""
    return {
        match.group(1).lower(): unescape(next((g for g in match.groups()[1:] if g is not None), ""))
        for match in _ATTRIBUTE.finditer(text)
    }
