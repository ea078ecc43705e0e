"""Dates written in numbers as a site's country writes them, which feedparser misreads.

`2026/12/04 10:15` (Japan, China, Korea), `2026.12.04` and `2026. 12. 4.` (Korea,
Hungary), `04.12.2026 10:15` and `04.12.26` (Germany, Russia and much of Europe: day
first; a two-digit year is this century's), `2026年12月4日 10:15` and `2026년 12월 4일 오후
3:15` (Korean, its time with 오전/오후 for AM/PM, as Japanese writes 午前/午後); a short
word or two may stand before the time, and the hour and minutes may be written
`10.15` (`04.12.2026 um 10.15 Uhr`). feedparser reads `2026/12/04` and `2026년 12월
4일` as 1 December and the others not at all. A zone after the time is read as
feedparser reads RFC 822's, none as UTC (as feedparser reads an ISO 8601 date
without one). With slashes or dashes and the year last (`04/12/2026`, `04-12-2026`)
the month may come first (the US) or the day (most elsewhere): no date (feedparser
read `07-12-2026` as 20 December 2007), unless its feed's `date_order` gives the order or
another date of the same document names a day after the 12th and so shows it
(`year_last_order`, `in_year_first`); so is one of three pairs of digits with dashes
(`07-12-26`, which feedparser read as 26 December 2007: which is the year?).
A date that begins as one of these but is none of them is no date, not a misread
one.

In: a date as a feed wrote it. Out: the time feedparser makes of the RFC 822 date it
stands for, or None. Pure.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from typing import Any

from feedparser.datetimes import _parse_date as feedparser_date  # its readers, pinned <7

from watcher.models import DateOrder

_NUMERIC_START = re.compile(
    r"\s*(?:\d{4}\s*[/.年년]|\d{1,2}[./-]\d{1,2}[./-]\d{4}|\d\d-\d\d-\d\d(?![\d-])"
    r"|\d{1,2}\.\d{1,2}\.\d\d(?![\d.]))"
)
# `2026/12/04`, `2026.12.04`, `2026. 12. 4.` (a blank after each dot, and one closing the day)
_YEAR_FIRST = re.compile(r"(\d{4})([/.])\s?(\d{1,2})\2\s?(\d{1,2})(?!\d)\.?")
_DAY_FIRST = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4}|\d\d)(?![\d.])")  # `07.12.26` too
# `2026年12月4日`, `2026년 12월 4일`, either with its weekday: `(木)`, `(금)`
_CJK = re.compile(
    r"(\d{4})\s*[年년]\s*(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일](?:\s*[(（]\w{1,3}[)）])?"
)
# `10:15`, `10:15:30.250`, `10時15分`, `오후 3:15`, `午後3時15分`, after a `T`, blanks or a comma
# (one class for what may come before the time: `(?:[T\s,]\s*)*` read a date followed by 30
# blanks in minutes, and by 40 in days, trying every way to share the blanks out), and a
# short word or two (`04.12.2026 um 10:15 Uhr`, `... в 10:15`); `10.15` too (`10h15` is
# written `10:15` first: `date_spellings`)
_CLOCK = re.compile(
    r"[T\s,]*(?:[A-Za-zÀ-ÿА-яЁё]{1,4}\.?\s+){0,2}(?:(오전|오후|午前|午後)\s*)?"
    r"(\d{1,2})(?:[:時]|\.(?=\d\d(?![\d.])))(\d{2})分?(?::(\d{2})(?:[.,]\d+)?)?(?:\s*[Uu]hr\b)?"
)
_AFTERNOON = frozenset({"오후", "午後"})
# `04/12/2026`, `4-12-2026 10:15`: day and month in an order the date does not say
_YEAR_LAST = re.compile(r"\s*(\d{1,2})([/-])(\d{1,2})\2(\d{4})(?!\d)")
_MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def year_last_order(raws: Iterable[object]) -> DateOrder | None:
    """Which comes first in a document's dates with the year last (`12/25/2026`, as .NET
    writes a US date; `25/12/2026`): the day or the month, as those naming a day after the
    12th show it; None where none does, or where they show both orders."""
    shown: set[DateOrder] = set()
    for raw in raws:
        if isinstance(raw, str) and (found := _YEAR_LAST.match(raw)):
            first, second = int(found.group(1)), int(found.group(3))
            if first > 12 >= second:
                shown.add("day")
            elif second > 12 >= first:
                shown.add("month")
    return shown.pop() if len(shown) == 1 else None


def is_year_last(raw: str) -> bool:
    """Whether `raw` begins as a date with the year last (`07/12/2026`)."""
    return _YEAR_LAST.match(raw) is not None


def in_year_first(raw: Any, order: DateOrder | None) -> Any:
    """`raw`, a date with the year last, rewritten with the year first in the `order` its
    document shows (`12/25/2026 10:15 AM` as `2026/12/25 10:15 AM`); any other as it is."""
    if order is None or not isinstance(raw, str) or not (found := _YEAR_LAST.match(raw)):
        return raw
    first, second, year = found.group(1, 3, 4)
    month, day = (second, first) if order == "day" else (first, second)
    return f"{year}/{month}/{day}{raw[found.end() :]}"


def is_numeric_date(raw: str) -> bool:
    """Whether `raw` begins as a date in numbers that `numeric_date` reads."""
    return _NUMERIC_START.match(raw) is not None


def numeric_date(raw: str) -> time.struct_time | None:
    """`raw`, a date written in numbers (see above), read as feedparser reads the RFC 822
    date it stands for; None when it is not one, or names no real day or hour."""
    text = raw.strip()
    if found := _YEAR_FIRST.match(text):
        year, month, day = found.group(1, 3, 4)
    elif found := _DAY_FIRST.match(text) or _CJK.match(text):
        day, month, year = found.group(1, 2, 3) if found.re is _DAY_FIRST else found.group(3, 2, 1)
        year = f"20{year}" if len(year) == 2 else year  # dots put the day first, the year last
    else:
        return None
    if not 1 <= int(month) <= 12:
        return None
    rest = text[found.end() :]
    clock = _CLOCK.match(rest)
    half, hour, minute, second = clock.group(1, 2, 3, 4) if clock else (None, "0", "0", None)
    hours = int(hour)
    if half is not None:  # 12-hour: 오전 12:05 is 00:05, 오후 12:05 is 12:05
        if hours > 12:
            return None
        hours = hours % 12 + (12 if half in _AFTERNOON else 0)
    zone = (rest[clock.end() :] if clock else rest).strip() or "GMT"
    when = f"{hours:02d}:{int(minute):02d}:{int(second or 0):02d}"
    return feedparser_date(f"{int(day)} {_MONTH_NAMES[int(month) - 1]} {year} {when} {zone}")
