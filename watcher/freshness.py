"""How long a feed asks to be left alone: its response's HTTP freshness and its RSS `<ttl>`.

In: a response's headers, a feed's `<ttl>` as the parser gives it, the feed's interval and
its `max_ttl`. Out: seconds, or None where the feed says nothing. Pure: no I/O.

A response is fresh, as an HTTP cache keeps it (RFC 9111), for its `Cache-Control` max-age
less its `Age`, else until its `Expires` (counted from its `Date`); `no-cache` and
`no-store` make it stale at once. An RSS `<ttl>` is minutes the channel may be cached.
Neither makes a feed polled sooner than its interval, and neither puts its next poll off
by more than its `max_ttl` (0, the default: polled at its interval whatever it says).
"""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from watcher.normalise import ascii_digits

MAX_SECONDS = 10 * 365 * 86400.0  # a wait longer than any cap: beyond, a date overflows


def response_fresh_for(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds the response stays fresh from `now` (POSIX seconds), or None where its
    headers say nothing of it."""
    control = _directives(headers.get("cache-control", ""))
    if "no-cache" in control or "no-store" in control:
        return 0.0
    if (max_age := _seconds(control.get("max-age"))) is not None:
        return max(0.0, max_age - (_seconds(headers.get("age")) or 0.0))
    expires = headers.get("expires")
    if expires is None:
        return None
    until = http_date(expires)
    if until is None:  # "0", "-1": an invalid date is a time already past
        return 0.0
    served = http_date(headers.get("date", "")) or now
    return min(max(0.0, until - served), MAX_SECONDS)


def _directives(value: str) -> dict[str, str]:
    """A Cache-Control header's directives, lower-case, with their values unquoted."""
    found: dict[str, str] = {}
    for part in value.split(","):
        name, _, argument = part.partition("=")
        name = name.strip().lower()
        if name and name not in found:
            found[name] = argument.strip().strip('"')
    return found


def _seconds(value: str | None) -> float | None:
    """Delta-seconds as HTTP writes them (ASCII digits), at most `MAX_SECONDS`."""
    if value is None:
        return None
    value = value.strip()
    if not ascii_digits(value):
        return None
    return min(float(value), MAX_SECONDS)


def http_date(value: str) -> float | None:
    """An HTTP date (`Wed, 21 Oct 2026 07:28:00 GMT`, or an obsolete form) in POSIX seconds;
    None where it is none, or one no datetime holds (a year or an offset of 20 digits)."""
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def channel_ttl(value: Any) -> float | None:
    """An RSS channel's `<ttl>` (minutes, as feedparser gives it: text, or a number from
    feedparser-rs) in seconds; None where it is missing or no whole number above 0."""
    text = str(value).strip() if value is not None else ""
    if not ascii_digits(text) or not text.strip("0"):
        return None
    return min(float(text) * 60.0, MAX_SECONDS)  # float: int() refuses 4,301 digits


def hinted_wait(
    ttl: float | None, fresh_for: float | None, interval: float, max_ttl: float
) -> float | None:
    """How long to wait before a feed's next poll where what it says (`ttl`, `fresh_for`)
    asks for longer than its `interval`: at most `max_ttl`; None where the interval holds."""
    asked = max(ttl or 0.0, fresh_for or 0.0)
    wait = min(asked, max_ttl)
    return wait if wait > interval else None
