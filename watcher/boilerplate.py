"""What of an entry's text is not the story's: other outlets' headlines in a coverage list,
the closing line a WordPress site gives every entry.

In: a summary (its HTML, or its plain text) and the entry's title as plain text. Out: the
summary without them. Pure functions; no I/O.
"""

from __future__ import annotations

import re

from watcher.normalise import TAG, plain_text

# A summary that lists the coverage of a story, an item per outlet, each item a link:
# Google News gives an entry of a story that several outlets reported so, its own headline first.
_LIST_START = re.compile(r"\s*<(?:ol|ul)\b", re.IGNORECASE)
LIST_MAX_CHARS = 20_000  # coverage lists are a few items long: a longer summary is text
FOOTER_SITE_CHARS = 200  # a longer "site name" after WordPress's words is text of the story


def own_list_item(html: str, title: str) -> str:
    """Of a summary that is a list of links to stories, the first of them headed by the
    entry's own `title` (plain text), that first item: the others are other outlets'
    stories, and their words are not this story's. Any other summary as it is."""
    if len(html) > LIST_MAX_CHARS or not _LIST_START.match(html):
        return html
    items = _list_items(html)
    if len(items) < 2 or not all(headline for _, headline in items):
        return html
    first, headline = items[0]
    own = plain_text(headline).casefold()
    return first if own and title.casefold().startswith(own) else html


def _list_items(html: str) -> list[tuple[str, str]]:
    """Each `<li>` item's HTML with the HTML of its first link's text ('' for none). One
    pass over the tags (`TAG` never scans past a '<'), so hostile HTML costs linear time."""
    items, item_at, link_at, link = [], -1, -1, ""
    for tag in TAG.finditer(html):
        closing, name = tag.group(1), tag.group(2).lower()
        if name == "li" and not closing:
            item_at, link_at, link = tag.end(), -1, ""
        elif name == "li" and item_at >= 0:
            items.append((html[item_at : tag.start()], link))
            item_at = -1
        elif name == "a" and item_at >= 0 and not link:
            if not closing:
                link_at = tag.end()
            elif link_at >= 0:
                link = html[link_at : tag.start()]
    return items


def without_post_footer(summary: str, title: str) -> str:
    """A summary (plain text) without the line WordPress sites close every entry with,
    "The post TITLE appeared first on SITE." (Yoast SEO's default): no words of the story."""
    at = summary.rfind("The post ")
    if at < 0 or not title:
        return summary
    tail = summary[at:]
    site = tail.removeprefix(f"The post {title} appeared first on ")
    if site == tail or not site.endswith(".") or ". " in site or len(site) > FOOTER_SITE_CHARS:
        return summary  # not the footer, or text follows it
    return summary[:at].rstrip()
