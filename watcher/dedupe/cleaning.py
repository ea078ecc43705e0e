"""What an outlet adds to a story's title and lead, set aside before stories are compared.

In: a story's title, summary and outlet's name. Out: the headline and lead as clustering
compares them (`clean_title`, `clean_lead`). Pure.
"""

from __future__ import annotations

import re

from watcher.normalise import without_source

MIN_LEAD = 40  # characters of lead below which a story counts as title-only

_UPDATE = re.compile(
    r"^\s*(?:(?:UPDATED?|CORRECTED|CORRECTION|REFILE|RPT|BRIEF|BREAKING|EXCLUSIVE)(?:\s*\d+)?"
    r"\s*[:-]\s*"
    # the form the news takes, or how fast it came: after a colon or a spaced dash only, as
    # `Live-streaming ...` begins with a word
    r"|(?:WATCH|VIDEO|LIVE|JUST\s+IN|PHOTOS?|FLASH|URGENT)\s*(?::|\s[-–—|])\s*)+",
    re.IGNORECASE,
)
# the same after the headline, in brackets: `... [VIDEO]`, `... (PHOTOS)`, `... (UPDATE 2)`
_TAIL_LABEL = re.compile(
    r"\s*[\[(（［](?:VIDEO|PHOTOS?|WATCH|LIVE|AUDIO|UPDATED?(?:\s*\d+)?|動画|写真|视频|видео|фото)"
    r"[\])）］]\s*$",
    re.IGNORECASE,
)
# a label in brackets before a headline, as Japanese and Chinese outlets mark news breaking,
# exclusive or updated (【速報】, ＜独自＞ (read as <独自>), 【独家】, [UPDATE]): up to eight
# characters each
_LABEL_OPENS, _LABEL_CLOSES = "【＜<〈［[〔", "】＞>〉］]〕"
_LABEL = re.compile(
    rf"^\s*(?:[{re.escape(_LABEL_OPENS)}][^{re.escape(_LABEL_CLOSES)}]{{1,8}}"
    rf"[{re.escape(_LABEL_CLOSES)}]\s*)+"
)
# " - The Mainichi", " | Reuters", " - BERNAMA": up to four capitalised words after a dash or bar.
_SUFFIX = re.compile(r"\s+[-|–—]\s+(?:The\s+)?[A-Z][\w&.'’]*(?:\s+[A-Z][\w&.'’]*){0,3}\s*$")
# "TOKYO, Jan 26 (Bernama-Kyodo) -- ", "TOKYO (Kyodo) -- ", "BEIJING, July 3 (Reuters) - "
_DATELINE = re.compile(
    r"^\s*[A-Z][A-Z.'’ -]{1,40}?(?:,\s*[A-Z][a-z]{2,9}\.?\s+\d{1,2})?\s*(?:\([^)]{1,40}\)\s*)?"
    r"(?:--|—|–|-)\s+"
)
# "December 1, 2026 — ", "Mon, 1 Dec 2026 10:30 GMT | ", "2026-12-01: ", "Dec. 1 (Reuters) - ",
# "Posted on December 1, 2026 - ": a stamp of the outlet's date before its text, not news
_MONTH = r"[A-Z][a-z]{2,8}\.?"
_DATE_STAMP = re.compile(
    r"^\s*(?:(?:Posted|Published|Updated)(?:\s+on|:)?\s+)?(?:[A-Z][a-z]{2,8},?\s+)?"
    rf"(?:(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?|\d{{1,2}}\s+{_MONTH})"
    r"(?:,?\s+\d{4}|(?=\s*\())|\d{4}[-/]\d{1,2}[-/]\d{1,2}|\d{1,2}[./]\d{1,2}[./]\d{4})"
    r"(?:,?\s+\d{1,2}:\d{2}(?:\s*[AaPp]\.?[Mm]\.?)?(?:\s+[A-Z]{2,4})?)?"
    r"\s*(?:\([^)]{1,40}\)\s*)?(?:--|—|–|-|\||:)\s+"
)
# "-- BERNAMA-KYODO" at the end; ", Kyodo News reported." closing the first sentence.
_CREDIT = re.compile(r"\s*(?:--|—)\s*[A-Z][A-Z -]{2,40}\s*$")
_CREDIT_ENDS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ-")  # a credit's last non-space character
# (possessive: a name is a whole word; `[\w.]*\s*` split a run of capitals every way, and
# took hours over a summary with ", " and 400 of them)
_REPORTED = re.compile(r",\s*+(?:[A-Z][\w.]*+\s*+){1,4}(?:reported|said|reports)\.", re.UNICODE)


def clean_title(title: str, source: str = "") -> str:
    """The headline without UPDATE or WATCH prefixes, labels in brackets (`_LABEL`: 【速報】;
    `_TAIL_LABEL`, after it: [VIDEO]) or an outlet suffix: the story's `source` after a dash
    or bar (as Google News titles end, whatever the outlet's name), else what `_SUFFIX`
    takes for an outlet's name."""
    if title[:1] in _LABEL_OPENS:  # a headline that is a label alone stays one
        title = _LABEL.sub("", title) or title
    title = _UPDATE.sub("", title)
    cut = without_source(title, source) if source else None
    title = cut if cut is not None else _SUFFIX.sub("", title).strip()
    if title[-1:] not in ")]）］":  # no label after it: skip the scan
        return title
    return _TAIL_LABEL.sub("", title) or title


def clean_lead(summary: str, title: str, source: str = "") -> str:
    """The summary without dateline (or a date stamped before it), credit line or a copy of
    the title ('' if nothing else)."""
    text = _DATE_STAMP.sub("", _DATELINE.sub("", summary, count=1), count=1)
    if text.rstrip()[-1:] in _CREDIT_ENDS:  # no credit line can end otherwise: skip the scan
        text = _CREDIT.sub("", text)
    text = _REPORTED.sub(".", text).strip()
    cleaned_title = clean_title(title, source)
    if cleaned_title and text.lower().startswith(cleaned_title.lower()):
        rest = text[len(cleaned_title) :].strip()
        # what is left after a copied title is only the outlet's name (Google News): no lead
        text = "" if len(rest) < MIN_LEAD else rest
    return text
