"""A story's full text read from its page, for a feed whose entries carry a line or two.

In: a poll's new stories that may alert (of a feed with `full_text: true`), the fetcher and
the parse pool. Out: the stories, each with its page's main text as its body where that
says more than what the feed gave. The rules read the body; clustering does not.

Pages are fetched as feeds are: through the fetcher, so within its limits (concurrency, a
host's share, timeouts, `poll.max_bytes`, a server's wait after a 429), with the feed's own
`headers:` only on the feed's origin. The main text is found by trafilatura (its precision
setting: navigation, cookie banners, "related" lists and footers left out), in the parse
pool when there is one. A page that cannot be fetched, is no HTML page or holds no main
text leaves its story as its feed gave it, and is logged (`full text not read`); a poll never
fails for one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import replace

from watcher.errors import FetchError
from watcher.fetch import Fetcher
from watcher.logs import event
from watcher.models import FeedConfig, Story
from watcher.normalise import fold_space, repaired, same_origin

log = logging.getLogger(__name__)

MAX_PAGES = 50  # of a poll's new stories, the pages read; the rest keep their feed's text
MAX_TEXT = 20_000  # characters of a page's main text kept, as of an entry's full text
# of a page, all that is read: an article's text comes well within it, and reading grows
# faster than the page (a hostile 4.7 MB of paragraphs took 21 s and 433 MB; its first 1 MB
# takes 1.7 s and 139 MB)
MAX_PAGE_BYTES = 1_000_000
PAGE_TYPES = ("text/html", "application/xhtml+xml", "")  # "": a server that names none


async def with_full_text(
    stories: Sequence[Story], feed: FeedConfig, fetcher: Fetcher, executor: Executor | None,
    *, report: Callable[[Story, str], None] | None = None,
) -> list[Story]:  # fmt: skip
    """`stories`, those with an http(s) link (the first `MAX_PAGES`) given their page's main
    text as their body where it is longer than their summary and body. A page not read is
    logged, or given to `report` with why."""
    read = [s for s in stories if s.link.startswith(("http://", "https://"))][:MAX_PAGES]
    texts = await asyncio.gather(
        *(_page_text(s, feed, fetcher, executor, report or _log_not_read) for s in read)
    )
    longer = {
        story.id: replace(story, body=text)
        for story, text in zip(read, texts, strict=True)
        if len(text) > max(len(story.summary), len(story.body))
    }
    return [longer.get(s.id, s) for s in stories]


async def _page_text(
    story: Story, feed: FeedConfig, fetcher: Fetcher, executor: Executor | None,
    not_read: Callable[[Story, str], None],
) -> str:  # fmt: skip
    """The main text of the story's page; '' (told `not_read`) when there is none to read."""
    own = feed.headers if same_origin(story.link, feed.url) else ()
    try:
        page = await fetcher.fetch(story.link, headers=own)
    except FetchError as exc:
        why = str(exc)
    else:
        kind = (page.content_type or "").partition(";")[0].strip().lower()
        if kind not in PAGE_TYPES:
            why = f"not a web page ({kind})"
        else:
            loop = asyncio.get_running_loop()
            html = page.body[:MAX_PAGE_BYTES]
            text = await loop.run_in_executor(executor, page_text, html, page.url)
            if text:
                return text
            why = "no main text found on the page"
    not_read(story, why)
    return ""


def _log_not_read(story: Story, why: str) -> None:
    event(log, logging.INFO, "full text not read", feed=story.feed, story=story.id,
          url=story.link, error=why)  # fmt: skip


def page_text(html: bytes, url: str) -> str:
    """A web page's main text as plain text ('' for none), as a story's body is kept."""
    from trafilatura import extract  # only where a feed asks for full text: 27 MB

    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)  # its warnings are ours above
    try:
        text = extract(html, url=url, favor_precision=True, include_comments=False,
                       include_tables=False)  # fmt: skip
    except Exception:  # a page that trips the extractor: no text, as for none found
        return ""
    return fold_space(repaired(text or ""))[:MAX_TEXT]
