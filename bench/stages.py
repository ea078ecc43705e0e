"""Where a cold feed's CPU goes: each step of a feed's first poll, timed on its own.

`python -m bench.stages [FEEDS]` generates FEEDS bench feeds (400 by default; the poll
benchmark's kind), then runs watcher's own functions on each, one after the other in one
process, timing each step's thread CPU: parsing, fingerprints, rule matching (the shipped
rules) and pickling the result (what the parse pool does), then unpickling it, clustering
and storing the new stories with their clusters in a SQLite file (what the event loop does).
Twenty other feeds run first, untimed, to load wordfreq and fill the caches, as a running
service has them. What a poll cycle costs besides these steps (fetching, the event loop,
the pool's transfer between processes, sorting new from known stories, writing matches
and alerts, both cores' contention) is the cycle's CPU per feed less their sum.
"""

from __future__ import annotations

import pickle
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from bench import feedgen
from watcher.clusterer import Clusterer
from watcher.config import default_rules
from watcher.dedupe import ClusterSettings, fingerprints
from watcher.models import FeedConfig
from watcher.parse import parse_feed
from watcher.parse_pool import tune_gc
from watcher.rules.live import LiveRules, match_in_pool
from watcher.store import Store

FEEDS = 400
WARM_UP = 20
# (step, where it runs in the service)
STEPS = (
    ("parse", "parse pool"),
    ("fingerprints", "parse pool"),
    ("rule matching", "parse pool"),
    ("pickling", "parse pool"),
    ("unpickling", "event loop"),
    ("clustering", "event loop"),
    ("storing", "event loop"),
)


def run(feeds: int = FEEDS) -> dict[str, float]:
    """CPU milliseconds a feed of each step, over `feeds` feeds."""
    tune_gc()  # the service's and its parse workers' collector thresholds
    spent: defaultdict[str, float] = defaultdict(float)
    with tempfile.TemporaryDirectory() as tmp:
        paths = feedgen.write_feeds(Path(tmp) / "feeds", WARM_UP + feeds)
        names = [f"feed{i}" for i in range(len(paths))]
        store = Store(Path(tmp) / "stages.db")
        configs = zip(names, paths, strict=True)
        store.sync_feeds([FeedConfig(name=n, url=p.as_uri(), interval=600) for n, p in configs])
        now = datetime.now(UTC)
        clusterer = Clusterer(store, ClusterSettings(), lambda: now)
        rules = LiveRules(default_rules())
        for number, (name, path) in enumerate(zip(names, paths, strict=True)):
            counted = spent if number >= WARM_UP else defaultdict(float)
            _poll(path, name, store, clusterer, (rules.folder, rules.version), now, counted)
        store.close()
    return {step: spent[step] / feeds * 1000 for step, _ in STEPS}


def _poll(
    path: Path, name: str, store: Store, clusterer: Clusterer, rules: tuple[Path, str],
    now: datetime, spent: defaultdict[str, float],
) -> None:  # fmt: skip
    body = path.read_bytes()
    with _timed(spent, "parse"):
        parsed = parse_feed(body, feed=name, fetched_at=now, url=f"http://127.0.0.1/{path.name}")
    with _timed(spent, "fingerprints"):
        prints = fingerprints(parsed.stories)
    with _timed(spent, "rule matching"):
        matches = match_in_pool(parsed.stories, *rules)
    with _timed(spent, "pickling"):
        sent = pickle.dumps((parsed, prints, matches), protocol=pickle.HIGHEST_PROTOCOL)
    with _timed(spent, "unpickling"):
        parsed, prints, matches = pickle.loads(sent)
    with _timed(spent, "clustering"):
        placed = clusterer.place(parsed.stories, prints)
    state = store.feed_state(name)
    with _timed(spent, "storing"):
        store.record_new_stories(state, placed, now)


@contextmanager
def _timed(spent: defaultdict[str, float], step: str) -> Iterator[None]:
    started = time.thread_time()
    yield
    spent[step] += time.thread_time() - started


def table(costs: dict[str, float], cycle_cpu_ms: float | None = None) -> str:
    """The steps as a Markdown table; with the cold cycle's CPU per feed, what is left."""
    total = sum(costs.values())
    lines = [
        "| step | runs in | CPU ms per feed | share of the steps |",
        "| --- | --- | ---: | ---: |",
    ]
    for step, where in STEPS:
        lines.append(f"| {step} | {where} | {costs[step]:.2f} | {costs[step] / total:.0%} |")
    lines.append(f"| **all the steps** |  | **{total:.2f}** | 100% |")
    if cycle_cpu_ms is not None:
        lines += [
            "",
            f"The cold cycle on loopback cost {cycle_cpu_ms:.1f} CPU ms a feed over both cores "
            f"(1,000 feeds, in the poll table above): {cycle_cpu_ms - total:.1f} ms a feed "
            "went to what the steps leave out.",
        ]
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    print(table(run(int(argv[0]) if argv else FEEDS)))


if __name__ == "__main__":
    main(sys.argv[1:])
