"""What every command shares: exit codes, the clock, time windows, tables, the store."""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import logging
import os
import sys
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from watcher.config import Config, parse_duration
from watcher.config.feeds import header_problem
from watcher.dates import zone_problem
from watcher.errors import ConfigError, DatabaseBusy, ServiceError
from watcher.logs import event
from watcher.models import Story
from watcher.normalise import SURROGATE, headline, printable
from watcher.store import Store

log = logging.getLogger("watcher.cli")

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_BUSY = 75  # EX_TEMPFAIL of sysexits.h: another run or once holds the database
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C


class UsageError(Exception):
    """A command's arguments are unusable: printed as one line, exit code 2."""


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def since(value: str, option: str = "--since") -> datetime:
    """The start of a window given as '24h', '7d'... counted back from now."""
    try:
        return utc_now() - timedelta(seconds=parse_duration(value))
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from exc


def feeds_named(config: Config, name: str | None) -> frozenset[str] | None:
    """The feeds a `--feed NAME` option names: each configured feed called NAME or tagged
    so; else NAME itself, a feed no longer configured whose stories are kept (warned of on
    stderr: a typo shows nothing). None without the option."""
    if name is None:
        return None
    named = frozenset(f.name for f in config.feeds if name == f.name or name in f.tags)
    if named:
        return named
    print(
        f"watcher: warning: --feed: no configured feed is named or tagged {name!r}; "
        "showing the stored stories of a feed once called so, if any",
        file=sys.stderr,
    )
    return frozenset({name})


@contextmanager
def sole_writer(state: Path) -> Iterator[None]:
    """Hold the lock file beside `state` while a service or a `watcher once` runs. Two at
    once would each send again the alerts the other is sending (to each, they look left
    `sending` by a crash) and cluster without the other's stories. The kernel drops the lock
    when the process ends, however it ends."""
    lock = state.with_name(state.name + ".lock")
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except PermissionError:  # another user's (a `docker exec` as root): it locks as well
            fd = os.open(lock, os.O_RDONLY)
    except OSError as exc:
        raise ServiceError(f"cannot open the lock file {lock}: {exc.strerror or exc}") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            raise DatabaseBusy(
                f"{state} is in use by another watcher run or once (pid {holder}): two at "
                "once would send alerts twice"
            ) from None
        except OSError as exc:  # a file system without locks (some network or FUSE ones)
            event(log, logging.WARNING, "cannot lock the database's lock file: nothing keeps "
                  "a second run or once off it", lock=lock, error=exc.strerror or exc)  # fmt: skip
        with contextlib.suppress(OSError):  # the pid is for the message; a read-only file has none
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


@contextmanager
def reading(path: Path) -> Iterator[Store]:
    """The database, opened for one command and closed after it."""
    store = Store(path)
    try:
        yield store
    finally:
        store.close()


def write_output(path: Path, data: bytes) -> str | None:
    """Write a command's `--output` file whole or not at all (through a partial file beside
    it, replaced at the end; a symbolic link's target, not the link); what exists and is
    no file (`/dev/stdout`, a pipe) is written to, not replaced. Why it could not be
    written, or None."""
    if not path.name or path.name == "..":
        return f"cannot write {str(path)!r}: it names a folder, not a file"
    partial = None
    try:
        if path.exists() and not path.is_file():
            path.write_bytes(data)  # a folder raises IsADirectoryError
            return None
        real = path.resolve()
        partial = real.with_name(f".{real.name}.partial")
        partial.write_bytes(data)
        partial.replace(real)
    except OSError as exc:
        if partial is not None:
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
        return f"cannot write {path}: {exc.strerror or exc}"
    return None


def print_config_problems(exc: ConfigError) -> None:
    for problem in exc.problems:
        print(f"watcher: {problem}", file=sys.stderr)


def utf8_text(value: str) -> str:
    """An argparse type: a name, id, link or query, which goes into SQL or a match, as text
    UTF-8 can encode. A byte of an argument that is no UTF-8 (a terminal in another
    encoding) is a lone surrogate in Python, which SQLite refused with a traceback."""
    if SURROGATE.search(value):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not UTF-8 text (is the terminal's encoding, LANG, UTF-8?)"
        )
    return value


def header(text: str) -> tuple[str, str]:
    """An argparse type: 'Name: value', a header to send with a feed's fetch."""
    name, colon, value = text.partition(":")
    problem = "is not 'Name: value'" if not colon else header_problem(name.strip(), value)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"header {text!r} {problem}")
    return name.strip(), value.strip()


def time_zone(text: str) -> str:
    """An argparse type: an IANA time zone's name (`Asia/Tokyo`)."""
    if (problem := zone_problem(text, "Asia/Tokyo")) is not None:
        raise argparse.ArgumentTypeError(problem)
    return text


FEED_NAMES = (
    "a configured feed's name, or a tag of the config's feeds (every feed tagged so); another "
    "name is read as a feed no longer configured (warned of)"
)
HEADER_HELP = (
    "'Name: value', sent with the feed's fetch (to its origin only), as a feed's headers: "
    "in the config (in place of a configured feed's header of that name); may be given more "
    "than once"
)


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`1 feed`, `2 feeds`, `0 stories` (`plural` where adding an s is wrong)."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if moment else "-"


def shown(story: Story) -> str:
    """The story's title beside its outlet's name: without that name at its end."""
    return headline(story.title, story.source)


def print_table(headers: list[str], rows: list[list[str]], max_width: int = 60) -> None:
    """Columns padded to their widest cell, cells cut at `max_width`, but for the last column
    (a link or an error in every table), which nothing follows: a cut link leads nowhere.
    Widths are a terminal's (`display_width`: a Chinese or Japanese character takes two
    columns). Control characters are shown escaped (`printable`)."""
    cells = [
        [_cut(c, max_width) for c in row[:-1]] + row[-1:]
        for row in ([printable(c) for c in row] for row in rows)
    ]
    widths = [
        max([display_width(h), *(display_width(r[i]) for r in cells)])
        for i, h in enumerate(headers)
    ]
    for row in [headers, *cells]:
        print("  ".join(_padded(c, w) for c, w in zip(row, widths, strict=True)).rstrip())


def display_width(text: str) -> int:
    """The columns a terminal gives the text: two for a wide character (Chinese, Japanese,
    Korean, full-width forms), none for a combining mark, one for any other."""
    return len(text) if text.isascii() else sum(map(_char_width, text))


@lru_cache(maxsize=8192)
def _char_width(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in "WF" else 1


def _cut(text: str, width: int) -> str:
    """The text in at most `width` columns, ending in … where it was cut."""
    if display_width(text) <= width:
        return text
    kept, used = [], 1  # the … takes one
    for char in text:
        used += _char_width(char)
        if used > width:
            break
        kept.append(char)
    return "".join(kept) + "…"


def _padded(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))
