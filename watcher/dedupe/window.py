"""The clustering window: recent stories, their clusters, and the index that picks candidates.

In: `Fingerprint`s, one at a time, or stories to cluster as a batch. Out: `Assignment`s
(cluster, level, reason, merges). Holds the window in memory; the service persists what it
decides through `store`.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import partial
from itertools import repeat
from operator import attrgetter, le
from typing import NamedTuple

from watcher.dedupe.candidates import Candidates
from watcher.dedupe.pairs import (
    LEVEL_RANK,
    ClusterSettings,
    PairScore,
    compare,
)
from watcher.dedupe.slots import (
    Row,
    stand_in,
)
from watcher.dedupe.text import (
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


class ClusterIndex(Candidates):
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
            probe = probe or fp._replace(
                link=stand_in(row.link), guid=stand_in(row.guid), outlet=stand_in(row.outlet)
            )
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

    def retitle(self, fp: Fingerprint) -> int | None:
        """Hold a stored story given another title (`fp`: as it is now) in the cluster its
        newest slot ended in, in a new slot: later stories are compared with it as the store
        holds it, as after a restart, and, while the service runs, with its first version
        too (a wire's later reprint of it). A version between the two is retired: no
        candidate from then on, dropped at the next `expire` (a feed that retitles its
        stories at every poll, with a count of comments, would otherwise grow the window a
        slot a story a poll). The cluster; None where the window does not hold the story."""
        slot = self._ids.last(fp.id)
        if slot is None:
            return None
        cluster = self.current(self._cluster[slot])
        self._keep(self._row(fp), cluster, self._first_of(cluster, slot))
        if self._ids.last(fp.id, before=slot) is not None:  # `slot` is a version between
            self._retired.add(slot)
            if self._undo is not None:
                self._undo.append(lambda: self._retired.discard(slot))
        return cluster

    def cluster_for(self, story_id: str) -> int | None:
        """The cluster of the story added last with this id: a scan, for tools and tests."""
        slot = self._ids.last(story_id)
        return None if slot is None else self.current(self._cluster[slot])

    def expire(self, before: float) -> int:
        """Forget stories published before `before` (POSIX seconds); returns how many.

        What is left holds what a fresh start would build from the stories kept, each in
        the cluster it ended in (and the first version of a story given another title since,
        see `retitle`)."""
        assert self._undo is None, "no expiry within a tentative batch"
        keep = bytearray(map(partial(le, before), self._published))  # 1: published >= before
        removed = len(keep) - sum(keep)
        for slot in self._retired:  # versions `retitle` retired
            keep[slot] = 0
        self._retired = set()
        if keep.count(0):
            self._cluster = array("q", map(self.current, self._cluster))
            self._merged = {}
            if self._lowered:  # each slot's _began its cluster's first, as a fresh start has it
                lowered = map(self._lowered.get, self._cluster, repeat(math.inf))
                self._began = array("d", map(min, self._began, lowered))
                self._lowered = {}
            self._compact(bytes(keep))
        return removed

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
