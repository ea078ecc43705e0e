"""What a reload (SIGHUP) changes in the running service, and a rule set taken meanwhile.

In: the service's state (a part of `schedule.Service`, which it is mixed into) and the new
`Config` or rule files. Out: the feeds' jobs added and removed, the subscribers, SMTP and
delivery settings in use, the rules reloaded; the matches waiting for outlets and the
alerts waiting for a digest checked against them. What a reload cannot change is logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any

from watcher import logs
from watcher.alerts.renames import follow_renames
from watcher.alerts.routing import replan_waiting, router, warn_unknown_names
from watcher.config import Config
from watcher.config.feeds import same_urls
from watcher.errors import StoreError
from watcher.logs import event
from watcher.models import FeedConfig, FeedState, tags_by_feed
from watcher.service_parts import ServiceParts

log = logging.getLogger("watcher.schedule")

NEEDS_RESTART = (
    "state",
    "listen",
    "poll",
    "clustering",
    "log_format",
)  # config keys a reload can't change


class Reloads(ServiceParts):
    """The config and rule reloads of `schedule.Service`."""

    _loop: asyncio.AbstractEventLoop | None
    _running: dict[asyncio.Task[Any], str]
    # the service's own
    _deliver_now: Callable[[], None]
    _feed_states: Callable[[], dict[str, FeedState]]
    _add_feed_job: Callable[[FeedConfig, FeedState | None], None]

    def reload_rules(self, *, force: bool = False) -> None:
        """The rule files again if they changed (`force`: read them whatever their size and
        time say). A rule set taken is checked against the subscribers
        (`warn_unknown_names`), the matches waiting for outlets against its rules, and the
        alerts waiting for a digest against its priorities, on the event loop (the store's
        thread; the scheduler runs this job in another)."""
        rules = self.pipeline.rules
        if rules is None:
            return
        if (rules.reload() if force else rules.reload_if_changed()).changed:
            warn_unknown_names(
                rules.matcher.ruleset.rules, self.config.subscribers, self.config.feeds
            )
            if self._loop is None:
                self._recheck_waiting()
                self._replan_waiting()
            else:
                self._loop.call_soon_threadsafe(self._recheck_waiting)
                self._loop.call_soon_threadsafe(self._replan_waiting)

    def _recheck_waiting(self) -> None:
        """Alert the waiting matches the rules in force let alert (`Pipeline.recheck_waiting`)."""
        try:
            promoted = self.pipeline.settler.recheck_waiting()
        except StoreError as exc:  # the next story of each news item checks it again
            event(log, logging.ERROR, "checking the matches waiting for outlets failed", error=exc)
            return
        if not promoted:
            return
        self.metrics.record_matches(promoted)
        if self.pipeline.on_new_stories is not None:
            handled = self.pipeline.on_new_stories([], promoted)
            if handled is not None:
                task = asyncio.ensure_future(handled)
                self._running[task] = "new-story handler"
                task.add_done_callback(lambda done: self._running.pop(done, None))
        self._deliver_now()

    def _replan_waiting(self) -> None:
        """Move the alerts waiting for a digest to where the subscribers' settings and the
        rules' priorities now put them (`replan_waiting`), and deliver those now due."""
        rules = self.pipeline.rules.matcher.ruleset.rules if self.pipeline.rules else ()
        if replan_waiting(self.store, self.config.subscribers, rules, self.clock()):
            self._deliver_now()

    def apply_config(self, new: Config) -> None:
        """Take a reloaded config: feeds added, removed or changed, subscribers, SMTP,
        delivery, retention and the rules folder. The rest waits for a restart (logged)."""
        old, self.config = self.config, new
        for key in NEEDS_RESTART:
            if getattr(old, key) != getattr(new, key):
                event(log, logging.WARNING, "config change needs a restart", key=key)
        self.store.sync_feeds(new.feeds)
        follow_renames(self.store, new.subscribers)
        warn_same_urls(new.feeds)
        polled = {f.name for f in new.feeds if not f.paused}
        for feed in old.feeds:
            if feed.name not in polled and not feed.paused:  # removed, or paused now
                self.scheduler.remove_job(f"feed:{feed.name}")
        before = set(old.feeds)
        added = [feed for feed in new.feeds if feed not in before and not feed.paused]
        states = self._feed_states() if added else {}
        for feed in added:
            self._add_feed_job(feed, states.get(feed.name))
        if self.pipeline.rules is not None:
            self.pipeline.settler.route = router(self.pipeline.rules, new.subscribers)
            if new.rules != old.rules:
                self.pipeline.rules.folder = new.rules
            self.pipeline.rules.feed_tags = tags_by_feed(new.feeds)
            rules = self.pipeline.rules.matcher.ruleset.rules
            warn_unknown_names(rules, new.subscribers, new.feeds)
            self.reload_rules(force=True)
        if self.sender is not None:
            self.sender.use_config(new)
        self._replan_waiting()
        logs.add_secrets(new.secrets())
        event(
            log, logging.INFO, "config reloaded", path=new.path, feeds=len(new.feeds),
            subscribers=len(new.subscribers),
        )  # fmt: skip


def warn_same_urls(feeds: Iterable[FeedConfig]) -> None:
    """`same_urls` logged, one warning each."""
    for problem in same_urls(feeds):
        event(log, logging.WARNING, "a feed is configured twice", problem=problem)
