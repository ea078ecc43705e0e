"""How dataclasses become rows and rows dataclasses: columns, statements, times as text.

In: `models` dataclasses or rows as dicts. Out: the other. Pure: no database here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import fields
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any

from watcher.models import Alert, DeliveryNotice, FeedNotice, FeedState, Match, Story

NEVER = datetime.min.replace(tzinfo=UTC)

FEED_COLUMNS = (
    "url", "etag", "last_modified", "content_hash", "consecutive_failures", "next_poll_at",
    "disabled", "last_polled_at", "last_success_at", "last_error", "last_error_at",
    "last_status", "warning", "gaps", "gap_at", "first_read_at", "ttl", "old_dates", "old_dated",
)  # fmt: skip
STORY_COLUMNS = tuple(f.name for f in fields(Story))
PLACED_COLUMNS = (*STORY_COLUMNS, "cluster_id", "cluster_level", "cluster_match",
                  "cluster_reason")  # fmt: skip


def _insert_into(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"


INSERT_STORY = _insert_into("stories", STORY_COLUMNS)
INSERT_PLACED_STORY = _insert_into("stories", PLACED_COLUMNS)
UPDATE_FEED = (
    f"UPDATE feeds SET {', '.join(f'{c} = ?' for c in FEED_COLUMNS)} "
    "WHERE name = ? AND config_url = ?"
)


def to_text(when: datetime | None) -> str | None:
    """A UTC time as stored: ISO 8601 to the second, so text order is time order."""
    return when.isoformat(timespec="seconds") if when else None


def from_text(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def feed_row(state: FeedState) -> list[Any]:
    """The values `UPDATE_FEED` takes for a feed's state: none is written once the feed's
    configured URL is no longer the one the state was read under."""
    return [*(_feed_value(getattr(state, c)) for c in FEED_COLUMNS), state.name, state.config_url]


def _feed_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_text(value)
    if isinstance(value, bool):
        return int(value)
    return value


def feed_from_row(row: dict[str, Any]) -> FeedState:
    times = {
        "next_poll_at", "last_success_at", "last_error_at", "last_polled_at", "newest_story_at",
        "gap_at", "first_read_at", "old_dated",
    }  # fmt: skip
    values: dict[str, Any] = {
        k: (from_text(v) if k in times else v)
        for k, v in row.items()
        if k != "notified"  # the feed notices' own
    }
    values["disabled"] = bool(values["disabled"])
    values["paused"] = bool(values["paused"])
    return FeedState(**values)


def alert_from_row(r: dict[str, Any]) -> Alert:
    return Alert(
        id=r["id"], subscriber=r["subscriber"], channel=r["channel"], cluster=r["cluster_id"],
        rule=r["rule"], story=r["story_id"], terms=json.loads(r["terms"]), status=r["status"],
        attempts=r["attempts"], sends=r["sends"],
        next_attempt_at=from_text(r["next_attempt_at"]) or NEVER, last_error=r["last_error"],
        created_at=from_text(r["created_at"]) or NEVER, sent_at=from_text(r["sent_at"]),
        digest=bool(r["digest"]), retry_to=tuple(json.loads(r["retry_to"] or "[]")),
        notices=notices_from_text(r["notice"]) if r["notice"] else (), waits=r["waits"],
    )  # fmt: skip


def notices_text(notices: Iterable[FeedNotice | DeliveryNotice]) -> str:
    return json.dumps([_notice_value(n) for n in notices])


def _notice_value(n: FeedNotice | DeliveryNotice) -> dict[str, Any]:
    if isinstance(n, DeliveryNotice):
        return {"kind": "delivery", "subscriber": n.subscriber, "channel": n.channel,
                "alerts": n.alerts, "error": n.error, "problem": n.problem,
                "failures": n.failures}  # fmt: skip
    return {"feed": n.feed, "problem": n.problem, "url": n.url, "detail": n.detail,
            "since": to_text(n.since)}  # fmt: skip


def notices_from_text(text: str) -> tuple[FeedNotice, ...] | tuple[DeliveryNotice, ...]:
    """A notice alert's notices, all of one kind (a feed notice's rows have no `kind`)."""
    values = json.loads(text)
    if values and values[0].get("kind") == "delivery":
        return tuple(DeliveryNotice(**{k: x for k, x in v.items() if k != "kind"}) for v in values)
    return tuple(FeedNotice(**{**v, "since": from_text(v["since"])}) for v in values)


def match_from_row(r: dict[str, Any]) -> Match:
    return Match(
        cluster=r["cluster_id"],
        rule=r["rule"],
        story=r["story_id"],
        terms=json.loads(r["terms"]),
        clause=r["clause"],
        ruleset_version=r["ruleset_version"],
        matched_at=from_text(r["matched_at"]) or NEVER,
        quiet=bool(r["quiet"]),
        waiting=bool(r["waiting"]),
    )


_STORY_VALUES = attrgetter(*STORY_COLUMNS)
_STORY_TIMES = [i for i, c in enumerate(STORY_COLUMNS) if c in ("published", "fetched_at")]


_RELATED = STORY_COLUMNS.index("related")


def story_row(story: Story) -> list[Any]:
    row = list(_STORY_VALUES(story))
    for column in _STORY_TIMES:
        row[column] = to_text(row[column])
    row[_RELATED] = "\n".join(story.related)  # links hold no line breaks
    return row


def story_from_row(row: dict[str, Any]) -> Story:
    return Story(
        **{
            **row,
            "published": from_text(row["published"]),
            "fetched_at": from_text(row["fetched_at"]),
            "related": tuple(row["related"].split("\n")) if row["related"] else (),
        }
    )
