"""Deliver the outbox: due alerts are sent once each, retried with backoff, or dead-lettered.

In: the store (the outbox), the config (subscribers' addresses, SMTP, delivery settings),
the rules in force (to highlight matched words) and a shared httpx client.
Out: `Delivery` results; every state change is committed as it happens:
'sending' (and the send counted) before the network call, 'sent' after it. A crash between
the two leaves the alert 'sending'; `requeue_sending` on start sends it again. That window,
a send that reached the channel but was not yet recorded, is the only way an alert repeats.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

import httpx

from watcher.alerts.channels import Console, send_message
from watcher.alerts.compose import Composer
from watcher.alerts.lanes import (
    Delivery,
    Hold,
    Lane,
    as_delivery_error,
    backoff,
    lane_of,
    longest_sender_wait,
    next_hold,
    round_name,
)
from watcher.alerts.mail import SmtpSession
from watcher.alerts.render import Message
from watcher.config import Config, Subscriber
from watcher.errors import DeliveryError, RecipientsRefused
from watcher.logs import event
from watcher.models import Alert, Lanes
from watcher.rules.live import LiveRules
from watcher.store import Store

log = logging.getLogger("watcher.alerts")


class Sender:
    def __init__(
        self,
        *,
        store: Store,
        config: Config,
        client: httpx.AsyncClient,
        clock: Callable[[], datetime],
        rules: LiveRules | None = None,
        console: Console | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.client = client
        self.clock = clock
        self.console = console
        self.compose = Composer(store, rules)
        self.holds: dict[Lane, Hold] = {}  # by lane (`lanes.lane_of`)
        self.sending: set[Lane] = set()  # lanes in a round (`start_due`)
        self.delivered: set[Lane] = set()  # lanes a send went through on
        self.use_config(config)

    def use_config(self, config: Config) -> None:
        """Send with this config's subscribers, SMTP and delivery settings from now on; a
        held lane is tried again at once, since the new config may have mended it (its
        hold ended, not forgotten: a send that goes requeues its failed alerts)."""
        self.config = config
        self.subscribers = {s.name: s for s in config.subscribers}
        self.compose.subscribers = self.subscribers
        self.longest_wait = longest_sender_wait(config)
        now = self.clock()
        self.holds = {lane: Hold(0, now, hold.error) for lane, hold in self.holds.items()}

    async def deliver_due(self, limit: int = 1000, channel: str | None = None) -> list[Delivery]:
        """Send every alert that is due (on `channel`, when given), each subscriber's digest
        as one message, and return when every lane's round has ended (see `start_due`)."""
        done = await asyncio.gather(*self.start_due(limit, channel))
        return [delivery for lane in done for delivery in lane]

    def start_due(
        self, limit: int = 1000, channel: str | None = None
    ) -> list[asyncio.Task[list[Delivery]]]:
        """Start a round, a task each, on every lane with alerts due (on `channel`, when
        given) that is neither held nor in a round already. Each server has a lane of its
        own (`lanes.lane_of`), and the lanes run at once: an SMTP server that hangs until its
        timeout holds up no Slack alert, and one subscriber's hung webhook no other's. Within
        a lane messages go one at a time, each subscriber's digest as one; alerts that fall
        due on a lane during its round wait for the next. When its server fails (down, hung, a
        429), the lane stops and is held with backoff (`_hold_if_server`): the rest wait,
        untried, and are not each held for the same timeout. A message's own failure (a
        recipient refused for now) is retried alone. `watcher run` starts rounds without
        waiting for them, so one lane's hung server delays no other lane's next alert."""
        now = self.clock()
        skip = [lane for lane in self.holds if self._held(lane, now)] + sorted(self.sending)
        due = self.store.due_alerts(now, limit, channel, skip, beyond=now + self.longest_wait)
        lanes: dict[Lane, list[Alert | list[Alert]]] = {}
        digests: dict[tuple[str, str, tuple[str, ...]], list[Alert]] = {}
        for alert in due:
            lane = lanes.setdefault(lane_of(alert), [])
            key = (alert.subscriber, alert.channel, alert.retry_to)
            if not alert.digest:
                lane.append(alert)
            elif key in digests:  # a digest is one message: one item of its lane
                digests[key].append(alert)
            else:
                digests[key] = [alert]
                lane.append(digests[key])
        rounds = []
        for name, items in lanes.items():
            task = asyncio.create_task(self._deliver_lane(items, name), name=round_name(name))
            self.sending.add(name)  # until the task ends, even cancelled before it began
            task.add_done_callback(partial(self._round_ended, name))
            rounds.append(task)
        return rounds

    def _round_ended(self, lane: Lane, _: asyncio.Task[list[Delivery]]) -> None:
        self.sending.discard(lane)

    async def _deliver_lane(self, lane: list[Alert | list[Alert]], key: Lane) -> list[Delivery]:
        """One lane's alerts and digests in turn, until its server fails (and
        `_hold_if_server` holds the lane). The email lane's messages share one SMTP
        connection."""
        smtp = self.config.smtp
        session = SmtpSession(smtp) if smtp is not None and key[0] == "email" else None
        results: list[Delivery] = []
        try:
            for item in lane:
                if isinstance(item, list):
                    sent = await self.deliver_digest(item, session)
                else:
                    sent = [await self.deliver(item, session)]
                results += sent
                if self._held(key, self.clock()):
                    break
        finally:
            if session is not None:
                await session.close()
        return results

    async def deliver_digest(
        self, alerts: list[Alert], session: SmtpSession | None = None
    ) -> list[Delivery]:
        """One message for all of a subscriber's due digest alerts on one channel; an
        email through `session` if given."""
        claimed = [self.store.mark_sending(a.id) for a in alerts]
        items, gone = self.compose.digest_items([a for a in claimed if a is not None])
        lost = [self._failed(alert, exc) for alert, exc in gone]
        alerts = [item[0] for item in items]
        if not alerts:
            return lost
        first = alerts[0]
        subscriber = self.subscribers.get(first.subscriber)
        try:
            if subscriber is None:
                raise DeliveryError(
                    f"subscriber {first.subscriber!r} is no longer configured", transient=False
                )
            await self.send(first, subscriber, self.compose.digest(subscriber, items), session)
        except Exception as exc:  # none may leave its alerts 'sending'
            error = as_delivery_error(exc, f"digest of alert {first.id}")
            return lost + self._not_sent(alerts, error)
        return lost + self._sent(alerts)

    def _sent(self, alerts: list[Alert], note: str | None = None) -> list[Delivery]:
        """Record one message (an alert, or a digest of `alerts`) as sent, with `note`."""
        now, first = self.clock(), alerts[0]
        for alert in alerts:
            self.store.mark_sent(alert.id, now, note)
        self._resume(lane_of(first))
        self.delivered.add(lane_of(first))
        if first.digest:
            event(
                log, logging.INFO, "digest sent",
                subscriber=first.subscriber, channel=first.channel, alerts=len(alerts),
            )  # fmt: skip
        else:
            event(
                log, logging.INFO, "alert sent", alert=first.id, subscriber=first.subscriber,
                channel=first.channel, cluster=first.cluster, rule=first.rule,
            )  # fmt: skip
        return [Delivery(a.id, a.subscriber, a.channel, "sent", note) for a in alerts]

    def _not_sent(self, alerts: list[Alert], error: DeliveryError) -> list[Delivery]:
        """One message (an alert, or a digest of `alerts`) failed with `error`: each alert
        is retried or dead, and a server that failed holds its lane (one failure of the
        server). Some recipients that refused it for good while others took it make it
        sent, with the refusal noted; those that refused it for now get the retry alone."""
        if isinstance(error, RecipientsRefused) and error.reached and not error.retry_to:
            event(
                log, logging.WARNING, "recipient refused", alert=alerts[0].id,
                subscriber=alerts[0].subscriber, channel=alerts[0].channel, error=str(error),
            )  # fmt: skip
            return self._sent(alerts, str(error))
        held = self.holds.get(lane_of(alerts[0]))
        # the server failed the lane's last send too, and none went since: it is down, and
        # this failure is not the alert's (an outage, however long, kills no alert)
        down = error.transient and error.server_wide and held is not None and held.failures > 0
        failed = [self._failed(alert, error, spent=not down) for alert in alerts]
        self._hold_if_server(alerts[0], error)
        return failed

    async def deliver(self, alert: Alert, session: SmtpSession | None = None) -> Delivery:
        """Send one alert; an email through `session` if given."""
        claimed = self.store.mark_sending(alert.id)
        if claimed is None:  # changed since it was read (a merge): nothing to send
            return Delivery(alert.id, alert.subscriber, alert.channel, "skipped")
        alert = claimed
        subscriber = self.subscribers.get(alert.subscriber)
        try:
            if subscriber is None:
                raise DeliveryError(
                    f"subscriber {alert.subscriber!r} is no longer configured", transient=False
                )
            await self.send(alert, subscriber, self.compose.message(alert), session)
        except Exception as exc:  # none may leave the alert 'sending'
            (delivery,) = self._not_sent([alert], as_delivery_error(exc, f"alert {alert.id}"))
            return delivery
        (delivery,) = self._sent([alert])
        return delivery

    def _failed(self, alert: Alert, exc: DeliveryError, *, spent: bool = True) -> Delivery:
        """A failed send: retried with backoff, or dead once it fails for good or spends its
        `max_attempts`; a failure not `spent` (a server known to be down) spends none."""
        attempts = alert.attempts + spent
        retry_at = None
        if exc.transient and (not spent or attempts < self.config.delivery.max_attempts):
            retry_at = self.clock() + backoff(
                self.config.delivery, max(attempts, 1), exc.retry_after
            )
        retry_to = exc.retry_to if isinstance(exc, RecipientsRefused) else None
        self.store.mark_failed(alert.id, str(exc), retry_at, retry_to, spent=spent)
        outcome = "retry" if retry_at else "dead"
        event(
            log, logging.WARNING, "alert failed", alert=alert.id, subscriber=alert.subscriber,
            channel=alert.channel, attempt=attempts, outcome=outcome, error=str(exc),
            **({} if spent else {"server_down": "attempt not spent"}),
        )  # fmt: skip
        return Delivery(alert.id, alert.subscriber, alert.channel, outcome, str(exc))

    def _hold_if_server(self, alert: Alert, exc: DeliveryError) -> None:
        """Hold the lane of a server that failed: the alerts behind the one that failed
        wait, untried, as a retry would, instead of each spending an attempt (and, with a
        hung server, a timeout) on a server that is down."""
        if not (exc.transient and exc.server_wide):
            return
        lane = lane_of(alert)
        hold = next_hold(self.holds.get(lane), exc, self.config.delivery, self.clock())
        self.holds[lane] = hold
        channel, subscriber = lane
        event(
            log, logging.WARNING, "delivery held", channel=channel, subscriber=subscriber or None,
            failures=hold.failures, until=hold.until.isoformat(timespec="seconds"),
        )  # fmt: skip

    def _resume(self, lane: Lane) -> None:
        """A send on the lane went: end its hold, and if it was held, make the alerts that
        failed on its server during the outage due now, not at the end of their own
        backoff (up to `retry_max`)."""
        if self.holds.pop(lane, None) is None:
            return
        channel, subscriber = lane
        requeued = self.store.retry_failed_now(self.clock(), lane)
        event(
            log, logging.INFO, "delivery resumed", channel=channel,
            subscriber=subscriber or None, requeued=requeued,
        )  # fmt: skip

    def lanes(self) -> Lanes:
        """The lanes failing (held, or due a probe: no send went since their server failed)
        and those a send went through on, for delivery notices."""
        failing = {lane: (hold.failures, hold.error) for lane, hold in self.holds.items()}
        return Lanes(failing, frozenset(self.delivered))

    def held_now(self) -> list[dict[str, Any]]:
        """The lanes held now, as `watcher status` shows them: channel, subscriber ('' for
        all of them), failures in a row, until when, and the last error."""
        now = self.clock()
        return [
            {"channel": channel, "subscriber": subscriber, "failures": hold.failures,
             "until": hold.until.isoformat(timespec="seconds"), "error": hold.error}
            for (channel, subscriber), hold in sorted(self.holds.items())
            if self._held((channel, subscriber), now)
        ]  # fmt: skip

    def _held(self, lane: Lane, now: datetime) -> bool:
        """Whether the lane is held now: not when its hold ends further ahead than any hold
        lasts, set before the clock went back."""
        held = self.holds.get(lane)
        return held is not None and now < held.until <= now + self.longest_wait

    async def send(
        self,
        alert: Alert,
        subscriber: Subscriber,
        message: Message,
        session: SmtpSession | None = None,
    ) -> None:
        await send_message(
            self.config, self.client, self.console, alert, subscriber, message, session
        )
