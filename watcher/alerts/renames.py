"""Subscribers renamed in the config, known by what their channels reach: the alerts made
under the old name take the new one, so none reaches the dead-letter list for a name no
longer configured, and a news item alerted under the old name alerts no more.

In: the configured `Subscriber`s. Out: the renames, logged. Pure but for `follow_renames`.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Iterable
from email.utils import getaddresses

from watcher.config import Subscriber
from watcher.errors import StoreError
from watcher.logs import event
from watcher.store import Store

log = logging.getLogger("watcher.alerts")


def reaches(subscriber: Subscriber) -> dict[str, str]:
    """A digest of what each channel but the console reaches (an email channel's addresses in
    any order and case, a webhook's URL): the database keeps no address or secret URL."""
    found = {}
    for channel in subscriber.channels():
        if channel == "console":
            continue
        target = getattr(subscriber, channel)
        if channel == "email":
            target = ",".join(sorted({a.casefold() for _, a in getaddresses([target])}))
        found[channel] = hashlib.sha256(f"{channel} {target.strip()}".encode()).hexdigest()
    return found


def renames(
    recorded: dict[str, dict[str, str]], configured: dict[str, dict[str, str]]
) -> list[tuple[str, str]]:
    """Each (old, new) pair of a subscriber recorded but no longer configured and one
    configured but never recorded whose channel reaches what one of its channels reached,
    where neither has another such partner: a rename, not a subscriber removed and
    another added for another address."""
    gone = {name: was for name, was in recorded.items() if name not in configured}
    added = {name: now for name, now in configured.items() if name not in recorded}
    pairs = [
        (old, new)
        for old, was in gone.items() for new, now in added.items() if was.items() & now.items()
    ]  # fmt: skip
    olds, news = Counter(old for old, _ in pairs), Counter(new for _, new in pairs)
    return [(old, new) for old, new in pairs if olds[old] == 1 and news[new] == 1]


def follow_renames(store: Store, subscribers: Iterable[Subscriber]) -> None:
    """Give a renamed subscriber's alerts its new name, and record what each configured
    subscriber reaches: at start and when the config changes. A database error is logged."""
    configured = {s.name: reaches(s) for s in subscribers}
    try:
        moved = store.rename_subscribers(
            renames(store.subscriber_channels(), configured), configured
        )
    except StoreError as exc:
        event(log, logging.ERROR, "subscribers' channels not recorded", error=str(exc))
        return
    for (old, new), alerts in moved.items():
        event(log, logging.INFO, "subscriber renamed", old=old, new=new, alerts=alerts)
