"""What the clustering window reads of the stories table: the window itself on start, and
the older stories a late story is compared with.

In: times and story ids. Out: `Story`s with their clusters. Raises: `StoreError`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import NamedTuple

from watcher.models import Story
from watcher.store.base import Tables, translated
from watcher.store.rows import STORY_COLUMNS, story_from_row, to_text

# a clustered story's summary cut to its first ? characters; its body, unread, left out
_CUT = {
    "summary": "CASE WHEN s.cluster_id IS NULL THEN summary ELSE substr(summary, 1, ?) END",
    "body": "CASE WHEN s.cluster_id IS NULL THEN body ELSE '' END",
}
_COLUMNS = ", ".join(_CUT.get(c, f"s.{c}") for c in STORY_COLUMNS)
# when the story's cluster's first kept story was published, where that is before the
# story (POSIX seconds), the clusters' first stories given by `b`
_BEGAN = "CASE WHEN b.began < s.published THEN CAST(strftime('%s', b.began) AS INTEGER) END"

WindowRow = tuple[Story, int | None, float | None]  # a story, its cluster, when that began


class StoryText(NamedTuple):
    """What tells whether a stored story may be a late story's copy (`dedupe.recall`)."""

    id: str
    published: int  # POSIX seconds
    title: str
    summary: str  # its beginning
    link: str
    guid: str | None
    related: str  # links, one a line


class WindowTables(Tables):
    """Reads of the stories table for the clustering window."""

    def window_stories(
        self, published_since: datetime, *, summary_chars: int
    ) -> Iterator[WindowRow]:
        """Stories published since the given time with their cluster (None: not clustered
        yet) and, where that cluster's first kept story was published before the story,
        when (in POSIX seconds: it may be before the given time); oldest first, read as they
        are taken: the window may hold hundreds of thousands. A clustered story's summary is
        cut to its first `summary_chars` characters, and its body, which clustering does not
        read, left out."""
        since = to_text(published_since)
        yield from self._window_rows(
            "WHERE cluster_id IN (SELECT cluster_id FROM stories WHERE published >= ?)",
            "WHERE s.published >= ? OR s.cluster_id IS NULL ORDER BY s.published, s.id",
            [summary_chars, since, since], "reading the clustering window",
        )  # fmt: skip

    def placed_stories(self, ids: Sequence[str], *, summary_chars: int) -> list[WindowRow]:
        """The clustered stories of these ids, as `window_stories` gives them, oldest first."""
        listed = json.dumps(list(ids))  # one parameter, however many
        return list(
            self._window_rows(
                "WHERE cluster_id IN (SELECT cluster_id FROM stories WHERE id IN "
                "(SELECT value FROM json_each(?)))",
                "WHERE s.id IN (SELECT value FROM json_each(?)) AND s.cluster_id IS NOT NULL "
                "ORDER BY s.published, s.id",
                [summary_chars, listed, listed],
                "reading stored stories for a late story",
            )
        )

    def story_texts(self, start: datetime, end: datetime, *, chars: int) -> Iterator[StoryText]:
        """The clustered stories published from `start` until before `end`, each with its
        summary's first `chars` characters, oldest first, read as they are taken."""
        with translated("reading stored stories for a late story"):
            cursor = self.db.conn.execute(
                "SELECT id, CAST(strftime('%s', published) AS INTEGER), title, "
                "substr(summary, 1, ?), link, guid, related FROM stories "
                "WHERE published >= ? AND published < ? AND cluster_id IS NOT NULL "
                "ORDER BY published, id",
                [chars, to_text(start), to_text(end)],
            )
            while rows := cursor.fetchmany(1000):
                yield from map(StoryText._make, rows)

    def _window_rows(
        self, clusters: str, where: str, values: list[object], doing: str
    ) -> Iterator[WindowRow]:
        """Stories as `window_stories` gives them: `clusters` picks the clusters whose first
        story is looked up, `where` the stories."""
        with translated(doing):
            cursor = self.db.conn.execute(
                f"SELECT {_COLUMNS}, s.cluster_id, {_BEGAN} FROM stories AS s LEFT JOIN "
                f"(SELECT cluster_id, MIN(published) AS began FROM stories {clusters} "
                f"GROUP BY cluster_id) AS b ON b.cluster_id = s.cluster_id {where}",
                values,
            )
            while rows := cursor.fetchmany(1000):
                for *values_, cluster, began in rows:
                    story = story_from_row(dict(zip(STORY_COLUMNS, values_, strict=True)))
                    yield story, cluster, began
