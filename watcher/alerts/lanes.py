"""Delivery lanes: which alerts go one after another (a lane per server), and the hold of a
lane whose server failed, its alerts waiting untried while the server is tried again with
backoff.

In: alerts, delivery errors, the delivery settings and the config. Out: a lane, a hold, a
backoff and the longest wait the sender sets. Pure computation; `sender.Sender` keeps the
holds and acts on them.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from watcher.alerts.digest import longest_wait
from watcher.config import Config, DeliverySettings
from watcher.errors import DeliveryError
from watcher.fetch import MAX_RETRY_AFTER
from watcher.models import Alert

log = logging.getLogger("watcher.alerts")

# a held lane's server is tried again at least this often, whatever its failures in a row
# (but never before its Retry-After): alerts resume within minutes of its return
HOLD_MAX_SECONDS = 300.0

Lane = tuple[str, str]  # channel, and the subscriber where each has a server of its own


@dataclass(frozen=True)
class Hold:
    """A lane whose server failed: its alerts wait, untried, `until`."""

    failures: int  # server-wide failures in a row
    until: datetime
    error: str  # the last failure's


@dataclass(frozen=True)
class Delivery:
    alert: int
    subscriber: str
    channel: str
    outcome: str  # sent | retry | dead | skipped (no longer pending when its turn came)
    error: str | None = None


def lane_of(alert: Alert) -> Lane:
    """Which alerts go one after another: email through the one SMTP server; Slack, Teams
    and webhook alerts of a subscriber to its URL (each subscriber has its own); the
    console."""
    shared = alert.channel in ("email", "console")
    return alert.channel, "" if shared else alert.subscriber


def round_name(lane: Lane) -> str:
    """A lane's round, for the log: `deliver webhook a`, `deliver email`."""
    return " ".join(["deliver", *filter(None, lane)])


def backoff(delivery: DeliverySettings, failures: int, retry_after: float | None) -> timedelta:
    """`retry_base` doubled at each failure, ±20 %, at most `retry_max`; not before the
    server's Retry-After."""
    doubled = 2.0 ** min(failures - 1, 40)  # past 1,024, a float would overflow
    delay = min(delivery.retry_base * doubled, delivery.retry_max)
    return timedelta(seconds=max(delay * random.uniform(0.8, 1.2), retry_after or 0))


def next_hold(
    held: Hold | None, exc: DeliveryError, delivery: DeliverySettings, now: datetime
) -> Hold:
    """The hold of a lane whose server failed with `exc` (`held`: its hold before): tried
    again after a backoff of its failures in a row, at most `HOLD_MAX_SECONDS`, but not
    before the server's Retry-After."""
    failures = held.failures + 1 if held else 1
    probe = min(backoff(delivery, failures, None), timedelta(seconds=HOLD_MAX_SECONDS))
    return Hold(failures, now + max(probe, timedelta(seconds=exc.retry_after or 0)), str(exc))


def longest_sender_wait(config: Config) -> timedelta:
    """Longer than any wait the sender sets under `config`: a retry (`retry_max` and its
    jitter, or a Retry-After of at most a day), a hold, a digest's time (a day, or up to a
    week for a subscriber's weekly digest) or the end of quiet days (a day more than there
    are, for the quiet hours after them), and an hour of daylight saving."""
    longest = max(config.delivery.retry_max * 1.2, MAX_RETRY_AFTER, HOLD_MAX_SECONDS)
    digests = [longest_wait(s.digest) for s in config.subscribers if s.mode == "digest"]
    quiet = [timedelta(days=len(s.quiet_days) + 1) for s in config.subscribers if s.quiet_days]
    return max([timedelta(seconds=longest), *digests, *quiet]) + timedelta(hours=2)


def as_delivery_error(exc: Exception, what: str) -> DeliveryError:
    """`exc` as a DeliveryError: one that is not (a bug, or input no check foresaw) is
    logged with its traceback and is permanent, so its alert goes to the dead-letter list,
    where `watcher alerts --failed` shows it, instead of staying 'sending' until a restart."""
    if isinstance(exc, DeliveryError):
        return exc
    log.exception("unexpected error sending %s", what)
    return DeliveryError(f"unexpected error: {exc!r}", transient=False)
