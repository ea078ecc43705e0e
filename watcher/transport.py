"""How requests leave: aiohttp's connection pool behind an httpx transport, with proxies.

In: httpx requests, and the proxies the environment names (`urllib.request.getproxies`).
Out: httpx responses. Raises: `ConfigError` for a proxy aiohttp cannot use (not http://);
httpx and aiohttp errors of a request, which `describe_error` puts in a few words, as
`describe_refusal` does an HTTP error status with what it asks of the operator.
"""

from __future__ import annotations

import base64
import ipaddress
import ssl
from collections.abc import Mapping
from urllib.parse import urlsplit

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from watcher.config.feeds import malformed
from watcher.errors import ConfigError, ConfigProblem
from watcher.normalise import SURROGATE

PROXY_SCHEMES = ("http", "https", "all")


def checked_proxies(proxies: dict[str, str]) -> dict[str, str]:
    """The proxies by scheme (and "no": hosts to reach directly), each an http:// URL (a bare
    host:port is taken as one); ConfigError names any other kind, which aiohttp cannot use."""
    checked, problems = {}, []
    for key, value in ((key, value.strip()) for key, value in proxies.items()):
        if key == "no" and value:
            checked[key] = value
        elif key in PROXY_SCHEMES and value:
            checked[key] = url = value if "://" in value else f"http://{value}"
            if not url.lower().startswith("http://"):
                why = "watcher can use http:// proxies only"
            elif broken := malformed(url):  # a..b raised UnicodeError out of each poll
                why = f"malformed URL: {broken}"
            else:
                continue
            message = f"{_without_password(url)}: {why}"
            field = f"{key.upper()}_PROXY"
            problems.append(
                ConfigProblem(path="environment", line=None, field=field, message=message)
            )
    if problems:
        raise ConfigError(problems)
    return checked


def bypasses(no_proxy: str, host: str, port: int) -> bool:
    """Whether NO_PROXY (comma-separated) lists the host: "*", the name or address, a domain
    it is in ("example.com" or ".example.com"), either with this port ("example.com:8080"),
    or a network holding the address ("10.0.0.0/8")."""
    host = host.lower().strip("[]")
    for entry in no_proxy.lower().replace(" ", "").split(","):
        name, _, entry_port = entry.partition(":") if entry.count(":") == 1 else (entry, "", "")
        name = name.strip("[]").lstrip(".")
        if entry == "*" or (
            name and (host == name or host.endswith("." + name) or _in_network(host, name))
            and (not entry_port or entry_port == str(port))
        ):  # fmt: skip
            return True
    return False


def _in_network(host: str, network: str) -> bool:
    if "/" not in network:
        return False
    try:
        return ipaddress.ip_address(host) in ipaddress.ip_network(network, strict=False)
    except ValueError:  # a name, or no network
        return False


def _without_password(url: str) -> str:
    password = urlsplit(url).password
    return url if password is None else url.replace(f":{password}@", ":***@", 1)


class Transport(httpx.AsyncBaseTransport):
    """aiohttp's connection pool for every request: straight to the host, or through the proxy
    `proxies` names for its scheme unless their "no" entry lists the host (see `bypasses`)."""

    def __init__(
        self, limits: httpx.Limits, proxies: dict[str, str], tls: ssl.SSLContext | None = None
    ) -> None:
        """`tls`: what certificates to trust (default: httpx's, certifi's or $SSL_CERT_FILE's),
        for every route: they share one connector."""
        self.direct = _AiohttpTransport(limits=limits, verify=tls or True)
        self.proxies = proxies
        self.routes: dict[tuple[str, str], AiohttpTransport] = {}  # (scheme, host[:port])
        self.via: dict[str, AiohttpTransport] = {}  # proxy URL -> a view of the same pool

    def route(self, url: httpx.URL) -> AiohttpTransport:
        key = (url.scheme, f"{url.host}:{url.port}" if url.port else url.host)
        route = self.routes.get(key)
        if route is None:
            proxy = self.proxies.get(url.scheme) or self.proxies.get("all")
            port = url.port or (443 if url.scheme == "https" else 80)
            if proxy is None or bypasses(self.proxies.get("no", ""), url.host, port):
                route = self.direct
            elif proxy in self.via:
                route = self.via[proxy]
            else:
                route = _AiohttpTransport(proxy=_proxy(proxy), client=self._session)
                self.via[proxy] = route
            self.routes[key] = route
        return route

    def _session(self) -> aiohttp.ClientSession:
        if not isinstance(self.direct.client, aiohttp.ClientSession):
            self.direct.client = self.direct.get_client()
        return self.direct.client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.route(request.url).handle_async_request(request)

    async def aclose(self) -> None:
        await self.direct.aclose()  # the session every route shares


def _proxy(url: str) -> httpx.Proxy:
    """Credentials in a proxy's URL go as a Proxy-Authorization header (aiohttp deprecates
    its BasicAuth, which httpx-aiohttp would make of them)."""
    parsed = httpx.URL(url)
    if not parsed.userinfo:
        return httpx.Proxy(parsed)
    basic = _basic(parsed)
    return httpx.Proxy(parsed.copy_with(userinfo=b""), headers={"Proxy-Authorization": basic})


def _basic(url: httpx.URL) -> str:
    """The Basic credentials of a URL's user and password, as a header value."""
    return "Basic " + base64.b64encode(f"{url.username}:{url.password}".encode()).decode()


class _Response(aiohttp.ClientResponse):
    """A response whose reason phrase is text: aiohttp reads a status line's bytes as UTF-8,
    a byte that is none as a lone surrogate, and httpx-aiohttp encodes the phrase again
    strictly, so a server's Latin-1 one (`200 Réussi`, as HTTP/1.1 once wrote them) raised
    UnicodeEncodeError out of every request to it. Such a phrase is read as Latin-1."""

    _reason: str | None = None

    @property  # type: ignore[override]
    def reason(self) -> str | None:
        return self._reason

    @reason.setter
    def reason(self, value: str | None) -> None:
        if value is not None and SURROGATE.search(value):
            value = value.encode("utf-8", "surrogateescape").decode("latin-1")
        self._reason = value


class _AiohttpTransport(AiohttpTransport):
    def get_client(self) -> aiohttp.ClientSession:
        """httpx-aiohttp's session, its responses `_Response`s."""
        if self.client is not None:
            return super().get_client()
        connector = aiohttp.TCPConnector(
            keepalive_timeout=self.limits.keepalive_expiry, ssl=self.ssl_context,
            limit=self.limits.max_connections or 0,  # aiohttp's 0, httpx's None: no limit
        )  # fmt: skip
        return aiohttp.ClientSession(connector=connector, response_class=_Response)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Credentials in a URL travel as a Basic Authorization header only (httpx's client
        has made it already; a poll sent straight here has not): aiohttp refuses a request
        with both. A proxy's credentials go with a plain http request to it."""
        url = request.url
        if url.userinfo:
            if "Authorization" not in request.headers and (url.username or url.password):
                request.headers["Authorization"] = _basic(url)
            request.url = url.copy_with(userinfo=b"")
        if self.proxy is not None and url.scheme == "http":  # https: they go with CONNECT
            request.headers.update(self.proxy.headers)  # what aiohttp sends plain http with
        return await super().handle_async_request(request)


def describe_error(exc: Exception) -> str:
    """A failed request in a few words, for `FetchError`: aiohttp's own error when the
    transport raised one."""
    cause = exc.__cause__ if isinstance(exc.__cause__, aiohttp.ClientError) else exc
    detail = _parser_said(cause) or _certificate_said(cause) or " ".join(str(cause).split())
    for kind, words in _KINDS:
        if isinstance(cause, kind):
            return f"{words}: {detail}" if detail else words
    return f"{type(cause).__name__}: {detail}"


DETAIL_MAX = 120  # characters of what aiohttp's parser quotes of a broken response


def _parser_said(cause: BaseException) -> str | None:
    """What aiohttp's parser found wrong with a response, in one line (`Bad status line:
    Expected HTTP/`): its message spans lines, the bytes it quotes and a caret under them,
    within the repr of a message or of a response it did not finish (`Not enough data to
    satisfy content length header`, `the server closed the connection within the
    response`), and the str of its error names the URL, which for a Slack webhook is a
    secret; a response's own error (a proxy's refusal) by its status and reason; None for
    another error."""
    message = getattr(cause, "message", None)
    if isinstance(cause, aiohttp.ServerDisconnectedError) and not isinstance(message, str):
        return "the server closed the connection within the response"  # its headers read
    inner = cause.__cause__ if isinstance(cause, aiohttp.ClientPayloadError) else None
    if isinstance(inner, aiohttp.http_exceptions.HttpProcessingError):
        message = inner.message
    elif not isinstance(cause, aiohttp.ClientResponseError):
        return None
    if not isinstance(message, str):
        return type(cause).__name__
    said = " ".join(message.split("\n\n")[0].split()).rstrip(":")
    if isinstance(cause, aiohttp.ClientResponseError) and cause.headers is not None:
        said = f"{cause.status} {said}"  # a response's, as a proxy's refusal: not the parser's
    return said if len(said) <= DETAIL_MAX else said[: DETAIL_MAX - 1] + "…"


# what to do about a certificate OpenSSL refused, by its verify code; {ca_file}: the setting
_NO_CHAIN = (
    "the server does not send the chain to a CA trusted here: add the intermediate "
    "certificate it leaves out, or its private CA, to {ca_file}"
)
_CERTIFICATE_HINTS = {
    2: _NO_CHAIN, 20: _NO_CHAIN, 21: _NO_CHAIN,
    9: "check this machine's clock",
    10: "only the site can renew it",
    18: "no CA signed it: to trust it, add it to {ca_file}",
    19: "its chain ends in a CA not trusted here: to trust that CA, add it to {ca_file}",
}  # fmt: skip


def certificate_refusal(error: BaseException, ca_file: str) -> str:
    """Why OpenSSL refused a server's certificate (`unable to get local issuer
    certificate`), and what to do about it where the operator can, in `ca_file` (the
    setting's name) or otherwise."""
    said = (getattr(error, "verify_message", None) or " ".join(str(error).split())).rstrip(".")
    hint = _CERTIFICATE_HINTS.get(getattr(error, "verify_code", None) or 0)
    return f"{said}: {hint.format(ca_file=ca_file)}" if hint else said


def _certificate_said(cause: BaseException) -> str | None:
    """`certificate_refusal` of a certificate aiohttp refused, whose own message names the
    host, the port and the exception's repr; None for another error."""
    if not isinstance(cause, aiohttp.ClientConnectorCertificateError):
        return None
    return certificate_refusal(cause.certificate_error, "poll.ca_file")


_KINDS: tuple[tuple[type[Exception], str], ...] = (
    (aiohttp.ConnectionTimeoutError, "connection timed out"),
    (aiohttp.SocketTimeoutError, "read timed out"),
    (aiohttp.ServerTimeoutError, "timed out"),
    (aiohttp.ClientProxyConnectionError, "cannot connect to the proxy"),
    (aiohttp.ClientHttpProxyError, "the proxy refused"),
    (aiohttp.ClientConnectorCertificateError, "TLS certificate refused"),  # see poll.ca_file
    (aiohttp.ClientConnectorError, "cannot connect"),
    (aiohttp.ServerDisconnectedError, "broken HTTP response"),
    (aiohttp.ClientPayloadError, "broken HTTP response"),
    (aiohttp.ClientResponseError, "broken HTTP response"),
    (httpx.ConnectTimeout, "connection timed out"),
    (httpx.ReadTimeout, "read timed out"),
    (httpx.WriteTimeout, "write timed out"),
    (httpx.PoolTimeout, "no free connection in time"),
    (httpx.ConnectError, "cannot connect"),
    (httpx.RemoteProtocolError, "broken HTTP response"),
)


def describe_refusal(status: int, reason: str, headers: Mapping[str, str]) -> str:
    """An HTTP error status in a few words (`HTTP 403 Forbidden`), and what it asks of the
    operator where the response tells: credentials (401), or a bot protection that refused
    the poll (403 or 503 from Cloudflare, DDoS-Guard, DataDome, Imperva, Sucuri or Akamai,
    known by their headers), which no feed reader passes. `headers`: lower-case names."""
    said = f"HTTP {status} {reason}".strip()
    if status == 401:
        scheme = (headers.get("www-authenticate") or "").strip().partition(" ")[0]
        asked = f" ({scheme})" if scheme.isalpha() else ""
        return (
            f"{said}: the feed asks for credentials{asked}: give them in its url "
            "(https://user:password@host/...) or its headers: (Authorization)"
        )
    if status in (403, 503) and (guard := _bot_guard(status, headers)):
        return (
            f"{said}: refused by the site's bot protection ({guard}), which no feed reader "
            "passes: ask the site to let feed readers through, or follow its stories "
            "another way (a search feed of the site)"
        )
    return said


def _bot_guard(status: int, headers: Mapping[str, str]) -> str | None:
    """The bot protection a refusal's headers name, if any."""
    server = (headers.get("server") or "").lower()
    if headers.get("cf-mitigated", "").lower() == "challenge":
        return "Cloudflare's challenge"
    for header, name in _GUARD_HEADERS:
        if header in headers:
            return name
    if status == 403:
        for word, name in _GUARD_SERVERS:
            if word in server:
                return name
    return None


# headers only a bot protection's refusals carry, and the Server of one whose 403 is its own
_GUARD_HEADERS = (
    ("x-datadome", "DataDome"), ("x-dd-b", "DataDome"), ("x-iinfo", "Imperva"),
    ("x-sucuri-id", "Sucuri"),
)  # fmt: skip
_GUARD_SERVERS = (
    ("cloudflare", "Cloudflare"), ("ddos-guard", "DDoS-Guard"), ("akamaighost", "Akamai"),
)  # fmt: skip
