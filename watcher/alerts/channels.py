"""Send one rendered message through the channel its alert names: email, Slack, Teams, a
webhook or the console.

In: the config, the shared httpx client, the alert, its subscriber and its message. Raises
`DeliveryError` (see `mail` and `webhooks`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import httpx

from watcher.alerts.emails import email_message, envelope
from watcher.alerts.mail import SmtpSession, refusal
from watcher.alerts.render import Message
from watcher.alerts.teams import teams_cards
from watcher.alerts.webhooks import post_json
from watcher.config import Config, Subscriber
from watcher.errors import DeliveryError
from watcher.models import Alert

Console = Callable[[Message, Alert], None]


async def _post_parts(
    client: httpx.AsyncClient, url: str, parts: Sequence[dict[str, Any]], name: str, key: str,
    config: Config,
) -> None:  # fmt: skip
    """A message's posts in turn (Slack messages of 50 blocks, Teams cards), each with an
    idempotency key of its own: the first the alert's, the next ones with `-1`, `-2`..."""
    for part, payload in enumerate(parts):
        suffix = f"-{part}" if part else ""
        await post_json(client, url, payload, name, key + suffix, limit=config.poll.total_timeout)


async def send_message(
    config: Config,
    client: httpx.AsyncClient,
    console: Console | None,
    alert: Alert,
    subscriber: Subscriber,
    message: Message,
    session: SmtpSession | None = None,
) -> None:
    """Send one message through the channel `alert.channel` names; raises DeliveryError.
    An email goes through `session`, else through a connection of its own, to the
    subscriber's addresses (only those refused for now last time, `alert.retry_to`, when
    set); a server that refused some raises `RecipientsRefused`."""
    kind = "notice" if alert.notices else "digest" if alert.digest else "alert"
    # the story an alert is about never changes (its cluster may merge): a key for retries
    about = alert.id if alert.notices else alert.story
    key = f"watcher-{kind}-{alert.subscriber}-{alert.channel}-{about}".replace(" ", "_")
    if alert.channel == "slack" and subscriber.slack:
        await _post_parts(client, subscriber.slack, message.slack, "Slack webhook", key, config)
    elif alert.channel == "teams" and subscriber.teams:
        await _post_parts(client, subscriber.teams, teams_cards(message), "Teams webhook", key,
                          config)  # fmt: skip
    elif alert.channel == "webhook" and subscriber.webhook:
        await post_json(
            client, subscriber.webhook, message.json, "webhook", key,
            limit=config.poll.total_timeout, secret=subscriber.webhook_secret,
        )  # fmt: skip
    elif alert.channel == "email" and subscriber.email:
        if config.smtp is None:
            raise DeliveryError("email channel but no smtp: section in the config", transient=False)
        to = envelope(subscriber.email, alert.retry_to)
        if not to:  # the addresses left to reach are no longer the subscriber's
            return
        about = alert.id if alert.digest or alert.notices else alert.cluster
        message_id = f"<{kind}-{alert.subscriber}-{about}@watcher>".replace(" ", "_")  # stable
        mail = email_message(config.smtp, subscriber.email, message, message_id)
        own = session is None
        session = session or SmtpSession(config.smtp)
        try:
            refused = await session.send(mail, to)
        finally:
            if own:
                await session.close()
        if refused:
            raise refusal(session.where, to, refused)
    elif alert.channel == "console" and console is not None:
        console(message, alert)
    else:
        raise DeliveryError(
            f"subscriber {subscriber.name!r} has no {alert.channel} channel now", transient=False
        )
