"""How common a word is: the language of a story, and the words of Chinese and Japanese.

In: words. Out: a language code, word frequencies, words. Reads wordfreq's word lists (loaded
when first needed, each once a process); pure computation otherwise.

A word is specific (a name, a rare word) when it is rare in the story's language. English
weighs by wordfreq's English list; a story in another language also by its own list, so
that its everyday words ("dans", "что", "según") do not pass for names: weighed by English
alone, every word of a French story is as rare as "gallium", and two unrelated French
stories share a dozen of them.
"""

from __future__ import annotations

import gzip
import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from functools import cache, lru_cache
from itertools import chain, islice

import msgpack
from wordfreq import available_languages, get_frequency_dict, read_cBpack, top_n_list
from wordfreq.util import data_path

# -- the language of a story -----------------------------------------------------------------

ENGLISH = ("en",)
TOP_WORDS = 1000  # a language's commonest words, by which its text is told
ENGLISH_TOP = 100  # English's commonest words: the, of, and, said...
ENGLISH_SHARE = 0.25  # of a text's words among them: English (news leads we tried: 38-46 %
# in English; 0-8 % in French, German, Spanish, Italian, Dutch and Portuguese)
FOREIGN_SHARE = 0.1  # of a text's words common in another language, not in English
MAX_LANGUAGES = 3  # of a text not English, the languages whose lists weigh its words
LISTS = "small"  # wordfreq's shortest lists of each language's words
COMMON_ZIPF = 4.0  # a word this common weighs under 2 (`SPECIFIC`): not a name


def languages_of(words: Sequence[str]) -> tuple[str, ...]:
    """The languages of words (in any case), as wordfreq codes, English first. English alone
    when a quarter of them are among its commonest (any English text), or when under a
    tenth of them are common in another language and not in English; else also the
    languages with most of their commonest words among them (at most `MAX_LANGUAGES`, each
    with more than English and at least half as many as the first). Close languages share
    their commonest words (French, Catalan, Italian: "la", "il"), and a title has few: each
    candidate's list weighs the words."""
    if not words or sum(map(_english_top().__contains__, words)) >= ENGLISH_SHARE * len(words):
        return ENGLISH
    index, foreign = _top_index()
    if sum(map(foreign.__contains__, words)) < max(2, FOREIGN_SHARE * len(words)):
        return ENGLISH
    hits = Counter(chain.from_iterable(filter(None, map(index.get, map(str.lower, words)))))
    english = hits.pop("en", 0)
    ranked = sorted(hits.items(), key=lambda item: (-item[1], item[0]))[:MAX_LANGUAGES]
    best = ranked[0][1] if ranked else 0
    return ("en", *(lang for lang, count in ranked if count > english and 2 * count >= best))


def load_lists() -> None:
    """Read what `languages_of` needs from wordfreq's lists now (about half a second)."""
    _english_top()
    _top_index()


@lru_cache(maxsize=1)
def _english_top() -> frozenset[str]:
    """English's commonest words, as written in text and in headlines: the, The, THE."""
    top = top_n_list("en", ENGLISH_TOP)
    return frozenset(chain(top, map(str.capitalize, top), map(str.upper, top)))


@lru_cache(maxsize=1)
def _top_index() -> tuple[dict[str, tuple[str, ...]], frozenset[str]]:
    """Each word among a language's `TOP_WORDS` commonest, with the languages it is so in;
    and those of them that English does not use commonly, as written in text and in
    headlines. Read from every list once (about half a second), keeping only those words."""
    found: defaultdict[str, list[str]] = defaultdict(list)
    for lang, path in sorted(available_languages(LISTS).items()):
        for word in islice(chain.from_iterable(read_cBpack(path)), TOP_WORDS):
            found[word].append(lang)
    english = get_frequency_dict("en")
    least = 10 ** (COMMON_ZIPF - 9)  # the frequency of Zipf COMMON_ZIPF
    foreign = [w for w in found if english.get(w, 0.0) < least]
    cased = chain(foreign, map(str.capitalize, foreign), map(str.upper, foreign))
    return {word: tuple(langs) for word, langs in found.items()}, frozenset(cased)


@cache
def common_words(lang: str) -> dict[str, float]:
    """The language's words of Zipf frequency `COMMON_ZIPF` or more, with it: those that can
    make a word no name (about 10,000 a language; the list's rarer words are let go)."""
    buckets = read_cBpack(available_languages(LISTS)[lang])  # bucket i: frequency -i cB
    top = int((9 - COMMON_ZIPF) * 100)
    return {word: round(9 - i / 100, 2) for i, bucket in enumerate(buckets[: top + 1])
            for word in bucket}  # fmt: skip


def zipf(freq: float) -> float:
    """`zipf_frequency` of a listed one-token word: wordfreq's lists hold whole centibels,
    so its rounding to three significant digits changes none of them (a test checks each)."""
    return round(math.log(freq, 10) + 9, 2)


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


def is_cjk(text: str) -> bool:
    """Whether the text holds Chinese or Japanese letters."""
    return _CJK.search(text) is not None


def cjk_words(word: str) -> list[str]:
    """A word that holds Chinese or Japanese, as words: katakana runs whole, hiragana
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
    words, start = [], 0
    while start < len(run):
        size = min(HAN_WORD, len(run) - start)
        while size > 1 and cjk_frequency(run[start : start + size]) is None:
            size -= 1
        words.append(run[start : start + size])
        start += size
    return tuple(words)


def cjk_frequency(word: str) -> float | None:
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
