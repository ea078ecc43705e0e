"""Generated feeds of realistic size for the poll benchmarks: RSS 2.0, 20-50 items, 40-100 KB.

Deterministic for a seed, but for dates: items are dated back up to a week from an hour
before the run, so a run on any date finds the same share of them within the service's
clustering window. Text is drawn from the 3,000 most common English words (wordfreq)
with three invented names per story (people, firms, places: what makes news items differ),
so stories of different feeds are different news items; a tenth of the titles mention a
watched mineral, so rules match some of them as they would in real news.
"""

from __future__ import annotations

import os
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

SYLLABLES = [a + b for a in "bcdfghklmnprstvz" for b in ("a", "e", "i", "o", "u", "ai", "ou")]
MINERALS = ["gallium", "germanium", "antimony", "lithium", "tungsten", "graphite"]


def _now() -> datetime:
    """The moment items are dated back from: `BENCH_NOW` when set, else an hour before now,
    on the hour (items stay older than a one-hour backfill)."""
    if fixed := os.environ.get("BENCH_NOW"):
        return datetime.fromisoformat(fixed)
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)


NOW = _now()
os.environ["BENCH_NOW"] = NOW.isoformat()  # the bench's child processes date items alike


@cache
def vocabulary() -> list[str]:
    from wordfreq import top_n_list

    return [w for w in top_n_list("en", 3000) if w.isalpha()]


def name(rng: random.Random) -> str:
    return "".join(rng.choices(SYLLABLES, k=rng.randint(2, 3))).capitalize()


def item(rng: random.Random, words: list[str], feed: int, n: int, size: int) -> str:
    names = [name(rng) for _ in range(3)]
    title = " ".join([*rng.choices(words, k=rng.randint(5, 9)), *names[:2]])
    title = title[0].upper() + title[1:]
    if rng.random() < 0.1:
        title += f" as {rng.choice(MINERALS)} supply tightens"
    body_words = max(20, size // 8)
    paragraphs = [
        " ".join([*names, *rng.choices(words, k=body_words // 4)]) + "." for _ in range(4)
    ]
    summary = "".join(f"<p>{p}</p>" for p in paragraphs)
    published = NOW - timedelta(minutes=rng.randint(0, 7 * 24 * 60))
    return (
        f"<item><title>{escape(title)}</title>"
        f"<link>https://news{feed % 500}.example/{feed}/{n}</link>"
        f'<guid isPermaLink="false">feed{feed}-item{n}</guid>'
        f"<pubDate>{format_datetime(published)}</pubDate>"
        f"<description>{escape(summary)}</description></item>\n"
    )


def feed_xml(feed: int, seed: int = 0, generation: int = 0) -> bytes:
    """Feed number `feed`; a later `generation` has new items on top (a changed feed)."""
    rng = random.Random(f"{seed}-{feed}")
    words = vocabulary()
    count = rng.randint(20, 50)
    target = rng.randint(35_000, 87_000)  # the markup adds about 15 %
    per_item = target // count
    first = generation * 3  # each generation adds three new items and drops three old ones
    items = [item(random.Random(f"{seed}-{feed}-{n}"), words, feed, n, per_item) for n in
             range(first + count - 1, first - 1, -1)]  # fmt: skip
    head = (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>Bench feed {feed}</title><link>https://news{feed % 500}.example/</link>"
        f"<description>Generated feed {feed}</description>\n"
    )
    return (head + "".join(items) + "</channel></rss>\n").encode()


def write_feeds(folder: Path, count: int, seed: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for feed in range(count):
        path = folder / f"feed{feed}.xml"
        if not path.exists():
            path.write_bytes(feed_xml(feed, seed))
        paths.append(path)
    return paths


def change(paths: list[Path], fraction: float, generation: int, seed: int = 0) -> int:
    """Rewrite every `1/fraction`-th feed with a later generation; how many changed."""
    step = round(1 / fraction)
    changed = 0
    for feed, path in enumerate(paths):
        if feed % step == 0:
            path.write_bytes(feed_xml(feed, seed, generation))
            changed += 1
    return changed
