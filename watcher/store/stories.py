"""The stories and clusters tables: polls with their clusters, the window, merges.

In: `FeedState`, `ClusteredStory`, `Assignment`. Out: `Story`, `Cluster`. Raises: `StoreError`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from watcher.errors import StoreError
from watcher.models import Assignment, Cluster, ClusteredStory, FeedState, Story
from watcher.store.base import Tables, in_batches, translated
from watcher.store.outbox import move_alerts
from watcher.store.rows import (
    INSERT_PLACED_STORY,
    STORY_COLUMNS,
    UPDATE_FEED,
    feed_row,
    from_text,
    story_from_row,
    story_row,
    to_text,
)
from watcher.urls import canonical_url


class StoryTables(Tables):
    """Stories and the clusters they were placed in."""

    def record_new_stories(
        self, state: FeedState, placed: Sequence[ClusteredStory], now: datetime
    ) -> None:
        """Save a poll: the feed's new state, its new stories with the clusters they were placed
        in, and those clusters (merges included). A story stored already is an error."""
        rows = [[*story_row(c.story), c.assignment.cluster, c.assignment.level,
                 c.assignment.matched, c.assignment.reason] for c in placed]  # fmt: skip
        with translated(f"saving a poll of feed {state.name!r}"), self._atomic():
            self.db.conn.executemany(INSERT_PLACED_STORY, rows)
            self.db.conn.execute(UPDATE_FEED, feed_row(state))
            self.record_assignments([c.assignment for c in placed], now, stories_written=True)

    def recent_stories(self, since: datetime, feeds: Collection[str] | None = None) -> list[Story]:
        """Stories first fetched at or after `since` (of `feeds` alone), newest first."""
        return list(self.stories_fetched_since(since, feeds, newest_first=True))

    def stories_fetched_since(
        self, since: datetime, feeds: Collection[str] | None = None, *, newest_first: bool = False,
        chunk: int = 200,
    ) -> Iterator[Story]:  # fmt: skip
        """Stories first fetched at or after `since` (of `feeds` alone, where given), oldest
        first (or newest), read `chunk` at a time (a chunk of the longest stories, 40,000
        characters each, is 8 MB): a month of 5,000 feeds' stories is millions, more than
        memory holds at once."""
        only = f" AND feed IN ({', '.join('?' * len(feeds))})" if feeds is not None else ""
        order = "DESC" if newest_first else ""
        with translated("reading stories"):
            cursor = self.db.conn.execute(
                f"SELECT {', '.join(STORY_COLUMNS)} FROM stories WHERE fetched_at >= ?{only} "
                f"ORDER BY fetched_at {order}, published {order}",
                [to_text(since), *(feeds or ())],
            )
            while rows := cursor.fetchmany(chunk):
                for row in rows:
                    yield story_from_row(dict(zip(STORY_COLUMNS, row, strict=True)))

    def clusters_of(self, story_ids: Sequence[str]) -> dict[str, int]:
        """The cluster of each clustered story of `story_ids`."""
        found: dict[str, int] = {}
        with translated("reading the stories' clusters"):
            for marks, batch in in_batches(story_ids):
                rows = self.db.execute(
                    f"SELECT id, cluster_id FROM stories WHERE id IN ({marks}) "
                    "AND cluster_id IS NOT NULL",
                    batch,
                )
                found.update(rows)
        return found

    def find_stories(self, key: str) -> list[Story]:
        """Stories by link, else the story of that id, else those whose id starts so (6
        characters at least); 20 at most."""
        if key.lower().startswith(("http://", "https://")):
            return self._stories_where("link = ?", canonical_url(key))
        found = self._stories_where("id = ?", key)
        if found or len(key) < 6 or not key.isalnum():
            return found
        return self._stories_where("id GLOB ?", key.lower() + "*")

    def _stories_where(self, clause: str, value: str) -> list[Story]:
        with translated(f"finding the story {value!r}"):
            rows = self.db.execute_returning_dicts(
                f"SELECT {', '.join(STORY_COLUMNS)} FROM stories WHERE {clause} "
                "ORDER BY fetched_at LIMIT 20",
                [value],
            )
        return [story_from_row(row) for row in rows]

    def placement(self, story_id: str) -> tuple[int | None, str | None, str | None, str | None]:
        """Where a stored story was placed: its cluster, and the level, the story and the
        reason of the link that put it there (None for the story that started its cluster)."""
        with translated(f"reading story {story_id}"):
            row = self.db.execute(
                "SELECT cluster_id, cluster_level, cluster_match, cluster_reason FROM stories "
                "WHERE id = ?",
                [story_id],
            ).fetchone()
        if row is None:
            raise StoreError(f"no story {story_id}")
        return row[0], row[1], row[2], row[3]

    def first_fetch(self, feed: str) -> datetime | None:
        """When the oldest story kept of a feed was first fetched (its first poll, unless
        pruning has taken that poll's stories)."""
        with translated(f"reading feed {feed!r}"):
            row = self.db.execute(
                "SELECT MIN(fetched_at) FROM stories WHERE feed = ?", [feed]
            ).fetchone()
        return from_text(row[0]) if row and row[0] else None

    def retitle_stories(self, stories: Sequence[Story]) -> dict[str, int]:
        """Give stored stories the title, summary, body and link their feed gives them now;
        the clusters of those clustered, by story id."""
        clusters: dict[str, int] = {}
        with translated("saving retitled stories"), self._atomic():
            self.db.conn.executemany(
                "UPDATE stories SET title = ?, summary = ?, body = ?, link = ? WHERE id = ?",
                [[s.title, s.summary, s.body, s.link, s.id] for s in stories],
            )
            for marks, batch in in_batches([s.id for s in stories]):
                rows = self.db.execute(
                    f"SELECT id, cluster_id FROM stories WHERE id IN ({marks}) "
                    "AND cluster_id IS NOT NULL",
                    batch,
                )
                clusters.update((row[0], row[1]) for row in rows)
        return clusters

    def stories_published_at(self, feed: str, times: Iterable[datetime]) -> list[Story]:
        """Stored stories of `feed` published at any of `times` (found by the index on the
        date: few stories share one, where a feed may have thousands)."""
        stamps = sorted(set(filter(None, map(to_text, times))))
        rows: list[dict[str, Any]] = []
        with translated(f"reading stories of feed {feed!r}"):
            for marks, batch in in_batches(stamps):
                rows += self.db.execute_returning_dicts(
                    f"SELECT {', '.join(STORY_COLUMNS)} FROM stories "
                    f"WHERE published IN ({marks}) AND +feed = ?",
                    [*batch, feed],
                )
        return [story_from_row(row) for row in rows]

    def story(self, story_id: str) -> Story:
        with translated(f"reading story {story_id}"):
            rows = self.db.execute_returning_dicts(
                f"SELECT {', '.join(STORY_COLUMNS)} FROM stories WHERE id = ?", [story_id]
            )
        if not rows:
            raise StoreError(f"no story {story_id}")
        return story_from_row(rows[0])

    def stories(self, story_ids: Sequence[str]) -> dict[str, Story]:
        """The stored stories of `story_ids`, by id."""
        rows: list[dict[str, Any]] = []
        with translated("reading stories"):
            for marks, batch in in_batches(story_ids):
                rows += self.db.execute_returning_dicts(
                    f"SELECT {', '.join(STORY_COLUMNS)} FROM stories WHERE id IN ({marks})", batch
                )
        return {row["id"]: story_from_row(row) for row in rows}

    def count_stories(self) -> int:
        with translated("counting stories"):
            return int(self.db.execute("SELECT COUNT(*) FROM stories").fetchone()[0])

    def mark_listed(self, feed: str, ids: Sequence[str], now: datetime) -> None:
        """The feed's stored stories among `ids` were listed by it again at `now`."""
        with translated(f"noting the stories feed {feed!r} lists"), self._atomic():
            for marks, batch in in_batches(ids):
                self.db.execute(
                    f"UPDATE stories SET seen_at = ? WHERE feed = ? AND id IN ({marks})",
                    [to_text(now), feed, *batch],
                )

    # -- clusters ----------------------------------------------------------------------------

    def next_cluster_id(self) -> int:
        with translated("reading cluster ids"):
            row = self.db.execute("SELECT MAX(id) FROM clusters").fetchone()
        return int(row[0] or 0) + 1

    def record_assignments(
        self, assignments: Iterable[Assignment], now: datetime, *, stories_written: bool = False
    ) -> None:
        """Save where new stories went, merging clusters a story linked together.
        `stories_written`: the story rows hold their assignments already."""
        stamp = to_text(now)
        clusters: list[list[Any]] = []
        stories: list[list[Any]] = []

        def flush() -> None:  # rows go in batches, but always before a merge moves rows
            self.db.conn.executemany(
                "INSERT OR IGNORE INTO clusters (id, lead_story, created_at, updated_at) "
                "VALUES (?, ?, ?, ?)",
                clusters,
            )
            if not stories_written:
                self.db.conn.executemany(
                    """UPDATE stories SET cluster_id = ?, cluster_level = ?, cluster_match = ?,
                       cluster_reason = ? WHERE id = ?""",
                    stories,
                )
            clusters.clear()
            stories.clear()

        with translated("saving story clusters"), self._atomic():
            touched: set[int] = set()
            gone: set[int] = set()  # merged into another cluster by this batch
            for a in assignments:
                if a.merged:
                    flush()
                for old in a.merged:
                    self._merge_cluster(old, into=a.cluster, stamp=stamp)
                    gone.add(old)
                clusters.append([a.cluster, a.story, stamp, stamp])
                stories.append([a.cluster, a.level, a.matched, a.reason, a.story])
                if a.level is not None:  # a new cluster's one story is already its lead
                    touched.add(a.cluster)
            flush()
            for cluster in touched - gone:
                self._refresh_cluster(cluster, now)

    def _merge_cluster(self, old: int, *, into: int, stamp: str | None) -> None:
        self.db.execute("UPDATE stories SET cluster_id = ? WHERE cluster_id = ?", [into, old])
        self.db.execute(
            "UPDATE clusters SET merged_into = ?, updated_at = ? WHERE id = ?", [into, stamp, old]
        )
        # a rule both clusters matched keeps the loud match (a quiet one would let a later
        # story alert the news item again), else the waiting one (it may alert yet)
        self.db.execute(
            "DELETE FROM matches WHERE cluster_id = ? AND quiet = 1 AND EXISTS "
            "(SELECT 1 FROM matches AS o WHERE o.cluster_id = ? AND o.rule = matches.rule "
            "AND (o.quiet = 0 OR o.waiting > matches.waiting))",
            [into, old],
        )
        self.db.execute(
            "UPDATE OR IGNORE matches SET cluster_id = ? WHERE cluster_id = ?", [into, old]
        )
        self.db.execute("DELETE FROM matches WHERE cluster_id = ?", [old])
        move_alerts(self.db, old, into=into)

    def _refresh_cluster(self, cluster: int, now: datetime) -> None:
        lead = self.db.execute(
            "SELECT id FROM stories WHERE cluster_id = ? "
            "ORDER BY published, fetched_at, id LIMIT 1",
            [cluster],
        ).fetchone()
        self.db.execute(
            "UPDATE clusters SET lead_story = ?, updated_at = ? WHERE id = ?",
            [lead[0], to_text(now), cluster],
        )

    def recent_clusters(self, since: datetime) -> list[Cluster]:
        """Clusters that gained a story since `since`, most recently updated first."""
        with translated("reading clusters"):
            ids = [
                row[0]
                for row in self.db.execute(
                    "SELECT id FROM clusters WHERE updated_at >= ? AND merged_into IS NULL "
                    "ORDER BY updated_at DESC, id DESC",
                    [to_text(since)],
                )
            ]
            return [self.cluster(i) for i in ids]

    def cluster(self, cluster_id: int) -> Cluster:
        with translated(f"reading cluster {cluster_id}"):
            rows = self.db.execute_returning_dicts(
                f"SELECT {', '.join(STORY_COLUMNS)} FROM stories WHERE cluster_id = ? "
                "ORDER BY published, fetched_at, id",
                [cluster_id],
            )
            follows = self._follows(cluster_id) if rows else None
        members = tuple(story_from_row(row) for row in rows)
        if not members:
            raise StoreError(f"no cluster {cluster_id}")
        return Cluster(id=cluster_id, lead=members[0], members=members, follows=follows)

    def _follows(self, cluster_id: int) -> Story | None:
        """The story of an earlier news item that the cluster's first story started for
        max_span read as the same event as (`Cluster.follows`), if it is still kept and
        no later link merged the two."""
        rows = self.db.execute_returning_dicts(
            f"SELECT {', '.join('e.' + c for c in STORY_COLUMNS)} FROM stories AS s "
            "JOIN stories AS e ON e.id = s.cluster_match WHERE s.cluster_id = ? "
            "AND s.cluster_level IS NULL AND e.cluster_id IS NOT s.cluster_id "  # not merged
            "ORDER BY s.published, s.fetched_at, s.id LIMIT 1",
            [cluster_id],
        )
        return story_from_row(rows[0]) if rows else None

    def source_counts(self, clusters: Iterable[int]) -> dict[int, int]:
        """The outlets (distinct sources, as `Cluster.sources` counts them) of each cluster's
        stories."""
        counts: dict[int, int] = {}
        with translated("counting the outlets of clusters"):
            for marks, batch in in_batches(sorted(set(clusters))):
                rows = self.db.execute(
                    "SELECT cluster_id, COUNT(DISTINCT source) FROM stories "
                    f"WHERE cluster_id IN ({marks}) GROUP BY cluster_id",
                    batch,
                )
                counts.update(rows)
        return counts

    def count_clusters(self) -> int:
        """Clusters that still stand (not merged into another)."""
        with translated("counting clusters"):
            sql = "SELECT COUNT(*) FROM clusters WHERE merged_into IS NULL"
            return int(self.db.execute(sql).fetchone()[0])
