"""Settling stories: clustering them, matching them against the rules and recording their
matches and alerts, in one transaction that a failure or a crash undoes, in the clustering
window too. The poll's new stories, and stored stories their feed gave another title or
revised, are settled so; and at start, stories a version stored unclustered.

In: stored stories (with their fingerprints and the parse pool's matches, where made). Out:
the stories as clustered, and the matches recorded. Raises `StoreError` from the store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import replace
from datetime import datetime, timedelta

from watcher.alerts.outlets import recheck_waiting, record_matches
from watcher.clusterer import Clock, Clusterer
from watcher.dedupe import Fingerprint
from watcher.known import quiet_again, revised
from watcher.logs import event
from watcher.models import (
    AlertPlan,
    Assignment,
    ClusteredStory,
    FeedConfig,
    FeedState,
    Match,
    Story,
)
from watcher.rules.live import LiveRules, PoolMatches
from watcher.rules.model import RuleSet
from watcher.store import Store

log = logging.getLogger("watcher.pipeline")  # a poll's lines, as they were before this module

Route = Callable[[Match], Iterable[AlertPlan]]


class Settler:
    """Clusters, matches and records stored stories; collaborators passed in, built once.
    `route` (a subscriber's alerts of a match) is replaced when the config is reloaded."""

    def __init__(
        self,
        *,
        store: Store,
        clusterer: Clusterer,
        clock: Clock,
        rules: LiveRules | None = None,
        route: Route | None = None,
    ) -> None:
        self.store = store
        self.clusterer = clusterer
        self.clock = clock
        self.rules = rules
        self.route = route
        # by feed, the stories retitled at its last poll (`retitle` logs a repeat at DEBUG)
        self._retitled_last: dict[str, frozenset[str]] = {}

    def revise(
        self, feed: FeedConfig, state: FeedState, same: list[Story], premade: PoolMatches | None,
        now: datetime, prints: Mapping[str, Fingerprint] | None = None,
    ) -> list[Match]:  # fmt: skip
        """Stored stories their feed revised to match a rule (`known.revised`), stored as they
        are now and matched again, as `retitle` does; quiet as a retitled story would be."""
        if self.rules is None or not same:
            return []
        # a full_text story is matched on its page's text, which the pool never saw
        pooled = None if feed.full_text else premade
        revisions = revised(
            self.store, same, may_match=self.rules.may_match(pooled),
            rules_of=self.rules.rules_matched, full_text=feed.full_text,
            since=now - timedelta(seconds=self.clusterer.settings.window),
        )  # fmt: skip
        quiet = quiet_again(self.store, state, feed, revisions, now)
        return self.retitle(revisions, quiet, pooled, now, prints=prints)

    def retitle(
        self, stories: list[Story], quiet: set[str], premade: PoolMatches | None, now: datetime,
        *, feed: str | None = None, prints: Mapping[str, Fingerprint] | None = None,
    ) -> list[Match]:  # fmt: skip
        """Stored stories that their feed gave another title (a developing story's headline
        names what it did not): stored as they are now, and matched again, so a rule they
        match now alerts their cluster, once, as a new story would; the clustering window
        compares later stories with them as they are now. Stories published before the
        clustering window are not news: their text is kept as it was. With `feed` (a poll's
        retitled stories, of that feed), each is logged (`story retitled`): at INFO, or at
        DEBUG where that feed's last poll retitled it too (a price or a count in its title
        changes at every poll). `prints`: the parse pool's fingerprints of the stories, by id."""
        oldest = now - timedelta(seconds=self.clusterer.settings.window)
        recent = [s for s in stories if s.published >= oldest]
        if feed is not None:
            self._log_retitles(feed, recent)
        if not recent:
            return []
        with self.store.transaction():
            clusters = self.store.retitle_stories(recent)
            items = [
                ClusteredStory(story=s, assignment=Assignment(
                    story=s.id, cluster=clusters[s.id], level="exact", reason="retitled"))
                for s in recent if s.id in clusters
            ]  # fmt: skip
            matches = _quieted(self.match_rules(items, premade), quiet)
            matches = self.record(matches, {i.assignment.cluster for i in items})
        self.clusterer.retitled([i.story for i in items], prints)
        return matches

    def _log_retitles(self, feed: str, retitled: list[Story]) -> None:
        last = self._retitled_last.pop(feed, frozenset())
        for story in retitled:
            level = logging.DEBUG if story.id in last else logging.INFO
            event(log, level, "story retitled", feed=story.feed, title=story.title)
        if retitled:
            self._retitled_last[feed] = frozenset(s.id for s in retitled)

    def settle(
        self,
        stories: Sequence[Story],
        quiet: set[str] | None = None,
        prints: Sequence[Fingerprint] | None = None,
        *,
        polled: FeedState | None = None,
        premade: PoolMatches | None = None,
    ) -> tuple[list[ClusteredStory], list[Match]]:
        """Cluster stories, match them and write their alerts, in one transaction that a
        failure or a crash undoes, in the window too. With `polled`, they are a poll's new
        stories, stored here with their clusters and the feed's new state (a failed poll
        fetches them again); without, they were stored unclustered (by a version that stored
        them first), and `recover` settles them on start."""
        with self.clusterer.tentative(), self.store.transaction():
            if polled is None:
                clustered = self.clusterer.cluster(stories, prints)
            else:
                placed = self.clusterer.place(stories, prints, quiet=quiet or ())
                self.store.record_new_stories(polled, placed, self.clock())
                clustered = [self.clusterer.final(c) for c in placed]
            matches = _quieted(self.match_rules(clustered, premade), quiet or set())
            matches = self.record(matches, {c.assignment.cluster for c in clustered})
        return clustered, matches

    def record(self, matches: list[Match], clusters: set[int]) -> list[Match]:
        """Record matches and their alerts, those of rules with `min_sources` waiting for
        outlets (`alerts.outlets`)."""
        return record_matches(self.store, self.ruleset(), self.route, matches, clusters,
                              self.clock())  # fmt: skip

    def recheck_waiting(self) -> list[Match]:
        """At start, and after the rules changed: the matches made within the clustering
        window that wait for outlets, alerted if their rule now asks for no more than their
        news items have."""
        since = self.clock() - timedelta(seconds=self.clusterer.settings.window)
        return recheck_waiting(self.store, self.ruleset(), self.route, since, self.clock())

    def ruleset(self) -> RuleSet | None:
        return self.rules.matcher.ruleset if self.rules is not None else None

    def recover(self, executor: Executor | None = None) -> int:
        """On start: settle the stories left stored but unclustered (their fingerprints made
        in `executor`, when given); how many."""
        pending = self.clusterer.load(executor)
        if pending:
            self.settle(pending)
        return len(pending)

    def match_rules(
        self, clustered: Sequence[ClusteredStory], premade: PoolMatches | None = None
    ) -> list[Match]:
        """Every rule each new story matches, against its cluster (none without rules)."""
        return [] if self.rules is None else self.rules.matches(clustered, premade, self.clock())


def _quieted(matches: list[Match], quiet: set[str]) -> list[Match]:
    """The matches, those of the `quiet` stories marked so (they alert no one)."""
    return [replace(m, quiet=True) if m.story in quiet else m for m in matches]
