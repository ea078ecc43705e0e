"""Dates whose month is named: in another language than English, or with the month
first.

In: a date as a feed wrote it. Out: the time feedparser reads of the same date in RFC 822's
order and English (a `time.struct_time` in UTC), or None when it is no such date.

A site whose software formats dates with the server's locale writes `Fr, 04 Dez 2026
10:00:00 +0100` or `ven., 04 déc. 2026 10:00:00 +0100` for `Fri, 04 Dec 2026 10:00:00
+0100`. The day and month stand where RFC 822 puts them, so they are read by position: the
month's name (German, French, Spanish, Italian, Portuguese, Dutch, Hungarian, Polish,
Turkish, Russian, Ukrainian, Kazakh or Uzbek, full or abbreviated, any case, accents or not)
is put in English, the day's name (in any
language, which feedparser refuses) dropped, and the rest read by feedparser. A word that
names a month in one language and a weekday in another ("mar") is read as what its place
makes it.
A site that writes the date for its readers may put a comma or a short word between the
year and the time (`30 ноября 2026 г., 11:20`, `4 décembre 2026 à 10:15`, `10:15 Uhr`),
and "de" around the month (`4 de diciembre de 2026`): those are dropped. A Kazakh date
puts the year first (`2026 жылғы 30 қараша`), a Hungarian one the year, then the month
(`2026. december 4.`): each is read in RFC 822's order.

US sites write `December 4, 2026 10:15 EST` (`month_first`), with `10:15 AM` on the
24-hour clock first (`dates`), and in Spanish `diciembre 4, 2026`: the month's name is read
in any of the languages above.
"""

from __future__ import annotations

import re
import time
import unicodedata

from feedparser.datetimes import _parse_date as feedparser_date  # its readers, pinned <7

_MONTHS = {
    "Jan": "january januar jänner janvier janv enero ene gennaio gen janeiro januari "
    "január январь января янв қаңтар "
    "січень січня styczeń stycznia ocak yanvar январ січ sty oca",
    "Feb": "february februar feber février févr fevr febrero febbraio fevereiro fev "
    "februari február febr февраль февраля фев ақпан "
    "лютий лютого luty lutego şubat fevral феврал лют lut şub",
    "Mar": "march märz mär mrz mars marzo março marco maart mrt március márc март марта наурыз "
    "березень березня marzec marca mart бер",
    "Apr": "april avril avr abril abr aprile április ápr апрель апреля апр сәуір "
    "квітень квітня kwiecień kwietnia nisan aprel апрел кві kwi nis",
    "May": "mai mayo maggio mag maio mei május máj май мая мамыр травень травня maj maja mayıs тра",
    "Jun": "june juni juin junio giugno giu junho június jún июнь июня июн маусым "
    "червень червня czerwiec czerwca haziran iyun чер cze haz",
    "Jul": "july juli juillet juil julio luglio lug julho július júl июль июля июл шілде "
    "липень липня lipiec lipca temmuz iyul лип lip tem",
    "Aug": "august août aout agosto ago augustus augusztus авг август августа тамыз "
    "серпень серпня sierpień sierpnia ağustos avgust сер sie ağu",
    "Sep": "september sept septembre septiembre setiembre set settembre setembro "
    "szeptember szept сентябрь сентября сен сент қыркүйек "
    "вересень вересня wrzesień września eylül sentabr сентябр вер wrz eyl",
    "Oct": "october oktober okt octobre octubre ottobre ott outubro out október октябрь "
    "октября окт қазан "
    "жовтень жовтня październik października ekim oktabr октябр жов paź eki",
    "Nov": "november novembre noviembre novembro ноябрь ноября ноя қараша "
    "листопад листопада listopad listopada kasım noyabr ноябр лис lis kas",
    "Dec": "december dezember dez décembre déc diciembre dic dicembre dezembro декабрь декабря дек "
    "желтоқсан "
    "грудень грудня grudzień grudnia aralık dekabr декабр гру gru ara",
}
# [weekday,] day month year rest: `Fr, 04 Dez 2026 10:00:00 +0100`, `mer. 4 déc. 2026 ...`
# (`Sat,05 Dec 2026 ...`, without the blank after the comma, which feedparser refuses)
_LOCALIZED = re.compile(
    r"^\s*(?:[^\W\d_]+\.?(?:,\s*|\s+))?(\d{1,2})\.?\s+(?:de\s+)?([^\W\d_]+)\.?,?\s+"
    r"(?:de\s+)?(\d{4})\b(.*)$"  # `4 de diciembre de 2026`: Spanish and Portuguese
)


# the year first, as Kazakh writes a date: `2026 жылғы 30 қараша, 11:20`, `2026 ж. 30 қараша`
YEAR_FIRST_NAMED = re.compile(
    r"^\s*(?P<year>\d{4})\s+(?:жылғы|ж\.)\s*(?P<day>\d{1,2})\s+(?P<month>[^\W\d_]+)(?P<rest>.*)$"
)
# the year, then the month, as Hungarian writes a date: `2026. december 4. 10:15`
YEAR_MONTH_NAMED = re.compile(
    r"^\s*(?P<year>\d{4})\.\s*(?P<month>[^\W\d_]+)\.?\s+(?P<day>\d{1,2})\.?(?!\d)(?P<rest>.*)$"
)


# [weekday,] month day, year [time] [zone]: `Dec 4, 2026`, `December 4, 2026 at 10:15`,
# `Friday, December 4, 2026 - 10:15`, `viernes, diciembre 4, 2026`
# (`dates` writes a time on the 12-hour clock, `10:15 AM`, on the 24-hour one first)
_MONTH_FIRST = re.compile(
    r"\s*(?:[^\W\d_]+\.?,?\s+)?([^\W\d_]{3,12})\.?\s+(\d{1,2}),\s*(\d{4})"
    r"(?:,?\s+(?:(?:at|[-–|@])\s+)?(\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*(.*?)\s*$"
)


def month_first(raw: str) -> time.struct_time | None:
    """`raw`, a date with the month first (`December 4, 2026 10:15 EST`, as US sites write
    it, their `10:15 AM` on the 24-hour clock; the month in another language of `_MONTHS`
    too, `diciembre 4, 2026`, as US sites in Spanish write it), read as the RFC 822 date it
    stands for; None when it is not one."""
    found = _MONTH_FIRST.match(raw)
    named = found and found.group(1)
    month = named and (_ENGLISH_ONLY.get(named.lower()) or _ENGLISH.get(_folded(named)))
    if not found or not month:
        return None
    day, year, hour, minute, second, zone = found.group(2, 3, 4, 5, 6, 7)
    when = f"{int(hour or 0):02d}:{int(minute or 0):02d}:{int(second or 0):02d}"
    return feedparser_date(f"{int(day)} {month} {year} {when} {zone or 'GMT'}")


def _folded(word: str) -> str:
    """A word in lower case without its accents (`Déc` -> `dec`, `май` -> `маи`)."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# and English's own: a localized day's name before an English month (`Mo, 23 Nov 2026`)
_ENGLISH = {
    _folded(name): month for month, names in _MONTHS.items() for name in [month, *names.split()]
}


# English's month names alone (each `_MONTHS` entry begins with the full one), and "Sept"
_ENGLISH_ONLY = {
    name: month for month, names in _MONTHS.items()
    for name in (month.lower(), names.split()[0], "sept" if month == "Sep" else month.lower())
}  # fmt: skip


# what a site's own language puts between the year and the time, and after it: `30 ноября
# 2026 г., 11:20`, `4 décembre 2026 à 10:15`, `4. Dezember 2026, 10:15 Uhr`, `4 грудня 2026
# року, 10:15`, `4 Aralık 2026 - 10:15`, `4 grudnia 2026 | 10:15`
_SPOKEN_CLOCK = re.compile(
    r"\s*(?:[гж]\.\s*)?(?:[,|–—-]\s*)?(?:[^\W\d_]{1,4}\.?,?\s+){0,2}"
    # the hour and minutes apart as German writes them too (`10.15 Uhr`; French `10h15` is
    # written `10:15` first: `date_spellings`)
    r"(\d{1,2})(?::|\.(?=\d\d\s*uhr\b))(\d{2}(?::\d{2})?)(?:\s*uhr\b)?"
    r"(.*)$",
    re.IGNORECASE,
)


def year_first_named(found: re.Match[str]) -> time.struct_time | None:
    """A date with the year first and the month named (`YEAR_FIRST_NAMED`'s match, `2026
    жылғы 30 қараша`, or `YEAR_MONTH_NAMED`'s, `2026. december 4.`), read as the same
    date in RFC 822's order; None when it is none."""
    day, month, year, rest = found.group("day", "month", "year", "rest")
    return localized_rfc822(f"{day} {month} {year}{rest}")


def localized_rfc822(raw: str) -> time.struct_time | None:
    """`raw`, a date in RFC 822's order with its month named in another language, read as
    the English date it stands for (the words its language puts around the time dropped);
    None when it is not one."""
    found = _LOCALIZED.match(raw)
    if found is None:
        return None
    day, month, year, rest = found.groups()
    english = _ENGLISH.get(_folded(month))
    if english is None:
        return None
    if clock := _SPOKEN_CLOCK.match(rest):
        hour, minutes, after = clock.groups()
        rest = f" {hour}:{minutes}{after}"
    return feedparser_date(f"{day} {english} {year}{rest}")


def is_named_misread(raw: str) -> bool:
    """Whether feedparser-rs may read `raw` otherwise than feedparser, or both wrongly: a
    date with the month first, or with the year first."""
    return (
        _MONTH_FIRST.match(raw) is not None
        or YEAR_FIRST_NAMED.match(raw) is not None
        or YEAR_MONTH_NAMED.match(raw) is not None
    )
