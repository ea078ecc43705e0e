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

import re
import sys
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from functools import lru_cache, partial
from itertools import compress
from operator import le
from typing import Any

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
# terms are compared on their first six letters: import/imports/importing, Kazakh/Kazakhstan
STEM = 6

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
    if word.isascii() and word.isalpha() and word not in get_frequency_dict("en"):
        return 6.0  # what wordfreq says of one unknown token, without tokenising it: 20x faster
    return max(0.0, 6.0 - zipf_frequency(word, "en"))


SPECIFIC = 2.0  # weight from which a term is specific (Zipf frequency at most 4)


def text_terms(text: str) -> dict[str, float]:
    """Terms of `text` with their weights: lower-case, possessives dropped, stems of six letters."""
    terms: dict[str, float] = {}
    for key, weight in filter(None, map(_term, _WORD.findall(text))):  # map: no frame per word
        if weight > terms.get(key, 0.0):
            terms[key] = weight
    return terms


@lru_cache(maxsize=65_536)  # common words recur; names mostly do not
def _term(raw: str) -> tuple[str, float] | None:
    """A word as a term (its key and weight), or None for a stopword or a common word."""
    word = raw.replace("’", "'").lower().removesuffix("'s").replace(",", "")
    if word in _STOPWORDS or len(word) < 2:
        return None
    weight = term_weight(word.rstrip("."))
    if weight <= 0:
        return None
    return sys.intern(word if word[0].isdigit() else word[:STEM]), weight


# -- fingerprints and pair scores ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What clustering keeps of a story: lean, because the window holds hundreds of thousands."""

    id: str
    link: str
    guid: str | None
    published: float  # POSIX seconds
    title: str  # cleaned, lower-case
    lead: str  # cleaned, lower-case, first LEAD_CHARS characters
    term_keys: tuple[str, ...]  # title + lead terms, interned
    term_weights: array[float]
    title_keys: tuple[str, ...]

    @property
    def terms(self) -> dict[str, float]:
        return dict(zip(self.term_keys, self.term_weights, strict=True))

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickled by value; unpickled (from a pool worker) with its term keys interned."""
        fields = (self.id, self.link, self.guid, self.published, self.title, self.lead,
                  self.term_keys, self.term_weights, self.title_keys)  # fmt: skip
        return _unpickled, fields


def _unpickled(
    id: str, link: str, guid: str | None, published: float, title: str, lead: str,
    term_keys: tuple[str, ...], term_weights: array[float], title_keys: tuple[str, ...],
) -> Fingerprint:  # fmt: skip
    """A fingerprint from another process, its term keys shared with the window's again."""
    intern = sys.intern
    return Fingerprint(
        id=id, link=link, guid=guid, published=published, title=title, lead=lead,
        term_keys=tuple(map(intern, term_keys)), term_weights=term_weights,
        title_keys=tuple(map(intern, title_keys)),
    )  # fmt: skip


def fingerprint(story: Story) -> Fingerprint:
    title = clean_title(story.title)
    lead = clean_lead(_beginning(story.summary), story.title)
    title_terms = text_terms(title)
    terms = dict(title_terms)
    for key, weight in text_terms(lead[:TERM_TEXT_CHARS]).items():
        if weight > terms.get(key, 0.0):
            terms[key] = weight
    return Fingerprint(
        id=story.id,
        link=story.link,
        guid=story.guid,
        published=story.published.timestamp(),
        title=title.lower(),
        lead=lead[:LEAD_CHARS].lower(),
        term_keys=tuple(terms),
        term_weights=array("f", terms.values()),
        title_keys=tuple(title_terms),
    )


def fingerprints(stories: Sequence[Story]) -> list[Fingerprint]:
    """Fingerprints of many stories: run in the parse pool, off the event loop."""
    return [fingerprint(s) for s in stories]


def _beginning(summary: str) -> str:
    """Only a summary's beginning is compared: cleaning all of a long one is wasted work."""
    return summary if len(summary) <= 4 * TERM_TEXT_CHARS else summary[: 4 * TERM_TEXT_CHARS]


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
        swaps = slot_swaps(a.title, b.title, a_terms, b_terms)
        if lead_ratio is not None and lead_ratio >= settings.reprint_lead:
            swaps += slot_swaps(a.lead, b.lead, a_terms, b_terms)
        score = replace(score, slot_swaps=tuple(dict.fromkeys(swaps)))
        if swaps and level in ("reprint", "same-event"):
            level, reason = (
                None,
                f"the same wording about other names ({', '.join(score.slot_swaps)})",
            )
    return replace(score, level=level, reason=reason)


def could_link(
    a: Fingerprint, a_terms: dict[str, float], b: Fingerprint, settings: ClusterSettings
) -> bool:
    """The conditions of `_decide` without the name-swap veto, computed cheaply.

    Every pair `compare` would link passes; most pairs that share a few words fail here
    without building a score.
    """
    if (a.link and a.link == b.link) or (a.guid and a.guid == b.guid):
        return True
    if abs(a.published - b.published) > settings.window:
        return False
    common = min(len(a.lead), len(b.lead))
    if common >= MIN_LEAD:
        if fuzz.ratio(a.lead[:common], b.lead[:common], score_cutoff=settings.reprint_lead):
            return True
    elif fuzz.ratio(a.title, b.title, score_cutoff=settings.reprint_title):
        return True
    shared = a_terms.keys() & set(b.term_keys)  # in C; most pairs share too few terms
    if len(shared) < settings.same_event_terms:
        return False
    weight = specific = 0.0
    for term in shared:
        low = min(a_terms[term], b.term_weights[b.term_keys.index(term)])
        weight += low
        specific += low >= SPECIFIC
    if specific < settings.same_event_terms or weight < settings.same_event_weight:
        return False
    total = sum(a.term_weights) + sum(b.term_weights)
    return 2 * weight / total >= settings.same_event_dice


def slot_swaps(
    a_text: str, b_text: str, a_terms: dict[str, float], b_terms: dict[str, float]
) -> list[str]:
    """Aligned spans of at most 3 words where each side holds a specific name the other lacks.

    "import antimony from Tajikistan" against "import antimony from Bolivia" swaps
    tajikistan/bolivia: the same template about other news. Numbers are not names: a
    corrected figure is still the same story.
    """
    a_words, b_words = _words(a_text), _words(b_text)
    swaps = []
    matcher = SequenceMatcher(None, a_words, b_words, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "replace" or i2 - i1 > 3 or j2 - j1 > 3:
            continue
        a_names = _names_missing(a_words[i1:i2], b_terms)
        b_names = _names_missing(b_words[j1:j2], a_terms)
        if a_names and b_names:
            swaps.append(f"{a_names[0]}/{b_names[0]}")
    return swaps


def _words(text: str) -> list[str]:
    return [w.removesuffix("'s") for w in _WORD.findall(text.replace("’", "'").lower())]


def _names_missing(words: list[str], other_terms: dict[str, float]) -> list[str]:
    return [
        w for w in words
        if not w[0].isdigit() and term_weight(w) >= SPECIFIC and w[:STEM] not in other_terms
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
    """

    def __init__(self, settings: ClusterSettings, *, next_cluster: int = 1) -> None:
        self.settings = settings
        self.next_cluster = next_cluster
        self.prints: list[Fingerprint | None] = []
        self.cluster_of: list[int] = []
        self.members: dict[int, list[int]] = {}
        self.postings: dict[str, array[int]] = {}  # specific term -> slots, oldest first
        self.exact: dict[int, int | list[int]] = {}  # hash of link, guid or title -> slot(s)
        self.slot_of: dict[str, int] = {}
        self._undo: list[Callable[[], None]] | None = None  # inverses of changes since begin()
        self._undo_next_cluster = next_cluster

    # -- tentative changes: a batch whose writes to the store may yet fail --------------------

    def begin(self) -> None:
        """Record what follows, so that `rollback` can take it back."""
        self._undo, self._undo_next_cluster = [], self.next_cluster

    def commit(self) -> None:
        self._undo = None

    def rollback(self) -> None:
        """Take back every story added and every merge made since `begin`, newest first."""
        steps, self._undo = self._undo or [], None
        for step in reversed(steps):
            step()
        self.next_cluster = self._undo_next_cluster

    def __len__(self) -> int:
        return len(self.slot_of)

    def add(self, story: Story) -> Assignment:
        """Cluster `story` against the window and keep it there."""
        return self.add_fingerprint(fingerprint(story))

    def add_fingerprint(self, fp: Fingerprint, cluster: int | None = None) -> Assignment:
        """Add a story; with `cluster`, restore a known assignment without scoring."""
        specific = self._specific(fp)
        if cluster is not None:
            self._insert(fp, cluster, specific)
            self.next_cluster = max(self.next_cluster, cluster + 1)
            return Assignment(
                story=fp.id, cluster=cluster, level=None, matched=None, reason="restored"
            )
        best: tuple[int, float, int, PairScore] | None = None
        linked: set[int] = set()
        terms = fp.terms
        for slot in self._candidates(fp, specific):
            other = self.prints[slot]
            assert other is not None
            if not could_link(fp, terms, other, self.settings):
                continue
            score = compare(fp, other, self.settings)
            if score.level is None:
                continue
            linked.add(self.cluster_of[slot])
            rank = (LEVEL_RANK[score.level], score.dice)
            if best is None or rank > (best[0], best[1]):
                best = (rank[0], rank[1], slot, score)
        if best is None:
            cluster = self.next_cluster
            self.next_cluster += 1
            self._insert(fp, cluster, specific)
            return Assignment(story=fp.id, cluster=cluster, level=None, matched=None, reason="new")
        cluster = min(linked)
        merged = tuple(sorted(linked - {cluster}))
        for old in merged:
            self._merge(old, into=cluster)
        self._insert(fp, cluster, specific)
        _, _, slot, score = best
        matched = self.prints[slot]
        assert matched is not None
        return Assignment(
            story=fp.id, cluster=cluster, level=score.level, matched=matched.id,
            reason=score.reason, merged=merged,
        )  # fmt: skip

    @staticmethod
    def _specific(fp: Fingerprint) -> list[str]:
        return list(compress(fp.term_keys, map(partial(le, SPECIFIC), fp.term_weights)))  # in C

    @staticmethod
    def _exact_keys(fp: Fingerprint) -> list[int]:
        keys = [hash(("link", fp.link))] if fp.link else []
        if fp.guid:
            keys.append(hash(("guid", fp.guid)))
        if len(fp.title) >= 12:
            keys.append(hash(("title", fp.title)))
        return keys

    def _candidates(self, fp: Fingerprint, specific: list[str] | None = None) -> list[int]:
        specific = self._specific(fp) if specific is None else specific
        hits: Counter[int] = Counter()
        limit = self.settings.max_postings
        for term in specific:
            postings = self.postings.get(term)
            if postings:
                hits.update(postings[-limit:])  # counted in C: no Python call per posting
        needed = self._hits_needed(fp, specific)
        found = set(compress(hits.keys(), map(partial(le, needed), hits.values())))  # in C
        for key in self._exact_keys(fp):
            slots = self.exact.get(key)
            if isinstance(slots, int):
                found.add(slots)
            elif slots:
                found.update(slots)
        oldest = fp.published - self.settings.window
        return sorted(
            slot for slot in found if (other := self.prints[slot]) is not None
            and (other.published >= oldest or other.link == fp.link or other.guid == fp.guid)
        )  # fmt: skip

    def _hits_needed(self, fp: Fingerprint, specific: list[str]) -> int:
        """Shared specific terms that make a candidate: the same-event minimum (at most 3),
        but 2 for a short story, whose reprints may share no more."""
        short = len(fp.lead) < MIN_LEAD or len(specific) < SHORT_TERMS
        return 2 if short else max(2, min(3, self.settings.same_event_terms))

    def _insert(self, fp: Fingerprint, cluster: int, specific: list[str]) -> None:
        slot = len(self.prints)
        if self._undo is not None:
            previous = self.slot_of.get(fp.id)
            self._undo.append(lambda: self._uninsert(fp, cluster, specific, previous))
        self.prints.append(fp)
        self.cluster_of.append(cluster)
        self.members.setdefault(cluster, []).append(slot)
        self.slot_of[fp.id] = slot
        for term in specific:
            self.postings.setdefault(term, array("i")).append(slot)
        for key in self._exact_keys(fp):
            known = self.exact.get(key)
            if known is None:
                self.exact[key] = slot  # most keys name one story: no list for them
            elif isinstance(known, int):
                self.exact[key] = [known, slot]
            else:
                known.append(slot)

    def _uninsert(
        self, fp: Fingerprint, cluster: int, specific: list[str], previous: int | None
    ) -> None:
        """Undo `_insert` of the newest slot (every later change is undone already)."""
        removed = self.prints.pop()
        assert removed is fp, "undo steps run newest first"
        self.cluster_of.pop()
        members = self.members[cluster]
        members.pop()
        if not members:
            del self.members[cluster]
        if previous is None:
            del self.slot_of[fp.id]
        else:
            self.slot_of[fp.id] = previous
        for term in specific:
            postings = self.postings[term]
            postings.pop()
            if not postings:
                del self.postings[term]
        for key in self._exact_keys(fp):
            known = self.exact[key]
            if isinstance(known, int):
                del self.exact[key]
            else:
                known.pop()
                if len(known) == 1:
                    self.exact[key] = known[0]

    def _merge(self, old: int, *, into: int) -> None:
        moved = self.members.pop(old, [])
        for slot in moved:
            self.cluster_of[slot] = into
        self.members[into].extend(moved)
        if self._undo is not None:
            self._undo.append(lambda: self._unmerge(old, into, moved))

    def _unmerge(self, old: int, into: int, moved: list[int]) -> None:
        if moved:
            del self.members[into][-len(moved) :]
            self.members[old] = moved
        for slot in moved:
            self.cluster_of[slot] = old

    def cluster_for(self, story_id: str) -> int | None:
        slot = self.slot_of.get(story_id)
        return None if slot is None else self.cluster_of[slot]

    def expire(self, before: float) -> int:
        """Forget stories published before `before` (POSIX seconds); returns how many."""
        assert self._undo is None, "no expiry within a tentative batch"
        keep = [
            (fp, self.cluster_of[i])
            for i, fp in enumerate(self.prints)
            if fp and fp.published >= before
        ]
        removed = len(self) - len(keep)
        self.prints, self.cluster_of, self.members, self.slot_of = [], [], {}, {}
        self.postings, self.exact = {}, {}
        for fp, cluster in keep:
            self._insert(fp, cluster, self._specific(fp))
        return removed


def cluster_batch(stories: Iterable[Story], settings: ClusterSettings) -> dict[str, str]:
    """Cluster a set of stories, statelessly: story id -> cluster key.

    Every candidate pair is scored (no posting cap), and clusters are the connected components
    of the links, keyed by the id of their earliest-published story: the same stories in any
    order give the same answer.
    """
    unlimited = replace(settings, max_postings=1 << 30)
    ordered = sorted(stories, key=lambda s: (s.published, s.id))
    index = ClusterIndex(unlimited)
    for story in ordered:
        index.add(story)
    first: dict[int, str] = {}
    for story in ordered:
        first.setdefault(index.cluster_for(story.id) or 0, story.id)
    return {s.id: first[index.cluster_for(s.id) or 0] for s in ordered}
