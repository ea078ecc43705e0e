"""The clustering window of a running watcher: rebuilt from the store on start, kept in step.

In: stored stories (and their fingerprints, made in the parse pool). Out: `ClusteredStory`s,
their assignments recorded in the store. Raises `StoreError` from the store.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from itertools import islice

from watcher.dedupe import (
    SUMMARY_CHARS,
    ClusterIndex,
    ClusterSettings,
    Fingerprint,
    fingerprint,
    fingerprints,
)
from watcher.models import ClusteredStory, Story
from watcher.store import Store

LOAD_CHUNK = 500  # stories fingerprinted per pool task when the window is rebuilt
LOAD_AHEAD = 4  # chunks in the pool at once

Clock = Callable[[], datetime]


class Clusterer:
    """Keeps the clustering window in memory and every decision in the store."""

    def __init__(self, store: Store, settings: ClusterSettings, clock: Clock) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.index = ClusterIndex(settings, next_cluster=store.next_cluster_id())

    def load(self, executor: Executor | None = None) -> list[Story]:
        """Rebuild the window from the store, fingerprinting in `executor` when given; return
        the stories left unclustered (stored by an earlier version, which clustered them in
        a second transaction). Stories are read, fingerprinted and added a chunk at a time,
        at most `LOAD_AHEAD` chunks in the pool: the window is never held as stories."""
        since = self.clock() - timedelta(seconds=2 * self.settings.window)
        pending = []
        rows = self.store.window_stories(since, summary_chars=SUMMARY_CHARS)  # all it reads
        chunks = iter(lambda: list(islice(rows, LOAD_CHUNK)), [])
        for chunk, prints in _fingerprinted(chunks, executor):
            for (story, cluster, began), fp in zip(chunk, prints, strict=True):
                if cluster is None:
                    pending.append(story)
                else:  # its cluster may have begun before the window
                    self.index.add_fingerprint(fp, cluster, began)
        return pending

    def cluster(
        self, stories: Sequence[Story], prints: Sequence[Fingerprint] | None = None
    ) -> list[ClusteredStory]:
        """Place stored stories in clusters, oldest first, and record where they went.
        `prints`, when given, are the stories' fingerprints, in the same order."""
        done = self.place(stories, prints)
        if done:
            self.store.record_assignments([c.assignment for c in done], self.clock())
        return [self.final(c) for c in done]

    def place(
        self, stories: Sequence[Story], prints: Sequence[Fingerprint] | None = None
    ) -> list[ClusteredStory]:
        """Place stories in clusters of the window, oldest first; nothing is recorded."""
        if prints is None:
            prints = [fingerprint(s) for s in stories]
        ordered = sorted(zip(stories, prints, strict=True), key=lambda p: (p[0].published, p[0].id))
        return [
            ClusteredStory(story=s, assignment=self.index.add_fingerprint(fp)) for s, fp in ordered
        ]

    @contextmanager
    def tentative(self) -> Iterator[None]:
        """Stories placed within are taken out of the window again if the block fails:
        the window never holds a story, or a merge, the store does not."""
        self.index.begin()
        try:
            yield
        except BaseException:
            self.index.rollback()
            raise
        self.index.commit()

    def final(self, clustered: ClusteredStory) -> ClusteredStory:
        """The story with the cluster it ended in: a later story of the same batch may have
        merged the one it joined into another (its matches and alerts belong there)."""
        cluster = self.index.current(clustered.assignment.cluster)
        if cluster == clustered.assignment.cluster:
            return clustered
        return replace(clustered, assignment=replace(clustered.assignment, cluster=cluster))

    def expire(self) -> int:
        cutoff = self.clock() - timedelta(seconds=2 * self.settings.window)
        return self.index.expire(cutoff.timestamp())


WindowRow = tuple[Story, int | None, float | None]  # as `Store.window_stories` gives it


def _fingerprinted(
    chunks: Iterable[list[WindowRow]], executor: Executor | None
) -> Iterator[tuple[list[WindowRow], list[Fingerprint]]]:
    """Each chunk with its stories' fingerprints, in order."""
    if executor is None:
        for chunk in chunks:
            yield chunk, fingerprints([row[0] for row in chunk])
        return
    ahead: deque[tuple[list[WindowRow], Future[list[Fingerprint]]]] = deque()
    for chunk in chunks:
        ahead.append((chunk, executor.submit(fingerprints, [row[0] for row in chunk])))
        if len(ahead) >= LOAD_AHEAD:
            done, made = ahead.popleft()
            yield done, made.result()
    while ahead:
        done, made = ahead.popleft()
        yield done, made.result()
