"""The matches and alerts tables: rule matches, and the outbox alerts wait in until sent.

In: `Match`, `AlertPlan`. Out: `Match`, `Alert`. Raises: `StoreError`. Feed and delivery
notices are written by `notices`, the dead-letter list is worked by `dead_letters`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from watcher.errors import StoreError
from watcher.models import Alert, AlertPlan, Match
from watcher.store.base import NOT_SENT, Tables, in_batches, translated
from watcher.store.rows import NEVER, alert_from_row, match_from_row, to_text

# an alert of the lane (channel, subscriber), where subscriber '' is every one: the
# sender's lanes (`alerts.lanes.lane_of`)
IN_LANE = "channel = ? AND ? IN ('', subscriber)"


# a pending alert never tried of the same subscriber and channel as `alerts`, in cluster ?
_TWIN = (
    "FROM alerts AS o WHERE o.cluster_id = ? AND o.subscriber = alerts.subscriber "
    "AND o.channel = alerts.channel AND o.status = 'pending' AND o.sends = 0"
)


def move_alerts(db: sqlite_utils.Database, old: int, *, into: int) -> None:
    """Cluster `old` merged into `into`: its alerts never tried follow it, unless `into`
    has one for the same subscriber and channel already (one news item, one alert), which
    then goes as the sooner of the two (an urgent rule's, not one waiting for the end of
    quiet hours). One tried before (it may have reached the channel) keeps its record."""
    db.execute(
        "UPDATE alerts SET (rule, story_id, terms, next_attempt_at, digest, waits) = "
        f"(SELECT o.rule, o.story_id, o.terms, o.next_attempt_at, o.digest, o.waits {_TWIN}) "
        "WHERE cluster_id = ? AND status = 'pending' AND sends = 0 AND notice IS NULL "
        f"AND next_attempt_at > (SELECT o.next_attempt_at {_TWIN})",
        [old, into, old],
    )
    db.execute(
        "UPDATE OR IGNORE alerts SET cluster_id = ? "
        "WHERE cluster_id = ? AND status = 'pending' AND sends = 0",
        [into, old],
    )
    db.execute(
        "DELETE FROM alerts WHERE cluster_id = ? AND status = 'pending' AND sends = 0", [old]
    )


class OutboxTables(Tables):
    """Rule matches and the alerts they queue."""

    def record_matches(
        self,
        matches: Iterable[Match],
        route: Callable[[Match], Iterable[AlertPlan]] | None = None,
    ) -> list[Match]:
        """Save rule matches and, in the same transaction, the alerts `route` gives for each new
        one as (subscriber, channel) pairs; a subscriber gets one alert per cluster and channel,
        whatever the number of rules. A quiet match (its story too old to alert) is saved
        without alerts, and a loud match of its cluster and rule takes its place later. Returns
        the matches new for their cluster and rule, and the loud ones that took a quiet's
        place."""
        new = []
        with translated("saving rule matches and alerts"), self._atomic():
            for m in matches:
                values = [m.story, json.dumps(m.terms), m.clause, m.ruleset_version,
                          to_text(m.matched_at), int(m.quiet), int(m.waiting), m.cluster,
                          m.rule]  # fmt: skip
                cursor = self.db.execute(
                    "INSERT OR IGNORE INTO matches (story_id, terms, clause, ruleset_version, "
                    "matched_at, quiet, waiting, cluster_id, rule) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    values,
                )
                if not cursor.rowcount and (m.waiting or not m.quiet):
                    # a loud match takes a quiet one's place, a waiting one a quiet one's
                    # that does not wait
                    cursor = self.db.execute(
                        "UPDATE matches SET story_id = ?, terms = ?, clause = ?, "
                        "ruleset_version = ?, matched_at = ?, quiet = ?, waiting = ? "
                        "WHERE cluster_id = ? AND rule = ? AND quiet = 1 AND waiting < ?",
                        [*values, 1 if m.waiting else 2],
                    )
                if cursor.rowcount:
                    new.append(m)
                    for plan in route(m) if route and not m.quiet else ():
                        self._enqueue(m, plan)
        return new

    def _enqueue(self, m: Match, plan: AlertPlan) -> None:
        due, waits = plan.due, plan.waits
        if plan.cap is not None and plan.overflow_due is not None:
            # through `alerts_made`, the last hour's alerts: the UNIQUE index's subscriber
            # prefix, which SQLite would pick, reads all a subscriber ever had (`+` bars it)
            sent_lately = self.db.execute(
                "SELECT COUNT(*) FROM alerts WHERE created_at > ? AND +subscriber = ? "
                "AND channel = ? AND digest = 0 AND notice IS NULL",
                [to_text(m.matched_at - timedelta(hours=1)), plan.subscriber, plan.channel],
            ).fetchone()[0]
            if sent_lately >= plan.cap:  # over the hourly cap: into the next hourly digest
                due, waits = plan.overflow_due, "cap"
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO alerts (subscriber, channel, cluster_id, rule, story_id, terms, "
            "next_attempt_at, created_at, digest, waits) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [plan.subscriber, plan.channel, m.cluster, m.rule, m.story, json.dumps(m.terms),
             to_text(due), to_text(m.matched_at), int(waits is not None), waits],
        )  # fmt: skip
        if not cursor.rowcount:
            self._bring_forward(m, plan, due, waits)

    def _bring_forward(self, m: Match, plan: AlertPlan, due: datetime, waits: str | None) -> None:
        """The subscriber's alert of the news item on that channel, if it still waits (never
        tried) for later than this match's would: it goes when this match's would, as this
        match's alert. A priority 5 rule matched by a story that joins a news item whose
        alert waits for the end of quiet hours, or settles, goes at once."""
        self.db.execute(
            "UPDATE alerts SET rule = ?, story_id = ?, terms = ?, next_attempt_at = ?, "
            "digest = ?, waits = ? WHERE subscriber = ? AND cluster_id = ? AND channel = ? "
            "AND status = 'pending' AND sends = 0 AND notice IS NULL AND next_attempt_at > ?",
            [m.rule, m.story, json.dumps(m.terms), to_text(due), int(waits is not None), waits,
             plan.subscriber, m.cluster, plan.channel, to_text(due)],
        )  # fmt: skip

    def waiting_matches(
        self, *, clusters: Iterable[int] | None = None, since: datetime | None = None
    ) -> list[Match]:
        """Matches waiting for their news item's outlets: of `clusters`, or made since
        `since`."""
        sql = "SELECT * FROM matches WHERE waiting = 1"
        queries: list[tuple[str, list[Any]]]
        if clusters is None:
            queries = [(sql + " AND matched_at >= ?", [to_text(since or NEVER)])]
        else:
            queries = [
                (sql + f" AND cluster_id IN ({marks})", batch)
                for marks, batch in in_batches(sorted(set(clusters)))
            ]
        with translated("reading matches waiting for outlets"):
            rows = [r for q, params in queries for r in self.db.execute_returning_dicts(q, params)]
        return [match_from_row(r) for r in rows]

    def matches_for(self, cluster: int) -> list[Match]:
        with translated(f"reading matches of cluster {cluster}"):
            rows = self.db.execute_returning_dicts(
                "SELECT * FROM matches WHERE cluster_id = ? ORDER BY matched_at, rule", [cluster]
            )
        return [match_from_row(r) for r in rows]

    # -- the alert outbox --------------------------------------------------------------------

    def due_alerts(
        self,
        now: datetime,
        limit: int = 100,
        channel: str | None = None,
        held: Iterable[tuple[str, str]] = (),
        beyond: datetime | None = None,
    ) -> list[Alert]:
        """Pending alerts whose next attempt is due (on `channel`, when given), oldest first,
        but for those of the `held` lanes: (channel, subscriber), '' for every subscriber.
        Left out here, a held lane's backlog never fills `limit` ahead of other lanes. An
        attempt set after `beyond`, later than any wait the sender sets, counts as due: the
        clock went back since."""
        where, params = ["status = 'pending'", "next_attempt_at <= ?"], [to_text(now)]
        if beyond is not None:
            where[1] = "(next_attempt_at <= ? OR next_attempt_at > ?)"
            params.append(to_text(beyond))
        if channel is not None:
            where.append("channel = ?")
            params.append(channel)
        for lane in held:
            where.append(f"NOT ({IN_LANE})")
            params += lane
        return self._alerts(
            f"WHERE {' AND '.join(where)} ORDER BY next_attempt_at, id LIMIT ?", [*params, limit]
        )

    def alerts(
        self,
        *,
        since: datetime | None = None,
        dead_only: bool = False,
        subscriber: str | None = None,
        channel: str | None = None,
    ) -> list[Alert]:
        """Alerts, newest first: created since `since`, dead only, of `subscriber`, on
        `channel`, as given."""
        where, params = ["1 = 1"], []
        if since is not None:
            where.append("created_at >= ?")
            params.append(to_text(since))
        if dead_only:
            where.append("status = 'dead'")
        for column, value in (("subscriber", subscriber), ("channel", channel)):
            if value is not None:  # within `since`, through `alerts_made` (see `_enqueue`)
                where.append(f"+{column} = ?" if since is not None else f"{column} = ?")
                params.append(value)
        return self._alerts(
            f"WHERE {' AND '.join(where)} ORDER BY created_at DESC, id DESC", params
        )

    def alerts_for(self, cluster: int) -> list[Alert]:
        """The alerts made for a cluster and for the clusters merged into it (an alert tried
        before a merge keeps its cluster), oldest first."""
        merged = (
            "WITH RECURSIVE merged(id) AS (SELECT ? UNION "
            "SELECT c.id FROM clusters c JOIN merged m ON c.merged_into = m.id) "
        )
        with translated(f"reading the alerts of cluster {cluster}"):
            rows = self.db.execute_returning_dicts(
                merged + "SELECT * FROM alerts WHERE cluster_id IN (SELECT id FROM merged) "
                "ORDER BY created_at, id",
                [cluster],
            )
        return [alert_from_row(r) for r in rows]

    def alert(self, alert_id: int) -> Alert:
        found = self._alerts("WHERE id = ?", [alert_id])
        if not found:
            raise StoreError(f"no alert with id {alert_id}")
        return found[0]

    def _alerts(self, clause: str, params: list[Any]) -> list[Alert]:
        with translated("reading alerts"):
            rows = self.db.execute_returning_dicts(f"SELECT * FROM alerts {clause}", params)
        return [alert_from_row(r) for r in rows]

    def unsent_alerts(self) -> list[Alert]:
        """The pending alerts never tried: those that wait for a digest (a digest time, the
        end of quiet hours or the next hour: `waits`), that settle, or that are due."""
        return self._alerts("WHERE status = 'pending' AND sends = 0 ORDER BY id", [])

    def reschedule_alerts(self, moves: Sequence[tuple[int, datetime, str | None]]) -> int:
        """Give each alert (id, due, what it waits for), unless it is no longer a pending
        alert never tried (a delivery took it meanwhile); returns how many moved."""
        with translated("rescheduling waiting alerts"), self._atomic():
            return sum(
                self.db.execute(
                    "UPDATE alerts SET next_attempt_at = ?, waits = ? "
                    "WHERE id = ? AND status = 'pending' AND sends = 0",
                    [to_text(due), waits, alert_id],
                ).rowcount
                for alert_id, due, waits in moves
            )

    def retarget_alert(self, alert_id: int, match: Match) -> None:
        """Give a pending alert never tried another match's rule, story and terms."""
        with translated(f"moving alert {alert_id} to rule {match.rule}"), self._atomic():
            self.db.execute(
                "UPDATE alerts SET rule = ?, story_id = ?, terms = ? "
                "WHERE id = ? AND status = 'pending' AND sends = 0",
                [match.rule, match.story, json.dumps(match.terms), alert_id],
            )

    def withdraw_alert(self, alert_id: int) -> None:
        """Delete a pending alert never tried: its subscriber no longer wants it, and a later
        match of a rule it follows on the news item makes one."""
        with translated(f"withdrawing alert {alert_id}"), self._atomic():
            self.db.execute(
                "DELETE FROM alerts WHERE id = ? AND status = 'pending' AND sends = 0",
                [alert_id],
            )

    def mark_sending(self, alert_id: int) -> Alert | None:
        """Claim a pending alert for sending, committed before the network call (a crash after
        it is seen as a repeated send). None when it is no longer pending: a merge since it
        was read moved or removed it, so the caller must not send it."""
        with translated(f"marking alert {alert_id} as sending"), self._atomic():
            claimed = self.db.execute(
                "UPDATE alerts SET status = 'sending', sends = sends + 1 "
                "WHERE id = ? AND status = 'pending'",
                [alert_id],
            ).rowcount
        return self.alert(alert_id) if claimed else None

    def mark_sent(self, alert_id: int, now: datetime, note: str | None = None) -> None:
        """Sent; `note` kept as its last error (recipients that refused it for good)."""
        with translated(f"marking alert {alert_id} as sent"), self._atomic():
            self.db.execute(
                "UPDATE alerts SET status = 'sent', sent_at = ?, last_error = ?, retry_to = NULL "
                "WHERE id = ?",
                [to_text(now), note, alert_id],
            )

    def mark_failed(
        self,
        alert_id: int,
        error: str,
        retry_at: datetime | None,
        retry_to: Sequence[str] | None = None,
        *,
        spent: bool = True,
    ) -> None:
        """A failed attempt: retried at `retry_at`, or dead (the dead-letter list) when None;
        from now on only to the addresses `retry_to`, when given (else as before). Counted
        in `attempts` when `spent`."""
        addresses = json.dumps(list(retry_to)) if retry_to else None
        with translated(f"recording a failure of alert {alert_id}"), self._atomic():
            self.db.execute(
                "UPDATE alerts SET status = ?, attempts = attempts + ?, last_error = ?, "
                "next_attempt_at = COALESCE(?, next_attempt_at), "
                "retry_to = COALESCE(?, retry_to) WHERE id = ?",
                ["pending" if retry_at else "dead", int(spent), error, to_text(retry_at),
                 addresses, alert_id],
            )  # fmt: skip

    def requeue_sending(self) -> int:
        """On start: alerts a crash left 'sending' are sent again (at least once)."""
        with translated("requeueing alerts left sending"), self._atomic():
            return self.db.execute(
                "UPDATE alerts SET status = 'pending' WHERE status = 'sending'"
            ).rowcount

    def outbox_depth(self) -> dict[tuple[str, str], int]:
        """How many alerts are in each (status, channel) that is not yet sent."""
        with translated("counting the outbox"):
            rows = self.db.execute(
                f"SELECT status, channel, COUNT(*) FROM alerts WHERE {NOT_SENT} "
                "GROUP BY status, channel"
            ).fetchall()
        return {(status, channel): count for status, channel, count in rows}
