"""A story's full text read from its page, for a feed whose entries carry a line or two.

In: a poll's new stories that may alert (of a feed with `full_text: true`), the fetcher and
the parse pool. Out: the stories, each with its page's main text as its body where that
says more than what the feed gave. The rules read the body; clustering does not.

Pages are fetched as feeds are: through the fetcher, so within its limits (concurrency, a
host's share, timeouts, `poll.max_bytes`, a server's wait after a 429), with the feed's own
`headers:` only on the feed's origin. The main text is found by trafilatura (its precision
setting: navigation, cookie banners, "related" lists and footers left out), in the parse
pool when there is one. A page that cannot be fetched, is no HTML page or holds no main
text leaves its story as its feed gave it, and is returned with why (the caller logs it); a
poll never fails for one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import replace
from typing import NamedTuple
from urllib.parse import urlsplit

from watcher.config.feeds import malformed
from watcher.errors import FetchError
from watcher.fetch import Fetcher
from watcher.models import FeedConfig, Story
from watcher.normalise import fold_space, printable, repaired
from watcher.urls import same_origin

MAX_PAGES = 50  # of a poll's new stories, the pages read; the rest keep their feed's text
MAX_TEXT = 20_000  # characters of a page's main text kept, as of an entry's full text
# of a page, all that is read: an article's text comes well within it, and reading grows
# faster than the page (a hostile 4.7 MB of paragraphs took 21 s and 433 MB; its first 1 MB
# takes 1.7 s and 139 MB)
MAX_PAGE_BYTES = 1_000_000
PAGE_TYPES = ("text/html", "application/xhtml+xml", "")  # "": a server that names none
SHOWN_TYPE = 100  # characters of another type shown in why a page was not read (a media
# type has at most 255): a server may send kilobytes, which every later warning would repeat
# hosts whose links lead to a page that only redirects by script: no article on it
REDIRECT_PAGES = frozenset({"news.google.com"})


# a page's reading may take, as a feed's parse (`parse_pool.PARSE_SECONDS`): the poll waits
# for every page, and a page that held the reader for good held the feed's polls with it
PAGE_SECONDS = 300.0


class PagesRead(NamedTuple):
    """Stories with their pages' text, how many pages gave one, and the pages not read: the
    story and why."""

    stories: list[Story]
    read: int
    not_read: list[tuple[Story, str]]


async def with_full_text(
    stories: Sequence[Story], feed: FeedConfig, fetcher: Fetcher, executor: Executor | None
) -> PagesRead:
    """`stories`, those with an http(s) link (the first `MAX_PAGES`) given their page's main
    text as their body where it is longer than their summary and body."""
    read = [s for s in stories if s.link.startswith(("http://", "https://"))][:MAX_PAGES]
    texts = await asyncio.gather(*(_page_text(s, feed, fetcher, executor) for s in read))
    longer = {
        story.id: replace(story, body=text)
        for story, (text, _) in zip(read, texts, strict=True)
        if len(text) > max(len(story.summary), len(story.body))
    }
    missed = [(story, why) for story, (_, why) in zip(read, texts, strict=True) if why]
    return PagesRead([longer.get(s.id, s) for s in stories], len(read) - len(missed), missed)


def not_read_warning(pages: PagesRead) -> str | None:
    """What a feed's warning says of a poll whose pages were not all read."""
    if not pages.not_read:
        return None
    count, (_, last) = len(pages.not_read), pages.not_read[-1]
    return f"full text: {count} {'page' if count == 1 else 'pages'} not read (the last: {last})"


async def _page_text(
    story: Story, feed: FeedConfig, fetcher: Fetcher, executor: Executor | None
) -> tuple[str, str]:
    """The main text of the story's page, or '' and why there is none to read."""
    if (why := malformed(story.link)) is not None:  # urlsplit and the fetch would raise
        return "", f"not a valid URL: {why}"
    if urlsplit(story.link).hostname in REDIRECT_PAGES:
        return "", "a redirector's page, which holds no article"
    own = feed.headers if same_origin(story.link, feed.url) else ()
    try:
        page = await fetcher.fetch(story.link, headers=own)
    except FetchError as exc:
        return "", str(exc)
    kind = (page.content_type or "").partition(";")[0].strip().lower()
    if kind not in PAGE_TYPES:
        shown = printable(kind[:SHOWN_TYPE]) + ("…" if len(kind) > SHOWN_TYPE else "")
        return "", f"not a web page ({shown})"
    loop = asyncio.get_running_loop()
    html = page.body[:MAX_PAGE_BYTES]
    reading = loop.run_in_executor(executor, page_text, html, page.url)
    try:
        text = await asyncio.wait_for(reading, PAGE_SECONDS)
    except TimeoutError:  # the worker goes on with it: a process cannot be interrupted
        return "", f"reading its text took longer than {PAGE_SECONDS:g} s"
    return (text, "") if text else ("", "no main text found on the page")


def page_text(html: bytes, url: str) -> str:
    """A web page's main text as plain text ('' for none), as a story's body is kept."""
    from trafilatura import extract  # only where a feed asks for full text: 27 MB

    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)  # why: the caller says
    try:
        text = extract(html, url=url, favor_precision=True, include_comments=False,
                       include_tables=False)  # fmt: skip
    except Exception:  # a page that trips the extractor: no text, as for none found
        return ""
    return fold_space(repaired(text or ""))[:MAX_TEXT]
