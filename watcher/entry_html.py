"""An entry's text fields as the HTML they stand for, whichever parser read them.

In: a parsed entry (feedparser's shape) and whether its document is Atom. Out: the HTML of
its title, summary or content (`as_html`, `summary_html`, `content_html`), to be reduced
to plain text. Pure.
"""

from __future__ import annotations

import re
from html import unescape
from typing import Any


def summary_html(entry: Any, atom: bool) -> str:
    summary = entry.get("summary") or entry.get("description")
    if not summary:
        return content_html(entry, atom)
    return as_html(str(summary), entry.get("summary_detail"), atom)


def as_html(text: str | None, detail: Any, atom: bool) -> str:
    """An entry's text as the HTML it stands for: an Atom text construct of type `text`
    (the default) is text, whose `<` is its own (`Fix <Suspense> bug`, `<gallium>`), which
    HTML stripping took for a tag, unless it holds an HTML tag (`<p>`, `</b>`: HTML its feed
    did not label so) or is HTML escaped twice; any other as the feed wrote it
    (`_escaped_once_more`). An `&` stays: `&nbsp;` that a parser left as written."""
    if not text:
        return ""
    html = _escaped_once_more(str(text))
    if html == text and atom and (detail or {}).get("type") == "text/plain":
        return html if _HTML_TAG.search(html) else html.replace("<", "&lt;")  # `&` as it is
    return html


def content_html(entry: Any, atom: bool) -> str:
    """The entry's content; an RSS item's `<media:description>` beside its description is
    its content to feedparser, and feedparser-rs's `media_description`."""
    content = entry.get("content") or []
    if content:
        return as_html(str(content[0].get("value", "")), content[0], atom)
    media = entry.get("media_description")
    return _escaped_once_more(str(media)) if media and media != entry.get("summary") else ""


_TAGS = r"(?:p|div|br|img|a|b|i|strong|em|span|h[1-6]|ul|ol|li|table|figure|blockquote)"
# HTML a feed escaped twice begins with an escaped tag: `&lt;p&gt;`, `&lt;img src=...`
_ESCAPED_TAG = re.compile(rf"\s*&lt;/?{_TAGS}(?:\s|/?&gt;)", re.IGNORECASE)
_HTML_TAG = re.compile(rf"</?{_TAGS}(?:\s|/?>)", re.IGNORECASE)
# an escaped tag anywhere in the text: `/` in group 1 for a closing tag, its name in group 2
_ESCAPED_ANYWHERE = re.compile(rf"&lt;(/?)({_TAGS})(?=\s|/?&gt;)", re.IGNORECASE)
_VOID = frozenset({"br", "img"})


def _escaped_once_more(html: str) -> str:
    """HTML that a feed escaped once more than XML asks (its markup shown as text: `<p>The
    plant...`), read as the HTML it is: it has no tag of its own, and begins with an escaped
    tag or holds escaped markup later (`_escaped_markup`: `... &lt;a href="..."&gt;Read
    more&lt;/a&gt;`). Else `html` as it is."""
    if "<" in html or "&lt;" not in html:
        return html
    if _ESCAPED_TAG.match(html) or _escaped_markup(html):
        return unescape(html)
    return html


def _escaped_markup(text: str) -> bool:
    """Whether escaped tags in the text are markup, not a tag's name written in prose (`a
    &lt;b&gt; in the text`): a tag opened and closed, or one that holds no text (`&lt;br&gt;`,
    `&lt;img ...`)."""
    opened: set[str] = set()
    for found in _ESCAPED_ANYWHERE.finditer(text):
        name = found.group(2).lower()
        if name in _VOID or (found.group(1) and name in opened):
            return True
        opened.add(name)
    return False
