"""`watcher status`, `watcher backup` and `watcher health`: what operators run beside it."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import stat
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from watcher.cli.common import (
    EXIT_FAILED,
    UsageError,
    print_table,
    printable,
    reading,
    utc_now,
    when,
)
from watcher.config import Config, load_optional_config
from watcher.config.feeds import malformed
from watcher.endpoint import url_of
from watcher.health import silent_after_of, status_document
from watcher.schedule import HEARTBEAT_SECONDS

HEALTH_TIMEOUT = 5.0
SQLITE_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database file


def add_parsers(commands: Any) -> None:
    status = commands.add_parser(
        "status",
        help="feed health, outbox depth, last errors and the rule set in force",
        description="Read the database and show whether the service is running, the rule set "
        "it has in force (and its last reload error), every configured feed's health, the "
        "alert outbox by status and channel, the delivery lanes held after their server failed "
        "and the servers whose feeds wait after a 429 (both as the service last recorded "
        "them), and the latest dead letters. Works while the service runs and after it "
        "stopped.",
    )
    status.add_argument("--format", choices=["table", "json"], default="table")
    status.set_defaults(handler=cmd_status, needs_config=True)
    backup = commands.add_parser(
        "backup",
        help="write a consistent copy of the database, safe while the service runs",
        description="Copy the database with SQLite's online backup, so the copy is consistent "
        "even while the service writes. The copy is checked (integrity_check) and then moved "
        "into place (a copy that fails, on a full disk say, leaves nothing); PATH may be a "
        "file or an existing folder (a dated file is made in it). "
        "An existing file is replaced only when it is an SQLite database (an older backup) or "
        "empty; anything else is a usage error, and left as it was.",
    )
    backup.add_argument("path", metavar="PATH", type=Path)
    backup.set_defaults(handler=cmd_backup, needs_config=True)
    health = commands.add_parser(
        "health",
        help="ask the running service's /healthz; exit 0 when healthy (for HEALTHCHECK)",
        description="GET /healthz from the running service and print the answer. Exit 0 when "
        "it answers 200, 1 otherwise (503, refused, timed out, or no HTTP answer).",
    )
    health.add_argument(
        "--url",
        type=http_url,
        help="the health URL, http(s) (default: from the config's listen:, else "
        "http://127.0.0.1:8080/healthz)",
    )
    health.set_defaults(handler=cmd_health, needs_config=False)


def cmd_status(config: Config, args: argparse.Namespace) -> int:
    with reading(config.state) as store:
        document = status_document(store, utc_now(), silent_after_of(config.feeds))
    if args.format == "json":
        print(json.dumps(document, indent=2, ensure_ascii=False))
        return 0
    _print_status(document, utc_now())
    return 0


def _feed_problem(feed: dict[str, Any]) -> str:
    """The last error; for a feed polled well since, its warning, if it has one."""
    if feed["warning"] and not feed["consecutive_failures"]:
        return f"warning: {feed['warning']}"
    return str(feed["last_error"] or "")


def _print_status(document: dict[str, Any], now: datetime) -> None:
    print(f"service: {service_state(document['service'], now)}")
    rules = document["rules"]
    print(f"rules:   {rules['summary'] or rules['version'] or '- (not recorded yet)'}")
    if rules["error"]:
        print(f"         last reload FAILED, previous rules kept: {printable(rules['error'])}")
    print(f"stored:  {document['stories']} stories in {document['clusters']} clusters")
    outbox = document["outbox"]
    print("outbox:  " + (_outbox_line(outbox) if outbox else "empty"))
    for lane in document["delivery_held"]:
        print(f"held:    {printable(_held_line(lane))}")
    for server in document["servers_held"]:
        until = datetime.fromisoformat(server["until"]).strftime("%H:%M:%S UTC")
        line = f"{server['server']} asked to wait ({server['why']}): its feeds wait until {until}"
        print(f"waiting: {printable(line)}")
    print()
    rows = [
        [
            f["name"], f["health"], str(f["last_status"] or "-"), _when(f["last_success_at"]),
            str(f["consecutive_failures"]), str(f["stories"]), _when(f["newest_story_at"]),
            _feed_problem(f),
        ]
        for f in document["feeds"]
    ]  # fmt: skip
    headers = [
        "FEED", "HEALTH", "HTTP", "LAST OK", "FAILURES", "STORIES", "NEWEST", "LAST ERROR"
    ]  # fmt: skip
    print_table(headers, rows)
    if document["dead_letters"]:
        print("\ndead letters (`watcher alerts retry ID` sends one again):")
        dead = document["dead_letters"]
        print_table(
            ["ID", "SUBSCRIBER", "CHANNEL", "ERROR"],
            [[str(d["id"]), d["subscriber"], d["channel"], d["error"]] for d in dead],
        )


def service_state(service: dict[str, str], now: datetime) -> str:
    """running, stopped, or silent (no heartbeat: killed, hung, or its disk is full)."""
    if not service.get("heartbeat"):
        return "never started on this database"
    beat = datetime.fromisoformat(service["heartbeat"])
    what = f"pid {service.get('pid', '?')}, version {service.get('version', '?')}"
    if service.get("stopped_at"):
        return f"stopped at {when(datetime.fromisoformat(service['stopped_at']))} ({what})"
    age = now - beat
    if age <= timedelta(seconds=3 * HEARTBEAT_SECONDS):
        started = datetime.fromisoformat(service["started_at"])
        return f"running since {when(started)} ({what}, heartbeat {age.seconds}s ago)"
    return f"SILENT: last heartbeat {when(beat)}, no clean stop recorded ({what})"


def _outbox_line(outbox: dict[str, dict[str, int]]) -> str:
    parts = []
    for status in ("pending", "sending", "dead"):
        if status in outbox:
            channels = ", ".join(f"{c} {n}" for c, n in sorted(outbox[status].items()))
            parts.append(f"{status}: {channels}")
    return "; ".join(parts)


def _held_line(lane: dict[str, Any]) -> str:
    """A delivery lane held after its server failed, as `watcher status` prints it."""
    who = f" to {lane['subscriber']}" if lane["subscriber"] else ""
    failures = lane["failures"]
    until = datetime.fromisoformat(lane["until"]).astimezone(UTC).strftime("%H:%M:%S UTC")
    return (
        f"{lane['channel']}{who}, {failures} failure{'s' if failures > 1 else ''} in a row, "
        f"next try {until}: {lane['error']}"
    )


def _when(text: str | None) -> str:
    return when(datetime.fromisoformat(text)) if text else "-"


def cmd_backup(config: Config, args: argparse.Namespace) -> int:
    target: Path = args.path
    if os.path.isdir(target):
        target = target / f"watcher-{utc_now():%Y%m%dT%H%M%SZ}.db"
    if target.resolve() == config.state.resolve():
        raise UsageError(f"backup: {target} is the database itself")
    if not os.path.isdir(target.parent):
        raise UsageError(f"backup: no folder {target.parent}")
    if os.path.exists(target) and (problem := _not_a_backup(target)):  # False on errors
        raise UsageError(f"backup: {target} {problem}: not replaced")
    with reading(config.state) as store:
        store.backup(target)
    print(f"backed up {config.state} to {target} ({target.stat().st_size} bytes)")
    return 0


def _not_a_backup(path: Path) -> str | None:
    """Why the existing `path` must not be replaced by a backup, if it must not: it is no
    regular file (a device, a pipe: the backup would replace it), or holds something other
    than an SQLite database (a config file named by mistake)."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return "is no regular file"
        with path.open("rb") as file:
            head = file.read(len(SQLITE_HEADER))
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    return None if head in (b"", SQLITE_HEADER) else "exists and is no SQLite database"


def cmd_health(args: argparse.Namespace) -> int:
    url = args.url or _health_url(load_optional_config(args.config))
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    try:
        with opener.open(url, timeout=HEALTH_TIMEOUT) as response:
            print(response.read().decode(errors="replace").rstrip())
            return 0
    except urllib.error.HTTPError as exc:
        print(exc.read().decode(errors="replace").rstrip())
    except (urllib.error.URLError, OSError) as exc:
        print(f"watcher: health: {url}: {getattr(exc, 'reason', exc)}")
    except http.client.HTTPException as exc:  # not an HTTP server: a port taken by another
        print(f"watcher: health: {url}: no HTTP answer ({type(exc).__name__}: {exc})")
    return EXIT_FAILED


def http_url(text: str) -> str:
    """An argparse type: an http(s) URL the config would take as a feed's."""
    if why := malformed(text):
        raise argparse.ArgumentTypeError(f"{text!r} is no valid URL: {why}")
    if urllib.parse.urlsplit(text).scheme not in ("http", "https"):
        raise argparse.ArgumentTypeError(f"{text!r} is no http(s) URL")
    return text


def _health_url(config: Config | None) -> str:
    host, port = config.listen if config else ("127.0.0.1", 8080)
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    return url_of(host, port, "/healthz")
