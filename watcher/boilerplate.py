"""What of an entry's text is not the story's: other outlets' headlines in a coverage list,
the closing line a WordPress site gives every entry, a summary that only repeats the title.

In: a summary (its HTML, or its plain text) and the entry's title as plain text. Out: the
summary without them, and the links of a coverage list's other stories. Pure functions; no I/O.
"""

from __future__ import annotations

import re
from html import unescape
from typing import NamedTuple

from watcher.normalise import TAG, plain_text

# A summary that lists the coverage of a story, an item per outlet, each item a link:
# Google News gives an entry of a story that several outlets reported so, its own headline first.
_LIST_START = re.compile(r"\s*<(?:ol|ul)\b", re.IGNORECASE)
LIST_MAX_CHARS = 20_000  # coverage lists are a few items long: a longer summary is text
FOOTER_SITE_CHARS = 200  # a longer "site name" after WordPress's words is text of the story


class Coverage(NamedTuple):
    """A summary as the entry's own text, and the links a coverage list gives other
    outlets' stories of the same news (none for any other summary)."""

    own: str
    others: tuple[str, ...] = ()


def coverage(html: str, title: str) -> Coverage:
    """Of a summary that is a list of links to stories, the first of them headed by the
    entry's own `title` (plain text): that first item, and the other items' links (as the
    HTML gives them). The others are other outlets' stories of the same news, and their
    words are not this story's. Any other summary as it is."""
    if len(html) > LIST_MAX_CHARS or not _LIST_START.match(html):
        return Coverage(html)
    items = _list_items(html)
    if len(items) < 2 or not all(item.headline for item in items):
        return Coverage(html)
    own = plain_text(items[0].headline).casefold()
    if not own or not title.casefold().startswith(own):
        return Coverage(html)
    return Coverage(items[0].html, tuple(item.href for item in items[1:] if item.href))


class _Item(NamedTuple):
    html: str
    headline: str  # the HTML of its first link's text
    href: str  # that link's address


def _list_items(html: str) -> list[_Item]:
    """Each `<li>` item with its first link ('' for none). One pass over the tags (`TAG`
    never scans past a '<'), so hostile HTML costs linear time."""
    items, item_at, link_at, headline, href = [], -1, -1, "", ""
    for tag in TAG.finditer(html):
        closing, name = tag.group(1), tag.group(2).lower()
        if name == "li" and not closing:
            item_at, link_at, headline, href = tag.end(), -1, "", ""
        elif name == "li" and item_at >= 0:
            items.append(_Item(html[item_at : tag.start()], headline, href))
            item_at = -1
        elif name == "a" and item_at >= 0 and not headline:
            if not closing:
                link_at, href = tag.end(), _href(tag.group(3))
            elif link_at >= 0:
                headline = html[link_at : tag.start()]
    return items


_HREF = re.compile(r"""\shref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'<>`]+))""", re.IGNORECASE)


def _href(attributes: str) -> str:
    """The href of a tag's attributes, its character references read ('' for none)."""
    found = _HREF.search(attributes)
    return unescape(next(filter(None, found.groups()), "")).strip() if found else ""


def without_post_footer(summary: str, title: str) -> str:
    """A summary (plain text) without what sites close every entry with: WordPress's line
    "The post TITLE appeared first on SITE." (Yoast SEO's default), and before it a link to
    read on (`_READ_MORE`: "Read more »", "Continue reading →", "Читать далее"). No words
    of the story: an alert showed them, and they weighed in the text the rules and
    clustering read."""
    return _without_read_more(_without_wordpress_line(summary, title))


def _without_wordpress_line(summary: str, title: str) -> str:
    at = summary.rfind("The post ")
    if at < 0 or not title:
        return summary
    tail = summary[at:]
    site = tail.removeprefix(f"The post {title} appeared first on ")
    if site == tail or not site.endswith(".") or ". " in site or len(site) > FOOTER_SITE_CHARS:
        return summary  # not the footer, or text follows it
    return summary[:at].rstrip()


def _without_read_more(summary: str) -> str:
    tail = summary[-READ_MORE_CHARS:]  # only the end is read: a summary runs to 20,000
    found = _READ_MORE.search(tail)
    return summary[: len(summary) - len(tail) + found.start()] if found else summary


# a link to read on, after the end of a sentence (or a cut: `…`), closing a summary: in
# English, German, French, Spanish, Italian, Portuguese, Dutch, Russian, Kazakh, Japanese
# and Chinese; arrows and brackets around it as sites write them
_READ_MORE = re.compile(
    r"(?<=[.!?…:;)\]。！？）」])\s*[\[(]?(?:read more|read on|continue reading|keep reading|more"
    r"|read the (?:full|whole|rest of the) (?:story|article|post)|click here to read more"
    r"|weiterlesen|mehr lesen|lire la suite|leer más|seguir leyendo|continua a leggere"
    r"|leggi tutto|ler mais|continue lendo|lees meer|читать далее|читать полностью"
    r"|подробнее|толығырақ|続きを読む|全文を読む|阅读全文|阅读更多|查看全文)"
    r"[\s.»›→>…]*[\])]?\s*$",
    re.IGNORECASE,
)
READ_MORE_CHARS = 80  # of a summary's end, where a link to read on is looked for


_WORDS = re.compile(r"\w+")


def repeats_title(summary: str, title: str, source: str) -> bool:
    """Whether a summary (plain text) says no more than the entry's title: each of its words
    is one of the title's or of the outlet's name (`source`). Google News gives "Headline -
    Outlet" and "Headline  Outlet"; some feeds copy the title into the description. Case,
    punctuation and spacing aside."""
    if not summary or len(summary) > len(title) + len(source) + 8:  # most summaries: no scan
        return False
    said = set(_WORDS.findall(summary.casefold()))
    return bool(said) and said <= set(_WORDS.findall(f"{title} {source}".casefold()))
