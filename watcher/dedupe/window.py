"""The clustering window: recent stories, their clusters, and the index that picks candidates.

In: `Fingerprint`s, one at a time, or stories to cluster as a batch. Out: `Assignment`s
(cluster, level, reason, merges). Holds the window in memory; the service persists what it
decides through `store`.
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import partial
from itertools import compress, repeat
from operator import attrgetter, le
from typing import NamedTuple

from rapidfuzz import fuzz

from watcher.dedupe.pairs import (
    LEVEL_RANK,
    TITLE_ONLY_SPECIFIC,
    ClusterSettings,
    PairScore,
    compare,
)
from watcher.dedupe.slots import (
    FEW_NAMES,
    Row,
    WindowSlots,
    exact_keys,
    lead_key,
    link_key,
    stand_in,
)
from watcher.dedupe.text import (
    MIN_LEAD,
    SHORT_TERMS,
    SPECIFIC_HUNDREDTHS,
    Fingerprint,
    fingerprint,
)
from watcher.models import Assignment, Story

KEPT_APART = "kept apart from "  # begins the reason of a story that started its own cluster


class Apart(NamedTuple):
    """A new story's closest story in the window that it was kept apart from."""

    slot: int
    score: PairScore

    @property
    def order(self) -> tuple[float, int]:
        """The most alike first, then the latest slot."""
        return self.score.dice, self.slot


class Link(NamedTuple):
    """A new story's link to one slot of the window."""

    slot: int
    score: PairScore

    @property
    def order(self) -> tuple[int, float, int]:
        """Stronger first: by level, then overlap, then the earlier slot."""
        assert self.score.level is not None
        return LEVEL_RANK[self.score.level], self.score.dice, -self.slot


class ClusterIndex(WindowSlots):
    """Recent stories indexed by link, guid, title, lead and specific terms, with clusters.

    Candidates for a new story are the stories sharing its link, guid, cleaned title or
    the beginning of its lead (`slots.exact_keys`; the newest `max_postings` of those), or
    enough of its specific terms (`_hits_needed`; scanning at most `max_postings` of the
    newest stories per term); only those are scored, so the cost per story stays nearly
    flat as the window grows.

    A story joins every cluster it links to, merged into the oldest, but a same-event link
    counts only within `max_span` of the cluster's first story (see `_spanned`).

    Stories are kept as slots in columns (`WindowSlots`); a merged cluster points to the
    one it joined.
    """

    def __init__(self, settings: ClusterSettings, *, next_cluster: int = 1) -> None:
        super().__init__()
        self.settings = settings
        self.next_cluster = next_cluster
        self._merged: dict[int, int] = {}  # cluster -> the cluster it was merged into
        # cluster -> when its first story was published, where that is earlier than some of
        # its slots' `_began` says (a merge, a story dated before the first): see `_first_of`
        self._lowered: dict[int, float] = {}
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
        self._forget_words(self._undo_words)

    def add(self, story: Story) -> Assignment:
        """Cluster `story` against the window and keep it there."""
        return self.add_fingerprint(fingerprint(story))

    def add_fingerprint(
        self, fp: Fingerprint, cluster: int | None = None, began: float | None = None
    ) -> Assignment:
        """Add a story; with `cluster`, restore a known assignment without scoring (`began`:
        when that cluster's first story was published, if before this one)."""
        row = self._row(fp)
        if cluster is not None:
            self._keep(row, cluster, row.published if began is None else min(began, row.published))
            self.next_cluster = max(self.next_cluster, cluster + 1)
            return Assignment(
                story=fp.id, cluster=cluster, level=None, matched=None, reason="restored"
            )
        links, apart = self._scored(fp, row)
        firsts = {cluster: self._first_of(cluster, link.slot) for cluster, link in links.items()}
        kept = self._spanned(row.published, links, firsts)
        if not kept:
            cluster = self.next_cluster
            self.next_cluster += 1
            self._keep(row, cluster, row.published)
            return self._started(fp.id, cluster, row.published, links, firsts, apart)
        cluster = min(kept)
        merged = tuple(sorted(set(kept) - {cluster}))
        for old in merged:
            self._merge(old, into=cluster)
        began = min(row.published, *(firsts[c] for c in kept))
        if merged or began < firsts[cluster]:  # some slots of the cluster hold a later one
            self._lower(cluster, began)
        self._keep(row, cluster, began)
        best = max(kept.values(), key=attrgetter("order"))
        return Assignment(
            story=fp.id, cluster=cluster, level=best.score.level, matched=self._ids[best.slot],
            reason=best.score.reason, merged=merged,
        )  # fmt: skip

    def _scored(self, fp: Fingerprint, row: Row) -> tuple[dict[int, Link], Apart | None]:
        """The story's best link to each cluster it links to, and the story most alike that
        it was kept apart from (`PairScore.kept_apart`), the latest of equals."""
        links: dict[int, Link] = {}
        apart: Apart | None = None
        probe: Fingerprint | None = None
        candidates, specific, counted_from, listed = self._candidates_of(row)
        terms = dict(zip(row.ids, row.weights, strict=True)) if candidates else {}
        total, least = sum(row.weights), self.settings.same_event_terms
        for slot in candidates:
            shares = slot < counted_from or specific[slot] >= least  # may be the same event
            together = slot in listed
            if not together and not self._could_link(row, terms, total, slot, shares):
                continue
            probe = probe or fp._replace(link=stand_in(row.link), guid=stand_in(row.guid))
            score = compare(probe, self._print_at(slot), self.settings, listed=together)
            if score.kept_apart:
                found = Apart(slot, score)
                apart = found if apart is None or found.order > apart.order else apart
            if score.level is None:
                continue
            link, cluster = Link(slot, score), self.current(self._cluster[slot])
            if cluster not in links or link.order > links[cluster].order:
                links[cluster] = link
        return links, apart

    def _spanned(
        self, published: float, links: dict[int, Link], first: dict[int, float]
    ) -> dict[int, Link]:
        """The links a story keeps: its exact and reprint links, and each same-event link
        to a cluster whose first story (`first`), or that of a cluster it also joins by a
        stronger link, was published at most `max_span` before it. Coverage of one topic
        that links day after day would otherwise chain into one news item and alert once."""
        span = self.settings.max_span
        if span is None:
            return links
        strong = [first[c] for c, link in links.items() if link.score.level != "same-event"]
        start = min(strong, default=published)
        return {
            cluster: link for cluster, link in links.items()
            if link.score.level != "same-event" or published - min(start, first[cluster]) <= span
        }  # fmt: skip

    def _started(
        self, story: str, cluster: int, published: float, links: dict[int, Link],
        first: dict[int, float], apart: Apart | None = None,
    ) -> Assignment:  # fmt: skip
        """A story that starts a cluster: new (`apart`: though a story in the same wording
        was kept apart from it, whose id its reason names), or linked only to news items
        begun too early."""
        if not links:
            reason = (
                "new"
                if apart is None
                else f"{KEPT_APART}{self._ids[apart.slot]}: {apart.score.reason}"
            )
            return Assignment(story=story, cluster=cluster, level=None, matched=None, reason=reason)
        old, best = max(links.items(), key=lambda item: item[1].order)
        hours = (published - first[old]) / 3600
        span = (self.settings.max_span or 0) / 3600
        reason = f"its news item began {hours:.1f} h before, beyond clustering.max_span {span:g} h"
        return Assignment(
            story=story, cluster=cluster, level=None, matched=self._ids[best.slot], reason=reason
        )

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

        What is left holds what a fresh start would build from the stories kept, each in
        the cluster it ended in."""
        assert self._undo is None, "no expiry within a tentative batch"
        keep = bytes(map(partial(le, before), self._published))  # 1: published >= before
        removed = len(keep) - sum(keep)
        if removed:
            self._cluster = array("q", map(self.current, self._cluster))
            self._merged = {}
            if self._lowered:  # each slot's _began its cluster's first, as a fresh start has it
                lowered = map(self._lowered.get, self._cluster, repeat(math.inf))
                self._began = array("d", map(min, self._began, lowered))
                self._lowered = {}
            self._compact(keep)
        return removed

    # -- candidates and scores -----------------------------------------------------------------

    def _candidates_of(self, row: Row) -> tuple[list[int], Counter[int], int, set[int]]:
        """Slots worth scoring against a new story; how many specific terms each slot shares
        with it; the oldest slot from which those counts are whole (a long posting list
        is scanned only from its newest `max_postings` slots); and the slots listed with it
        as coverage of one news item (by its entry, or theirs)."""
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
        if needed > TITLE_ONLY_SPECIFIC:  # a story without a lead is a reprint by its title
            two = compress(hits.keys(), map(partial(le, TITLE_ONLY_SPECIFIC), hits.values()))
            found.update(
                slot for slot in two if slot not in found and self._lead_chars(slot) < MIN_LEAD
            )
        keyed, link, guid = self._keyed, self._link, self._guid
        # under a link's key: the slots of that link, and those whose entry lists it
        by_link = keyed.get(link_key(row.link)) if row.link else []
        listed = {slot for slot in by_link if link[slot] != row.link}
        for other in row.related:  # the slots of the links its entry lists
            listed.update(slot for slot in keyed.get(link_key(other)) if link[slot] == other)
        found.update(by_link)
        found |= listed
        for key in exact_keys(0, row.guid, row.title):
            found.update(keyed.get(key))
        if len(row.lead) >= MIN_LEAD:  # many leads may begin alike: the newest, as per term
            found.update(heapq.nlargest(limit, keyed.get(lead_key(row.lead))))
        oldest, published = row.published - self.settings.window, self._published
        return sorted(
            slot for slot in found if published[slot] >= oldest
            or (row.link and link[slot] == row.link) or (row.guid and guid[slot] == row.guid)
        ), hits, counted_from, listed  # fmt: skip

    def _hits_needed(self, row: Row) -> int:
        """Shared specific terms that make a candidate: 3, or 2 for a short story, whose
        reprints may share no more; never more than a same-event link needs, nor than the
        specific words of a lead (but 1): a reprint, known by its lead, may share no more."""
        if len(row.lead) < MIN_LEAD:  # title-only: a reprint by its title shares no more
            needed = TITLE_ONLY_SPECIFIC
        else:
            needed = 2 if len(row.specific) < SHORT_TERMS else FEW_NAMES
            needed = min(needed, max(1, row.specific_words[1].bit_count()))
        return min(needed, self.settings.same_event_terms)

    def _could_link(
        self, a: Row, a_terms: dict[int, int], a_total: int, slot: int, shares: bool = True
    ) -> bool:
        """The conditions of `_decide` without the name-swap veto and the titles' check of
        leads alike, computed cheaply from the columns, for a new story (its terms by id,
        and their summed weight) and a slot. Without `shares`, the pair is known to share
        too few specific terms to be the same event, and only the exact and reprint
        conditions are checked.

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

    def _keep(self, row: Row, cluster: int, began: float) -> None:
        """Insert a row; within a tentative batch, remember how to take it back."""
        self._insert(row, cluster, began)
        if self._undo is not None:
            self._undo.append(lambda: self._uninsert(row))

    def _merge(self, old: int, *, into: int) -> None:
        self._merged[old] = into
        if self._undo is not None:
            self._undo.append(lambda: self._merged.__delitem__(old))

    def _first_of(self, cluster: int, slot: int) -> float:
        """When the first story of `cluster` (as it is now: the one `slot` ended in) was
        published: the slot's `_began`, unless a merge or a story dated earlier lowered it
        since."""
        began, lowered = self._began[slot], self._lowered.get(cluster)
        return began if lowered is None or began < lowered else lowered

    def _lower(self, cluster: int, began: float) -> None:
        before = self._lowered.get(cluster)
        self._lowered[cluster] = began
        if self._undo is None:
            return
        if before is None:
            self._undo.append(lambda: self._lowered.__delitem__(cluster))
        else:
            self._undo.append(lambda: self._lowered.__setitem__(cluster, before))


def cluster_batch(stories: Iterable[Story], settings: ClusterSettings) -> dict[str, str]:
    """Cluster a set of stories, statelessly: story id -> cluster key.

    Every candidate pair is scored (no posting cap), and stories are placed oldest first, as
    the service places them: clusters are the connected components of the links (but for
    same-event links beyond `max_span`), keyed by the id of their earliest-published story.
    The same stories in any order give the same answer.
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
