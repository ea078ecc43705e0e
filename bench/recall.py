"""What a late story costs: the stored stories read and put back in the window for it.

`python -m bench.recall [FEEDS]` stores and clusters FEEDS bench feeds (5,000 by default:
their stories published over the 7 days before the bench's NOW), then, for each case
below, rebuilds the window as a restart does some days later and places one late story
(a copy of a stored story, under another link) as the service places a poll's new story:
the time it takes (reading the stored stories in its time range, fingerprinting those put
back, placing it), how many were read and put back, and whether it joined its copy.
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from bench import feedgen
from watcher.clusterer import Clusterer
from watcher.dedupe import ClusterSettings, fingerprint
from watcher.models import FeedConfig, Story
from watcher.parse import parse_feed
from watcher.store import Store

FEEDS = 5_000
# (days after NOW the window is rebuilt, the late story's age then in days)
CASES = ((1.0, 6.5), (3.0, 6.5), (0.5, 4.5))


def stored(folder: Path, feeds: int) -> tuple[Store, list[Story]]:
    """A store holding the bench feeds' stories, clustered as one cold cycle would."""
    paths = feedgen.write_feeds(folder / "feeds", feeds)
    store = Store(folder / "recall.db")
    names = [f"feed{i}" for i in range(feeds)]
    store.sync_feeds([FeedConfig(name=n, url=p.as_uri(), interval=600)
                      for n, p in zip(names, paths, strict=True)])  # fmt: skip
    now = feedgen.NOW + timedelta(hours=1)
    clusterer = Clusterer(store, ClusterSettings(), lambda: now)
    stories: list[Story] = []
    for name, path in zip(names, paths, strict=True):
        parsed = parse_feed(path.read_bytes(), feed=name, fetched_at=now, url=path.as_uri())
        with clusterer.tentative(), store.transaction():
            placed = clusterer.place(parsed.stories)
            store.record_new_stories(store.feed_state(name), placed, now)
        stories += parsed.stories
    return store, stories


def case(store: Store, stories: list[Story], days_on: float, age: float) -> dict[str, object]:
    later = feedgen.NOW + timedelta(hours=1, days=days_on)
    clusterer = Clusterer(store, ClusterSettings(), lambda: later)
    clusterer.load()
    target = later - timedelta(days=age)
    copied = min(stories, key=lambda s: abs((s.published - target).total_seconds()))
    late = replace(copied, id=f"late-{days_on}", link="https://elsewhere.example/late", guid=None)
    started = time.perf_counter()
    read, put_back = clusterer.recall([(late, fingerprint(late))])  # as `place` does first
    (placed,) = clusterer.place([late], quiet={late.id})  # quiet: not recalled for twice
    ms = (time.perf_counter() - started) * 1000
    joined = placed.assignment.matched == copied.id
    return {"days_on": days_on, "age": age, "window": len(clusterer.index), "read": read,
            "put_back": put_back, "ms": ms, "joined": joined}  # fmt: skip


def run(feeds: int = FEEDS) -> tuple[list[dict[str, object]], int]:
    """Each case's figures, and how many stories were stored."""
    with tempfile.TemporaryDirectory() as tmp:
        store, stories = stored(Path(tmp), feeds)
        rows = [case(store, stories, days_on, age) for days_on, age in CASES]
        store.close()
        return rows, len(stories)


def table(rows: list[dict[str, object]], feeds: int, count: int) -> str:
    lines = [
        f"{feeds:,} bench feeds, {count:,} stories stored; one late story per row:",
        "",
        "| window rebuilt | late story's age | window | stored read | put back | time "
        "| joined its copy |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]  # fmt: skip
    for r in rows:
        lines.append(
            f"| NOW + {r['days_on']:g} d | {r['age']:g} d | {r['window']:,} | {r['read']:,} | "
            f"{r['put_back']:,} | {r['ms']:.0f} ms | {'yes' if r['joined'] else 'no'} |"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    feeds = int(argv[0]) if argv else FEEDS
    rows, count = run(feeds)
    print(table(rows, feeds, count))


if __name__ == "__main__":
    main(sys.argv[1:])
