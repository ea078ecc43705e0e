"""A real HTTP server on 127.0.0.1 for tests: feeds, validators and misbehaviour on demand."""

from __future__ import annotations

import hashlib
import ssl
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

Handler = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Seen:
    path: str
    headers: httpx.Headers  # names are case-insensitive, as in HTTP


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up between requests (a drill's, on purpose) is no error."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@dataclass
class FeedServer:
    """Serves routes added by tests; records every request and the peak concurrency."""

    routes: dict[str, Handler] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)
    posts: list[tuple[str, bytes]] = field(default_factory=list)
    post_keys: list[tuple[str, str | None]] = field(default_factory=list)  # Idempotency-Key
    post_headers: list[httpx.Headers] = field(default_factory=list)  # each POST's, in turn
    in_flight: int = 0
    peak: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None
    tls: ssl.SSLContext | None = None  # serve https with this server context

    @property
    def base(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"{'https' if self.tls else 'http'}://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def start(self) -> FeedServer:
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                with outer.lock:
                    outer.requests.append(
                        Seen(self.path, httpx.Headers(list(self.headers.items())))
                    )
                    outer.in_flight += 1
                    outer.peak = max(outer.peak, outer.in_flight)
                try:
                    route = outer.routes.get(self.path.split("?")[0])
                    if route is None:
                        send(self, 404, b"not found", "text/plain")
                    else:
                        route(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with outer.lock:
                        outer.in_flight -= 1

            def do_CONNECT(self) -> None:  # as a proxy: records the tunnel asked for, refuses it
                with outer.lock:
                    outer.requests.append(
                        Seen(f"CONNECT {self.path}", httpx.Headers(list(self.headers.items())))
                    )
                send(self, 403, b"no tunnels here", "text/plain")

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                route = outer.routes.get(self.path.split("?")[0])
                with outer.lock:
                    outer.posts.append((self.path, body))
                    outer.post_keys.append((self.path, self.headers.get("Idempotency-Key")))
                    outer.post_headers.append(httpx.Headers(list(self.headers.items())))
                if route is None:
                    send(self, 404, b"no_service", "text/plain")
                else:
                    route(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = _QuietServer(("127.0.0.1", 0), _Handler)
        if self.tls is not None:
            self.server.socket = self.tls.wrap_socket(self.server.socket, server_side=True)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def seen(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path.split("?")[0] == path]

    # -- route builders ------------------------------------------------------------------

    def feed(
        self,
        path: str,
        body: bytes | Callable[[], bytes],
        *,
        validators: bool = True,
        content_type: str = "application/rss+xml; charset=utf-8",
        delay: float = 0.0,
        extra: dict[str, str] | None = None,
    ) -> None:
        """Serve a feed, answering 304 to matching If-None-Match / If-Modified-Since; `extra`
        headers go with both answers."""
        modified = formatdate(time.time() - 3600, usegmt=True)

        def route(handler: BaseHTTPRequestHandler) -> None:
            data = body() if callable(body) else body
            if delay:
                time.sleep(delay)
            headers = dict(extra or {})
            if validators:
                etag = '"' + hashlib.sha1(data).hexdigest() + '"'
                headers |= {"ETag": etag, "Last-Modified": modified}
                if handler.headers.get("If-None-Match") == etag or (
                    handler.headers.get("If-Modified-Since") == modified
                    and not handler.headers.get("If-None-Match")
                ):
                    send(handler, 304, b"", None, headers)
                    return
            send(handler, 200, data, content_type, headers)

        self.routes[path] = route

    def status(self, path: str, code: int, headers: dict[str, str] | None = None) -> None:
        self.routes[path] = lambda h: send(h, code, b"error", "text/plain", headers or {})

    def redirect(self, path: str, target: str, code: int = 301) -> None:
        self.routes[path] = lambda h: send(h, code, b"", None, {"Location": target})


def send(
    handler: BaseHTTPRequestHandler,
    code: int,
    body: bytes,
    content_type: str | None,
    headers: dict[str, str] | None = None,
) -> None:
    handler.send_response(code)
    if content_type:
        handler.send_header("Content-Type", content_type)
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if body:
        handler.wfile.write(body)


def fixture_bytes(name: str) -> bytes:
    return (Path(__file__).parent / "fixtures" / name).read_bytes()


def rss(items: list[str], encoding: str = "utf-8", declared: str | None = None) -> bytes:
    """An RSS 2.0 feed of `items` (XML), in `encoding`, declaring `declared` or `encoding`."""
    head = f'<?xml version="1.0" encoding="{declared or encoding}"?>\n'
    body = '<rss version="2.0"><channel><title>Drill</title><link>https://drill.test/</link>'
    return (head + body + "".join(items) + "</channel></rss>").encode(encoding, "replace")
