"""`watcher feeds`, `watcher stories` and `watcher ingest`: feeds and what they carried."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from watcher.cli.common import (
    EXIT_FAILED,
    FEED_NAMES,
    HEADER_HELP,
    count,
    feeds_named,
    header,
    print_table,
    printable,
    reading,
    shown,
    since,
    time_zone,
    utc_now,
    utf8_text,
    when,
)
from watcher.config import Config, PollSettings, load_optional_config
from watcher.config.feeds import feed_at, malformed
from watcher.errors import FetchError, ParseError
from watcher.fetch import Fetcher
from watcher.full_text import with_full_text
from watcher.health import feed_health
from watcher.jsonl import story_json
from watcher.models import FeedConfig, FeedState, ParsedFeed, Story
from watcher.parse import parse_feed


def add_parsers(commands: Any) -> None:
    feeds = commands.add_parser(
        "feeds",
        help="show every configured feed and its health",
        description="A table of the configured feeds: status (new, ok, failing, disabled, "
        "paused (by its paused: true), or "
        "silent: polled well but no story kept was first fetched within its silent_after), "
        "stories kept, when the newest was first fetched, last success, consecutive failures, "
        "next poll (never for a feed gone or paused), and the URL (with the feed's "
        "warning, if its last parse gave one: malformed, or only new stories listed) or the "
        "last error.",
    )
    feeds.set_defaults(handler=cmd_feeds, needs_config=True)
    stories = commands.add_parser(
        "stories",
        help="list stories first fetched recently",
        description="List stories first fetched within --since, newest first.",
    )
    stories.add_argument(
        "--since", default="24h", help="how far back, e.g. 90m, 24h, 7d (default: 24h)"
    )
    stories.add_argument(
        "--feed",
        metavar="NAME",
        type=utf8_text,
        help=f"only the stories of this feed: {FEED_NAMES}",
    )
    stories.add_argument(
        "--format", choices=["table", "jsonl"], default="table", help="output format"
    )
    stories.set_defaults(handler=cmd_stories, needs_config=True)
    ingest = commands.add_parser(
        "ingest",
        help="parse one feed and print its normalised stories as JSON lines (stores nothing)",
        description="Fetch or read one feed and print its normalised stories as JSON lines, "
        "without storing anything. For debugging a feed; needs no config file, but fetches "
        "with the config's poll: settings (timeouts, size cap, user agent, ca_file) when "
        "one is given or found, as the service does, and reads a configured feed's URL as "
        "that feed (its name, source:, headers:, timezone: and date_order:).",
    )
    ingest.add_argument("source", metavar="FILE_OR_URL", help="a feed file, or an http(s)/file URL")
    ingest.add_argument(
        "--feed", metavar="NAME", type=utf8_text,
        help="feed name for ids (default: the configured feed's of that URL, else FILE_OR_URL)",
    )  # fmt: skip
    ingest.add_argument(
        "--full-text", action="store_true",
        help="read each story's page for its main text, as for a feed with full_text: true "
        "(every story, at most 50; a page that cannot be read is named on stderr)",
    )  # fmt: skip
    ingest.add_argument(
        "--header", metavar="HEADER", type=header, action="append", default=[], help=HEADER_HELP
    )
    ingest.add_argument(
        "--timezone", metavar="ZONE", type=time_zone,
        help="the IANA zone (e.g. Asia/Tokyo) of the feed's dates that name none, as a feed's "
        "timezone: in the config (default: the configured feed's, else UTC)",
    )  # fmt: skip
    ingest.set_defaults(handler=cmd_ingest, needs_config=False)


def cmd_feeds(config: Config, args: argparse.Namespace) -> int:
    with reading(config.state) as store:
        store.sync_feeds(config.feeds)
        states = {s.name: s for s in store.feed_states()}
    now = utc_now()
    rows = [_feed_row(states[f.name], f.silent_after, now) for f in config.feeds]
    headers = [
        "FEED", "STATUS", "STORIES", "NEWEST", "LAST SUCCESS", "FAILURES", "NEXT POLL",
        "URL / LAST ERROR",
    ]  # fmt: skip
    print_table(headers, rows)
    return 0


def _feed_row(state: FeedState, silent_after: float | None, now: datetime) -> list[str]:
    status = feed_health(state, silent_after, now)
    failed = state.consecutive_failures or state.disabled
    detail = (state.last_error or "") if failed else state.url
    if state.warning and not state.consecutive_failures:
        detail = f"{state.url} (warning: {state.warning})"
    next_poll = when(state.next_poll_at) if state.next_poll_at else "on schedule"
    return [
        state.name, status, str(state.stories),
        when(state.newest_story_at), when(state.last_success_at),
        str(state.consecutive_failures),
        "never" if state.disabled or state.paused else next_poll, detail,
    ]  # fmt: skip


def cmd_stories(config: Config, args: argparse.Namespace) -> int:
    start = since(args.since)
    with reading(config.state) as store:  # read as printed: a month's may be millions
        stories = store.stories_fetched_since(
            start, feeds_named(config, args.feed), newest_first=True
        )
        if args.format == "jsonl":
            for story in stories:
                print(json.dumps(story_json(story), ensure_ascii=False))
            return 0
        rows = [[when(s.published), s.source, shown(s), s.link] for s in stories]
    print_table(["PUBLISHED (UTC)", "SOURCE", "TITLE", "LINK"], rows)
    of = f" of {args.feed}" if args.feed else ""
    print(f"{count(len(rows), 'story', 'stories')}{of} first fetched in the last {args.since}")
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    config = load_optional_config(args.config)
    poll = config.poll if config else None  # as the service fetches: its CA, timeouts, cap
    configured = feed_at(read_url(args.source), config.feeds) if config else None
    try:
        parsed = read_feed(
            args.source, configured=configured, feed_name=args.feed, headers=tuple(args.header),
            settings=poll, full_text=args.full_text, timezone=args.timezone,
        )  # fmt: skip
    except (FetchError, ParseError) as exc:
        print(f"watcher: cannot read feed {args.source}: {printable(str(exc))}", file=sys.stderr)
        return EXIT_FAILED
    if parsed.warning:
        print(f"watcher: warning: {args.source}: {parsed.warning}", file=sys.stderr)
    for story in parsed.stories:
        print(json.dumps(story_json(story), ensure_ascii=False))
    return 0


def read_url(source: str) -> str:
    """The URL `read_feed` reads for `source`: a URL as given, a path as a file: URL."""
    return (
        source if "://" in source or source.startswith("file:") else Path(source).resolve().as_uri()
    )


def read_feed(
    source: str, *, configured: FeedConfig | None = None, feed_name: str | None = None,
    headers: tuple[tuple[str, str], ...] = (), settings: PollSettings | None = None,
    full_text: bool = False, timezone: str | None = None,
) -> ParsedFeed:  # fmt: skip
    """Fetch (http, file: URL or a path) and parse one feed with `settings` (by default the
    default poll settings), as the `configured` feed of its URL where there is one is
    polled (its name, `source:`, `headers:`, `timezone:` and `date_order:`); `feed_name`,
    `headers` (each in place of the configured one of its name) and `timezone` given win.
    With `full_text`, its stories' pages read as for a `full_text` feed."""
    url = read_url(source)
    if problem := malformed(url):
        raise FetchError(f"malformed URL: {problem}", url=url)
    if urlsplit(url).scheme not in ("http", "https", "file"):
        raise FetchError("not an http(s) URL, a file: URL or a path", url=url)
    base = configured or FeedConfig(name=source, url=url, interval=0)
    given = {name.lower() for name, _ in headers}
    feed = replace(
        base, name=feed_name or base.name, url=url, full_text=full_text,
        headers=tuple(h for h in base.headers if h[0].lower() not in given) + headers,
        timezone=timezone or base.timezone,
    )  # fmt: skip

    async def read() -> ParsedFeed:
        fetcher = Fetcher(settings or PollSettings())
        try:
            return await _read(feed, fetcher)
        finally:
            await fetcher.aclose()

    return asyncio.run(read())


def read_feeds(
    feeds: Sequence[FeedConfig], settings: PollSettings
) -> tuple[list[Story], list[tuple[str, str]]]:
    """Fetch and parse every feed of `feeds` now, as the service polls them (their own
    `headers:`, `source:`, `timezone:` and `date_order:`, at most `settings.concurrency` at once,
    `per_host` a host; a `full_text` feed's stories' pages read), storing nothing: their
    stories, and (feed, error) for each that could not be read."""

    async def read_one(feed: FeedConfig, fetcher: Fetcher) -> list[Story] | str:
        try:
            return list((await _read(feed, fetcher)).stories)
        except (FetchError, ParseError) as exc:
            return str(exc)

    async def read_all() -> list[list[Story] | str]:
        fetcher = Fetcher(settings)
        try:
            return await asyncio.gather(*(read_one(f, fetcher) for f in feeds))
        finally:
            await fetcher.aclose()

    stories: list[Story] = []
    failed: list[tuple[str, str]] = []
    for feed, read in zip(feeds, asyncio.run(read_all()), strict=True):
        if isinstance(read, str):
            failed.append((feed.name, read))
        else:
            stories += read
    return stories, failed


async def _read(feed: FeedConfig, fetcher: Fetcher) -> ParsedFeed:
    """One feed fetched and parsed as the service polls it; a `full_text` feed's stories
    given their pages' text (a page not read named on stderr)."""
    result = await fetcher.fetch(feed.url, headers=feed.headers)
    parsed = parse_feed(
        result.body, feed=feed.name, fetched_at=utc_now(), source=feed.source,
        content_type=result.content_type, url=result.url, timezone=feed.timezone,
        date_order=feed.date_order,
    )  # fmt: skip
    if not feed.full_text:
        return parsed
    pages = await with_full_text(parsed.stories, feed, fetcher, None)
    for story, why in pages.not_read:
        print(f"watcher: full text not read: {story.link}: {printable(why)}", file=sys.stderr)
    return replace(parsed, stories=tuple(pages.stories))
