"""What tells two stories in the same wording apart as other news: the day each tells of,
and opposites (rose/fell, opens/closes).

Days: a weekday ("on Monday"), a day of a month ("December 1", "1 Dec", "Dec. 1st") or a
date in digits ("2026-12-01", "01.12.2026"); in English, and in Russian, Chinese and
Japanese ("в понедельник", "1 декабря", 星期一, 12月1日, 月曜日). Opposites: a move up or
down ("rose"/"fell", 上涨/下跌; in those languages too), and in English a plant that opens or
closes, output that starts or stops, a bid won or lost, a plan approved or rejected, curbs
imposed or lifted, a deal signed or cancelled, a stake bought or sold, imports or exports,
a profit or a loss. (One text saying the other's news is off: `reversals`.)

Two stories in the same wording about different days are a report that recurs (a daily
price assessment, a market close), and two that tell opposites are other news (today's
close, the plant's reopening): neither is one news item told twice.

In: a story's words, lower-case, as `text.words_of` gives them, or two cleaned texts. Out:
the days and the sides of opposites named; for two texts, where their aligned wording
names other days or opposites (`day_swaps`, `opposite_swaps`). Pure computation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import TypeVar

from watcher.dedupe.align import aligned
from watcher.dedupe.lexicon import is_cjk

T = TypeVar("T")
V = TypeVar("V")

_WEEKDAY_NAMES = (  # Monday first; English, Russian (as "в среду" has it), Japanese, Chinese
    ("monday", "понедельник", "月曜日", "月曜", "星期一", "周一", "礼拜一"),
    ("tuesday", "вторник", "火曜日", "火曜", "星期二", "周二", "礼拜二"),
    ("wednesday", "среда", "среду", "水曜日", "水曜", "星期三", "周三", "礼拜三"),
    ("thursday", "четверг", "木曜日", "木曜", "星期四", "周四", "礼拜四"),
    ("friday", "пятница", "пятницу", "金曜日", "金曜", "星期五", "周五", "礼拜五"),
    ("saturday", "суббота", "субботу", "土曜日", "土曜", "星期六", "周六", "礼拜六"),
    ("sunday", "воскресенье", "日曜日", "日曜", "星期日", "星期天", "周日", "礼拜日", "礼拜天"),
)
WEEKDAYS = {name: names[0] for names in _WEEKDAY_NAMES for name in names}
_MONTH_NAMES = (  # English, and Russian as a date has it ("1 декабря") or alone
    ("january", "jan", "январь", "января"), ("february", "feb", "февраль", "февраля"),
    ("march", "mar", "март", "марта"), ("april", "apr", "апрель", "апреля"),
    ("may", "май", "мая"), ("june", "jun", "июнь", "июня"), ("july", "jul", "июль", "июля"),
    ("august", "aug", "август", "августа"),
    ("september", "sep", "sept", "сентябрь", "сентября"),
    ("october", "oct", "октябрь", "октября"), ("november", "nov", "ноябрь", "ноября"),
    ("december", "dec", "декабрь", "декабря"),
)  # fmt: skip
MONTHS = {name: number for number, names in enumerate(_MONTH_NAMES, 1) for name in names}
_NUMBER = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?")  # digits of any script: ２ too
_DIGITS_DATE = re.compile(r"\d{4}[.]\d{1,2}[.]\d{1,2}|\d{1,2}[.]\d{1,2}[.]\d{4}")  # one word

Day = tuple[str, str]  # (kind, value): ("weekday", "monday"), ("date", "12-1"), ("digits", ...)


def days_named(words: list[str], start: int, end: int) -> set[Day]:
    """The days that `words[start:end]` name, each with the words around it: a month's name
    stands beside its day ("december" in "on december 1" names December 1)."""
    days = set()
    for at in range(start, end):
        word = words[at]
        if word in WEEKDAYS:
            days.add(("weekday", WEEKDAYS[word]))
        elif _DIGITS_DATE.fullmatch(word):
            days.add(("digits", word))
        elif (date := _month_day(words, at) or _cjk_date(words, at)) is not None:
            days.add(("date", date))
        elif (digits := _digits_run(words, at)) is not None:
            days.add(("digits", digits))
    return days


def _month_day(words: list[str], at: int) -> str | None:
    """ "MONTH-DAY" where `words[at]` is a month's name or a day's number and the word before
    or after it the other."""
    word = words[at]
    for other in (words[at - 1] if at else "", words[at + 1] if at + 1 < len(words) else ""):
        if word in MONTHS and (day := _number(other, 31)):
            return f"{MONTHS[word]}-{day}"
        if other in MONTHS and (day := _number(word, 31)):
            return f"{MONTHS[other]}-{day}"
    return None


def _cjk_date(words: list[str], at: int) -> str | None:
    """ "MONTH-DAY" where `words[at]` is a number of a Chinese or Japanese date: 12月1日 is
    the words 12, 月, 1, 日."""
    for first in range(max(0, at - 3), at + 1):
        run = words[first : first + 4]
        if len(run) == 4 and run[1] == "月" and run[3] == "日":
            month, day = _number(run[0], 12), _number(run[2], 31)
            if month and day:
                return f"{month}-{day}"
    return None


def _digits_run(words: list[str], at: int) -> str | None:
    """Three numbers in a row, `words[at]` among them, that read as a date: a year first or
    last and days or months besides (2026-12-01, 12/01/2026)."""
    for first in range(max(0, at - 2), at + 1):
        run = words[first : first + 3]
        if len(run) == 3 and _is_date(run):
            return "-".join(f"{int(word):02d}" for word in run)
    return None


def _is_date(run: list[str]) -> bool:
    year, rest = (run[0], run[1:]) if _is_year(run[0]) else (run[2], run[:2])
    return _is_year(year) and all(word.isdecimal() and _number(word, 31) for word in rest)


def _is_year(word: str) -> bool:
    return len(word) == 4 and word.isdecimal() and 1900 <= int(word) < 2100


def _number(word: str, highest: int) -> int | None:
    """The word as a number from 1 to `highest`: one or two digits, an English ordinal's
    suffix allowed (1st, 22nd)."""
    match = _NUMBER.fullmatch(word)
    number = int(match.group(1)) if match else 0
    return number if 1 <= number <= highest else None


def other_days(a: set[Day], b: set[Day]) -> bool:
    """Whether two sets of days name another day of one kind: Monday and Tuesday, December 1
    and December 2 (a weekday and a date may be one day)."""
    a_days, b_days = _by_kind(a), _by_kind(b)
    return any(a_days[kind].isdisjoint(b_days[kind]) for kind in a_days.keys() & b_days.keys())


def _by_kind(pairs: set[tuple[str, V]]) -> dict[str, set[V]]:
    """(kind, value) pairs as each kind's values: the days of each kind, the sides of each
    thing an opposite tells of."""
    found: dict[str, set[V]] = {}
    for kind, value in pairs:
        found.setdefault(kind, set()).add(value)
    return found


def shown(days: set[Day]) -> str:
    """One of the days, as a message names it: "monday", "december 1", "2026-12-01"."""
    kind, value = min(days)
    if kind != "date":
        return value
    month, day = value.split("-")
    return f"{_MONTH_NAMES[int(month) - 1][0]} {day}"


# Words that tell of one side of something, whose other side is other news, by what they
# tell of: (one side, the other side). "lost" is down and a defeat; "bans" a ban imposed.
_OPPOSITES = {
    "move": (
        """rise rises rose risen rising up higher high highs gain gains gained climb climbs
        climbed climbing jump jumps jumped surge surges surged soar soars soared increase
        increases increased advance advances advanced rally rallies rallied rebound rebounds
        rebounded firmed strengthen strengthens strengthened raise raises raised hike hikes
        hiked вырос выросла выросло выросли растет растут подорожал подорожала подорожало
        подорожали 上涨 上漲 上升 上昇 反弹 反彈 値上がり""",
        """fall falls fell fallen falling down lower low lows lowers lowered lose loses lost
        drop drops dropped slip slips slipped slide slides slid decline declines declined ease
        eases eased plunge plunges plunged tumble tumbles tumbled sink sinks sank weaken
        weakens weakened dip dips dipped retreat retreats retreated slump slumps slumped cut
        cuts reduce reduces reduced упал упала упало упали снизился снизилась снизилось
        снизились подешевел подешевела подешевело подешевели 下跌 下降 下落 回落 値下がり""",
    ),
    "open": ("open opens opened opening reopen reopens reopened",
             "close closes closed closing shut shuts"),
    "start": ("start starts started begin begins began launch launches launched resume resumes "
              "resumed restart restarts restarted",
              "stop stops stopped halt halts halted suspend suspends suspended end ends ended"),
    "win": ("win wins won winning", "lose loses lost losing"),
    "approve": ("approve approves approved approval allow allows allowed permit permits permitted",
                "reject rejects rejected rejection block blocks blocked veto vetoes vetoed deny "
                "denies denied ban bans banned prohibit prohibits prohibited"),
    "impose": ("impose imposes imposed introduce introduces introduced tighten tightens tightened "
               "ban bans banned",
               "lift lifts lifted remove removes removed scrap scraps scrapped relax relaxes "
               "relaxed ease eases eased loosen loosens loosened"),
    "sign": ("sign signs signed", "cancel cancels cancelled canceled terminate terminates "
             "terminated scrap scraps scrapped"),
    "buy": ("buy buys bought buying acquire acquires acquired purchase purchases purchased",
            "sell sells sold selling divest divests divested"),
    "trade": ("import imports imported importing", "export exports exported exporting"),
    "result": ("profit profits surplus", "loss losses deficit"),
}  # fmt: skip
Side = tuple[str, int]  # what a word tells one side of, and which: ("move", 0) is up


def _sides_of(opposites: dict[str, tuple[str, str]]) -> dict[str, frozenset[Side]]:
    sides: dict[str, set[Side]] = {}
    for about, words in opposites.items():
        for side, listed in enumerate(words):
            for word in listed.split():
                sides.setdefault(word, set()).add((about, side))
    return {word: frozenset(found) for word, found in sides.items()}


SIDES = _sides_of(_OPPOSITES)

# Chinese and Japanese: within a word, as a run is cut into the longest words listed (价格上涨)
_CJK_SIDES = {word: sides for word, sides in SIDES.items() if is_cjk(word)}


def sides_named(words: list[str], start: int, end: int) -> set[Side]:
    """What `words[start:end]` tell one side of, and which side."""
    sides: set[Side] = set()
    for word in words[start:end]:
        if word in SIDES:
            sides |= SIDES[word]
        elif is_cjk(word):
            for listed, its in _CJK_SIDES.items():
                if listed in word:
                    sides |= its
    return sides


def opposite(a: set[Side], b: set[Side]) -> bool:
    """Whether `b` tells the other side of something `a` tells one side of, each only one."""
    a_sides, b_sides = _by_kind(a), _by_kind(b)
    return any(
        len(a_sides[about]) == len(b_sides[about]) == 1 and a_sides[about] != b_sides[about]
        for about in a_sides.keys() & b_sides.keys()
    )


def day_swaps(a_text: str, b_text: str) -> list[str]:
    """Aligned spans of at most 3 words where each text names another day of one kind
    (Monday/Tuesday, December 1/December 2, 2026-12-01/2026-12-02), in texts that share
    most of their wording: "Gallium price assessment, December 1" against "..., December 2"
    is a report that recurs, each day's other news. Texts in other words are not compared
    so: two outlets may date one news item by its day and by its weekday."""
    return _swaps(a_text, b_text, days_named, other_days, lambda _, days: shown(days))


def opposite_swaps(a_text: str, b_text: str) -> list[str]:
    """Aligned spans of at most 3 words where one text tells one side of something and the
    other the opposite, in texts that share most of their wording: "Shanghai copper futures
    rose 1.1%" against "... fell 0.4%" is a market report that recurs, "Mitsubishi opens
    gallium plant" against "... closes ..." other news about the plant. One news item may be
    told with another word for one side (rose/climbed), never with the opposite."""
    return _swaps(a_text, b_text, sides_named, opposite, lambda span, _: _side_word(*span))


Span = tuple[list[str], int, int]  # words, and the start and end of a span of them


def _swaps(
    a_text: str, b_text: str, named: Callable[[list[str], int, int], set[T]],
    differ: Callable[[set[T], set[T]], bool], written: Callable[[Span, set[T]], str],
) -> list[str]:  # fmt: skip
    """Each aligned replacement (`_replaced`) whose spans name (`named`) what `differ` tells
    apart, as "A/B", each side `written`."""
    swaps = []
    for a_span, b_span in _replaced(a_text, b_text):
        a_found, b_found = named(*a_span), named(*b_span)
        if differ(a_found, b_found):
            swaps.append(f"{written(a_span, a_found)}/{written(b_span, b_found)}")
    return swaps


def _replaced(a_text: str, b_text: str) -> Iterator[tuple[Span, Span]]:
    """Each aligned replacement of at most 3 words by at most 3, in texts that share most of
    their wording (none in texts in other words)."""
    a_words, b_words, opcodes, reworded = aligned(a_text, b_text)
    if reworded:
        return
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "replace" and i2 - i1 <= 3 and j2 - j1 <= 3:
            yield (a_words, i1, i2), (b_words, j1, j2)


def _side_word(words: list[str], start: int, end: int) -> str:
    return next(word for word in words[start:end] if sides_named([word], 0, 1))
