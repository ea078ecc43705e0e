"""What a config file sets, as frozen dataclasses (the whole file is a `Config`)."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from pathlib import Path

from watcher.dedupe import ClusterSettings
from watcher.models import FeedConfig, named_in

DEFAULT_LISTEN = ("127.0.0.1", 8080)


@dataclass(frozen=True, kw_only=True)
class PollSettings:
    """How feeds are fetched: defaults for every feed and the politeness limits."""

    interval: float = 600.0
    jitter: float = 30.0
    concurrency: int = 20
    per_host: int = 2
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    total_timeout: float = 60.0
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    max_backoff: float = 6 * 3600.0
    max_ttl: float = 0.0  # each feed's default `max_ttl`
    user_agent: str | None = None
    ca_file: Path | None = None  # trust this CA as well, for feeds and webhooks (a private CA)


@dataclass(frozen=True, kw_only=True)
class SmtpSettings:
    host: str
    port: int = 587
    security: str = "starttls"
    username: str | None = None
    password: str | None = None
    sender: str = "watcher@localhost"
    ca_file: Path | None = None  # trust this CA (PEM) as well, for a server with a private CA
    timeout: float = 30.0


CHANNELS = ("email", "slack", "teams", "webhook", "console")  # each a field of `Subscriber`


@dataclass(frozen=True, kw_only=True)
class Subscriber:
    """Who gets alerts, for which rules, through which channels."""

    name: str
    follow: tuple[str, ...] = ("*",)  # rule names, rule tags, or "*"
    mode: str = "immediate"
    email: str | None = None
    slack: str | None = None  # an incoming-webhook URL: a secret, give it as ${ENV_VAR}
    teams: str | None = None  # a Teams workflow's webhook URL: a secret too
    webhook: str | None = None  # a URL that gets each alert as JSON
    webhook_secret: str | None = None  # whsec_BASE64: webhook posts signed (Standard Webhooks)
    console: bool = False
    min_priority: int = 1
    digest: str = "daily 08:00"  # digest mode: hourly, daily/weekdays HH:MM, weekly DAY HH:MM
    timezone: str = "UTC"  # IANA zone: digest times and the times shown in alerts
    max_per_hour: int | None = None  # immediate mode: more roll into the next hourly digest
    feed_problems: bool = False  # told when a feed fails, is gone, is silent, drops, is old
    problem_feeds: tuple[str, ...] = ()  # of these feeds (names or tags) only; () every feed
    delivery_problems: bool = False  # also told when alerts go to the dead-letter list
    quiet_hours: str | None = None  # immediate mode: HH:MM-HH:MM, alerts wait for its end
    quiet_days: tuple[int, ...] = ()  # immediate mode: whole days of quiet hours (Monday 0)
    settle: float = 0.0  # immediate mode: seconds an alert waits for its news item's coverage

    def channels(self) -> tuple[str, ...]:
        return tuple(c for c in CHANNELS if getattr(self, c))

    def told_of(self, feed: FeedConfig) -> bool:
        """Whether the subscriber hears of the feed's problems (`feed_problems`)."""
        return self.feed_problems and (
            not self.problem_feeds or named_in(self.problem_feeds, feed.name, feed.tags)
        )


@dataclass(frozen=True, kw_only=True)
class DeliverySettings:
    max_attempts: int = 8  # then the alert goes to the dead-letter list
    retry_base: float = 30.0  # seconds before the first retry; doubled each time
    retry_max: float = 3600.0
    settle: float = 0.0  # the `settle` of an immediate subscriber that gives none


@dataclass(frozen=True, kw_only=True)
class Config:
    path: Path
    state: Path
    rules: Path
    feeds: tuple[FeedConfig, ...]
    poll: PollSettings = field(default_factory=PollSettings)
    smtp: SmtpSettings | None = None
    subscribers: tuple[Subscriber, ...] = ()
    retention_days: int = 30
    alert_retention_days: int = 365  # sent alerts of pruned news items, kept as history
    clustering: ClusterSettings = field(default_factory=ClusterSettings)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    listen: tuple[str, int] = DEFAULT_LISTEN  # the HTTP endpoint of `watcher run`
    log_format: str = "keyvalue"  # or json

    def secrets(self) -> list[str]:
        """Every value that must never be logged: the SMTP password, webhook URLs and
        secrets, and the values of feeds' headers that carry credentials (and a credential
        after its scheme, as in "Bearer TOKEN")."""
        found = [self.smtp.password] if self.smtp and self.smtp.password else []
        for s in self.subscribers:
            found += [value for value in (s.slack, s.teams, s.webhook, s.webhook_secret) if value]
        for feed in self.feeds:
            for name, value in feed.headers:
                if _SECRET_HEADER.search(name):
                    found += {value, value.rpartition(" ")[2]}
        return found


# header names that carry credentials: Authorization, Cookie, X-Api-Key, X-Auth-Token...
_SECRET_HEADER = re.compile(r"auth|cookie|key|token|secret|session|pass", re.IGNORECASE)


SECRET_PREFIX = "whsec_"  # of a Standard Webhooks secret, before its base64
MIN_KEY_BYTES = 16


def signing_key(secret: str) -> bytes:
    """The key of a Standard Webhooks secret, `whsec_` and the key in base64 (as
    standardwebhooks.com's libraries read it); ValueError when it is not one."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"must start with {SECRET_PREFIX}")
    encoded = secret.removeprefix(SECRET_PREFIX).rstrip("=")
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error:
        raise ValueError(f"must be {SECRET_PREFIX} followed by base64") from None
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"must hold a key of at least {MIN_KEY_BYTES} bytes (got {len(key)})")
    return key
