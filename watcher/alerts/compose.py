"""What an alert or a digest says, read from the store and the rules in force.

In: alerts, the store (their stories, news items and matches), the rules in force and the
configured subscribers. Out: a `Message`, or a digest's items. Raises: `DeliveryError`
for an alert whose story and news item are both gone.
"""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

from watcher.alerts.digest import DigestItem, render_digest
from watcher.alerts.excerpts import hit_spans
from watcher.alerts.render import Message, render
from watcher.alerts.render_notices import render_notice
from watcher.alerts.routing import followed_matches
from watcher.config import Subscriber
from watcher.errors import DeliveryError, StoreError
from watcher.models import Alert, Cluster, Story
from watcher.rules.live import LiveRules
from watcher.rules.model import Rule
from watcher.store import Store


class Composer:
    """Composes each alert's message, and each digest's, as the store and rules stand."""

    def __init__(self, store: Store, rules: LiveRules | None) -> None:
        self.store = store
        self.rules = rules
        self.subscribers: dict[str, Subscriber] = {}  # by name: the config's, `Sender.use_config`

    def message(self, alert: Alert) -> Message:
        """An alert's own message: a notice's, or its story's with its news item."""
        subscriber = self.subscribers.get(alert.subscriber)
        zone = ZoneInfo(subscriber.timezone if subscriber else "UTC")
        if alert.notices:
            return render_notice(alert, alert.notices, zone)
        cluster = self._cluster(alert)
        story = self._story(alert, cluster)
        return render(self._also(alert), story, cluster, self._spans(story), zone)

    def digest(self, subscriber: Subscriber, items: list[DigestItem]) -> Message:
        zone = ZoneInfo(subscriber.timezone)
        return render_digest(subscriber.name, items, zone, self._priorities())

    def digest_items(
        self, alerts: list[Alert]
    ) -> tuple[list[DigestItem], list[tuple[Alert, DeliveryError]]]:
        """Each alert with its story, news item and the rules' words in it; an alert whose
        story and news item are both gone, with why, on its own: it fails alone, not the
        digest with it."""
        items, lost = [], []
        for alert in alerts:
            cluster = self._cluster(alert)
            try:
                story = self._story(alert, cluster)
            except DeliveryError as exc:
                lost.append((alert, exc))
                continue
            items.append((self._also(alert), story, cluster, self._spans(story)))
        return items, lost

    def _story(self, alert: Alert, cluster: Cluster | None) -> Story:
        """The story the alert is about; when it is no longer stored (the prune took it
        before its news item gained the outlets a rule waited for), the news item's lead."""
        try:
            return self.store.story(alert.story)
        except StoreError:
            if cluster is None:
                raise DeliveryError(
                    f"alert {alert.id}: neither its story nor its news item is stored any more",
                    transient=False,
                ) from None
            return cluster.lead

    def _cluster(self, alert: Alert) -> Cluster | None:
        try:
            return self.store.cluster(alert.cluster)
        except StoreError:
            return None

    def _rules_by_name(self) -> dict[str, Rule]:
        """The rules in force, by name."""
        rules = self.rules.matcher.ruleset.rules if self.rules is not None else ()
        return {rule.name: rule for rule in rules}

    def _priorities(self) -> dict[str, int]:
        """The priority of each rule in force, by name."""
        return {name: rule.priority for name, rule in self._rules_by_name().items()}

    def _also(self, alert: Alert) -> Alert:
        """The alert with the other rules its news item matched that its subscriber follows
        (`also_matched`, `followed_matches`), in the order matched."""
        subscriber = self.subscribers.get(alert.subscriber)
        if subscriber is None or self.rules is None:
            return alert
        try:
            matches = self.store.matches_for(alert.cluster)
        except StoreError:
            return alert
        followed = followed_matches(matches, subscriber, self._rules_by_name())
        also = [m.rule for m in followed if m.rule != alert.rule]
        return replace(alert, also_matched=tuple(also))

    def _spans(self, story: Story) -> dict[str, list[tuple[int, int]]]:
        """Where the rules in force find their words in the story, by field."""
        matches = self.rules.matcher.match_story(story).rules if self.rules is not None else ()
        return hit_spans(hit for match in matches for hit in match.hits)
