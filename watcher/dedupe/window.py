"""The clustering window: recent stories, their clusters, and the index that picks candidates.

In: `Fingerprint`s, one at a time, or stories to cluster as a batch. Out: `Assignment`s
(cluster, level, reason, merges). Holds the window in memory; the service persists what it
decides through `store`.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import partial
from itertools import compress, count, repeat
from operator import is_, le, not_
from typing import Any

from rapidfuzz import fuzz

from watcher.dedupe.columns import (
    SlotTable,
    StoryIds,
    compact,
    keep_in_place,
    moved_postings,
    renumbering,
)
from watcher.dedupe.pairs import LEVEL_RANK, ClusterSettings, PairScore, compare
from watcher.dedupe.text import (
    MIN_LEAD,
    SHORT_TERMS,
    SPECIFIC_HUNDREDTHS,
    Fingerprint,
    fingerprint,
)
from watcher.models import Assignment, Story


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
        self._ids = StoryIds()
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
        self._keyed = SlotTable()  # hash of link, guid or title -> slots
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

        The window is compacted in place, a column at a time, so it is never held twice;
        terms only the expired stories held are dropped, the others keep their order. What
        is left holds what a fresh start would build from the stories kept, each in the
        cluster it ended in."""
        assert self._undo is None, "no expiry within a tentative batch"
        keep = bytes(map(partial(le, before), self._published))  # 1: published >= before
        removed = len(keep) - sum(keep)
        if not removed:
            return 0
        moved = renumbering(keep)  # slot -> its new slot, -1 when expired
        terms_at, maybe_unused = self._terms_at, set[int]()
        for slot in compress(range(len(keep)), map(not_, keep)):
            maybe_unused.update(self._term_ids[terms_at[slot] : terms_at[slot + 1]])
        self._cluster = array("q", map(self.current, self._cluster))
        self._merged = {}
        for name in ("_published", "_cluster", "_link", "_guid", "_title_len", "_title_terms",
                     "_title_specific", "_lead_specific"):  # fmt: skip
            column = getattr(self, name)
            setattr(self, name, array(column.typecode, compress(column, keep)))
        self._ids.move(moved)
        self._text_at = compact(self._text_at, keep, self._text)
        self._terms_at = compact(terms_at, keep, self._term_ids, self._term_weights)
        postings = self._postings
        for term, slots in enumerate(postings):  # in place: old and new are never all held
            if slots is not None:
                postings[term] = moved_postings(slots, moved)
        maybe_unused.difference_update(self._term_ids)  # in C, in place: over the kept ids
        self._drop_terms(maybe_unused)
        self._keyed.move(moved)
        return removed

    def _drop_terms(self, unused: set[int]) -> None:
        """Forget terms no story holds; the others are numbered anew, in the same order."""
        if not unused:
            return
        words = self._words
        alive = bytes(term not in unused for term in range(len(words)))
        numbers = renumbering(alive)
        term_ids, step = self._term_ids, 1 << 16
        for start in range(0, len(term_ids), step):  # in C, a slice at a time: no second copy
            term_ids[start : start + step] = array(
                "I", map(numbers.__getitem__, term_ids[start : start + step])
            )
        vocab = self._vocab
        for old in range(min(unused), len(words)):  # numbers below the first unused stay
            if numbers[old] < 0:
                del vocab[words[old]]
            else:
                vocab[words[old]] = numbers[old]
        keep_in_place(words, alive)
        keep_in_place(self._postings, alive)

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
