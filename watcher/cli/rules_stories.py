"""`watcher rules test`: the stories it tests, and what each rule set made of them.

In: the command's arguments (a JSON-lines file, a feed, every configured feed, or the
database's stories of a period). Out: the stories either rule set matched, with what each
matched, how many were tested, and the news item and outlets of each story kept.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

from watcher.cli.common import printable, reading, since
from watcher.cli.feeds import read_feed, read_feeds, read_url
from watcher.cli.rules_diff import Compared, NewsItems, rule_names
from watcher.config import load_config, load_optional_config, resolve_config_path
from watcher.config.feeds import feed_at
from watcher.dedupe import ClusterSettings, cluster_batch
from watcher.errors import FetchError
from watcher.jsonl import read_stories
from watcher.models import FeedConfig, Story, tags_by_feed
from watcher.rules import Matcher
from watcher.rules.matcher import StoryMatch


class Tested(NamedTuple):
    """The stories to test, read as they are tested (from the database a chunk at a time:
    a month of stories may be more than memory holds), the config's feeds' tags, and the
    news items of the stories kept (`NewsItems`)."""

    stories: Iterable[Story]
    tags: dict[str, tuple[str, ...]]  # by feed (rules' feeds:)
    news_items: Callable[[Sequence[Story]], NewsItems]


class Tried(NamedTuple):
    """The stories tested that either rule set matched, with what each matched (`before`:
    nothing, without --diff), and how many stories were tested."""

    kept: list[Compared]
    tested: int


NO_MATCH = StoryMatch(rules=(), terms={})


def try_rules(
    tested: Tested, matcher: Matcher, earlier: Matcher | None, args: argparse.Namespace
) -> Tried:
    """Match each story as it is read; with --format jsonl, print its line then, else keep
    it only where a rule matched it: the stories no rule matches are most, and are told
    only in the count."""
    kept, number = [], 0
    for story in tested.stories:
        number += 1
        tags = tested.tags.get(story.feed, ())
        after = matcher.match_story(story, tags)
        before = earlier.match_story(story, tags) if earlier is not None else NO_MATCH
        if args.format == "jsonl":
            found: dict[str, Any] = {"id": story.id, "rules": rule_names(after, args.rule)}
            if earlier is None:
                found["terms"] = after.terms
            else:
                found["before"] = rule_names(before, args.rule)
            print(json.dumps(found, ensure_ascii=False))
        elif after.rules or before.rules:
            kept.append(Compared(story, after, before))
    return Tried(kept, number)


@contextmanager
def stories_tested(args: argparse.Namespace) -> Iterator[Tested]:
    """The stories to test: from the database, read as they are tested, each of its stored
    news item, with its outlets as the service counts them (among all its stored stories);
    else (a file, a feed, every configured feed `--live`) as `watcher dedupe` clusters the
    stories given, its outlets among them."""
    if args.stories or args.url:
        config = load_optional_config(args.config)
        feeds = config.feeds if config else ()
        poll = config.poll if config else None  # as the service fetches: its CA, timeouts
        if args.stories:
            stories = read_stories(args.stories)
        else:  # as the configured feed of that URL is polled, if there is one
            configured = feed_at(read_url(args.url), feeds)
            parsed = read_feed(
                args.url, configured=configured, headers=tuple(args.header), settings=poll
            )
            stories = list(parsed.stories)
        settings = config.clustering if config else ClusterSettings()
        yield _given(stories, settings, feeds)
        return
    config = load_config(resolve_config_path(args.config))
    if args.live:
        polled = [feed for feed in config.feeds if not feed.paused]
        stories, failed = read_feeds(polled, config.poll)
        for name, error in failed:
            print(f"watcher: rules test: feed {name!r}: {printable(error)}", file=sys.stderr)
        if failed and len(failed) == len(polled):
            raise FetchError("rules test --live: no configured feed could be read", url="")
        yield _given(stories, config.clustering, config.feeds)
        return
    start = since(args.since or "7d")
    with reading(config.state) as store:

        def stored(kept: Sequence[Story]) -> NewsItems:
            clusters = store.clusters_of([s.id for s in kept])
            of = {s.id: clusters.get(s.id, s.id) for s in kept}
            counted = store.source_counts(clusters.values())
            alone = {s.id: 1 for s in kept if s.id not in clusters}  # no cluster: its own
            return NewsItems(of, {**alone, **counted})

        yield Tested(store.stories_fetched_since(start), tags_by_feed(config.feeds), stored)


def _given(stories: list[Story], settings: ClusterSettings, feeds: Sequence[FeedConfig]) -> Tested:
    """Stories given (a file, a feed): their news items as `watcher dedupe` forms them, the
    outlets of each among them."""
    clusters: dict[str, Any] = cluster_batch(stories, settings)
    of = {s.id: clusters.get(s.id, s.id) for s in stories}
    sources: defaultdict[Any, set[str]] = defaultdict(set)
    for story in stories:
        sources[of[story.id]].add(story.source)
    outlets = {item: len(found) for item, found in sources.items()}
    return Tested(stories, tags_by_feed(feeds), lambda kept: NewsItems(of, outlets))
