"""The dead-letter list: alerts sent back to the queue, dropped, or retried sooner.

In: alert ids, a lane. Out: `Alert`. Raises: `StoreError` for an alert not in the list.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from watcher.errors import StoreError
from watcher.models import Alert
from watcher.store.base import translated
from watcher.store.outbox import IN_LANE, OutboxTables
from watcher.store.rows import to_text

# an alert that failed and waits to be tried again (not dead)
_FAILING = "status = 'pending' AND last_error IS NOT NULL"


class DeadLetterTables(OutboxTables):
    """The alerts that failed: retried, dropped, or made due at once."""

    def retry_alerts(
        self,
        now: datetime,
        ids: Sequence[int] = (),
        *,
        subscriber: str | None = None,
        channel: str | None = None,
    ) -> list[Alert]:
        """Put dead alerts back in the queue, due now, with their attempts counted afresh:
        those of `ids`, each of which must be dead (else none is), or without `ids` every
        dead alert (of `subscriber`, on `channel`, when given)."""
        alerts = self._dead(ids, subscriber, channel)
        with translated("requeueing dead alerts"), self._atomic():
            self.db.conn.executemany(
                "UPDATE alerts SET status = 'pending', attempts = 0, next_attempt_at = ? "
                "WHERE id = ? AND status = 'dead'",
                [(to_text(now), alert.id) for alert in alerts],
            )
        return [self.alert(alert.id) for alert in alerts]

    def drop_alerts(
        self, ids: Sequence[int] = (), *, subscriber: str | None = None, channel: str | None = None
    ) -> list[Alert]:
        """Take dead alerts off the dead-letter list for good, as `retry_alerts` picks them,
        and, given by id, pending alerts that failed (one a server fails alone waits while
        its lane looks down): 'dropped', kept as the record of what was not sent, never
        sent. One that a delivery took meanwhile keeps its status."""
        alerts = self._dead(ids, subscriber, channel, failing=True)
        with translated("dropping dead alerts"), self._atomic():
            self.db.conn.executemany(
                "UPDATE alerts SET status = 'dropped' WHERE id = ? AND (status = 'dead' "
                f"OR ({_FAILING}))",
                [(alert.id,) for alert in alerts],
            )
        return [self.alert(alert.id) for alert in alerts]

    def _dead(
        self, ids: Sequence[int], subscriber: str | None, channel: str | None, *,
        failing: bool = False,
    ) -> list[Alert]:  # fmt: skip
        """The alerts of `ids`, each of which must be dead, or pending after a failure when
        `failing` (else StoreError), or without `ids` every dead alert (of `subscriber`, on
        `channel`, when given), oldest first."""
        if not ids:
            return self.alerts(dead_only=True, subscriber=subscriber, channel=channel)[::-1]
        alerts = [self.alert(alert_id) for alert_id in ids]
        for alert in alerts:
            failed = alert.status == "pending" and alert.last_error is not None
            if alert.status != "dead" and not (failing and failed):
                where = (
                    "in the dead-letter list nor failing" if failing else "in the dead-letter list"
                )
                raise StoreError(f"alert {alert.id} is {alert.status}, not {where}")
        return alerts

    def retry_failed_now(self, now: datetime, lane: tuple[str, str]) -> int:
        """Make the pending alerts of a lane (as for `due_alerts`) that failed before and
        wait for their retry due `now`; how many."""
        with translated(f"requeueing the failed {lane[0]} alerts"), self._atomic():
            return self.db.execute(
                f"UPDATE alerts SET next_attempt_at = ? WHERE {_FAILING} "
                f"AND next_attempt_at > ? AND {IN_LANE}",
                [to_text(now), to_text(now), *lane],
            ).rowcount
