"""Clustering cost as the window grows: median and p99 time to cluster one new story, peak RSS.

Each window size runs in its own process, so peak RSS is that size's own. Stories are
synthetic: titles and leads drawn from English word frequencies (wordfreq's top 30,000
words, Zipf-distributed like real text) plus invented names; a fifth of them are reprints
of an earlier story (a dateline, an outlet suffix, an UPDATE prefix).

    python -m bench.cluster_bench            # 10,000, 100,000 and 300,000
    python -m bench.cluster_bench 10000      # one size
"""

from __future__ import annotations

import json
import random
import resource
import statistics
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import accumulate

from wordfreq import top_n_list

from watcher.dedupe import ClusterIndex, ClusterSettings
from watcher.models import Story

SIZES = (10_000, 100_000, 300_000)
PROBES = 2_000
T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.words = [w for w in top_n_list("en", 30_000) if w.isalpha()]
        self.cum_weights = list(accumulate(1 / (rank + 10) for rank in range(len(self.words))))
        syllables = ["ka", "zu", "mi", "ro", "ta", "ne", "lo", "vi", "sha", "qu", "dor", "gal"]
        self.names = [
            "".join(self.rng.choice(syllables) for _ in range(3)).capitalize()
            for _ in range(20_000)
        ]

    def text(self, n: int) -> str:
        words = self.rng.choices(self.words, cum_weights=self.cum_weights, k=n)
        for i in self.rng.sample(range(n), k=max(1, n // 8)):
            words[i] = self.rng.choice(self.names)
        return " ".join(words)

    def story(self, i: int, published: datetime) -> Story:
        return Story(
            id=f"s{i}", feed="bench", guid=None, source="Bench Wire",
            title=self.text(self.rng.randint(7, 12)).capitalize(),
            summary=self.text(self.rng.randint(25, 45)).capitalize() + ".",
            link=f"https://bench.example/{i}", published=published, fetched_at=published,
        )  # fmt: skip

    def reprint(self, i: int, of: Story, published: datetime) -> Story:
        return Story(
            id=f"s{i}", feed="reprints", guid=None, source="Reprint Daily",
            title=self.rng.choice(["UPDATE: ", ""]) + of.title + " - Reprint Daily",
            summary=f"TOKYO, Jan 5 (Reprint Daily-Bench Wire) -- {of.summary} -- REPRINT DAILY",
            link=f"https://reprint.example/{i}", published=published, fetched_at=published,
        )  # fmt: skip

    def stream(
        self, count: int, start: int, span: timedelta, recent: deque[Story]
    ) -> Iterator[Story]:
        """`count` stories spread over `span`; the newest are kept in `recent` to reprint."""
        for k in range(count):
            when = T0 + span * (k / max(count, 1))
            if recent and self.rng.random() < 0.2:
                story = self.reprint(start + k, self.rng.choice(recent), when)
            else:
                story = self.story(start + k, when)
            recent.append(story)
            yield story


def measure(size: int) -> dict[str, float]:
    settings = ClusterSettings()
    window = timedelta(seconds=settings.window)
    gen = Generator(seed=size)
    index = ClusterIndex(settings)
    recent: deque[Story] = deque(maxlen=5_000)  # the bench keeps only what it reprints
    started = time.perf_counter()
    for story in gen.stream(size, 0, window, recent):
        index.add(story)
    build = time.perf_counter() - started
    history = list(recent)
    probes = []
    for k in range(PROBES):
        when = T0 + window + timedelta(seconds=k)
        if k % 5 == 0:
            probes.append(gen.reprint(size + k, gen.rng.choice(history), when))
        else:
            probes.append(gen.story(size + k, when))
    times = []
    found = false_joins = 0
    for k, story in enumerate(probes):
        t = time.perf_counter()
        result = index.add(story)
        times.append((time.perf_counter() - t) * 1000)
        if k % 5 == 0:
            found += result.level is not None
        else:
            false_joins += result.level is not None
    times.sort()
    return {
        "size": size,
        "median_ms": statistics.median(times),
        "p99_ms": times[int(len(times) * 0.99) - 1],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "build_s": build,
        "reprints_found": found / (PROBES // 5),
        "fresh_joined": false_joins / (PROBES - PROBES // 5),
    }


def run_all(sizes: tuple[int, ...]) -> list[dict[str, float]]:
    rows = []
    for size in sizes:
        out = subprocess.run(
            [sys.executable, "-m", "bench.cluster_bench", "--one", str(size)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        rows.append(json.loads(out.stdout))
    return rows


def table(rows: list[dict[str, float]]) -> str:
    lines = [
        "| window (stories) | median per new story | p99 | peak RSS | window build "
        "| reprints found | fresh stories joined |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {int(r['size']):,} | {r['median_ms']:.3f} ms | {r['p99_ms']:.3f} ms | "
            f"{r['peak_rss_mb']:.0f} MB | {r['build_s']:.1f} s | {r['reprints_found']:.1%} | "
            f"{r['fresh_joined']:.1%} |"
        )
    base = rows[0]["median_ms"]
    lines.append("")
    lines.append(
        f"Median at {int(rows[-1]['size']):,} is {rows[-1]['median_ms'] / base:.2f}× the median at "
        f"{int(rows[0]['size']):,}."
    )
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    if argv[:1] == ["--one"]:
        print(json.dumps(measure(int(argv[1]))))
        return
    sizes = tuple(int(a) for a in argv) or SIZES
    print(table(run_all(sizes)))


if __name__ == "__main__":
    main(sys.argv[1:])
