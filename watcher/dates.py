"""An entry's dates as feedparser reads them, and those it cannot read or misreads.

In: a date as a feed wrote it, and the time the parser made of it. Out: the time in UTC
(`entry_time`), or None; the story's published time (`published_time`).

feedparser reads a zone name it does not know as UTC: one with a single meaning
(`ZONE_OFFSETS`) is put as its offset first.

A date whose month is named in another language (`Fr, 04 Dez 2026`), or in English before
the day (`December 4, 2026`): `named_dates` reads those, as feedparser reads RFC 822.
A site may also write its date in numbers as its country does (`2026/12/04 10:15`,
`04.12.2026`, `2026年12月4日`): `numeric_dates` reads those, whichever parser read the feed.
A date written otherwise than both parsers read it (`9:15 PM EST`, `07-Dec-26`, `December
7th`, `2026-12-07, 09:15`) is first written as they read it (`date_spellings`).

A date that names no zone (`names_zone`) is read as UTC, as feedparser reads one, unless
its feed has a `timezone`: then it is that zone's time.
"""

from __future__ import annotations

import calendar
import functools
import re
import time
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from feedparser.datetimes import _parse_date as feedparser_date  # its readers, pinned <7
from feedparser.datetimes.rfc822 import timezone_names as FEEDPARSER_ZONES

from watcher.date_spellings import respelled
from watcher.named_dates import (
    YEAR_FIRST_NAMED,
    YEAR_MONTH_NAMED,
    is_named_misread,
    localized_rfc822,
    month_first,
    year_first_named,
)
from watcher.numeric_dates import is_numeric_date, numeric_date
from watcher.spelling import did_you_mean

# an ISO 8601 time whose offset has no colon (`2026-12-04 10:15:00 +0900`, as PHP's `O`
# writes it), stands after a blank (`... 10:15:00 +09:00`) or has hours alone
# (`2026-12-04 10:15:00.25+09`, as PostgreSQL writes it), which feedparser-rs reads as
# UTC, ignoring the offset, and feedparser without its minutes where it has no colon
# (India's `+0530` as `+05`), or, for the last, as midnight
_ISO_OFFSET = re.compile(
    r"\s*\d{4}-\d{2}-\d{2}[T ][\d:.]+(\s*[+-]\d{4}|\s+[+-]\d\d:\d\d|\s*[+-]\d\d)\s*$"
)
# an ISO 8601 date and time with a zone's name after it (`2026-12-04 10:15:00 UTC`, as Ruby's
# Time#to_s writes UTC; `... EST`; `... Asia/Tokyo`): both parsers kept the date and dropped
# the time, up to a day early
_ISO_NAMED_ZONE = re.compile(
    r"\s*(\d{4}-\d{2}-\d{2})[T ](\d{1,2}:\d{2}(?::\d{2})?)(?:[.,]\d+)?\s+([A-Za-z][\w+/-]*)\s*$"
)
_UTC_NAMES = frozenset({"utc", "gmt", "ut", "z"})
# seconds since 1970 (10 digits: 2001 to 2286), or milliseconds (13): feedparser read
# `1733307300` as a day of the year 1733
_EPOCH = re.compile(r"\s*(\d{10}|\d{13})\s*$")


def is_misread(raw: str) -> bool:
    """Whether feedparser-rs may read `raw` otherwise than feedparser, or both wrongly: then
    this module's reading (else feedparser's) is taken."""
    return (
        is_numeric_date(raw)
        or _ISO_OFFSET.match(raw) is not None
        or is_named_misread(raw)
        or _ISO_NAMED_ZONE.match(raw) is not None
        or _EPOCH.match(raw) is not None
        or ("/" in raw and _IANA_AT_END.search(raw) is not None)
    )


def _iso_named_zone(found: re.Match[str]) -> time.struct_time | None:
    """An ISO 8601 date and time with a zone's name after it (`_ISO_NAMED_ZONE`'s match), in
    UTC: UTC or GMT, or a name feedparser knows (EST); None when it names no real time, or
    a name like an IANA zone's that no zone has (`Foo/Bar`). (A name of `ZONE_OFFSETS` is its
    offset, and an IANA zone's name is read, `_IANA_AT_END`, before this is read.)"""
    day, clock, zone = found.groups()
    try:
        local = datetime.fromisoformat(f"{day}T{clock.zfill(5)}")
    except ValueError:
        return None
    if "/" in zone:
        return None
    if zone.lower() in _UTC_NAMES:
        return local.timetuple()
    stamp = local.strftime("%d %b %Y %H:%M:%S")  # C locale: English month names
    return feedparser_date(f"{stamp} {zone}")


def zone_named(name: str) -> ZoneInfo | None:
    """The IANA time zone called `name` (`Asia/Tokyo`), or None where there is none: no
    such name, a region's folder (`America/Argentina`, which ZoneInfo tries to read as a
    file), a path that leaves the zone database."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def zone_problem(name: str, example: str = "Europe/Berlin") -> str | None:
    """Why `name` is no IANA time zone, with the one it is close to (`Asia/tokyo`: did you
    mean 'Asia/Tokyo'?), if it is none; else None."""
    if zone_named(name) is not None:
        return None
    if offset := _FIXED_OFFSET.fullmatch(name.strip()):
        sign, hours = offset.group(1), int(offset.group(2))
        if hours <= (14 if sign == "+" else 12):
            return (
                f"{name!r} is not an IANA time zone: write the zone of the place, such as "
                f"{example}, which keeps its summer time, or for a fixed UTC{sign}{hours} "
                f"Etc/GMT{'-' if sign == '+' else '+'}{hours} (IANA reverses the sign)"
            )
    return f"{name!r} is not an IANA time zone such as {example}" + did_you_mean(
        name, available_timezones()
    )


_FIXED_OFFSET = re.compile(r"(?i:utc|gmt)\s*([+-])\s*(\d{1,2})(?::?00)?")


def _epoch_time(found: re.Match[str]) -> time.struct_time:
    """Seconds (or milliseconds) since 1970 (`_EPOCH`'s match), in UTC."""
    digits = found.group(1)
    return time.gmtime(int(digits) / (1000 if len(digits) == 13 else 1))


FUTURE_SLACK = timedelta(minutes=5)

# Zone names that feedparser reads as UTC, each meaning one offset wherever it is used
# (an ambiguous one, such as IST, or CST for China as well as the US, is left to feedparser).
ZONE_OFFSETS = {
    "jst": "+0900", "kst": "+0900", "hkt": "+0800", "sgt": "+0800", "myt": "+0800",
    "pht": "+0800", "awst": "+0800", "wib": "+0700", "ict": "+0700", "pkt": "+0500",
    "msk": "+0300", "eest": "+0300", "eet": "+0200", "cest": "+0200", "sast": "+0200",
    "cet": "+0100", "west": "+0100", "wet": "+0000", "aest": "+1000", "aedt": "+1100",
    "acst": "+0930", "acdt": "+1030", "nzst": "+1200", "nzdt": "+1300", "mez": "+0100",
    "mesz": "+0200",
}  # fmt: skip
_ZONE_AT_END = re.compile(r"\s([A-Za-z]{3,4})\s*$")
# an offset written after UTC or GMT (`... 10:00:00 UTC+08:00`, `GMT+8`): both parsers read
# the first as UTC, 8 hours off, and the second not at all
_NAMED_OFFSET = re.compile(r"\s(?:UTC|GMT|UT)\s*([+-])(\d{1,2})(?::?(\d\d))?\s*$", re.IGNORECASE)
DATE_MAX_CHARS = 100  # a longer "date" is no date: feedparser's patterns are not run on it


def entry_time(
    raw: Any, parsed: time.struct_time | None, zone: tzinfo | None = None
) -> datetime | None:
    """An entry's date in UTC: `raw` (as the feed wrote it) read by feedparser's own date
    parser where the fast parser gave no `parsed` time (feedparser-rs reads neither "UTC",
    full day names nor a one-digit hour) or where `raw` ends in a zone name feedparser would
    read as UTC (`ZONE_OFFSETS`), or one feedparser-rs may read otherwise or both wrongly
    (`is_misread`: in numbers, which feedparser reads wrong or not at all and this module
    reads; an ISO 8601 offset without colon or after a blank; the month first; an ISO time
    followed by a zone's name; a Unix time; any date followed by an IANA zone's name), or
    ends in an offset after UTC or GMT (`_NAMED_OFFSET`), or is written otherwise than
    either reads it (`date_spellings`: its time on the 12-hour clock, say); else `parsed`. Both
    parsers so give the same time. A date feedparser cannot read may be RFC 822 in another
    language, or have its month first. With a `zone` (the feed's `timezone`), a date that
    names none (`names_zone`), or names the zone by what it is called at that time
    (`_in_own_zone`), is that zone's time."""
    if not (isinstance(raw, str) and 0 < len(raw) <= DATE_MAX_CHARS):
        return struct_to_datetime(parsed)
    if (spelled := respelled(raw)) is not None:  # neither parser reads it as written
        raw, parsed = spelled, None
    if zone is not None and (own := _in_own_zone(raw, zone)) is not None:
        return own
    if (with_offset := _zone_as_offset(raw)) is not None:
        return struct_to_datetime(_read_date(with_offset))
    when = struct_to_datetime(_read_date(raw) if parsed is None or is_misread(raw) else parsed)
    if zone is None or when is None or names_zone(raw):
        return when
    return _in_utc(when, zone)


def _in_utc(wall: datetime, zone: tzinfo) -> datetime | None:
    """A wall-clock time of `zone` in UTC; None where that is out of Python's years (the
    first day of year 1 east of UTC, the last of 9999 west), which raised OverflowError and
    failed the feed's every poll."""
    try:
        return wall.replace(tzinfo=zone).astimezone(UTC)
    except OverflowError:
        return None


# a zone after the time: an offset (`10:15:00+09:00`, `10:15 +0900`, `10:15:00.25+09`) or Z
_OFFSET_AT_END = re.compile(r"\d:\d\d(?::\d\d)?(?:[.,]\d+)?\s*(?:[zZ]|[+-]\d\d?(?::?\d\d)?)\s*$")
# the last word (`GMT`, `GMT+8`, `Asia/Tokyo`; `AM`, `Uhr`, which name none)
_LAST_WORD = re.compile(r"(?:^|\s)([A-Za-z][\w/+:-]*)\s*$")
_OFFSET_AFTER_NAME = re.compile(r"(?:utc|gmt|ut)[+-]\d", re.IGNORECASE)
_COMMENT_AT_END = re.compile(r"\s*\([^()]*\)\s*$")


def _in_own_zone(raw: str, zone: tzinfo) -> datetime | None:
    """`raw` read in `zone` where it ends in the name that `zone` goes by at that time
    (`CST` for Asia/Shanghai, which feedparser reads as US Central's; `IST` for
    Asia/Kolkata or, in summer, Europe/Dublin), else None."""
    word = _LAST_WORD.search(raw)
    if word is None or word.group(1).upper() not in _names_of(zone):
        return None
    local = struct_to_datetime(_read_date(raw[: word.start(1)]))
    if local is None:
        return None
    wall = local.replace(tzinfo=None)
    if zone.tzname(wall) != word.group(1).upper():
        return None
    return _in_utc(wall, zone)


@functools.lru_cache(maxsize=64)
def _names_of(zone: tzinfo) -> frozenset[str]:
    """What `zone` is called this year, in winter and in summer (`CST`, `CDT`)."""
    year = datetime.now(UTC).year
    return frozenset(
        name for month in (1, 7) if (name := zone.tzname(datetime(year, month, 1))) is not None
    )


def names_zone(raw: str) -> bool:
    """Whether a date, as its feed wrote it, names its zone: an offset or Z after its time,
    a zone's name that feedparser or this module reads (`EST`, `JST`; UTC or GMT, with an
    offset or without), an IANA zone's (`Asia/Tokyo`), or a Unix time (UTC's). A date
    without a time (`2026-12-04`), or ending in another word (`10:15 AM`, `10:15 Uhr`, or
    a name neither reads, as `IST`, which is India's and Ireland's), names none."""
    raw = _COMMENT_AT_END.sub("", raw)  # `+0900 (JST)`: RFC 822's comment names nothing
    if _OFFSET_AT_END.search(raw) or _EPOCH.match(raw):
        return True
    word = _LAST_WORD.search(raw)
    if word is None:
        return False
    name = word.group(1).lower()
    if len(name) == 1:  # a military zone's letter, or `a. m.`'s m: read as none
        return name == "z"
    if name in FEEDPARSER_ZONES or name in ZONE_OFFSETS or name in _UTC_NAMES:
        return True
    if _OFFSET_AFTER_NAME.match(name) is not None:
        return True
    return "/" in name and zone_named(word.group(1)) is not None


def _zone_as_offset(raw: str) -> str | None:
    """`raw` with the zone it ends in written as its offset, where feedparser would read
    that zone as UTC or not at all: an offset after UTC or GMT (`UTC+08:00`, `GMT+8`), or
    a name of `ZONE_OFFSETS`; None for any other date."""
    if named := _NAMED_OFFSET.search(raw):
        sign, hours, minutes = named.groups()
        return f"{raw[: named.start()]} {sign}{int(hours):02d}{minutes or '00'}"
    zone = _ZONE_AT_END.search(raw)
    offset = ZONE_OFFSETS.get(zone.group(1).lower()) if zone else None
    return f"{raw[: zone.start()]} {offset}" if zone and offset else None


# an IANA zone's name after a date of any form (`Mon, 07 Dec 2026 09:15:00 Europe/Moscow`)
_IANA_AT_END = re.compile(r"\s([A-Za-z]+(?:/[A-Za-z0-9_+-]+)+)\s*$")


def _read_date(raw: str) -> time.struct_time | None:
    if "/" in raw and (named := _IANA_AT_END.search(raw)) and (zone := zone_named(named[1])):
        return _in_zone(raw[: named.start()], zone)
    if found := YEAR_MONTH_NAMED.match(raw):  # feedparser: `2026. december 4.` is 1 Dec
        return year_first_named(found)
    if is_numeric_date(raw):
        return numeric_date(raw)
    if found := _ISO_NAMED_ZONE.match(raw):
        return _iso_named_zone(found)
    if found := _EPOCH.match(raw):
        return _epoch_time(found)
    if found := _ISO_OFFSET.match(raw):  # feedparser reads `+0530` as `+05`, `+05:30` right
        offset = found.group(1).strip().replace(":", "")
        raw = f"{raw[: found.start(1)]}{offset[:3]}:{offset[3:] or '00'}"
    if found := YEAR_FIRST_NAMED.match(raw):  # feedparser: `2026 жылғы 30 қараша` is 1 Dec
        return year_first_named(found)
    return feedparser_date(raw) or localized_rfc822(raw) or month_first(raw)


def _in_zone(raw: str, zone: tzinfo) -> time.struct_time | None:
    """`raw`, a date without a zone, read as `zone`'s wall-clock time, in UTC."""
    local = struct_to_datetime(_read_date(raw))
    utc = _in_utc(local.replace(tzinfo=None), zone) if local else None
    return utc.timetuple() if utc else None


def struct_to_datetime(value: time.struct_time | None) -> datetime | None:
    """feedparser's UTC struct_time as an aware datetime, or None when unusable."""
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


# Before the web, a feed's date is a placeholder, no date: Go's zero time (0001-01-01, which
# Hugo writes for a page without one), Unix time 0, 1900-01-01 (SQL Server's), 1601-01-01
# (Windows'). Read as a date, such a story was decades old: quiet for `max_age` or `backfill`.
EARLIEST = datetime(1991, 1, 1, tzinfo=UTC)


def published_time(
    published: datetime | None, updated: datetime | None, fetched_at: datetime
) -> datetime:
    """Published, else updated, else fetch time, a date before `EARLIEST` none; a date in
    the future is clamped to fetch time."""
    when = next((t for t in (published, updated) if t is not None and t >= EARLIEST), fetched_at)
    return fetched_at if when > fetched_at + FUTURE_SLACK else when
