"""What every part of the store shares: the connection, transactions, error translation,
batches of `IN (...)` values."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TypeVar

import sqlite_utils

from watcher.errors import StoreError
from watcher.store.rows import NEVER, from_text, to_text

T = TypeVar("T")

# alerts not yet sent, as the index alerts_due (status, ...) finds them: `status != 'sent'`
# read every alert ever sent, 90 ms a /metrics scrape with two million of them
NOT_SENT = "status IN ('pending', 'sending', 'dead')"
PRUNED_AT = "pruned_at"  # the service key of the last prune's time (`watcher.prune`)
# the service key of the servers whose feeds wait (`Fetcher.held_servers`), as JSON
SERVERS_HELD = "servers_held"
IN_BATCH = 500  # values bound in one `IN (...)`: well below SQLite's limit on parameters


def in_batches(values: Sequence[T]) -> Iterator[tuple[str, list[T]]]:
    """`values` a batch at a time for `IN (...)`: the batch's placeholders and the batch."""
    for start in range(0, len(values), IN_BATCH):
        batch = list(values[start : start + IN_BATCH])
        yield ", ".join("?" * len(batch)), batch


def servers_held_in(value: str) -> list[dict[str, str]]:
    """The servers held as a `SERVERS_HELD` value records them: none when it is empty or
    not a JSON list of objects."""
    try:
        held = json.loads(value or "[]")
    except ValueError:
        return []
    return [h for h in held if isinstance(h, dict)] if isinstance(held, list) else []


@contextmanager
def translated(action: str) -> Iterator[None]:
    """sqlite3 errors within become a `StoreError` that says what was being done."""
    try:
        yield
    except sqlite3.Error as exc:
        hint = DAMAGED if getattr(exc, "sqlite_errorcode", None) in DAMAGED_CODES else ""
        raise StoreError(f"database error while {action}: {exc}{hint}") from exc


DAMAGED_CODES = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)
DAMAGED = (
    " (the database file is damaged: stop watcher and put a copy made by `watcher backup` in"
    " its place)"
)


class Tables:
    """The connection the store's parts (feeds, stories, outbox) write through."""

    db: sqlite_utils.Database

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction around several writes, all undone by an error that leaves the block.
        The methods called within make no savepoints of their own (a savepoint copies every
        page it changes), so an error caught within would keep a failed method's writes."""
        with translated("committing"), self._atomic():
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

    # -- what the service says about itself ---------------------------------------------------

    def put_service_values(self, values: dict[str, str], now: datetime) -> None:
        with translated("recording the service's state"), self._atomic():
            self.db.conn.executemany(
                "INSERT INTO service (key, value, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                "updated_at = excluded.updated_at",
                [(key, value, to_text(now)) for key, value in values.items()],
            )

    def servers_held(self) -> list[dict[str, str]]:
        """The servers held, as last recorded (`put_service_values`, `SERVERS_HELD`)."""
        value, _ = self.service_values().get(SERVERS_HELD, ("", NEVER))
        return servers_held_in(value)

    def service_values(self) -> dict[str, tuple[str, datetime]]:
        """Each key the service recorded, with its value and when it was written."""
        with translated("reading the service's state"):
            rows = self.db.execute("SELECT key, value, updated_at FROM service").fetchall()
        return {key: (value, from_text(at) or NEVER) for key, value, at in rows}
