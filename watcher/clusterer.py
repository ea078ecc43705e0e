"""The clustering window of a running watcher: rebuilt from the store on start, kept in step,
and given back the stored stories it no longer holds that a late story may repeat
(`dedupe.recall`).

In: stored stories (and their fingerprints, made in the parse pool). Out: `ClusteredStory`s,
their assignments recorded in the store. Raises `StoreError` from the store.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import islice

from watcher.dedupe import (
    SUMMARY_CHARS,
    ClusterIndex,
    ClusterSettings,
    Fingerprint,
    fingerprint,
    fingerprints,
)
from watcher.dedupe.recall import RECALL_CHARS, Late, late_story, recalled, spans
from watcher.logs import event
from watcher.models import ClusteredStory, Story
from watcher.store import Store
from watcher.store.window import StoryText, WindowRow

LOAD_CHUNK = 500  # stories fingerprinted per pool task when the window is rebuilt
LOAD_AHEAD = 4  # chunks in the pool at once
SLOW_RECALL_MS = 100  # a recall that put nothing back is logged at INFO from this long

Clock = Callable[[], datetime]
log = logging.getLogger(__name__)


class Clusterer:
    """Keeps the clustering window in memory and every decision in the store."""

    def __init__(self, store: Store, settings: ClusterSettings, clock: Clock) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.index = ClusterIndex(settings, next_cluster=store.next_cluster_id())
        self.held_since = -math.inf  # POSIX seconds: the window holds what was published since
        self._older: set[str] = set()  # stories in the window published before `held_since`
        self._older_since_begin: list[str] = []  # of those, the ones a failed batch takes back

    def load(self, executor: Executor | None = None) -> list[Story]:
        """Rebuild the window from the store, fingerprinting in `executor` when given; return
        the stories left unclustered (stored by an earlier version, which clustered them in
        a second transaction). Stories are read, fingerprinted and added a chunk at a time,
        at most `LOAD_AHEAD` chunks in the pool: the window is never held as stories."""
        since = self.clock() - timedelta(seconds=2 * self.settings.window)
        self.held_since = since.timestamp()
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
        self,
        stories: Sequence[Story],
        prints: Sequence[Fingerprint] | None = None,
        *,
        quiet: Collection[str] = (),
    ) -> list[ClusteredStory]:
        """Place stories in clusters of the window, oldest first; nothing is recorded. A
        story published less than `window` after the window's start, unless `quiet` (it
        alerts no one), is compared with the stored stories published before that start
        and within `window` of it that may be its copies (`recall`)."""
        if prints is None:
            prints = [fingerprint(s) for s in stories]
        ordered = sorted(zip(stories, prints, strict=True), key=lambda p: (p[0].published, p[0].id))
        held, window = self.held_since, self.settings.window
        if late := [
            (s, fp) for s, fp in ordered if fp.published - window < held and s.id not in quiet
        ]:
            self.recall(late)
        self._hold_older([s.id for s, fp in ordered if fp.published < held])
        return [
            ClusteredStory(story=s, assignment=self.index.add_fingerprint(fp)) for s, fp in ordered
        ]

    def retitled(
        self, stories: Iterable[Story], prints: Mapping[str, Fingerprint] | None = None
    ) -> None:
        """Stored stories given another title, held in the window as they are now, in the
        clusters they are in (`ClusterIndex.retitle`); `prints`: their fingerprints by id,
        where the parse pool made them (the others are made here)."""
        for story in stories:
            made = prints.get(story.id) if prints is not None else None
            self.index.retitle(made or fingerprint(story))

    def recall(self, late: Sequence[tuple[Story, Fingerprint]]) -> tuple[int, int]:
        """Put back in the window the stored stories published before it that may be
        copies of these stories (`dedupe.recall`); how many were read, and put back."""
        started, window = time.perf_counter(), self.settings.window
        lates = [late_story(fp, s.guid, window, self.held_since) for s, fp in late]
        read = 0

        def found() -> Iterator[tuple[list[Late], StoryText]]:
            nonlocal read
            for start, end, group in spans(lates):
                begin, until = (_utc(t) for t in (start, end))
                for text in self.store.story_texts(begin, until, chars=RECALL_CHARS):
                    read += 1
                    yield group, text

        ids = recalled(found(), self._older)
        rows = self.store.placed_stories(ids, summary_chars=SUMMARY_CHARS) if ids else []
        prints = fingerprints([row[0] for row in rows])
        for (_, cluster, began), fp in zip(rows, prints, strict=True):
            self.index.add_fingerprint(fp, cluster, began)
        self._hold_older([story.id for story, _, _ in rows])
        ms = round((time.perf_counter() - started) * 1000)
        level = logging.INFO if rows or ms >= SLOW_RECALL_MS else logging.DEBUG
        event(log, level, "late stories compared with stored ones", late=len(late), read=read,
              recalled=len(rows), ms=ms)  # fmt: skip
        return read, len(rows)

    @contextmanager
    def tentative(self) -> Iterator[None]:
        """Stories placed within are taken out of the window again if the block fails:
        the window never holds a story, or a merge, the store does not."""
        self.index.begin()
        self._older_since_begin = []
        try:
            yield
        except BaseException:
            self.index.rollback()
            self._older.difference_update(self._older_since_begin)
            raise
        self.index.commit()

    def _hold_older(self, ids: list[str]) -> None:
        self._older.update(ids)
        self._older_since_begin += ids

    def final(self, clustered: ClusteredStory) -> ClusteredStory:
        """The story with the cluster it ended in: a later story of the same batch may have
        merged the one it joined into another (its matches and alerts belong there)."""
        cluster = self.index.current(clustered.assignment.cluster)
        if cluster == clustered.assignment.cluster:
            return clustered
        return replace(clustered, assignment=replace(clustered.assignment, cluster=cluster))

    def expire(self) -> int:
        cutoff = self.clock() - timedelta(seconds=2 * self.settings.window)
        self.held_since = max(self.held_since, cutoff.timestamp())
        removed = self.index.expire(self.held_since)
        self._older.clear()  # all published before the window's new start
        self._older_since_begin = []
        return removed


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


_FIRST, _LAST = (datetime(year, 1, 1, tzinfo=UTC).timestamp() for year in (1, 9999))


def _utc(seconds: float) -> datetime:
    """POSIX seconds as a UTC time, within the years 1 to 9999: a late story of year 1,
    less the window, was ValueError, and its feed's every poll failed."""
    return datetime.fromtimestamp(min(max(seconds, _FIRST), _LAST), UTC)
