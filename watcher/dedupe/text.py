"""Story text as clustering sees it: cleaned titles and leads, weighted terms, fingerprints.

In: `Story` objects. Out: `Fingerprint`s (pure computation, made in the parse pool).
"""

from __future__ import annotations

import re
import sys
from array import array
from collections.abc import Sequence
from functools import lru_cache
from itertools import chain, compress, islice, repeat
from typing import NamedTuple
from urllib.parse import urlsplit

from watcher.dedupe.cleaning import clean_lead, clean_title
from watcher.dedupe.lexicon import (
    ENGLISH,
    cjk_words,
    cjk_zipf,
    english_zipf,
    is_cjk,
    languages_of,
    word_list,
)
from watcher.dedupe.variants import us_spelling
from watcher.hanzi import simplified
from watcher.models import Story
from watcher.rules.folding import fold
from watcher.urls import comparable_url, is_relative_url

# -- words and terms ---------------------------------------------------------------------

WORD = re.compile(r"[^\W_]+(?:[.'’,][^\W_]+)*", re.UNICODE)
# WORD on ASCII text, where [^\W_] is [A-Za-z0-9] and no ’ occurs: the same words, found
# in about 60 % of the time (Unicode classes are looked up a character at a time)
_ASCII_WORD = re.compile(r"[A-Za-z0-9]+(?:[.',][A-Za-z0-9]+)*")
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_NUMBER = re.compile(r"^\d[\d.,]*$")
LEAD_CHARS = 200
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


def _terms_of(
    words: list[str], langs: tuple[str, ...], terms: dict[str, int] | None = None
) -> dict[str, int]:
    """Terms of a text's words with their weights in hundredths: lower-case, possessives
    dropped, stems of six letters; a term's heaviest word gives its weight. Given `terms`
    (of the text before), adds to them."""
    terms = {} if terms is None else terms
    found = map(_term, words) if langs == ENGLISH else map(_term_in, words, repeat(langs))
    for key, weight in filter(None, found):  # map: no frame per word
        if weight > terms.get(key, 0):
            terms[key] = weight
    return terms


@lru_cache(maxsize=65_536)  # common words recur; names mostly do not
def _term(raw: str) -> tuple[str, int] | None:
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
    """`_term` in a text of `langs`: not cached by language, which would hold each word
    once a language mix."""
    term = _term(raw)
    if term is None:
        return None
    weight = min(term[1], round(weight_in(_normal(raw).rstrip("."), langs) * 100))
    return (term[0], weight) if weight > 0 else None


# a number with its scale after it, as outlets write money and tonnage in a headline:
# `$1.5bn`, `$1.5B`, `3mln`, `20k`; others write `$1.5 billion`
_SCALED = re.compile(r"(\d[\d.]*)(?:bn|bln|b|mn|mln|m|k|tn|trn|trln)")


@lru_cache(maxsize=65_536)
def _normal(raw: str) -> str:
    """A word as terms are made of it: `_spelled`, without the commas of 1,000, a number
    without the scale written after it (`1.5bn`: 1.5, as `1.5 billion` has it)."""
    word = _spelled(raw).replace(",", "")
    scaled = _SCALED.fullmatch(word) if word[:1].isdigit() else None
    return scaled.group(1) if scaled else word


def _spelled(raw: str) -> str:
    """A word lower-case, with a straight apostrophe and no possessive 's."""
    return raw.replace("’", "'").lower().removesuffix("'s")


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
    title_specific: int  # bits: which of the title's first MASK_WORDS words are specific,
    # or names its lead names too (`_named_in_lead`)
    lead_specific: int  # the same for the lead
    related: tuple[str, ...] = ()  # links the entry lists as other coverage of its news
    outlet: str = ""  # the story's source, as the feed or the entry's <source> names it

    @property
    def terms(self) -> dict[str, float]:
        return {k: w / 100 for k, w in zip(self.term_keys, self.term_weights, strict=True)}


LANGUAGE_WORDS = 40  # of the title and lead: enough to tell a language


def fingerprint(story: Story) -> Fingerprint:
    title, lead, title_words, lead_words = _cleaned(story)
    langs = _languages(title_words, lead_words)
    title_terms = _terms_of(title_words, langs)
    terms = _terms_of(lead_words, langs, dict(title_terms))  # title's first
    lower_title, lower_lead = title.lower(), lead[:LEAD_CHARS].lower()
    return Fingerprint(
        id=story.id,
        link=comparable_url(story.link),
        guid=site_guid(story.guid, story.link),
        published=story.published.timestamp(),
        title=lower_title,
        lead=lower_lead,
        term_keys=tuple(terms),
        term_weights=array("H", terms.values()),
        title_keys=tuple(title_terms),
        title_specific=_specific_words(lower_title, langs, title_words if title.isascii() else None)
        | _named_in_lead(title_words, lead[:TERM_TEXT_CHARS]),
        lead_specific=_specific_words(lower_lead, langs),
        related=tuple(map(comparable_url, story.related)),
        outlet=story.source,
    )


def _cleaned(story: Story) -> tuple[str, str, list[str], list[str]]:
    """The story's cleaned title and lead, and the words terms are made of in each."""
    title = clean_title(story.title, story.source)
    lead = clean_lead(_beginning(story.summary), story.title, story.source)
    return title, lead, words_of(title), words_of(lead[:TERM_TEXT_CHARS])


def _languages(title_words: list[str], lead_words: list[str]) -> tuple[str, ...]:
    return languages_of(list(islice(chain(title_words, lead_words), LANGUAGE_WORDS)))


def story_languages(story: Story) -> tuple[str, ...]:
    """The languages `fingerprint` weighs the story's words by."""
    _, _, title_words, lead_words = _cleaned(story)
    return _languages(title_words, lead_words)


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


def _specific_words(text: str, langs: tuple[str, ...], words: list[str] | None = None) -> int:
    """Which of the text's first words are specific, as bits: what a pair's name-swap check
    asks of words, answered here, where wordfreq is loaded, not in the service's window.
    `words`: the text's words, in any case (for ASCII, case does not change the words)."""
    words = (words_of(text) if words is None else words)[:MASK_WORDS]
    found = (
        map(_is_specific_token, words) if langs == ENGLISH
        else map(_is_specific_token_in, words, repeat(langs))
    )  # fmt: skip
    return sum(compress(_BITS, found))  # all in C


_BITS = tuple(1 << i for i in range(MASK_WORDS))
NAME_LETTERS = 4  # words of a title from which its case tells sentence case from title case
# a firm's legal form, written with a capital but no name: outlets write it their own way
# (Mitsubishi Corp, Mitsubishi Corporation), which is no other firm
LEGAL_FORMS = frozenset({
    "corp", "corporation", "co", "company", "cos", "companies", "ltd", "limited", "inc",
    "incorporated", "plc", "llc", "lp", "llp", "ag", "sa", "se", "nv", "bv", "gmbh", "kk", "jsc",
    "pjsc", "ojsc", "holdings", "group",
})  # fmt: skip


def _named_in_lead(title_words: list[str], lead: str) -> int:
    """Which of a sentence-case title's words are names its lead names too, as bits: a word
    after the first written with a capital (`Japan`, `Australian`) and found in the lead.
    Common words that are names (countries, peoples, cities) are not specific, and so were
    no names to the name-swap check: "Mitsubishi to buy lithium from Australian miner" and
    "... copper from Chilean miner" were one news item. A title in title case ("China To
    Restrict Gallium Exports") tells nothing by its capitals; a word that is no term (`US`,
    also "us") is none, nor is a firm's legal form (`LEGAL_FORMS`: Corp, Corporation)."""
    capitals = lower = 0
    for word in islice(title_words, 1, MASK_WORDS):
        if len(word) >= NAME_LETTERS and word[0].isalpha():
            if word[0].isupper():
                capitals += 1
            else:
                lower += 1
    if not capitals or capitals >= lower or not lead:
        return 0
    return sum(
        1 << i for i, word in enumerate(title_words[:MASK_WORDS])
        if i and word[0].isupper() and _bare(word) in lead and _term(word) is not None
        and word.lower() not in LEGAL_FORMS
    )  # fmt: skip


def _bare(word: str) -> str:
    """A word without its possessive 's, in its case."""
    return word.replace("’", "'").removesuffix("'s")


@lru_cache(maxsize=65_536)
def _is_specific_token(raw: str) -> bool:
    """`is_specific_word` of a word as `_words` gives it."""
    return is_specific_word(_spelled(raw))


def _is_specific_token_in(raw: str, langs: tuple[str, ...]) -> bool:
    return _is_specific_token(raw) and is_specific_word(_spelled(raw), langs)


def is_specific_word(word: str, langs: tuple[str, ...] = ENGLISH) -> bool:
    if word[0].isdigit():
        return False
    return (term_weight(word) if langs == ENGLISH else weight_in(word, langs)) >= SPECIFIC


def fingerprints(stories: Sequence[Story]) -> list[Fingerprint]:
    """Fingerprints of many stories: run in the parse pool, off the event loop."""
    return [fingerprint(s) for s in stories]


def _beginning(summary: str) -> str:
    """Only a summary's beginning is compared: cleaning all of a long one is wasted work."""
    return summary if len(summary) <= SUMMARY_CHARS else summary[:SUMMARY_CHARS]
