"""What the prune deletes: stories past their retention, the clusters they leave empty,
and old sent alerts, each in batches of its own (`watcher.prune` runs them).

In: times and the configured feeds. Out: how many rows each batch deleted. Raises:
`StoreError`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from watcher.store.base import NOT_SENT, Tables, in_batches, translated
from watcher.store.rows import to_text


class PruneTables(Tables):
    """The prune's deletes, each a transaction of its own, called until it takes nothing."""

    def prune_stories(
        self, fetched_before: datetime, feeds: Iterable[str] = (), limit: int = 5_000
    ) -> int:
        """Delete up to `limit` stories first fetched before `fetched_before`, but for those
        the latest listing of one of `feeds` held (their feed still lists them: pruned, they
        would come back as new, and alert again) and those of alerts not sent (pending
        through a long outage, or in the dead-letter list: sent later, they need their
        story); returns how many (call until 0: each call is a transaction of its own, and
        takes each feed's latest listing anew)."""
        listed = "COALESCE(seen_at, fetched_at)"
        with translated("pruning old stories"), self._atomic():
            self.db.execute(
                "CREATE TEMP TABLE IF NOT EXISTS listing (feed TEXT PRIMARY KEY, at TEXT)"
            )
            self.db.execute("DELETE FROM temp.listing")
            self.db.execute(  # a seek a feed in the index `stories_listed`
                "INSERT INTO temp.listing SELECT value, (SELECT MAX("
                f"{listed}) FROM stories WHERE feed = value) FROM (SELECT DISTINCT value "
                "FROM json_each(?))",
                [json.dumps(list(feeds))],
            )
            cursor = self.db.execute(
                "DELETE FROM stories WHERE rowid IN (SELECT rowid FROM stories "
                "WHERE fetched_at < ? AND NOT EXISTS (SELECT 1 FROM temp.listing l WHERE "
                f"l.feed = stories.feed AND l.at = {listed}) "
                f"AND id NOT IN (SELECT story_id FROM alerts WHERE {NOT_SENT}) LIMIT ?)",
                [to_text(fetched_before), limit],
            )
            return cursor.rowcount

    def prune_clusters(self, updated_before: datetime, limit: int = 20_000) -> int:
        """Delete up to `limit` clusters that no story is left in, last updated before
        `updated_before`, with their rule matches; returns how many (call until 0). Kept:
        one merged into a cluster that stands (`alerts_for` finds that cluster's alerts
        through it; it goes at a later call once that one has gone), and the newest (the
        next cluster's id follows its, so no id is given twice). Alerts stay: the record of
        what was sent."""
        with translated("pruning empty clusters"), self._atomic():
            ids = [
                row[0]
                for row in self.db.execute(
                    "SELECT id FROM clusters c WHERE updated_at < ? "
                    "AND id < (SELECT MAX(id) FROM clusters) "
                    "AND NOT EXISTS (SELECT 1 FROM stories s WHERE s.cluster_id = c.id) "
                    "AND NOT EXISTS (SELECT 1 FROM clusters p WHERE p.id = c.merged_into) "
                    "LIMIT ?",
                    [to_text(updated_before), limit],
                )
            ]
            for marks, batch in in_batches(ids):
                self.db.execute(f"DELETE FROM matches WHERE cluster_id IN ({marks})", batch)
                self.db.execute(f"DELETE FROM clusters WHERE id IN ({marks})", batch)
        return len(ids)

    def prune_alerts(self, before: datetime, limit: int = 20_000) -> int:
        """Delete up to `limit` alerts made and sent (or dropped) before `before` whose news
        item is gone (the prune took its stories, then it), and feed and delivery notices
        of that age; returns how many (call until 0). Kept: alerts not sent, those of a news
        item that stands (the record of what it alerted), and the newest alert (notices
        take their ids from it)."""
        stamp = to_text(before)
        with translated("pruning old alerts"), self._atomic():
            cursor = self.db.execute(
                "DELETE FROM alerts WHERE id IN (SELECT id FROM alerts a WHERE created_at < ? "
                "AND status IN ('sent', 'dropped') AND COALESCE(sent_at, created_at) < ? "
                "AND id < (SELECT MAX(id) FROM alerts) AND (cluster_id < 0 OR NOT EXISTS "
                "(SELECT 1 FROM clusters c WHERE c.id = a.cluster_id)) LIMIT ?)",
                [stamp, stamp, limit],
            )
            return cursor.rowcount
