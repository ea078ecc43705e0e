"""Fetch feed bodies politely.

In: a URL and what we remember of it (validators, content hash). Out: a `FetchResult`.
Raises: `FetchError` (with status and Retry-After where the server gave them), or
`FeedGoneError` for 410.

Every poll goes as an httpx.Request through one long-lived httpx transport over aiohttp's
connection pool and HTTP parser (httpx-aiohttp): about 40 % of the CPU per request of
httpx's own transport, which matters when thousands of feeds answer 304; the alert
channels use an httpx.AsyncClient over the same transport. Requests go through the HTTP
proxy the environment names for their scheme (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, in
either case), except to hosts NO_PROXY lists; read once, when the fetcher is made (the
transport and its proxies live in `transport`). A
global limit and a per-host limit bound concurrency. Redirects are followed here (at most
`max_redirects`) so that a chain made only of 301/308 can update the stored URL. Bodies are
streamed and decompressed by us in bounded steps (`bodies`), so neither a huge body nor a
gzip bomb can take more than `max_bytes` of memory.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from urllib.parse import urljoin, urlsplit
from urllib.request import getproxies

import aiohttp
import httpx

from watcher import __version__
from watcher.bodies import CHUNK, BodyDecoder, read_file, too_big
from watcher.config import PollSettings
from watcher.config.feeds import malformed
from watcher.errors import FeedGoneError, FetchError, ServiceError
from watcher.files import trust_ca
from watcher.freshness import http_date, response_fresh_for
from watcher.models import FetchResult
from watcher.normalise import ascii_digits
from watcher.server_waits import Hold, ServerWaits
from watcher.transport import Transport, checked_proxies, describe_error, describe_refusal
from watcher.urls import host_of, same_origin

DEFAULT_USER_AGENT = (
    f"watcher/{__version__} (self-hosted news monitor; +https://github.com/watcher-news/watcher)"
)
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
REDIRECTS = frozenset({301, 302, 303, 307, 308})
PERMANENT = frozenset({301, 308})
MAX_RETRY_AFTER = 86_400.0  # a longer Retry-After is read as a day
# a 304 to a poll that sent no validator: a broken cache, and a feed never read
UNASKED_304 = "HTTP 304 Not Modified to a poll that sent no ETag or Last-Modified to compare"


class Fetcher:
    """Fetches feeds over one shared transport, within global and per-host limits."""

    def __init__(
        self,
        settings: PollSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        proxies: dict[str, str] | None = None,
    ):
        """`proxies`: by scheme ("http", "https", "all") and "no", as `urllib.request.getproxies`
        reads them from the environment (the default)."""
        self.settings = settings
        timeout = httpx.Timeout(
            settings.read_timeout, connect=settings.connect_timeout, pool=settings.total_timeout
        )
        limits = httpx.Limits(
            max_connections=settings.concurrency,
            max_keepalive_connections=min(settings.concurrency, 20),
        )
        if transport is None:  # decompression stays ours: aiohttp's is switched off
            transport = Transport(
                limits,
                checked_proxies(getproxies() if proxies is None else proxies),
                _tls(settings),
            )
        self.headers = {
            "User-Agent": settings.user_agent or DEFAULT_USER_AGENT,
            "Accept": ACCEPT,
            "Accept-Encoding": "gzip, deflate",
        }
        # polls go straight to the transport: the client's request building, cookies and
        # redirect machinery cost a sixth of a 304's CPU and polls use none of them
        self.transport = transport
        self.timeouts = {"timeout": timeout.as_dict()}
        self.client = httpx.AsyncClient(  # for the alert channels, over the same pool
            trust_env=False,  # proxies are the transport's: httpx's own would open another pool
            timeout=timeout,
            limits=limits,
            follow_redirects=False,
            transport=transport,
            headers=self.headers,
        )
        self._global = asyncio.Semaphore(settings.concurrency)
        self._hosts: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(settings.per_host)
        )
        self.waits = ServerWaits(settings.max_backoff)  # servers that asked to wait

    async def aclose(self) -> None:
        await self.client.aclose()

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        content_hash: str | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> FetchResult:
        """Fetch `url` with validators; a body hashing to `content_hash` is 'unchanged'.
        `headers` (a feed's own, such as credentials) go with the request, and with the
        redirects that stay on `url`'s origin: a redirect elsewhere goes without them."""
        if url.startswith("file:"):
            return read_file(url, self.settings.max_bytes, content_hash)
        started = time.perf_counter()
        async with self._hosts[host_of(url)], self._global:
            self.waits.check(url)
            try:
                async with asyncio.timeout(self.settings.total_timeout):
                    result = await self._follow(url, etag, last_modified, content_hash, headers)
            except TimeoutError as exc:
                raise FetchError(
                    f"no complete response in {self.settings.total_timeout:g} s (total timeout)",
                    url=url,
                ) from exc
        return _with_elapsed(result, started)

    async def _follow(
        self,
        url: str,
        etag: str | None,
        last_modified: str | None,
        content_hash: str | None,
        own: tuple[tuple[str, str], ...],
    ) -> FetchResult:
        headers = dict(self.headers)
        if etag := _validator(etag):
            headers["If-None-Match"] = etag
        if last_modified := _validator(last_modified):
            headers["If-Modified-Since"] = last_modified
        permanent = True
        current = url
        for _ in range(self.settings.max_redirects + 1):
            if own and not same_origin(current, url):
                own = ()  # a feed's credentials never leave its origin
            sent = with_headers(headers, own) if own else headers
            try:
                request = httpx.Request("GET", current, headers=sent, extensions=self.timeouts)
                response = await self.transport.handle_async_request(request)
                try:
                    location = response.headers.get("location")
                    if response.status_code in REDIRECTS and location:
                        permanent = permanent and response.status_code in PERMANENT
                        current = _redirect_target(current, location)
                        continue
                    if response.status_code == 304 and not (etag or last_modified):
                        raise FetchError(UNASKED_304, url=current)
                    body = await self._read_body(response, current)
                finally:
                    await response.aclose()
            except (httpx.HTTPError, aiohttp.ClientError) as exc:
                raise FetchError(describe_error(exc), url=current) from exc
            moved = current if permanent and current != url else None
            return _result(response, current, moved, body, content_hash)
        raise FetchError(f"too many redirects (more than {self.settings.max_redirects})", url=url)

    def held_servers(self) -> list[dict[str, str]]:
        """The servers held now (`ServerWaits.held`): when each wait ends (UTC) and why."""
        return self.waits.held()

    def resume_holds(self, holds: Iterable[Hold]) -> list[str]:
        """Hold again the servers an earlier process held (`ServerWaits.resume`)."""
        return self.waits.resume(holds)

    async def _read_body(self, response: httpx.Response, url: str) -> bytes:
        status = response.status_code
        if status == 304:
            return b""
        if status == 410:
            raise FeedGoneError(
                "410 Gone: the feed was removed; it will not be polled again", url=url, status=410
            )
        if status >= 400:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            self.waits.hold(url, status, response.reason_phrase, retry_after)
            raise FetchError(
                describe_refusal(status, response.reason_phrase, response.headers),
                url=url,
                status=status,
                retry_after=retry_after,
            )
        if status != 200:
            raise FetchError(
                f"unexpected HTTP {status} {response.reason_phrase}".strip(), url=url, status=status
            )
        declared = response.headers.get("content-length", "")
        limit = self.settings.max_bytes
        if ascii_digits(declared) and int(declared) > limit:
            raise too_big(url, limit, status)
        decoder = BodyDecoder(response.headers.get("content-encoding", ""), limit, url)
        async for chunk in response.aiter_raw(CHUNK):
            decoder.feed(chunk)
        return decoder.finish()


def _tls(settings: PollSettings) -> ssl.SSLContext | None:
    """httpx's certificates, and `poll.ca_file`'s too when given (ServiceError if it went
    missing or bad after the config's check)."""
    if settings.ca_file is None:
        return None
    context = httpx.create_ssl_context()
    try:
        trust_ca(context, settings.ca_file)
    except (OSError, ssl.SSLError, ValueError) as exc:
        raise ServiceError(f"poll.ca_file {settings.ca_file}: {exc}") from exc
    return context


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), at most
    `MAX_RETRY_AFTER`: a server's wait of centuries would overflow a date."""
    if not value:
        return None
    value = value.strip()
    if ascii_digits(value):
        return min(float(value), MAX_RETRY_AFTER)
    if (when := http_date(value)) is None:
        return None
    return min(max(0.0, when - time.time()), MAX_RETRY_AFTER)


def _result(
    response: httpx.Response, url: str, moved: str | None, body: bytes, content_hash: str | None
) -> FetchResult:
    etag = _validator(response.headers.get("etag"))
    last_modified = _validator(response.headers.get("last-modified"))
    fresh_for = response_fresh_for(response.headers, time.time())
    if response.status_code == 304:
        return FetchResult(
            kind="not_modified", url=url, status=304, permanent_url=moved,
            etag=etag, last_modified=last_modified, content_hash=content_hash,
            fresh_for=fresh_for,
        )  # fmt: skip
    digest = hashlib.sha256(body).hexdigest()
    return FetchResult(
        kind="unchanged" if digest == content_hash else "ok",
        url=url,
        status=response.status_code,
        permanent_url=moved,
        body=body,
        content_type=response.headers.get("content-type"),
        etag=etag,
        last_modified=last_modified,
        content_hash=digest,
        fresh_for=fresh_for,
    )


def _validator(value: str | None) -> str | None:
    """An ETag or Last-Modified fit to send back: printable ASCII. A server's other bytes
    (a Latin-1 ETag) could not be sent: the next poll failed before its request, for ever."""
    return value if value and value.isascii() and value.isprintable() else None


def _with_elapsed(result: FetchResult, started: float) -> FetchResult:
    return replace(result, elapsed_ms=(time.perf_counter() - started) * 1000)


def with_headers(headers: dict[str, str], own: tuple[tuple[str, str], ...]) -> httpx.Headers:
    """`headers` with a feed's `own` in place of any of the same name, in any case."""
    merged = httpx.Headers(headers)
    merged.update(dict(own))
    return merged


def _redirect_target(current: str, location: str) -> str:
    try:
        target = urljoin(current, location)
    except ValueError as exc:
        raise FetchError(
            f"redirect to a malformed URL {location!r} refused: {exc}", url=current
        ) from exc
    if why := malformed(target):
        raise FetchError(f"redirect to a malformed URL {location!r} refused: {why}", url=current)
    if urlsplit(target).scheme not in ("http", "https"):
        raise FetchError(f"redirect to a non-HTTP URL {target!r} refused", url=current)
    return target
