"""What the parse pool makes of a fetched body: the costly work that needs neither the
clustering window nor the store, so both cores share it.

In: a call that parses the body, and the rules folder with the version in force (and the
feed's tags, for rules' `feeds:`). Out: the `ParsedFeed` and a `Prepared` of its stories'
fingerprints and rule matches. Runs in a pool worker; the event loop's `Pipeline` uses what
it returns.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from watcher.dedupe import Fingerprint, fingerprints
from watcher.models import ParsedFeed
from watcher.rules.live import PoolMatches, match_in_pool


class Prepared(NamedTuple):
    """What the parse pool makes of a feed's stories besides parsing them, by story id."""

    prints: dict[str, Fingerprint]
    matches: PoolMatches | None


def prepare(
    parse: Callable[[], ParsedFeed], rules: tuple[Path, str, tuple[str, ...]] | None
) -> tuple[ParsedFeed, Prepared]:
    """In the parse pool: the parsed feed, its stories' fingerprints and, given the rules
    folder, the version in force and the feed's tags, their rule matches."""
    parsed = parse()
    stories = parsed.stories
    prints = {s.id: fp for s, fp in zip(stories, fingerprints(stories), strict=True)}
    matches = match_in_pool(stories, *rules) if rules else None
    return parsed, Prepared(prints, matches)
