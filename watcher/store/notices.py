"""Feed and delivery notices: alerts that tell of feeds or of the delivery, not a news item.

In: `FeedNotice`, `DeliveryNotice`. Out: how many alerts; what the last delivery notices
told of. Raises: `StoreError`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from watcher.models import DeliveryNotice, FeedNotice, problem_words
from watcher.store.base import Tables, translated
from watcher.store.rows import notices_text, to_text


class NoticeTables(Tables):
    """Notices, written to the alerts table with what they told of."""

    def record_notices(
        self, notices: Sequence[FeedNotice],
        recipients: Iterable[tuple[str, str, Sequence[FeedNotice]]], now: datetime,
    ) -> int:  # fmt: skip
        """Save feed notices as one alert, due now, to each (subscriber, channel) given, of
        the notices given with it, and each feed's problem as told (none, once recovered),
        in one transaction: each is told once, and never lost. Returns how many alerts."""
        if not notices:
            return 0
        with translated("saving feed notices"), self._atomic():
            self.db.conn.executemany(
                "UPDATE feeds SET notified = ? WHERE name = ?",
                [(None if n.problem == "recovered" else n.problem, n.feed) for n in notices],
            )
            return self._insert_notices(recipients, now)

    def record_delivery_notices(
        self, recipients: Iterable[tuple[str, str, Sequence[DeliveryNotice]]],
        dead: Iterable[tuple[int, int]], held: Iterable[tuple[str, str]], now: datetime,
    ) -> int:  # fmt: skip
        """Save delivery notices as one alert, due now, to each (subscriber, channel) given,
        with what they told of, in one transaction: the dead letters (`dead`: the id and
        sends of each alert in the dead-letter list now: one retried and dead again has sent
        once more, and is told again) and the lanes told as held (`held`: (channel,
        subscriber) each). Returns how many alerts."""
        told = {DEAD_TOLD: json.dumps(sorted(dead)), HELD_TOLD: json.dumps(sorted(held))}
        with translated("saving delivery notices"), self._atomic():
            self.put_service_values(told, now)
            return self._insert_notices(recipients, now)

    def delivery_told(self) -> tuple[set[tuple[int, int]], set[tuple[str, str]]]:
        """What the last delivery notices told of: the dead letters (ids and sends), and
        the lanes held (channel, subscriber)."""
        values = self.service_values()
        dead_told, _ = values.get(DEAD_TOLD, ("[]", None))
        held_told, _ = values.get(HELD_TOLD, ("[]", None))
        dead = {(alert, sends) for alert, sends in json.loads(dead_told)}
        held = {(channel, subscriber) for channel, subscriber in json.loads(held_told)}
        return dead, held

    def _insert_notices(
        self,
        recipients: Iterable[tuple[str, str, Sequence[FeedNotice] | Sequence[DeliveryNotice]]],
        now: datetime,
    ) -> int:
        # the notices' cluster_id: negative, one a reading (the outbox is UNIQUE by it).
        # Notice rows stay, so the highest id grows from one reading to the next; and
        # it is below the -1, -2, ... of readings before schema 15, fewer than the rows.
        (number,) = self.db.execute("SELECT -1 - COALESCE(MAX(id), 0) FROM alerts").fetchone()
        rows = [
            (subscriber, channel, number, _notice_rule(told), to_text(now), to_text(now),
             notices_text(told))
            for subscriber, channel, told in recipients
        ]  # fmt: skip
        self.db.conn.executemany(
            "INSERT INTO alerts (subscriber, channel, cluster_id, rule, story_id, terms, "
            "next_attempt_at, created_at, notice) VALUES (?, ?, ?, ?, '', '{}', ?, ?, ?)",
            rows,
        )
        return len(rows)


DEAD_TOLD = "dead_letters_told"  # the service value: [id, sends] of each dead letter told of
HELD_TOLD = "lanes_held_told"  # [channel, subscriber] of each lane told of as held


DELIVERY_RULES = {"dead": "alerts undelivered", "held": "alerts held", "resumed": "alerts resumed"}


def _notice_rule(notices: Sequence[FeedNotice] | Sequence[DeliveryNotice]) -> str:
    """A notice's `rule`: `feed failing` (`feed old dates`), or `feed problems` when they
    differ; `alerts undelivered` for a delivery notice."""
    kinds = {n.problem for n in notices if isinstance(n, DeliveryNotice)}
    if kinds:
        return DELIVERY_RULES[kinds.pop()] if len(kinds) == 1 else "delivery problems"
    problems = {n.problem for n in notices if isinstance(n, FeedNotice)}
    return f"feed {problem_words(problems.pop())}" if len(problems) == 1 else "feed problems"
