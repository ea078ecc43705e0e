"""What `/metrics` exposes, in Prometheus' text format (prometheus-client).

In: poll outcomes and delivery results as the service sees them, and the store, read at
each scrape for what is better counted than tracked (the outbox, failing and silent
feeds, clusters).
Every `Metrics` has its own registry, so two services in one process (tests) never mix.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from watcher import __version__
from watcher.alerts.lanes import Delivery
from watcher.errors import StoreError
from watcher.feed_state import OLD_DATES_TOLD
from watcher.health import SilentAfter, configured_states, feed_health
from watcher.logs import event
from watcher.models import Match, PollOutcome
from watcher.store import Store

log = logging.getLogger("watcher.metrics")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
FETCH_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    def __init__(
        self,
        store: Store,
        channels: Callable[[], Iterable[str]] = tuple,
        silent_after: Callable[[], SilentAfter] = dict,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        Gauge("watcher_build_info", "The running version", ["version"], registry=r).labels(
            __version__
        ).set(1)
        self.polls = Counter("watcher_polls", "Feed polls by outcome", ["outcome"], registry=r)
        self.fetch_seconds = Histogram(
            "watcher_fetch_duration_seconds", "Time of each feed's HTTP exchange",
            buckets=FETCH_BUCKETS, registry=r,
        )  # fmt: skip
        self.stories = Counter("watcher_stories_ingested", "New stories stored", registry=r)
        self.gaps = Counter(
            "watcher_feed_gaps",
            "Polls whose feed listed only new stories: some may have come and gone unseen",
            registry=r,
        )
        self.pages = Counter(
            "watcher_full_text_pages",
            "Pages of full_text feeds' new stories: read (their main text found), or not_read"
            " (logged as full text not read)",
            ["outcome"], registry=r,
        )  # fmt: skip
        self.clusters_started = Counter(
            "watcher_clusters_started", "New stories that started a cluster", registry=r
        )
        self.clusters_past_span = Counter(
            "watcher_clusters_past_span",
            "New stories that started a cluster though they read as the same event as a story"
            " of one begun more than clustering.max_span before (counted in started too)",
            registry=r,
        )
        self.matches = Counter(
            "watcher_matches",
            "Rule matches by rule; quiet: made by a story kept from alerting (the news item's"
            " next loud match of the rule counts again)",
            ["rule", "quiet"], registry=r,
        )  # fmt: skip
        self.alerts_sent = Counter(
            "watcher_alerts_sent", "Alerts delivered by channel", ["channel"], registry=r
        )
        self.alerts_failed = Counter(
            "watcher_alerts_failed", "Failed delivery attempts by channel", ["channel"], registry=r
        )
        self.delivery_held = Gauge(
            "watcher_delivery_held",
            "Delivery lanes (the SMTP server, a subscriber's Slack, Teams or webhook URL) held"
            " after their server failed, by channel",
            ["channel"], registry=r,
        )  # fmt: skip
        self.last_poll = Gauge(
            "watcher_last_poll_timestamp_seconds", "When the last poll ended", registry=r
        )
        r.register(StoreCollector(store, channels, silent_after, clock))

    def record_poll(self, outcome: PollOutcome, at: float) -> None:
        self.polls.labels(outcome.status).inc()
        if outcome.fetch_ms is not None:
            self.fetch_seconds.observe(outcome.fetch_ms / 1000)
        self.stories.inc(len(outcome.new_stories))
        self.gaps.inc(outcome.gap)
        if any(outcome.pages):
            self.pages.labels("read").inc(outcome.pages[0])
            self.pages.labels("not_read").inc(outcome.pages[1])
        self.clusters_started.inc(sum(c.starts_cluster for c in outcome.clustered))
        self.clusters_past_span.inc(sum(c.follows is not None for c in outcome.clustered))
        self.record_matches(outcome.matches)
        if outcome.status != "skipped":
            self.last_poll.set(at)

    def record_matches(self, matches: Iterable[Match]) -> None:
        for match in matches:
            self.matches.labels(match.rule, "true" if match.quiet else "false").inc()

    def record_deliveries(self, results: Iterable[Delivery]) -> None:
        for result in results:
            if result.outcome == "sent":
                self.alerts_sent.labels(result.channel).inc()
            elif result.outcome in ("retry", "dead"):
                self.alerts_failed.labels(result.channel).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class StoreCollector(Collector):
    """Gauges read from the database at scrape time: they stay right across restarts."""

    def __init__(
        self,
        store: Store,
        channels: Callable[[], Iterable[str]],
        silent_after: Callable[[], SilentAfter],
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.channels = channels  # the configured channels: shown at 0 before any alert
        self.silent_after = silent_after  # the configured feeds' (see `feed_health`)
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        silent_after, now = self.silent_after(), self.clock()
        try:
            feeds = configured_states(self.store, silent_after)
            depth = self.store.outbox_depth()
            clusters = self.store.count_clusters()
        except StoreError as exc:
            event(log, logging.ERROR, "metrics: database unreadable", error=str(exc))
            return
        queued = GaugeMetricFamily(
            "watcher_alerts_queued", "Alerts waiting to be sent, by channel", labels=["channel"]
        )
        dead = GaugeMetricFamily(
            "watcher_alerts_dead", "Alerts in the dead-letter list, by channel", labels=["channel"]
        )
        for channel in sorted({c for _, c in depth} | set(self.channels())):
            waiting = depth.get(("pending", channel), 0) + depth.get(("sending", channel), 0)
            queued.add_metric([channel], waiting)
            dead.add_metric([channel], depth.get(("dead", channel), 0))
        yield queued
        yield dead
        healths = [feed_health(f, silent_after[f.name], now) for f in feeds]
        yield GaugeMetricFamily("watcher_feeds", "Feeds configured", value=len(feeds))
        yield GaugeMetricFamily(
            "watcher_feeds_failing", "Feeds whose last poll failed, or disabled (410 Gone)",
            value=sum(h in ("failing", "disabled") for h in healths),
        )  # fmt: skip
        yield GaugeMetricFamily(
            "watcher_feeds_silent", "Feeds that poll well but kept no new story lately",
            value=healths.count("silent"),
        )  # fmt: skip
        yield GaugeMetricFamily(
            "watcher_feeds_dated_too_old",
            "Feeds whose last new stories were all dated more than max_age ago, alerting no one",
            value=sum(
                f.old_dates >= OLD_DATES_TOLD and h == "ok"
                for f, h in zip(feeds, healths, strict=True)
            ),
        )  # fmt: skip
        yield GaugeMetricFamily("watcher_clusters", "Story clusters stored", value=clusters)
