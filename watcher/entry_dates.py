"""An entry's dates as its feed wrote them, and read: in the order of day and month its
document shows, in its feed's zone; and the warning for the dates that cannot be read.

In: feedparser's (or feedparser-rs's) entries, the feed's zone. Out: raw dates, aware UTC
datetimes (None for none read), a warning. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any

from watcher.dates import entry_time
from watcher.models import DateOrder, Story
from watcher.numeric_dates import in_year_first, is_year_last, year_last_order

DATE_KEYS = ("published", "updated")


def raw_field(entry: Any, key: str) -> Any:
    """A field as the feed gave it, without feedparser's deprecated published/updated aliasing."""
    if isinstance(entry, dict):
        return dict.get(entry, key)
    return getattr(entry, key, None)


def raw_date(entry: Any) -> str:
    """The date the entry was given: published, else updated, else ''."""
    return raw_field(entry, "published") or raw_field(entry, "updated") or ""


def document_order(entries: Sequence[Any]) -> DateOrder | None:
    """The order of day and month that the entries' dates with the year last show."""
    return year_last_order(raw_field(e, key) for e in entries for key in DATE_KEYS)


def entry_dates(
    entry: Any, order: DateOrder | None, zone: tzinfo | None
) -> tuple[datetime | None, datetime | None]:
    """The entry's published and updated times in UTC (`dates.entry_time`), None for none."""
    return (
        entry_time(in_year_first(raw_field(entry, "published"), order),
                   raw_field(entry, "published_parsed"), zone),
        entry_time(in_year_first(raw_field(entry, "updated"), order),
                   raw_field(entry, "updated_parsed"), zone),
    )  # fmt: skip


def unread_dates(
    entries: Sequence[Any], stories: Sequence[Story], order: DateOrder | None,
    zone: tzinfo | None,
) -> str | None:  # fmt: skip
    """A warning where entries were given a date that cannot be read, so that their stories
    are dated at their fetch: how many, and the first such date (with the year last, what
    reads it: the feed's `date_order`). Only entries whose story is dated at its fetch are
    read again (a date in the future is too, and was read)."""
    unread = [
        raw for entry, story in zip(entries, stories, strict=True)
        if story.published == story.fetched_at and (raw := str(raw_date(entry))).strip()
        and entry_dates(entry, order, zone) == (None, None)
    ]  # fmt: skip
    if not unread:
        return None
    first = unread[0]
    told = (
        f"the dates of {len(unread)} of {len(entries)} entries cannot be read (as "
        f"{first[:40]!r}): their stories are dated when they were first fetched"
    )
    if order is None and is_year_last(first):
        told += " (the feed's date_order: day-first or month-first reads them)"
    return told
