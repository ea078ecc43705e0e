"""Story text as clustering sees it: cleaned titles and leads, weighted terms, fingerprints.

In: `Story` objects. Out: `Fingerprint`s (pure computation, made in the parse pool).
"""

from __future__ import annotations

import gzip
import math
import re
import sys
from array import array
from collections.abc import Sequence
from functools import lru_cache
from itertools import compress
from typing import NamedTuple
from urllib.parse import urlsplit

import msgpack
from wordfreq import get_frequency_dict, zipf_frequency
from wordfreq.util import data_path

from watcher.models import Story
from watcher.normalise import is_relative_url

# -- text cleaning ---------------------------------------------------------------------------

_UPDATE = re.compile(
    r"^\s*(?:(?:UPDATE|CORRECTED|CORRECTION|REFILE|BREAKING|EXCLUSIVE)(?:\s*\d+)?\s*[:-]\s*)+",
    re.IGNORECASE,
)
# " - The Mainichi", " | Reuters", " - BERNAMA": up to four capitalised words after a dash or bar.
_SUFFIX = re.compile(r"\s+[-|–—]\s+(?:The\s+)?[A-Z][\w&.'’]*(?:\s+[A-Z][\w&.'’]*){0,3}\s*$")
# "TOKYO, Jan 26 (Bernama-Kyodo) -- ", "TOKYO (Kyodo) -- ", "BEIJING, July 3 (Reuters) - "
_DATELINE = re.compile(
    r"^\s*[A-Z][A-Z.'’ -]{1,40}?(?:,\s*[A-Z][a-z]{2,9}\.?\s+\d{1,2})?\s*(?:\([^)]{1,40}\))?"
    r"\s*(?:--|—|–|-)\s+"
)
# "-- BERNAMA-KYODO" at the end; ", Kyodo News reported." closing the first sentence.
_CREDIT = re.compile(r"\s*(?:--|—)\s*[A-Z][A-Z -]{2,40}\s*$")
_CREDIT_ENDS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ-")  # a credit's last non-space character
_REPORTED = re.compile(r",\s*(?:[A-Z][\w.]*\s*){1,4}(?:reported|said|reports)\.", re.UNICODE)
WORD = re.compile(r"[^\W_]+(?:[.'’,][^\W_]+)*", re.UNICODE)
# WORD on ASCII text, where [^\W_] is [A-Za-z0-9] and no ’ occurs: the same words, found
# in about 60 % of the time (Unicode classes are looked up a character at a time)
_ASCII_WORD = re.compile(r"[A-Za-z0-9]+(?:[.',][A-Za-z0-9]+)*")
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_NUMBER = re.compile(r"^\d[\d.,]*$")
LEAD_CHARS = 200
MIN_LEAD = 40  # characters of lead below which a story counts as title-only
SHORT_TERMS = 6  # specific terms below which a story counts as short when picking candidates
TERM_TEXT_CHARS = 400
SUMMARY_CHARS = 4 * TERM_TEXT_CHARS  # of a summary, all a fingerprint reads
# terms are compared on their first six letters: import/imports/importing, Kazakh/Kazakhstan
STEM = 6
MASK_WORDS = 64  # words of a title or lead whose specificity a fingerprint holds

_STOPWORDS = frozenset(
    """a an the and or of to in on for from with by at as is are was were be been being has have
had will would could should may might must its it this that these those their his her our
your than then into over under about after before up down out new says said say per also
not no but can more most other some such which who whom what when where while all any both
each few only own same so too very just amid via according reported report""".split()  # noqa: SIM905 - a word list reads best as words
)


def words_of(text: str) -> list[str]:
    """The text's words as `WORD` finds them, a run of Chinese or Japanese split into words
    (see `cjk_words`)."""
    if text.isascii():
        return _ASCII_WORD.findall(text)
    words = WORD.findall(text)
    if not is_cjk(text):
        return words
    return [part for word in words for part in cjk_words(word)]


# -- Chinese and Japanese --------------------------------------------------------------------
# Neither writes spaces between words: a run of their script is one `WORD`, which two
# outlets' reports of the same news rarely share whole. `cjk_words` splits it as wordfreq's
# own Chinese and Japanese word lists (made with jieba and MeCab) cut words: a run of
# katakana is one word (a loanword or a foreign name), a run of hiragana is grammar and
# dropped, and a run of kanji/hanzi is cut into the longest listed words, left to right.

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヶ"
_KANA = "\u30a0-\u30ff\uff66-\uff9f"
_HIRAGANA = "\u3040-\u309f"
_CJK = re.compile(f"[{_HAN}{_KANA}{_HIRAGANA}]")
_SCRIPT_RUN = re.compile(f"([{_HAN}]+)|([{_KANA}]+)|[{_HIRAGANA}]+|([^{_HAN}{_KANA}{_HIRAGANA}]+)")
HAN_WORD = 4  # characters of the longest word looked up in a run of kanji/hanzi


def cjk_words(word: str) -> list[str]:
    """A `WORD` that holds Chinese or Japanese, as words: katakana runs whole, hiragana
    dropped, kanji/hanzi cut into listed words (`_han_words`), other letters whole."""
    if not is_cjk(word):
        return [word]
    parts: list[str] = []
    for han, kana, other in _SCRIPT_RUN.findall(word):
        if han:
            parts += _han_words(han)
        elif kana or other:
            parts.append(kana or other)
    return parts


@lru_cache(maxsize=65_536)
def _han_words(run: str) -> tuple[str, ...]:
    """A run of kanji/hanzi cut into the longest words wordfreq lists for Chinese or
    Japanese (at most `HAN_WORD` characters), left to right; an unlisted character alone."""
    listed = _cjk_frequency
    words, start = [], 0
    while start < len(run):
        size = min(HAN_WORD, len(run) - start)
        while size > 1 and listed(run[start : start + size]) is None:
            size -= 1
        words.append(run[start : start + size])
        start += size
    return tuple(words)


def _cjk_frequency(word: str) -> float | None:
    """The word's frequency in Chinese (written traditional or simplified) or Japanese, the
    highest; None if none lists it."""
    zh, ja = get_frequency_dict("zh"), get_frequency_dict("ja")
    simple = zh.get(word.translate(_simplified()))
    return max(zh.get(word) or 0.0, ja.get(word) or 0.0, simple or 0.0) or None


@lru_cache(maxsize=1)
def _simplified() -> dict[int, str]:
    """wordfreq's map of traditional Chinese characters to simplified ones (its Chinese list
    is simplified), read from its data: its own reader imports jieba, which we do not need."""
    with gzip.open(data_path("_chinese_mapping.msgpack.gz")) as mapping:
        table: dict[int, str] = msgpack.load(mapping, raw=False, strict_map_key=False)
    return table


def is_cjk(text: str) -> bool:
    """Whether the text holds Chinese or Japanese letters."""
    return _CJK.search(text) is not None


def clean_title(title: str, source: str = "") -> str:
    """The headline without UPDATE prefixes or an outlet suffix: the story's `source` after a
    dash or bar (as Google News titles end, whatever the outlet's name), else what `_SUFFIX`
    takes for an outlet's name."""
    title = _UPDATE.sub("", title)
    cut = _without_source(title, source) if source else None
    return cut if cut is not None else _SUFFIX.sub("", title).strip()


def _without_source(title: str, source: str) -> str | None:
    """`title` without " - {source}" (or a bar or another dash) at its end; None without it."""
    title, source = title.rstrip(), source.strip()
    head = title[: -len(source)] if source else ""
    if not head or title[len(head) :].lower() != source.lower():
        return None
    head = head.rstrip()
    if head[-1:] not in _SEPARATORS or head[-2:-1] not in (" ", "\t"):
        return None
    return head[:-1].strip() or None


_SEPARATORS = frozenset("-|–—")


def clean_lead(summary: str, title: str, source: str = "") -> str:
    """The summary without dateline, credit line or a copy of the title ('' if nothing else)."""
    text = _DATELINE.sub("", summary, count=1)
    if text.rstrip()[-1:] in _CREDIT_ENDS:  # no credit line can end otherwise: skip the scan
        text = _CREDIT.sub("", text)
    text = _REPORTED.sub(".", text).strip()
    cleaned_title = clean_title(title, source)
    if cleaned_title and text.lower().startswith(cleaned_title.lower()):
        rest = text[len(cleaned_title) :].strip()
        # what is left after a copied title is only the outlet's name (Google News): no lead
        text = "" if len(rest) < MIN_LEAD else rest
    return text


@lru_cache(maxsize=65_536)
def term_weight(word: str) -> float:
    """How specific a lower-case word is: 0 for the commonest, up to 6 for unknown words."""
    if _NUMBER.match(word):
        return 1.0 if _YEAR.match(word) else 3.0
    if word.isascii() and word.isalpha():  # one token: look it up without tokenising it
        freq = get_frequency_dict("en").get(word)
        return 6.0 if freq is None else max(0.0, 6.0 - _zipf(freq))
    if is_cjk(word):  # a word of `cjk_words`: how common it is in Chinese or Japanese
        freq = _cjk_frequency(word)
        return 6.0 if freq is None else max(0.0, 6.0 - _zipf(freq))
    return max(0.0, 6.0 - zipf_frequency(word, "en"))


def _zipf(freq: float) -> float:
    """`zipf_frequency` of a listed one-token word: wordfreq's list holds whole centibels,
    so its rounding to three significant digits changes none of them (a test checks each)."""
    return round(math.log(freq, 10) + 9, 2)


SPECIFIC = 2.0  # weight from which a term is specific (Zipf frequency at most 4)
SPECIFIC_HUNDREDTHS = 200


def _terms_of(words: list[str], terms: dict[str, int] | None = None) -> dict[str, int]:
    """Terms of a text's words with their weights in hundredths: lower-case, possessives
    dropped, stems of six letters; a term's heaviest word gives its weight. Given `terms`
    (of the text before), adds to them."""
    terms = {} if terms is None else terms
    for key, weight in filter(None, map(_term, words)):  # map: no frame per word
        if weight > terms.get(key, 0):
            terms[key] = weight
    return terms


@lru_cache(maxsize=65_536)  # common words recur; names mostly do not
def _term(raw: str) -> tuple[str, int] | None:
    """A word as a term (its key and weight in hundredths), or None for a stopword or a
    common word."""
    word = raw.replace("’", "'").lower().removesuffix("'s").replace(",", "")
    if word in _STOPWORDS or (len(word) < 2 and not is_cjk(word)):  # 镓 is gallium
        return None
    weight = round(term_weight(word.rstrip(".")) * 100)
    if weight <= 0:
        return None
    return sys.intern(word if word[0].isdigit() else word[:STEM]), weight


# -- fingerprints ------------------------------------------------------------


class Fingerprint(NamedTuple):
    """What clustering needs of a story. A tuple: made in the parse pool and pickled to the
    event loop, a feed's 35 unpickle in about 190 us, where frozen dataclasses took 370-400."""

    id: str
    link: str
    guid: str | None  # as `site_guid` gives it
    published: float  # POSIX seconds
    title: str  # cleaned, lower-case
    lead: str  # cleaned, lower-case, first LEAD_CHARS characters
    term_keys: tuple[str, ...]  # title + lead terms, interned
    term_weights: array[int]  # hundredths: Zipf frequencies have two decimals
    title_keys: tuple[str, ...]
    title_specific: int  # bits: which of the title's first MASK_WORDS words are specific
    lead_specific: int  # the same for the lead
    related: tuple[str, ...] = ()  # links the entry lists as other coverage of its news

    @property
    def terms(self) -> dict[str, float]:
        return {k: w / 100 for k, w in zip(self.term_keys, self.term_weights, strict=True)}


def fingerprint(story: Story) -> Fingerprint:
    title = clean_title(story.title, story.source)
    lead = clean_lead(_beginning(story.summary), story.title, story.source)
    title_words = words_of(title)
    title_terms = _terms_of(title_words)
    terms = _terms_of(words_of(lead[:TERM_TEXT_CHARS]), dict(title_terms))  # title's first
    lower_title, lower_lead = title.lower(), lead[:LEAD_CHARS].lower()
    return Fingerprint(
        id=story.id,
        link=story.link,
        guid=site_guid(story.guid, story.link),
        published=story.published.timestamp(),
        title=lower_title,
        lead=lower_lead,
        term_keys=tuple(terms),
        term_weights=array("H", terms.values()),
        title_keys=tuple(title_terms),
        title_specific=_specific_words(lower_title, title_words if title.isascii() else None),
        lead_specific=_specific_words(lower_lead),
        related=story.related,
    )


def site_guid(guid: str | None, link: str) -> str | None:
    """The guid as clustering compares it: a URI (http:, tag:, urn:...) names the entry
    wherever it is found; a bare one ("12345") only within its site, so that two sites'
    entry numbers never make one story."""
    if not guid or not is_relative_url(guid) or not link:
        return guid
    try:
        site = urlsplit(link).hostname or ""
    except ValueError:  # a malformed link: the guid as it is
        return guid
    return f"{site} {guid}"


def _specific_words(text: str, words: list[str] | None = None) -> int:
    """Which of the text's first words are specific, as bits: what a pair's name-swap check
    asks of words, answered here, where wordfreq is loaded, not in the service's window.
    `words`: the text's words, in any case (for ASCII, case does not change the words)."""
    words = words_of(text) if words is None else words
    return sum(compress(_BITS, map(_is_specific_token, words[:MASK_WORDS])))  # all in C


_BITS = tuple(1 << i for i in range(MASK_WORDS))


@lru_cache(maxsize=65_536)
def _is_specific_token(raw: str) -> bool:
    """`is_specific_word` of a word as `_words` gives it."""
    return is_specific_word(raw.replace("’", "'").lower().removesuffix("'s"))


def is_specific_word(word: str) -> bool:
    return not word[0].isdigit() and term_weight(word) >= SPECIFIC


def fingerprints(stories: Sequence[Story]) -> list[Fingerprint]:
    """Fingerprints of many stories: run in the parse pool, off the event loop."""
    return [fingerprint(s) for s in stories]


def _beginning(summary: str) -> str:
    """Only a summary's beginning is compared: cleaning all of a long one is wasted work."""
    return summary if len(summary) <= SUMMARY_CHARS else summary[:SUMMARY_CHARS]
