"""When digests go out: 'hourly', or 'daily HH:MM' in the subscriber's time zone.

Pure functions of the schedule, the zone and a time; all times in and out are UTC-aware.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

_DAILY = re.compile(r"^daily\s+([01]?\d|2[0-3]):([0-5]\d)$")


def check_schedule(spec: str) -> str | None:
    """None when `spec` is a digest schedule; else what is wrong with it."""
    if spec == "hourly" or _DAILY.match(spec):
        return None
    return f"{spec!r} is not a digest schedule: write hourly or daily HH:MM (24-hour clock)"


def next_digest(spec: str, zone: ZoneInfo, after: datetime) -> datetime:
    """The first digest time strictly after `after`."""
    local = after.astimezone(zone)
    if spec == "hourly":
        return next_hour(zone, after)
    match = _DAILY.match(spec)
    assert match is not None, spec
    at = local.replace(
        hour=int(match.group(1)), minute=int(match.group(2)), second=0, microsecond=0
    )
    if at <= local:
        at = (local + timedelta(days=1)).replace(hour=at.hour, minute=at.minute)
    return at.astimezone(UTC)


def next_hour(zone: ZoneInfo, after: datetime) -> datetime:
    """The next top of the hour on the subscriber's clock."""
    local = after.astimezone(zone)
    return (local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)).astimezone(UTC)
