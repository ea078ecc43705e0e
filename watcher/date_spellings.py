"""Dates written otherwise than both feed parsers read them, written as they read them.

In: a date as a feed wrote it. Out: the same date respelled (`respelled`), or None where it
needs none: a time on the 12-hour clock (both read `PM` as a zone they do not know), a day,
month and year joined by dashes, a day with an ordinal's ending, an ISO 8601 date with a
comma or a word before its time, `09h15`, a zone's name in parentheses or after an offset,
an ISO 8601 week date, a leap second.
Pure; each respelling is looked for only where one cheap search finds it may be, as every
entry's dates pass here.
"""

from __future__ import annotations

import re
from datetime import date

# the half of the day after its first letter (A or P): `AM`, `p.m.`, `p. m.`
_HALF_DAY = r"\.?\s?[Mm]\.?"
# a time on the 12-hour clock (`9:15 PM`, `9:15:00 p.m.`): both parsers read the marker as a
# zone they do not know, UTC, so `9:15 PM EST` was 09:15 UTC, 17 hours early
_TWELVE_HOUR = re.compile(
    rf"(?<![\d:])(\d{{1,2}})(:\d{{2}}(?::\d{{2}})?(?:[.,]\d+)?)\s*([AaPp]){_HALF_DAY}(?=[\s,]|$)"
)


# a day, month and year joined by dashes, as RFC 850 (`Monday, 07-Dec-26 09:15:00 GMT`) and
# cookies (`07-Dec-2026`) write them: neither parser reads it
_DASHED_DAY = re.compile(r"\b(\d{1,2})-([A-Za-z]{3,9})-(\d{4}|\d{2})\b")
# the same with the year first (`2026-Dec-07`), which feedparser read as the 1st of the month
_DASHED_YEAR_FIRST = re.compile(r"\b(\d{4})-([A-Za-z]{3,9})-(\d{1,2})\b")
# a day with an ordinal's ending, as English sites write one (`December 7th, 2026`): no parser
# reads it
_ORDINAL_DAY = re.compile(r"\b([0-3]?\d)(?:st|nd|rd|th)\b", re.IGNORECASE)
# an ISO 8601 date with a comma or a word before its time (`2026-12-07, 09:15`, `2026-12-07
# at 09:15`, `2026-12-07 - 09:15`): both parsers kept the date and dropped the time
_ISO_THEN_WORD = re.compile(r"^(\s*\d{4}-\d{2}-\d{2})(?:\s*,\s*|\s+(?:at|[-–—|@])\s+)(?=\d)")
# an hour and minutes joined by `h`, as French and Portuguese sites write a time (`09h15`,
# `09 h 15`), after a date of any form: no parser read it
_H_CLOCK = re.compile(r"(?<=\d)\s?h\s?(?=\d\d(?!\d))")
# and one with a dot between hour and minutes (`2026-12-07 23.27`), as Nordic and Italian
# sites write a time
_ISO_DOT_CLOCK = re.compile(r"^(\s*\d{4}-\d{2}-\d{2}[ T]\d{1,2})\.(?=\d\d(?![\d.:]))")
# ISO 8601's basic form, without separators (`20261207T091500Z`, as iCalendar writes a time):
# both parsers kept the date and dropped the time
_ISO_BASIC = re.compile(r"(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)?(?!\d)")
# and its date alone so, then a blank and a time (`20261207 09:15`): the time was dropped
_BASIC_DATE = re.compile(r"(\d{4})(\d\d)(\d\d)(?=\s+\d{1,2}:\d\d)")
# an ISO 8601 week date (`2026-W49-1`, the Monday of week 49; `2026W491`; `2026-W49`, its
# Monday too): feedparser read it as the 1st of a month
_ISO_WEEK = re.compile(r"(\d{4})-?W(\d\d)(?:-?([1-7]))?(?!\d)")
# a leap second (`23:59:60`), which UTC inserts some years: RFC 822's readers read no date
_LEAP_SECOND = re.compile(r"(?<=\d:\d\d):60(?!\d)")
# a digit before any of these: one search, which most dates fail
_MAY_RESPELL = re.compile(
    r"\d(?:-[A-Za-z]|[snrtSNRT][tdhTDH]\b|\s?[AaPp]\.?\s?[Mm]|\s?h\s?\d|,|\s(?:at|[-–—|@])\s"
    r"|\.\d\d(?![\d.:]))"
)
# a zone's name alone in parentheses at the end (`2026-12-07 09:15 (UTC)`): ISO 8601 dates so
# written lost their time
_ZONE_IN_PARENTHESES = re.compile(r"\s*\(([A-Za-z]{2,5})\)\s*$")
# a zone's name after a numeric offset, as Go's time.String() writes a time (`2026-12-07
# 09:15:00 +0000 UTC`): both parsers kept the date and dropped the time
_NAME_AFTER_OFFSET = re.compile(
    r"(\d:\d\d(?::\d\d)?(?:[.,]\d+)?\s*[+-]\d\d:?\d\d)\s+[A-Za-z]{2,5}\s*$"
)


# a time before the date (`17:35, 14 марта 2026`, `17:35 14.03.2026`, `5:35 PM | 14 March
# 2026`), as Russian and Kazakh sites write one: feedparser read the time alone, on the day
# it read the feed, whatever the date (a bare time, without a year after it, is left so)
_TIME_FIRST = re.compile(
    rf"\s*(\d{{1,2}}:\d{{2}}(?::\d{{2}})?(?:\s*[AaPp]{_HALF_DAY})?)\s*(?:[,|/–—-]\s*)?"
    r"(\D.*?\d{4}.*?)"  # the date, and a zone after it kept last
    r"(\s+(?:[+-]\d\d:?\d\d|Z|(?:UTC|GMT)(?:[+-]\d{1,2}(?::?\d\d)?)?|[A-Z]{3,5}))?\s*$"
)


def respelled(raw: str) -> str | None:
    """`raw` written as the parsers read it, where it is written otherwise: its time before
    its date (`_TIME_FIRST`: put after it), a time on the 12-hour clock
    (`_on_24_hour_clock`), a day joined to its month and year by dashes (`07-Dec-26` as
    `07 Dec 26`, `2026-Dec-07` as `07 Dec 2026`), a day with an ordinal's ending (`7th` as
    `7`), an ISO 8601 date with a comma or word before its time (`_ISO_THEN_WORD`) or a
    dot in it (`23.27`) or in its basic form (`20261207T0915`, `20261207 09:15`), an ISO
    8601 week date (`_ISO_WEEK`: as its day's date), a leap second (`:60`, as `:59`), an hour
    and minutes joined by `h` (`09h15`), a zone's name in parentheses at the end (out of
    them), a zone's name after an offset (dropped); None where it is none of these. Each is
    looked for only where a cheap test finds it may be: every entry's dates come here."""
    stripped = spelled = raw.strip()
    if "W" in spelled[4:6] and (week := _ISO_WEEK.match(spelled)) is not None:
        spelled = _week_day(week)
    if spelled[8:9] == "T" and (basic := _ISO_BASIC.match(spelled)) is not None:
        year, month, day, hour, minute, second = basic.groups("00")
        spelled = f"{year}-{month}-{day}T{hour}:{minute}:{second}{spelled[basic.end() :]}"
    elif spelled[8:9].isspace() and (basic := _BASIC_DATE.match(spelled)) is not None:
        spelled = f"{'-'.join(basic.groups())}{spelled[basic.end() :]}"
    if ":60" in spelled:
        spelled = _LEAP_SECOND.sub(":59", spelled)  # a second early beats no date
    if (first := _TIME_FIRST.match(spelled)) is not None:
        spelled = f"{first[2]} {first[1]}{first[3] or ''}"
    if _MAY_RESPELL.search(spelled):
        spelled = _on_24_hour_clock(spelled) or spelled
        spelled = _DASHED_YEAR_FIRST.sub(r"\3 \2 \1", _DASHED_DAY.sub(r"\1 \2 \3", spelled))
        spelled = _ORDINAL_DAY.sub(r"\1", spelled)
        spelled = _H_CLOCK.sub(":", _ISO_THEN_WORD.sub(r"\1 ", spelled))
        spelled = _ISO_DOT_CLOCK.sub(r"\1:", spelled)
    if spelled.endswith(")"):
        spelled = _ZONE_IN_PARENTHESES.sub(r" \1", spelled)
    head, _, name = spelled.rstrip().rpartition(" ")
    if name.isalpha() and ("+" in head[-6:] or "-" in head[-6:]):
        spelled = _NAME_AFTER_OFFSET.sub(r"\1", spelled)
    return spelled if spelled != stripped else None


def _week_day(found: re.Match[str]) -> str:
    """An ISO 8601 week date as the calendar's (`2026-W49-1` as `2026-11-30`), what follows
    it kept; '' (no date) for a week its year lacks."""
    year, week, day = int(found.group(1)), int(found.group(2)), int(found.group(3) or 1)
    try:
        when = date.fromisocalendar(year, week, day)
    except ValueError:
        return ""
    return f"{when.isoformat()}{found.string[found.end() :]}"


def _on_24_hour_clock(raw: str) -> str | None:
    """`raw` with its time on the 12-hour clock written on the 24-hour one, the marker
    dropped (`9:15 PM EST` -> `21:15 EST`, `12:05 AM` -> `00:05`); None where it has none."""
    found = _TWELVE_HOUR.search(raw)
    if found is None:
        return None
    hour, rest, half = int(found.group(1)), found.group(2), found.group(3).lower()
    if 1 <= hour <= 12:  # `21:15 PM` says it twice; `0:15 AM` is written on the 24 too
        hour = hour % 12 + (12 if half == "p" else 0)
    return f"{raw[: found.start()]}{hour:02d}{rest}{raw[found.end() :]}"
