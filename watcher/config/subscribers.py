"""The config's `subscribers:` read into `Subscriber`s: who follows what, through which
channels, when (immediate, settled, quiet hours and days, digests) and which problems they are told.

In: the YAML node tree of the section. Out: subscribers, or problems noted on the reader.
"""

from __future__ import annotations

from email.utils import getaddresses
from typing import Any
from urllib.parse import urlsplit

import yaml

from watcher.alerts.digest import check_quiet_hours, check_schedule, day_of_week, schedule_of
from watcher.config.feeds import malformed
from watcher.config.reader import Reader, is_null
from watcher.config.settings import Subscriber, signing_key
from watcher.rules.nodes import is_text, kind_of, names_in_line

MAX_SETTLE = 3600.0  # a subscriber's settle: an hour; longer waits are what digests are for


class SubscribersReader(Reader):
    """Reads the subscribers of a config, each checked as it is read."""

    def feed_problems(self, node: yaml.Node | None, name: str) -> dict[str, Any]:
        """`feed_problems:` true or false, or feed names or tags (a list, or one line of
        them with commas between): only their problems are told."""
        if isinstance(node, yaml.SequenceNode) or is_text(node):
            told = len(self.problems)
            feeds = self.string_list(node, name)  # each name one line, as every text value
            if not feeds and len(self.problems) == told:  # not a name it refused
                self.problem(node, name, "names no feed (true for every feed)")
            return {"feed_problems": bool(feeds), "problem_feeds": feeds}
        value = None if node is None else self.scalar(node, name)
        if node is not None and not isinstance(value, bool):
            self.problem(node, name, "must be true, false or a list of feed names or tags")
        return {"feed_problems": value is True}

    def subscriber(self, item: yaml.Node, where: str, settle: float = 0.0) -> Subscriber | None:
        keys = {
            "name", "follow", "mode", "email", "slack", "teams", "webhook", "console",
            "min_priority", "digest", "timezone", "max_per_hour", "feed_problems", "quiet_hours",
            "settle", "webhook_secret", "delivery_problems", "quiet_days",
        }  # fmt: skip
        if not isinstance(item, yaml.MappingNode):
            self.problem(item, where, f"must be a mapping with a name and a channel, not "
                         f"{kind_of(item)}")  # fmt: skip
            return None
        m = self.mapping(item, where, keys)
        name = self.string(m.get("name"), f"{where}.name", required=True, at=item)
        mode = self.string(m.get("mode"), f"{where}.mode") or "immediate"
        if mode not in ("immediate", "digest"):
            self.problem(m.get("mode"), f"{where}.mode", "must be immediate or digest")
        written = self.string(m.get("digest"), f"{where}.digest") or "daily 08:00"
        if (wrong := check_schedule(written)) is not None:
            self.problem(m.get("digest"), f"{where}.digest", wrong)
        digest = schedule_of(written)
        timezone = self.zone(m.get("timezone"), f"{where}.timezone") or "UTC"
        cap = None
        if "max_per_hour" in m:
            cap = int(self.number(m["max_per_hour"], f"{where}.max_per_hour", 0, 1)) or None
        noted = len(self.problems)
        channels = {key: self.string(m.get(key), f"{where}.{key}") for key in _CHANNELS[1:]}
        channels["email"] = self.addresses(m.get("email"), f"{where}.email")
        wrong_channel = len(self.problems) > noted  # a channel given, and why it is wrong said
        subscriber = Subscriber(
            name=name or "",
            follow=self.follow(m.get("follow"), f"{where}.follow"),
            mode=mode,
            email=channels["email"],
            slack=channels["slack"],
            teams=channels["teams"],
            webhook=channels["webhook"],
            webhook_secret=self.string(m.get("webhook_secret"), f"{where}.webhook_secret"),
            console=self.flag(m.get("console"), f"{where}.console"),
            min_priority=int(self.number(m.get("min_priority"), f"{where}.min_priority", 1, 1, 5)),
            digest=digest,
            timezone=timezone,
            max_per_hour=cap,
            **self.feed_problems(m.get("feed_problems"), f"{where}.feed_problems"),
            quiet_hours=self.quiet_hours(m.get("quiet_hours"), f"{where}.quiet_hours", mode),
            quiet_days=self.quiet_days(m.get("quiet_days"), f"{where}.quiet_days", mode),
            settle=self.settle(m.get("settle"), f"{where}.settle", mode, settle),
            delivery_problems=self.flag(m.get("delivery_problems"), f"{where}.delivery_problems"),
        )
        for key in ("slack", "teams", "webhook"):
            if problem := _webhook_problem(getattr(subscriber, key)):
                self.problem(m.get(key), f"{where}.{key}", problem)
        if problem := _secret_problem(subscriber):
            self.problem(m.get("webhook_secret"), f"{where}.webhook_secret", problem)
        if subscriber.email and not is_address_list(subscriber.email):
            wrong = f"{subscriber.email!r} is not an email address (or a list of them)"
            if ";" in subscriber.email:  # as Outlook separates them
                wrong += ": separate addresses with commas, not semicolons"
            self.problem(m.get("email"), f"{where}.email", wrong)
        if name and not subscriber.channels() and not wrong_channel:
            wrong = "has no channel: give email, slack, teams, webhook or console: true"
            self.problem(item, where, wrong)
        return subscriber if name else None

    def addresses(self, node: yaml.Node | None, name: str) -> str | None:
        """`email:`: one line of addresses, comma-separated, or a list of them, read as
        that line."""
        if isinstance(node, yaml.MappingNode):
            self.problem(node, name, "must be an address, or a list of them, not a mapping")
            return None
        if not isinstance(node, yaml.SequenceNode):
            return self.string(node, name)
        found = [self.string(item, f"{name}[{i}]") for i, item in enumerate(node.value)]
        if not node.value:
            self.problem(node, name, "lists no address (leave it out for no email)")
        return ", ".join(filter(None, found)) or None

    def quiet_hours(self, node: yaml.Node | None, name: str, mode: str) -> str | None:
        """HH:MM-HH:MM, for an immediate subscriber (a digest one's alerts wait already)."""
        spec = self.string(node, name)
        if not spec:
            return None
        if (wrong := check_quiet_hours(spec)) is not None:
            self.problem(node, name, wrong)
            return None
        if mode == "digest":
            self.problem(node, name, "is for mode: immediate (a digest's alerts wait for it)")
            return None
        return spec

    def quiet_days(self, node: yaml.Node | None, name: str, mode: str) -> tuple[int, ...]:
        """Days of the week (a list, or one line with commas), for an immediate subscriber:
        Monday 0 to Sunday 6, in order."""
        if isinstance(node, yaml.SequenceNode):  # each item's problem at its own line
            items = [(item, f"{name}[{i}]") for i, item in enumerate(node.value)]
            lines = [(item, at, self.string(item, at)) for item, at in items]
        else:
            lines = [(node, name, line) for line in self.string_list(node, name)]
        names = [(item, at, n) for item, at, line in lines for n in names_in_line(line or "")]
        days = {day for _, _, n in names for day in _days_named(n)}
        if wrong := [(item, at, n) for item, at, n in names if not _days_named(n)]:
            item, at, day = wrong[0]
            self.problem(item, at, f"{day!r} is not a day of the week: write mon to sun, or "
                         "monday to sunday, or weekend")  # fmt: skip
            return ()
        if days and mode == "digest":
            self.problem(node, name, "is for mode: immediate (a digest's alerts wait for it)")
            return ()
        if len(days) == 7:
            self.problem(node, name, "makes every day quiet: for alerts at set times, use "
                         "mode: digest")  # fmt: skip
            return ()
        return tuple(sorted(days))

    def settle(
        self, node: yaml.Node | None, name: str, mode: str = "immediate", default: float = 0.0
    ) -> float:
        """How long an immediate subscriber's alerts wait before they go: 0 to `MAX_SETTLE`;
        when not given, `default` (`delivery.settle`), and none for a digest subscriber."""
        if node is None:
            return default if mode == "immediate" else 0.0
        seconds = self.duration(node, name, 0.0, 0)
        if seconds > MAX_SETTLE:
            self.problem(node, name, f"must be at most {MAX_SETTLE // 60:g}m (longer is a digest)")
            return 0.0
        if seconds and mode == "digest":
            self.problem(node, name, "is for mode: immediate (a digest's alerts wait already)")
            return 0.0
        return seconds

    def follow(self, node: yaml.Node | None, name: str) -> tuple[str, ...]:
        """A subscriber's rules: every one ("*") when not given; none for `[]`, for one that
        only the rules' `notify:` name, or that only wants feed notices."""
        if node is None or is_null(node):
            return ("*",)
        return self.string_list(node, name)

    def subscribers(self, node: yaml.Node | None, settle: float = 0.0) -> tuple[Subscriber, ...]:
        """The subscribers; `settle`: that of an immediate one that gives none."""
        out: list[Subscriber] = []
        for i, item in enumerate(self.items(node, "subscribers", "subscribers")):
            subscriber = self.subscriber(item, f"subscribers[{i}]", settle)
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


_CHANNELS = ("email", "slack", "teams", "webhook")  # and console, a flag


def _webhook_problem(url: str | None) -> str | None:
    """What is wrong with a Slack, Teams or webhook URL, if anything, without the URL: a
    secret."""
    if not url:
        return None
    if why := malformed(url):
        return f"is not a valid URL: {why}"
    return None if urlsplit(url).scheme in ("http", "https") else "must be an http(s) URL"


def _secret_problem(subscriber: Subscriber) -> str | None:
    """What is wrong with a subscriber's webhook secret, if anything, without the secret."""
    if subscriber.webhook_secret is None:
        return None
    if not subscriber.webhook:
        return "signs webhook posts: give webhook: as well"
    try:
        signing_key(subscriber.webhook_secret)
    except ValueError as exc:
        return f"{exc} (a Standard Webhooks secret: whsec_ and a random key in base64)"
    return None


def _days_named(name: str) -> tuple[int, ...]:
    """The days of the week (Monday 0) a `quiet_days` name stands for: one, or Saturday and
    Sunday for `weekend`; none for a name of no day."""
    if name.strip().lower() in ("weekend", "weekends"):
        return (5, 6)
    day = day_of_week(name)
    return () if day is None else (day,)


def is_address_list(value: str) -> bool:
    """Whether `value` is one or more email addresses, "a@example.org" or "Name
    <a@example.org>", comma-separated (`Reader.string` took it as one line)."""
    found = getaddresses([value])
    return bool(found) and all(_address(address) for _, address in found)


def _address(address: str) -> bool:
    local, at, domain = address.rpartition("@")
    return bool(local and at and domain) and " " not in address
