"""The sections of a config file (poll, smtp, clustering, ...) read into settings; the
feeds are read by `config.feeds`, the subscribers by `config.subscribers`.

In: the YAML node tree. Out: a `Config`, or problems noted on the reader.
"""

from __future__ import annotations

import importlib.util
from email.utils import getaddresses
from pathlib import Path

import yaml

from watcher.config.feeds import (
    MIN_INTERVAL,
    SILENT_AFTER,
    Ages,
    FeedsReader,
    header_problem,
    host_name_problem,
)
from watcher.config.settings import (
    DEFAULT_LISTEN,
    Config,
    DeliverySettings,
    PollSettings,
    SmtpSettings,
)
from watcher.config.subscribers import SubscribersReader, is_address_list
from watcher.dedupe import ClusterSettings
from watcher.normalise import ascii_digits

LOG_FORMATS = ("keyvalue", "json")
MIN_MAX_SPAN = 3600.0  # clustering.max_span, when not "off"


def parse_listen(value: str) -> tuple[str, int]:
    """'HOST:PORT' (or '[v6]:PORT'); port 0 takes any free port."""
    host, sep, port = value.rpartition(":")
    if not sep or not ascii_digits(port) or int(port) > 65535:
        raise ValueError(f"{value!r} is not HOST:PORT, such as 127.0.0.1:8080")
    if "/" in host:  # a URL: http://127.0.0.1:8080
        bare = host.rpartition("/")[2]
        raise ValueError(f"{value!r} is a URL, not HOST:PORT: write {bare}:{port}")
    return host.strip("[]") or "0.0.0.0", int(port)


def default_rules() -> Path:
    """The rule files shipped inside the package (the project's rules/ folder)."""
    spec = importlib.util.find_spec("watcher.default_rules")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    # an editable install maps the folder but cannot find a data-only subpackage
    return Path(__file__).resolve().parents[2] / "rules"


class ConfigReader(FeedsReader, SubscribersReader):
    """Reads each section of the file into its settings."""

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
                "alert_retention_days",
                "clustering",
                "delivery",
                "backfill",
                "max_age",
                "silent_after",
                "listen",
                "log_format",
            },
        )
        poll = self.poll(top.get("poll"))
        backfill = self.backfill(top.get("backfill"), "backfill", 24 * 3600.0)
        ages = Ages(
            backfill,
            self.max_age(top.get("max_age"), "max_age", None),
            self.silent_after(top.get("silent_after"), "silent_after", SILENT_AFTER),
        )
        feeds = self.feeds(top.get("feeds"), poll, ages)
        delivery = self.delivery(top.get("delivery"))
        return Config(
            path=self.path,
            state=self.file_path(top.get("state"), "state", "state/watcher.db"),
            rules=self.rules_folder(top.get("rules")),
            feeds=feeds,
            poll=poll,
            smtp=self.smtp(top.get("smtp")),
            subscribers=self.subscribers(top.get("subscribers"), delivery.settle),
            retention_days=int(
                self.number(top.get("retention_days"), "retention_days", 30, 1, 36500)
            ),
            alert_retention_days=int(
                self.number(top.get("alert_retention_days"), "alert_retention_days", 365, 1, 36500)
            ),
            clustering=self.clustering(top.get("clustering")),
            delivery=delivery,
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
        keys = {"max_attempts", "retry_base", "retry_max", "settle"}
        m = self.mapping(node, "delivery", keys)
        return DeliverySettings(
            max_attempts=int(self.number(m.get("max_attempts"), "delivery.max_attempts", 8, 1)),
            retry_base=self.duration(m.get("retry_base"), "delivery.retry_base", d.retry_base, 1),
            retry_max=self.duration(m.get("retry_max"), "delivery.retry_max", d.retry_max, 1),
            settle=self.settle(m.get("settle"), "delivery.settle"),
        )

    def clustering(self, node: yaml.Node | None) -> ClusterSettings:
        d = ClusterSettings()
        keys = {
            "window", "reprint_lead", "reprint_title", "same_event_terms", "same_event_weight",
            "same_event_dice", "max_postings", "max_span",
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
            max_span=self._age(
                m.get("max_span"),
                "clustering.max_span",
                d.max_span,
                no_limit="off",
                minimum=MIN_MAX_SPAN,
            ),
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
            "total_timeout", "max_bytes", "max_redirects", "max_backoff", "max_ttl", "user_agent",
            "ca_file",
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
            max_ttl=self.duration(m.get("max_ttl"), "poll.max_ttl", d.max_ttl, 0),
            user_agent=self._user_agent(m.get("user_agent")),
            ca_file=self.ca_file(m.get("ca_file"), "poll.ca_file"),
        )

    def _user_agent(self, node: yaml.Node | None) -> str | None:
        """A User-Agent header's value: one line of ASCII, as a feed's own headers."""
        agent = self.string(node, "poll.user_agent")
        if agent is not None and (problem := header_problem("User-Agent", agent)) is not None:
            self.problem(node, "poll.user_agent", problem)
            return None
        return agent

    def smtp(self, node: yaml.Node | None) -> SmtpSettings | None:
        if node is None:
            return None
        keys = {"host", "port", "security", "username", "password", "from", "ca_file", "timeout"}
        m = self.mapping(node, "smtp", keys)
        if not isinstance(node, yaml.MappingNode):  # said so: no host to ask for besides
            return None
        host = self._smtp_host(m.get("host"), at=node)
        security = self.string(m.get("security"), "smtp.security") or "starttls"
        if security not in ("none", "starttls", "tls"):
            self.problem(m.get("security"), "smtp.security", "must be none, starttls or tls")
        default_port = {"none": 25, "starttls": 587, "tls": 465}.get(security, 587)
        return SmtpSettings(
            host=host or "",
            port=int(self.number(m.get("port"), "smtp.port", default_port, 1, 65535)),
            security=security,
            username=self.string(m.get("username"), "smtp.username"),
            password=self.string(m.get("password"), "smtp.password", exact=True),
            sender=self._sender(m.get("from")),
            ca_file=self.ca_file(m.get("ca_file"), "smtp.ca_file"),
            timeout=self.duration(m.get("timeout"), "smtp.timeout", 30.0, 1),
        )

    def _smtp_host(self, node: yaml.Node | None, at: yaml.Node | None = None) -> str | None:
        """A host name or address alone: each of `smtp://host`, `host:587` and a bad name
        failed every email with "Name or service not known". `[v6]` is taken as `v6`.
        Missing, a problem at `at`, the smtp section."""
        host = self.string(node, "smtp.host", required=True, at=at)
        if not host:
            return None
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        name, _, port = host.rpartition(":")
        problem: str | None
        if "://" in host:
            problem = "give the host alone, not a URL (the port as smtp.port)"
        elif ascii_digits(port) and name and ":" not in name:
            problem = f"give the port as smtp.port: {port}, and the host alone"
        else:
            problem = host_name_problem(host)
        if problem is None:
            return host
        self.problem(node, "smtp.host", f"{host!r} is no host name: {problem}")
        return None

    def _sender(self, node: yaml.Node | None) -> str:
        """smtp.from: one address, with a name or without ("not an address" went out as
        MAIL FROM:<not>, "a@b@c" as the null sender, whose bounces go nowhere)."""
        sender = self.string(node, "smtp.from") or "watcher@localhost"
        if len(getaddresses([sender])) != 1 or not is_address_list(sender):
            self.problem(node, "smtp.from", f"{sender!r} is not one email address")
        return sender
