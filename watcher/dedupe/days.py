"""The days a story's words name: a weekday ("on Monday"), a day of a month ("December 1",
"1 Dec", "Dec. 1st") or a date in digits ("2026-12-01", "01.12.2026").

Two stories in the same wording about different days are a report that recurs (a daily
price assessment, a market close), not one news item told twice.

In: a story's words, lower-case, as `text.words_of` gives them. Out: the days named, each
as a kind and a value. Pure computation.
"""

from __future__ import annotations

import re

WEEKDAYS = frozenset(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
_MONTH_NAMES = (
    ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
    ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
    ("october", "oct"), ("november", "nov"), ("december", "dec"),
)  # fmt: skip
MONTHS = {name: number for number, names in enumerate(_MONTH_NAMES, 1) for name in names}
_DAY = re.compile(r"(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?")
_DIGITS_DATE = re.compile(r"\d{4}[.]\d{1,2}[.]\d{1,2}|\d{1,2}[.]\d{1,2}[.]\d{4}")  # one word
_YEAR = re.compile(r"(?:19|20)\d\d")
_DAY_OR_MONTH = re.compile(r"0?[1-9]|[12]\d|3[01]")

Day = tuple[str, str]  # (kind, value): ("weekday", "monday"), ("date", "12-1"), ("digits", ...)


def days_named(words: list[str], start: int, end: int) -> set[Day]:
    """The days that `words[start:end]` name, each with the words around it: a month's name
    stands beside its day ("december" in "on december 1" names December 1)."""
    days = set()
    for at in range(start, end):
        word = words[at]
        if word in WEEKDAYS:
            days.add(("weekday", word))
        elif _DIGITS_DATE.fullmatch(word):
            days.add(("digits", word))
        elif (date := _month_day(words, at)) is not None:
            days.add(("date", date))
        elif (digits := _digits_run(words, at)) is not None:
            days.add(("digits", digits))
    return days


def _month_day(words: list[str], at: int) -> str | None:
    """ "MONTH-DAY" where `words[at]` is a month's name or a day's number and the word before
    or after it the other."""
    word = words[at]
    for other in (words[at - 1] if at else "", words[at + 1] if at + 1 < len(words) else ""):
        if word in MONTHS and _DAY.fullmatch(other):
            return f"{MONTHS[word]}-{int(other.rstrip('stndrh'))}"
        if other in MONTHS and _DAY.fullmatch(word):
            return f"{MONTHS[other]}-{int(word.rstrip('stndrh'))}"
    return None


def _digits_run(words: list[str], at: int) -> str | None:
    """Three numbers in a row, `words[at]` among them, that read as a date: a year first or
    last and days or months besides (2026-12-01, 12/01/2026)."""
    for first in range(max(0, at - 2), at + 1):
        run = words[first : first + 3]
        if len(run) == 3 and _is_date(run):
            return "-".join(run)
    return None


def _is_date(run: list[str]) -> bool:
    year, rest = (run[0], run[1:]) if _YEAR.fullmatch(run[0]) else (run[2], run[:2])
    return bool(_YEAR.fullmatch(year)) and all(_DAY_OR_MONTH.fullmatch(w) for w in rest)


def other_days(a: set[Day], b: set[Day]) -> bool:
    """Whether two sets of days name another day of one kind: Monday and Tuesday, December 1
    and December 2 (a weekday and a date may be one day)."""
    kinds = {kind for kind, _ in a} & {kind for kind, _ in b}
    return any(
        {v for k, v in a if k == kind}.isdisjoint({v for k, v in b if k == kind}) for kind in kinds
    )


def shown(days: set[Day]) -> str:
    """One of the days, as a message names it: "monday", "december 1", "2026-12-01"."""
    kind, value = min(days)
    if kind != "date":
        return value
    month, day = value.split("-")
    return f"{_MONTH_NAMES[int(month) - 1][0]} {day}"
