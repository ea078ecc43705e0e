"""Fold near-identical stories into story clusters.

In: `Story` objects. Out: cluster decisions (`Assignment`) and pair scores (`PairScore`).
Pure computation; the service persists what it decides through `store`.

Two stories are linked at one of three levels:
- exact: the same canonical link or the same guid;
- reprint: the same wire text once datelines, credit lines, outlet suffixes and UPDATE
  prefixes are set aside (near-identical lead, or for a title-only story, near-identical
  title with no specific word of either title missing from the other story);
- same-event: other wording of the same news, published within the window, sharing enough
  *specific* terms (names, rare words and numbers) and enough of their weighted wording.

A term's weight is its rarity in general English (wordfreq's Zipf scale: 6 minus the
frequency, so "the" weighs nothing and "gallium" about 4.4), which does not depend on the
stories seen, so a pair's decision depends on that pair alone. Clusters are the connected
components of these links: the same set of stories gives the same partition in any order.
"""

from __future__ import annotations

import math
import re
import sys
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from functools import lru_cache, partial
from itertools import compress, count, repeat
from operator import is_, le
from typing import Any, NamedTuple

from rapidfuzz import fuzz
from wordfreq import get_frequency_dict, zipf_frequency

from watcher.models import Assignment, ClusterLevel, Story

Level = ClusterLevel
LEVEL_RANK: dict[str, int] = {"exact": 3, "reprint": 2, "same-event": 1}


@dataclass(frozen=True, kw_only=True)
class ClusterSettings:
    """Thresholds of the three levels; `window` in seconds."""

    window: float = 72 * 3600.0
    reprint_lead: float = 90.0  # rapidfuzz ratio of the cleaned leads' first 200 characters
    reprint_title: float = 92.0  # ratio of cleaned titles, used when a story has no lead
    same_event_terms: int = 3  # specific terms both stories must share
    same_event_weight: float = 12.0  # summed weight of all shared terms
    same_event_dice: float = 0.25  # weighted Dice overlap of title + lead terms
    max_postings: int = 500  # newest stories scanned per term when picking candidates


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
_WORD = re.compile(r"[^\W_]+(?:[.'’,][^\W_]+)*", re.UNICODE)
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


def clean_title(title: str) -> str:
    """The headline without UPDATE prefixes or an outlet suffix."""
    title = _UPDATE.sub("", title)
    return _SUFFIX.sub("", title).strip()


def clean_lead(summary: str, title: str) -> str:
    """The summary without dateline, credit line or a copy of the title ('' if nothing else)."""
    text = _DATELINE.sub("", summary, count=1)
    if text.rstrip()[-1:] in _CREDIT_ENDS:  # no credit line can end otherwise: skip the scan
        text = _CREDIT.sub("", text)
    text = _REPORTED.sub(".", text).strip()
    cleaned_title = clean_title(title)
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
    if word in _STOPWORDS or len(word) < 2:
        return None
    weight = round(term_weight(word.rstrip(".")) * 100)
    if weight <= 0:
        return None
    return sys.intern(word if word[0].isdigit() else word[:STEM]), weight


# -- fingerprints and pair scores ------------------------------------------------------------


class Fingerprint(NamedTuple):
    """What clustering needs of a story. A tuple: made in the parse pool and pickled to the
    event loop, a feed's 35 unpickle in about 190 us, where frozen dataclasses took 370-400."""

    id: str
    link: str
    guid: str | None
    published: float  # POSIX seconds
    title: str  # cleaned, lower-case
    lead: str  # cleaned, lower-case, first LEAD_CHARS characters
    term_keys: tuple[str, ...]  # title + lead terms, interned
    term_weights: array[int]  # hundredths: Zipf frequencies have two decimals
    title_keys: tuple[str, ...]
    title_specific: int  # bits: which of the title's first MASK_WORDS words are specific
    lead_specific: int  # the same for the lead

    @property
    def terms(self) -> dict[str, float]:
        return {k: w / 100 for k, w in zip(self.term_keys, self.term_weights, strict=True)}


def fingerprint(story: Story) -> Fingerprint:
    title = clean_title(story.title)
    lead = clean_lead(_beginning(story.summary), story.title)
    title_words = _WORD.findall(title)
    title_terms = _terms_of(title_words)
    terms = _terms_of(_WORD.findall(lead[:TERM_TEXT_CHARS]), dict(title_terms))  # title's first
    lower_title, lower_lead = title.lower(), lead[:LEAD_CHARS].lower()
    return Fingerprint(
        id=story.id,
        link=story.link,
        guid=story.guid,
        published=story.published.timestamp(),
        title=lower_title,
        lead=lower_lead,
        term_keys=tuple(terms),
        term_weights=array("H", terms.values()),
        title_keys=tuple(title_terms),
        title_specific=_specific_words(lower_title, title_words if title.isascii() else None),
        lead_specific=_specific_words(lower_lead),
    )


def _specific_words(text: str, words: list[str] | None = None) -> int:
    """Which of the text's first words are specific, as bits: what a pair's name-swap check
    asks of words, answered here, where wordfreq is loaded, not in the service's window.
    `words`: the text's words, in any case (for ASCII, case does not change the words)."""
    words = _WORD.findall(text) if words is None else words
    return sum(compress(_BITS, map(_is_specific_token, words[:MASK_WORDS])))  # all in C


_BITS = tuple(1 << i for i in range(MASK_WORDS))


@lru_cache(maxsize=65_536)
def _is_specific_token(raw: str) -> bool:
    """`_is_specific_word` of a word as `_words` gives it."""
    return _is_specific_word(raw.replace("’", "'").lower().removesuffix("'s"))


def _is_specific_word(word: str) -> bool:
    return not word[0].isdigit() and term_weight(word) >= SPECIFIC


def fingerprints(stories: Sequence[Story]) -> list[Fingerprint]:
    """Fingerprints of many stories: run in the parse pool, off the event loop."""
    return [fingerprint(s) for s in stories]


def _beginning(summary: str) -> str:
    """Only a summary's beginning is compared: cleaning all of a long one is wasted work."""
    return summary if len(summary) <= SUMMARY_CHARS else summary[:SUMMARY_CHARS]


@dataclass(frozen=True, kw_only=True)
class PairScore:
    """Why two stories are, or are not, the same news item."""

    level: Level | None
    reason: str
    hours_apart: float
    title_ratio: float
    lead_ratio: float | None
    shared_terms: tuple[str, ...]
    specific_shared: int
    shared_weight: float
    dice: float
    title_conflicts: tuple[str, ...]
    slot_swaps: tuple[str, ...] = ()


def compare(
    a: Fingerprint, b: Fingerprint, settings: ClusterSettings, *, explain: bool = False
) -> PairScore:
    """Score a pair and decide its level (None: not the same news item).

    The name-swap check (a word-level diff) only runs when the cheaper scores would link
    the pair, or when `explain` asks for every score.
    """
    a_terms, b_terms = a.terms, b.terms
    hours = abs(a.published - b.published) / 3600
    title_ratio = fuzz.ratio(a.title, b.title)
    # an outlet may cut the lead short: compare equally long beginnings
    common = min(len(a.lead), len(b.lead))
    lead_ratio = fuzz.ratio(a.lead[:common], b.lead[:common]) if common >= MIN_LEAD else None
    shared = sorted(a_terms.keys() & b_terms.keys())
    weight = sum(min(a_terms[t], b_terms[t]) for t in shared)
    total = sum(a_terms.values()) + sum(b_terms.values())
    conflicts = _title_conflicts(a, a_terms, b_terms) | _title_conflicts(b, b_terms, a_terms)
    score = PairScore(
        level=None, reason="", hours_apart=hours, title_ratio=title_ratio, lead_ratio=lead_ratio,
        shared_terms=tuple(shared),
        specific_shared=sum(1 for t in shared if min(a_terms[t], b_terms[t]) >= SPECIFIC),
        shared_weight=weight, dice=2 * weight / total if total else 0.0,
        title_conflicts=tuple(sorted(conflicts)),
    )  # fmt: skip
    level, reason = _decide(a, b, score, settings)
    if level in ("reprint", "same-event") or explain:
        swaps = slot_swaps(a.title, b.title, a_terms, b_terms, a.title_specific, b.title_specific)
        if lead_ratio is not None and lead_ratio >= settings.reprint_lead:
            swaps += slot_swaps(a.lead, b.lead, a_terms, b_terms, a.lead_specific, b.lead_specific)
        score = replace(score, slot_swaps=tuple(dict.fromkeys(swaps)))
        if swaps and level in ("reprint", "same-event"):
            level, reason = (
                None,
                f"the same wording about other names ({', '.join(score.slot_swaps)})",
            )
    return replace(score, level=level, reason=reason)


def slot_swaps(
    a_text: str, b_text: str, a_terms: dict[str, float], b_terms: dict[str, float],
    a_specific: int, b_specific: int,
) -> list[str]:  # fmt: skip
    """Aligned spans of at most 3 words where each side holds a specific name the other lacks.

    "import antimony from Tajikistan" against "import antimony from Bolivia" swaps
    tajikistan/bolivia: the same template about other news. Numbers are not names: a
    corrected figure is still the same story. `a_specific` and `b_specific` say which words
    are specific (`_specific_words`).
    """
    a_words, b_words = _words(a_text), _words(b_text)
    swaps = []
    matcher = SequenceMatcher(None, a_words, b_words, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "replace" or i2 - i1 > 3 or j2 - j1 > 3:
            continue
        a_names = _names_missing(a_words, i1, i2, a_specific, b_terms)
        b_names = _names_missing(b_words, j1, j2, b_specific, a_terms)
        if a_names and b_names:
            swaps.append(f"{a_names[0]}/{b_names[0]}")
    return swaps


def _words(text: str) -> list[str]:
    return [w.removesuffix("'s") for w in _WORD.findall(text.replace("’", "'").lower())]


def _names_missing(
    words: list[str], start: int, end: int, specific: int, other_terms: dict[str, float]
) -> list[str]:
    """Specific words of `words[start:end]` whose term the other story lacks; `specific` holds
    the first words' answers (see `_specific_words`)."""
    return [
        words[i] for i in range(start, end)
        if (specific >> i & 1 if i < MASK_WORDS else _is_specific_word(words[i]))
        and words[i][:STEM] not in other_terms
    ]  # fmt: skip


def _title_conflicts(
    a: Fingerprint, a_terms: dict[str, float], b_terms: dict[str, float]
) -> set[str]:
    """Specific words of a's title found nowhere in b's title or lead."""
    return {t for t in a.title_keys if a_terms.get(t, 0) >= SPECIFIC and t not in b_terms}


def _decide(
    a: Fingerprint, b: Fingerprint, s: PairScore, settings: ClusterSettings
) -> tuple[Level | None, str]:
    if a.link and a.link == b.link:
        return "exact", "same canonical link"
    if a.guid and a.guid == b.guid:
        return "exact", "same guid"
    if abs(a.published - b.published) > settings.window:
        return None, f"published {s.hours_apart:.1f} h apart, beyond the window"
    if s.lead_ratio is not None and s.lead_ratio >= settings.reprint_lead:
        return "reprint", f"leads {s.lead_ratio:.1f}% alike"
    title_only = s.lead_ratio is None
    if (
        title_only
        and len(set(a.title_keys) & set(b.title_keys)) >= 2
        and not s.title_conflicts
        and s.title_ratio >= settings.reprint_title
    ):
        return "reprint", f"titles {s.title_ratio:.1f}% alike, one story has no lead"
    if (
        s.specific_shared >= settings.same_event_terms
        and s.shared_weight >= settings.same_event_weight
        and s.dice >= settings.same_event_dice
    ):
        return "same-event", (
            f"{s.specific_shared} specific terms shared, weight {s.shared_weight:.2f}, "
            f"dice {s.dice:.3f}"
        )
    return None, (
        f"{s.specific_shared} specific terms shared (need {settings.same_event_terms}), "
        f"weight {s.shared_weight:.2f} (need {settings.same_event_weight:g}), "
        f"dice {s.dice:.3f} (need {settings.same_event_dice:g})"
    )


# -- the window index ------------------------------------------------------------------------


class ClusterIndex:
    """Recent stories indexed by link, guid, title and specific terms, with their clusters.

    Candidates for a new story are the stories sharing its link, guid or cleaned title, or
    at least two of its specific terms (scanning at most `max_postings` of the newest
    stories per term); only those are scored, so the cost per story stays nearly flat as
    the window grows.

    The window holds hundreds of thousands of stories, so it keeps them in columns, not as
    `Fingerprint` objects: a story is a slot in flat arrays, its terms are numbers in a
    vocabulary, its link and guid are their hashes, and a merged cluster points to the one
    it joined. A slot's fingerprint is rebuilt only to score a pair that may link.
    """

    def __init__(self, settings: ClusterSettings, *, next_cluster: int = 1) -> None:
        self.settings = settings
        self.next_cluster = next_cluster
        self._ids = _StoryIds()
        self._published = array("d")
        self._cluster = array("q")  # cluster on insertion; `_merged` leads to the current one
        self._link = array("q")  # hash of the link, 0 for none
        self._guid = array("q")
        self._text = bytearray()  # cleaned titles + leads, UTF-8: most news is ASCII
        self._text_at = array("I", [0])  # slot i's text: [_text_at[i], _text_at[i + 1])
        self._title_len = array("I")
        self._title_terms = array("I")  # a fingerprint's title terms come first in its terms
        self._title_specific = array("Q")
        self._lead_specific = array("Q")
        self._terms_at = array("I", [0])  # slot i's terms: [_terms_at[i], _terms_at[i + 1])
        self._term_ids = array("I")
        self._term_weights = array("H")
        self._vocab: dict[str, int] = {}  # term -> id
        self._words: list[str] = []  # id -> term
        # specific term id -> its slots, oldest first: one slot as an int (most names are rare)
        self._postings: list[array[int] | int | None] = []
        self._keyed = _SlotTable()  # hash of link, guid or title -> slots
        self._merged: dict[int, int] = {}  # cluster -> the cluster it was merged into
        self._undo: list[Callable[[], None]] | None = None  # inverses of changes since begin()
        self._undo_next_cluster = next_cluster
        self._undo_words = 0

    # -- tentative changes: a batch whose writes to the store may yet fail --------------------

    def begin(self) -> None:
        """Record what follows, so that `rollback` can take it back."""
        self._undo, self._undo_next_cluster = [], self.next_cluster
        self._undo_words = len(self._words)

    def commit(self) -> None:
        self._undo = None

    def rollback(self) -> None:
        """Take back every story added and every merge made since `begin`, newest first."""
        steps, self._undo = self._undo or [], None
        for step in reversed(steps):
            step()
        self.next_cluster = self._undo_next_cluster
        for word in self._words[self._undo_words :]:
            del self._vocab[word]
        del self._words[self._undo_words :], self._postings[self._undo_words :]

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, story: Story) -> Assignment:
        """Cluster `story` against the window and keep it there."""
        return self.add_fingerprint(fingerprint(story))

    def add_fingerprint(self, fp: Fingerprint, cluster: int | None = None) -> Assignment:
        """Add a story; with `cluster`, restore a known assignment without scoring."""
        row = self._row(fp)
        if cluster is not None:
            self._insert(row, cluster)
            self.next_cluster = max(self.next_cluster, cluster + 1)
            return Assignment(
                story=fp.id, cluster=cluster, level=None, matched=None, reason="restored"
            )
        best: tuple[int, float, int, PairScore] | None = None
        linked: set[int] = set()
        probe: Fingerprint | None = None
        candidates, specific, counted_from = self._candidates_of(row)
        terms = dict(zip(row.ids, row.weights, strict=True)) if candidates else {}
        total, least = sum(row.weights), self.settings.same_event_terms
        for slot in candidates:
            shares = slot < counted_from or specific[slot] >= least  # may be the same event
            if not self._could_link(row, terms, total, slot, shares):
                continue
            probe = probe or fp._replace(link=_stand_in(row.link), guid=_stand_in(row.guid))
            score = compare(probe, self._print_at(slot), self.settings)
            if score.level is None:
                continue
            linked.add(self.current(self._cluster[slot]))
            rank = (LEVEL_RANK[score.level], score.dice)
            if best is None or rank > (best[0], best[1]):
                best = (rank[0], rank[1], slot, score)
        if best is None:
            cluster = self.next_cluster
            self.next_cluster += 1
            self._insert(row, cluster)
            return Assignment(story=fp.id, cluster=cluster, level=None, matched=None, reason="new")
        cluster = min(linked)
        merged = tuple(sorted(linked - {cluster}))
        for old in merged:
            self._merge(old, into=cluster)
        self._insert(row, cluster)
        _, _, slot, score = best
        return Assignment(
            story=fp.id, cluster=cluster, level=score.level, matched=self._ids[slot],
            reason=score.reason, merged=merged,
        )  # fmt: skip

    def current(self, cluster: int) -> int:
        """The cluster a cluster ended in, after merges (itself if it was never merged)."""
        while (into := self._merged.get(cluster)) is not None:
            cluster = into
        return cluster

    def cluster_for(self, story_id: str) -> int | None:
        """The cluster of the story added last with this id: a scan, for tools and tests."""
        slot = self._ids.last(story_id)
        return None if slot is None else self.current(self._cluster[slot])

    def expire(self, before: float) -> int:
        """Forget stories published before `before` (POSIX seconds); returns how many.

        The window is compacted in place, a column at a time, so it is never held twice:
        the result is the index a fresh start would build from the stories kept, each in
        the cluster it ended in."""
        assert self._undo is None, "no expiry within a tentative batch"
        keep = bytes(map(partial(le, before), self._published))  # 1: published >= before
        removed = len(keep) - sum(keep)
        if not removed:
            return 0
        moved = array("i", [-1]) * len(keep)  # slot -> its new slot, -1 when expired
        for new, old in enumerate(compress(range(len(keep)), keep)):
            moved[old] = new
        self._cluster = array("q", map(self.current, self._cluster))
        self._merged = {}
        for name in ("_published", "_cluster", "_link", "_guid", "_title_len", "_title_terms",
                     "_title_specific", "_lead_specific"):  # fmt: skip
            column = getattr(self, name)
            setattr(self, name, array(column.typecode, compress(column, keep)))
        self._ids.move(moved)
        self._text_at = _compact(self._text, self._text_at, keep)
        _compact(self._term_weights, self._terms_at, keep)
        self._terms_at = _compact(self._term_ids, self._terms_at, keep)
        self._renumber_terms()
        self._postings = [_moved_postings(slots, moved) for slots in self._postings]
        self._keyed.move(moved)
        return removed

    def _renumber_terms(self) -> None:
        """Drop the terms no story holds any more; number the others in order of first use."""
        order = dict.fromkeys(self._term_ids)  # in C: ids held, first use first
        numbers = array("i", [-1]) * len(self._words)
        for new, old in enumerate(order):
            numbers[old] = new
        term_ids, step = self._term_ids, 1 << 16
        for start in range(0, len(term_ids), step):  # in C, a slice at a time: no second copy
            term_ids[start : start + step] = array(
                "I", map(numbers.__getitem__, term_ids[start : start + step])
            )
        words, postings = self._words, self._postings
        for old, word in enumerate(words):
            if numbers[old] < 0:
                del self._vocab[word]
            else:
                self._vocab[word] = numbers[old]
        self._words = [words[old] for old in order]
        self._postings = [postings[old] for old in order]

    # -- candidates and scores -----------------------------------------------------------------

    def _candidates_of(self, row: _Row) -> tuple[list[int], Counter[int], int]:
        """Slots worth scoring against a new story; how many specific terms each slot shares
        with it; and the oldest slot from which those counts are whole (a long posting list
        is scanned only from its newest `max_postings` slots)."""
        hits: Counter[int] = Counter()
        limit, counted_from = self.settings.max_postings, 0
        postings, single = self._postings, []
        for term in row.specific:
            slots = postings[term]
            if isinstance(slots, int):
                single.append(slots)
            elif slots is not None:
                hits.update(slots[-limit:])  # counted in C: no Python call per posting
                if len(slots) > limit:  # slots in ascending order: older ones were not seen
                    counted_from = max(counted_from, slots[-limit])
        hits.update(single)
        needed = self._hits_needed(row)
        found = set(compress(hits.keys(), map(partial(le, needed), hits.values())))  # in C
        for key in _exact_keys(row.link, row.guid, row.title):
            found.update(self._keyed.get(key))
        oldest, published = row.published - self.settings.window, self._published
        link, guid = self._link, self._guid
        return sorted(
            slot for slot in found if published[slot] >= oldest
            or (row.link and link[slot] == row.link) or (row.guid and guid[slot] == row.guid)
        ), hits, counted_from  # fmt: skip

    def _hits_needed(self, row: _Row) -> int:
        """Shared specific terms that make a candidate: the same-event minimum (at most 3),
        but 2 for a short story, whose reprints may share no more."""
        short = len(row.lead) < MIN_LEAD or len(row.specific) < SHORT_TERMS
        return 2 if short else max(2, min(3, self.settings.same_event_terms))

    def _could_link(
        self, a: _Row, a_terms: dict[int, int], a_total: int, slot: int, shares: bool = True
    ) -> bool:
        """The conditions of `_decide` without the name-swap veto, computed cheaply from the
        columns, for a new story (its terms by id, and their summed weight) and a slot.
        Without `shares`, the pair is known to share too few specific terms to be the same
        event, and only the exact and reprint conditions are checked.

        Every pair `compare` would link passes; most pairs that share a few words fail here
        without building a score. Weights are in hundredths, sums exact.
        """
        s = self.settings
        if (a.link and a.link == self._link[slot]) or (a.guid and a.guid == self._guid[slot]):
            return True
        if abs(a.published - self._published[slot]) > s.window:
            return False
        text, title_len = self._text_of(slot), self._title_len[slot]
        common = min(len(a.lead), len(text) - title_len)
        if common >= MIN_LEAD:
            b_lead = text[title_len : title_len + common]
            if fuzz.ratio(a.lead[:common], b_lead, score_cutoff=s.reprint_lead):
                return True
        elif fuzz.ratio(a.title, text[:title_len], score_cutoff=s.reprint_title):
            return True
        if not shares:
            return False
        start, end = self._terms_at[slot], self._terms_at[slot + 1]
        b_weights = self._term_weights[start:end]
        b_terms = dict(zip(self._term_ids[start:end], b_weights, strict=True))
        shared = a_terms.keys() & b_terms.keys()  # in C
        if len(shared) < s.same_event_terms:
            return False
        weight = specific = 0
        for term in shared:
            low = min(a_terms[term], b_terms[term])
            weight += low
            specific += low >= SPECIFIC_HUNDREDTHS
        if specific < s.same_event_terms or weight < s.same_event_weight * 100:
            return False
        return 2 * weight / (a_total + sum(b_weights)) >= s.same_event_dice

    def _print_at(self, slot: int) -> Fingerprint:
        """A slot's fingerprint, its link and guid stood in for by their hashes."""
        id, published, link, guid, title, lead, keys, weights, title_terms, specific_words = (
            self._stored(slot)
        )
        return Fingerprint(
            id=id, link=_stand_in(link), guid=_stand_in(guid), published=published,
            title=title, lead=lead, term_keys=keys, term_weights=weights,
            title_keys=keys[:title_terms], title_specific=specific_words[0],
            lead_specific=specific_words[1],
        )  # fmt: skip

    # -- rows and slots ------------------------------------------------------------------------

    def _row(self, fp: Fingerprint) -> _Row:
        """A fingerprint as the window keeps it, its new terms given ids."""
        title_terms = len(fp.title_keys)
        assert fp.term_keys[:title_terms] == fp.title_keys, "title terms come first"
        link, guid = hash(fp.link) if fp.link else 0, hash(fp.guid) if fp.guid else 0
        return self._made_row(
            fp.id, fp.published, link, guid, fp.title, fp.lead, fp.term_keys, fp.term_weights,
            title_terms, (fp.title_specific, fp.lead_specific),
        )  # fmt: skip

    def _made_row(
        self, id: str, published: float, link: int, guid: int, title: str, lead: str,
        keys: tuple[str, ...], weights: array[int], title_terms: int,
        specific_words: tuple[int, int],
    ) -> _Row:  # fmt: skip
        vocab = self._vocab
        found: list[Any] = list(map(vocab.get, keys))  # in C, as below
        if None in found:
            new = list(compress(keys, map(is_, found, repeat(None))))
            vocab.update(zip(new, count(len(self._words))))
            self._words += new
            self._postings += [None] * len(new)
            found = list(map(vocab.__getitem__, keys))
        ids = array("I", found)
        return _Row(
            id=id, published=published, link=link, guid=guid, title=title, lead=lead,
            weights=weights, title_terms=title_terms, specific_words=specific_words, ids=ids,
            specific=list(compress(ids, map(partial(le, SPECIFIC_HUNDREDTHS), weights))),  # in C
        )  # fmt: skip

    def _text_of(self, slot: int) -> str:
        return self._text[self._text_at[slot] : self._text_at[slot + 1]].decode()

    def _stored(self, slot: int) -> tuple[Any, ...]:
        """A slot's fields, in `_made_row`'s order."""
        start, end = self._terms_at[slot], self._terms_at[slot + 1]
        text, title_len = self._text_of(slot), self._title_len[slot]
        return (
            self._ids[slot], self._published[slot], self._link[slot], self._guid[slot],
            text[:title_len], text[title_len:],
            tuple(map(self._words.__getitem__, self._term_ids[start:end])),
            self._term_weights[start:end], self._title_terms[slot],
            (self._title_specific[slot], self._lead_specific[slot]),
        )  # fmt: skip

    def _insert(self, row: _Row, cluster: int) -> None:
        slot = len(self._ids)
        if self._undo is not None:
            self._undo.append(lambda: self._uninsert(row))
        self._ids.append(row.id)
        self._published.append(row.published)
        self._cluster.append(cluster)
        self._link.append(row.link)
        self._guid.append(row.guid)
        self._text += (row.title + row.lead).encode()
        self._text_at.append(len(self._text))
        self._title_len.append(len(row.title))
        self._title_terms.append(row.title_terms)
        self._title_specific.append(row.specific_words[0])
        self._lead_specific.append(row.specific_words[1])
        self._term_ids += row.ids
        self._term_weights += row.weights
        self._terms_at.append(len(self._term_ids))
        postings = self._postings
        for term in row.specific:
            slots = postings[term]
            if slots is None:
                postings[term] = slot
            elif isinstance(slots, int):
                postings[term] = array("i", [slots, slot])
            else:
                slots.append(slot)
        for key in _exact_keys(row.link, row.guid, row.title):
            self._keyed.add(key, slot)

    def _uninsert(self, row: _Row) -> None:
        """Undo `_insert` of the newest slot (every later change is undone already)."""
        removed = self._ids.pop()
        assert removed == row.id, "undo steps run newest first"
        for column in (self._published, self._cluster, self._link, self._guid, self._text_at,
                       self._title_len, self._title_terms, self._title_specific,
                       self._lead_specific, self._terms_at):  # fmt: skip
            column.pop()
        del self._term_ids[self._terms_at[-1] :], self._term_weights[self._terms_at[-1] :]
        del self._text[self._text_at[-1] :]
        for term in row.specific:
            slots = self._postings[term]
            assert slots is not None
            if isinstance(slots, int):
                self._postings[term] = None
            else:
                slots.pop()
                if len(slots) == 1:
                    self._postings[term] = slots[0]
        for key in _exact_keys(row.link, row.guid, row.title):
            self._keyed.remove(key, len(self._ids))

    def _merge(self, old: int, *, into: int) -> None:
        self._merged[old] = into
        if self._undo is not None:
            self._undo.append(lambda: self._merged.__delitem__(old))


@dataclass(slots=True, kw_only=True)
class _Row:
    """A story as the window index takes it in, with its terms numbered."""

    id: str
    published: float
    link: int  # hash, 0 for none
    guid: int
    title: str
    lead: str
    weights: array[int]
    title_terms: int
    specific_words: tuple[int, int]  # title's and lead's: see `_specific_words`
    ids: array[int]
    specific: list[int]  # ids of the specific terms


class _StoryIds:
    """Story ids by slot: 12 bytes for an id of 24 hex digits (what `parse` makes), a
    string for any other."""

    _WIDTH = 12

    def __init__(self) -> None:
        self._packed = bytearray()
        self._other: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._packed) // self._WIDTH

    def __getitem__(self, slot: int) -> str:
        if not 0 <= slot < len(self):
            raise IndexError(slot)
        other = self._other.get(slot)
        if other is not None:
            return other
        return self._packed[slot * self._WIDTH : (slot + 1) * self._WIDTH].hex()

    def append(self, story_id: str) -> None:
        packed = _packed_id(story_id)
        if packed is None:
            self._other[len(self)] = story_id
            packed = bytes(self._WIDTH)
        self._packed += packed

    def pop(self) -> str:
        story_id = self[len(self) - 1]
        self._other.pop(len(self) - 1, None)
        del self._packed[-self._WIDTH :]
        return story_id

    def move(self, moved: array[int]) -> None:
        """Renumber every slot as `moved` says, removing those it maps to -1."""
        width, packed = self._WIDTH, self._packed
        chunks = (packed[at : at + width] for at in range(0, len(packed), width))
        self._packed = bytearray().join(compress(chunks, map(partial(le, 0), moved)))
        self._other = {moved[old]: id for old, id in self._other.items() if moved[old] >= 0}

    def last(self, story_id: str) -> int | None:
        """The newest slot holding `story_id`."""
        packed = _packed_id(story_id)
        if packed is None:
            return max((s for s, other in self._other.items() if other == story_id), default=None)
        end = len(self._packed)
        while (at := self._packed.rfind(packed, 0, end)) >= 0:  # in C
            if at % self._WIDTH == 0 and at // self._WIDTH not in self._other:
                return at // self._WIDTH
            end = at + len(packed) - 1
        return None


_HEX_ID = re.compile(r"[0-9a-f]{24}")


def _packed_id(story_id: str) -> bytes | None:
    return bytes.fromhex(story_id) if _HEX_ID.fullmatch(story_id) else None


class _SlotTable:
    """Slots by 64-bit key, any number per key, in two flat arrays (open addressing, linear
    probing): an entry costs 24 to 48 bytes, where a dict entry with its ints costs 100."""

    _FREE, _GONE = -1, -2  # slot values of an empty place and of a removed entry

    def __init__(self, capacity: int = 1024) -> None:
        self._keys = array("q", bytes(8 * capacity))
        self._slots = array("q", [self._FREE]) * capacity
        self._mask = capacity - 1
        self._taken = 0  # entries and removed entries: what makes probes long

    def add(self, key: int, slot: int) -> None:
        if 3 * (self._taken + 1) > 2 * len(self._slots):  # probes stay short to 2/3 full
            self._resize()
        keys, slots, mask = self._keys, self._slots, self._mask
        i = key & mask
        while slots[i] != self._FREE:
            i = (i + 1) & mask
        keys[i], slots[i] = key, slot
        self._taken += 1

    def get(self, key: int) -> list[int]:
        """The slots added under `key`."""
        keys, slots, mask = self._keys, self._slots, self._mask
        found = []
        i = key & mask
        while (slot := slots[i]) != self._FREE:
            if slot >= 0 and keys[i] == key:
                found.append(slot)
            i = (i + 1) & mask
        return found

    def remove(self, key: int, slot: int) -> None:
        keys, slots, mask = self._keys, self._slots, self._mask
        i = key & mask
        while slots[i] != slot or keys[i] != key:
            assert slots[i] != self._FREE, "removing an entry that is not there"
            i = (i + 1) & mask
        slots[i] = self._GONE

    def move(self, moved: array[int]) -> None:
        """Renumber every slot as `moved` says, removing those it maps to -1."""
        slots = self._slots
        for i, slot in enumerate(slots):
            if slot >= 0:
                slots[i] = self._GONE if moved[slot] < 0 else moved[slot]

    def _resize(self) -> None:
        keys, slots = self._keys, self._slots
        live = len(slots) - slots.count(self._FREE) - slots.count(self._GONE)
        capacity = 1024
        while capacity < 2 * (live + 1):  # at most half full again
            capacity *= 2
        self.__init__(capacity)  # type: ignore[misc]
        for key, slot in zip(keys, slots, strict=True):  # no list of the entries: no peak
            if slot >= 0:
                self.add(key, slot)


def _exact_keys(link: int, guid: int, title: str) -> list[int]:
    keys = [hash(("link", link))] if link else []
    if guid:
        keys.append(hash(("guid", guid)))
    if len(title) >= 12:
        keys.append(hash(("title", title)))
    return keys


def _stand_in(hashed: int) -> str:
    """What a pair score compares for a link or guid the window keeps as a hash."""
    return f"#{hashed:x}" if hashed else ""


def _compact(data: Any, at: array[int], keep: bytes) -> array[int]:
    """Move the spans of the kept slots (slot i's span: `data[at[i]:at[i + 1]]`) to the
    front of `data`, in place, and drop the rest; returns the new offsets."""
    offsets, end = array(at.typecode, [0]), 0
    for start, stop, kept in zip(at, at[1:], keep):  # noqa: B905 - at holds one more
        if kept:
            if start != end:
                data[end : end + stop - start] = data[start:stop]
            end += stop - start
            offsets.append(end)
    del data[end:]
    return offsets


def _moved_postings(slots: array[int] | int | None, moved: array[int]) -> array[int] | int | None:
    """A term's postings with expired slots dropped and kept ones renumbered."""
    if slots is None:
        return None
    kept = [moved[slot] for slot in ((slots,) if isinstance(slots, int) else slots)
            if moved[slot] >= 0]  # fmt: skip
    return None if not kept else kept[0] if len(kept) == 1 else array("i", kept)


def cluster_batch(stories: Iterable[Story], settings: ClusterSettings) -> dict[str, str]:
    """Cluster a set of stories, statelessly: story id -> cluster key.

    Every candidate pair is scored (no posting cap), and clusters are the connected components
    of the links, keyed by the id of their earliest-published story: the same stories in any
    order give the same answer.
    """
    unlimited = replace(settings, max_postings=1 << 30)
    ordered = sorted(stories, key=lambda s: (s.published, s.id))
    index = ClusterIndex(unlimited)
    added = [(story.id, index.add(story).cluster) for story in ordered]
    ended = {story_id: index.current(cluster) for story_id, cluster in added}  # last of an id
    first: dict[int, str] = {}
    for story in ordered:
        first.setdefault(ended[story.id], story.id)
    return {s.id: first[ended[s.id]] for s in ordered}
