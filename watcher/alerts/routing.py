"""Which alerts a new match makes: the subscribers that follow its rule, on every channel,
and when each is due; and the alerts that wait moved when a subscriber's schedule changes,
or withdrawn when it no longer follows their rule."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from watcher.alerts.digest import next_digest, next_hour, quiet_until
from watcher.config import Subscriber
from watcher.errors import StoreError
from watcher.logs import event
from watcher.models import Alert, AlertPlan, FeedConfig, Match, Waits
from watcher.rules.live import LiveRules
from watcher.rules.model import DEFAULT_PRIORITY, Rule
from watcher.spelling import did_you_mean
from watcher.store import Store
from watcher.store.rows import to_text

log = logging.getLogger("watcher.alerts")


def follows(subscriber: Subscriber, rule: Rule) -> bool:
    """A subscriber follows a rule by name, by one of its tags, by "*", or is named by it,
    and the rule's priority is its `min_priority` or more."""
    return _chosen(subscriber, rule) and rule.priority >= subscriber.min_priority


def _chosen(subscriber: Subscriber, rule: Rule) -> bool:
    """A subscriber follows the rule by name, tag or "*", or the rule notifies it."""
    wanted = set(subscriber.follow)
    named = "*" in wanted or rule.name in wanted or bool(wanted & set(rule.tags))
    return named or subscriber.name in rule.notify


def followable(rules: Iterable[Rule]) -> set[str]:
    """What a subscriber may follow: each rule's name and tags, and "*"."""
    return {"*", *(name for r in rules for name in (r.name, *r.tags))}


def followed_matches(
    matches: Iterable[Match], subscriber: Subscriber, rules: dict[str, Rule]
) -> list[Match]:
    """The matches, in their order, of rules in force (`rules`, by name) that the
    subscriber follows; not those still waiting for outlets."""
    return [
        m for m in matches
        if not m.waiting and m.rule in rules and follows(subscriber, rules[m.rule])
    ]  # fmt: skip


def unknown_names(
    rules: Iterable[Rule], subscribers: Iterable[Subscriber], feeds: Iterable[FeedConfig]
) -> list[str]:
    """Each name in a subscriber's `follow` that is no rule's name or tag, each name in a
    rule's `notify` that is no subscriber's, and each name in a rule's `feeds` or a
    subscriber's `feed_problems` that is no feed's name or tag, as a sentence: a typo in
    any silences alerts without an error, since rules and config are read and reloaded
    apart."""
    rules, subscribers = list(rules), list(subscribers)
    known = followable(rules)
    names = {s.name for s in subscribers}
    found = [
        f"subscriber {s.name!r} follows {name!r}, which is no rule's name or tag"
        f"{did_you_mean(name, known)}"
        for s in subscribers for name in s.follow if name not in known
    ]  # fmt: skip
    found += [
        f"{r.path}:{r.line}: rule {r.name!r} notifies {name!r}, who is no subscriber"
        f"{did_you_mean(name, names)}"
        for r in rules for name in r.notify if name not in names
    ]  # fmt: skip
    feedable = {name for f in feeds for name in (f.name, *f.tags)}
    found += [
        f"{r.path}:{r.line}: rule {r.name!r} takes stories of {name!r} (feeds:), which is no "
        f"feed's name or tag{did_you_mean(name, feedable)}"
        for r in rules for name in r.feeds if name not in feedable
    ]  # fmt: skip
    found += [
        f"subscriber {s.name!r} takes the problems of {name!r} (feed_problems:), which is no "
        f"feed's name or tag{did_you_mean(name, feedable)}"
        for s in subscribers for name in s.problem_feeds if name not in feedable
    ]  # fmt: skip
    notified = {name for r in rules for name in r.notify}
    found += [
        f"subscriber {s.name!r} follows no rule (follow: []), no rule notifies it, and it "
        "takes no feed or delivery notices (feed_problems, delivery_problems): it gets nothing"
        for s in subscribers
        if not s.follow and s.name not in notified and not s.feed_problems
        and not s.delivery_problems
    ]  # fmt: skip
    return found + _below_min_priority(rules, subscribers)


def _below_min_priority(rules: list[Rule], subscribers: list[Subscriber]) -> list[str]:
    """Each subscriber that follows rules, none of them of its `min_priority` or more: no
    rule alerts it, and nothing says so."""
    found = []
    for s in subscribers:
        top = max((r.priority for r in rules if _chosen(s, r)), default=None)
        if top is not None and top < s.min_priority:
            found.append(
                f"subscriber {s.name!r} has min_priority {s.min_priority}, and the rules it "
                f"follows are of priority {top} at most: no rule alerts it"
            )
    return found


def warn_unknown_names(
    rules: Iterable[Rule], subscribers: Iterable[Subscriber], feeds: Iterable[FeedConfig]
) -> None:
    """`unknown_names` logged, one warning each."""
    for problem in unknown_names(rules, subscribers, feeds):
        event(log, logging.WARNING, "a name in the rules or subscribers names no one",
              problem=problem)  # fmt: skip


def route(
    match: Match, rules: dict[str, Rule], subscribers: Iterable[Subscriber]
) -> list[AlertPlan]:
    """The alerts a new match makes; none for a rule no longer loaded."""
    rule = rules.get(match.rule)
    if rule is None:
        return []
    return [
        plan
        for s in subscribers if follows(s, rule)
        for plan in _plans(s, match.matched_at, rule.priority)
    ]  # fmt: skip


URGENT = 5  # a rule's priority that breaks through a subscriber's quiet hours


def _schedule(
    subscriber: Subscriber, made: datetime, priority: int
) -> tuple[datetime, Waits | None]:
    """When an alert made at `made` is due, and what it waits for: the subscriber's digest
    time, or the end of its quiet hours or days (for a rule below urgent); None, due alone, after
    the subscriber's `settle` (at once for an urgent rule)."""
    zone = ZoneInfo(subscriber.timezone)
    if subscriber.mode == "digest":
        return next_digest(subscriber.digest, zone, made), "digest"
    if priority >= URGENT:
        return made, None
    settled = made + timedelta(seconds=subscriber.settle)
    quiet = quiet_until(subscriber.quiet_hours, zone, settled, subscriber.quiet_days)
    if quiet is not None:  # a digest when the quiet time ends
        return quiet, "quiet"
    return settled, None


def _plans(subscriber: Subscriber, now: datetime, priority: int) -> list[AlertPlan]:
    due, waits = _schedule(subscriber, now, priority)
    cap = subscriber.max_per_hour if waits is None else None
    overflow = next_hour(ZoneInfo(subscriber.timezone), now) if cap else None
    return [
        AlertPlan(
            subscriber=subscriber.name,
            channel=channel,
            due=due,
            waits=waits,
            cap=cap,
            overflow_due=overflow,
        )
        for channel in subscriber.channels()
    ]


def replan(
    alert: Alert, subscriber: Subscriber, priority: int
) -> tuple[datetime, Waits | None] | None:
    """When an alert that waits for a digest is due under its subscriber's settings now,
    and what it waits for then; None when that is what it has. A new digest time, time
    zone or quiet hours move it, as does a mode now immediate (it goes at once, in a digest
    with the others that waited); one over the hourly cap keeps its hour while a cap
    stands. Reckoned from when it was made, so a second call changes nothing."""
    due, waits = _schedule(subscriber, alert.created_at, priority)
    if waits is None and alert.waits == "cap" and subscriber.max_per_hour:
        return None
    return None if (due, waits) == (alert.next_attempt_at, alert.waits) else (due, waits)


def replan_waiting(
    store: Store, subscribers: Iterable[Subscriber], rules: Iterable[Rule], now: datetime
) -> int:
    """Move the alerts that wait for a digest (never tried) to where their subscriber's
    settings now put them (`replan`), at start and when the config or rules change: a
    subscriber's schedule is read when an alert is made. An alert not yet tried (waiting,
    settling or due) whose subscriber no longer follows its rule goes under another rule
    its news item matched that the subscriber follows, or is withdrawn (`_unfollowed`).
    One whose subscriber or channel is gone stays, to fail when due, and is warned of (a
    removed subscriber's news would reach the dead-letter list unseen). Returns how many
    moved; a database error is logged."""
    named = {s.name: s for s in subscribers}
    by_name = {r.name: r for r in rules}
    known = followable(by_name.values())
    moves: dict[str, list[tuple[int, datetime, Waits | None]]] = {}
    orphans: Counter[tuple[str, str]] = Counter()
    try:
        for alert in store.unsent_alerts():
            subscriber = named.get(alert.subscriber)
            if subscriber is None or alert.channel not in subscriber.channels():
                orphans[alert.subscriber, alert.channel] += 1
                continue
            kept = _unfollowed(store, alert, subscriber, by_name, known)
            if kept is None or kept.waits is None:  # withdrawn, or settling or due: kept
                continue
            rule = by_name.get(kept.rule)
            plan = replan(kept, subscriber, rule.priority if rule else DEFAULT_PRIORITY)
            if plan is not None:
                moves.setdefault(subscriber.name, []).append((kept.id, *plan))
        moved = store.reschedule_alerts([move for some in moves.values() for move in some])
    except StoreError as exc:
        event(log, logging.ERROR, "waiting alerts not rescheduled", error=str(exc))
        return 0
    for name, some in moves.items():
        first = min(due for _, due, _ in some)
        event(log, logging.INFO, "alerts rescheduled", subscriber=name, alerts=len(some),
              due=to_text(max(first, now)))  # fmt: skip
    for (name, channel), waiting in sorted(orphans.items()):
        event(
            log, logging.WARNING, "alerts wait for a subscriber or channel no longer configured",
            subscriber=name, channel=channel, alerts=waiting,
            then="the dead-letter list when due, unless the config names them again",
        )  # fmt: skip
    return moved


def _unfollowed(
    store: Store, alert: Alert, subscriber: Subscriber, rules: dict[str, Rule], known: set[str]
) -> Alert | None:
    """The waiting alert as it stands under the rules its subscriber follows now: as it
    is while the subscriber follows its rule (or the rule is no longer loaded: renamed or
    removed, which cannot be told apart; or a name the subscriber follows names no rule,
    a typo that would withdraw its news: not in `known`, the `followable` names); else
    under the first rule its news item matched that the subscriber follows, not quietly
    (its story and terms); else None, withdrawn (deleted, so that a later match of a
    followed rule alerts). Raises `StoreError`."""
    rule = rules.get(alert.rule)
    if rule is None or follows(subscriber, rule) or not known.issuperset(subscriber.follow):
        return alert
    followed = followed_matches(store.matches_for(alert.cluster), subscriber, rules)
    instead = next((m for m in followed if not m.quiet), None)
    if instead is None:
        store.withdraw_alert(alert.id)
        event(log, logging.INFO, "alert withdrawn", alert=alert.id, subscriber=subscriber.name,
              channel=alert.channel, cluster=alert.cluster, rule=alert.rule,
              reason="the subscriber no longer follows the rule")  # fmt: skip
        return None
    store.retarget_alert(alert.id, instead)
    return replace(alert, rule=instead.rule, story=instead.story, terms=instead.terms)


def router(
    rules: LiveRules, subscribers: tuple[Subscriber, ...]
) -> Callable[[Match], list[AlertPlan]]:
    """`route` bound to the rules in force (read at each match) and these subscribers."""

    def route_match(match: Match) -> list[AlertPlan]:
        named = {r.name: r for r in rules.matcher.ruleset.rules}
        return route(match, named, subscribers)

    return route_match
