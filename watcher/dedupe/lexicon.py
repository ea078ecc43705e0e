"""How common a word is: the language of a story, and the words of Chinese and Japanese.

In: words. Out: a language code, word frequencies, words. Reads wordfreq's word lists (loaded
when first needed, each once a process, into `WordList`s); pure computation otherwise.

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
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from functools import cache, lru_cache
from itertools import chain, filterfalse, islice

import msgpack
from wordfreq import (
    available_languages,
    digit_freq,
    has_digit_sequence,
    lossy_tokenize,
    smash_numbers,
)

from watcher.hanzi import simplified
from watcher.scripts import HAN, HIRAGANA, KATAKANA

# -- wordfreq's lists, held compactly ----------------------------------------------------------


class WordList:
    """A wordfreq word list as an open-addressing hash table in one array of 64-bit integers,
    one a slot: a word's hash's low 48 bits, then its frequency in centibels (the list's own
    unit). 12 bytes a word (the table is two thirds full), where wordfreq's dict of the words
    takes about 110: English's 321,000 words take 3.9 MB instead of 37, Chinese's and
    Japanese's 550,000 take 6.6 MB instead of 67. Built without a sort, so without a copy of
    the list as Python objects. Python's hash of a string is the process's own, so each
    process builds its lists when it reads them; a word outside a list is taken for one inside
    it about once in 10^9 lookups."""

    def __init__(self, path: str) -> None:
        self._words = sum(map(len, read_buckets(path)))
        self._size = self._words * 3 // 2 + 1
        self._table = array("Q", bytes(8 * self._size))
        for centibels, bucket in enumerate(read_buckets(path)):  # bucket i: frequency -i cB
            for word in bucket:
                hashed = _hashed(word)
                self._table[self._slot(hashed)] = hashed << 16 | centibels

    def __len__(self) -> int:
        return self._words

    def _slot(self, hashed: int) -> int:
        """The slot that holds the hash, else the empty slot where it would go. A word
        listed twice takes its slot again: its rarer place, as in wordfreq's dict."""
        table, size = self._table, self._size
        slot = hashed % size
        while (entry := table[slot]) and entry >> 16 != hashed:
            slot = (slot + 1) % size
        return slot

    def zipf(self, word: str) -> float | None:
        """The word's Zipf frequency, as wordfreq's `zipf_frequency` gives a listed word;
        None if it is not listed."""
        entry = self._table[self._slot(_hashed(word))]
        return round(9 - (entry & 0xFFFF) / 100, 2) if entry else None


def _hashed(word: str) -> int:
    """48 bits of the word's hash, never 0 (an empty slot). Python hashes a string's stored
    bytes, which "kp" and "火" share (one byte a letter, or two): its length tells them apart."""
    return (hash(word) ^ len(word)) & _HASH_BITS or 1


_HASH_BITS = (1 << 48) - 1


def read_buckets(path: str) -> Iterator[list[str]]:
    """A wordfreq list's buckets of words, one at a time (`wordfreq.read_cBpack` holds the
    whole list at once: its peak is the memory `WordList` saves)."""
    with gzip.open(path, "rb") as file:
        unpacker = msgpack.Unpacker(file, raw=False)
        count = unpacker.read_array_header()
        header = unpacker.unpack()
        known = isinstance(header, dict) and header.get("format") == "cB"
        if not known or header.get("version") != 1:  # wordfreq's own check
            raise ValueError(f"{path}: not a wordfreq list (header {header!r})")
        for _ in range(count - 1):
            yield unpacker.unpack()


@cache
def word_list(lang: str, lists: str = "best") -> WordList:
    """wordfreq's list of the language's words (its largest by default)."""
    return WordList(available_languages(lists)[lang])


def english_zipf(text: str) -> float:
    """wordfreq's `zipf_frequency(text, "en")` (0 for an unknown word), read from the
    compact list: a text of several tokens ("don't" is one, "co-op" two) is as rare as
    wordfreq's formula makes it, and digits count as wordfreq counts them."""
    tokens = lossy_tokenize(text, "en")
    if not tokens:
        return 0.0
    english, inverse = word_list("en"), 0.0
    for token in tokens:
        smashed = smash_numbers(token)
        listed = english.zipf(smashed)
        if listed is None:
            return 0.0
        freq = 10 ** (listed - 9) * (digit_freq(token) if smashed != token else 1.0)
        inverse += 1.0 / freq
    freq = max(1.0 / inverse, _ZIPF_ZERO)
    freq = round(freq, math.floor(-math.log(freq, 10)) + 3)  # wordfreq's 3 significant digits
    return round(math.log(freq, 10) + 9, 2)


_ZIPF_ZERO = 1e-9  # the frequency of Zipf 0

# -- the language of a story -----------------------------------------------------------------

ENGLISH = ("en",)
CYRILLIC = ("en", "ru")  # a text in Cyrillic too short to tell which language: most are Russian
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
    tenth of them are common in another language and not in English (with Russian, when
    most of them are in Cyrillic: `_mostly_cyrillic`); else also the
    languages with most of their commonest words among them (at most `MAX_LANGUAGES`, each
    with more than English and at least half as many as the first). Close languages share
    their commonest words (French, Catalan, Italian: "la", "il"), and a title has few: each
    candidate's list weighs the words."""
    if not words or sum(map(_english_top().__contains__, words)) >= ENGLISH_SHARE * len(words):
        return ENGLISH
    index, foreign = _top_index()
    if sum(map(foreign.__contains__, words)) < max(2, FOREIGN_SHARE * len(words)):
        return CYRILLIC if _mostly_cyrillic(words) else ENGLISH
    hits = Counter(chain.from_iterable(filter(None, map(index.get, map(str.lower, words)))))
    english = hits.pop("en", 0)
    ranked = sorted(hits.items(), key=lambda item: (-item[1], item[0]))[:MAX_LANGUAGES]
    best = ranked[0][1] if ranked else 0
    return ("en", *(lang for lang, count in ranked if count > english and 2 * count >= best))


def _mostly_cyrillic(words: Sequence[str]) -> bool:
    """Whether most words are written in Cyrillic: a short Russian title ("Казахстан
    нарастит добычу лития") holds too few common words to tell its language by, and weighed
    by English, where no Cyrillic word is common, every word of it was a rare name."""
    if "".join(words).isascii():  # one pass in C: English, and most text in Latin letters
        return False
    return 2 * sum(map(is_cyrillic, words)) > len(words)


def is_cyrillic(word: str) -> bool:
    """Whether a word begins with a Cyrillic letter."""
    return "\u0400" <= word[:1] <= "\u04ff"


def load_lists() -> None:
    """Read what `languages_of` needs from wordfreq's lists now (about half a second)."""
    _english_top()
    _top_index()


@lru_cache(maxsize=1)
def _english_top() -> frozenset[str]:
    """English's commonest words, as written in text and in headlines: the, The, THE."""
    words = chain.from_iterable(read_buckets(available_languages(LISTS)["en"]))
    top = list(islice(filterfalse(has_digit_sequence, words), ENGLISH_TOP))  # as top_n_list
    return frozenset(chain(top, map(str.capitalize, top), map(str.upper, top)))


@lru_cache(maxsize=1)
def _top_index() -> tuple[dict[str, tuple[str, ...]], frozenset[str]]:
    """Each word among a language's `TOP_WORDS` commonest, with the languages it is so in;
    and those of them that English does not use commonly, as written in text and in
    headlines. Read from every list once (about half a second), keeping only those words."""
    found: defaultdict[str, list[str]] = defaultdict(list)
    for lang, path in sorted(available_languages(LISTS).items()):
        for word in islice(chain.from_iterable(read_buckets(path)), TOP_WORDS):
            found[word].append(lang)
    english = word_list("en")
    foreign = [w for w in found if (english.zipf(w) or 0.0) < COMMON_ZIPF]
    cased = chain(foreign, map(str.capitalize, foreign), map(str.upper, foreign))
    return {word: tuple(langs) for word, langs in found.items()}, frozenset(cased)


# -- Chinese and Japanese --------------------------------------------------------------------
# Neither writes spaces between words: a run of their script is one `WORD`, which two
# outlets' reports of the same news rarely share whole. `cjk_words` splits it as wordfreq's
# own Chinese and Japanese word lists (made with jieba and MeCab) cut words: a run of
# katakana is one word (a loanword or a foreign name), a run of hiragana is grammar and
# dropped, and a run of kanji/hanzi is cut into the longest listed words, left to right.

_HAN = HAN + "々〆ヶ"  # with the marks that repeat a kanji, abbreviate one, count
_KANA = KATAKANA
_HIRAGANA = HIRAGANA
_CJK = re.compile(f"[{_HAN}{_KANA}{_HIRAGANA}]")
_SCRIPT_RUN = re.compile(
    f"([{_HAN}]+)|([{_KANA}]+)|([{_HIRAGANA}]+)|([^{_HAN}{_KANA}{_HIRAGANA}]+)"
)
# a run of hiragana that negates the verb before it, whole (開始せず, 承認しない, 認められない,
# 至らず, 合意なし, 承認しませんでした), with a particle after it: kept as the word
# `NEGATION` where other hiragana, grammar, goes. The verb's own kana first, so that no
# adjective (少ない, few), adverb (必ず, certainly; まず, first; わずかに, slightly) or
# ずつ (each) reads as one.
_NOT_FORMS = "ない|なかった|なかっ|なく|ず|ぬ"  # a verb's negative forms
_AFTER_NOT = "(?:[にとでもはが]|です|でした|だ|ため)?"  # a particle or copula after them
_NEGATING = re.compile(
    "(?:(?:[かがきけこさしせたちてなにねまみめらりれわいえ]|でき|られ|させ|され|では|じゃ){1,2}"
    f"(?:{_NOT_FORMS}|ません|ませんでした)|なし|ません|ませんでした){_AFTER_NOT}"
)
_NOT_NEGATING = frozenset(["まず", "まずは"])
# verbs whose stem is one kanji, so that the negation follows it without kana (結論出ず,
# 見通し見えない is kana: not here): 出る, 見る, 来る, 得る, 寝る, 着る
_KANJI_STEMS = frozenset("出見来得寝着")
_STEM_NEGATING = re.compile(f"(?:{_NOT_FORMS}){_AFTER_NOT}")
NEGATION = "ない"
HAN_WORD = 4  # characters of the longest word looked up in a run of kanji/hanzi
_JOINERS = ".'’,"  # what `text.WORD` lets stand within a word, never at its ends


def is_cjk(text: str) -> bool:
    """Whether the text holds Chinese or Japanese letters."""
    return _CJK.search(text) is not None


def cjk_words(word: str) -> list[str]:
    """A word that holds Chinese or Japanese, as words: katakana runs whole, hiragana
    dropped but for a negation (`_NEGATING`, as `NEGATION`), kanji/hanzi cut into listed
    words (`_han_words`), other letters whole, without the joiners a cut leaves at their
    ends (`镓’s` is 镓 and s, not ’s)."""
    if not is_cjk(word):
        return [word]
    parts: list[str] = []
    before = ""  # the run before this one
    for han, kana, hiragana, other in _SCRIPT_RUN.findall(word):
        if han:
            parts += _han_words(han)
        elif hiragana:
            if (_NEGATING.fullmatch(hiragana) and hiragana not in _NOT_NEGATING) or (
                before[-1:] in _KANJI_STEMS and _STEM_NEGATING.fullmatch(hiragana)
            ):
                parts.append(NEGATION)
        elif kana or (other := other.strip(_JOINERS)):
            parts.append(kana or other)
        before = han
    return parts


@lru_cache(maxsize=65_536)
def _han_words(run: str) -> tuple[str, ...]:
    """A run of kanji/hanzi cut into the longest words wordfreq lists for Chinese or
    Japanese (at most `HAN_WORD` characters), left to right; an unlisted character alone."""
    words, start = [], 0
    while start < len(run):
        size = min(HAN_WORD, len(run) - start)
        while size > 1 and cjk_zipf(run[start : start + size]) is None:
            size -= 1
        words.append(run[start : start + size])
        start += size
    return tuple(words)


def cjk_zipf(word: str) -> float | None:
    """The word's Zipf frequency in Chinese (written traditional or simplified) or Japanese,
    the highest; None if none lists it."""
    zh, ja = word_list("zh"), word_list("ja")
    found = (zh.zipf(word), ja.zipf(word), zh.zipf(simplified(word)))
    return max(filter(None, found), default=None)
