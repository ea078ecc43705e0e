"""rss2email 3.14, installed from PyPI into bench/.peers, mailing a local SMTP sink (aiosmtpd).

rss2email polls one feed after another with feedparser and sends one message per new entry
over its own SMTP connection; it keeps ETag and Last-Modified, so an unchanged feed is a 304.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

HERE = Path(__file__).resolve().parent
VENV = HERE / ".peers" / "rss2email"
R2E = VENV / "bin" / "r2e"
VERSION = "3.14"


def ensure_rss2email() -> Path:
    if not R2E.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(VENV / "bin" / "pip"), "install", "--quiet", f"rss2email=={VERSION}"],
            check=True,
        )
    return R2E


@dataclass
class Run:
    seconds: float
    cpu: float
    peak_mb: float


def measure(command: list[str], env: dict[str, str] | None = None) -> Run:
    """Wall time, CPU time and peak RSS of one command (and the children it waited for)."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{command[0]} exited with {proc.returncode}")
    return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


class _Sink:
    def __init__(self) -> None:
        self.messages = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages += 1
        return "250 OK"


@contextmanager
def smtp_sink() -> Iterator[tuple[int, _Sink]]:
    sink = _Sink()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, sink
    finally:
        controller.stop()


def configure(folder: Path, urls: list[str], smtp_port: int) -> tuple[Path, Path]:
    """An rss2email config and data file for these feeds, mailing the sink."""
    folder.mkdir(parents=True, exist_ok=True)
    config, data = folder / "r2e.cfg", folder / "r2e.json"
    for path in (config, data):
        path.unlink(missing_ok=True)
    subprocess.run([str(R2E), "-c", str(config), "-d", str(data), "new", "bench@example.test"],
                   check=True, capture_output=True)  # fmt: skip
    text = config.read_text()
    for key, value in {
        "email-protocol": "smtp", "smtp-server": "127.0.0.1", "smtp-port": str(smtp_port),
        "smtp-ssl": "False", "smtp-auth": "False",
    }.items():  # fmt: skip
        lines = [f"{key} = {value}" if line.startswith(f"{key} =") else line
                 for line in text.splitlines()]  # fmt: skip
        text = "\n".join(lines)
    text += "".join(f"\n\n[feed.f{i}]\nurl = {u}" for i, u in enumerate(urls)) + "\n"
    config.write_text(text)
    feeds = [
        {"name": f"f{i}", "etag": None, "modified": None, "seen": {}} for i in range(len(urls))
    ]
    data.write_text(json.dumps({"version": 2, "feeds": feeds}))
    return config, data


def run_cycle(config: Path, data: Path) -> Run:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    return measure([str(R2E), "-c", str(config), "-d", str(data), "run"], env=env)
