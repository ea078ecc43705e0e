"""One poll-benchmark run in a process of its own, so its CPU time and peak memory are its own.

`python -m bench.poll_cycle watcher|watcher-bare|naive --feeds N --port P --folder DIR --state DB
--cycles cold,warm,changed[,expiry][,restart]` polls every feed once per cycle and prints
one JSON object per cycle: feeds, seconds, CPU seconds (this process and its parse
workers; for watcher also this process's own, `own_cpu`), outcomes, and at the end the
peak RSS of this process and of its largest worker.
`expiry` (watcher only) expires the oldest tenth of the clustering window, as the
service's prune does; `restart` (watcher only, over the database of an earlier run)
rebuilds the window as `watcher run` does on start.

- watcher: the real pipeline (fetch with one httpx client over aiohttp, parse in a process
  pool over both cores, started before the first cycle as `watcher run` starts it, store,
  cluster, match the shipped rules, write alerts), every feed polled at once as the
  scheduler of `watcher run` would, each outcome dropped once counted as the service does;
  concurrency 100 and 2 per host.
- watcher-bare: the same with fingerprints, clustering and rule matching left out
  (bench/bare.py): what fetching, parsing and storing cost on their own.
- naive: the loop users write: `feedparser.parse(url, etag=..., modified=...)` one feed after
  another, new entries stored in SQLite, one commit per feed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import sqlite3
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench import feedgen, servers

TICK = os.sysconf("SC_CLK_TCK")
ROOT = Path(__file__).resolve().parent.parent


def proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def proc_peak_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def watcher_cycles(args: argparse.Namespace, urls: list[str]) -> list[dict[str, object]]:
    from watcher.alerts.routing import router
    from watcher.clusterer import Clusterer
    from watcher.config import PollSettings, Subscriber, default_rules
    from watcher.dedupe import ClusterSettings
    from watcher.fetch import Fetcher
    from watcher.models import FeedConfig
    from watcher.parse_pool import parse_pool, start_pool, tune_gc
    from watcher.pipeline import Pipeline
    from watcher.rules.live import LiveRules
    from watcher.store import Store

    tune_gc()  # as build_pipeline does for `watcher run`
    settings = PollSettings(concurrency=100, per_host=2, total_timeout=120, read_timeout=60)
    store = Store(args.state)
    feeds = [FeedConfig(name=f"feed{i}", url=u, interval=600, backfill=None)
             for i, u in enumerate(urls)]  # fmt: skip
    store.sync_feeds(feeds)
    fetcher = Fetcher(settings)
    pool = parse_pool(2)
    start_pool(pool, 2)  # as `watcher run` does on start: workers up, word list loaded
    rules = LiveRules(default_rules())
    subscriber = Subscriber(name="bench", webhook="http://127.0.0.1:9/")
    from datetime import UTC, datetime

    def clock() -> datetime:
        return datetime.now(UTC).replace(microsecond=0)

    pipeline = Pipeline(
        store=store, fetcher=fetcher, settings=settings, clock=clock,
        clusterer=Clusterer(store, ClusterSettings(), clock), rules=rules,
        route=router(rules, (subscriber,)), parse_executor=pool,
    )  # fmt: skip
    results = []
    generation = args.generation
    for cycle in args.cycles.split(","):
        if cycle == "expiry":
            results.append(_expire_oldest_tenth(pipeline.clusterer, store, len(feeds)))
            continue
        if cycle == "restart":
            results.append(_rebuild_window(pipeline, len(feeds)))
            continue
        if cycle == "changed":
            generation += 1
            _change_elsewhere(args.paths, generation)
        workers = list(pool._processes) if pool._processes else []
        own_before = self_cpu()
        cpu_before = own_before + sum(proc_cpu(p) for p in workers)
        started = time.perf_counter()
        outcomes = await asyncio.gather(*(poll(pipeline, feed) for feed in feeds))
        seconds = time.perf_counter() - started
        workers = list(pool._processes)
        own_after = self_cpu()
        own = own_after - own_before
        cpu = own_after + sum(proc_cpu(p) for p in workers) - cpu_before
        results.append({
            "cycle": cycle, "feeds": len(feeds), "seconds": seconds, "cpu": cpu, "own_cpu": own,
            "outcomes": dict(Counter(status for status, _ in outcomes)),
            "stories": sum(new for _, new in outcomes),
        })  # fmt: skip
    worker_peak = max((proc_peak_mb(p) for p in pool._processes), default=0.0)
    results.append({"peak_mb": _self_peak_mb(), "worker_peak_mb": worker_peak})
    pool.shutdown()
    await fetcher.aclose()
    store.close()
    return results


def _expire_oldest_tenth(clusterer: Any, store: Any, feeds: int) -> dict[str, object]:
    """The service's prune drops stories from the window (`Clusterer.expire`, every 6 hours):
    here the oldest tenth of it, timed, in this process, so the peak RSS includes it."""
    from watcher.store import from_text

    window = len(clusterer.index)
    row = store.db.execute(
        "SELECT published FROM stories ORDER BY published LIMIT 1 OFFSET ?", [window // 10]
    ).fetchone()
    cpu_before, started = self_cpu(), time.perf_counter()
    removed = clusterer.index.expire(from_text(row[0]).timestamp())
    seconds = time.perf_counter() - started
    return {
        "cycle": "expiry", "feeds": feeds, "seconds": seconds, "cpu": self_cpu() - cpu_before,
        "outcomes": {}, "stories": 0,
        "note": f"the window's oldest {removed:,} of {window:,} stories expired in {seconds:.1f} s",
    }  # fmt: skip


def _rebuild_window(pipeline: Any, feeds: int) -> dict[str, object]:
    """What `watcher run` does on start over a database that holds stories: the clustering
    window rebuilt from it (`Pipeline.recover`), fingerprinted in the pool."""
    cpu_before, started = self_cpu(), time.perf_counter()
    pipeline.recover()
    seconds = time.perf_counter() - started
    window = len(pipeline.clusterer.index)
    return {
        "cycle": "restart", "feeds": feeds, "seconds": seconds, "cpu": self_cpu() - cpu_before,
        "outcomes": {}, "stories": 0,
        "note": f"window of {window:,} stories rebuilt from the database in {seconds:.1f} s",
    }  # fmt: skip


def _change_elsewhere(paths: list[Path], generation: int) -> None:
    """Change 10% of the feeds in a child process: the generator's word list is not
    watcher's memory."""
    child = multiprocessing.get_context("spawn").Process(
        target=feedgen.change, args=(paths, 0.1, generation)
    )
    child.start()
    child.join()
    if child.exitcode != 0:
        raise RuntimeError(f"changing the feeds failed: exit code {child.exitcode}")


async def poll(pipeline: Any, feed: Any) -> tuple[str, int]:
    """One feed's poll as the service makes it: the outcome is counted, then dropped."""
    outcome = await pipeline.refresh_feed(feed, force=True)
    return outcome.status, len(outcome.new_stories)


def naive_cycles(args: argparse.Namespace, urls: list[str]) -> list[dict[str, object]]:
    import feedparser

    db = sqlite3.connect(args.state)
    db.execute("CREATE TABLE IF NOT EXISTS feeds (url TEXT PRIMARY KEY, etag TEXT, modified TEXT)")
    db.execute(
        "CREATE TABLE IF NOT EXISTS entries (id TEXT PRIMARY KEY, feed TEXT, title TEXT, "
        "summary TEXT, link TEXT, published TEXT)"
    )
    results = []
    generation = args.generation
    for cycle in args.cycles.split(","):
        if cycle == "changed":
            generation += 1
            _change_elsewhere(args.paths, generation)
        cpu_before, started = self_cpu(), time.perf_counter()
        outcomes: Counter[str] = Counter()
        stories = 0
        for url in urls:
            row = db.execute("SELECT etag, modified FROM feeds WHERE url = ?", [url]).fetchone()
            etag, modified = row if row else (None, None)
            parsed = feedparser.parse(url, etag=etag, modified=modified)
            if parsed.get("status") == 304:
                outcomes["not_modified"] += 1
                continue
            outcomes["new" if parsed.entries else "failed"] += 1
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO entries VALUES (?, ?, ?, ?, ?, ?)",
                [(e.get("id") or e.get("link"), url, e.get("title"), e.get("summary"),
                  e.get("link"), e.get("published")) for e in parsed.entries],
            )  # fmt: skip
            stories += db.total_changes - before
            db.execute(
                "INSERT OR REPLACE INTO feeds VALUES (?, ?, ?)",
                [url, parsed.get("etag"), parsed.get("modified")],
            )
            db.commit()
        results.append({
            "cycle": cycle, "feeds": len(urls), "seconds": time.perf_counter() - started,
            "cpu": self_cpu() - cpu_before, "outcomes": dict(outcomes), "stories": stories,
        })  # fmt: skip
    results.append({"peak_mb": _self_peak_mb(), "worker_peak_mb": 0.0})
    return results


def _self_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("tool", choices=["watcher", "watcher-bare", "naive"])
    parser.add_argument("--feeds", type=int, required=True)
    parser.add_argument("--port", type=int, default=servers.PORT)
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--cycles", default="cold,warm,changed")
    parser.add_argument("--generation", type=int, default=0, help="the feeds' generation now")
    args = parser.parse_args()
    args.paths = [args.folder / f"feed{i}.xml" for i in range(args.feeds)]
    urls = [servers.url(i, args.port) for i in range(args.feeds)]
    if args.tool == "watcher-bare":
        from bench import bare

        bare.install()
    if args.tool.startswith("watcher"):
        results = asyncio.run(watcher_cycles(args, urls))
    else:
        results = naive_cycles(args, urls)
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
