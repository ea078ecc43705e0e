from __future__ import annotations

import contextlib
import email
import email.policy
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.message import Message as EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aiosmtpd.controller import Controller

from tests.feedserver import FeedServer

if TYPE_CHECKING:
    from tests.test_polling import Harness

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
# Retry-After values a server may send that are no wait a client can keep: digits HTTP does
# not know, a wait of centuries, a year or an offset int() reads and datetime refuses
HOSTILE_RETRY_AFTER = [
    "²", "9" * 30, "Fri, 31 Dec 9999 23:59:59 GMT",
    "Mon, 1 Jan 10000000000000000000000 00:00:00 GMT",
    "Wed, 21 Oct 2015 07:28:00 -9999999999999999999999",
]  # fmt: skip


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests reach 127.0.0.1 only: a proxy the environment running them names is not used
    (tests of proxies set their own)."""
    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    srv = FeedServer().start()
    yield srv
    srv.stop()


@pytest.fixture
def corpus() -> Path:
    if not (CORPUS / "stories.jsonl").exists():
        pytest.skip(
            f"the shared corpus is absent ({CORPUS}); tests/fixtures cover the same behaviours"
        )
    return CORPUS


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 24, 12, 0, tzinfo=UTC))


@pytest.fixture
def harness(tmp_path: Path, clock: FakeClock) -> Harness:
    """A pipeline over a real store file in `tmp_path`, polled by hand (`test_polling`)."""
    from tests.test_polling import Harness  # it imports this module

    return Harness(tmp_path / "watcher.db", clock)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Inbox:
    """aiosmtpd's handler: keeps each message, and the client's address it came from (one
    for each connection)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.peers: list[object] = []
        self.envelopes: list[list[str]] = []  # each message's recipients, as RCPT named them

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        self.peers.append(session.peer)
        self.envelopes.append(list(envelope.rcpt_tos))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, inbox
    controller.stop()


def wait_until(
    condition: Callable[[], object],
    seconds: float = 30,
    proc: subprocess.Popen[Any] | None = None,
) -> None:
    """Poll `condition` until it holds; fail after `seconds`, or at once when `proc` (the
    service under test) has exited."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert proc is None or proc.poll() is None, "the service exited"
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


@contextmanager
def answering_once(answer: bytes, then: float = 0.0) -> Iterator[int]:
    """A server on 127.0.0.1 that reads one request, answers it with `answer` as written (a
    response no HTTP server would send: broken, cut short), waits `then` seconds and hangs
    up; its port, for the block."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with contextlib.suppress(OSError):
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(answer)
                time.sleep(then)
                conn.shutdown(socket.SHUT_RDWR)

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


def write_locked(db: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process holding the database's write lock (BEGIN IMMEDIATE) for `seconds`,
    from when this returns; `wait()` on it to have the lock back."""
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
         "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); time.sleep(float(sys.argv[2]))",
         str(db), str(seconds)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    holder.stdout.close()
    return holder
