"""Story text as clustering sees it: cleaned titles and leads, their terms (`terms`) and
which of their words are names, in fingerprints.

In: `Story` objects. Out: `Fingerprint`s (pure computation, made in the parse pool).
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from functools import lru_cache
from itertools import chain, compress, islice, repeat
from typing import NamedTuple
from urllib.parse import urlsplit

from watcher.dedupe.cleaning import clean_lead, clean_title
from watcher.dedupe.lexicon import ENGLISH, languages_of
from watcher.dedupe.terms import (
    SPECIFIC,
    spelled,
    term_of,
    term_weight,
    terms_of,
    undotted,
    weight_in,
    words_of,
)
from watcher.models import Story
from watcher.urls import comparable_url, is_relative_url

LEAD_CHARS = 200
SHORT_TERMS = 6  # specific terms below which a story counts as short when picking candidates
TERM_TEXT_CHARS = 400
SUMMARY_CHARS = 4 * TERM_TEXT_CHARS  # of a summary, all a fingerprint reads
MASK_WORDS = 64  # words of a title or lead whose specificity a fingerprint holds


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
    title_terms = terms_of(title_words, langs)
    terms = terms_of(lead_words, langs, dict(title_terms))  # title's first
    lower_title, lower_lead = undotted(title.lower()), lead[:LEAD_CHARS].lower()
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
    """Which of a title's words are names its lead names too, as bits: a word after the
    first written with a capital (`Japan`, `Australian`) and found in the lead; in a title
    in title case ("China To Restrict Gallium Exports To Japan"), whose capitals tell
    nothing, found with its capital within a sentence of the lead (`_named_within`).
    Common words that are names (countries, peoples, cities) are not specific, and so were
    no names to the name-swap check: "Mitsubishi to buy lithium from Australian miner" and
    "... copper from Chilean miner" were one news item. A word that is no term (`US`, also
    "us") is none, nor is a firm's legal form (`LEGAL_FORMS`: Corp, Corporation)."""
    capitals = lower = 0
    for word in islice(title_words, 1, MASK_WORDS):
        if len(word) >= NAME_LETTERS and word[0].isalpha():
            if word[0].isupper():
                capitals += 1
            else:
                lower += 1
    if not capitals or not lead:
        return 0
    named = _named_within if capitals >= lower else str.__contains__
    return sum(
        1 << i for i, word in enumerate(title_words[:MASK_WORDS])
        if i and word[0].isupper() and named(lead, _bare(word)) and term_of(word) is not None
        and spelled(word) not in LEGAL_FORMS
    )  # fmt: skip


def _named_within(lead: str, word: str) -> bool:
    """Whether the lead writes the word with its capital within a sentence, where only a
    name has one: not at the lead's beginning nor after a sentence's end (`. `), and as a
    word of its own."""
    at = lead.find(word, 1)  # at the lead's beginning it tells nothing; later it may
    while at > 0:
        after = at + len(word)
        before = lead[:at].rstrip()
        if (
            not lead[at - 1].isalnum()
            and before[-1:] not in '.!?:"“«'
            and not lead[after : after + 1].isalnum()
        ):
            return True
        at = lead.find(word, at + 1)
    return False


def _bare(word: str) -> str:
    """A word without its possessive 's, in its case."""
    return word.replace("’", "'").removesuffix("'s")


@lru_cache(maxsize=65_536)
def _is_specific_token(raw: str) -> bool:
    """`is_specific_word` of a word as `_words` gives it."""
    return is_specific_word(spelled(raw))


def _is_specific_token_in(raw: str, langs: tuple[str, ...]) -> bool:
    return _is_specific_token(raw) and is_specific_word(spelled(raw), langs)


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
