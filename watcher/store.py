"""All SQL lives here: feeds' health and the stories we have seen.

In: dataclasses from `models`. Out: dataclasses. Raises: `StoreError` for any sqlite3 error.

The database runs in WAL mode with a busy timeout, so the CLI can read while the service
writes. Every poll is written in one transaction (the feed's health, its new stories with
their clusters, their matches and alerts), so a crash at any moment leaves either all of a
poll or none of it. The schema and its migrations live in `schema`; they run when a `Store`
opens the file.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from pathlib import Path
from typing import Any

import sqlite_utils

from watcher.errors import StoreError
from watcher.models import (
    Alert,
    AlertPlan,
    Assignment,
    Cluster,
    ClusteredStory,
    FeedConfig,
    FeedState,
    Match,
    Story,
)
from watcher.schema import MIGRATIONS, SCHEMA_VERSION

BUSY_TIMEOUT_MS = 5000
WAL_CHECKPOINT_PAGES = 10_000
NEVER = datetime.min.replace(tzinfo=UTC)


_FEED_COLUMNS = (
    "url", "etag", "last_modified", "content_hash", "consecutive_failures", "next_poll_at",
    "disabled", "last_polled_at", "last_success_at", "last_error", "last_error_at",
    "last_status", "warning",
)  # fmt: skip
_STORY_COLUMNS = tuple(f.name for f in fields(Story))
_PLACED_COLUMNS = (*_STORY_COLUMNS, "cluster_id", "cluster_level", "cluster_match",
                   "cluster_reason")  # fmt: skip


def _insert_into(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"


_INSERT_STORY = _insert_into("stories", _STORY_COLUMNS)
_INSERT_PLACED_STORY = _insert_into("stories", _PLACED_COLUMNS)
_UPDATE_FEED = f"UPDATE feeds SET {', '.join(f'{c} = ?' for c in _FEED_COLUMNS)} WHERE name = ?"


def to_text(when: datetime | None) -> str | None:
    """A UTC time as stored: ISO 8601 to the second, so text order is time order."""
    return when.isoformat(timespec="seconds") if when else None


def from_text(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@contextmanager
def _translated(action: str) -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        raise StoreError(f"database error while {action}: {exc}") from exc


class Store:
    """The SQLite database of one watcher."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        with _translated(f"opening {self.path}"):
            if str(path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            self.db = sqlite_utils.Database(conn)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if str(path) != ":memory:":
                self.db.enable_wal()
                # checkpoint every ~40 MB of WAL, not every 4 MB: a checkpoint copies pages
                # and syncs the file within some commit, and fewer of them cost less in all
                conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
            conn.execute("PRAGMA synchronous = NORMAL")
            self.migrate()

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction around several writes, all undone by an error that leaves the block.
        The methods called within make no savepoints of their own (a savepoint copies every
        page it changes), so an error caught within would keep a failed method's writes."""
        with _translated("committing"), self._atomic():
            yield

    @contextmanager
    def _atomic(self) -> Iterator[None]:
        """A transaction, or within one, nothing: an error undoes the enclosing one, since no
        method of the store catches one from another."""
        if self.db.conn.in_transaction:
            yield
            return
        with self.db.atomic():
            yield

    @property
    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> None:
        """Bring the schema up to SCHEMA_VERSION, one transaction per step."""
        with _translated("migrating the schema"):
            version = self.schema_version
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path} has schema version {version}, newer than this watcher's "
                    f"{SCHEMA_VERSION}: upgrade watcher"
                )
            for step in range(version, SCHEMA_VERSION):
                with self._atomic():
                    MIGRATIONS[step](self.db)
                    self.db.execute(f"PRAGMA user_version = {step + 1}")

    # -- feeds -----------------------------------------------------------------------------

    def sync_feeds(self, feeds: Iterable[FeedConfig]) -> None:
        """Add feeds not seen before; a feed whose configured URL changed starts afresh."""
        with _translated("recording the configured feeds"), self._atomic():
            for feed in feeds:
                row = self.db.execute(
                    "SELECT config_url FROM feeds WHERE name = ?", [feed.name]
                ).fetchone()
                if row is None:
                    self.db.execute(
                        "INSERT INTO feeds (name, config_url, url) VALUES (?, ?, ?)",
                        [feed.name, feed.url, feed.url],
                    )
                elif row[0] != feed.url:
                    self.db.execute(
                        """UPDATE feeds SET config_url = ?, url = ?, etag = NULL,
                           last_modified = NULL, content_hash = NULL, disabled = 0,
                           consecutive_failures = 0, next_poll_at = NULL WHERE name = ?""",
                        [feed.url, feed.url, feed.name],
                    )

    def feed_state(self, name: str) -> FeedState:
        """One feed's state, read before each poll (its `stories` count is left at 0)."""
        with _translated(f"reading feed {name!r}"):  # the cursor, not sqlite-utils' query():
            cursor = self.db.conn.execute("SELECT * FROM feeds WHERE name = ?", [name])
            row = cursor.fetchone()  # it wraps each query in a savepoint
        if row is None:
            raise StoreError(f"no feed named {name!r} in the database")
        return _feed_from_row(dict(zip([c[0] for c in cursor.description], row, strict=True)))

    def feed_states(self) -> list[FeedState]:
        """Every feed, with how many stories it has stored."""
        sql = """SELECT f.*, COUNT(s.id) AS stories FROM feeds f
                 LEFT JOIN stories s ON s.feed = f.name GROUP BY f.name ORDER BY f.name"""
        with _translated("reading feeds"):
            return [_feed_from_row(row) for row in self.db.execute_returning_dicts(sql)]

    # -- polls -----------------------------------------------------------------------------

    def record_poll(self, state: FeedState, stories: Iterable[Story] = ()) -> list[Story]:
        """Save the feed's new state and its stories not seen before, in one transaction.

        Returns the stories that were new.
        """
        stories = list(stories)
        action = f"saving a poll of feed {state.name!r}"
        if not stories:  # one statement is a transaction of its own
            with _translated(action):
                self.db.conn.execute(_UPDATE_FEED, _feed_row(state))
            return []
        with _translated(action), self._atomic():
            new = self._unknown(stories)
            if new:
                self.db.conn.executemany(_INSERT_STORY, [_story_row(s) for s in new])
            self.db.conn.execute(_UPDATE_FEED, _feed_row(state))
        return new

    def unknown_stories(self, stories: Iterable[Story]) -> list[Story]:
        """The stories not stored yet, one per id: the last given, in the first one's place."""
        with _translated("reading which stories are stored"):
            return self._unknown(stories)

    def _unknown(self, stories: Iterable[Story]) -> list[Story]:
        unique = list({s.id: s for s in stories}.values())
        known = self._known_ids([s.id for s in unique]) if unique else set()
        return [s for s in unique if s.id not in known]

    def record_new_stories(
        self, state: FeedState, placed: Sequence[ClusteredStory], now: datetime
    ) -> None:
        """Save a poll: the feed's new state, its new stories with the clusters they were placed
        in, and those clusters (merges included). A story stored already is an error."""
        rows = [[*_story_row(c.story), c.assignment.cluster, c.assignment.level,
                 c.assignment.matched, c.assignment.reason] for c in placed]  # fmt: skip
        with _translated(f"saving a poll of feed {state.name!r}"), self._atomic():
            self.db.conn.executemany(_INSERT_PLACED_STORY, rows)
            self.db.conn.execute(_UPDATE_FEED, _feed_row(state))
            self.record_assignments([c.assignment for c in placed], now, stories_written=True)

    def _known_ids(self, ids: list[str]) -> set[str]:
        known: set[str] = set()
        for start in range(0, len(ids), 500):
            batch = ids[start : start + 500]
            marks = ", ".join("?" for _ in batch)
            rows = self.db.execute(f"SELECT id FROM stories WHERE id IN ({marks})", batch)
            known.update(row[0] for row in rows)
        return known

    # -- stories ---------------------------------------------------------------------------

    def recent_stories(self, since: datetime) -> list[Story]:
        """Stories first fetched at or after `since`, newest first."""
        with _translated("reading stories"):
            rows = self.db.execute_returning_dicts(
                f"SELECT {', '.join(_STORY_COLUMNS)} FROM stories WHERE fetched_at >= ? "
                "ORDER BY fetched_at DESC, published DESC",
                [to_text(since)],
            )
        return [_story_from_row(row) for row in rows]

    def window_stories(
        self, published_since: datetime, *, summary_chars: int
    ) -> Iterator[tuple[Story, int | None]]:
        """Stories published since the given time with their cluster (None: not clustered
        yet), oldest first, read as they are taken: the window may hold hundreds of thousands.
        A clustered story's summary is cut to its first `summary_chars` characters."""
        cut = "CASE WHEN cluster_id IS NULL THEN summary ELSE substr(summary, 1, ?) END"
        columns = [cut if c == "summary" else c for c in _STORY_COLUMNS]
        with _translated("reading the clustering window"):
            cursor = self.db.conn.execute(
                f"SELECT {', '.join(columns)}, cluster_id FROM stories "
                "WHERE published >= ? OR cluster_id IS NULL ORDER BY published, id",
                [summary_chars, to_text(published_since)],
            )
            while rows := cursor.fetchmany(1000):
                for *values, cluster in rows:
                    yield _story_from_row(dict(zip(_STORY_COLUMNS, values, strict=True))), cluster

    def next_cluster_id(self) -> int:
        with _translated("reading cluster ids"):
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

        with _translated("saving story clusters"), self._atomic():
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
                if a.reason != "new":  # a new cluster's one story is already its lead
                    touched.add(a.cluster)
            flush()
            for cluster in touched - gone:
                self._refresh_cluster(cluster, now)

    def _merge_cluster(self, old: int, *, into: int, stamp: str | None) -> None:
        self.db.execute("UPDATE stories SET cluster_id = ? WHERE cluster_id = ?", [into, old])
        self.db.execute(
            "UPDATE clusters SET merged_into = ?, updated_at = ? WHERE id = ?", [into, stamp, old]
        )
        self.db.execute(
            "UPDATE OR IGNORE matches SET cluster_id = ? WHERE cluster_id = ?", [into, old]
        )
        self.db.execute("DELETE FROM matches WHERE cluster_id = ?", [old])
        # alerts never tried follow the cluster, unless it has one for the same subscriber
        # and channel already: one news item, one alert. One tried before (it may have
        # reached the channel) keeps its record.
        self.db.execute(
            "UPDATE OR IGNORE alerts SET cluster_id = ? "
            "WHERE cluster_id = ? AND status = 'pending' AND sends = 0",
            [into, old],
        )
        self.db.execute(
            "DELETE FROM alerts WHERE cluster_id = ? AND status = 'pending' AND sends = 0", [old]
        )

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
        with _translated("reading clusters"):
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
        with _translated(f"reading cluster {cluster_id}"):
            rows = self.db.execute_returning_dicts(
                f"SELECT {', '.join(_STORY_COLUMNS)} FROM stories WHERE cluster_id = ? "
                "ORDER BY published, fetched_at, id",
                [cluster_id],
            )
        members = tuple(_story_from_row(row) for row in rows)
        if not members:
            raise StoreError(f"no cluster {cluster_id}")
        return Cluster(id=cluster_id, lead=members[0], members=members)

    def record_matches(
        self,
        matches: Iterable[Match],
        route: Callable[[Match], Iterable[AlertPlan]] | None = None,
    ) -> list[Match]:
        """Save rule matches and, in the same transaction, the alerts `route` gives for each new
        one as (subscriber, channel) pairs; a subscriber gets one alert per cluster and channel,
        whatever the number of rules. Returns the matches new for their cluster and rule."""
        new = []
        with _translated("saving rule matches and alerts"), self._atomic():
            for m in matches:
                cursor = self.db.execute(
                    "INSERT OR IGNORE INTO matches (cluster_id, rule, story_id, terms, clause, "
                    "ruleset_version, matched_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [m.cluster, m.rule, m.story, json.dumps(m.terms), m.clause,
                     m.ruleset_version, to_text(m.matched_at)],
                )  # fmt: skip
                if cursor.rowcount:
                    new.append(m)
                    for plan in route(m) if route else ():
                        self._enqueue(m, plan)
        return new

    def _enqueue(self, m: Match, plan: AlertPlan) -> None:
        due, digest = plan.due, plan.digest
        if plan.cap is not None and plan.overflow_due is not None:
            sent_lately = self.db.execute(
                "SELECT COUNT(*) FROM alerts WHERE subscriber = ? AND channel = ? AND digest = 0 "
                "AND created_at > ?",
                [plan.subscriber, plan.channel, to_text(m.matched_at - timedelta(hours=1))],
            ).fetchone()[0]
            if sent_lately >= plan.cap:  # over the hourly cap: into the next hourly digest
                due, digest = plan.overflow_due, True
        self.db.execute(
            "INSERT OR IGNORE INTO alerts (subscriber, channel, cluster_id, rule, story_id, terms, "
            "next_attempt_at, created_at, digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [plan.subscriber, plan.channel, m.cluster, m.rule, m.story, json.dumps(m.terms),
             to_text(due), to_text(m.matched_at), int(digest)],
        )  # fmt: skip

    # -- the alert outbox --------------------------------------------------------------------

    def due_alerts(self, now: datetime, limit: int = 100) -> list[Alert]:
        """Pending alerts whose next attempt is due, oldest first."""
        return self._alerts(
            "WHERE status = 'pending' AND next_attempt_at <= ? "
            "ORDER BY next_attempt_at, id LIMIT ?",
            [to_text(now), limit],
        )

    def alerts(self, *, since: datetime | None = None, dead_only: bool = False) -> list[Alert]:
        where, params = ["1 = 1"], []
        if since is not None:
            where.append("created_at >= ?")
            params.append(to_text(since))
        if dead_only:
            where.append("status = 'dead'")
        return self._alerts(
            f"WHERE {' AND '.join(where)} ORDER BY created_at DESC, id DESC", params
        )

    def alert(self, alert_id: int) -> Alert:
        found = self._alerts("WHERE id = ?", [alert_id])
        if not found:
            raise StoreError(f"no alert with id {alert_id}")
        return found[0]

    def _alerts(self, clause: str, params: list[Any]) -> list[Alert]:
        with _translated("reading alerts"):
            rows = self.db.execute_returning_dicts(f"SELECT * FROM alerts {clause}", params)
        return [_alert_from_row(r) for r in rows]

    def mark_sending(self, alert_id: int) -> Alert | None:
        """Claim a pending alert for sending, committed before the network call (a crash after
        it is seen as a repeated send). None when it is no longer pending: a merge since it
        was read moved or removed it, so the caller must not send it."""
        with _translated(f"marking alert {alert_id} as sending"), self._atomic():
            claimed = self.db.execute(
                "UPDATE alerts SET status = 'sending', sends = sends + 1 "
                "WHERE id = ? AND status = 'pending'",
                [alert_id],
            ).rowcount
        return self.alert(alert_id) if claimed else None

    def mark_sent(self, alert_id: int, now: datetime) -> None:
        with _translated(f"marking alert {alert_id} as sent"), self._atomic():
            self.db.execute(
                "UPDATE alerts SET status = 'sent', sent_at = ?, last_error = NULL WHERE id = ?",
                [to_text(now), alert_id],
            )

    def mark_failed(self, alert_id: int, error: str, retry_at: datetime | None) -> None:
        """A failed attempt: retried at `retry_at`, or dead (the dead-letter list) when None."""
        with _translated(f"recording a failure of alert {alert_id}"), self._atomic():
            self.db.execute(
                "UPDATE alerts SET status = ?, attempts = attempts + 1, last_error = ?, "
                "next_attempt_at = COALESCE(?, next_attempt_at) WHERE id = ?",
                ["pending" if retry_at else "dead", error, to_text(retry_at), alert_id],
            )

    def requeue_sending(self) -> int:
        """On start: alerts a crash left 'sending' are sent again (at least once)."""
        with _translated("requeueing alerts left sending"), self._atomic():
            return self.db.execute(
                "UPDATE alerts SET status = 'pending' WHERE status = 'sending'"
            ).rowcount

    def retry_alert(self, alert_id: int, now: datetime) -> Alert:
        """Put a dead alert back in the queue, due now, with its attempts counted afresh."""
        alert = self.alert(alert_id)
        if alert.status != "dead":
            raise StoreError(f"alert {alert_id} is {alert.status}, not in the dead-letter list")
        with _translated(f"requeueing alert {alert_id}"), self._atomic():
            self.db.execute(
                "UPDATE alerts SET status = 'pending', attempts = 0, next_attempt_at = ? "
                "WHERE id = ?",
                [to_text(now), alert_id],
            )
        return self.alert(alert_id)

    def story(self, story_id: str) -> Story:
        with _translated(f"reading story {story_id}"):
            rows = self.db.execute_returning_dicts(
                f"SELECT {', '.join(_STORY_COLUMNS)} FROM stories WHERE id = ?", [story_id]
            )
        if not rows:
            raise StoreError(f"no story {story_id}")
        return _story_from_row(rows[0])

    def matches_for(self, cluster: int) -> list[Match]:
        with _translated(f"reading matches of cluster {cluster}"):
            rows = self.db.execute_returning_dicts(
                "SELECT * FROM matches WHERE cluster_id = ? ORDER BY matched_at, rule", [cluster]
            )
        return [
            Match(
                cluster=r["cluster_id"],
                rule=r["rule"],
                story=r["story_id"],
                terms=json.loads(r["terms"]),
                clause=r["clause"],
                ruleset_version=r["ruleset_version"],
                matched_at=from_text(r["matched_at"]) or NEVER,
            )
            for r in rows
        ]

    def count_stories(self) -> int:
        with _translated("counting stories"):
            return int(self.db.execute("SELECT COUNT(*) FROM stories").fetchone()[0])

    def count_clusters(self) -> int:
        """Clusters that still stand (not merged into another)."""
        with _translated("counting clusters"):
            sql = "SELECT COUNT(*) FROM clusters WHERE merged_into IS NULL"
            return int(self.db.execute(sql).fetchone()[0])

    def outbox_depth(self) -> dict[tuple[str, str], int]:
        """How many alerts are in each (status, channel) that is not yet sent."""
        with _translated("counting the outbox"):
            rows = self.db.execute(
                "SELECT status, channel, COUNT(*) FROM alerts WHERE status != 'sent' "
                "GROUP BY status, channel"
            ).fetchall()
        return {(status, channel): count for status, channel, count in rows}

    # -- what the service says about itself ---------------------------------------------------

    def put_service_values(self, values: dict[str, str], now: datetime) -> None:
        with _translated("recording the service's state"), self._atomic():
            self.db.conn.executemany(
                "INSERT INTO service (key, value, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                "updated_at = excluded.updated_at",
                [(key, value, to_text(now)) for key, value in values.items()],
            )

    def service_values(self) -> dict[str, tuple[str, datetime]]:
        """Each key the service recorded, with its value and when it was written."""
        with _translated("reading the service's state"):
            rows = self.db.execute("SELECT key, value, updated_at FROM service").fetchall()
        return {key: (value, from_text(at) or NEVER) for key, value, at in rows}

    def backup(self, target: Path) -> None:
        """A consistent copy of the database at `target`, taken while others write (SQLite's
        online backup), checked, then moved into place so `target` is never half written."""
        partial = target.with_name(target.name + ".partial")
        with _translated(f"backing up to {target}"):
            partial.unlink(missing_ok=True)
            copy = sqlite3.connect(str(partial))
            try:
                self.db.conn.backup(copy)
                copy.execute("PRAGMA journal_mode = DELETE")
                check = copy.execute("PRAGMA integrity_check").fetchone()[0]
            finally:
                copy.close()
            if check != "ok":
                partial.unlink(missing_ok=True)
                raise sqlite3.DatabaseError(f"the copy failed its integrity check: {check}")
            partial.replace(target)

    def prune_stories(self, fetched_before: datetime) -> int:
        """Delete stories first fetched before `fetched_before`; returns how many."""
        with _translated("pruning old stories"), self._atomic():
            cursor = self.db.execute(
                "DELETE FROM stories WHERE fetched_at < ?", [to_text(fetched_before)]
            )
            return cursor.rowcount


def _feed_row(state: FeedState) -> list[Any]:
    """The values `_UPDATE_FEED` takes for a feed's state."""
    return [*(_feed_value(getattr(state, c)) for c in _FEED_COLUMNS), state.name]


def _feed_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_text(value)
    if isinstance(value, bool):
        return int(value)
    return value


def _feed_from_row(row: dict[str, Any]) -> FeedState:
    times = {"next_poll_at", "last_success_at", "last_error_at", "last_polled_at"}
    values: dict[str, Any] = {
        k: (from_text(v) if k in times else v) for k, v in row.items() if k != "config_url"
    }
    values["disabled"] = bool(values["disabled"])
    return FeedState(**values)


def _alert_from_row(r: dict[str, Any]) -> Alert:
    return Alert(
        id=r["id"], subscriber=r["subscriber"], channel=r["channel"], cluster=r["cluster_id"],
        rule=r["rule"], story=r["story_id"], terms=json.loads(r["terms"]), status=r["status"],
        attempts=r["attempts"], sends=r["sends"],
        next_attempt_at=from_text(r["next_attempt_at"]) or NEVER, last_error=r["last_error"],
        created_at=from_text(r["created_at"]) or NEVER, sent_at=from_text(r["sent_at"]),
        digest=bool(r["digest"]),
    )  # fmt: skip


_STORY_VALUES = attrgetter(*_STORY_COLUMNS)
_STORY_TIMES = [i for i, c in enumerate(_STORY_COLUMNS) if c in ("published", "fetched_at")]


def _story_row(story: Story) -> list[Any]:
    row = list(_STORY_VALUES(story))
    for column in _STORY_TIMES:
        row[column] = to_text(row[column])
    return row


def _story_from_row(row: dict[str, Any]) -> Story:
    return Story(
        **{
            **row,
            "published": from_text(row["published"]),
            "fetched_at": from_text(row["fetched_at"]),
        }
    )
