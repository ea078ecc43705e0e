"""Operating the service: its HTTP endpoint, logs, status, backup, reload and lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ROOT, FakeClock, wait_until
from tests.feedserver import FeedServer, fixture_bytes, send
from watcher import endpoint as endpoint_module
from watcher import logs
from watcher.cli.common import reading
from watcher.endpoint import Endpoint, Response
from watcher.errors import ServiceError, StoreError
from watcher.health import check_health
from watcher.models import FeedConfig, Story
from watcher.store import Store

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with OPENER.open(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def metrics(port: int) -> dict[str, float]:
    """Every sample as 'name{label="v"}' -> value."""
    status, text = get(port, "/metrics")
    assert status == 200
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            found[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return found


def watcher(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "watcher", *args], cwd=cwd, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip


@dataclass
class Running:
    proc: subprocess.Popen[bytes]
    port: int
    err: Path
    out: Path

    def log(self) -> str:
        return self.err.read_text()

    def wait_for(self, text: str, seconds: float = 20) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if text in self.log():
                return
            assert self.proc.poll() is None, self.log()
            time.sleep(0.1)
        raise AssertionError(f"{text!r} not logged:\n{self.log()}")


@contextmanager
def service(config: Path, *options: str, group: bool = False) -> Iterator[Running]:
    """`watcher run` as a real subprocess on a free port, read from its log; with `group`,
    leading a process group of its own, as a terminal runs a command."""
    err, out = config.parent / "err.log", config.parent / "out.log"
    with err.open("wb") as err_file, out.open("wb") as out_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "watcher", *options, "--config", str(config), "run",
             "--listen", "127.0.0.1:0"],
            stdout=out_file, stderr=err_file, start_new_session=group,
        )  # fmt: skip
        try:
            running = Running(proc, 0, err, out)
            running.wait_for("http endpoint listening")
            line = next(x for x in running.log().splitlines() if "http endpoint listening" in x)
            running.port = int(line.rsplit(":", 1)[1].strip("/\n"))
            yield running
        finally:
            proc.kill()
            proc.wait()


def config_file(tmp_path: Path, feeds: str, extra: str = "", timeout: str = "5s") -> Path:
    config = tmp_path / "watcher.yaml"
    config.write_text(
        "state: state/w.db\nbackfill: all\npoll:\n  interval: 1m\n  jitter: 0\n"
        f"  total_timeout: {timeout}\n{extra}subscribers:\n  - name: ops\n    console: true\n"
        f"feeds:\n{feeds}"
    )
    return config


def feed_lines(server: FeedServer, *feeds: tuple[str, str]) -> str:
    return "".join(f"  - name: {n}\n    url: {server.url(p)}\n" for n, p in feeds)


# -- the service as a subprocess ----------------------------------------------------------


def watch_numbers_move(tmp_path: Path, server: FeedServer, feeds: str, stories: int) -> None:
    """Start `watcher run` with every feed held back, read /healthz and /metrics, let the
    polls through, see the numbers move, then SIGTERM and a clean exit within 10 s."""
    with service(config_file(tmp_path, feeds)) as running:
        status, body = get(running.port, "/healthz")
        assert status == 200 and body.startswith("ok"), body
        before = metrics(running.port)
        assert before.get("watcher_stories_ingested_total") == 0
        assert not any(k.startswith("watcher_polls_total") for k in before)
        assert before['watcher_alerts_queued{channel="console"}'] == 0
        GATE.set()
        wait_until(lambda: metrics(running.port)["watcher_stories_ingested_total"] == stories)
        wait_until(
            lambda: metrics(running.port).get('watcher_alerts_sent_total{channel="console"}')
        )
        count = len(feeds.split("- name:")) - 1  # a feed with nothing new may end last
        wait_until(lambda: metrics(running.port).get('watcher_polls_total{outcome="new"}') == count)
        after = metrics(running.port)
        polled = after['watcher_polls_total{outcome="new"}']
        assert polled == count
        assert after["watcher_fetch_duration_seconds_count"] == polled
        # a story linking two clusters merges them, in some orders of the concurrent polls
        assert 0 < after["watcher_clusters"] <= after["watcher_clusters_started_total"]
        assert sum(v for k, v in after.items() if k.startswith("watcher_matches_total")) > 0
        assert after["watcher_feeds_failing"] == 0
        assert after["watcher_feeds_silent"] == 0
        assert after["watcher_last_poll_timestamp_seconds"] > time.time() - 60
        status, text = get(running.port, "/status")
        document = json.loads(text)
        assert status == 200 and document["healthy"] is True
        assert {f["health"] for f in document["feeds"]} == {"ok"}
        assert document["rules"]["version"] and document["rules"]["error"] is None
        health = watcher("health", "--url", f"http://127.0.0.1:{running.port}/healthz")
        assert health.returncode == 0 and health.stdout.startswith("ok"), health
        shown = watcher("--config", str(tmp_path / "watcher.yaml"), "status")
        assert "service: running since" in shown.stdout, shown
        running.proc.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        assert running.proc.wait(timeout=10) == 0
        assert time.monotonic() - stopped < 10
        assert "service stopped" in running.log()
    shown = watcher("--config", str(tmp_path / "watcher.yaml"), "status")
    assert "service: stopped at" in shown.stdout, shown
    refused = watcher("health", "--url", f"http://127.0.0.1:{running.port}/healthz")
    assert refused.returncode == 1 and "health:" in refused.stdout


def test_health_refuses_a_url_it_cannot_ask_and_says_what_answered_no_http() -> None:
    """A health URL that is no http(s) URL is a usage error; a port taken by a server that
    speaks no HTTP is unhealthy, said in one line, without a traceback."""
    for url in (
        "notaurl", "ftp://127.0.0.1/", "http://[::1", "http://127.0.0.1:99999/", "http://:8080/",
        "http://127.0.0.1:0/",
    ):  # fmt: skip
        refused = watcher("health", "--url", url)
        assert refused.returncode == 2 and "argument --url" in refused.stderr, refused
        assert "Traceback" not in refused.stderr
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]

        def greet() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
                conn.recv(1024)

        threading.Thread(target=greet, daemon=True).start()
        other = watcher("health", "--url", f"http://127.0.0.1:{port}/healthz")
    assert other.returncode == 1 and "no HTTP answer" in other.stdout, other
    assert "Traceback" not in other.stderr


GATE = threading.Event()


def held(body: bytes) -> object:
    """A feed body served only once the test opens the gate."""

    def serve() -> bytes:
        GATE.wait(20)
        return body

    return serve


def test_run_serves_health_and_metrics_that_move_with_polls(
    server: FeedServer, tmp_path: Path
) -> None:
    GATE.clear()
    server.feed("/wire.xml", held(fixture_bytes("wire.rss.xml")))  # type: ignore[arg-type]
    server.feed("/asia.xml", held(fixture_bytes("asia.rdf.xml")))  # type: ignore[arg-type]
    feeds = feed_lines(server, ("Wire", "/wire.xml"), ("Asia", "/asia.xml"))
    watch_numbers_move(tmp_path, server, feeds, stories=3)


def test_run_metrics_move_with_the_served_corpus_feeds(
    server: FeedServer, corpus: Path, tmp_path: Path
) -> None:
    GATE.clear()
    paths = sorted((corpus / "feeds").glob("*.xml"))
    for path in paths:
        server.feed(f"/corpus/{path.name}", held(path.read_bytes()))  # type: ignore[arg-type]
    feeds = feed_lines(server, *((p.stem, f"/corpus/{p.name}") for p in paths))
    stories = len((corpus / "stories.jsonl").read_text().splitlines())
    watch_numbers_move(tmp_path, server, feeds, stories=stories)


def test_sighup_reloads_the_config_and_a_broken_one_changes_nothing(
    server: FeedServer, tmp_path: Path
) -> None:
    server.feed("/wire.xml", fixture_bytes("wire.rss.xml"))
    server.feed("/asia.xml", fixture_bytes("asia.rdf.xml"))
    config = config_file(tmp_path, feed_lines(server, ("Wire", "/wire.xml")))
    good = config.read_text()
    with service(config) as running:
        running.wait_for("poll feed=Wire")
        config.write_text(good.replace("feeds:\n", "feeds:\n  - name: [unclosed\n"))
        running.proc.send_signal(signal.SIGHUP)
        running.wait_for("config reload failed, keeping the config in force")
        assert "watcher.yaml:" in running.log()  # the problem names the file and line
        config.write_text(good + feed_lines(server, ("Asia", "/asia.xml")))
        running.proc.send_signal(signal.SIGHUP)
        running.wait_for("config reloaded")
        running.wait_for("poll feed=Asia")
        document = json.loads(get(running.port, "/status")[1])
        assert [f["name"] for f in document["feeds"]] == ["Asia", "Wire"]
        running.proc.send_signal(signal.SIGTERM)
        assert running.proc.wait(timeout=10) == 0


def test_a_webhook_down_is_held_and_shown_in_metrics_and_status(
    server: FeedServer, tmp_path: Path
) -> None:
    """`watcher run`: a webhook answering 503 holds its lane (logged, counted in
    `watcher_delivery_held`, shown by `watcher status`) and its other alerts wait untried;
    a SIGHUP lifts the hold."""
    server.feed("/wire.xml", fixture_bytes("wire.rss.xml"))  # two news items
    server.routes["/hook"] = lambda h: send(h, 503, b"busy", "text/plain")
    config = config_file(tmp_path, feed_lines(server, ("Wire", "/wire.xml")))
    config.write_text(
        config.read_text().replace(
            "subscribers:\n", f"subscribers:\n  - name: hook\n    webhook: {server.url('/hook')}\n"
        )
    )
    held = 'watcher_delivery_held{channel="webhook"}'
    with service(config) as running:
        running.wait_for("delivery held channel=webhook subscriber=hook failures=1")
        wait_until(lambda: metrics(running.port).get(held) == 1)
        time.sleep(5)  # two rounds and more (one each 2 s): none tries the second alert
        assert len([p for p, _ in server.posts if p == "/hook"]) == 1
        assert metrics(running.port)['watcher_alerts_queued{channel="webhook"}'] == 2
        (lane,) = json.loads(get(running.port, "/status")[1])["delivery_held"]
        assert (lane["channel"], lane["subscriber"], lane["failures"]) == ("webhook", "hook", 1)
        shown = watcher("--config", str(config), "status").stdout
        assert "held:    webhook to hook, 1 failure in a row, next try " in shown, shown
        assert "webhook: HTTP 503 busy" in shown
        running.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: len([p for p, _ in server.posts if p == "/hook"]) == 2)
        running.proc.send_signal(signal.SIGTERM)
        assert running.proc.wait(timeout=10) == 0
    assert running.log().count("delivery held") == 2
    assert "held:" not in watcher("--config", str(config), "status").stdout  # stopped


def test_a_server_that_asked_to_wait_is_shown_in_status(server: FeedServer, tmp_path: Path) -> None:
    """`watcher run`: a server that answered 429 holds its feeds; `/status` and `watcher
    status` show it (from the heartbeat), and still after the service stopped: the next
    start holds it until then."""
    server.status("/limited.xml", 429, {"Retry-After": "600"})
    config = config_file(tmp_path, feed_lines(server, ("Limited", "/limited.xml")))
    name = server.base.removeprefix("http://")
    with service(config) as running:
        running.wait_for("poll")

        def servers() -> list[dict[str, str]]:
            return json.loads(get(running.port, "/status")[1])["servers_held"]

        wait_until(lambda: bool(servers()), seconds=30)  # the next heartbeat: 15 s at most
        (held,) = servers()
        assert (held["server"], held["why"]) == (name, "HTTP 429 Too Many Requests")
        shown = watcher("--config", str(config), "status").stdout
        assert f"waiting: {name} asked to wait (HTTP 429 Too Many Requests): its feeds" in shown
        running.proc.send_signal(signal.SIGTERM)
        assert running.proc.wait(timeout=10) == 0
    stopped = watcher("--config", str(config), "status").stdout
    assert f"waiting: {name} asked to wait (HTTP 429 Too Many Requests): its feeds" in stopped


def test_parse_workers_start_with_the_service_below_its_priority_and_exit_when_it_is_killed(
    server: FeedServer, tmp_path: Path
) -> None:
    server.feed("/wire.xml", fixture_bytes("wire.rss.xml"))
    config = config_file(tmp_path, feed_lines(server, ("Wire", "/wire.xml")))
    with service(config) as running:
        running.wait_for("poll")
        workers = children(running.proc.pid)
        own = os.getpriority(os.PRIO_PROCESS, running.proc.pid)
        lower = [pid for pid in workers if os.getpriority(os.PRIO_PROCESS, pid) > own]
        assert len(lower) == os.cpu_count(), f"one parse worker per core, niced: {workers}"
        running.proc.kill()  # SIGKILL: no shutdown of the pool
        running.proc.wait()
        deadline = time.monotonic() + 10
        while any(Path(f"/proc/{pid}").exists() for pid in workers):
            assert time.monotonic() < deadline, f"workers {workers} outlived the service"
            time.sleep(0.1)


def children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_run_refuses_to_start_when_its_port_is_taken(server: FeedServer, tmp_path: Path) -> None:
    config = config_file(tmp_path, feed_lines(server, ("Wire", "/wire.xml")))
    with service(config) as running:
        other = tmp_path / "other"
        other.mkdir()
        second = config_file(other, feed_lines(server, ("Wire", "/wire.xml")))
        result = watcher("--config", str(second), "run", "--listen", f"127.0.0.1:{running.port}")
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{running.port}" in result.stderr


# -- health checks, in process -------------------------------------------------------------


def test_health_fails_when_polls_are_late_or_the_database_is_read_only(
    tmp_path: Path, clock: FakeClock
) -> None:
    store = Store(tmp_path / "w.db")
    started = clock()

    def checks(**kw: object) -> dict[str, bool]:
        def record_heartbeat() -> None:
            store.put_service_values({"heartbeat": clock().isoformat()}, clock())

        args = {"record_heartbeat": record_heartbeat, "now": clock(), "scheduler_running": True,
                "started_at": started, "last_poll_at": None, "interval": 60.0}  # fmt: skip
        return {c.name: c.ok for c in check_health(**{**args, **kw})}  # type: ignore[arg-type]

    assert checks() == {"scheduler": True, "database": True, "polls": True}
    clock.now += timedelta(seconds=119)
    assert checks()["polls"] is True
    clock.now += timedelta(seconds=2)  # twice the interval with no poll
    assert checks()["polls"] is False
    assert checks(last_poll_at=clock.now - timedelta(seconds=30))["polls"] is True
    assert checks(interval=None)["polls"] is True  # no feeds: nothing is late
    assert checks(scheduler_running=False)["scheduler"] is False
    store.db.execute("PRAGMA query_only = 1")
    assert checks()["database"] is False


def test_a_database_removed_or_replaced_under_the_service_fails_its_health(
    tmp_path: Path,
) -> None:
    """`rm -r state/` while the service runs left it writing to a file no one opens again
    (all lost at the next start) with /healthz still ok: the container was never
    restarted. The heartbeat checks that the path still names the file open."""
    config = config_file(tmp_path, "  []\n")
    state = tmp_path / "state" / "w.db"
    with service(config) as running:
        assert get(running.port, "/healthz")[0] == 200
        for extra in ("-wal", "-shm", ""):
            state.with_name(state.name + extra).unlink(missing_ok=True)
        status, body = get(running.port, "/healthz")
        assert status == 503, body
        assert f"database: FAIL ({state} was removed while open: what is stored now" in body
        running.wait_for("heartbeat not recorded")
    Store(tmp_path / "other.db").close()
    os.replace(tmp_path / "other.db", state)
    store = Store(state)
    os.replace(state, tmp_path / "moved.db")
    Store(state).close()  # a new file where it was
    with pytest.raises(StoreError, match="was replaced by another file while open"):
        store.check_in_place()
    store.close()


def test_the_endpoints_url_puts_an_ipv6_address_in_brackets(tmp_path: Path) -> None:
    """`--listen [::1]:0` logged `http://::1:44057/`, which no client takes; `watcher health`
    builds its default URL the same way."""
    from watcher.cli.ops import _health_url
    from watcher.config import load_config
    from watcher.endpoint import url_of

    assert url_of("::1", 44057) == "http://[::1]:44057/"
    assert url_of("127.0.0.1", 8080, "/healthz") == "http://127.0.0.1:8080/healthz"
    config = tmp_path / "watcher.yaml"
    for listen, url in [
        ("'[::1]:9100'", "http://[::1]:9100/healthz"),
        ("'[::]:9100'", "http://127.0.0.1:9100/healthz"),
        ("0.0.0.0:9100", "http://127.0.0.1:9100/healthz"),
        ("myhost:9100", "http://myhost:9100/healthz"),
    ]:
        config.write_text(f"listen: {listen}\nfeeds: []\n")
        assert _health_url(load_config(config, env={})) == url


def test_endpoint_answers_routes_and_refuses_the_rest() -> None:
    async def scenario() -> list[bytes]:
        endpoint = Endpoint({"/ok": lambda: Response(200, b"fine\n"), "/bug": lambda: 1 / 0})
        host, port = await endpoint.start("127.0.0.1", 0)

        async def ask(raw: bytes) -> bytes:
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(raw)
            await writer.drain()
            answer = await reader.read()
            writer.close()
            return answer

        silent = await asyncio.open_connection(host, port)  # never sends: must not block others
        answers = [
            await ask(b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n"),
            await ask(b"HEAD /ok HTTP/1.1\r\n\r\n"),
            await ask(b"GET /nope HTTP/1.1\r\n\r\n"),
            await ask(b"POST /ok HTTP/1.1\r\n\r\n"),
            await ask(b"GET /bug HTTP/1.1\r\n\r\n"),
            await ask(b"not http at all\r\n"),
        ]
        silent[1].close()
        await endpoint.close()
        return answers

    logging.getLogger("watcher.endpoint").disabled = True
    try:
        ok, head, missing, post, bug, garbage = asyncio.run(scenario())
    finally:
        logging.getLogger("watcher.endpoint").disabled = False
    assert ok.startswith(b"HTTP/1.1 200 OK\r\n") and ok.endswith(b"\r\n\r\nfine\n")
    assert b"Content-Length: 5\r\n" in head and head.endswith(b"\r\n\r\n")
    assert missing.startswith(b"HTTP/1.1 404") and b"/ok" in missing
    assert post.startswith(b"HTTP/1.1 405")
    assert bug.startswith(b"HTTP/1.1 500")
    assert garbage == b""


def test_endpoint_drops_connections_past_its_cap_and_serves_again_once_they_close(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A flood of idle connections holds at most MAX_CONNECTIONS sockets; the rest are
    dropped at once, with one warning, and the endpoint answers when the flood ends."""
    cap = endpoint_module.MAX_CONNECTIONS

    async def scenario() -> tuple[bytes, bytes]:
        endpoint = Endpoint({"/ok": lambda: Response(200, b"fine\n")})
        host, port = await endpoint.start("127.0.0.1", 0)
        idle = [await asyncio.open_connection(host, port) for _ in range(cap)]
        while endpoint.open < cap:
            await asyncio.sleep(0.01)

        async def ask() -> bytes:
            reader, writer = await asyncio.open_connection(host, port)
            with contextlib.suppress(ConnectionError):
                writer.write(b"GET /ok HTTP/1.1\r\n\r\n")
                await writer.drain()
            try:
                return await asyncio.wait_for(reader.read(), 3)
            except ConnectionError:
                return b""
            finally:
                writer.close()

        over = [await ask() for _ in range(3)]
        for _, writer in idle:
            writer.close()
        while endpoint.open:
            await asyncio.sleep(0.01)
        after = await ask()
        await endpoint.close()
        return b"".join(over), after

    with caplog.at_level(logging.WARNING, logger="watcher.endpoint"):
        over, after = asyncio.run(scenario())
    assert over == b""
    assert after.startswith(b"HTTP/1.1 200 OK")
    busy = [r for r in caplog.records if "endpoint busy" in r.getMessage()]
    assert len(busy) == 1 and f"{cap} connections open" in busy[0].getMessage()


def test_endpoint_drops_a_client_that_stops_reading_its_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A client that asks and never reads would hold its connection (and the answer) for
    ever: after the write timeout the answer is cut off and the connection dropped."""
    monkeypatch.setattr(endpoint_module, "WRITE_TIMEOUT", 0.3)
    body = b"x" * 20_000_000  # far beyond what the sockets' buffers hold

    async def scenario() -> int:
        endpoint = Endpoint({"/big": lambda: Response(200, body)})
        host, port = await endpoint.start("127.0.0.1", 0)
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b"GET /big HTTP/1.1\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(1.5)  # reads nothing: the server's writes stall
        received = 0
        with contextlib.suppress(ConnectionError):
            while chunk := await asyncio.wait_for(reader.read(1 << 20), 10):
                received += len(chunk)
        writer.close()
        await endpoint.close()
        return received

    assert 0 < asyncio.run(scenario()) < len(body)


# -- logs ----------------------------------------------------------------------------------


def test_redact_masks_passwords_tokens_webhooks_and_named_secrets() -> None:
    logs.add_secrets(["hunter2-smtp", None, "", "     ", "ab "])  # too short to mask
    cases = {
        "GET https://user:pa55word@feeds.test/rss failed": "https://user:***@feeds.test/rss",
        "https://hooks.slack.com/services/T01/B02/xyzSECRET said 500": "hooks.slack.com/services/***",
        "https://feeds.test/rss?user=me&token=abc123&x=1": "?user=me&token=***&x=1",
        "auth failed with hunter2-smtp": "auth failed with ***",
    }
    for text, kept in cases.items():
        assert kept in logs.redact(text), logs.redact(text)
    for secret in ("pa55word", "xyzSECRET", "abc123", "hunter2-smtp"):
        assert all(secret not in logs.redact(t) for t in cases)
    assert logs.redact("ab  cd     ef") == "ab  cd     ef"


def test_formatters_write_events_as_key_value_or_json_and_redact_tracebacks() -> None:
    logs.add_secrets(["https://hooks.test/very-secret-hook"])
    record = logging.LogRecord("watcher.x", logging.WARNING, __file__, 1, "%s", ("poll",), None)
    record.event_fields = {"feed": "Wire Asia", "http": 200, "url": "https://a.test/x", "n": None}
    line = logs.KeyValueFormatter().format(record)
    assert line.endswith(
        ' level=WARNING logger=watcher.x poll feed="Wire Asia" http=200 url=https://a.test/x n=-'
    )
    assert json.loads(logs.JsonFormatter().format(record)) | {"time": "t"} == {
        "time": "t", "level": "WARNING", "logger": "watcher.x", "event": "poll",
        "feed": "Wire Asia", "http": 200, "url": "https://a.test/x", "n": None,
    }  # fmt: skip
    try:
        raise RuntimeError("POST https://hooks.test/very-secret-hook refused")
    except RuntimeError:
        failing = logging.LogRecord("lib", logging.ERROR, __file__, 1, "boom", None, sys.exc_info())
    for formatter in (logs.KeyValueFormatter(), logs.JsonFormatter()):
        text = formatter.format(failing)
        assert "very-secret-hook" not in text and "RuntimeError" in text


def test_no_secret_reaches_the_log_in_either_format(server: FeedServer, tmp_path: Path) -> None:
    server.feed("/private.xml", fixture_bytes("wire.rss.xml"))
    server.status("/hook/T0/B0/sekret-hook-token", 500)
    feed_url = server.url("/private.xml").replace("http://", "http://reader:feedpass99@")
    config = tmp_path / "watcher.yaml"
    config.write_text(
        "state: w.db\nbackfill: all\n"
        "smtp:\n  host: 127.0.0.1\n  port: 9\n  security: none\n  username: u\n"
        "  password: ${SMTP_PASSWORD}\n  timeout: 2s\n"
        "subscribers:\n  - name: team\n    email: team@example.test\n"
        f"    slack: {server.url('/hook/T0/B0/sekret-hook-token')}\n"
        f"feeds:\n  - name: Private\n    url: {feed_url}?token=tok-4242\n"
    )
    for fmt in ("keyvalue", "json"):
        (tmp_path / "w.db").unlink(missing_ok=True)
        result = subprocess.run(
            [sys.executable, "-m", "watcher", "--log-level", "DEBUG", "--log-format", fmt,
             "--config", str(config), "once"],
            capture_output=True, text=True, timeout=60,
            env={"SMTP_PASSWORD": "smtp-pass-777", "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert "alert failed" in result.stderr and "poll" in result.stderr
        for secret in ("feedpass99", "tok-4242", "sekret-hook-token", "smtp-pass-777"):
            assert secret not in result.stderr, (fmt, secret, result.stderr)
        if fmt == "json":
            events = [json.loads(line) for line in result.stderr.splitlines()]
            (poll,) = [e for e in events if e.get("event") == "poll"]
            assert (poll["feed"], poll["http"], poll["new"]) == ("Private", 200, 2)
            assert isinstance(poll["ms"], int) and "***" in poll["url"]


# -- status and backup ---------------------------------------------------------------------


def test_a_damaged_database_is_named_so_with_what_to_do(tmp_path: Path) -> None:
    """A file with pages overwritten (a disk fault, a copy torn while written) read as
    `database disk image is malformed`, and no more."""
    config = config_file(tmp_path, "")
    store = Store(tmp_path / "state" / "w.db")
    store.sync_feeds([FeedConfig(name=f"Feed {n}", url=f"https://f.test/{n}", interval=600)
                      for n in range(2000)])  # fmt: skip
    store.db.close()
    path = tmp_path / "state" / "w.db"
    data = bytearray(path.read_bytes())
    for page in range(2, len(data) // 4096):
        data[page * 4096 + 8 : page * 4096 + 200] = b"\x5a" * 192
    path.write_bytes(data)
    result = watcher("--config", str(config), "status")
    assert result.returncode == 1, result
    assert "malformed (the database file is damaged: stop watcher" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_state_file_that_is_no_database_is_named_so_and_left_as_it_is(tmp_path: Path) -> None:
    """`state:` naming the config (or a log) by mistake read as "file is not a database (the
    database file is damaged...)": the operator went looking for a backup of a database
    that never was."""
    config = config_file(tmp_path, "")
    config.write_text(config.read_text().replace("state: state/w.db", "state: watcher.yaml"))
    before = config.read_bytes()
    result = watcher("--config", str(config), "status")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"{config} is no SQLite database (it does not begin as one): `state:` names " in (
        result.stderr
    )
    assert config.read_bytes() == before


def test_status_shows_feed_health_outbox_and_errors(server: FeedServer, tmp_path: Path) -> None:
    server.feed("/wire.xml", fixture_bytes("wire.rss.xml"))
    server.status("/down.xml", 500)
    config = config_file(tmp_path, feed_lines(server, ("Wire", "/wire.xml"), ("Down", "/down.xml")))
    assert "never started" in watcher("--config", str(config), "status").stdout
    watcher("--config", str(config), "once")
    result = watcher("--config", str(config), "status")
    assert result.returncode == 0, result.stderr
    rows = {
        line.split()[0]: line for line in result.stdout.splitlines() if line[:4] in ("Wire", "Down")
    }
    assert rows["Wire"].split()[1:3] == ["ok", "200"]
    assert rows["Down"].split()[1:3] == ["failing", "500"] and "HTTP 500" in rows["Down"]
    assert "service: never started on this database" in result.stdout
    assert "rules:   - (not recorded yet)\n" in result.stdout  # `once` records no rule set
    with reading(tmp_path / "state" / "w.db") as store:  # as `watcher run` records its rules
        store.put_service_values(
            {"rules_version": "abc123", "rules_summary": "1 files, 6 rules, version abc123"},
            datetime.now(UTC),
        )
    shown = watcher("--config", str(config), "status").stdout
    assert "rules:   1 files, 6 rules, version abc123\n" in shown  # the version once
    document = json.loads(watcher("--config", str(config), "status", "--format", "json").stdout)
    assert document["stories"] == 2 and document["outbox"] == {}


def test_a_feed_removed_from_the_config_leaves_status_and_metrics(
    server: FeedServer, tmp_path: Path
) -> None:
    """Its row stays in the database: one removed while it failed counted as failing for
    ever, and an alert on watcher_feeds_failing never cleared."""
    from watcher.config import load_config
    from watcher.health import silent_after_of
    from watcher.metrics import Metrics

    server.feed("/wire.xml", fixture_bytes("wire.rss.xml"))
    server.status("/down.xml", 500)
    config = config_file(tmp_path, feed_lines(server, ("Wire", "/wire.xml"), ("Down", "/down.xml")))
    watcher("--config", str(config), "once")
    config.write_text(config.read_text().split("  - name: Down")[0])
    document = json.loads(watcher("--config", str(config), "status", "--format", "json").stdout)
    assert [f["name"] for f in document["feeds"]] == ["Wire"]
    store = Store(tmp_path / "state" / "w.db")
    assert {f.name for f in store.feed_states()} == {"Wire", "Down"}  # the row stays
    feeds = load_config(config, env={}).feeds
    exposition = Metrics(store, silent_after=lambda: silent_after_of(feeds)).exposition()
    samples = {
        s.name: s.value
        for family in text_string_to_metric_families(exposition.decode())
        for s in family.samples
    }
    assert samples["watcher_feeds"] == 1 and samples["watcher_feeds_failing"] == 0


@pytest.mark.parametrize(
    ("stories", "newest", "silent_after", "health"),
    [
        pytest.param(5, timedelta(days=1), 7 * 86400.0, "ok", id="news-yesterday"),
        pytest.param(5, timedelta(days=8), 7 * 86400.0, "silent", id="none-for-8-days"),
        pytest.param(0, None, 7 * 86400.0, "silent", id="no-story"),
        pytest.param(5, timedelta(days=8), None, "ok", id="off"),
    ],
)
def test_a_feed_that_polls_well_but_brings_no_new_story_is_silent(
    stories: int, newest: timedelta | None, silent_after: float | None, health: str
) -> None:
    from datetime import UTC, datetime

    from watcher.health import feed_health
    from watcher.models import FeedState

    now = datetime(2026, 12, 1, tzinfo=UTC)
    state = FeedState(
        name="f", url="https://f.test/", last_success_at=now, stories=stories,
        newest_story_at=now - newest if newest else None,
    )  # fmt: skip
    assert feed_health(state, silent_after, now) == health
    assert feed_health(state) == "ok"  # without a limit and a time, never silent
    failing = FeedState(name="f", url="https://f.test/", consecutive_failures=2)
    assert feed_health(failing, silent_after, now) == "failing"  # failing comes first


def test_metrics_count_the_silent_feeds_and_those_dated_too_old(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from watcher.metrics import Metrics

    store = Store(tmp_path / "w.db")
    now = datetime(2026, 12, 1, tzinfo=UTC)
    feeds = [FeedConfig(name=n, url=f"https://{n}.test/", interval=600) for n in "abc"]
    store.sync_feeds(feeds)
    for feed in feeds:  # each polled well; only c keeps a story, fetched now
        state = store.feed_state(feed.name)
        story = [_story(1)] if feed.name == "c" else []
        kept = [replace(s, feed="c", fetched_at=now) for s in story]
        store.record_poll(
            replace(state, last_success_at=now, old_dates=3 * (feed.name == "c")), kept
        )
    limits = {"a": 86400.0, "b": None, "c": 86400.0}  # b: silent_after off
    exposition = Metrics(store, silent_after=lambda: limits, clock=lambda: now).exposition()
    samples = {
        s.name: s.value
        for family in text_string_to_metric_families(exposition.decode())
        for s in family.samples
    }
    assert samples["watcher_feeds_silent"] == 1  # a: polled, no story
    assert samples["watcher_feeds_dated_too_old"] == 1  # c: its last 3 new stories too old


def test_metrics_tell_quiet_matches_from_those_that_can_alert(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from watcher.metrics import Metrics
    from watcher.models import Match, PollOutcome

    now = datetime(2026, 12, 1, tzinfo=UTC)
    metrics = Metrics(Store(tmp_path / "w.db"), clock=lambda: now)
    matched = [
        Match(cluster=c, rule="gallium", story=f"s{c}", terms={}, clause="gallium",
              ruleset_version="v", matched_at=now, quiet=quiet)
        for c, quiet in ((1, True), (2, False), (1, False))
    ]  # fmt: skip
    metrics.record_poll(PollOutcome(feed="f", url="u", status="new", matches=tuple(matched)), 0)
    samples = {
        (s.name, s.labels.get("quiet")): s.value
        for family in text_string_to_metric_families(metrics.exposition().decode())
        for s in family.samples
        if s.name == "watcher_matches_total"
    }
    assert samples == {("watcher_matches_total", "true"): 1, ("watcher_matches_total", "false"): 2}


def test_metrics_count_the_clusters_started_past_max_span(tmp_path: Path) -> None:
    """Operators tuning clustering.max_span see how often a story that read as the same
    event as another started a news item of its own."""
    from datetime import UTC, datetime

    from tests.test_dedupe import saga
    from watcher.dedupe import ClusterIndex, ClusterSettings
    from watcher.metrics import Metrics
    from watcher.models import ClusteredStory, PollOutcome

    index, stories = ClusterIndex(ClusterSettings()), saga(0, 50, 100, 150)
    placed = tuple(ClusteredStory(story=s, assignment=index.add(s)) for s in stories)
    assert [c.follows for c in placed] == [None, None, "d2", None]
    metrics = Metrics(Store(tmp_path / "w.db"), clock=lambda: datetime(2026, 12, 1, tzinfo=UTC))
    metrics.record_poll(PollOutcome(feed="f", url="u", status="new", clustered=placed), 0)
    samples = {
        s.name: s.value
        for family in text_string_to_metric_families(metrics.exposition().decode())
        for s in family.samples
    }
    assert samples["watcher_clusters_started_total"] == 2  # d0, and d4 past max_span
    assert samples["watcher_clusters_past_span_total"] == 1


def test_status_and_feeds_show_silent_feeds(server: FeedServer, tmp_path: Path) -> None:
    """A search that finds nothing, and a feed frozen at its last stories, fail no poll."""
    from datetime import UTC, datetime

    from tests.feedserver import rss
    from watcher.store import to_text

    server.feed("/wire.xml", fixture_bytes("wire.rss.xml"))
    server.feed("/empty.xml", rss([]))
    feeds = feed_lines(server, ("Wire", "/wire.xml"), ("Empty", "/empty.xml"))
    config = config_file(tmp_path, feeds)
    watcher("--config", str(config), "once")
    listed = watcher("--config", str(config), "feeds").stdout
    rows = {line.split()[0]: line.split() for line in listed.splitlines()[1:]}
    assert rows["Wire"][1] == "ok" and rows["Empty"][1:4] == ["silent", "0", "-"]
    with reading(tmp_path / "state" / "w.db") as store:
        store.db.execute(
            "UPDATE stories SET fetched_at = ?", [to_text(datetime(2026, 1, 2, 3, 4, tzinfo=UTC))]
        )
    listed = watcher("--config", str(config), "feeds").stdout
    rows = {line.split()[0]: line.split() for line in listed.splitlines()[1:]}
    assert rows["Wire"][1:5] == ["silent", "2", "2026-01-02", "03:04"]  # the newest story
    document = json.loads(watcher("--config", str(config), "status", "--format", "json").stdout)
    health = {f["name"]: (f["health"], f["newest_story_at"]) for f in document["feeds"]}
    assert health == {"Wire": ("silent", "2026-01-02T03:04:00+00:00"), "Empty": ("silent", None)}
    config.write_text(config.read_text().replace("feeds:\n", "silent_after: off\nfeeds:\n"))
    document = json.loads(watcher("--config", str(config), "status", "--format", "json").stdout)
    assert {f["health"] for f in document["feeds"]} == {"ok"}


def test_backup_is_consistent_while_another_process_writes(tmp_path: Path) -> None:
    store = Store(tmp_path / "state" / "w.db")
    feed = FeedConfig(name="Wire", url="https://wire.test/rss", interval=600)
    store.sync_feeds([feed])
    stop = threading.Event()

    def write() -> None:
        writer = Store(tmp_path / "state" / "w.db")
        n = 0
        while not stop.is_set():
            stories = [_story(n + i) for i in range(50)]
            writer.record_poll(writer.feed_state("Wire"), stories)
            n += 50
        writer.close()

    thread = threading.Thread(target=write)
    thread.start()
    counts = []
    try:
        for i in range(5):
            time.sleep(0.1)
            copy = tmp_path / f"copy{i}.db"
            store.backup(copy)
            with reading(copy) as snapshot:
                counts.append(snapshot.count_stories())
                assert snapshot.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                assert snapshot.count_stories() % 50 == 0  # whole polls only
    finally:
        stop.set()
        thread.join()
    assert counts == sorted(counts) and counts[-1] > 0
    assert not list(tmp_path.glob("*.partial"))


def test_backup_command_writes_a_dated_copy_and_refuses_the_database_itself(
    tmp_path: Path,
) -> None:
    config = tmp_path / "watcher.yaml"
    config.write_text("state: state/w.db\nfeeds: []\n")
    Store(tmp_path / "state" / "w.db").close()
    (tmp_path / "backups").mkdir()
    made = watcher("--config", str(config), "backup", str(tmp_path / "backups"))
    assert made.returncode == 0, made.stderr
    (copy,) = (tmp_path / "backups").glob("watcher-*.db")
    assert f"to {copy}" in made.stdout
    itself = watcher("--config", str(config), "backup", str(tmp_path / "state" / "w.db"))
    assert itself.returncode == 2 and "is the database itself" in itself.stderr
    nowhere = watcher("--config", str(config), "backup", str(tmp_path / "no" / "x.db"))
    assert nowhere.returncode == 2 and "no folder" in nowhere.stderr


def test_one_service_or_once_at_a_time_on_a_database(tmp_path: Path) -> None:
    """A second `run`, or a `once` (cron's next tick over a slow one), on the database of a
    running service is refused: each sent again the alerts the other was sending. The lock
    goes with its holder, even killed with SIGKILL."""
    config = config_file(tmp_path, "  []\n")
    state = tmp_path / "state" / "w.db"
    with service(config) as running:
        for command in (["once"], ["run", "--listen", "127.0.0.1:0"]):
            refused = watcher("--config", str(config), *command)
            assert refused.returncode == 75, refused  # EX_TEMPFAIL: not a failed feed's 1
            assert refused.stderr == (
                f"watcher: {state} is in use by another watcher run or once "
                f"(pid {running.proc.pid}): two at once would send alerts twice\n"
            )
        running.proc.kill()
        running.proc.wait()
        after = watcher("--config", str(config), "once")
    assert after.returncode == 0 and "polled 0 feeds" in after.stdout, after


def test_a_file_system_without_locks_runs_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """flock fails with ENOLCK on some network and FUSE file systems: the service runs
    unguarded, and says so, rather than not at all."""
    from watcher.cli import common

    def no_locks(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(common.fcntl, "flock", no_locks)
    ran = []
    with caplog.at_level(logging.WARNING), common.sole_writer(tmp_path / "w.db"):
        ran.append(True)
    (record,) = [r for r in caplog.records if "cannot lock" in r.getMessage()]
    assert ran and record.event_fields["error"] == "No locks available"  # type: ignore[attr-defined]


def test_a_lock_file_of_another_user_still_locks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lock file left by another user (a `docker exec` as root) cannot be opened for
    writing, which stopped every run and once; read-only, it locks as well. (This suite may
    run as root, whom no permission stops: the refusal is simulated.)"""
    from watcher.cli import common

    state = tmp_path / "w.db"
    state.with_name("w.db.lock").write_text("1\n")
    real_open = os.open

    def refuse_writing(path: Any, flags: int, mode: int = 0o777) -> int:
        if flags & os.O_RDWR:
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_open(path, flags, mode)

    monkeypatch.setattr(common.os, "open", refuse_writing)
    second = pytest.raises(ServiceError, match="in use by another watcher run or once")
    with common.sole_writer(state), second, common.sole_writer(state):
        pass
    with common.sole_writer(state):  # released with its holder
        pass


def test_a_path_the_file_system_refuses_is_one_line(tmp_path: Path) -> None:
    """A `state:` under a file (FileExistsError), and a name longer than the file system's
    255 bytes (Python 3.11's Path.is_dir raises on it), were tracebacks."""
    (tmp_path / "notes.txt").write_text("")
    config = tmp_path / "watcher.yaml"
    config.write_text("state: notes.txt/w.db\nfeeds: []\n")
    for command in ("status", "once"):
        result = watcher("--config", str(config), command)
        assert result.returncode == 1 and "Traceback" not in result.stderr, result
        assert f"{tmp_path / 'notes.txt'}" in result.stderr and "File exists" in result.stderr
    config.write_text("state: w.db\nfeeds: []\n")
    Store(tmp_path / "w.db").close()
    long = tmp_path / ("x" * 300)
    backup = watcher("--config", str(config), "backup", str(long))
    assert backup.returncode == 1 and "File name too long" in backup.stderr, backup
    rules = watcher("--config", str(config), "rules", "check", "--rules", str(long))
    assert rules.returncode == 2 and "no such folder" in rules.stdout, rules
    assert "Traceback" not in backup.stderr + rules.stderr


def _file_size_limit(limit: int) -> Callable[[], None]:
    """In the child: files cannot grow past `limit` bytes, as on a full disk (writes fail
    with EFBIG rather than killing the process with SIGXFSZ)."""

    def limited() -> None:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return limited


def test_a_backup_that_fails_for_room_leaves_nothing_behind(tmp_path: Path) -> None:
    """A full disk failed the backup and left its half-written `.partial` file."""
    config = tmp_path / "watcher.yaml"
    config.write_text("state: w.db\nfeeds: []\n")
    store = Store(tmp_path / "w.db")
    store.db.execute("CREATE TABLE ballast (x)")
    store.db.conn.executemany("INSERT INTO ballast VALUES (?)", [("x" * 1000,)] * 400)
    store.close()
    target = tmp_path / "backups" / "b.db"
    target.parent.mkdir()
    failed = subprocess.run(
        [sys.executable, "-m", "watcher", "--config", str(config), "backup", str(target)],
        capture_output=True, text=True, preexec_fn=_file_size_limit(64 * 1024),
    )  # fmt: skip
    assert failed.returncode == 1 and f"backing up to {target}" in failed.stderr, failed
    assert "Traceback" not in failed.stderr and list(target.parent.iterdir()) == []


def test_backup_replaces_an_older_backup_only(tmp_path: Path) -> None:
    """A backup took the place of whatever its path named: the config file given by
    mistake, a named pipe, a device (as root, `/dev/null` became a file)."""
    config = tmp_path / "watcher.yaml"
    config.write_text("state: w.db\nfeeds: []\n")
    Store(tmp_path / "w.db").close()
    older = tmp_path / "latest.db"
    for _ in range(2):  # a backup, then another in its place
        made = watcher("--config", str(config), "backup", str(older))
        assert made.returncode == 0 and older.read_bytes().startswith(b"SQLite format 3"), made
    os.mkfifo(tmp_path / "pipe")
    for target, problem in [
        (config, "exists and is no SQLite database"),
        (tmp_path / "pipe", "is no regular file"),
    ]:
        refused = watcher("--config", str(config), "backup", str(target))
        assert refused.returncode == 2, refused
        assert f"backup: {target} {problem}: not replaced" in refused.stderr
    assert config.read_text() == "state: w.db\nfeeds: []\n" and (tmp_path / "pipe").is_fifo()


def test_the_shutdown_log_names_each_job_as_the_readme_does() -> None:
    from functools import partial

    from watcher.models import FeedConfig
    from watcher.schedule import _job_name

    class Jobs:
        def poll(self, feed: FeedConfig) -> None: ...
        def deliver(self, channel: str) -> None: ...
        def prune(self) -> None: ...

    jobs, wire = Jobs(), FeedConfig(name="Wire", url="http://127.0.0.1/w.xml", interval=60)
    assert _job_name(jobs.poll, (wire,)) == "poll Wire"
    assert _job_name(partial(jobs.deliver, "email"), ()) == "deliver email"
    assert _job_name(jobs.prune, ()) == "prune"


def _story(n: int) -> Story:
    from datetime import UTC, datetime

    now = datetime(2026, 11, 24, tzinfo=UTC)
    return Story(
        id=f"s{n}", feed="Wire", guid=f"g{n}", source="Wire", title=f"T{n}", summary="x" * 200,
        link=f"https://wire.test/{n}", published=now, fetched_at=now,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("delay", "ending"),
    [(3, "poll feed=Slow"), (60, 'cancelled at shutdown job="poll Slow"')],
)
def test_sigterm_drains_a_poll_in_flight_and_stops_within_10_s(
    server: FeedServer, tmp_path: Path, delay: float, ending: str
) -> None:
    """A poll in flight at SIGTERM finishes when it can within the drain time (its stories
    are stored), or is cancelled after it; either way the process exits within 10 s. The
    log names the jobs it waits for: Wire's poll, or the delivery it started, may still be
    ending then."""
    server.feed("/slow.xml", fixture_bytes("asia.rdf.xml"), delay=delay)
    server.feed("/wire.xml", fixture_bytes("wire.rss.xml"))
    feeds = feed_lines(server, ("Slow", "/slow.xml"), ("Wire", "/wire.xml"))
    with service(config_file(tmp_path, feeds, timeout="60s")) as running:
        running.wait_for("poll feed=Wire")
        wait_until(lambda: server.seen("/slow.xml"))
        running.proc.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        assert running.proc.wait(timeout=12) == 0
        assert time.monotonic() - stopped < 10
        log = running.log()
        draining = re.search(r'draining jobs in flight count=(\d) jobs="([^"]+)"', log)
        assert draining and "poll Slow" in draining[2].split(", "), log
        assert int(draining[1]) == len(draining[2].split(", ")) and ending in log
        assert log.index("draining") < log.index(ending) < log.index("service stopped")
    document = json.loads(
        watcher("--config", str(tmp_path / "watcher.yaml"), "status", "--format", "json").stdout
    )
    assert document["stories"] == (3 if delay < 8 else 2)


def test_ctrl_c_stops_the_service_and_its_parse_workers_without_a_traceback(
    server: FeedServer, tmp_path: Path
) -> None:
    """Ctrl-C sends SIGINT to the terminal's whole process group, the parse workers too:
    the service stops them itself, so none of them prints a KeyboardInterrupt."""
    server.feed("/wire.xml", fixture_bytes("wire.rss.xml"))
    with service(
        config_file(tmp_path, feed_lines(server, ("Wire", "/wire.xml"))), group=True
    ) as running:
        running.wait_for("poll feed=Wire")
        os.killpg(running.proc.pid, signal.SIGINT)
        assert running.proc.wait(timeout=12) == 0
        log = running.log()
        assert "service stopped" in log
        assert "Traceback" not in log and "KeyboardInterrupt" not in log, log


def _as_in_a_terminal() -> None:
    """In the child: SIGINT as a terminal's command gets it. A test run started in the
    background (`make test &`) ignores SIGINT, and a child inherits that: Ctrl-C would not
    reach it, as it reaches no command started under nohup."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_interrupts_a_command_with_one_line_and_status_130(
    server: FeedServer, tmp_path: Path
) -> None:
    """`watcher once` stopped by Ctrl-C mid-poll: one line, the shell's 130, no traceback
    from it or its parse workers, and the database still answers."""
    server.feed("/slow.xml", fixture_bytes("wire.rss.xml"), delay=30)
    config = config_file(tmp_path, feed_lines(server, ("Slow", "/slow.xml")), timeout="60s")
    proc = subprocess.Popen(
        [sys.executable, "-m", "watcher", "--config", str(config), "once"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=_as_in_a_terminal,
    )  # fmt: skip
    wait_until(lambda: server.seen("/slow.xml"))
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert err.rstrip().endswith("watcher: interrupted") and "Traceback" not in err, err
    assert watcher("--config", str(config), "status").returncode == 0
