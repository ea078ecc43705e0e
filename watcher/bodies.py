"""A feed's body read within bounds: decompressed in bounded steps, a file read whole.

In: a response's Content-Encoding and its bytes as they come, or a file:// URL. Out: the
body's bytes. Raises: `FetchError` when a body passes `poll.max_bytes` (a huge body or a
gzip bomb takes no more memory than that), is corrupt, or cannot be read.
"""

from __future__ import annotations

import hashlib
import os
import stat
import zlib
from pathlib import Path
from urllib.parse import unquote, urlsplit

from watcher.errors import FetchError
from watcher.models import FetchKind, FetchResult

CHUNK = 64 * 1024
# parsed, it made a story of the entry it cut in two, and stored the feed as read
CUT_SHORT = "corrupt compressed body: it ends before its compressed data does (cut short)"


class BodyDecoder:
    """Decompresses gzip/deflate in bounded steps, failing once the output passes `limit`;
    codings applied one over another (`gzip, gzip`) are undone in turn, each so bounded.

    Tolerant as feedparser (the naive loop, rss2email) is, since servers get these wrong:
    "deflate" may be zlib-wrapped (RFC 9110) or raw (old IIS), told apart by the zlib
    header; a body labelled gzip without gzip's magic bytes is the plain feed (a server
    that decompressed it, or never compressed it)."""

    def __init__(self, encoding: str, limit: int, url: str) -> None:
        codings = [
            c for c in map(str.strip, encoding.lower().split(",")) if c not in ("", "identity")
        ]
        if unknown := [c for c in codings if c not in ("gzip", "x-gzip", "deflate")]:
            raise FetchError(f"unsupported Content-Encoding {unknown[0]!r}", url=url)
        # codings listed as applied (RFC 9110: `gzip, gzip` was compressed twice): the last
        # is undone here, the others by `inner`, which takes this one's output
        self.encoding = codings[-1] if codings else ""
        self.inner = BodyDecoder(", ".join(codings[:-1]), limit, url) if codings[1:] else None
        self._zlib: zlib._Decompress | None = None  # chosen by the body's first two bytes
        self._head = b""  # those bytes, while fewer than two have come
        self.limit = limit
        self.url = url
        self.parts: list[bytes] = []
        self.size = 0

    def feed(self, data: bytes) -> None:
        if self.encoding and self._zlib is None:
            self._head += data
            if len(self._head) < 2:
                return
            data, self._head = self._head, b""
            self._zlib = _decompressor(self.encoding, data[:2])
            self.encoding = self.encoding if self._zlib is not None else ""
        if self._zlib is None:
            self._add(data)
            return
        try:
            while data:
                out = self._zlib.decompress(data, CHUNK)
                self._add(out)
                data = self._zlib.unconsumed_tail
        except zlib.error as exc:
            raise FetchError(f"corrupt compressed body: {exc}", url=self.url) from exc

    def finish(self) -> bytes:
        if self._head:  # a body of one byte
            self._add(self._head)
        if self._zlib is not None:
            self._add(self._zlib.flush())
            if not self._zlib.eof:  # a connection cut within a body whose end is the close's
                raise FetchError(CUT_SHORT, url=self.url)
        return self.inner.finish() if self.inner is not None else b"".join(self.parts)

    def _add(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            raise too_big(self.url, self.limit, 200)
        if self.inner is not None:
            self.inner.feed(data)
        else:
            self.parts.append(data)


def _decompressor(encoding: str, head: bytes) -> zlib._Decompress | None:
    """The zlib decompressor for a body labelled `encoding` that begins with `head` (two
    bytes), or None when the body is not compressed after all."""
    if encoding == "deflate":
        zlib_header = head[0] & 0x0F == 8 and int.from_bytes(head, "big") % 31 == 0
        return zlib.decompressobj(zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)
    if head == b"\x1f\x8b":
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    return None


def read_file(url: str, limit: int, content_hash: str | None) -> FetchResult:
    """Read a file:// feed, with the same size cap and content hash as HTTP. Only a regular
    file: opening a named pipe would block the event loop, every feed's polls with it, until
    something writes to it."""
    path = Path(unquote(urlsplit(url).path))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):  # a folder too: each poll kept its fd
                raise FetchError(f"{path} is not a regular file", url=url)
            with open(fd, "rb", closefd=False) as handle:
                body = handle.read(limit + 1)
        finally:
            os.close(fd)
    except OSError as exc:
        raise FetchError(f"cannot read {path}: {exc.strerror or exc}", url=url) from exc
    if len(body) > limit:
        raise too_big(url, limit, None)
    digest = hashlib.sha256(body).hexdigest()
    kind: FetchKind = "unchanged" if digest == content_hash else "ok"
    return FetchResult(kind=kind, url=url, status=200, body=body, content_hash=digest)


def too_big(url: str, limit: int, status: int | None) -> FetchError:
    return FetchError(
        f"response larger than {limit:,} bytes; cut off (poll.max_bytes)", url=url, status=status
    )
