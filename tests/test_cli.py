"""The `watcher` command, run as a real subprocess."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import stat
import subprocess
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest

from tests.conftest import ROOT
from tests.feedserver import FeedServer, fixture_bytes, rss, send
from watcher.config import load_config
from watcher.files import MAX_FILE_BYTES
from watcher.opml import MAX_FOLDERS, read_opml

COMMANDS = [
    "run",
    "once",
    "feeds",
    "stories",
    "ingest",
    "import-opml",
    "export-opml",
    "dedupe",
    "dedupe explain",
    "clusters",
    "rules check",
    "rules test",
    "alerts",
    "alerts retry",
    "send-test",
    "why",
    "status",
    "backup",
    "health",
]


def watcher(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "watcher", *args], capture_output=True, text=True, cwd=cwd,
        env={**os.environ, **(env or {})}, timeout=timeout,
    )  # fmt: skip


def write_config(tmp_path: Path, server: FeedServer, *feeds: tuple[str, str]) -> Path:
    lines = [
        "state: state/w.db",
        "poll:",
        "  interval: 1m",
        "  jitter: 0",
        "  total_timeout: 5s",
        "feeds:",
    ]
    for name, path in feeds:
        lines += [f"  - name: {name}", f"    url: {server.url(path)}"]
    config = tmp_path / "watcher.yaml"
    config.write_text("\n".join(lines) + "\n")
    return config


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_and_is_in_the_readme(command: str) -> None:
    result = watcher(*command.split(), "--help")
    assert result.returncode == 0 and "usage: watcher" in result.stdout
    assert f"watcher {command}" in (ROOT / "README.md").read_text()


def test_once_stores_and_prints_new_stories_then_nothing(
    server: FeedServer, tmp_path: Path
) -> None:
    server.feed("/wire.xml", fixture_bytes("wire.rss.xml"))
    server.feed("/journal.xml", fixture_bytes("journal.atom.xml"))
    config = write_config(tmp_path, server, ("Wire", "/wire.xml"), ("Journal", "/journal.xml"))
    first = watcher("--config", str(config), "once")
    assert first.returncode == 0, first.stderr
    assert (
        "NEW" in first.stdout
        and "Smelter Group To Start Germanium Output In Ontario" in first.stdout
    )
    assert "polled 2 feeds (0 skipped): 4 new stories, 0 failed" in first.stdout
    assert "configured twice" not in first.stderr
    second = watcher("--config", str(config), "once")
    assert "0 new stories" in second.stdout and "NEW" not in second.stdout
    rows = (
        sqlite3.connect(tmp_path / "state/w.db").execute("SELECT COUNT(*) FROM stories").fetchone()
    )
    assert rows[0] == 4


def test_once_prunes_when_a_prune_is_due(server: FeedServer, tmp_path: Path) -> None:
    """Only `watcher run` pruned: a database that cron's `watcher once` kept grew for ever,
    stories, news items and alerts. `once` prunes as `run` does, when 6 hours have passed
    since the last prune of either."""
    server.feed("/wire.xml", fixture_bytes("wire.rss.xml"))
    config = write_config(tmp_path, server, ("Wire", "/wire.xml"))
    config.write_text(config.read_text().replace("feeds:", "retention_days: 1\nfeeds:"))
    assert watcher("--config", str(config), "once").returncode == 0  # 2 stories, pruned none
    server.feed("/wire.xml", rss(["<item><title>Port strike ends</title><guid>w-9</guid></item>"]))
    db = sqlite3.connect(tmp_path / "state/w.db", isolation_level=None)
    two_days_ago = (datetime.now(UTC) - timedelta(days=2)).isoformat()

    def age_stories_and_poll() -> int:
        db.execute(
            "UPDATE stories SET fetched_at = ? WHERE title != 'Port strike ends'", [two_days_ago]
        )
        db.execute("UPDATE feeds SET next_poll_at = NULL")
        assert watcher("--config", str(config), "once").returncode == 0
        return int(db.execute("SELECT COUNT(*) FROM stories").fetchone()[0])

    assert age_stories_and_poll() == 3  # pruned an hour ago: none goes
    seven_hours_ago = (datetime.now(UTC) - timedelta(hours=7)).isoformat()
    db.execute("UPDATE service SET updated_at = ? WHERE key = 'pruned_at'", [seven_hours_ago])
    assert age_stories_and_poll() == 1  # the feed lists the one kept


def test_once_warns_of_a_feed_configured_twice(server: FeedServer, tmp_path: Path) -> None:
    server.feed("/wire.xml", fixture_bytes("wire.rss.xml"))
    config = write_config(tmp_path, server, ("Wire", "/wire.xml"), ("Wire again", "/wire.xml"))
    result = watcher("--config", str(config), "once")
    assert result.returncode == 0, result.stderr
    assert "a feed is configured twice" in result.stderr
    assert "feeds 'Wire' and 'Wire again' have one URL: it is polled twice" in result.stderr


def test_counts_are_printed_in_the_singular_for_one() -> None:
    from watcher.cli.common import count

    assert [count(n, "feed") for n in (0, 1, 2)] == ["0 feeds", "1 feed", "2 feeds"]
    assert count(1, "new story", "new stories") == "1 new story"
    assert count(3, "new story", "new stories") == "3 new stories"


def test_feeds_shows_failures(server: FeedServer, tmp_path: Path) -> None:
    server.feed("/wire.xml", fixture_bytes("wire.rss.xml"))
    server.status("/down.xml", 500)
    config = write_config(tmp_path, server, ("Wire", "/wire.xml"), ("Down", "/down.xml"))
    once = watcher("--config", str(config), "once")
    assert once.returncode == 1 and "Down: HTTP 500" in once.stderr
    table = watcher("--config", str(config), "feeds").stdout.splitlines()
    assert table[0].split()[:2] == ["FEED", "STATUS"]
    down = next(line for line in table if line.startswith("Down"))
    assert down.split()[1] == "failing" and "HTTP 500" in down
    wire = next(line for line in table if line.startswith("Wire"))
    assert wire.split()[1:3] == ["ok", "2"]


def test_a_servers_escape_sequence_is_printed_escaped(server: FeedServer, tmp_path: Path) -> None:
    """A reason phrase is kept in the feed's error as it came; printed, its control
    characters are shown as \\xNN and none reaches the terminal."""

    def hostile(handler: Any) -> None:
        handler.send_response(500, "Oops\x1b]0;owned\x07\x1b[2J")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    server.routes["/hostile.xml"] = hostile
    config = write_config(tmp_path, server, ("Hostile", "/hostile.xml"))
    once = watcher("--config", str(config), "once")
    feeds = watcher("--config", str(config), "feeds").stdout
    status = watcher("--config", str(config), "status").stdout
    for output in (once.stderr, feeds, status):
        assert "HTTP 500 Oops\\x1b]0;owned\\x07\\x1b[2J" in output, output
        assert "\x1b" not in output and "\x07" not in output


def test_stories_jsonl(server: FeedServer, tmp_path: Path) -> None:
    server.feed("/wire.xml", fixture_bytes("wire.rss.xml"))
    config = write_config(tmp_path, server, ("Wire", "/wire.xml"))
    watcher("--config", str(config), "once")
    lines = watcher("--config", str(config), "stories", "--format", "jsonl").stdout.splitlines()
    assert {json.loads(line)["title"] for line in lines} == {
        "Smelter Group To Start Germanium Output In Ontario", "Antimony Miner Lifts Forecast",
    }  # fmt: skip


def test_listings_show_a_headline_without_the_outlets_name_beside_it(
    server: FeedServer, tmp_path: Path
) -> None:
    item = (
        "<item><title>{title}</title><link>https://asia.test/{n}</link>"
        "<pubDate>Tue, 24 Nov 2026 0{n}:00:00 GMT</pubDate><description>{text}</description></item>"
    )  # fmt: skip
    items = [
        item.format(n=1, title="Sojitz buys a gallium stake - Asia Wire", text="Sojitz paid."),
        item.format(n=2, title="Sojitz buys a gallium stake | Asia Wire", text="Sojitz paid."),
    ]
    channel = "<channel><title>Asia Wire</title><link>https://asia.test/</link>"
    server.feed(
        "/asia.xml", f'<rss version="2.0">{channel}{"".join(items)}</channel></rss>'.encode()
    )
    config = write_config(tmp_path, server, ("Asia", "/asia.xml"))
    once = watcher("--config", str(config), "once").stdout
    assert "[Asia Wire] Sojitz buys a gallium stake\n" in once
    table = watcher("--config", str(config), "stories").stdout.splitlines()
    assert [line.split("  ")[2].strip() for line in table[1:3]] == [
        "Sojitz buys a gallium stake"
    ] * 2
    clusters = watcher("--config", str(config), "clusters").stdout.splitlines()
    assert clusters[0].endswith(": Sojitz buys a gallium stake")
    assert clusters[-2].endswith("Asia Wire: Sojitz buys a gallium stake")
    jsonl = watcher("--config", str(config), "stories", "--format", "jsonl").stdout.splitlines()
    assert json.loads(jsonl[0])["title"].endswith(" Asia Wire")  # the data as the feed gave it


def test_invalid_config_exits_2_with_one_line_per_problem(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("feeds:\n  - name: A\n    url: nope\n    interval: 5s\n")
    result = watcher("--config", str(config), "feeds")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"watcher: {config}:3: feeds[0].url: 'nope' is not an http(s):// or file: URL",
        f"watcher: {config}:4: feeds[0].interval: must be at least 60 seconds (got 5)",
    ]


def test_watcher_config_environment_variable(server: FeedServer, tmp_path: Path) -> None:
    server.feed("/wire.xml", fixture_bytes("wire.rss.xml"))
    config = write_config(tmp_path, server, ("Wire", "/wire.xml"))
    result = watcher("feeds", cwd=tmp_path / "..", env={"WATCHER_CONFIG": str(config)})
    assert result.returncode == 0 and "Wire" in result.stdout


def test_ingest_prints_normalised_json_lines(server: FeedServer) -> None:
    server.feed("/wire.xml", fixture_bytes("wire.rss.xml"))
    result = watcher("ingest", server.url("/wire.xml"))
    assert result.returncode == 0, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    for key in ("id", "feed", "source", "title", "summary", "link", "published"):
        assert key in first
    assert first["link"] == "https://wire.test/news.php?id=101"
    assert first["published"] == "2026-11-10T07:30:00+00:00"
    assert "<" not in first["summary"]
    assert second["link"] == "https://wire.test/news.php?id=102&page=2"


def key_required(server: FeedServer, path: str, key: str) -> None:
    """Serve the wire feed at `path` only to requests with `X-Api-Key: key`, else 401."""

    def route(handler: Any) -> None:
        if handler.headers.get("X-Api-Key") == key:
            send(handler, 200, fixture_bytes("wire.rss.xml"), "application/rss+xml")
        else:
            send(handler, 401, b"key needed", "text/plain")

    server.routes[path] = route


def test_ingest_and_rules_test_send_the_headers_given(server: FeedServer, tmp_path: Path) -> None:
    key_required(server, "/private.xml", "k-123")
    url = server.url("/private.xml")
    refused = watcher("ingest", url)
    assert refused.returncode == 1 and "401" in refused.stderr
    ingested = watcher("ingest", url, "--header", "X-Api-Key: k-123", "--header", "X-Other: 1")
    assert ingested.returncode == 0 and len(ingested.stdout.splitlines()) == 2
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yaml").write_text("rules:\n  - name: g\n    when: germanium\n")
    tested = watcher("rules", "test", "--rules", str(rules), "--url", url,
                     "--header", "X-Api-Key: k-123", "--format", "jsonl")  # fmt: skip
    assert [json.loads(line)["rules"] for line in tested.stdout.splitlines()] == [["g"], []]
    bad = watcher("ingest", url, "--header", "Accept-Encoding: br")
    assert bad.returncode == 2 and "is set by watcher for every poll" in bad.stderr
    foreign = watcher("ingest", url, "--header", "X-Api-Key: k-123ü")  # httpx sends ASCII only
    assert foreign.returncode == 2 and "must be ASCII text" in foreign.stderr, foreign


def test_ingest_and_rules_test_read_a_configured_feeds_url_as_that_feed(
    server: FeedServer, tmp_path: Path
) -> None:
    """Its name (for ids), `source:` and `headers:`: a private feed's key was sent only
    when given again as `--header`, and ids differed from the service's."""
    key_required(server, "/private.xml", "k-123")
    url = server.url("/private.xml")
    config = write_config(tmp_path, server, ("Private", "/private.xml"))
    config.write_text(
        config.read_text() + "    headers: {X-Api-Key: k-123}\n    source: Private Wire\n"
    )
    ingested = watcher("--config", str(config), "ingest", url)
    assert ingested.returncode == 0, ingested.stderr
    stories = [json.loads(line) for line in ingested.stdout.splitlines()]
    assert {(s["feed"], s["source"]) for s in stories} == {("Private", "Private Wire")}
    wrong_key = watcher("--config", str(config), "ingest", url, "--header", "x-api-key: no")
    assert wrong_key.returncode == 1 and "401" in wrong_key.stderr  # in place of the key
    renamed = watcher("--config", str(config), "ingest", url, "--feed", "Other")
    assert {json.loads(line)["feed"] for line in renamed.stdout.splitlines()} == {"Other"}
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "r.yaml").write_text("rules:\n  - name: g\n    when: germanium\n")
    tested = watcher("--config", str(config), "rules", "test", "--rules", str(tmp_path / "rules"),
                     "--url", url, "--format", "jsonl")  # fmt: skip
    assert [json.loads(line)["id"] for line in tested.stdout.splitlines()] == [
        s["id"] for s in stories
    ]
    malformed = watcher("--config", str(config), "rules", "test", "--url", "http://[::1/x")
    assert "malformed URL: Invalid IPv6 URL" in malformed.stderr  # was a ValueError's traceback
    assert malformed.returncode == 1 and "Traceback" not in malformed.stderr


def test_rules_test_live_polls_every_configured_feed_and_stores_nothing(
    server: FeedServer, tmp_path: Path
) -> None:
    """Rules tried on what the feeds carry now, before the service has run: each feed with
    its own headers: and source:, one that fails named on stderr, nothing stored."""
    key_required(server, "/private.xml", "k-123")
    server.feed("/reprints.xml", fixture_bytes("wire.rss.xml").replace(b"wire-10", b"re-10"))
    server.status("/down.xml", 500)
    config = write_config(
        tmp_path, server, ("Private", "/private.xml"), ("Reprints", "/reprints.xml"),
        ("Down", "/down.xml"),
    )  # fmt: skip
    config.write_text(
        config.read_text()
        .replace("/private.xml\n", "/private.xml\n    headers: {X-Api-Key: k-123}\n")
        .replace("/reprints.xml\n", "/reprints.xml\n    source: Reprint Desk\n")
        + "rules: rules\n"
    )
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "r.yaml").write_text("rules:\n  - name: g\n    when: germanium\n")
    tested = watcher("--config", str(config), "rules", "test", "--live")
    assert tested.returncode == 0, tested.stderr
    assert "watcher: rules test: feed 'Down': HTTP 500" in tested.stderr
    assert tested.stdout.count("Smelter Group To Start [Germanium] Output In Ontario") == 2
    assert "2 of 4 stories matched" in tested.stdout  # the private feed's, with its key
    assert re.search(r"\ng +2 +1\n", tested.stdout)  # two stories, one news item
    assert not (tmp_path / "state").exists()  # stored nothing
    lines = watcher("--config", str(config), "rules", "test", "--live", "--format", "jsonl")
    assert [json.loads(line)["rules"] for line in lines.stdout.splitlines()] == [
        ["g"], [], ["g"], [],
    ]  # fmt: skip
    by_source = watcher("--config", str(config), "rules", "test", "--live",
                        "--query", 'source:"Reprint Desk"')  # fmt: skip
    assert "2 of 4 stories matched" in by_source.stdout  # the reprints, by their source:
    server.status("/private.xml", 500)
    server.status("/reprints.xml", 500)
    none = watcher("--config", str(config), "rules", "test", "--live")
    assert none.returncode == 1
    assert "watcher: rules test --live: no configured feed could be read" in none.stderr


def test_ingest_a_file(tmp_path: Path) -> None:
    path = tmp_path / "asia.xml"
    path.write_bytes(fixture_bytes("asia.rdf.xml"))
    result = watcher("ingest", str(path))
    assert json.loads(result.stdout)["published"] == "2026-11-12T18:00:00+00:00"


def test_a_feeds_timezone_dates_its_stories_that_name_no_zone(
    server: FeedServer, tmp_path: Path
) -> None:
    """A Tokyo site's `2026年11月24日 18:00` is 09:00 UTC: the configured feed's
    `timezone:` reaches the stories the service stores, and `ingest --timezone` reads alike."""
    item = "<item><title>Smelter restarts</title><link>https://w.test/1</link>"
    server.feed("/tokyo.xml", rss([item + "<pubDate>2026年11月24日 18:00</pubDate></item>"]))
    url = server.url("/tokyo.xml")
    as_utc = watcher("ingest", url)
    assert json.loads(as_utc.stdout)["published"] == "2026-11-24T18:00:00+00:00"
    ingested = watcher("ingest", url, "--timezone", "Asia/Tokyo")
    assert json.loads(ingested.stdout)["published"] == "2026-11-24T09:00:00+00:00"
    wrong = watcher("ingest", url, "--timezone", "Asia/Edo")
    assert wrong.returncode == 2 and "'Asia/Edo' is not an IANA time zone" in wrong.stderr
    config = write_config(tmp_path, server, ("Tokyo", "/tokyo.xml"))
    config.write_text(config.read_text() + "    timezone: Asia/Tokyo\n")
    assert watcher("--config", str(config), "once").returncode == 0
    stored = watcher("--config", str(config), "stories", "--since", "3650d", "--format", "jsonl")
    assert json.loads(stored.stdout)["published"] == "2026-11-24T09:00:00+00:00"
    as_configured = json.loads(watcher("--config", str(config), "ingest", url).stdout)
    assert as_configured == {**json.loads(stored.stdout), "fetched_at": ANY}  # the feed's name


def test_a_feeds_date_order_reads_its_dates_with_the_year_last(
    server: FeedServer, tmp_path: Path
) -> None:
    """`11/7/2026 10:00:00 AM`, as .NET writes a US date, in a feed none of whose dates names
    a day after the 12th, is no date, and the feed's warning says what reads it: its
    `date_order:`, which the service and `ingest` of the configured feed then read it by."""
    item = "<item><title>Smelter restarts</title><link>https://w.test/1</link>"
    server.feed("/us.xml", rss([item + "<pubDate>11/7/2026 10:00:00 AM</pubDate></item>"]))
    url = server.url("/us.xml")
    undated = watcher("ingest", url)
    assert "(the feed's date_order: day-first or month-first reads them)" in undated.stderr
    config = write_config(tmp_path, server, ("US", "/us.xml"))
    config.write_text(config.read_text() + "    date_order: month-first\n")
    assert watcher("--config", str(config), "once").returncode == 0
    stored = watcher("--config", str(config), "stories", "--since", "3650d", "--format", "jsonl")
    assert json.loads(stored.stdout)["published"] == "2026-11-07T10:00:00+00:00"
    as_configured = watcher("--config", str(config), "ingest", url)
    assert json.loads(as_configured.stdout)["published"] == "2026-11-07T10:00:00+00:00"
    assert as_configured.stderr == ""
    config.write_text(config.read_text().replace("month-first", "mdy"))
    refused = watcher("--config", str(config), "once")
    assert refused.returncode == 2
    assert "feeds[0].date_order: must be day-first or month-first, not 'mdy'" in refused.stderr


@pytest.mark.parametrize(
    "target", ["page", "missing-file", "http-404", "bad-ipv6", "bad-port", "port-range", "ftp"]
)
def test_ingest_unreadable_feed_is_one_line_and_exit_1(
    server: FeedServer, tmp_path: Path, target: str
) -> None:
    server.feed("/page.html", fixture_bytes("page.html"), content_type="text/html")
    source = {
        "page": server.url("/page.html"),
        "missing-file": str(tmp_path / "absent.xml"),
        "http-404": server.url("/absent.xml"),
        "bad-ipv6": "http://[::1/feed.xml",
        "bad-port": "http://127.0.0.1:port/feed.xml",
        "port-range": "http://127.0.0.1:99999/feed.xml",
        "ftp": "ftp://127.0.0.1/feed.xml",  # not fetched: watcher speaks HTTP only
    }[target]
    result = watcher("ingest", source)
    assert result.returncode == 1 and result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"watcher: cannot read feed {source}: ")
    if target.startswith(("bad-", "port-")):
        assert "malformed URL" in line
    assert "Traceback" not in result.stderr


def test_run_polls_then_stops_cleanly_on_sigterm(server: FeedServer, tmp_path: Path) -> None:
    server.feed("/wire.xml", fixture_bytes("wire.rss.xml"))
    server.feed("/asia.xml", fixture_bytes("asia.rdf.xml"))
    config = write_config(tmp_path, server, ("Wire", "/wire.xml"), ("Asia", "/asia.xml"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "watcher", "--config", str(config), "run", "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    db = tmp_path / "state/w.db"
    try:
        deadline = time.monotonic() + 30
        count = 0
        while time.monotonic() < deadline and count < 3:
            time.sleep(0.3)
            if db.exists():
                try:
                    count = (
                        sqlite3.connect(db).execute("SELECT COUNT(*) FROM stories").fetchone()[0]
                    )
                except sqlite3.OperationalError:
                    count = 0
        assert count == 3
        proc.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert time.monotonic() - stopped < 10
    assert proc.returncode == 0, err
    assert out.count("NEW ") == 3
    assert "service stopped" in err and "poll feed=Wire" in err


def test_a_console_that_cannot_show_a_title_gets_it_escaped(tmp_path: Path) -> None:
    """A stdout in ASCII (PYTHONIOENCODING, a C or Latin-1 locale) raised UnicodeEncodeError
    printing "—" or "ü": the poll failed as an unexpected error, the console alert went
    dead, and `watcher stories` stopped with a traceback."""
    (tmp_path / "f.xml").write_text(
        '<rss version="2.0"><channel><title>Zürich Wire</title><link>https://z.test/</link>'
        "<item><title>Tin output rises — report</title><link>https://z.test/1</link>"
        "<pubDate>Fri, 04 Dec 2026 10:00:00 GMT</pubDate></item></channel></rss>",
        encoding="utf-8",
    )
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "r.yaml").write_text("rules:\n  - name: tin\n    when: tin\n")
    (tmp_path / "c.yaml").write_text(
        "state: w.db\nbackfill: all\nfeeds:\n  - name: Z\n    url: file:f.xml\n"
        "subscribers:\n  - name: a\n    console: true\n"
    )
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    for command, shown in [("once", "ALERT a (alert 1)"), ("stories", "Z\\xfcrich Wire")]:
        result = subprocess.run(
            [sys.executable, "-m", "watcher", "--config", "c.yaml", command], cwd=tmp_path,
            env=env, capture_output=True, text=True, encoding="ascii", timeout=60,
        )  # fmt: skip
        assert result.returncode == 0 and "Traceback" not in result.stderr, result
        assert "Tin output rises \\u2014 report" in result.stdout, result.stdout
        assert shown in result.stdout, result.stdout


def test_a_closed_stdout_fails_no_poll_and_dead_letters_console_alerts(tmp_path: Path) -> None:
    """`watcher once | head -c 1`: printing the new stories raised BrokenPipeError inside the
    poll, which was recorded as the feed's unexpected error, and each console alert after it
    went dead as one. The polls succeed, a warning says stdout is closed, and the console
    alerts go to the dead-letter list saying so, to be sent again where something reads."""
    import shutil

    for name in ("demo.yaml", "demo", "rules"):
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(ROOT / name, tmp_path / name)
    proc = subprocess.Popen(
        [sys.executable, "-m", "watcher", "--config", "demo.yaml", "once"], cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader goes away before the first line
    with proc.stderr:
        err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, err
    assert "stdout is closed: new stories, matches and console alerts are no longer printed" in err
    assert "Traceback" not in err and "unexpected error" not in err
    dead = watcher("--config", "demo.yaml", "alerts", "--failed", cwd=tmp_path).stdout
    assert dead.count("console: stdout is closed, nothing reads the alert") >= 3, dead
    feeds = watcher("--config", "demo.yaml", "feeds", cwd=tmp_path).stdout
    assert " failing " not in feeds and feeds.count(" ok ") == 3, feeds


def test_the_demo_runs_offline_and_a_second_run_adds_nothing(tmp_path: Path) -> None:
    import shutil

    for name in ("demo.yaml", "demo", "rules"):
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tmp_path / name)
    proc = subprocess.Popen(
        [sys.executable, "-m", "watcher", "--config", "demo.yaml", "run", "--listen", "127.0.0.1:0"], cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    db = tmp_path / "state" / "demo.db"
    try:
        deadline = time.monotonic() + 30
        count = 0
        while time.monotonic() < deadline and count < 7:
            time.sleep(0.3)
            try:
                count = sqlite3.connect(db).execute("SELECT COUNT(*) FROM stories").fetchone()[0]
            except sqlite3.Error:
                count = 0
        time.sleep(1.0)  # let the console catch up with the database
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert count == 7, err
    assert out.count("NEW ") + out.count("ALSO ") == 7 and "MATCH rule gallium " in out
    again = watcher("--config", "demo.yaml", "once", cwd=tmp_path)
    assert "0 new stories" in again.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["why", "caf\udce9"],
        ["alerts", "--subscriber", "caf\udce9"],
        ["stories", "--feed", "caf\udce9"],
        ["clusters", "--rule", "caf\udce9"],
        ["send-test", "caf\udce9"],
        ["rules", "test", "--query", "caf\udce9"],
    ],
    ids=["why", "alerts", "stories", "clusters", "send-test", "rules-test"],
)
def test_an_argument_that_is_no_utf_8_is_a_usage_error(args: list[str]) -> None:
    """`café` typed in a Latin-1 terminal is the byte E9, which Python keeps as a lone
    surrogate: SQLite refused it with a traceback (`why`, `alerts`, `stories`)."""
    result = watcher(*args)  # the surrogate goes out as the byte it stands for
    assert result.returncode == 2, result.stderr
    assert "is not UTF-8 text (is the terminal's encoding, LANG, UTF-8?)" in result.stderr
    assert "Traceback" not in result.stderr


def test_import_opml_prints_feeds_the_config_takes(tmp_path: Path) -> None:
    """Folders become tags, a feed in two folders is one feed, a name taken twice is made
    unique, and a URL that is not http(s), or that the config would refuse, is skipped with
    a word on stderr."""
    result = watcher("import-opml", str(ROOT / "tests" / "fixtures" / "subscriptions.opml"))
    assert result.returncode == 0, result.stderr
    assert "skipped Local file: file:///etc/passwd: not an http(s) URL" in result.stderr
    assert (
        "skipped Broken: 'https://broken.test/feed\\n/rss': not a valid URL (it holds white "
        "space or a control character)" in result.stderr
    )
    assert "skipped Bad host: https://[::1/feed: not a valid URL: " in result.stderr
    assert "skipped Bad port: https://port.test:70000/feed: not a valid URL: " in result.stderr
    config = tmp_path / "watcher.yaml"
    config.write_text(result.stdout)
    feeds = load_config(config, env={}).feeds
    assert [(f.name, f.url, f.tags) for f in feeds] == [
        ("Mine Daily", "https://mine.test/feed/", ("Metals", "Japan")),
        ("Wire: Asia", "https://wire.test/asia.xml", ("Metals",)),
        ("Mine Daily (2)", "https://other.test/rss", ("Japan",)),
        ("https://untitled.test/atom", "https://untitled.test/atom", ()),
    ]


def imported_feeds(
    tmp_path: Path, opml: str, env: dict[str, str] | None = None
) -> list[tuple[str, str, tuple[str, ...]]]:
    """The feeds `import-opml` prints of `opml`, as the config reads them back."""
    path = tmp_path / "f.opml"
    path.write_text(opml)
    result = watcher("import-opml", str(path))
    assert result.returncode == 0, result.stderr
    config = tmp_path / "watcher.yaml"
    config.write_text(result.stdout)
    return [(f.name, f.url, f.tags) for f in load_config(config, env=env or {}).feeds]


def test_import_opml_writes_dollar_braces_as_the_config_reads_them_back(tmp_path: Path) -> None:
    """A title or URL holding ${...} became an environment variable once pasted into the
    config: the name `${HOME}` read as the home folder, a URL with `${X}` failed the config."""
    opml = (
        '<opml version="2.0"><body><outline text="${TEAM}">'
        '<outline type="rss" text="${HOME}" xmlUrl="https://a.test/feed?q=${X}"/>'
        '<outline type="rss" text="$${odd}" xmlUrl="https://b.test/feed"/>'
        "</outline></body></opml>"
    )
    env = {"HOME": "/root", "X": "x", "TEAM": "t"}
    assert imported_feeds(tmp_path, opml, env) == [
        ("${HOME}", "https://a.test/feed?q=${X}", ("${TEAM}",)),
        ("$${odd}", "https://b.test/feed", ("${TEAM}",)),
    ]


def test_import_opml_names_and_folders_hold_no_control_the_config_refuses(
    tmp_path: Path,
) -> None:
    """A title with a C1 control (`&#146;`, as a Windows-1252 apostrophe is written in a
    file that took it for Latin-1) or a DEL was printed as it came, and the config refused
    the feed it was pasted as: "must be one line of text, without control characters"."""
    opml = (
        '<opml version="2.0"><body><outline text="Reuters&#146; picks&#x7F;">'
        '<outline type="rss" text="Kyodo&#x9D;&#x85;Wire&#xAD;" xmlUrl="https://a.test/f"/>'
        '<outline type="rss" xmlUrl="https://b.test/&#xFEFF;f"/>'
        "</outline></body></opml>"
    )
    assert imported_feeds(tmp_path, opml) == [
        ("Kyodo Wire", "https://a.test/f", ("Reuters’ picks",)),
        ("https://b.test/f", "https://b.test/\ufefff", ("Reuters’ picks",)),
    ]


def test_import_opml_writes_urls_the_config_takes_for_one_feed_once(tmp_path: Path) -> None:
    """Another reader's export may list one feed twice under URLs that differ in a
    tracking parameter, the host's case or a default port: written as two feeds, it was
    polled twice and its stories stored twice (the config only warns of it)."""
    opml = (
        '<opml version="2.0"><body><outline text="Metals">'
        '<outline type="rss" text="A" xmlUrl="https://a.test/feed?utm_source=reader"/>'
        '</outline><outline text="News">'
        '<outline type="rss" text="A again" xmlUrl="https://A.test:443/feed"/></outline>'
        '<outline type="rss" text="B" xmlUrl="https://a.test/feed?page=2"/></body></opml>'
    )
    assert imported_feeds(tmp_path, opml) == [
        ("A", "https://a.test/feed?utm_source=reader", ("Metals", "News")),
        ("B", "https://a.test/feed?page=2", ()),
    ]


def test_import_opml_reads_what_other_readers_export_loosely() -> None:
    """Exports seen in the wild: a bare & in a URL's query (not XML: the file was refused),
    a browser's feed: link, an attribute named in another case (`xmlurl`, `URL`); an
    outline standing for a feed without an xmlUrl was dropped without a word."""
    opml = (
        b'<opml version="2.0"><body><outline text="News">'
        b'<outline type="rss" text="NYT" htmlUrl="https://n.test/?emc=rss&partner=rss" '
        b'xmlUrl="https://n.test/rss"/>'
        b'<outline type="rss" text="Q&A" xmlurl="https://q.test/rss?a=1&b=2"/>'
        b'<outline type="rss" text="Old" xmlUrl="feed://o.test/rss"/>'
        b'<outline type="rss" text="Tls" xmlUrl="feed:https://t.test/atom"/>'
        b'<outline type="link" text="Radio" URL="https://r.test/podcast"/>'
        b'<outline type="rss" text="Bare"/><outline text="Empty folder"/>'
        b"</outline></body></opml>"
    )
    found = read_opml(opml, "s.opml")
    assert [(feed.name, feed.url) for feed in found.feeds] == [
        ("NYT", "https://n.test/rss"),
        ("Q&A", "https://q.test/rss?a=1&b=2"),
        ("Old", "http://o.test/rss"),
        ("Tls", "https://t.test/atom"),
    ]
    assert found.skipped == [
        "Radio: no xmlUrl, the feed's URL (its url is 'https://r.test/podcast')",
        "Bare: no xmlUrl, the feed's URL",
    ]


def test_import_opml_numbers_feeds_of_one_name_past_the_names_taken() -> None:
    """A feed titled "A (2)" keeps its name, and the third "A" becomes "A (3)"; each name's
    last number is remembered, so 30,000 feeds of one name take 3 s, not 82."""
    outlines = "".join(
        f'<outline type="rss" text="{name}" xmlUrl="https://x.test/{n}"/>'
        for n, name in enumerate(["A", "A (2)", "A", "A", "B", "A (3) (2)", "A (3)"])
    )
    found = read_opml(f"<opml><body>{outlines}</body></opml>".encode(), "s.opml")
    assert [feed.name for feed in found.feeds] == [
        "A", "A (2)", "A (3)", "A (4)", "B", "A (3) (2)", "A (3) (3)",
    ]  # fmt: skip


def _nested_opml(folders: list[str]) -> bytes:
    feed = '<outline type="rss" text="A" xmlUrl="https://a.test/f"/>'
    opened = "".join(f'<outline text="{name}">' for name in folders)
    return f"<opml><body>{opened}{feed}{'</outline>' * len(folders)}</body></opml>".encode()


def test_import_opml_takes_a_feeds_outermost_folders_each_once_as_its_tags() -> None:
    """A copy of every folder above was made for each outline: 40,000 nested outlines (a
    1 MB file) took 4 GB; and a folder inside one of its name gave the tag twice."""
    found = read_opml(_nested_opml(["News", "News", "Metals"]), "s.opml")
    assert [feed.tags for feed in found.feeds] == [("News", "Metals")]
    names = [f"folder {n}" for n in range(2_000)]
    (feed,) = read_opml(_nested_opml(names), "s.opml").feeds
    assert feed.tags == tuple(names[:MAX_FOLDERS])
    tracemalloc.start()
    try:
        read_opml(_nested_opml([f"f{n}" for n in range(40_000)]), "s.opml")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 200 * 2**20


def test_import_opml_of_a_file_larger_than_any_opml_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "subscriptions.opml"
    path.write_bytes(b"<opml>" + b" " * MAX_FILE_BYTES + b"</opml>")
    result = watcher("import-opml", str(path))
    assert result.returncode == 1 and result.stdout == ""
    assert (
        result.stderr == f"watcher: cannot read {path}: larger than 16 MB, more than any "
        "config, rule or OPML file\n"
    )


_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY l0 "lol">'
    + b"".join(b'<!ENTITY l%d "%s">' % (n, b"&l%d;" % (n - 1) * 10) for n in range(1, 10))
    + b']><opml><body><outline text="&l9;" xmlUrl="https://x.test/"/></body></opml>'
)  # a billion laughs: 3 GB if expanded


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(b"<opml><body><outline", "bad.opml:1: not XML", id="not-xml"),
        pytest.param(b"<rss><channel/></rss>", "bad.opml: not OPML", id="not-opml"),
        pytest.param(_LAUGHS, "bad.opml:", id="entity-bomb"),
    ],
)  # fmt: skip
def test_import_opml_names_the_file_it_cannot_read(
    tmp_path: Path, body: bytes, message: str
) -> None:
    path = tmp_path / "bad.opml"
    path.write_bytes(body)
    result = watcher("import-opml", str(path))
    assert result.returncode == 1 and result.stdout == ""
    assert message in result.stderr


def test_once_holds_the_feeds_of_a_server_that_asked_to_wait(
    server: FeedServer, tmp_path: Path
) -> None:
    """One poll at a time, in config order: the second feed's server answered the first
    with 429, so the second is not asked, and says why; only the first failed."""
    server.status("/limited.xml", 429, {"Retry-After": "120"})
    server.feed("/next.xml", fixture_bytes("wire.rss.xml"))
    config = write_config(tmp_path, server, ("Limited", "/limited.xml"), ("Next", "/next.xml"))
    config.write_text(config.read_text().replace("poll:\n", "poll:\n  concurrency: 1\n"))
    result = watcher("--config", str(config), "once")
    assert result.returncode == 1, result.stderr
    assert "polled 1 feed (0 skipped, 1 held): 0 new stories, 1 failed" in result.stdout
    assert "  Limited: HTTP 429" in result.stderr
    assert "  Next: not polled: 127.0.0.1:" in result.stderr and "wait 120 s more" in result.stderr
    assert server.seen("/next.xml") == []
    # the hold outlives the process: a feed of the server added since is not asked either
    server.feed("/added.xml", fixture_bytes("wire.rss.xml"))
    added = f"  - name: Added\n    url: {server.url('/added.xml')}\n"
    config.write_text(config.read_text() + added)
    again = watcher("--config", str(config), "once")
    assert "polled 0 feeds (2 skipped, 1 held): 0 new stories, 0 failed" in again.stdout
    assert "  Added: not polled: 127.0.0.1:" in again.stderr and "asked to wait" in again.stderr
    assert "server still held" in again.stderr
    assert server.seen("/added.xml") == [] and len(server.seen("/limited.xml")) == 1
    status = watcher("--config", str(config), "status").stdout
    assert "asked to wait (HTTP 429 Too Many Requests): its feeds wait until" in status


def test_export_opml_writes_the_feeds_import_opml_reads_back(tmp_path: Path) -> None:
    """Each tag a folder, a feed of two tags in both; secrets in a URL masked and a feed's
    headers left out, each named on stderr; a file: URL left out, which no reader polls."""
    config = tmp_path / "watcher.yaml"
    config.write_text(
        "state: w.db\nfeeds:\n"
        "  - {name: Mine & Co, url: 'https://mine.test/feed?a=1&b=2', tags: [Metals, Japan]}\n"
        "  - {name: Wire, url: 'https://wire.test/asia.xml', tags: [Metals]}\n"
        "  - {name: Plain, url: 'https://plain.test/rss'}\n"
        "  - name: Paid\n    url: 'https://paid.test/rss?token=s3cr3t-value&q=tin'\n"
        "    headers: {Authorization: Bearer abc123}\n"
        "  - {name: Local, url: 'file:///var/feeds/local.xml'}\n"
    )
    out = tmp_path / "feeds.opml"
    result = watcher("--config", str(config), "export-opml", "--output", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and "4 feeds written to" in result.stderr
    assert "feed 'Paid': secrets in its URL written as ***" in result.stderr
    assert "feed 'Paid': its headers: are not in OPML" in result.stderr
    assert "feed 'Local': not written: other readers cannot poll a file: URL" in result.stderr
    assert b"s3cr3t" not in out.read_bytes() and b"abc123" not in out.read_bytes()
    back = watcher("import-opml", str(out))
    assert back.returncode == 0 and back.stderr == "", back.stderr
    reread = tmp_path / "reread.yaml"
    reread.write_text(back.stdout)
    feeds = load_config(reread, env={}).feeds
    assert sorted((f.name, f.url, frozenset(f.tags)) for f in feeds) == [
        ("Mine & Co", "https://mine.test/feed?a=1&b=2", frozenset({"Metals", "Japan"})),
        ("Paid", "https://paid.test/rss?token=***&q=tin", frozenset()),
        ("Plain", "https://plain.test/rss", frozenset()),
        ("Wire", "https://wire.test/asia.xml", frozenset({"Metals"})),
    ]
    printed = watcher("--config", str(config), "export-opml")  # on standard output

    def undated(opml: bytes) -> bytes:
        return re.sub(rb"<dateCreated>[^<]*</dateCreated>", b"", opml)

    assert printed.returncode == 0
    assert undated(printed.stdout.encode()) == undated(out.read_bytes())


def test_export_opml_that_cannot_write_its_file_says_so_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    config = tmp_path / "watcher.yaml"
    config.write_text("state: w.db\nfeeds:\n  - {name: W, url: 'https://w.test/rss'}\n")
    target = tmp_path / "no-such-folder" / "feeds.opml"
    result = watcher("--config", str(config), "export-opml", "--output", str(target))
    assert result.returncode == 1 and f"cannot write {target}" in result.stderr
    assert not target.parent.exists()


def test_an_output_that_is_a_pipe_is_written_to_and_a_link_keeps_pointing(
    tmp_path: Path,
) -> None:
    """`--output /dev/stdout`, or a pipe (`--output >(gzip > f)`): the command wrote a
    partial file beside it and replaced the device or pipe with it (as root, /dev's own);
    a symbolic link was replaced by a file where its target should have been written."""
    config = tmp_path / "watcher.yaml"
    config.write_text("state: w.db\nfeeds:\n  - {name: W, url: 'https://w.test/rss'}\n")
    fifo = tmp_path / "pipe.opml"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        assert (
            watcher("--config", str(config), "export-opml", "--output", str(fifo)).returncode == 0
        )
        assert os.read(reader, 1 << 16).startswith(b"<?xml")
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    link, real = tmp_path / "link.opml", tmp_path / "real.opml"
    link.symlink_to(real)
    assert watcher("--config", str(config), "export-opml", "--output", str(link)).returncode == 0
    (feed,) = read_opml(real.read_bytes(), str(real)).feeds
    assert link.is_symlink() and feed.url == "https://w.test/rss"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "link.opml",
        "pipe.opml",
        "real.opml",
        "watcher.yaml",
    ]


@pytest.mark.parametrize("command", ["export-opml", "dedupe"])
@pytest.mark.parametrize(
    ("output", "said"),
    [(".", "cannot write '.': it names a folder, not a file"),
     ("", "cannot write '.': it names a folder, not a file"),
     ("sub", "cannot write sub: Is a directory"),
     ("gone/out", "cannot write gone/out: No such file or directory")],
)  # fmt: skip
def test_an_output_file_that_cannot_be_written_is_an_error_naming_it(
    tmp_path: Path, command: str, output: str, said: str
) -> None:
    """`dedupe --output` raised IsADirectoryError or FileNotFoundError, and `export-opml
    --output .` ValueError, each as a traceback."""
    (tmp_path / "sub").mkdir()
    config = tmp_path / "watcher.yaml"
    config.write_text("state: w.db\nfeeds:\n  - {name: W, url: 'https://w.test/rss'}\n")
    stories = tmp_path / "s.jsonl"
    stories.write_text(
        '{"id": "a", "title": "Gallium output", "link": "https://a.test/1", '
        '"published": "2026-12-01T00:00:00Z"}\n'
    )
    args = ["export-opml"] if command == "export-opml" else ["dedupe", "--input", str(stories)]
    result = watcher("--config", str(config), *args, "--output", output, cwd=tmp_path)
    assert (result.returncode, result.stderr) == (1, f"watcher: {said}\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.jsonl", "sub", "watcher.yaml"]


def test_a_reader_that_stops_reading_is_no_error(tmp_path: Path) -> None:
    """`watcher ingest FEED | head -1`: the pipe closes while watcher still writes."""
    from tests.feedserver import rss

    items = [
        f"<item><title>Story {n}</title><link>https://wire.test/{n}</link>"
        f"<description>{'Gallium output rose. ' * 20}</description></item>"
        for n in range(2000)
    ]
    feed = tmp_path / "big.xml"
    feed.write_bytes(rss(items))  # about 1 MB of JSON lines out: more than a pipe holds
    reader = subprocess.Popen(
        [sys.executable, "-m", "watcher", "ingest", str(feed)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert reader.stdout is not None and reader.stdout.readline().startswith(b"{")
    reader.stdout.close()
    _, stderr = reader.communicate(timeout=60)
    assert reader.returncode == 0 and b"Traceback" not in stderr, stderr.decode()


def test_the_console_shows_a_matchs_terms_only_where_it_found_some(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from datetime import UTC, datetime

    from watcher.cli.service import print_new_stories
    from watcher.models import Match

    def match(terms: dict[str, list[str]], quiet: bool = False) -> Match:
        return Match(cluster=1, rule="r", story="s", terms=terms, clause="gallium",
                     ruleset_version="v", matched_at=datetime.now(UTC), quiet=quiet)  # fmt: skip

    print_new_stories([], [match({"minerals": ["gallium"]}), match({}), match({}, quiet=True)])
    assert capsys.readouterr().out.splitlines() == [
        "MATCH rule r on cluster 1: gallium  [minerals: gallium]",
        "MATCH rule r on cluster 1: gallium",
        "MATCH rule r on cluster 1: gallium  (quiet: the story was kept from alerting)",
    ]


def test_tables_line_up_chinese_and_japanese_as_a_terminal_shows_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A terminal gives a Chinese or Japanese character two columns: padded and cut by
    characters, a Japanese title pushed its row's outlet and link far right of the rest."""
    from watcher.cli.common import display_width, print_table

    rows = [
        ["三菱商事、カザフスタンでガリウム生産を開始", "共同通信", "https://a.test/1"],
        ["Gallium exports jump", "Reuters", "https://a.test/2"],
        ["Zu\u0308rich cafe\u0301", "NZZ", "https://a.test/3"],  # combining marks
    ]
    print_table(["TITLE", "SOURCE", "LINK"], rows, max_width=30)
    lines = capsys.readouterr().out.splitlines()
    starts = {
        display_width(line[: line.index("http" if "http" in line else "LINK")]) for line in lines
    }
    assert starts == {29 + 2 + 8 + 2}, lines  # 14 wide characters and … in 30; 共同通信 is 8
    assert lines[1].startswith("三菱商事、カザフスタンでガリ…  ")


def test_tables_cut_long_cells_but_never_the_last_column(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The last column holds a link or an error: cut, a link leads nowhere."""
    from watcher.cli.common import print_table

    link = "https://news.example/" + "a" * 100
    print_table(["TITLE", "LINK"], [["T" * 100, link]], max_width=20)
    header, row = capsys.readouterr().out.splitlines()
    assert row == "T" * 19 + "…" + "  " + link and header.startswith("TITLE" + " " * 15 + "  LINK")
