"""The service's HTTP endpoint: a small HTTP/1.1 server on the service's event loop.

In: routes, each a function returning a `Response`. It runs in the event loop's thread, so
routes may read the same SQLite connection as the service. GET and HEAD only; one request
per connection; a client that is slow to send its request is dropped after a few seconds,
one that does not read its answer after `WRITE_TIMEOUT`, and a connection past
`MAX_CONNECTIONS` open at once is dropped at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus

log = logging.getLogger("watcher.endpoint")

REQUEST_TIMEOUT = 5.0
WRITE_TIMEOUT = 30.0  # a client that stops reading would hold its socket for ever
MAX_HEADER_LINES = 100
MAX_LINE = 8192
# connections served at once: a flood of idle ones holds no more sockets than this (each
# for REQUEST_TIMEOUT), where it could take every file descriptor the polls need
MAX_CONNECTIONS = 64


def url_of(host: str, port: int, path: str = "/") -> str:
    """The http URL of `path` on `host`:`port`, an IPv6 address in brackets."""
    return f"http://{f'[{host}]' if ':' in host else host}:{port}{path}"


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"


Route = Callable[[], Response]


class Endpoint:
    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = routes
        self.server: asyncio.Server | None = None
        self.open = 0  # connections being served
        self.dropped = 0  # connections dropped since the last one served

    async def start(self, host: str, port: int) -> tuple[str, int]:
        """Listen; returns the address bound (port 0 takes a free port). Raises OSError."""
        self.server = await asyncio.start_server(self._serve, host, port, limit=MAX_LINE)
        bound = self.server.sockets[0].getsockname()
        return bound[0], bound[1]

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.open >= MAX_CONNECTIONS:
            if not self.dropped:
                log.warning("endpoint busy: %d connections open, dropping more", self.open)
            self.dropped += 1
            writer.transport.abort()
            return
        self.open += 1
        try:
            await self._answer(reader, writer)
        finally:
            self.open -= 1

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            method, path = await asyncio.wait_for(_read_request(reader), REQUEST_TIMEOUT)
            self.dropped = 0
            response = self._respond(method, path)
            writer.write(_encode(response, head_only=method == "HEAD"))
            await asyncio.wait_for(writer.drain(), WRITE_TIMEOUT)
        except (
            TimeoutError, ValueError, ConnectionError,
            asyncio.IncompleteReadError, asyncio.LimitOverrunError,
        ):  # fmt: skip
            # a client that went away, spoke no HTTP or stopped reading: closing would wait
            # to send it what is left
            writer.transport.abort()
        finally:
            writer.close()

    def _respond(self, method: str, path: str) -> Response:
        if method not in ("GET", "HEAD"):
            return Response(405, b"only GET and HEAD\n")
        route = self.routes.get(path.split("?", 1)[0])
        if route is None:
            return Response(404, f"no such page; try {', '.join(self.routes)}\n".encode())
        try:
            return route()
        except Exception:  # a bug in a route: answer 500, keep serving
            log.exception("endpoint route failed path=%s", path)
            return Response(500, b"internal error\n")


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str]:
    request_line = (await reader.readuntil(b"\n")).decode("latin-1").split()
    if len(request_line) != 3:
        raise ValueError("not an HTTP request line")
    for _ in range(MAX_HEADER_LINES):
        if (await reader.readuntil(b"\n")).strip() == b"":
            return request_line[0], request_line[1]
    raise ValueError("too many header lines")


def _encode(response: Response, *, head_only: bool) -> bytes:
    reason = HTTPStatus(response.status).phrase
    head = (
        f"HTTP/1.1 {response.status} {reason}\r\n"
        f"Content-Type: {response.content_type}\r\n"
        f"Content-Length: {len(response.body)}\r\n"
        "Cache-Control: no-store\r\n"
        "Connection: close\r\n\r\n"
    ).encode("ascii")
    return head if head_only else head + response.body
