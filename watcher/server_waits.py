"""Servers that asked the fetcher to wait: a 429, or a 503 with Retry-After, holds every feed
of that server until the wait is over, as polling its other feeds meanwhile would prolong a
rate limit.

In: a poll's URL and the server's answer; an earlier process's holds (`holds`). Out: whether
a URL's server is held (`ServerHeldError` with the wait left), and the holds in force for
the database. Keeps time on the monotonic clock; shows it in UTC.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import NamedTuple
from urllib.parse import urlsplit

from watcher.errors import ServerHeldError
from watcher.urls import host_of

# a 429 without Retry-After holds its server's other feeds this long (see `ServerWaits.hold`)
SERVER_WAIT = 60.0
HOLDING = frozenset({429, 503})  # statuses that may hold a server (`ServerWaits.hold`)


class Hold(NamedTuple):
    """A server held: its feeds wait until `until` (UTC), because it answered `why`."""

    server: str
    until: datetime
    why: str


class ServerWaits:
    """The servers held now, each with the end of its wait (monotonic) and why."""

    def __init__(self, max_wait: float) -> None:
        self.max_wait = max_wait  # `poll.max_backoff`: no server is waited for longer
        self._held: dict[str, tuple[float, str]] = {}  # server -> (monotonic end, why)

    def hold(self, url: str, status: int, reason: str, retry_after: float | None) -> None:
        """A server that asked to wait (429, or 503 with Retry-After) is asked nothing more
        until then, by any feed. The wait is its Retry-After, else `SERVER_WAIT`, at most
        `max_wait`."""
        if status not in HOLDING or (status == 503 and retry_after is None):
            return
        wait = min(SERVER_WAIT if retry_after is None else retry_after, self.max_wait)
        server, until = server_of(url), time.monotonic() + wait
        if until > self._held.get(server, (0.0, ""))[0]:
            self._held[server] = (until, f"HTTP {status} {reason}".strip())

    def held(self) -> list[dict[str, str]]:
        """The servers held now: each with when its wait ends (UTC) and why."""
        now, wall = time.monotonic(), time.time()
        return [
            {"server": server, "until": _utc(wall + until - now), "why": why}
            for server, (until, why) in sorted(self._held.items())
            if until > now
        ]

    def resume(self, holds: Iterable[Hold]) -> list[str]:
        """Hold again the servers an earlier process held, for the wait they have left (at
        most `max_wait`, should the clock have gone back); returns the servers held."""
        now = datetime.now(UTC)  # the clock `held` reads
        resumed = []
        for server, until, why in holds:
            left = (until - now).total_seconds()
            end = time.monotonic() + min(left, self.max_wait)
            if left > 0 and end > self._held.get(server, (0.0, ""))[0]:
                self._held[server] = (end, why)
                resumed.append(server)
        return resumed

    def check(self, url: str) -> None:
        """Raise `ServerHeldError` for a URL of a server held, with the wait left."""
        server = server_of(url)
        until, why = self._held.get(server, (0.0, ""))
        left = until - time.monotonic()
        if left <= 0:
            self._held.pop(server, None)
            return
        raise ServerHeldError(
            f"not polled: {server} answered {why} to a poll and asked to wait; its feeds "
            f"wait {left:.0f} s more",
            url=url,
            retry_after=left,
        )


def _utc(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")


def server_of(url: str) -> str:
    """The server a URL reaches: its host (punycode read, `host_of`) and port
    (`news.google.com:443`)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # a port out of range: the request itself fails, with its own message
        port = None
    return f"{host_of(url)}:{port or (443 if parts.scheme == 'https' else 80)}"
