"""All SQL lives here: feeds' health and the stories we have seen.

In: dataclasses from `models`. Out: dataclasses. Raises: `StoreError` for any sqlite3 error.

The database runs in WAL mode with a busy timeout, so the CLI can read while the service
writes. Every poll is written in one transaction (the feed's health, its new stories with
their clusters, their matches and alerts), so a crash at any moment leaves either all of a
poll or none of it. The schema and its migrations live in `schema`; they run when a `Store`
opens the file.

One module a group of tables: `feeds`, `stories` (with clusters), `outbox` (matches and
alerts), with `dead_letters` (the alerts that failed) and `notices` (feed and delivery
notices), and `subscribers` (what each subscriber's channels reach); `window` reads stories
for the clustering window; `rows` turns dataclasses into rows and back.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import sqlite_utils

from watcher.errors import StoreError
from watcher.schema import MIGRATIONS, SCHEMA_VERSION
from watcher.store.base import translated
from watcher.store.dead_letters import DeadLetterTables
from watcher.store.feeds import FeedTables
from watcher.store.notices import NoticeTables
from watcher.store.pruning import PruneTables
from watcher.store.rows import NEVER, from_text, to_text
from watcher.store.stories import StoryTables
from watcher.store.subscribers import SubscriberTables
from watcher.store.window import WindowTables

__all__ = ["NEVER", "Store", "from_text", "to_text"]

BUSY_TIMEOUT_MS = 5000
WAL_CHECKPOINT_PAGES = 10_000
WAL_BYTES_KEPT = 64 * 1024 * 1024


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file in the way, a name too long, no permission
        raise StoreError(
            f"cannot make the database's folder {folder}: {exc.strerror or exc}"
        ) from exc


SQLITE_HEADER = b"SQLite format 3\x00"


def _check_is_sqlite(path: Path) -> None:
    """StoreError for a file that is there but is no SQLite database (the config, a log, named
    in `state:` by mistake): SQLite's "file is not a database" read as a damaged one."""
    try:
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_HEADER))
    except OSError:  # none yet, a folder, no permission: SQLite says what it is
        return
    if head and head != SQLITE_HEADER[: len(head)]:
        raise StoreError(
            f"{path} is no SQLite database (it does not begin as one): `state:` names another "
            "file, or watcher's database was overwritten (put a copy made by `watcher backup` "
            "in its place); it is left as it is"
        )


def _identity(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_dev, status.st_ino


class Store(
    FeedTables, StoryTables, WindowTables, DeadLetterTables, NoticeTables, SubscriberTables,
    PruneTables,
):  # fmt: skip
    """The SQLite database of one watcher."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        with translated(f"opening {self.path}"):
            if str(path) != ":memory:":
                _make_folder(self.path.parent)
                _check_is_sqlite(self.path)
            conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            self.db = sqlite_utils.Database(conn)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if str(path) != ":memory:":
                self.db.enable_wal()
                # checkpoint every ~40 MB of WAL, not every 4 MB: a checkpoint copies pages
                # and syncs the file within some commit, and fewer of them cost less in all
                conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
                # a large transaction (a migration's index, `alerts retry --all`) grows the
                # log: the file is cut back to this once checkpointed, not kept that large
                conn.execute(f"PRAGMA journal_size_limit = {WAL_BYTES_KEPT}")
            conn.execute("PRAGMA synchronous = NORMAL")
            self.migrate()
        try:
            self._opened = _identity(self.path) if str(path) != ":memory:" else None
        except OSError:  # cannot look: nothing to compare with later
            self._opened = None

    def close(self) -> None:
        self.db.close()

    def check_in_place(self) -> None:
        """StoreError when the file at `path` is no longer the one open: removed or replaced
        while open (`rm -r state/`), what is written goes to a file no one opens again."""
        if self._opened is None:
            return
        try:
            now = _identity(self.path)
        except FileNotFoundError:
            now = None
        except OSError:  # cannot look (permissions changed): nothing to say
            return
        if now != self._opened:
            what = "removed" if now is None else "replaced by another file"
            raise StoreError(
                f"{self.path} was {what} while open: what is stored now is lost at the next "
                "start; restart watcher"
            )

    @property
    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> None:
        """Bring the schema up to SCHEMA_VERSION, one transaction per step."""
        with translated("migrating the schema"):
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

    def backup(self, target: Path) -> None:
        """A consistent copy of the database at `target`, taken while others write (SQLite's
        online backup), checked, then moved into place so `target` is never half written."""
        partial = target.with_name(target.name + ".partial")
        try:
            self._backup(partial, target)
        except OSError as exc:  # no room, no permission, a name too long
            raise StoreError(f"backing up to {target}: {exc.strerror or exc}") from exc
        finally:  # a failed copy (a full disk) is no backup: nothing is left of it
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)

    def _backup(self, partial: Path, target: Path) -> None:
        with translated(f"backing up to {target}"):
            partial.unlink(missing_ok=True)
            copy = sqlite3.connect(str(partial))
            try:
                self.db.conn.backup(copy)
                copy.execute("PRAGMA journal_mode = DELETE")
                check = copy.execute("PRAGMA integrity_check").fetchone()[0]
            finally:
                copy.close()
            if check != "ok":
                raise sqlite3.DatabaseError(f"the copy failed its integrity check: {check}")
            partial.replace(target)
