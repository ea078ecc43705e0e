"""Words as clustering weighs them: a text's words, each word's term (its key) and how
specific it is (its weight, from wordfreq's frequencies).

In: words and texts, in any language. Out: term keys and weights. Pure computation; the
weights are cached, as common words recur.
"""

from __future__ import annotations

import re
import sys
from functools import lru_cache
from itertools import repeat

from watcher.dedupe.lexicon import (
    ENGLISH,
    cjk_words,
    cjk_zipf,
    english_zipf,
    is_cjk,
    word_list,
)
from watcher.dedupe.variants import us_spelling
from watcher.hanzi import simplified
from watcher.rules.folding import fold

WORD = re.compile(r"[^\W_]+(?:[.'’,][^\W_]+)*", re.UNICODE)
# WORD on ASCII text, where [^\W_] is [A-Za-z0-9] and no ’ occurs: the same words, found
# in about 60 % of the time (Unicode classes are looked up a character at a time)
_ASCII_WORD = re.compile(r"[A-Za-z0-9]+(?:[.',][A-Za-z0-9]+)*")
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_NUMBER = re.compile(r"^\d[\d.,]*$")
# terms are compared on their first six letters: import/imports/importing, Kazakh/Kazakhstan
STEM = 6

_STOPWORDS = frozenset(
    """a an the and or of to in on for from with by at as is are was were be been being has have
had will would could should may might must its it this that these those their his her our
your than then into over under about after before up down out new says said say per also
not no but can more most other some such which who whom what when where while all any both
each few only own same so too very just amid via according reported report""".split()  # noqa: SIM905 - a word list reads best as words
)


def words_of(text: str) -> list[str]:
    """The text's words as `WORD` finds them, a run of Chinese or Japanese split into words
    (see `lexicon.cjk_words`)."""
    if text.isascii():
        return _ASCII_WORD.findall(text)
    words = WORD.findall(text)
    if not is_cjk(text):
        return words
    return [part for word in words for part in cjk_words(word)]


@lru_cache(maxsize=65_536)
def term_weight(word: str) -> float:
    """How specific a lower-case word is: 0 for the commonest, up to 6 for unknown words."""
    if _NUMBER.match(word):
        return 1.0 if _YEAR.match(word) else 3.0
    if word.isascii() and word.isalpha():  # one token: look it up without tokenising it
        found = word_list("en").zipf(word)
    elif is_cjk(word):  # a word of `cjk_words`: how common it is in Chinese or Japanese
        found = cjk_zipf(word)
    else:
        found = english_zipf(word)
    return 6.0 if found is None else max(0.0, 6.0 - found)


def weight_in(word: str, langs: tuple[str, ...]) -> float:
    """`term_weight` in a text of `langs` (`lexicon.languages_of`): as common as the language
    that uses the word most has it."""
    weight = term_weight(word)
    for lang in langs[1:]:
        listed = word_list(lang)  # "l'état" is as common as "état"
        found = listed.zipf(word) or listed.zipf(word.rpartition("'")[2]) or 0.0
        weight = min(weight, max(0.0, 6.0 - found))
    return weight


SPECIFIC = 2.0  # weight from which a term is specific (Zipf frequency at most 4)
SPECIFIC_HUNDREDTHS = 200


def terms_of(
    words: list[str], langs: tuple[str, ...], terms: dict[str, int] | None = None
) -> dict[str, int]:
    """Terms of a text's words with their weights in hundredths: lower-case, possessives
    dropped, stems of six letters; a term's heaviest word gives its weight. Given `terms`
    (of the text before), adds to them."""
    terms = {} if terms is None else terms
    found = map(term_of, words) if langs == ENGLISH else map(_term_in, words, repeat(langs))
    for key, weight in filter(None, found):  # map: no frame per word
        if weight > terms.get(key, 0):
            terms[key] = weight
    return terms


@lru_cache(maxsize=65_536)  # common words recur; names mostly do not
def term_of(raw: str) -> tuple[str, int] | None:
    """A word as a term (its key and weight in hundredths), or None for a stopword or a
    common word."""
    word = _normal(raw)
    if word in _STOPWORDS or (len(word) < 2 and not is_cjk(word)):  # 镓 is gallium
        return None
    weight = round(term_weight(word.rstrip(".")) * 100)
    if weight <= 0:
        return None
    return sys.intern(term_key(word)), weight


def term_key(word: str) -> str:
    """The key of a lower-case word's term: its first `STEM` letters, a number whole,
    Chinese written simplified (鎵 and 镓 are one term), folded as the rules fold text
    (`rules.folding.fold`: são and sao, zürich and zurich, королёв and королев are one term;
    й and и, ガ and カ are not), British spelling as American (`us_spelling`: licence
    and license are one term), and an English word without its inflection (`_uninflected`:
    bans and banned are one term). A key begins as its word does, but for the spelling."""
    if word[0].isdigit():
        return word
    if is_cjk(word):
        return simplified(word)[:STEM]
    spelled = us_spelling(word if word.isascii() else fold(word))
    return (_uninflected(spelled) if spelled.isascii() else spelled)[:STEM]


_DOUBLED = frozenset("bdgklmnprt")  # banned, planned, shipped: the base's last letter doubled
# endings, what each becomes, and the shortest word it is cut from, the first that fits
# (agreed is agree, watches watch, taxes tax, bans ban; class, bus and basis are no
# plurals); a key still begins as its word does, which recall's search asks of it
_ENDINGS = (("ing", "", 6), ("eed", "ee", 5), ("ed", "", 5), ("ches", "ch", 5),
            ("shes", "sh", 5), ("sses", "ss", 5), ("xes", "x", 5), ("zes", "z", 5),
            ("ss", "ss", 2), ("us", "us", 2), ("is", "is", 2), ("s", "", 4))  # fmt: skip


def _uninflected(word: str) -> str:
    """An English word without the ending of its plural, third person, past or present
    participle, and a final "e", where the stem would keep it (words of up to `STEM`
    letters, whose ending the stem does not cut): ban, bans, banned and banning are one
    term, as are close, closes, closed and closing, and agree, agrees and agreed. A name so
    cut is cut alike in every story."""
    if len(word) > STEM + 3 or not word.isalpha():
        return word
    for end, base, shortest in _ENDINGS:
        if word.endswith(end) and len(word) >= shortest:
            word = word[: len(word) - len(end)] + base
            if end in ("ing", "ed") and len(word) >= 4 and word[-1] == word[-2] in _DOUBLED:
                word = word[:-1]  # banned, planning
            break
    return word.removesuffix("e") if len(word) >= 4 else word


def _term_in(raw: str, langs: tuple[str, ...]) -> tuple[str, int] | None:
    """`term_of` in a text of `langs`: not cached by language, which would hold each word
    once a language mix."""
    term = term_of(raw)
    if term is None:
        return None
    weight = min(term[1], round(weight_in(_normal(raw).rstrip("."), langs) * 100))
    return (term[0], weight) if weight > 0 else None


# a number with its scale after it, as outlets write money and tonnage in a headline:
# `$1.5bn`, `$1.5B`, `3mln`, `20k`; others write `$1.5 billion`
_SCALED = re.compile(r"(\d[\d.]*)(?:bn|bln|b|mn|mln|m|k|tn|trn|trln)")


@lru_cache(maxsize=65_536)
def _normal(raw: str) -> str:
    """A word as terms are made of it: `spelled`, without the commas of 1,000, a number
    without the scale written after it (`1.5bn`: 1.5, as `1.5 billion` has it)."""
    word = spelled(raw).replace(",", "")
    scaled = _SCALED.fullmatch(word) if word[:1].isdigit() else None
    return scaled.group(1) if scaled else word


def spelled(raw: str) -> str:
    """A word lower-case, with a straight apostrophe and no possessive 's, an abbreviation
    of letters with dots (`U.K`, as `WORD` finds `U.K.`) without them: `UK`."""
    word = raw.replace("’", "'").lower().removesuffix("'s")
    return word.replace(".", "") if "." in word and _DOTTED.fullmatch(word) else word


_DOTTED = re.compile(r"[^\W\d_](?:\.[^\W\d_])+\.?")  # U.K, E.U, U.S.A, С.Ш.А
# the same in a text, a whole word (`U.K.`, `U.K.-based`; not `J.P.Morgan`, one word)
_DOTTED_IN_TEXT = re.compile(r"(?<![\w.])[^\W\d_](?:\.[^\W\d_])+\.?(?!\.?\w)")
# where one may be: a dot, then a letter alone (a pattern that begins with a dot is found
# as fast as a character; `_DOTTED_IN_TEXT`, looking behind at every one, takes 40 times
# as long over a summary that has none)
_MAY_BE_DOTTED = re.compile(r"\.[^\W\d_](?![^\W_])")


def undotted(text: str) -> str:
    """The text with its abbreviations of letters and dots without the dots, as `spelled`
    writes them (`U.K. to ban...`: `UK to ban...`): one headline however an outlet's style
    writes them, a word for a word."""
    return _DOTTED_IN_TEXT.sub(_without_dots, text) if _MAY_BE_DOTTED.search(text) else text


def _without_dots(found: re.Match[str]) -> str:
    return found[0].replace(".", "")
