"""The feeds section of a config file, and the ages of stories that alert.

In: the YAML nodes of `feeds:` and of the top level's `backfill:`, `max_age:` and
`silent_after:`. Out: `FeedConfig`s, or problems noted on the reader.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import httpx
import yaml

from watcher.config.reader import Reader, is_null
from watcher.config.settings import PollSettings
from watcher.models import DateOrder, FeedConfig
from watcher.rules.nodes import kind_of
from watcher.urls import canonical_url, comparable_url

MIN_INTERVAL = 60.0
MIN_MAX_AGE = 3600.0  # a shorter max_age would silence stories a slow poll found late
MIN_SILENT_AFTER = 3600.0
SILENT_AFTER = 7 * 24 * 3600.0
FEED_KEYS = {
    "name", "url", "interval", "tags", "source", "backfill", "max_age", "silent_after",
    "headers", "full_text", "paused", "timezone", "date_order", "max_ttl",
}  # fmt: skip
DATE_ORDERS: dict[str, DateOrder] = {"day-first": "day", "month-first": "month"}
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110's token
# what watcher sets for every poll: conditional GET, and the decoding it does itself
OWN_HEADERS = {
    "host", "content-length", "transfer-encoding", "connection", "if-none-match",
    "if-modified-since", "accept-encoding",
}  # fmt: skip

# a URL without its scheme: a host name with a dot (and a path, or none) first
_HOST_FIRST = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)+(:\d+)?(/\S*)?$", re.IGNORECASE)


def header_problem(name: str, value: str) -> str | None:
    """What is wrong with a feed's own header, if anything."""
    if not HEADER_NAME.fullmatch(name):
        return "is not an HTTP header name"
    if name.lower() in OWN_HEADERS:
        return "is set by watcher for every poll"
    if any(c in value for c in "\r\n\0"):
        return "must be one line"
    if not value.isascii():  # httpx sends header values as ASCII: the poll would raise
        return "must be ASCII text (percent-encode or base64 what is not)"
    return None


def malformed(url: str) -> str | None:
    """Why an http(s) `url` cannot be fetched as written, if it cannot: no host, white space
    in its host, a port that is no number or not 1 to 65535, a broken host."""
    try:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return None
        port = parts.port  # urllib checks the range, which httpx does not
        parsed = httpx.URL(url)
        host = parsed.raw_host
        _ = parsed.host  # read as a request reads it: `xn--` with no punycode raises IDNAError
    except (ValueError, httpx.InvalidURL) as exc:
        return str(exc)
    if not parts.hostname:
        return "it names no host"
    if any(c.isspace() or not c.isprintable() for c in parts.hostname):
        return "white space or a control character in its host"
    if (problem := host_name_problem(host.decode("ascii"))) is not None:
        return f"in its host name, {problem}"
    return "port 0 is no port a server listens on" if port == 0 else None


def subscribe_link_target(url: str) -> str | None:
    """The feed's http(s) URL that a browser's subscribe link names (`feed://host/x` is
    `http://host/x`, `feed:https://host/x` is `https://host/x`), else None."""
    if url[:5].lower() != "feed:":
        return None
    inner = url[5:]
    if inner[:5].lower() == "http:" or inner[:6].lower() == "https:":
        return inner
    return f"http://{inner.removeprefix('//')}"


def absolute_file_url(url: str, base: Path) -> str:
    """A file: URL with its path made absolute from `base` (`file:feeds/a.xml`)."""
    parts = urlsplit(url)
    local = Path(parts.netloc + parts.path) if parts.netloc else Path(parts.path)
    return (local if local.is_absolute() else base / local).resolve().as_uri()


def feed_at(url: str, feeds: Iterable[FeedConfig]) -> FeedConfig | None:
    """The configured feed polled at `url` (both made canonical, a file: path absolute
    from the working folder), if there is one; none for a URL that cannot be read
    (`http://[::1/`), which the fetch then refuses."""
    try:
        if urlsplit(url).scheme == "file":
            url = absolute_file_url(url, Path.cwd())
        wanted = canonical_url(url)
    except ValueError:
        return None
    return next((f for f in feeds if canonical_url(f.url) == wanted), None)


def same_urls(feeds: Iterable[FeedConfig]) -> list[str]:
    """Each feed whose URL (made canonical and read as a story's link is compared: its host
    written out or in punycode, its escapes read) and headers another, earlier one has too:
    polled twice, its stories stored twice. A line each, naming both."""
    first: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}
    found = []
    for feed in feeds:
        key = (comparable_url(canonical_url(feed.url)), feed.headers)
        if key in first:
            found.append(f"feeds {first[key]!r} and {feed.name!r} have one URL: it is polled twice")
        else:
            first[key] = feed.name
    return found


def host_name_problem(host: str) -> str | None:
    """Why the resolver would refuse `host` with an error of its own (UnicodeError from
    getaddrinfo, out of the fetch or the SMTP connection), if it would."""
    try:
        host.encode("idna")
    except UnicodeError as exc:
        why = str(exc.__cause__ or exc)
        if "label" in why:  # "label empty or too long"
            return "a part between dots is empty or longer than 63 characters"
        return f"the resolver cannot encode it ({why})"
    return None


class Ages(NamedTuple):
    """The top level's ages of stories that alert, and how long a feed may go without a new
    story before it counts as silent: every feed takes them unless it says."""

    backfill: float | None
    max_age: float | None
    silent_after: float | None = SILENT_AFTER


class FeedsReader(Reader):
    """Reads the feeds and the ages of their stories that alert."""

    def backfill(self, node: yaml.Node | None, name: str, default: float | None) -> float | None:
        """A duration, or 'all': on a feed's first poll, how old a story may be and alert."""
        return self._age(node, name, default, no_limit="all", minimum=0)

    def max_age(self, node: yaml.Node | None, name: str, default: float | None) -> float | None:
        """A duration of at least an hour, or 'off': on later polls, how old a dated story
        may be and alert."""
        return self._age(node, name, default, no_limit="off", minimum=MIN_MAX_AGE)

    def silent_after(
        self, node: yaml.Node | None, name: str, default: float | None
    ) -> float | None:
        """A duration of at least an hour, or 'off': how long a feed that polls well may go
        without a new story before its health is 'silent'."""
        return self._age(node, name, default, no_limit="off", minimum=MIN_SILENT_AFTER)

    def _age(
        self, node: yaml.Node | None, name: str, default: float | None, *, no_limit: str,
        minimum: float,
    ) -> float | None:  # fmt: skip
        """A duration of at least `minimum`, or the word `no_limit` for None; `default`
        where the key is not given."""
        if node is None:
            return default
        if isinstance(node, yaml.ScalarNode) and str(node.value).strip().lower() == no_limit:
            return None
        return self.duration(node, name, default or 0.0, minimum)

    def feeds(
        self, node: yaml.Node | None, poll: PollSettings, ages: Ages
    ) -> tuple[FeedConfig, ...]:
        feeds: list[FeedConfig] = []
        names: set[str] = set()
        for i, item in enumerate(self.items(node, "feeds", "feeds")):
            where = f"feeds[{i}]"
            if not isinstance(item, yaml.MappingNode):
                self.problem(item, where, f"must be a mapping with a name and a url, not "
                             f"{kind_of(item)}")  # fmt: skip
                continue
            m = self.mapping(item, where, FEED_KEYS)
            name = self.string(m.get("name"), f"{where}.name", required=True, at=item)
            url = self.feed_url(m.get("url"), f"{where}.url", at=item)
            if name and name in names:
                self.problem(
                    m.get("name"), f"{where}.name", f"another feed is already named {name!r}"
                )
            if name:  # taken, whether its url is right or not
                names.add(name)
            settings = self.feed_settings(m, where, poll, ages)  # its problems, whatever else
            if name and url:
                feeds.append(FeedConfig(name=name, url=url, **settings))
        return tuple(feeds)

    def feed_settings(
        self, m: dict[str, yaml.Node], where: str, poll: PollSettings, ages: Ages
    ) -> dict[str, Any]:
        """A feed's fields but its name and url, as `FeedConfig` takes them."""
        return {
            "interval": self.duration(
                m.get("interval"), f"{where}.interval", poll.interval, MIN_INTERVAL
            ),
            "tags": self.string_list(m.get("tags"), f"{where}.tags"),
            "source": self.string(m.get("source"), f"{where}.source"),
            "backfill": self.backfill(m.get("backfill"), f"{where}.backfill", ages.backfill),
            "max_age": self.max_age(m.get("max_age"), f"{where}.max_age", ages.max_age),
            "silent_after": self.silent_after(
                m.get("silent_after"), f"{where}.silent_after", ages.silent_after
            ),
            "headers": self.headers(m.get("headers"), f"{where}.headers"),
            "full_text": self.flag(m.get("full_text"), f"{where}.full_text"),
            "paused": self.flag(m.get("paused"), f"{where}.paused"),
            "timezone": self.zone(m.get("timezone"), f"{where}.timezone"),
            "date_order": self.date_order(m.get("date_order"), f"{where}.date_order"),
            "max_ttl": self.duration(m.get("max_ttl"), f"{where}.max_ttl", poll.max_ttl, 0),
        }

    def date_order(self, node: yaml.Node | None, name: str) -> DateOrder | None:
        """`day-first` or `month-first`: which comes first in the feed's dates with the year
        last (`07/12/2026`); None where it is not given."""
        value = self.string(node, name)
        if value is None:
            return None
        if (order := DATE_ORDERS.get(value.lower())) is None:
            self.problem(node, name, f"must be day-first or month-first, not {value!r}")
        return order

    def headers(self, node: yaml.Node | None, name: str) -> tuple[tuple[str, str], ...]:
        """A feed's own HTTP headers: a mapping of header names to one-line values."""
        if node is None or is_null(node):
            return ()
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, name, "must be a mapping of HTTP header names to values")
            return ()
        headers: dict[str, tuple[str, str]] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            where = f"{name}.{key}"
            value = self.string(value_node, where, required=True)
            if value is None:
                continue
            problem = header_problem(key, value)
            if problem is None and key.lower() in headers:
                problem = "given twice"
            if problem is not None:
                self.problem(value_node if problem.startswith("must") else key_node, where, problem)
            else:
                headers[key.lower()] = (key, value)
        return tuple(headers.values())

    def feed_url(
        self, node: yaml.Node | None, name: str, at: yaml.Node | None = None
    ) -> str | None:
        """A feed's URL (required: a problem at `at`, its feed, when missing)."""
        url = self.string(node, name, required=True, at=at)
        if url is None:
            return None
        why = malformed(url)
        if why is not None:
            self.problem(node, name, f"{url!r} is not a valid URL: {why}")
            return None
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.netloc:
            return url
        if parts.scheme == "file":
            return absolute_file_url(url, self.base)
        wrong = f"{url!r} is not an http(s):// or file: URL"
        if (meant := subscribe_link_target(url)) is not None:
            shown = repr(meant)
            if meant.startswith("http://") and not url.lower().startswith("feed:http:"):
                shown = f"'https://{meant.removeprefix('http://')}' (or {shown})"
            wrong += f" (feed: is a browser's link to a feed: write {shown})"
        elif url.lower().endswith((".xml", ".rss", ".atom", ".rdf", ".json")) and "/" not in url:
            wrong += f" (did you mean 'file:{url}'?)"  # a file beside the config
        elif _HOST_FIRST.match(url):  # www.mining.com/feed/, as a browser's bar shows it
            wrong += f" (did you mean 'https://{url}'?)"
        self.problem(node, name, wrong)
        return None
