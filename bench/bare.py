"""The bare pipeline: watcher's poll with fingerprints, clustering and rule matching left out.

A measuring device for the poll benchmark, never the service: `poll_cycle watcher-bare`
installs it, and its cold cycle shows what fetching, parsing and storing cost on their
own, so the table shows how much of the gap to a target the rest of the work makes. Every
story is stored, each in a cluster of its own, and matches no rule.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from pathlib import Path

from watcher.clusterer import Clusterer
from watcher.dedupe import Fingerprint
from watcher.models import Assignment, ClusteredStory, ParsedFeed, Story
from watcher.prepare import Prepared
from watcher.rules.live import PoolMatches


def prepare_parse_only(
    parse: Callable[[], ParsedFeed], rules: tuple[Path, str] | None
) -> tuple[ParsedFeed, Prepared]:
    """In the parse pool, as `watcher.prepare.prepare`: parsed, but neither fingerprinted
    nor matched (an empty `PoolMatches` of the version in force: no story matched a rule)."""
    parsed = parse()
    matches = PoolMatches(rules[1], {}) if rules else None
    return parsed, Prepared({s.id: None for s in parsed.stories}, matches)  # type: ignore[misc]


def place_alone(
    self: Clusterer,
    stories: Sequence[Story],
    prints: Sequence[Fingerprint] | None = None,
    *,
    quiet: Collection[str] = (),
) -> list[ClusteredStory]:
    """`Clusterer.place` without scoring: each story opens a cluster of its own (a late
    one too: nothing is recalled)."""
    placed = []
    for story in sorted(stories, key=lambda s: (s.published, s.id)):
        cluster = self.index.next_cluster
        self.index.next_cluster += 1
        placed.append(ClusteredStory(story=story, assignment=Assignment(
            story=story.id, cluster=cluster, level=None, matched=None, reason="new")))  # fmt: skip
    return placed


def install() -> None:
    """Make this process's pipeline the bare one (its pool workers import this module to
    run `prepare_parse_only`)."""
    import watcher.parse_pool

    watcher.parse_pool.prepare = prepare_parse_only  # type: ignore[assignment]
    Clusterer.place = place_alone  # type: ignore[method-assign]
