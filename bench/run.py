"""Run every benchmark and write bench/README.md: `make bench` (or `python -m bench.run`)."""

from __future__ import annotations

import os
import platform
import sys
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from bench import cluster_bench, poll_bench, rules_bench, stages

HERE = Path(__file__).parent


COLD_1000 = ("loopback", "cold", "watcher", 1000)  # the row whose CPU the steps break down
PACKAGES = ("feedparser", "feedparser-rs", "httpx", "httpx-aiohttp", "aiohttp", "rapidfuzz",
            "wordfreq", "pyahocorasick", "aiosmtpd")  # fmt: skip


def header() -> str:
    packages = ", ".join(f"{name} {version(name)}" for name in PACKAGES)
    return "\n".join(
        [
            "# Benchmarks",
            "",
            "Made by `make bench` (`python -m bench.run`) on "
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC: "
            f"{os.cpu_count()} cores, Python {platform.python_version()} on {platform.system()}, "
            f"{packages}. Timings on a shared machine vary by 20-30% between runs.",
        ]
    )


def main() -> None:
    sections = [header()]
    print("poll cycles (several minutes) ...", file=sys.stderr)
    server, rows, e2e = poll_bench.run_all()
    sections += [
        "## Poll cycles, side by side with the naive loop and rss2email",
        "`python -m bench.poll_bench` — " + (poll_bench.__doc__ or "").strip().splitlines()[0],
        poll_bench.table(server, rows, e2e),
        "### Targets",
        poll_bench.targets(rows, e2e),
    ]
    print("steps of a cold feed ...", file=sys.stderr)
    cold = [r for r in rows if (r.group, r.cycle, r.tool, r.feeds) == COLD_1000]
    sections += [
        "## Where a cold feed's CPU goes",
        "`python -m bench.stages` — " + (stages.__doc__ or "").strip().splitlines()[0],
        stages.table(stages.run(), cold[0].cpu_per_1000 if cold else None),
    ]
    print("clustering ...", file=sys.stderr)
    sections += [
        "## Clustering one new story against the window",
        "`python -m bench.cluster_bench` — "
        + (cluster_bench.__doc__ or "").strip().splitlines()[0],
        cluster_bench.table(cluster_bench.run_all(cluster_bench.SIZES)),
    ]
    print("rules ...", file=sys.stderr)
    sections += [
        "## Matching rules",
        "`python -m bench.rules_bench` — " + (rules_bench.__doc__ or "").strip().splitlines()[0],
        rules_bench.table(rules_bench.run_all(rules_bench.SIZES)),
    ]
    text = "\n\n".join(sections) + "\n"
    (HERE / "README.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
