"""The one exception tree of watcher.

    WatcherError
    ├── ConfigError    the config file is invalid (carries every problem found)
    ├── FetchError     a feed could not be fetched (carries the url, status, Retry-After)
    │   └── FeedGoneError   the server answered 410 Gone: the feed is disabled
    ├── ParseError     fetched bytes hold no usable feed
    ├── RuleError      rule files are invalid (carries every problem, by file:line:col)
    ├── DeliveryError  an alert could not be delivered (transient or not, Retry-After)
    ├── InputError     a JSON-lines or OPML input file is invalid (carries path and line)
    └── StoreError     the database refused a read or a write

Library errors (httpx, sqlite3, yaml) are translated once, where they occur, with
``raise ... from exc``; nothing past `fetch` sees httpx and nothing past `store` sees sqlite3.
"""

from __future__ import annotations

from dataclasses import dataclass


class WatcherError(Exception):
    """Base of every error watcher raises on purpose."""


@dataclass(frozen=True, kw_only=True)
class ConfigProblem:
    """One problem in a config file, placed by line and field."""

    path: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class ConfigError(WatcherError):
    """The config file is invalid; `problems` lists every problem found."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class FetchError(WatcherError):
    """A feed could not be fetched."""

    def __init__(
        self,
        message: str,
        *,
        url: str,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.url = url
        self.status = status
        self.retry_after = retry_after
        super().__init__(message)


class FeedGoneError(FetchError):
    """The server said 410 Gone: the feed should not be polled again."""


class ServerHeldError(FetchError):
    """Not polled: its server asked another feed's poll to wait (429), `retry_after` more
    seconds. No fault of the feed's."""


class ParseError(WatcherError):
    """The fetched bytes hold no usable feed."""


@dataclass(frozen=True, kw_only=True)
class RuleProblem:
    """One problem in a rule file, placed by line and column (1-based)."""

    path: str
    line: int | None
    column: int | None
    message: str

    def __str__(self) -> str:
        where = self.path
        if self.line:
            where += f":{self.line}" + (f":{self.column}" if self.column else "")
        return f"{where}: {self.message}"


class RuleError(WatcherError):
    """The rule files are invalid; `problems` lists every problem found."""

    def __init__(self, problems: list[RuleProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class DeliveryError(WatcherError):
    """An alert could not be delivered; `transient` failures are retried. A `server_wide`
    failure is the server's, not the message's (no connection, a timeout, HTTP 429 or 5xx,
    SMTP 421): the next message to that server would fail as well."""

    def __init__(
        self,
        message: str,
        *,
        transient: bool,
        retry_after: float | None = None,
        server_wide: bool = False,
    ) -> None:
        self.transient = transient
        self.retry_after = retry_after
        self.server_wide = server_wide
        super().__init__(message)


class RecipientsRefused(DeliveryError):
    """The SMTP server refused some of an email's recipients, or all (`reached` empty):
    `retry_to` those refused for now (4xx), to be tried again alone; the rest for good."""

    def __init__(self, message: str, *, reached: tuple[str, ...], retry_to: tuple[str, ...]):
        super().__init__(message, transient=bool(retry_to))
        self.reached = reached
        self.retry_to = retry_to


class InputError(WatcherError):
    """An input file is unusable: a line of a JSON-lines file, or an OPML file."""

    def __init__(self, message: str, *, path: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")


class StoreError(WatcherError):
    """The database refused a read or a write."""


class ServiceError(WatcherError):
    """The service cannot start: its HTTP endpoint cannot listen, say."""


class DatabaseBusy(ServiceError):
    """Another `run` or `once` holds the database: try again later (exit code 75)."""
