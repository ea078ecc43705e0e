"""Load and check the YAML config file.

In: a path to a YAML file (and the process environment, for ``${VAR}`` references).
Out: a frozen `Config`. Relative paths in the file are resolved against the file's folder.
Raises: `ConfigError` listing every problem, each with file, line and field.
"""

from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from watcher.alerts.digest import check_schedule
from watcher.dedupe import ClusterSettings
from watcher.errors import ConfigError, ConfigProblem
from watcher.models import FeedConfig

DEFAULT_PATH = "watcher.yaml"
DEFAULT_LISTEN = ("127.0.0.1", 8080)
LOG_FORMATS = ("keyvalue", "json")
MIN_INTERVAL = 60.0
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)?\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


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
    user_agent: str | None = None


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


@dataclass(frozen=True, kw_only=True)
class Subscriber:
    """Who gets alerts, for which rules, through which channels."""

    name: str
    follow: tuple[str, ...] = ("*",)  # rule names, rule tags, or "*"
    mode: str = "immediate"
    email: str | None = None
    slack: str | None = None  # an incoming-webhook URL: a secret, give it as ${ENV_VAR}
    webhook: str | None = None  # a URL that gets each alert as JSON
    console: bool = False
    min_priority: int = 1
    digest: str = "daily 08:00"  # digest mode: hourly, or daily HH:MM
    timezone: str = "UTC"  # IANA zone: digest times and the times shown in alerts
    max_per_hour: int | None = None  # immediate mode: more roll into the next hourly digest

    def channels(self) -> tuple[str, ...]:
        found = [c for c in ("email", "slack", "webhook") if getattr(self, c)]
        return (*found, "console") if self.console else tuple(found)


@dataclass(frozen=True, kw_only=True)
class DeliverySettings:
    max_attempts: int = 8  # then the alert goes to the dead-letter list
    retry_base: float = 30.0  # seconds before the first retry; doubled each time
    retry_max: float = 3600.0


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
    clustering: ClusterSettings = field(default_factory=ClusterSettings)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    listen: tuple[str, int] = DEFAULT_LISTEN  # the HTTP endpoint of `watcher run`
    log_format: str = "keyvalue"  # or json

    def secrets(self) -> list[str]:
        """Every value that must never be logged: the SMTP password and webhook URLs."""
        found = [self.smtp.password] if self.smtp and self.smtp.password else []
        for s in self.subscribers:
            found += [url for url in (s.slack, s.webhook) if url]
        return found


def parse_listen(value: str) -> tuple[str, int]:
    """'HOST:PORT' (or '[v6]:PORT'); port 0 takes any free port."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"{value!r} is not HOST:PORT, such as 127.0.0.1:8080")
    return host.strip("[]") or "0.0.0.0", int(port)


def default_rules() -> Path:
    """The rule files shipped inside the package (the project's rules/ folder)."""
    spec = importlib.util.find_spec("watcher.default_rules")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    # an editable install maps the folder but cannot find a data-only subpackage
    return Path(__file__).resolve().parent.parent / "rules"


def parse_duration(value: object) -> float:
    """Seconds in '90s', '10m', '6h', '2d', '1w' or a bare number of seconds."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, int | float):
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration such as 90s, 10m, 6h or 2d")
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null")


def resolve_config_path(cli_value: str | None) -> Path:
    """The config path: --config, else $WATCHER_CONFIG, else ./watcher.yaml."""
    return Path(cli_value or os.environ.get("WATCHER_CONFIG") or DEFAULT_PATH)


def load_optional_config(cli_value: str | None) -> Config | None:
    """The config when one is named (--config, $WATCHER_CONFIG) or ./watcher.yaml exists."""
    path = resolve_config_path(cli_value)
    if cli_value is None and "WATCHER_CONFIG" not in os.environ and not path.exists():
        return None
    return load_config(path)


def load_config(path: Path, env: dict[str, str] | None = None) -> Config:
    """Read, expand and check the config file at `path`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        problem = ConfigProblem(
            path=str(path), line=None, field="", message=exc.strerror or str(exc)
        )
        raise ConfigError([problem]) from exc
    reader = _Reader(path, os.environ if env is None else env)
    root = reader.load(text)
    config = reader.build(root)
    if reader.problems:
        raise ConfigError(reader.problems)
    assert config is not None
    return config


class _Reader:
    """Walks the YAML node tree, keeping line numbers for messages."""

    def __init__(self, path: Path, env: Any) -> None:
        self.path = path
        self.base = path.resolve().parent
        self.env = env
        self.problems: list[ConfigProblem] = []

    def problem(self, node: yaml.Node | None, field_name: str, message: str) -> None:
        line = node.start_mark.line + 1 if node is not None else None
        self.problems.append(
            ConfigProblem(path=str(self.path), line=line, field=field_name, message=message)
        )

    def load(self, text: str) -> yaml.Node | None:
        try:
            return yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            reason = getattr(exc, "problem", None) or str(exc)
            self.problems.append(
                ConfigProblem(
                    path=str(self.path), line=line, field="", message=f"invalid YAML: {reason}"
                )
            )
            return None

    # -- typed accessors -------------------------------------------------------------------

    def mapping(self, node: yaml.Node | None, name: str, known: set[str]) -> dict[str, yaml.Node]:
        if node is None:
            return {}
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, name, "must be a mapping of keys to values")
            return {}
        out: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            where = f"{name}.{key}" if name else key
            if key not in known:
                hint = ", ".join(sorted(known))
                self.problem(key_node, where, f"unknown key; expected one of: {hint}")
            elif key in out:
                self.problem(key_node, where, "given twice")
            else:
                out[key] = value_node
        return out

    def scalar(self, node: yaml.Node, name: str) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            return node
        value = yaml.SafeLoader("").construct_object(node)  # type: ignore[no-untyped-call]
        return self.expand(value, node, name) if isinstance(value, str) else value

    def expand(self, value: str, node: yaml.Node, name: str) -> str:
        def replace(match: re.Match[str]) -> str:
            var, default = match.group(1), match.group(2)
            if var in self.env:
                return str(self.env[var])
            if default is not None:
                return default
            self.problem(
                node, name, f"environment variable {var} is not set (referenced as ${{{var}}})"
            )
            return ""

        return _ENV_REF.sub(replace, value)

    def string(self, node: yaml.Node | None, name: str, *, required: bool = False) -> str | None:
        if node is None or (isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null")):
            if required:
                self.problem(node, name, "is required")
            return None
        value = self.scalar(node, name)
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            self.problem(node, name, "must be a string")
            return None
        text = str(value).strip()
        if required and not text:
            self.problem(node, name, "must not be empty")
            return None
        return text or None

    def number(self, node: yaml.Node | None, name: str, default: float, minimum: float) -> float:
        if node is None:
            return default
        value = self.scalar(node, name)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
            self.problem(node, name, f"must be a number of at least {minimum:g}")
            return default
        return float(value)

    def duration(self, node: yaml.Node | None, name: str, default: float, minimum: float) -> float:
        if node is None:
            return default
        try:
            seconds = parse_duration(self.scalar(node, name))
        except ValueError as exc:
            self.problem(node, name, str(exc))
            return default
        if seconds < minimum:
            self.problem(node, name, f"must be at least {minimum:g} seconds (got {seconds:g})")
            return default
        return seconds

    def string_list(self, node: yaml.Node | None, name: str) -> tuple[str, ...]:
        if node is None:
            return ()
        if isinstance(node, yaml.ScalarNode):
            value = self.string(node, name)
            return (value,) if value else ()
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, name, "must be a list of strings")
            return ()
        items = (self.string(item, f"{name}[{i}]") for i, item in enumerate(node.value))
        return tuple(item for item in items if item)

    def file_path(self, node: yaml.Node | None, name: str, default: str) -> Path:
        text = self.string(node, name) or default
        path = Path(text).expanduser()
        return path if path.is_absolute() else self.base / path

    # -- sections --------------------------------------------------------------------------

    def build(self, root: yaml.Node | None) -> Config | None:
        if root is None and self.problems:
            return None
        top = self.mapping(
            root,
            "",
            {
                "state",
                "rules",
                "feeds",
                "poll",
                "smtp",
                "subscribers",
                "retention_days",
                "clustering",
                "delivery",
                "backfill",
                "listen",
                "log_format",
            },
        )
        poll = self.poll(top.get("poll"))
        backfill = self.backfill(top.get("backfill"), "backfill", 24 * 3600.0)
        feeds = self.feeds(top.get("feeds"), poll, backfill)
        return Config(
            path=self.path,
            state=self.file_path(top.get("state"), "state", "state/watcher.db"),
            rules=self.rules_folder(top.get("rules")),
            feeds=feeds,
            poll=poll,
            smtp=self.smtp(top.get("smtp")),
            subscribers=self.subscribers(top.get("subscribers")),
            retention_days=int(self.number(top.get("retention_days"), "retention_days", 30, 1)),
            clustering=self.clustering(top.get("clustering")),
            delivery=self.delivery(top.get("delivery")),
            listen=self.listen(top.get("listen")),
            log_format=self.choice(top.get("log_format"), "log_format", LOG_FORMATS),
        )

    def rules_folder(self, node: yaml.Node | None) -> Path:
        """rules:, else rules/ beside the config file, else the rules shipped in the package."""
        if node is not None:
            return self.file_path(node, "rules", "rules/")
        beside = self.base / "rules"
        return beside if beside.is_dir() else default_rules()

    def listen(self, node: yaml.Node | None) -> tuple[str, int]:
        text = self.string(node, "listen")
        if text is None:
            return DEFAULT_LISTEN
        try:
            return parse_listen(text)
        except ValueError as exc:
            self.problem(node, "listen", str(exc))
            return DEFAULT_LISTEN

    def choice(self, node: yaml.Node | None, name: str, allowed: tuple[str, ...]) -> str:
        text = self.string(node, name)
        if text is None:
            return allowed[0]
        if text not in allowed:
            self.problem(node, name, f"{text!r} is not one of {', '.join(allowed)}")
        return text

    def delivery(self, node: yaml.Node | None) -> DeliverySettings:
        d = DeliverySettings()
        m = self.mapping(node, "delivery", {"max_attempts", "retry_base", "retry_max"})
        return DeliverySettings(
            max_attempts=int(self.number(m.get("max_attempts"), "delivery.max_attempts", 8, 1)),
            retry_base=self.duration(m.get("retry_base"), "delivery.retry_base", d.retry_base, 1),
            retry_max=self.duration(m.get("retry_max"), "delivery.retry_max", d.retry_max, 1),
        )

    def clustering(self, node: yaml.Node | None) -> ClusterSettings:
        d = ClusterSettings()
        keys = {
            "window", "reprint_lead", "reprint_title", "same_event_terms", "same_event_weight",
            "same_event_dice", "max_postings",
        }  # fmt: skip
        m = self.mapping(node, "clustering", keys)

        def ratio(key: str, default: float, top: float = 100.0) -> float:
            value = self.number(m.get(key), f"clustering.{key}", default, 0)
            if value > top:
                self.problem(m.get(key), f"clustering.{key}", f"must be at most {top:g}")
                return default
            return value

        return ClusterSettings(
            window=self.duration(m.get("window"), "clustering.window", d.window, 60),
            reprint_lead=ratio("reprint_lead", d.reprint_lead),
            reprint_title=ratio("reprint_title", d.reprint_title),
            same_event_terms=int(
                self.number(m.get("same_event_terms"), "clustering.same_event_terms", 3, 1)
            ),
            same_event_weight=self.number(
                m.get("same_event_weight"), "clustering.same_event_weight", d.same_event_weight, 0
            ),
            same_event_dice=ratio("same_event_dice", d.same_event_dice, 1.0),
            max_postings=int(
                self.number(m.get("max_postings"), "clustering.max_postings", d.max_postings, 10)
            ),
        )

    def poll(self, node: yaml.Node | None) -> PollSettings:
        d = PollSettings()
        keys = {
            "interval", "jitter", "concurrency", "per_host", "connect_timeout", "read_timeout",
            "total_timeout", "max_bytes", "max_redirects", "max_backoff", "user_agent",
        }  # fmt: skip
        m = self.mapping(node, "poll", keys)
        return PollSettings(
            interval=self.duration(m.get("interval"), "poll.interval", d.interval, MIN_INTERVAL),
            jitter=self.duration(m.get("jitter"), "poll.jitter", d.jitter, 0),
            concurrency=int(
                self.number(m.get("concurrency"), "poll.concurrency", d.concurrency, 1)
            ),
            per_host=int(self.number(m.get("per_host"), "poll.per_host", d.per_host, 1)),
            connect_timeout=self.duration(
                m.get("connect_timeout"), "poll.connect_timeout", d.connect_timeout, 0.1
            ),
            read_timeout=self.duration(
                m.get("read_timeout"), "poll.read_timeout", d.read_timeout, 0.1
            ),
            total_timeout=self.duration(
                m.get("total_timeout"), "poll.total_timeout", d.total_timeout, 0.1
            ),
            max_bytes=int(self.number(m.get("max_bytes"), "poll.max_bytes", d.max_bytes, 1024)),
            max_redirects=int(self.number(m.get("max_redirects"), "poll.max_redirects", 5, 0)),
            max_backoff=self.duration(m.get("max_backoff"), "poll.max_backoff", d.max_backoff, 60),
            user_agent=self.string(m.get("user_agent"), "poll.user_agent"),
        )

    def backfill(self, node: yaml.Node | None, name: str, default: float | None) -> float | None:
        """A duration, or 'all': on a feed's first poll, how old a story may be and alert."""
        if node is None:
            return default
        if isinstance(node, yaml.ScalarNode) and str(node.value).strip().lower() == "all":
            return None
        return self.duration(node, name, default or 0.0, 0)

    def feeds(
        self, node: yaml.Node | None, poll: PollSettings, backfill: float | None
    ) -> tuple[FeedConfig, ...]:
        if node is None or _is_null(node):
            return ()
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, "feeds", "must be a list of feeds")
            return ()
        feeds: list[FeedConfig] = []
        names: set[str] = set()
        for i, item in enumerate(node.value):
            where = f"feeds[{i}]"
            m = self.mapping(item, where, {"name", "url", "interval", "tags", "source", "backfill"})
            name = self.string(m.get("name"), f"{where}.name", required=True)
            url = self.feed_url(m.get("url"), f"{where}.url")
            interval = self.duration(
                m.get("interval"), f"{where}.interval", poll.interval, MIN_INTERVAL
            )
            if name and name in names:
                self.problem(
                    m.get("name"), f"{where}.name", f"another feed is already named {name!r}"
                )
            if name and url:
                names.add(name)
                feeds.append(
                    FeedConfig(
                        name=name,
                        url=url,
                        interval=interval,
                        tags=self.string_list(m.get("tags"), f"{where}.tags"),
                        source=self.string(m.get("source"), f"{where}.source"),
                        backfill=self.backfill(m["backfill"], f"{where}.backfill", backfill)
                        if "backfill" in m
                        else backfill,
                    )
                )
        return tuple(feeds)

    def feed_url(self, node: yaml.Node | None, name: str) -> str | None:
        url = self.string(node, name, required=True)
        if url is None:
            return None
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.netloc:
            return url
        if parts.scheme == "file":
            local = Path(parts.netloc + parts.path) if parts.netloc else Path(parts.path)
            return (local if local.is_absolute() else self.base / local).resolve().as_uri()
        self.problem(node, name, f"{url!r} is not an http(s):// or file: URL")
        return None

    def smtp(self, node: yaml.Node | None) -> SmtpSettings | None:
        if node is None:
            return None
        keys = {"host", "port", "security", "username", "password", "from", "ca_file", "timeout"}
        m = self.mapping(node, "smtp", keys)
        host = self.string(m.get("host"), "smtp.host", required=True)
        security = self.string(m.get("security"), "smtp.security") or "starttls"
        if security not in ("none", "starttls", "tls"):
            self.problem(m.get("security"), "smtp.security", "must be none, starttls or tls")
        default_port = {"none": 25, "starttls": 587, "tls": 465}.get(security, 587)
        return SmtpSettings(
            host=host or "",
            port=int(self.number(m.get("port"), "smtp.port", default_port, 1)),
            security=security,
            username=self.string(m.get("username"), "smtp.username"),
            password=self.string(m.get("password"), "smtp.password"),
            sender=self.string(m.get("from"), "smtp.from") or "watcher@localhost",
            ca_file=self.file_path(m["ca_file"], "smtp.ca_file", "") if "ca_file" in m else None,
            timeout=self.duration(m.get("timeout"), "smtp.timeout", 30.0, 1),
        )

    def subscriber(self, item: yaml.Node, where: str) -> Subscriber | None:
        keys = {
            "name", "follow", "mode", "email", "slack", "webhook", "console", "min_priority",
            "digest", "timezone", "max_per_hour",
        }  # fmt: skip
        m = self.mapping(item, where, keys)
        name = self.string(m.get("name"), f"{where}.name", required=True)
        mode = self.string(m.get("mode"), f"{where}.mode") or "immediate"
        if mode not in ("immediate", "digest"):
            self.problem(m.get("mode"), f"{where}.mode", "must be immediate or digest")
        digest = self.string(m.get("digest"), f"{where}.digest") or "daily 08:00"
        if (wrong := check_schedule(digest)) is not None:
            self.problem(m.get("digest"), f"{where}.digest", wrong)
        timezone = self.string(m.get("timezone"), f"{where}.timezone") or "UTC"
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            wrong = f"{timezone!r} is not an IANA time zone such as Europe/Berlin"
            self.problem(m.get("timezone"), f"{where}.timezone", wrong)
            timezone = "UTC"
        cap = None
        if "max_per_hour" in m:
            cap = int(self.number(m["max_per_hour"], f"{where}.max_per_hour", 0, 1)) or None
        console = self.scalar(m["console"], f"{where}.console") if "console" in m else False
        subscriber = Subscriber(
            name=name or "",
            follow=self.string_list(m.get("follow"), f"{where}.follow") or ("*",),
            mode=mode,
            email=self.string(m.get("email"), f"{where}.email"),
            slack=self.string(m.get("slack"), f"{where}.slack"),
            webhook=self.string(m.get("webhook"), f"{where}.webhook"),
            console=bool(console),
            min_priority=int(self.number(m.get("min_priority"), f"{where}.min_priority", 1, 1)),
            digest=digest,
            timezone=timezone,
            max_per_hour=cap,
        )
        for key in ("slack", "webhook"):
            url = getattr(subscriber, key)
            if url and urlsplit(url).scheme not in ("http", "https"):
                self.problem(m.get(key), f"{where}.{key}", "must be an http(s) URL")
        if name and not subscriber.channels():
            self.problem(item, where, "has no channel: give email, slack, webhook or console: true")
        return subscriber if name else None

    def subscribers(self, node: yaml.Node | None) -> tuple[Subscriber, ...]:
        if node is None or _is_null(node):
            return ()
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, "subscribers", "must be a list of subscribers")
            return ()
        out: list[Subscriber] = []
        for i, item in enumerate(node.value):
            subscriber = self.subscriber(item, f"subscribers[{i}]")
            if subscriber is None:
                continue
            if subscriber.name in {o.name for o in out}:
                self.problem(
                    item,
                    f"subscribers[{i}].name",
                    f"another subscriber is named {subscriber.name!r}",
                )
            out.append(subscriber)
        return tuple(out)
