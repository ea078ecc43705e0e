"""Poll cycles of watcher, the naive feedparser loop and rss2email, side by side in one run.

Generated feeds (bench/feedgen.py: 20-50 items, 40-100 KB) are served by nginx (or a Python
server) on 100 loopback addresses; see bench/servers.py. Each watcher and naive-loop run is
a process of its own (bench/poll_cycle.py), so its CPU time and peak memory are its own.
`python -m bench.poll_bench` prints the tables; `make bench` also writes them to README.md.
"""

from __future__ import annotations

import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench import feedgen, peers, servers

HERE = Path(__file__).resolve().parent
SIZES = tuple(int(n) for n in os.environ.get("BENCH_FEEDS", "1000,5000").split(","))
LATENCY_SIZES = tuple(int(n) for n in os.environ.get("BENCH_LATENCY_FEEDS", "1000,5000").split(","))
PEER_FEEDS = int(os.environ.get("BENCH_PEER_FEEDS", "1000"))  # the naive loop, no latency
SLOW_PEER_FEEDS = int(os.environ.get("BENCH_SLOW_PEER_FEEDS", "200"))  # one at a time: slow
E2E_STORIES = int(os.environ.get("BENCH_E2E_STORIES", "20"))


NO_RATE = ("expiry", "restart")  # cycles that poll no feed
BARE = "watcher-bare"  # watcher without fingerprints, clustering and rules (bench/bare.py)


@dataclass
class Row:
    group: str  # loopback | 100 ms away | no validators
    cycle: str
    tool: str
    feeds: int
    seconds: float
    cpu: float
    peak_mb: float
    note: str = ""

    @property
    def rate(self) -> float:
        return self.feeds / self.seconds

    @property
    def cpu_per_1000(self) -> float:
        return self.cpu / self.feeds * 1000


class Bench:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.folder = work / "feeds"
        self.generation = 0
        self.rows: list[Row] = []

    def child(
        self, tool: str, feeds: int, port: int, cycles: str, group: str, *, fresh: bool = True
    ) -> None:
        """One run in a process of its own; without `fresh`, over the previous run's database."""
        state = self.work / f"{tool}-{group}-{feeds}.db".replace(" ", "-")
        for suffix in ("", "-wal", "-shm") if fresh else ():
            Path(f"{state}{suffix}").unlink(missing_ok=True)
        out = subprocess.run(
            [sys.executable, "-m", "bench.poll_cycle", tool, "--feeds", str(feeds),
             "--port", str(port), "--folder", str(self.folder), "--state", str(state),
             "--cycles", cycles, "--generation", str(self.generation)],
            capture_output=True, text=True, cwd=HERE.parent, check=True,
        )  # fmt: skip
        results = json.loads(out.stdout)
        memory = results.pop()
        self.generation += cycles.split(",").count("changed")
        for r in results:
            if r["cycle"] in NO_RATE:
                self.rows.append(Row(group, r["cycle"], tool, feeds, r["seconds"], r["cpu"],
                                     memory["peak_mb"], r["note"]))  # fmt: skip
                continue
            outcomes = ", ".join(f"{k} {v}" for k, v in sorted(r["outcomes"].items()))
            worker = (
                f"; largest parse worker {memory['worker_peak_mb']:.0f} MB"
                if memory["worker_peak_mb"]
                else ""
            )
            if "own_cpu" in r and r["cycle"] == "cold":  # the event loop's share of the CPU
                worker += f"; {r['own_cpu'] / r['feeds'] * 1000:.1f} CPU ms a feed not in the pool"
            self.rows.append(Row(
                group, r["cycle"], tool, r["feeds"], r["seconds"], r["cpu"],
                memory["peak_mb"], f"{outcomes}; {r['stories']} new stories{worker}",
            ))  # fmt: skip
        print(f"  {tool} {feeds} feeds {group} {cycles}: done", file=sys.stderr)

    def rss2email(self, feeds: int, port: int, group: str) -> None:
        peers.ensure_rss2email()
        urls = [servers.url(i, port) for i in range(feeds)]
        with peers.smtp_sink() as (smtp_port, sink):
            config, data = peers.configure(self.work / f"r2e-{port}", urls, smtp_port)
            cold = peers.run_cycle(config, data)
            mails = sink.messages
            warm = peers.run_cycle(config, data)
        for cycle, run, note in (("cold", cold, f"{mails} mails sent"), ("warm", warm, "")):
            self.rows.append(Row(group, cycle, f"rss2email {peers.VERSION}", feeds,
                                 run.seconds, run.cpu, run.peak_mb, note))  # fmt: skip
        print(f"  rss2email {feeds} feeds {group}: done", file=sys.stderr)


def run_all() -> tuple[str, list[Row], dict[str, float]]:
    with tempfile.TemporaryDirectory(prefix="watcher-bench-") as tmp:
        work = Path(tmp)
        work.chmod(0o755)  # nginx's workers run as another user
        bench = Bench(work)
        feedgen.write_feeds(bench.folder, max(SIZES))
        with servers.feed_server(bench.folder, work / "nginx") as server:
            for n, size in enumerate(SIZES):
                bench.child("watcher", size, servers.PORT, "cold,warm,changed,expiry", "loopback")
                if n == 0:  # right after watcher's first cycles: a shared host's speed drifts
                    bench.child("naive", PEER_FEEDS, servers.PORT, "cold,warm,changed", "loopback")
                    bench.child(BARE, PEER_FEEDS, servers.PORT, "cold", "loopback")
                bench.child("watcher", size, servers.PORT, "restart", "loopback", fresh=False)
            bench.child("watcher", SIZES[0], servers.NO_VALIDATORS_PORT, "cold,unchanged",
                        "no validators")  # fmt: skip
            bench.rss2email(SLOW_PEER_FEEDS, servers.PORT, "loopback")
            with servers.latency_proxy():
                away = "100 ms away"
                for size in LATENCY_SIZES:
                    bench.child("watcher", size, servers.PROXY_PORT, "cold,warm,changed", away)
                bench.child("naive", SLOW_PEER_FEEDS, servers.PROXY_PORT, "cold,warm", away)
                bench.rss2email(SLOW_PEER_FEEDS, servers.PROXY_PORT, away)
            e2e = end_to_end(work, E2E_STORIES)
    return server, bench.rows, e2e


# -- end-to-end latency ------------------------------------------------------------------------


class SlackStandIn:
    """Records when each story's alert reaches the webhook."""

    def __init__(self) -> None:
        self.received: dict[str, float] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                for marker in set(re.findall(r"Zephyrmark\d+", body)):
                    outer.received.setdefault(marker, time.monotonic())
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.port = self.server.server_address[1]


def _with_story(path: Path, marker: str) -> None:
    from datetime import UTC, datetime
    from email.utils import format_datetime

    rng = random.Random(marker)
    buyer, seller, town = (feedgen.name(rng) for _ in range(3))
    text = path.read_text()
    item = (
        f"<item><title>{marker}: {buyer} agrees to buy gallium from {seller}</title>"
        f"<link>https://e2e.example/{marker}</link><guid>{marker}</guid>"
        f"<pubDate>{format_datetime(datetime.now(UTC))}</pubDate>"
        f"<description>{buyer} will take {seller}'s gallium output from {town}."
        "</description></item>\n"
    )
    head, _, rest = text.partition("<item>")
    path.write_text(f"{head}{item}<item>{rest}")


def end_to_end(work: Path, stories: int) -> dict[str, float]:
    """`watcher run` polls `stories` feeds every 60 s; one story is appended to each feed at
    a random moment; the time until the Slack stand-in receives its alert is measured."""

    folder = work / "e2e"
    folder.mkdir()
    paths = []
    for n in range(stories):  # small feeds of their own: the latency is what is measured
        path = folder / f"feed{n}.xml"
        path.write_bytes(feedgen.feed_xml(10_000 + n))
        paths.append(path)
    slack = SlackStandIn()
    (work / "e2e-rules").mkdir()
    (work / "e2e-rules" / "e2e.yaml").write_text("rules:\n  - name: e2e\n    when: gallium\n")
    config = work / "e2e.yaml"
    feeds = "".join(f"  - name: e2e{n}\n    url: {p.as_uri()}\n" for n, p in enumerate(paths))
    config.write_text(
        f"state: e2e.db\nrules: e2e-rules/\nbackfill: 1h\npoll:\n  interval: 60s\n  jitter: 0\n"
        f"subscribers:\n  - name: team\n    slack: http://127.0.0.1:{slack.port}/slack\n"
        f"feeds:\n{feeds}"
    )
    log = (work / "e2e.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "watcher", "--config", str(config), "run", "--listen",
         "127.0.0.1:0"], cwd=HERE.parent, stdout=subprocess.DEVNULL, stderr=log,
    )  # fmt: skip
    appended: dict[str, float] = {}
    try:
        time.sleep(8)  # every feed's first poll: the backlog, stored and not alerted
        start = time.monotonic()
        moments = sorted((random.uniform(0, 60), n) for n in range(stories))
        for at, n in moments:
            time.sleep(max(0.0, start + at - time.monotonic()))
            marker = f"Zephyrmark{n}"
            _with_story(paths[n], marker)
            appended[marker] = time.monotonic()
        deadline = time.monotonic() + 90
        while len(slack.received) < stories and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(15)
        log.close()
        slack.server.shutdown()
    latencies = sorted(slack.received[m] - t for m, t in appended.items() if m in slack.received)
    return {
        "stories": stories, "received": len(latencies),
        "median": statistics.median(latencies) if latencies else float("nan"),
        "p95": latencies[max(0, round(0.95 * len(latencies)) - 1)] if latencies else float("nan"),
        "max": latencies[-1] if latencies else float("nan"),
    }  # fmt: skip


# -- the tables ----------------------------------------------------------------------------------


def table(server: str, rows: list[Row], e2e: dict[str, float]) -> str:
    def rate_of(group: str, cycle: str, tool: str) -> float | None:
        found = [r.rate for r in rows if (r.group, r.cycle) == (group, cycle)
                 and r.tool.split()[0] == tool]  # fmt: skip
        return found[0] if found else None

    lines = [
        f"Feeds served by {server} on 127.0.1.1-100 (ETag and Last-Modified; a second port "
        "with validators off). The latency proxy delays every chunk 50 ms each way and a new "
        "connection's handshake 100 ms. watcher: concurrency 100, 2 per host, parsing in a "
        "process pool of 2, started before the first cycle as `watcher run` starts it (its "
        "workers' start, about 1 CPU-s each, is not in any cycle); clustering, the shipped "
        "rules and the alert outbox included. After its cycles, each loopback run expires "
        "the oldest tenth of its clustering window, as the service's prune does every 6 hours "
        "(row `expiry`); then a new process rebuilds the window from that database, as "
        "`watcher run` does on start (row `restart`, its own peak RSS). CPU counts the parse "
        "workers (a cold cycle's note gives what the main process, event loop and SQLite, "
        "spent apart from them); peak RSS is the main process, over the whole run. Ratios "
        "compare feeds/s in the same network and cycle. Row `watcher-bare` is watcher with "
        "fingerprints, clustering and rule matching left out (bench/bare.py): what fetching, "
        "parsing and storing cost on their own.",
        "",
        "| network | cycle | tool | feeds | feeds/s | CPU s per 1,000 feeds | peak RSS MB | "
        "watcher ÷ naive | watcher ÷ rss2email | notes |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        if r.cycle in NO_RATE:
            lines.append(f"| {r.group} | {r.cycle} | {r.tool} | {r.feeds:,} |  |  | "
                         f"{r.peak_mb:.0f} |  |  | {r.note} |")  # fmt: skip
            continue
        ratios = ["", ""]
        if r.tool in ("watcher", BARE):
            for i, peer in enumerate(("naive", "rss2email")):
                other = rate_of(r.group, r.cycle, peer)
                ratios[i] = f"{r.rate / other:.1f}×" if other else ""
        lines.append(
            f"| {r.group} | {r.cycle} | {r.tool} | {r.feeds:,} | {r.rate:,.0f} | "
            f"{r.cpu_per_1000:.1f} | {r.peak_mb:.0f} | {ratios[0]} | {ratios[1]} | "
            f"{r.note} |"
        )
    lines += [
        "",
        f"End to end (`watcher run`, {e2e['stories']} feeds polled every 60 s without jitter, "
        "one story appended to each at a random moment, until the Slack stand-in receives "
        f"its alert): received {e2e['received']:.0f} of {e2e['stories']:.0f}; median "
        f"**{e2e['median']:.1f} s**, p95 **{e2e['p95']:.1f} s**, max {e2e['max']:.1f} s "
        "(target: at most the poll interval + 2 s = 62 s).",
    ]
    return "\n".join(lines)


def watchers(rows: list[Row], group: str, cycle: str) -> list[Row]:
    """watcher's rows of a network and cycle, one a size."""
    return [r for r in rows if (r.group, r.cycle, r.tool) == (group, cycle, "watcher")]


def targets(rows: list[Row], e2e: dict[str, float]) -> str:
    """Each target of the issue, the figure measured, and whether it is met."""

    def one(group: str, cycle: str, tool: str, feeds: int | None = None) -> Row | None:
        found = [r for r in rows if (r.group, r.cycle) == (group, cycle)
                 and r.tool.split()[0] == tool and (feeds is None or r.feeds == feeds)]  # fmt: skip
        return found[-1] if found else None

    lines = ["| target | measured | met |", "| --- | --- | --- |"]

    def add(target: str, measured: str, met: bool) -> None:
        lines.append(f"| {target} | {measured} | {'yes' if met else '**no**'} |")

    naive, bare = one("loopback", "cold", "naive"), one("loopback", "cold", BARE)
    for cold in watchers(rows, "loopback", "cold"):
        add(f"cold cycle ≥ 100 feeds/s ({cold.feeds:,} feeds)", f"{cold.rate:.0f} feeds/s",
            cold.rate >= 100)  # fmt: skip
    if naive is not None:
        without = (
            f"; without fingerprints, clustering and rules {bare.rate / naive.rate:.1f}× at "
            f"{bare.cpu_per_1000:.1f}"
            if bare
            else ""
        )
        for cold in watchers(rows, "loopback", "cold"):
            add(f"cold cycle ≥ 4 × the naive loop ({cold.feeds:,} feeds)",
                f"{cold.rate / naive.rate:.1f}× (CPU s per 1,000 feeds: watcher "
                f"{cold.cpu_per_1000:.1f} over both cores, naive {naive.cpu_per_1000:.1f} on "
                f"one{without})", cold.rate >= 4 * naive.rate)  # fmt: skip
    for row in watchers(rows, "loopback", "warm"):
        add(f"warm cycle ≥ 1,000 feeds/s ({row.feeds:,} feeds)", f"{row.rate:,.0f} feeds/s",
            row.rate >= 1000)  # fmt: skip
    for label in ("cold", "warm"):
        theirs = one("100 ms away", label, "rss2email")
        if theirs is None:
            continue
        for ours in watchers(rows, "100 ms away", label):
            add(f"100 ms away, {label}: ≥ 50 × rss2email ({ours.feeds:,} feeds)",
                f"{ours.rate / theirs.rate:.0f}×", ours.rate >= 50 * theirs.rate)  # fmt: skip
    same = one("no validators", "unchanged", "watcher")
    if same:
        add("an unchanged 200 without validators is not parsed again", same.note.split(";")[0],
            same.note.startswith(f"unchanged {same.feeds}"))  # fmt: skip
    add("end to end ≤ poll interval + 2 s (62 s)", f"median {e2e['median']:.1f} s, p95 "
        f"{e2e['p95']:.1f} s", e2e["received"] == e2e["stories"] and e2e["p95"] <= 62)  # fmt: skip
    big = [r for r in rows if r.tool == "watcher" and r.group == "loopback"]
    if big:
        most = max(r.feeds for r in big)
        peak = max(r.peak_mb for r in big if r.feeds == most)  # polls, expiry and restart
        add(f"memory for {most:,} feeds < 300 MB", f"{peak:.0f} MB peak RSS (main process, "
            "cycles, expiry and restart)", peak < 300)  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    server, rows, e2e = run_all()
    print(table(server, rows, e2e))
    print()
    print(targets(rows, e2e))


if __name__ == "__main__":
    main()
