"""Servers that asked to wait (a 429, or a 503 with Retry-After), kept between processes:
`watcher run` records them with its heartbeat (and at once when one is held), `watcher once`
after its polls, and the next `run` or `once` holds them again for the wait they have left,
so that a restart asks a rate-limited server nothing sooner than it asked.

In: the store and the fetcher. Out: the fetcher's holds resumed, the database's record of
them, and which recorded holds are not over (for `watcher status`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from datetime import datetime

from watcher.errors import StoreError
from watcher.fetch import Fetcher
from watcher.logs import event
from watcher.server_waits import Hold
from watcher.store import Store
from watcher.store.base import SERVERS_HELD

log = logging.getLogger("watcher.holds")


def hold_of(entry: Mapping[str, object]) -> Hold | None:
    """A recorded hold (`Fetcher.held_servers` gives them) as server, end (UTC) and why;
    None for one not so written."""
    server, until, why = entry.get("server"), entry.get("until"), entry.get("why")
    if not (isinstance(server, str) and isinstance(until, str) and isinstance(why, str)):
        return None
    try:
        end = datetime.fromisoformat(until)
    except ValueError:
        return None
    return Hold(server, end, why) if end.tzinfo is not None else None


def holds_not_over(held: Iterable[Mapping[str, str]], now: datetime) -> list[Mapping[str, str]]:
    """The recorded holds whose wait ends after `now`."""
    return [entry for entry in held if (hold := hold_of(entry)) and hold.until > now]


def resume_holds(store: Store, fetcher: Fetcher) -> None:
    """Hold again the servers held when the last `run` or `once` recorded them, for the wait
    they have left (`Fetcher.resume_holds`); each logged. A database that cannot tell
    holds none."""
    try:
        held = store.servers_held()
    except StoreError as exc:
        event(log, logging.ERROR, "servers held not read", error=str(exc))
        return
    for server in fetcher.resume_holds(h for entry in held if (h := hold_of(entry))):
        event(log, logging.INFO, "server still held", server=server,
              reason="it asked to wait before the restart")  # fmt: skip


def record_holds(store: Store, fetcher: Fetcher, now: datetime) -> None:
    """Record the servers held now, for the next `once` or `run` (`resume_holds`) and
    `watcher status`; `run` does so with its heartbeat."""
    try:
        store.put_service_values({SERVERS_HELD: json.dumps(fetcher.held_servers())}, now)
    except StoreError as exc:
        event(log, logging.ERROR, "servers held not recorded", error=str(exc))
