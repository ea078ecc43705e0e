"""The poll benchmark still runs on a few feeds, and each cycle reports what it did.

Timings are bench/'s to measure (`make bench`); this checks the counts its table is made of,
so a change to watcher that breaks the benchmark fails here, not in the next bench run.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench import feedgen, servers, stages

ROOT = Path(__file__).resolve().parent.parent
FEEDS = 10  # the changed cycle rewrites every tenth feed: one here


def run(tool: str, folder: Path, state: Path, cycles: str, generation: int = 0) -> Any:
    command = [
        sys.executable, "-m", "bench.poll_cycle", tool, "--feeds", str(FEEDS), "--folder",
        str(folder), "--state", str(state), "--cycles", cycles, "--generation", str(generation),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def items(paths: list[Path]) -> int:
    return sum(path.read_bytes().count(b"<item>") for path in paths)


def counted(note: str, pattern: str) -> list[int]:
    found = re.search(pattern, note)
    assert found, note
    return [int(group.replace(",", "")) for group in found.groups()]


def test_the_poll_benchmark_cycles_report_what_they_did(tmp_path: Path) -> None:
    folder = tmp_path / "feeds"
    paths = feedgen.write_feeds(folder, FEEDS)
    first = items(paths)
    with servers.python_server(folder):
        cold, warm, changed, expiry, memory = run(
            "watcher", folder, tmp_path / "w.db", "cold,warm,changed,expiry"
        )
        restart, _ = run("watcher", folder, tmp_path / "w.db", "restart", generation=1)
        naive_cold, naive_warm, _ = run("naive", folder, tmp_path / "n.db", "cold,warm", 1)
    assert (cold["outcomes"], cold["stories"]) == ({"new": FEEDS}, first)
    # a feed whose day of its own began between cycles is read in full once (its body the
    # same: `unchanged`), as `feed_state.sends_validators` has it
    assert (_answered(warm["outcomes"]), warm["stories"]) == ({"not_modified": FEEDS}, 0)
    assert _answered(changed["outcomes"]) == {"new": 1, "not_modified": FEEDS - 1}
    assert changed["stories"] == 3  # a generation adds three items on top
    expired, window = counted(expiry["note"], r"oldest ([\d,]+) of ([\d,]+) stories")
    assert window == first + 3 and expired == window // 10
    (rebuilt,) = counted(restart["note"], r"window of ([\d,]+) stories")
    assert 0 < rebuilt <= window  # the stories published within the window's reach
    assert memory["peak_mb"] > 0 and memory["worker_peak_mb"] > 0
    assert 0 < cold["own_cpu"] < cold["cpu"]  # the workers' CPU counts too
    assert (naive_cold["outcomes"], naive_cold["stories"]) == ({"new": FEEDS}, items(paths))
    assert naive_warm["outcomes"] == {"not_modified": FEEDS}


def test_the_bare_pipeline_stores_every_story_alone_and_matches_none(tmp_path: Path) -> None:
    folder = tmp_path / "feeds"
    paths = feedgen.write_feeds(folder, FEEDS)
    with servers.python_server(folder):
        full, _ = run("watcher", folder, tmp_path / "full.db", "cold")
        bare, memory = run("watcher-bare", folder, tmp_path / "bare.db", "cold")
    assert (bare["outcomes"], bare["stories"]) == ({"new": FEEDS}, items(paths))
    assert memory["worker_peak_mb"] > 0  # parsed in the pool, as watcher parses
    counts = {name: tables(tmp_path / f"{name}.db") for name in ("full", "bare")}
    assert counts["bare"] == (full["stories"], full["stories"], 0)  # a cluster each, no match
    stories, _, matches = counts["full"]
    assert stories == full["stories"] and matches > 0  # the feeds name minerals: rules match


def tables(state: Path) -> tuple[int, int, int]:
    """Stories stored, clusters they are in, and matches recorded."""
    with sqlite3.connect(state) as db:
        return db.execute(
            "SELECT (SELECT count(*) FROM stories), (SELECT count(DISTINCT cluster_id) FROM "
            "stories), (SELECT count(*) FROM matches)"
        ).fetchone()


def test_the_steps_of_a_cold_feed_are_each_timed() -> None:
    costs = stages.run(feeds=3)
    assert list(costs) == [step for step, _ in stages.STEPS]
    assert all(cost > 0 for cost in costs.values())
    table = stages.table(costs, cycle_cpu_ms=sum(costs.values()) + 1)
    assert all(f"| {step} | {where} |" in table for step, where in stages.STEPS)
    assert "1.0 ms a feed went to what the steps leave out" in table


def test_the_targets_table_judges_each_size_against_its_peer() -> None:
    from bench.poll_bench import Row, targets

    def row(group: str, cycle: str, tool: str, feeds: int, seconds: float) -> Row:
        return Row(group, cycle, tool, feeds, seconds, cpu=1.0, peak_mb=100.0, note="")

    rows = [
        row("loopback", "cold", "watcher", 1000, 5.0),  # 200 feeds/s
        row("loopback", "cold", "watcher", 5000, 100.0),  # 50 feeds/s
        row("loopback", "cold", "naive", 1000, 25.0),  # 40 feeds/s
        row("100 ms away", "cold", "watcher", 1000, 10.0),  # 100 feeds/s
        row("100 ms away", "cold", "watcher", 5000, 25.0),  # 200 feeds/s
        row("100 ms away", "cold", "rss2email 3.14", 200, 50.0),  # 4 feeds/s
    ]
    e2e = {"median": 30.0, "p95": 50.0, "received": 20, "stories": 20}
    table = targets(rows, e2e).splitlines()
    assert "| cold cycle ≥ 100 feeds/s (1,000 feeds) | 200 feeds/s | yes |" in table
    assert "| cold cycle ≥ 100 feeds/s (5,000 feeds) | 50 feeds/s | **no** |" in table
    assert any(line.startswith("| cold cycle ≥ 4 × the naive loop (1,000 feeds) | 5.0×")
               and line.endswith("| yes |") for line in table)  # fmt: skip
    assert "| 100 ms away, cold: ≥ 50 × rss2email (1,000 feeds) | 25× | **no** |" in table
    assert "| 100 ms away, cold: ≥ 50 × rss2email (5,000 feeds) | 50× | yes |" in table


def test_the_recall_benchmark_places_each_late_story_with_its_copy() -> None:
    from bench import recall

    rows, count = recall.run(feeds=30)
    assert count == sum(feedgen.feed_xml(i).count(b"<item>") for i in range(30))
    assert [(r["days_on"], r["age"]) for r in rows] == list(recall.CASES)
    assert all(r["joined"] for r in rows)
    # a copy 6.5 days old was before the window rebuilt: read back; one 4.5 days old in it
    assert rows[0]["put_back"] >= 1 and rows[0]["read"] >= rows[0]["put_back"]  # type: ignore[operator]
    table = recall.table(rows, 30, count).splitlines()
    assert len(table) == 4 + len(recall.CASES) and table[-1].endswith("| yes |")


def _answered(outcomes: dict[str, int]) -> dict[str, int]:
    """A cycle's outcomes, a full read of an unchanged body counted as the 304 it stands for."""
    counted = dict(outcomes)
    if unchanged := counted.pop("unchanged", 0):
        counted["not_modified"] = counted.get("not_modified", 0) + unchanged
    return counted
