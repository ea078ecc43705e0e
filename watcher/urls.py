"""Story links as one reads them, whoever wrote them.

In: URLs as feeds and servers write them. Out: canonical URLs (no tracking parameters,
session ids, fragment or default port), a redirector's target, absolute URLs, whether two
share an origin. Pure functions; no I/O.
"""

from __future__ import annotations

import contextlib
import re
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

# Query parameters that only track the reader; everything else in a query is kept.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gclsrc", "msclkid", "yclid", "igshid", "twclid",
        "mc_cid", "mc_eid", "_hsenc", "_hsmi", "mkt_tok", "oly_enc_id", "oly_anon_id",
        "vero_id", "wickedid", "rb_clickid", "s_cid", "ncid", "cmpid", "ocid",
        # Google Analytics' linker, Yahoo's consent redirect, Twitter's and the New York Times'
        # share tags, Adobe's, Webtrends', comScore's and Marketo's campaign ids
        "_ga", "_gl", "guccounter", "guce_referrer", "guce_referrer_sig", "__twitter_impression",
        "ref_src", "ref_url", "smid", "smtyp", "s_kwcid", "ef_id", "wt.mc_id", "wt.mc_ev",
        "ns_mchannel", "ns_source", "ns_campaign", "ns_linkname", "ns_fee", "mbid",
        # AT Internet's (Piano's), as the BBC's and French outlets' feeds tag their links
        "xtor", "at_medium", "at_campaign", "at_bbc_team", "at_link_id", "at_link_origin",
        "at_link_type", "at_format", "at_ptr_name", "at_ptr_type",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_")
# Session ids a server puts in the links it gives a client without cookies (as a feed
# fetcher is): another on every poll, so without them every poll would make new stories.
SESSION_PARAMS = frozenset({"jsessionid", "phpsessid", "cfid", "cftoken"})
_SESSION_IN_PATH = re.compile(r";jsessionid=[^/?#;]*", re.IGNORECASE)  # Java's path form
_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, no fragment, default port, tracking parameters or
    session ids."""
    url = url.strip()
    plain = _PLAIN_URL.fullmatch(url)
    if plain is None:
        return _split_canonical(url)
    scheme, host, path, query = plain.groups()
    path = _without_session(path) if path and ";" in path else path
    query = _kept_query(query or "")
    return f"{scheme}://{host}{path or '/'}{'?' if query else ''}{query}"


def comparable_url(url: str) -> str:
    """The URL as links are compared (`dedupe.fingerprint`): its escapes read as an IRI
    reads them, so `/%D0%B3%D0%B0` is `/га`, as a redirector's target (read from its query)
    writes it, `%7e` is `~`, any other escape in capitals, and a blank `%20`; and its host's
    punycode as the letters it encodes, so `xn--e1afmkfd.xn--p1ai` is `пример.рф`."""
    url = url.replace(" ", "%20")
    if "%" in url:
        url = _ESCAPES.sub(_read_escapes, url)
    return _unicode_host(url) if "xn--" in url else url


def _unicode_host(url: str) -> str:
    """The URL with the punycode labels of its host (`xn--`, ASCII-compatible) read as
    Unicode (`_host_letters`)."""
    scheme, sep, rest = url.partition("://")
    end = min((i for i in map(rest.find, "/?#") if i >= 0), default=len(rest))
    host, colon, port = rest[:end].partition(":")
    if not sep or "@" in host or "[" in host:
        return url
    return f"{scheme}://{_host_letters(host)}{colon}{port}{rest[end:]}"


def host_of(url: str) -> str:
    """A URL's host in lower case, its punycode labels read as letters: one host however
    a feed's URL writes it."""
    return _host_letters(urlsplit(url).hostname or "")


def _host_letters(host: str) -> str:
    """A host name with its punycode labels read as the letters they encode; as it is where
    a label is no valid punycode."""
    if "xn--" not in host:
        return host
    try:
        labels = [
            label[4:].encode("ascii").decode("punycode") if label.startswith("xn--") else label
            for label in host.split(".")
        ]
    except (UnicodeError, ValueError):
        return host
    return ".".join(labels) if all(labels) else host  # `xn--` alone encodes nothing


_ESCAPES = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _read_escapes(found: re.Match[str]) -> str:
    """A run of escapes: the characters of UTF-8 sequences beyond ASCII and unreserved ones
    read, any other byte escaped in capitals."""
    text = bytes.fromhex(found.group().replace("%", "")).decode("utf-8", "surrogateescape")
    return "".join(
        f"%{ord(c) - 0xDC00:02X}" if "\udc80" <= c <= "\udcff"
        else f"%{ord(c):02X}" if c < "\x80" and c not in _UNRESERVED
        else c
        for c in text
    )  # fmt: skip


def same_origin(a: str, b: str) -> bool:
    """Whether two URLs have one scheme, host and port (not when either is malformed), a
    host written out or in punycode alike."""
    try:
        return _origin(a) == _origin(b)
    except ValueError:  # a port that is no number, as a hostile redirect may give
        return False


def _origin(url: str) -> tuple[str, str | None, int | None]:
    """Scheme, host (its punycode read: the host a redirect names in punycode is the
    configured one written out) and port."""
    parts = urlsplit(url)
    host = parts.hostname and _host_letters(parts.hostname)
    return parts.scheme, host, parts.port or _DEFAULT_PORTS.get(parts.scheme)


# Links that only redirect to the story: Google Alerts' (google.com/url?url=...), the old
# Google News feeds' (news.google.com/news/url?url=...) and Bing News' (bing.com/news/
# apiclick.aspx?url=...). Their other parameters differ per alert and per reader.
_REDIRECT = re.compile(
    r"https?://(?:(?:www|news)\.)?google\.[a-z]{2,3}(?:\.[a-z]{2})?/(?:news/)?url\?"
    r"|https?://(?:www\.)?bing\.com/news/apiclick\.aspx\?",
    re.IGNORECASE,
)


def unwrapped_url(url: str) -> str:
    """The page a redirector's link leads to (its `url`, else its `q` parameter, when that
    is an http(s) URL; a `+` in it is a `+`, as in the page's own link, not a blank as in a
    form); any other URL as it is."""
    if not _REDIRECT.match(url):
        return url
    params: dict[str, str] = {}
    for param in url.partition("?")[2].partition("#")[0].split("&"):
        name, _, value = param.partition("=")
        params.setdefault(unquote(name), unquote(value))
    for key in ("url", "q"):
        target = params.get(key, "").strip()
        if _SCHEME_HTTP.match(target):
            return target
    return url


_SCHEME_HTTP = re.compile(r"https?://[^/?#\s]", re.IGNORECASE)


def moved_key(url: str | None) -> str | None:
    """An http(s) URL as it reads whatever its scheme and a leading "www." (as sites move
    to https, or add or drop www); None for anything else."""
    found = _MOVED.fullmatch(url) if url else None
    return found[1] if found else None


_MOVED = re.compile(r"https?://(?:www\.)?(\S+)", re.IGNORECASE)

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def is_relative_url(url: str) -> bool:
    """A reference without a scheme ("/news/1", "posts/9", "//host/x"): only a base makes it
    a link."""
    return bool(url) and _SCHEME.match(url) is None


def absolute_url(url: str, *bases: str | None) -> str:
    """`url` resolved against the first base that makes it absolute; as it is when none
    does (or when it is absolute already). A malformed base (a broken IPv6 host) makes
    nothing."""
    for base in bases:
        if not is_relative_url(url):
            break
        if base and not is_relative_url(base):
            with contextlib.suppress(ValueError):
                url = urljoin(base, url)
    return url


# What most feed links look like, taken apart without urlsplit (4x faster): a lower-case
# http(s) scheme and host, no port, user or brackets, nothing urlsplit strips or that would
# make the path or query other than what follows. `_split_canonical` takes any other URL.
_PLAIN_URL = re.compile(
    r"(https?)://([a-z0-9.-]+)(/[^?#\s\x00-\x1f]*)?(?:\?([^#\s\x00-\x1f]*))?(?:#.*)?", re.DOTALL
)


def _split_canonical(url: str) -> str:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # an IPv6 literal, which `hostname` gives without its brackets
        host = f"[{host}]"
    if port is not None and _DEFAULT_PORTS.get(scheme) != port:
        host = f"{host}:{port}"
    if parts.username:
        host = f"{parts.username}@{host}"
    query = _kept_query(parts.query)
    path = _without_session(parts.path)
    return urlunsplit((scheme, host, path or ("/" if host else ""), query, ""))


def _without_session(path: str) -> str:
    return _SESSION_IN_PATH.sub("", path)


def _kept_query(query: str) -> str:
    return "&".join(p for p in query.split("&") if p and not _is_tracking(p))


def _is_tracking(param: str) -> bool:
    key = param.split("=", 1)[0].lower()
    return key in TRACKING_PARAMS or key in SESSION_PARAMS or key.startswith(TRACKING_PREFIXES)
