"""Fault drills: hostile feeds in one cycle, a soak with SIGKILL restarts, a locked and a full
database. Marked `drill`; CI runs them with the rest (`-m drill` runs only these).

The soak runs WATCHER_SOAK_SECONDS (default 120) with a SIGKILL every WATCHER_SOAK_KILL_EVERY
seconds (default 20).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import cache
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tests.conftest import FakeClock, write_locked
from tests.feedserver import FeedServer, fixture_bytes, rss, send
from watcher.config import PollSettings
from watcher.fetch import Fetcher
from watcher.models import FeedConfig, PollOutcome
from watcher.pipeline import Pipeline
from watcher.store import Store

pytestmark = pytest.mark.drill

SOAK_SECONDS = float(os.environ.get("WATCHER_SOAK_SECONDS", "120"))
KILL_EVERY = float(os.environ.get("WATCHER_SOAK_KILL_EVERY", "20"))


def item(n: int, title: str | None = None, guid: str | None = None, date: str | None = "") -> str:
    when = format_datetime(datetime(2026, 11, 20, tzinfo=UTC) + timedelta(minutes=n))
    date_tag = "" if date is None else f"<pubDate>{date or when}</pubDate>"
    return (
        f"<item><title>{title or f'Drill story {n}'}</title>"
        f"<link>https://drill.test/{n}</link><guid>{guid or f'drill-{n}'}</guid>{date_tag}"
        f"<description>Body of drill story {n}.</description></item>"
    )


@cache
def gzip_bomb() -> bytes:
    """About 1 MB of gzip that inflates to 1 GiB of zeros (made in pieces: little memory)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = b"\0" * (1 << 20)
    parts = [packer.compress(zeros) for _ in range(1024)]
    return b"".join(parts) + packer.flush()


def never_answers(handler: BaseHTTPRequestHandler) -> None:
    time.sleep(30)


def trickles(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/rss+xml")
    handler.send_header("Content-Length", "100000")
    handler.end_headers()
    for byte in rss([item(1)])[:30]:
        handler.wfile.write(bytes([byte]))
        handler.wfile.flush()
        time.sleep(1)


def fifty_megabytes(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/rss+xml")
    handler.end_headers()  # no Content-Length: the size shows only while reading
    chunk = item(0).encode() * 1000
    head = rss([])[: -len("</channel></rss>")]
    handler.wfile.write(head)
    for _ in range(50 * (1 << 20) // len(chunk)):
        handler.wfile.write(chunk)


def bomb(handler: BaseHTTPRequestHandler) -> None:
    send(handler, 200, gzip_bomb(), "application/rss+xml", {"Content-Encoding": "gzip"})


HOSTILE_BODIES = {
    "billion-laughs": (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol "lol">'
        + b"".join(
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
            for i in range(1, 10)
        )
        + b']><rss version="2.0"><channel><title>&lol9;</title>'
        + item(1).encode()
        + b"</channel></rss>"
    ),
    "invalid-utf8": rss([item(1, title="Caf INVALID opens")]).replace(b"INVALID", b"\xff\xfe"),
    "mislabelled": rss([item(1, title="Zürich smelter deal")], "latin-1", declared="utf-8"),
    "mislabelled-header": rss([item(1, title="Zürich smelter deal")]),
    "mislabelled-utf-16": rss([item(1, title="Zürich smelter deal")], declared="utf-16"),
    "ten-thousand": rss([item(n) for n in range(10_000)]),
    "duplicate-guids": rss([item(n, guid="same-guid") for n in range(5)]),
    "dates": rss(
        [
            item(1, date=None),
            item(2, date="Sun, 01 Jan 2090 00:00:00 GMT"),
            item(3, date="not a date"),
            item(4, date="30.日-"),  # panicked feedparser-rs's Rust code: no Exception
        ]
    ),
    # text that patterns and the HTML parser once read for days or minutes, one backtrack at
    # a time: a date in numbers then 40 blanks, a megabyte of unclosed tags, a comma then
    # capitals (a credit line's "..., Kyodo News reported.")
    "slow-text": rss(
        [
            item(1, date="2026/11/24" + " " * 40 + "x"),
            item(2).replace("Body of drill story 2.", "&lt;a" * 500_000),
            item(3).replace("Body of drill story 3.", "Gallium, " + "A" * 1_600),
        ]
    ),
}


def json_feed(items: list[dict[str, str]]) -> bytes:
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": items}).encode()


JSON_ITEMS = [
    {"id": f"j{n}", "url": f"https://drill.test/j{n}", "title": f"Drill JSON story {n}"}
    for n in range(12_000)
]
HOSTILE_JSON = {
    "json-twelve-thousand": json_feed(JSON_ITEMS),  # past MAX_ENTRIES
    "json-nested": b'{"version": "https://jsonfeed.org/version/1.1", "items": ['
    + b"[" * 200_000
    + b"]" * 200_000
    + b"]}",
    "json-cut": json_feed(JSON_ITEMS[:3])[:-30],
}


def serve_hostile(server: FeedServer, secret_file: Path) -> dict[str, str]:
    """Every hostile feed on the server; returns name -> path."""
    server.routes["/never.xml"] = never_answers
    server.routes["/trickle.xml"] = trickles
    server.status("/500.xml", 500)
    server.status("/404.xml", 404)
    server.status("/410.xml", 410)
    server.redirect("/loop-a.xml", server.url("/loop-b.xml"), 302)
    server.redirect("/loop-b.xml", server.url("/loop-a.xml"), 302)
    server.routes["/50mb.xml"] = fifty_megabytes
    gzip_bomb()  # made before the cycle: compressing 1 GiB takes seconds
    server.routes["/bomb.xml"] = bomb
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "{secret_file.as_uri()}">]>'
        '<rss version="2.0"><channel><title>XXE</title><item><title>Leak &xxe;</title>'
        "<link>https://drill.test/xxe</link><guid>xxe</guid></item></channel></rss>"
    ).encode()
    server.feed("/xxe.xml", xxe)
    server.feed("/page.xml", fixture_bytes("page.html"), content_type="text/html")
    link_bomb = b"<html><head><link " + b"a" * 250_000 + b"></head></html>"  # read in minutes
    server.feed("/link-bomb.xml", link_bomb, content_type="text/html")
    for name, body in HOSTILE_BODIES.items():
        charset = {"mislabelled-header": "; charset=iso-8859-1", "mislabelled-utf-16": ""}
        kind = f"application/rss+xml{charset.get(name, '; charset=utf-8')}"
        server.feed(f"/{name}.xml", body, content_type=kind)
    for name, body in HOSTILE_JSON.items():
        server.feed(f"/{name}.xml", body, content_type="application/feed+json")
    server.feed("/wire.xml", fixture_bytes("wire.rss.xml"))
    server.feed("/asia.xml", fixture_bytes("asia.rdf.xml"))
    names = ["never", "trickle", "500", "404", "410", "loop-a", "50mb", "bomb", "xxe", "page",
             "link-bomb", *HOSTILE_BODIES, *HOSTILE_JSON, "wire", "asia"]  # fmt: skip
    return {name: f"/{name}.xml" for name in names}


# `watcher` run so that it writes, as it exits, its own peak RSS in KiB (VmHWM, which starts
# anew at exec) or its parse workers', whichever is larger, to the file named first. The
# rusage that wait4 gives would not do: Linux carries a process's peak across fork and
# exec, so it would report pytest's own peak whenever pytest had grown larger.
REPORTING_PEAK = """
import atexit, re, resource, runpy, sys
from pathlib import Path
out = Path(sys.argv.pop(1))
def report():
    own = int(re.search(r"VmHWM:\\s+(\\d+)", Path("/proc/self/status").read_text())[1])
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out.write_text(str(max(own, workers)))
atexit.register(report)
sys.argv[0] = "watcher"
runpy.run_module("watcher", run_name="__main__", alter_sys=True)
"""


def test_hostile_feeds_in_one_cycle_end_cleanly_and_healthy_feeds_are_processed(
    server: FeedServer, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-LOCAL-FILE")
    feeds = serve_hostile(server, secret)
    config = tmp_path / "watcher.yaml"
    config.write_text(
        "state: w.db\npoll:\n  interval: 1m\n  total_timeout: 6s\n  read_timeout: 3s\n"
        "  connect_timeout: 3s\nfeeds:\n"
        + "".join(f"  - name: {n}\n    url: {server.url(p)}\n" for n, p in feeds.items())
    )
    started = time.monotonic()
    peak = tmp_path / "peak-kib"
    proc = subprocess.run(
        [sys.executable, "-c", REPORTING_PEAK, str(peak), "--config", str(config), "once"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    stderr = proc.stderr
    assert proc.returncode == 1, stderr  # some feeds failed
    assert time.monotonic() - started < 60
    assert int(peak.read_text()) / 1024 < 300, "peak RSS of the cycle, MB"

    db = sqlite3.connect(tmp_path / "w.db")
    state = {r[0]: r[1:] for r in db.execute(
        "SELECT name, consecutive_failures, disabled, last_error, last_status FROM feeds")}  # fmt: skip
    stories = {name: [r[0] for r in db.execute(
        "SELECT title FROM stories WHERE feed = ? ORDER BY published", [name])]
        for name in feeds}  # fmt: skip

    def failed(name: str, *words: str) -> None:
        failures, _, error, _ = state[name]
        assert failures == 1 and error, (name, state[name])
        assert any(w in error.lower() for w in words), (name, error)
        assert f"feed={name}" in stderr or f'feed="{name}"' in stderr  # the log names it

    failed("never", "timed out", "timeout")
    failed("trickle", "timed out", "timeout")
    failed("500", "http 500")
    failed("404", "http 404")
    failed("loop-a", "redirect")
    failed("50mb", "larger than", "max_bytes", "too large")
    failed("bomb", "larger than", "max_bytes", "too large")
    failed("page", "not a feed", "html")
    failed("link-bomb", "not a feed", "html")
    failed("json-nested", "malformed json feed: nested too deeply")
    failed("json-cut", "malformed json feed: unterminated string at line 1")
    assert state["410"][1] == 1  # disabled: 410 Gone
    assert stories["wire"] and stories["asia"]  # the healthy feeds, processed normally
    assert not any("TOP-SECRET" in t for t in stories["xxe"])
    assert all(len(t) < 1000 for t in stories["billion-laughs"])
    assert len(stories["ten-thousand"]) == 10_000
    assert len(stories["json-twelve-thousand"]) == 10_000  # the first 10,000, with a warning
    (warning,) = db.execute(
        "SELECT warning FROM feeds WHERE name = 'json-twelve-thousand'"
    ).fetchone()
    assert "lists more than 10,000 entries: the first 10,000 are read" in warning
    # one guid on five different stories identifies none of them: each is kept, by its link
    assert stories["duplicate-guids"] == [f"Drill story {n}" for n in range(5)]
    assert len(stories["dates"]) == 4
    assert stories["mislabelled"] and "smelter deal" in stories["mislabelled"][0]
    assert stories["mislabelled-header"] and "smelter deal" in stories["mislabelled-header"][0]
    assert stories["mislabelled-utf-16"] == ["Zürich smelter deal"]
    assert stories["invalid-utf8"] and "opens" in stories["invalid-utf8"][0]
    dated = db.execute("SELECT published, fetched_at FROM stories WHERE feed = 'dates'").fetchall()
    assert not any(published.startswith("2090") for published, _ in dated)  # clamped
    assert sum(published == fetched for published, fetched in dated) == 4  # none, 2090, junk
    slow = db.execute("SELECT published FROM stories WHERE feed = 'slow-text' ORDER BY title")
    assert [p[:10] for (p,) in slow] == ["2026-11-24", "2026-11-20", "2026-11-20"]
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# -- the soak ------------------------------------------------------------------------------------


class SoakFeeds:
    """Feeds that gain a story every few seconds; the first of every ten misbehave."""

    def __init__(self, server: FeedServer, count: int) -> None:
        self.started = time.time()
        self.frozen_at: float | None = None
        self.lock = threading.Lock()
        self.published: dict[int, int] = {}  # feed -> stories published so far
        self.count = count
        self.bad = {n: kind for n, kind in zip(range(0, count, 10), self._kinds(), strict=False)}
        for n in range(count):
            server.routes[f"/soak{n}.xml"] = self._route(n)

    @staticmethod
    def _kinds() -> list[str]:
        return ["500", "hang", "html", "404", "garbage"] * 10

    def stories(self, feed: int) -> int:
        """Stories feed `feed` holds now: one more every 7 to 13 seconds, until frozen."""
        period = 7 + feed % 7
        now = time.time() if self.frozen_at is None else self.frozen_at
        return 1 + int((now - self.started) / period)

    def freeze(self) -> None:
        """Publish nothing more: a request a killed process sent, answered late, must not
        publish a story after the final pass has fetched its feed."""
        self.frozen_at = time.time()

    def _route(self, feed: int):  # type: ignore[no-untyped-def]
        def route(handler: BaseHTTPRequestHandler) -> None:
            kind = self.bad.get(feed)
            if kind == "500":
                send(handler, 500, b"oops", "text/plain")
            elif kind == "404":
                send(handler, 404, b"gone fishing", "text/plain")
            elif kind == "hang":
                time.sleep(8)
            elif kind == "html":
                send(handler, 200, b"<html><body>Not a feed</body></html>", "text/html")
            elif kind == "garbage":
                send(handler, 200, os.urandom(2000), "application/rss+xml")
            else:
                count = self.stories(feed)
                with self.lock:
                    self.published[feed] = max(self.published.get(feed, 0), count)
                body = rss([self._item(feed, k) for k in range(count)])
                send(handler, 200, body, "application/rss+xml")

        return route

    @staticmethod
    def _item(feed: int, k: int) -> str:
        rng = random.Random(f"{feed}-{k}")
        words = " ".join("".join(rng.choices("bcdfgklmnprstvz", k=3)) + "a" for _ in range(5))
        when = format_datetime(datetime.now(UTC) - timedelta(minutes=1))
        return (
            f"<item><title>Gallium {words} soak{feed}x{k}</title>"
            f"<link>https://soak.test/{feed}/{k}</link><guid>soak-{feed}-{k}</guid>"
            f"<pubDate>{when}</pubDate><description>{words} story {k}.</description></item>"
        )


@pytest.mark.timeout(SOAK_SECONDS + 300)  # the soak itself, then one clean pass
def test_soak_with_sigkill_restarts_loses_nothing_and_alerts_at_most_once(
    server: FeedServer, tmp_path: Path
) -> None:
    feeds = SoakFeeds(server, 200)
    server.routes["/hook"] = lambda h: send(h, 200, b"ok", "text/plain")
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "soak.yaml").write_text("rules:\n  - name: soak\n    when: gallium\n")
    config = tmp_path / "watcher.yaml"
    config.write_text(
        "state: w.db\nrules: rules/\nbackfill: all\npoll:\n  interval: 1m\n  jitter: 0\n"
        "  total_timeout: 5s\n  concurrency: 40\nsubscribers:\n  - name: team\n"
        f"    webhook: {server.url('/hook')}\nfeeds:\n"
        + "".join(
            f"  - name: soak{n}\n    url: {server.url(f'/soak{n}.xml')}\n" for n in range(200)
        )
    )
    command = [sys.executable, "-m", "watcher", "--config", str(config), "--log-level", "WARNING"]
    deadline = time.monotonic() + SOAK_SECONDS
    kills = 0
    while time.monotonic() < deadline:
        with (tmp_path / f"run{kills}.log").open("wb") as log:  # kept for a failure's story
            proc = subprocess.Popen([*command, "run", "--listen", "127.0.0.1:0"],
                                    stdout=subprocess.DEVNULL, stderr=log)  # fmt: skip
        try:
            time.sleep(
                min(KILL_EVERY * random.uniform(0.7, 1.3), max(1.0, deadline - time.monotonic()))
            )
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        kills += 1
    # one last clean pass: everything published until now is fetched and delivered
    feeds.freeze()
    final = subprocess.run(
        [*command, "once", "--force"], capture_output=True, text=True, timeout=120
    )
    assert final.returncode == 1, final.stderr  # the misbehaving feeds fail, nothing else
    assert "\nwatcher: " not in "\n" + final.stderr, final.stderr[-3000:]  # no command error

    db = sqlite3.connect(tmp_path / "w.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = [r[0] for r in db.execute("SELECT guid FROM stories")]
    assert len(stored) == len(set(stored)), "a story stored twice"
    expected = {f"soak-{f}-{k}" for f, n in feeds.published.items() for k in range(n)}
    lost = sorted(expected - set(stored))
    assert expected and not lost, f"lost: {lost[:5]}\n{final.stderr[-3000:]}"
    alerts = db.execute(
        "SELECT id, cluster_id, story_id, status, sends, last_error FROM alerts"
    ).fetchall()
    # delivered, or waiting for a retry after a recorded failure (not lost: it is due later)
    waiting = [a for a in alerts if a[3] != "sent"]
    assert alerts and all(a[3] == "pending" and a[5] for a in waiting), (
        waiting[:3],
        final.stderr[-3000:],
    )
    stories_alerted = [a[2] for a in alerts]
    assert len(stories_alerted) == len(set(stories_alerted)), "a story alerted twice"
    merged = dict(db.execute("SELECT id, merged_into FROM clusters WHERE merged_into IS NOT NULL"))

    def root(cluster: int) -> int:
        while cluster in merged:
            cluster = merged[cluster]
        return cluster

    matched = {r[0] for r in db.execute("SELECT DISTINCT cluster_id FROM matches")}
    assert matched <= {root(a[1]) for a in alerts}, "a matched news item never alerted"
    keys = [key for path, key in server.post_keys if path == "/hook"]
    expected_keys = {f"watcher-alert-team-webhook-{a[2]}": a for a in alerts}
    sent_keys = {k for k, a in expected_keys.items() if a[3] == "sent"}
    assert sent_keys <= set(keys), "an alert recorded as sent never arrived"
    assert set(keys) <= set(expected_keys), "an alert arrived that the outbox has no record of"
    # A kill between a POST and its 'sent' commit makes the restart send that alert again (at
    # least once, never lost): at most one repeat per kill, only of an alert whose send the
    # outbox counted twice, with the same Idempotency-Key so the receiver can drop it.
    repeats = {k: keys.count(k) for k in set(keys) if keys.count(k) > 1}
    assert sum(n - 1 for n in repeats.values()) <= kills
    assert all(expected_keys[k][4] >= n for k, n in repeats.items()), "a repeat not counted"
    print(f"soak: {kills} kills, {len(alerts)} alerts, {len(waiting)} waiting for a retry, "
          f"{len(keys) - len(set(keys))} repeats")  # fmt: skip
    assert kills >= max(1, int(SOAK_SECONDS / KILL_EVERY) - 1)


# -- the database ----------------------------------------------------------------------------------


def _poll_twice(
    store: Store, clock: FakeClock, feed: FeedConfig, between: Callable[[], None]
) -> tuple[PollOutcome, PollOutcome]:
    """Poll `feed`, run `between`, poll again: one event loop, one client."""

    async def scenario() -> tuple[PollOutcome, PollOutcome]:
        fetcher = Fetcher(PollSettings(total_timeout=10))
        pipeline = Pipeline(store=store, fetcher=fetcher, settings=PollSettings(), clock=clock)
        try:
            first = await pipeline.refresh_feed(feed, force=True)
            between()  # nothing else is in flight: blocking the loop here is harmless
            return first, await pipeline.refresh_feed(feed, force=True)
        finally:
            await fetcher.aclose()

    return asyncio.run(scenario())


def test_a_locked_database_fails_the_poll_cleanly_and_the_next_one_stores_it(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    server.feed("/wire.xml", fixture_bytes("wire.rss.xml"))
    feed = FeedConfig(name="Wire", url=server.url("/wire.xml"), interval=600)
    store = Store(tmp_path / "w.db")
    store.sync_feeds([feed])
    holder = write_locked(tmp_path / "w.db", seconds=8)
    locked, again = _poll_twice(store, clock, feed, holder.wait)
    assert locked.status == "failed" and "locked" in (locked.error or "")
    assert again.status == "new" and len(again.new_stories) == 2
    assert store.count_stories() == 2
    assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_full_disk_fails_the_poll_cleanly_and_loses_nothing(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    """The database file may not grow (SQLite's max_page_count: the same SQLITE_FULL a full
    file system gives); the poll fails whole, and once there is room the next one stores it."""
    server.feed("/big.xml", rss([item(n, title=f"Story {n} " + "x" * 300) for n in range(400)]))
    feed = FeedConfig(name="Big", url=server.url("/big.xml"), interval=600)
    store = Store(tmp_path / "w.db")
    store.sync_feeds([feed])
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages + 5}")
    seen: dict[str, object] = {}

    def make_room() -> None:
        seen["stories"] = store.count_stories()
        seen["success"] = store.feed_state("Big").last_success_at
        store.db.execute("PRAGMA max_page_count = 1073741823")

    full, again = _poll_twice(store, clock, feed, make_room)
    assert full.status == "failed" and "full" in (full.error or "")
    assert seen == {"stories": 0, "success": None}  # all of the poll or none of it
    assert again.status == "new" and store.count_stories() == 400
    assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_gzip_bomb_really_is_one_gigabyte() -> None:
    body = gzip_bomb()
    assert len(body) < 1_100_000
    assert sum(len(c) for c in _inflate(body)) == 1 << 30


def _inflate(body: bytes):  # type: ignore[no-untyped-def]
    unpacker = zlib.decompressobj(31)
    for start in range(0, len(body), 1 << 16):
        yield unpacker.decompress(body[start : start + (1 << 16)])
    yield unpacker.flush()
