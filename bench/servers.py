"""The servers the poll benchmarks run against, all on loopback addresses (127.0.1.x).

- nginx from Debian (installed with apt-get when missing and possible), serving the feed
  folder with ETag and Last-Modified on one port, and with validators off on another (every
  poll is a 200 with the same body). Without nginx, a threaded Python server does both.
- A latency proxy: every chunk in either direction is delivered 50 ms after it arrived, so a
  request and its answer take 100 ms more, as if the feed were 100 ms away.

Feeds are spread over `HOSTS` loopback addresses so per-host limits apply as with real feeds.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HOSTS = [f"127.0.1.{n}" for n in range(1, 101)]
PORT, NO_VALIDATORS_PORT, PROXY_PORT = 18081, 18082, 18083


def host_of(feed: int) -> str:
    return HOSTS[feed % len(HOSTS)]


def url(feed: int, port: int = PORT) -> str:
    return f"http://{host_of(feed)}:{port}/feed{feed}.xml"


def ensure_nginx() -> str | None:
    """The nginx binary, installing Debian's nginx-light if we can; None when we cannot."""
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found:
        return found
    try:
        subprocess.run(["apt-get", "install", "-y", "-q", "nginx-light"], check=True,
                       capture_output=True, timeout=300)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return shutil.which("nginx") or "/usr/sbin/nginx"


NGINX_CONF = """
worker_processes 1;
daemon off;
pid {run}/nginx.pid;
error_log {run}/error.log warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    types {{ application/rss+xml xml; }}
    sendfile on;
    keepalive_timeout 60;
    keepalive_requests 100000;
    client_body_temp_path {run}/body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    server {{
{listen}
        root {root};
    }}
    server {{
{listen_plain}
        root {root};
        etag off;
        if_modified_since off;
        add_header Cache-Control no-cache;
    }}
}}
"""


@contextmanager
def feed_server(root: Path, run: Path) -> Iterator[str]:
    """Serve `root` on every host; yields which server it is ("nginx 1.22.1" or "python")."""
    nginx = ensure_nginx()
    if nginx is None:
        with python_server(root):
            yield "Python ThreadingHTTPServer (nginx could not be installed)"
        return
    run.mkdir(parents=True, exist_ok=True)
    conf = run / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            run=run, root=root,
            listen="\n".join(f"        listen {h}:{PORT};" for h in HOSTS),
            listen_plain="\n".join(f"        listen {h}:{NO_VALIDATORS_PORT};" for h in HOSTS),
        )
    )  # fmt: skip
    version = subprocess.run([nginx, "-v"], capture_output=True, text=True).stderr.strip()
    _ensure_free(HOSTS[0], PORT)
    proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(run)], stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(HOSTS[0], PORT)
        if proc.poll() is not None:
            raise RuntimeError(f"nginx exited ({proc.returncode}); see {run}/error.log")
        yield version.replace("nginx version: ", "")
    finally:
        proc.terminate()
        proc.wait(10)


def _ensure_free(host: str, port: int) -> None:
    """Refuse to measure against a server left running by an earlier run: it would serve
    other files."""
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return
    raise RuntimeError(f"{host}:{port} is taken already (a feed server left by an earlier run?)")


def _wait_for_port(host: str, port: int, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {host}:{port}")


class _QuickServer(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self) -> None:
        """HTTPServer's looks its address's name up (socket.getfqdn), which for 127.0.1.x
        waits on DNS: about 75 ms a server, 15 s for the 200 the bench opens."""
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]


@contextmanager
def python_server(root: Path) -> Iterator[None]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            path = root / self.path.lstrip("/").split("?")[0]
            if not path.is_file():
                self.send_error(404)
                return
            data = path.read_bytes()
            stat = path.stat()
            validators = self.server.server_address[1] == PORT
            etag = (
                '"'
                + hashlib.sha1(f"{stat.st_mtime_ns}-{stat.st_size}".encode()).hexdigest()[:16]
                + '"'
            )
            modified = formatdate(stat.st_mtime, usegmt=True)
            if validators and (
                self.headers.get("If-None-Match") == etag
                or self.headers.get("If-Modified-Since") == modified
            ):
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            if validators:
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", modified)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    servers = [_QuickServer((h, p), Handler) for h in HOSTS for p in (PORT, NO_VALIDATORS_PORT)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield
    finally:  # each shutdown waits up to half a second for its loop: all 200 at once
        stopping = [threading.Thread(target=server.shutdown) for server in servers]
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()
        for server in servers:
            server.server_close()


# -- the latency proxy ------------------------------------------------------------------------


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    """Copy reader to writer, each chunk delivered `delay` seconds after it arrived."""
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    async def deliver() -> None:
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                writer.close()
                return
            writer.write(data)
            await writer.drain()

    sender = asyncio.create_task(deliver())
    try:
        while data := await reader.read(65536):
            queue.put_nowait((loop.time() + delay, data))
    except ConnectionError:
        pass
    queue.put_nowait((loop.time() + delay, b""))
    with suppress(ConnectionError):
        await sender


async def _proxy(one_way: float) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host = writer.get_extra_info("sockname")[0]
        await asyncio.sleep(2 * one_way)  # the TCP handshake's round trip
        try:
            up_reader, up_writer = await asyncio.open_connection(host, PORT)
        except OSError:
            writer.close()
            return
        await asyncio.gather(
            _pipe(reader, up_writer, one_way), _pipe(up_reader, writer, one_way),
            return_exceptions=True,
        )  # fmt: skip

    servers = [await asyncio.start_server(handle, h, PROXY_PORT, backlog=1024) for h in HOSTS]
    print("ready", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


@contextmanager
def latency_proxy(one_way: float = 0.05) -> Iterator[None]:
    """A proxy on PROXY_PORT of every host, in its own process (its CPU is not ours)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.servers", str(one_way)],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent,
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    asyncio.run(_proxy(float(sys.argv[1])))
