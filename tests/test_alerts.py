"""Alerts end to end: routing, rendering, the outbox, retries and dead letters, with a real
SMTP server (aiosmtpd) and a real HTTP server standing in for Slack, on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import Message as EmailMessage
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import httpx
import pytest
from aiosmtpd.controller import Controller

from tests.conftest import (
    HOSTILE_RETRY_AFTER,
    FakeClock,
    Inbox,
    answering_once,
    free_port,
    wait_until,
    write_locked,
)
from tests.feedserver import FeedServer, fixture_bytes, rss, send
from tests.test_cli import watcher
from watcher.alerts.excerpts import EXCERPT_CHARS, excerpts
from watcher.alerts.lanes import HOLD_MAX_SECONDS, Delivery, Hold
from watcher.alerts.render import render
from watcher.alerts.routing import follows
from watcher.alerts.sender import Sender
from watcher.config import Config, load_config
from watcher.errors import ConfigError, DeliveryError
from watcher.fetch import Fetcher
from watcher.models import Alert, AlertPlan, Cluster, Match, Story, Waits
from watcher.pipeline import Clusterer, Pipeline
from watcher.rules.live import LiveRules
from watcher.rules.model import Rule
from watcher.rules.query import parse
from watcher.store import Store

ROOT = Path(__file__).resolve().parent.parent


def slack_route(server: FeedServer, answers: list[tuple[int, dict[str, str]]]) -> None:
    """Answer POSTs to /slack with the given (status, headers) in turn, then 200."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        status, headers = answers.pop(0) if answers else (200, {})
        send(handler, status, b"ok" if status == 200 else b"error", "text/plain", headers)

    server.routes["/slack"] = route


GERMANIUM_RULE = (
    "  - name: germanium-news\n    when: '@minerals:\"germanium\"'\n    tags: [metals]\n"
)
ANTIMONY_RULE = "  - name: antimony-news\n    when: '@minerals:\"antimony\"'\n    tags: [metals]\n"


def write_config(
    tmp_path: Path, *, smtp_port: int, slack: str, extra: str = "", backfill: str = "all",
    rules_yaml: str = GERMANIUM_RULE,
) -> Path:  # fmt: skip
    rules = tmp_path / "rules"
    rules.mkdir(exist_ok=True)
    (rules / "r.yaml").write_text(
        "lists:\n  minerals: [germanium, antimony, gallium]\nrules:\n" + rules_yaml
    )
    path = tmp_path / "watcher.yaml"
    path.write_text(
        f"state: w.db\nrules: rules/\nbackfill: {backfill}\n"
        f"delivery: {{max_attempts: 3, retry_base: 10s}}\n"
        f"smtp: {{host: 127.0.0.1, port: {smtp_port}, security: none, from: watcher@test}}\n"
        "subscribers:\n"
        f"  - name: analyst\n    follow: [metals]\n    email: analyst@test\n    slack: {slack}\n"
        + extra
        + "feeds:\n"
    )
    return path


def add_feed(config_path: Path, name: str, body: bytes) -> None:
    feed = config_path.parent / f"{name}.xml"
    feed.write_bytes(body)
    with config_path.open("a") as handle:
        handle.write(f"  - name: {name}\n    url: {feed.as_uri()}\n")


def wire_polled(config: Path, clock: FakeClock) -> Harness:
    """The Wire feed added to `config` and polled once."""
    add_feed(config, "Wire", WIRE)
    harness = Harness(config, clock)
    harness.poll()
    return harness


def polled_by_email_only(
    tmp_path: Path, smtp_port: int, server: FeedServer, clock: FakeClock
) -> tuple[Path, Harness]:
    """A config whose subscriber has email alone, its Wire feed polled once."""
    config = write_config(tmp_path, smtp_port=smtp_port, slack=server.url("/slack"))
    config.write_text(config.read_text().replace(f"    slack: {server.url('/slack')}\n", ""))
    add_feed(config, "Wire", WIRE)
    harness = Harness(config, clock)
    harness.poll()
    return config, harness


class Harness:
    """Polls the config's feeds through a real pipeline, then delivers with a real sender."""

    def __init__(self, config_path: Path, clock: FakeClock) -> None:
        self.config: Config = load_config(config_path, env={})
        self.clock = clock
        self.store = Store(self.config.state)
        self.store.sync_feeds(self.config.feeds)

    def poll(self) -> None:
        from watcher.alerts.routing import route

        async def go() -> None:
            fetcher = Fetcher(self.config.poll)
            rules = LiveRules(self.config.rules)
            named = {r.name: r for r in rules.matcher.ruleset.rules}
            clusterer = Clusterer(self.store, self.config.clustering, self.clock)
            clusterer.load()  # the window, as the service builds it when it starts
            pipeline = Pipeline(
                store=self.store, fetcher=fetcher, settings=self.config.poll, clock=self.clock,
                clusterer=clusterer, rules=rules,
                route=lambda m: route(m, named, self.config.subscribers),
            )  # fmt: skip
            try:
                await asyncio.gather(
                    *(pipeline.refresh_feed(f, force=True) for f in self.config.feeds)
                )
            finally:
                await fetcher.aclose()

        asyncio.run(go())

    def deliver(self) -> list:  # type: ignore[type-arg]
        async def go() -> list:  # type: ignore[type-arg]
            fetcher = Fetcher(self.config.poll)
            try:
                sender = Sender(
                    store=self.store, config=self.config, client=fetcher.client,
                    clock=self.clock, rules=LiveRules(self.config.rules),
                )  # fmt: skip
                return await sender.deliver_due()
            finally:
                await fetcher.aclose()

        return asyncio.run(go())


WIRE = fixture_bytes("wire.rss.xml")  # one germanium story, one antimony story
REPRINT = (
    WIRE.replace(b"wire-101", b"reprint-101")
    .replace(b"id=101", b"id=9101")
    .replace(b"wire-102", b"reprint-102")
    .replace(b"id=102", b"id=9102")
)


# -- routing and rendering ---------------------------------------------------------------


def rule(
    name: str = "r", tags: tuple[str, ...] = (), notify: tuple[str, ...] = (), priority: int = 3,
    feeds: tuple[str, ...] = (),
) -> Rule:  # fmt: skip
    return Rule(
        name=name,
        description="",
        condition=parse("x"),
        text="x",
        tags=tags,
        notify=notify,
        priority=priority,
        path="p",
        line=1,
        order=0,
        feeds=feeds,
    )


@pytest.mark.parametrize(
    ("follow", "the_rule", "min_priority", "expected"),
    [
        pytest.param(("*",), rule(), 1, True, id="star"),
        pytest.param(("r",), rule(), 1, True, id="by-name"),
        pytest.param(("metals",), rule(tags=("metals",)), 1, True, id="by-tag"),
        pytest.param(("other",), rule(), 1, False, id="not-followed"),
        pytest.param(("other",), rule(notify=("s",)), 1, True, id="named-by-rule"),
        pytest.param(("*",), rule(priority=2), 3, False, id="below-min-priority"),
    ],
)
def test_follows(
    follow: tuple[str, ...], the_rule: Rule, min_priority: int, expected: bool
) -> None:
    from watcher.config import Subscriber

    subscriber = Subscriber(name="s", follow=follow, console=True, min_priority=min_priority)
    assert follows(subscriber, the_rule) is expected


def test_a_weekly_digest_subscribers_alert_waits_for_its_day_whatever_the_priority() -> None:
    from watcher.alerts.routing import route
    from watcher.config import Subscriber

    weekly = Subscriber(name="boss", mode="digest", digest="weekly mon 08:00",
                        timezone="Europe/Berlin", console=True)  # fmt: skip
    friday = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    match = replace(_match(1, "s1"), rule="urgent", matched_at=friday)
    (plan,) = route(match, {"urgent": rule("urgent", priority=5)}, [weekly])
    assert (plan.due, plan.waits) == (datetime(2026, 12, 7, 7, 0, tzinfo=UTC), "digest")


def test_names_that_follow_notify_or_take_no_one_are_found() -> None:
    from watcher.alerts.routing import unknown_names
    from watcher.config import Subscriber
    from watcher.models import FeedConfig

    rules = [
        rule("gallium", tags=("metals",), feeds=("Wire", "asia", "Wrie")),
        rule("tin", notify=("desk", "dsek")),
    ]
    subscribers = [
        Subscriber(name="desk", follow=("metals", "galium", "*"), console=True),
        Subscriber(name="all", console=True),  # follows "*"
        Subscriber(name="ops", follow=(), console=True, feed_problems=True,
                   problem_feeds=("asia", "europe")),
    ]  # fmt: skip
    feeds = [FeedConfig(name="Wire", url="https://w.test/", interval=600, tags=("asia",))]
    assert unknown_names(rules, subscribers, feeds) == [
        "subscriber 'desk' follows 'galium', which is no rule's name or tag (did you mean "
        "'gallium'?)",
        "p:1: rule 'tin' notifies 'dsek', who is no subscriber (did you mean 'desk'?)",
        "p:1: rule 'gallium' takes stories of 'Wrie' (feeds:), which is no feed's name or tag "
        "(did you mean 'Wire'?)",
        "subscriber 'ops' takes the problems of 'europe' (feed_problems:), which is no feed's "
        "name or tag",  # close to none: no guess
    ]
    assert unknown_names([rule("gallium", feeds=("Wire", "asia"))], subscribers[1:2], feeds) == []


def test_a_subscriber_whose_rules_are_all_below_its_min_priority_is_warned_of() -> None:
    """`min_priority: 4` over rules of priority 3 alerted no one, and nothing said so."""
    from watcher.alerts.routing import unknown_names
    from watcher.config import Subscriber

    rules = [rule("gallium", priority=3, tags=("metals",)), rule("tin", priority=5)]
    picky = Subscriber(name="picky", follow=("metals",), min_priority=4, console=True)
    assert unknown_names(rules, [picky], []) == [
        "subscriber 'picky' has min_priority 4, and the rules it follows are of priority 3 at "
        "most: no rule alerts it"
    ]
    everything = Subscriber(name="all", min_priority=4, console=True)  # follows tin too
    assert unknown_names(rules, [everything], []) == []


NOW = datetime(2026, 11, 24, tzinfo=UTC)


def _slack_alert() -> Alert:
    return Alert(
        id=1,
        subscriber="s",
        channel="slack",
        cluster=1,
        rule="r<1>",
        story="s",
        terms={},
        status="pending",
        attempts=0,
        sends=0,
        next_attempt_at=NOW,
        last_error=None,
        created_at=NOW,
        sent_at=None,
    )


def test_a_slack_alert_of_a_story_with_a_huge_link_shows_its_title_and_summary() -> None:
    """A link past the section's 3,000 characters was cut to its raw beginning
    (`<https://...…`): the title and summary were lost, and the link led nowhere."""
    story = Story(
        id="s", feed="f", guid=None, source="A", title="Gallium deal", summary="Sojitz buys.",
        link="https://x.test/?q=" + "a" * 3000, published=NOW, fetched_at=NOW,
    )  # fmt: skip
    (payload,) = render(_slack_alert(), story, None, {}).slack
    section = payload["blocks"][1]["text"]["text"]
    assert section == "Gallium deal\nSojitz buys."
    short = replace(story, link="https://x.test/a")
    (payload,) = render(_slack_alert(), short, None, {}).slack
    assert payload["blocks"][1]["text"]["text"] == "<https://x.test/a|Gallium deal>\nSojitz buys."


def test_slack_text_cut_at_its_limit_ends_no_link_or_escape_halfway() -> None:
    """Cut in the middle of `<url|outlet>` Slack shows the link's raw beginning, and in the
    middle of `&amp;` a stray `&am`."""
    others = [
        Story(id=f"o{n}", feed="f", guid=None, source=f"Outlet {n} & Co", title="Gallium deal",
              summary="", link=f"https://o{n}.test/" + "p" * 80, published=NOW, fetched_at=NOW)
        for n in range(60)
    ]  # fmt: skip
    story = replace(others[0], id="s", source="A", summary="R&D " * 1000)
    cluster = Cluster(id=1, lead=story, members=(story, *others), follows=None)
    (payload,) = render(_slack_alert(), story, cluster, {}).slack
    for text in (payload["text"], *(b["text"]["text"] for b in payload["blocks"][1:2])):
        _assert_whole_mrkdwn(text)
    _assert_whole_mrkdwn(payload["blocks"][2]["elements"][0]["text"])


def _assert_whole_mrkdwn(text: str) -> None:
    assert len(text) <= 3000
    assert text.count("<") == text.count(">"), text[-120:]
    assert not re.search(r"&[a-z]{0,3}…$", text), text[-20:]


def test_slack_message_keeps_within_limits_and_escapes() -> None:
    story = Story(
        id="s",
        feed="f",
        guid=None,
        source="A & B",
        title="T" * 300,
        summary="<b> & " * 1000,
        link="https://x.test/?a=1&b=2",
        published=NOW,
        fetched_at=NOW,
    )
    message = render(_slack_alert(), story, None, {})
    (payload,) = message.slack
    header, section, context = payload["blocks"]
    assert len(header["text"]["text"]) <= 150 and len(section["text"]["text"]) <= 3000
    assert "<b>" not in section["text"]["text"] and "&lt;b&gt; &amp;" in section["text"]["text"]
    assert (
        "A &amp; B" in context["elements"][0]["text"]
        and "r&lt;1&gt;" in context["elements"][0]["text"]
    )
    assert "<b>" not in message.html and "&lt;b&gt;" in message.html
    assert len(payload["blocks"]) <= 50


def test_full_text_excerpts_join_when_they_overlap_keep_whole_words_and_stop_at_three() -> None:
    text = " ".join(f"w{i:03}" for i in range(400))  # five characters a word
    found = ["w010", "w020", "w100", "w200", "w300"]
    spans = [(text.index(word), text.index(word) + 4) for word in found]
    parts = excerpts(text, spans)
    assert [[part[a:b] for a, b in inside] for part, inside in parts] == [
        ["w010", "w020"], ["w100"], ["w200"],
    ]  # fmt: skip
    words = set(text.split())
    for part, _ in parts:
        assert set(part.strip("…").split()) <= words  # cut at spaces: whole words
    assert parts[0][0].startswith("w000 ") and parts[0][0].endswith("…")
    assert parts[1][0].startswith("…") and len(parts[1][0]) <= 2 + 2 * EXCERPT_CHARS + 4


def test_words_the_summary_shows_are_not_shown_again_from_the_full_text() -> None:
    alert = _slack_alert()
    story = Story(
        id="s", feed="f", guid=None, source="Wire", title="Smelter news",
        summary="Germanium output rose.", link="https://w.test/1", published=NOW, fetched_at=NOW,
        body="Germanium output rose. Alcoa runs the plant.",
    )  # fmt: skip
    spans = {"title": [], "summary": [(0, 9)], "body": [(0, 9), (23, 28)]}
    message = render(alert, story, None, spans)
    assert "In the full text: Germanium output rose. *Alcoa* runs the plant." in message.text
    assert message.text.count("In the full text:") == 1
    assert message.json["full_text_excerpts"] == ["Germanium output rose. Alcoa runs the plant."]
    message = render(alert, story, None, {**spans, "body": [(0, 9)]})
    assert "In the full text" not in message.text and message.json["full_text_excerpts"] == []


def test_slack_header_is_never_empty() -> None:
    """Slack refuses a header block without text: the alert would end as a dead letter."""
    story = Story(
        id="s", feed="f", guid="g", source="A", title="", summary="", link="",
        published=NOW, fetched_at=NOW,
    )  # fmt: skip
    (payload,) = render(_slack_alert(), story, None, {}).slack
    assert payload["blocks"][0]["text"]["text"] == "(untitled)"


def test_an_email_alert_or_digest_of_a_story_without_a_link_shows_none() -> None:
    """A story may have no link (none given, a link home, one its feed gives every entry):
    its email showed an empty line and an empty `<a href="">`, and a digest linked its
    title to nothing."""
    from watcher.alerts.digest import render_digest

    story = replace(digest_story(1, summary="Gallium output resumes."), link="")
    single = render(digest_alert(1, {}), story, None, {})
    assert 'href=""' not in single.html and "\n\nRule: r\n" in single.text
    digest = render_digest("s", [(digest_alert(1, {}), story, None, {})])
    assert 'href=""' not in digest.html and "<li>Story 1 (Wire, " in digest.html
    assert digest.text.splitlines()[3:] == ["- Story 1 (Wire, 2026-11-24 00:01 UTC)",
                                            "  Gallium output resumes.", ""]  # fmt: skip


def test_a_digest_and_a_webhook_name_the_other_rules_matched() -> None:
    from watcher.alerts.digest import render_digest

    alert = replace(digest_alert(1, {}), also_matched=("supply-deals", "export<controls>"))
    digest = render_digest("s", [(alert, digest_story(1), None, {})])
    assert "  Also matched: supply-deals, export<controls>\n" in digest.text
    assert "<br>Also matched: supply-deals, export&lt;controls&gt;" in digest.html
    (section,) = [b for b in digest.slack[0]["blocks"] if b["type"] == "section"]
    assert section["text"]["text"].endswith("· also matched supply-deals, export&lt;controls&gt;")
    assert digest.json["alerts"][0]["also_matched"] == ["supply-deals", "export<controls>"]
    single = render(alert, digest_story(1), None, {})
    assert single.json["also_matched"] == ["supply-deals", "export<controls>"]
    assert "<p>Also matched: supply-deals, export&lt;controls&gt;</p>" in single.html
    assert render(digest_alert(1, {}), digest_story(1), None, {}).json["also_matched"] == []


def test_a_hostile_title_pings_no_one_on_slack_and_a_pipe_ends_no_link() -> None:
    """The notification's text (top-level `text`) took the title as mrkdwn: a feed's
    `<!channel>` notified a whole channel. A `|` in a link ended it where Slack reads it."""
    from watcher.models import Cluster

    story = Story(
        id="s", feed="f", guid=None, source="Wire", title="<!channel> Gallium <https://e.test|x>",
        summary="", link="https://w.test/a|b", published=NOW, fetched_at=NOW,
    )  # fmt: skip
    other = replace(story, id="o", source="Daily", link="https://d.test/?q=1|2")
    (payload,) = render(
        _slack_alert(), story, Cluster(id=1, lead=story, members=(story, other)), {}
    ).slack
    section, context = payload["blocks"][1]["text"]["text"], payload["blocks"][2]["elements"][0]
    assert "<!channel>" not in payload["text"] and "<https://e" not in payload["text"]
    assert payload["text"].startswith(
        "r&lt;1&gt;: &lt;!channel&gt; Gallium &lt;https://e.test|x&gt;"
    )
    assert section.startswith("<https://w.test/a%7Cb|&lt;!channel&gt; Gallium")
    assert "<https://d.test/?q=1%7C2|Daily>" in context["text"]
    from watcher.alerts.digest import render_digest

    linkless = replace(digest_story(1), link="")
    digest = render_digest("s", [(digest_alert(1, {}), linkless, None, {})]).slack[0]
    assert [b["text"]["text"] for b in digest["blocks"] if b["type"] == "section"] == [
        "Story 1 · Wire"
    ]  # not "<|Story 1>"


# -- end to end ----------------------------------------------------------------------------


def test_one_email_and_one_slack_message_per_cluster_and_none_on_a_second_run(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path
) -> None:
    port, inbox = smtp
    slack_route(server, [])
    config = write_config(tmp_path, smtp_port=port, slack=server.url("/slack"))
    add_feed(config, "Wire", WIRE)
    add_feed(config, "Reprints", REPRINT)
    first = watcher("--config", str(config), "once")
    assert first.returncode == 0, first.stderr
    assert len(inbox.messages) == 1 and len(server.posts) == 1  # two stories, one cluster
    mail = inbox.messages[0]
    assert (
        mail["Subject"]
        == "[watcher] germanium-news: Smelter Group To Start Germanium Output In Ontario"
    )
    assert mail["Message-ID"].startswith("<alert-analyst-") and mail.is_multipart()
    # no vacation or out-of-office reply to a machine's message
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["X-Auto-Response-Suppress"] == "All"
    text, html_part = (
        p.get_payload(decode=True).decode()
        for p in mail.walk()
        if p.get_content_maintype() == "text"
    )
    assert "*germanium*" in text and "https://wire.test/news.php?id=" in text
    assert "<mark>germanium</mark>" in html_part
    payload = json.loads(server.posts[0][1])
    assert payload["blocks"][0]["type"] == "header" and "Germanium" in payload["text"]
    (key,) = [k for _, k in server.post_keys]
    (story,) = [a.story for a in Store(tmp_path / "w.db").alerts() if a.channel == "slack"]
    assert key == f"watcher-alert-analyst-slack-{story}"  # the same on every retry
    second = watcher("--config", str(config), "once")
    assert second.returncode == 0 and len(inbox.messages) == 1 and len(server.posts) == 1


def test_an_alert_names_the_other_rules_its_news_item_matched_that_its_subscriber_follows(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path, clock: FakeClock
) -> None:
    """One alert a news item, under the rule it matched first; it says which other rules
    the subscriber follows the news item matched (not one that waits for outlets, nor
    one the subscriber does not follow)."""
    port, inbox = smtp
    slack_route(server, [])
    rules = GERMANIUM_RULE + "  - name: smelters\n    when: 'smelter*'\n    tags: [metals]\n"
    rules += "  - name: widely\n    when: germanium\n    tags: [metals]\n    min_sources: 3\n"
    rules += "  - name: ontario\n    when: Ontario\n"  # followed by no one
    config = write_config(tmp_path, smtp_port=port, slack=server.url("/slack"), rules_yaml=rules)
    clock.now = datetime(2026, 11, 12, tzinfo=UTC)
    harness = wire_polled(config, clock)
    assert [r.outcome for r in harness.deliver()] == ["sent", "sent"]  # email and Slack
    (alert,) = {a.rule: a for a in harness.store.alerts()}.values()
    other = ({"germanium-news", "smelters"} - {alert.rule}).pop()
    text = inbox.messages[0].get_body(preferencelist=("plain",)).get_content()
    assert f"Rule: {alert.rule} (minerals: germanium)\r\nAlso matched: {other}\r\n" in text
    context = json.loads(server.posts[0][1])["blocks"][2]["elements"][0]["text"]
    assert f"· also matched {other}" in context
    assert "widely" not in text + context and "ontario" not in text + context


def test_backfill_keeps_an_old_backlog_quiet_on_the_first_poll(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path
) -> None:
    port, inbox = smtp
    slack_route(server, [])
    config = write_config(tmp_path, smtp_port=port, slack=server.url("/slack"), backfill="24h")
    add_feed(config, "Wire", WIRE)  # its stories are from 10-11 Nov 2026
    watcher("--config", str(config), "once")
    assert inbox.messages == [] and server.posts == []
    rows = watcher(
        "--config", str(config), "stories", "--since", "1h", "--format", "jsonl"
    ).stdout.splitlines()
    assert len(rows) == 2  # stored all the same
    (story,) = Store(tmp_path / "w.db").find_stories("https://wire.test/news.php?id=101")
    lines = watcher("--config", str(config), "why", story.id).stdout.splitlines()
    assert any(line.endswith("; quiet (the story was kept from alerting)") for line in lines)
    assert lines[-1] == (  # and `watcher why` says so
        f"analyst:  not alerted: story {story.id} came in its feed's first poll and was "
        "older than backfill (1d); the next story of this news item to match germanium-news "
        "will"
    )


def _backfill_a_day(server: FeedServer, smtp_port: int, tmp_path: Path) -> Path:
    slack_route(server, [])
    return write_config(tmp_path, smtp_port=smtp_port, slack=server.url("/slack"), backfill="24h")


def _moved(config: Path, body: bytes) -> None:
    """The Wire feed's url: changed to a file holding `body`."""
    moved = config.parent / "moved.xml"
    moved.write_bytes(body)
    old = (config.parent / "Wire.xml").as_uri()
    config.write_text(config.read_text().replace(old, moved.as_uri()))


def _said_to_be_backlog(config: Path) -> None:
    """`watcher why` of the wire's germanium story says it came in its feed's first poll."""
    (story,) = Store(config.parent / "w.db").find_stories("https://wire.test/news.php?id=101")
    lines = watcher("--config", str(config), "why", story.id).stdout.splitlines()
    assert "came in its feed's first poll" in lines[-1], lines


def test_a_first_poll_that_failed_leaves_the_backlog_quiet_on_the_first_good_one(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path
) -> None:
    """A new feed that first served a web page (a maintenance page, the wrong URL) counted
    that poll as a success: its backlog, read at the next, was news, an alert a story."""
    port, inbox = smtp
    config = _backfill_a_day(server, port, tmp_path)
    add_feed(config, "Wire", b"<!DOCTYPE html><html><body>Back soon</body></html>")
    assert watcher("--config", str(config), "once").returncode == 1
    (tmp_path / "Wire.xml").write_bytes(WIRE)  # its stories are from 10-11 Nov 2026
    assert watcher("--config", str(config), "once", "--force").returncode == 0
    assert inbox.messages == [] and server.posts == []
    _said_to_be_backlog(config)


def test_a_feed_given_another_url_keeps_the_backlog_there_quiet(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path
) -> None:
    """A feed's URL edited in place (the outlet's new feed, after a site's move) starts
    afresh: its first poll there was a later poll, and every old story it listed alerted."""
    port, inbox = smtp
    config = _backfill_a_day(server, port, tmp_path)
    add_feed(config, "Wire", rss([]))
    assert watcher("--config", str(config), "once").returncode == 0
    _moved(config, WIRE)  # its stories are from 10-11 Nov 2026
    assert watcher("--config", str(config), "once", "--force").returncode == 0
    assert inbox.messages == [] and server.posts == []
    _said_to_be_backlog(config)


def test_a_backlog_story_stays_one_after_its_feed_is_given_another_url(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path
) -> None:
    """The first poll of the URL it came from is its first poll still: `watcher why` says
    so, and a new title for it alerts no one."""
    port, inbox = smtp
    config = _backfill_a_day(server, port, tmp_path)
    add_feed(config, "Wire", WIRE)  # its stories are from 10-11 Nov 2026
    assert watcher("--config", str(config), "once").returncode == 0
    _moved(config, WIRE.replace(b"Smelter Group To Start", b"Smelter Group Starts"))
    assert watcher("--config", str(config), "once", "--force").returncode == 0
    assert inbox.messages == [] and server.posts == []  # retitled, and still quiet
    _said_to_be_backlog(config)


def test_rules_test_counts_stored_stories_by_their_stored_clusters(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path
) -> None:
    """From the database, `rules test` counts news items as the service clustered them: a
    reprint is the wire story's news item, one alert."""
    port, _ = smtp
    slack_route(server, [])
    config = write_config(tmp_path, smtp_port=port, slack=server.url("/slack"))
    add_feed(config, "Wire", WIRE)
    add_feed(config, "Reprints", REPRINT)
    assert watcher("--config", str(config), "once").returncode == 0
    table = watcher("--config", str(config), "rules", "test", "--since", "1h").stdout
    rows = [re.split(r"\s{2,}", line) for line in table.split("\n\n")[-1].splitlines()]
    assert rows == [["rule", "stories", "news items"], ["germanium-news", "2", "1"],
                    ["(any rule)", "2", "1"]]  # fmt: skip
    alerts = Store(tmp_path / "w.db").alerts()
    assert len({a.cluster for a in alerts if a.rule == "germanium-news"}) == 1


def test_rules_test_counts_a_news_items_outlets_among_all_its_stored_stories(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path
) -> None:
    """From the database, a news item's outlets are counted as the service counts them for
    min_sources: among all its stored stories, also those fetched before --since."""
    port, _ = smtp
    slack_route(server, [])
    waits = "  - name: germanium-news\n    when: germanium\n    min_sources: 2\n"
    config = write_config(tmp_path, smtp_port=port, slack=server.url("/slack"), rules_yaml=waits)
    add_feed(config, "Wire", WIRE)
    add_feed(config, "Reprints", REPRINT.replace(b"Test Wire - Markets", b"The Daily Reprint"))
    assert watcher("--config", str(config), "once").returncode == 0
    (wire,) = Store(tmp_path / "w.db").find_stories("https://wire.test/news.php?id=101")
    old = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    with sqlite3.connect(tmp_path / "w.db") as db:
        db.execute("UPDATE stories SET fetched_at = ? WHERE source = ?", (old, wire.source))
    out = watcher("--config", str(config), "rules", "test", "--since", "1d").stdout
    assert "matched germanium-news: germanium (min_sources 2: 2 outlets)" in out
    rows = [re.split(r"\s{2,}", line) for line in out.split("\n\n")[-1].splitlines()]
    assert rows == [["rule", "stories", "news items", "alerting"],
                    ["germanium-news", "1", "1", "1"], ["(any rule)", "1", "1", "1"]]  # fmt: skip


def test_why_says_who_was_alerted_for_a_story_and_why_the_others_were_not(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path
) -> None:
    port, _ = smtp
    slack_route(server, [])
    others = (
        "  - name: other\n    follow: [antimony-news]\n    console: true\n"
        "  - name: picky\n    follow: [metals]\n    min_priority: 4\n    console: true\n"
    )
    rules = GERMANIUM_RULE + ANTIMONY_RULE
    config = write_config(
        tmp_path, smtp_port=port, slack=server.url("/slack"), extra=others, rules_yaml=rules
    )
    add_feed(config, "Wire", WIRE)
    add_feed(config, "Reprints", REPRINT)
    assert watcher("--config", str(config), "once").returncode == 0
    stored = Store(tmp_path / "w.db")
    both = [stored.find_stories(f"https://wire.test/news.php?id={n}")[0] for n in (101, 9101)]
    # the feeds are polled at once: the story whose poll ended first began the news item
    began = {r[0] for r in stored.db.execute("SELECT id FROM stories WHERE cluster_level IS NULL")}
    first, joined = sorted(both, key=lambda s: s.id not in began)
    result = watcher("--config", str(config), "why", joined.id[:8])
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"story:    {joined.id}  {joined.title}"
    assert lines[2].startswith("cluster:  ") and lines[2].endswith(", 2 stories from 1 outlet")
    assert f"this story joined it as a reprint of {first.id}" in result.stdout
    assert "rule:     germanium-news, matched " in result.stdout
    assert f'by story {first.id}: @minerals:"germanium"' in result.stdout
    assert any(
        line.startswith("alert:    #") and "analyst by email: sent" in line for line in lines
    )
    assert "analyst:  alerted" in lines
    assert "other:    not alerted: it follows none of the rules matched (germanium-news)" in lines
    assert (
        "picky:    not alerted: it follows germanium-news (priority 3), below its min_priority 4"
        in lines
    )
    by_link = watcher("--config", str(config), "why", "https://WIRE.test/news.php?id=101#top")
    assert by_link.stdout.splitlines()[0] == f"story:    {both[0].id}  {both[0].title}"
    missing = watcher("--config", str(config), "why", "0123456789ab")
    assert missing.returncode == 1 and "no stored story has the id or link" in missing.stderr


def test_backfill_keeps_undated_stories_quiet_on_the_first_poll_only(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path
) -> None:
    """An undated entry may be years old: on a feed's first poll it counts as backlog; an
    undated entry that appears later is news."""
    port, inbox = smtp
    slack_route(server, [])
    config = write_config(tmp_path, smtp_port=port, slack=server.url("/slack"), backfill="24h")
    item = "<item><title>{0}</title><link>https://u.test/{1}</link><description>{2}</description></item>"
    first = item.format("Germanium smelter opens in Yunnan", 1,
                        "A germanium smelter opened in Yunnan province.")  # fmt: skip
    add_feed(config, "Undated", rss([first]))
    watcher("--config", str(config), "once")
    assert inbox.messages == [] and server.posts == []
    later = item.format("Umicore buys a germanium recycler near Olen", 2,
                        "Umicore agreed to buy a Belgian germanium recycling firm.")  # fmt: skip
    (tmp_path / "Undated.xml").write_bytes(rss([later, first]))
    watcher("--config", str(config), "once", "--force")
    assert [m["Subject"] for m in inbox.messages] == [
        "[watcher] germanium-news: Umicore buys a germanium recycler near Olen"
    ]


def test_max_age_keeps_old_news_a_feed_gives_again_quiet(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path
) -> None:
    """A search feed's results change with their relevance: a story dated weeks ago that
    appears on a later poll is stored, not alerted; a recent one, or an undated one,
    alerts. A feed with `max_age: off` alerts it all the same."""
    port, inbox = smtp
    slack_route(server, [])
    extra = "max_age: 7d\n"
    config = write_config(tmp_path, smtp_port=port, slack=server.url("/slack"), extra=extra)
    now = datetime.now(UTC)
    item = (
        "<item><title>{0}</title><link>https://s.test/{1}</link><pubDate>{2}</pubDate>"
        "<description>{3}</description></item>"
    )
    first = item.format("Antimony price eases", 1, format_datetime(now - timedelta(hours=2)),
                        "The antimony price eased.")  # fmt: skip
    add_feed(config, "Search", rss([first]))
    add_feed(config, "Everything", rss([]))
    with config.open("a") as handle:
        handle.write("    max_age: off\n")
    watcher("--config", str(config), "once")
    assert inbox.messages == []
    old = item.format("Umicore buys a germanium recycler near Olen", 2,
                      format_datetime(now - timedelta(days=30)),
                      "Umicore agreed to buy a Belgian germanium recycling firm.")  # fmt: skip
    recent = item.format("Germanium smelter opens in Yunnan", 3,
                         format_datetime(now - timedelta(hours=1)),
                         "A germanium smelter opened in Yunnan province.")  # fmt: skip
    undated = "<item><title>Germanium wafers ship from Kazan</title><link>https://s.test/4</link><description>Germanium wafers left Kazan by rail.</description></item>"
    (tmp_path / "Search.xml").write_bytes(rss([recent, old, undated, first]))
    elsewhere = item.format("Teck halts germanium output at Trail", 5,
                            format_datetime(now - timedelta(days=30)),
                            "Teck Resources halted germanium output at its Trail smelter.")  # fmt: skip
    (tmp_path / "Everything.xml").write_bytes(rss([elsewhere]))
    result = watcher("--config", str(config), "once", "--force")
    assert sorted(m["Subject"] for m in inbox.messages) == [
        "[watcher] germanium-news: Germanium smelter opens in Yunnan",
        "[watcher] germanium-news: Germanium wafers ship from Kazan",
        "[watcher] germanium-news: Teck halts germanium output at Trail",
    ]
    assert "story too old to alert" in result.stderr and "near Olen" in result.stderr
    rows = watcher("--config", str(config), "stories", "--format", "jsonl").stdout
    assert "Umicore buys a germanium recycler near Olen" in rows  # stored all the same


@pytest.mark.parametrize("max_age", ["7d", "off"])
def test_a_story_dated_before_the_web_is_undated_and_alerts(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path, max_age: str
) -> None:
    """Hugo writes Go's zero time for a page without a date (`Mon, 01 Jan 0001`), other
    software Unix time 0: read as dates, such stories were too old to alert under
    `max_age`, and without it the window's recall raised ValueError (year 0) and the
    feed's every later poll failed."""
    port, inbox = smtp
    slack_route(server, [])
    config = write_config(tmp_path, smtp_port=port, slack=server.url("/slack"),
                          extra=f"max_age: {max_age}\n")  # fmt: skip
    item = (
        "<item><title>{0}</title><link>https://h.test/{1}</link><pubDate>{2}</pubDate>"
        "<description>{0}.</description></item>"
    )
    first = item.format("Antimony price eases", 1, "Mon, 01 Jan 0001 00:00:00 +0000")
    add_feed(config, "Hugo", rss([first]))
    watcher("--config", str(config), "once")
    zero = item.format("Germanium ingots leave Ust-Kamenogorsk", 2,
                       "Mon, 01 Jan 0001 00:00:00 +0000")  # fmt: skip
    epoch = item.format("Germanium wafers ship from Kazan", 3, "Thu, 01 Jan 1970 00:00:00 GMT")
    (tmp_path / "Hugo.xml").write_bytes(rss([zero, epoch, first]))
    result = watcher("--config", str(config), "once", "--force")
    assert result.returncode == 0, result.stderr
    assert sorted(m["Subject"] for m in inbox.messages) == [
        "[watcher] germanium-news: Germanium ingots leave Ust-Kamenogorsk",
        "[watcher] germanium-news: Germanium wafers ship from Kazan",
    ]


def test_a_site_that_moves_to_https_alerts_none_of_its_stories_again(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path
) -> None:
    """A site moved to https and www: every entry has a new link, so a new id, and stories
    older than the clustering window have no cluster to join. The same date and the same
    link up to scheme and www make an entry the stored story; a story gained at the move
    alerts."""
    port, inbox = smtp
    slack_route(server, [])
    config = write_config(tmp_path, smtp_port=port, slack=server.url("/slack"))
    days_ago = datetime.now(UTC).replace(microsecond=0) - timedelta(days=10)

    def item(n: int, title: str, text: str, site: str = "http://u.test") -> str:
        when = format_datetime(days_ago + timedelta(days=n))
        return (f"<item><title>{title}</title><link>{site}/{n}</link><pubDate>{when}</pubDate>"
                f"<description>{text}</description></item>")  # fmt: skip

    old = [(0, "Germanium smelter opens in Yunnan", "A germanium smelter opened in Yunnan."),
           (1, "Umicore buys a germanium recycler", "Umicore agreed to buy a recycling firm.")]  # fmt: skip
    add_feed(config, "Moving", rss([item(*story) for story in old]))
    watcher("--config", str(config), "once")
    assert len(inbox.messages) == 2
    fresh = (10, "Germanium output halts in Kazakhstan", "The Pavlodar plant halted its output.")
    moved = [item(*story, site="https://www.u.test") for story in (fresh, *old)]
    (tmp_path / "Moving.xml").write_bytes(rss(moved))
    moving = watcher("--config", str(config), "once", "--force")
    assert [m["Subject"] for m in inbox.messages[2:]] == [
        "[watcher] germanium-news: Germanium output halts in Kazakhstan"
    ]
    assert moving.stderr.count("story moved feed=Moving") == 2  # the log says why
    db = Store(tmp_path / "w.db")
    assert db.count_stories() == 5  # the moved copies stored, under their new ids


def developing(n: int, title: str, days_ago: float) -> str:
    """An RSS item of a developing story: guid and link stay, its title may change."""
    when = format_datetime(datetime.now(UTC) - timedelta(days=days_ago))
    return (f"<item><guid>dev-{n}</guid><title>{title}</title><link>https://dev.test/{n}"
            f"</link><pubDate>{when}</pubDate><description>A smelter near Olen halted its "
            f"lines {n}.</description></item>")  # fmt: skip


def revised(n: int, summary: str, days_ago: float) -> str:
    """An RSS item of a developing story whose feed revises its summary, not its title."""
    return developing(n, "Smelter halts output in Belgium", days_ago).replace(
        f"A smelter near Olen halted its lines {n}.", summary
    )


def polled_before_and_after(
    config: Path, inbox: Inbox, before: list[str], after: list[str]
) -> subprocess.CompletedProcess[str]:
    """Poll the Dev feed of `before`'s items (no alert may come of them), then again, forced,
    with `after`'s: the second poll's result."""
    add_feed(config, "Dev", rss(before))
    watcher("--config", str(config), "once")
    assert inbox.messages == []
    (config.parent / "Dev.xml").write_bytes(rss(after))
    return watcher("--config", str(config), "once", "--force")


def test_a_headline_that_comes_to_name_a_mineral_alerts_once_unless_the_story_is_old(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path
) -> None:
    """A developing story's feed entry keeps its guid and link and changes its title: the
    alert goes out with the title that names germanium. The same change to a story of ten
    days ago is not news."""
    port, inbox = smtp
    slack_route(server, [])
    config = write_config(tmp_path, smtp_port=port, slack=server.url("/slack"))
    polled = polled_before_and_after(
        config, inbox,
        [developing(1, "Smelter halts output in Belgium", 0.1),
         developing(2, "Refinery closes in Belgium", 10)],
        [developing(1, "Germanium smelter halts output in Belgium", 0.1),
         developing(2, "Germanium refinery closes in Belgium", 10)],
    )  # fmt: skip
    assert [m["Subject"] for m in inbox.messages] == [
        "[watcher] germanium-news: Germanium smelter halts output in Belgium"
    ]
    assert polled.stdout.count("MATCH rule germanium-news") == 1  # the console says so too
    assert 'story retitled feed=Dev title="Germanium smelter' in polled.stderr


def test_a_headline_retitled_to_say_the_plan_is_off_alerts_again_once(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path
) -> None:
    """A developing story's entry keeps its guid and link and comes to say that its news is
    off: that is other news, which the plan's alert did not tell, and alerts once, the
    plan's report kept as it alerted. Another title that tells the same alerts no one."""
    port, inbox = smtp
    slack_route(server, [])
    config = write_config(tmp_path, smtp_port=port, slack=server.url("/slack"))
    plan = "Kazakhstan to resume germanium exports to China"
    add_feed(config, "Dev", rss([developing(1, plan, 0.1)]))
    watcher("--config", str(config), "once")
    titles = [
        plan,
        f"{plan}, ministry says",
        "Kazakhstan scraps plan to resume germanium exports to China",
        "Kazakhstan scraps plan to resume germanium exports to China",
    ]
    polls = []
    for title in titles[1:]:
        (tmp_path / "Dev.xml").write_bytes(rss([developing(1, title, 0.1)]))
        polls.append(watcher("--config", str(config), "once", "--force"))
    assert [m["Subject"].split(": ", 1)[1] for m in inbox.messages] == [titles[0], titles[2]]
    assert [p.stderr.count("story reversed") for p in polls] == [0, 1, 0]
    assert 'was="Kazakhstan to resume germanium exports to China, ministry says"' in (
        polls[1].stderr
    )
    store = Store(tmp_path / "w.db")
    stored = store.find_stories("https://dev.test/1")
    assert sorted(s.title for s in stored) == sorted(titles[1:3])
    assert len({store.placement(s.id)[0] for s in stored}) == 2
    # both listed by the feed's last poll: the prune keeps them (pruned, the report of the
    # plan's end came back as new, and alerted again)
    assert store.prune_stories(datetime.now(UTC) + timedelta(days=1), ["Dev"]) == 0


def test_a_summary_revised_to_name_a_mineral_alerts_once_unless_the_story_is_old(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path
) -> None:
    """A developing story's entry keeps its guid, link and title and changes its summary:
    the revision that names germanium alerts, once, with the summary that names it; later
    revisions alert no more. The same revision of a story of ten days ago is not news."""
    port, inbox = smtp
    slack_route(server, [])
    config = write_config(tmp_path, smtp_port=port, slack=server.url("/slack"))
    names = "Europe's only germanium refinery, halted its lines"
    polled = polled_before_and_after(
        config, inbox,
        [revised(1, "A smelter near Olen halted its lines.", 0.1),
         revised(2, "A refinery near Olen halted its lines.", 10)],
        [revised(1, f"The smelter near Olen, {names}.", 0.1),
         revised(2, f"The refinery near Olen, {names}.", 10)],
    )  # fmt: skip
    assert [m["Subject"] for m in inbox.messages] == [
        "[watcher] germanium-news: Smelter halts output in Belgium"
    ]
    assert (
        "Europe's only *germanium* refinery" in inbox.messages[0].get_body(("plain",)).get_content()
    )
    assert (
        'story revised feed=Dev title="Smelter halts output in Belgium" rules=germanium-news'
        in polled.stderr
    )
    assert polled.stderr.count("story revised") == 1
    (tmp_path / "Dev.xml").write_bytes(rss([revised(1, f"Later: the smelter, {names}.", 0.1)]))
    again = watcher("--config", str(config), "once", "--force")
    assert "story revised" not in again.stderr  # its news item has alerted for the rule
    assert len(inbox.messages) == 1


def test_a_summary_rewritten_at_every_poll_alerts_for_no_rule_added_since(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path
) -> None:
    """A feed that rewrites its summaries at every poll ("posted 2 hours ago") revises
    nothing: a rule added since, which the stored summary matches as well, alerts no stored
    story; a new story that matches it does."""
    port, inbox = smtp
    slack_route(server, [])
    config = write_config(tmp_path, smtp_port=port, slack=server.url("/slack"))
    text = "Antimony prices rose in Rotterdam, posted {} hours ago."
    add_feed(config, "Dev", rss([revised(1, text.format(2), 0.1)]))
    watcher("--config", str(config), "once")
    rules = tmp_path / "rules" / "r.yaml"
    rules.write_text(rules.read_text() + ANTIMONY_RULE)
    (tmp_path / "Dev.xml").write_bytes(rss([
        revised(1, text.format(3), 0.1),
        developing(2, "Antimony output falls in Bolivia", 0.1),
    ]))  # fmt: skip
    polled = watcher("--config", str(config), "once", "--force")
    assert "story revised" not in polled.stderr
    assert [m["Subject"] for m in inbox.messages] == [
        "[watcher] antimony-news: Antimony output falls in Bolivia"
    ]


def test_outlets_google_news_lists_as_one_news_item_alert_once(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path
) -> None:
    """A Google News search lists two outlets' headlines of one news item as two entries,
    each listing the other as coverage of the same news: one alert, though the headlines
    share too few words to be linked on their text."""
    port, inbox = smtp
    slack_route(server, [])
    config = write_config(tmp_path, smtp_port=port, slack=server.url("/slack"))
    now = datetime.now(UTC)
    stories = [("AAA", "China curbs germanium exports", "Wire One"),
               ("BBB", "Beijing tightens its grip on germanium shipments", "Mine Daily")]  # fmt: skip

    def listed(own: tuple[str, str, str], other: tuple[str, str, str]) -> str:
        when = format_datetime(now - timedelta(hours=2 if own is stories[0] else 1))
        links = "".join(
            f'<li><a href="https://news.google.com/rss/articles/CBMi{code}?oc=5">{title}</a>'
            f'&nbsp;&nbsp;<font color="#6f6f6f">{outlet}</font></li>'
            for code, title, outlet in (own, other)
        )
        return (f"<item><title>{own[1]} - {own[2]}</title><link>https://news.google.com/rss/"
                f"articles/CBMi{own[0]}?oc=5</link><pubDate>{when}</pubDate><description>"
                f"{escape('<ol>' + links + '</ol>')}</description></item>")  # fmt: skip

    add_feed(config, "News", rss([listed(*stories), listed(*reversed(stories))]))
    watcher("--config", str(config), "once")
    assert [m["Subject"] for m in inbox.messages] == [
        "[watcher] germanium-news: China curbs germanium exports - Wire One"
    ]
    assert len(server.posts) == 1


def test_a_mineral_named_only_in_a_storys_full_text_alerts_with_an_excerpt(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path
) -> None:
    """A WordPress feed's description is an excerpt: germanium, named further down the
    article its `content:encoded` holds, alerts, and the alert shows where."""
    port, inbox = smtp
    slack_route(server, [])
    config = write_config(tmp_path, smtp_port=port, slack=server.url("/slack"))
    when = format_datetime(datetime.now(UTC) - timedelta(hours=1))
    filler = "The plant near Pavlodar ran at full rate through the spring. " * 4
    add_feed(config, "Mine", rss([
        f"<item><title>Pavlodar smelter lifts output</title><link>https://mine.test/p/</link>"
        f"<pubDate>{when}</pubDate><description>The smelter lifted output [&#8230;]</description>"
        f"<content:encoded>{escape(f'<p>The smelter lifted output.</p><p>{filler}</p>')}"
        f"{escape('<p>It will add a germanium line in 2027.</p>')}</content:encoded></item>"
    ]).replace(b'<rss version="2.0">', b'<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'))  # fmt: skip
    watcher("--config", str(config), "once")
    (mail,) = inbox.messages
    assert mail["Subject"] == "[watcher] germanium-news: Pavlodar smelter lifts output"
    lines = mail.get_body(preferencelist=("plain",)).get_content().splitlines()
    assert "The smelter lifted output […]" in lines  # the summary, as the feed gives it
    (excerpt,) = (line for line in lines if line.startswith("In the full text: …"))
    assert excerpt.endswith(" the spring. It will add a *germanium* line in 2027.")
    assert len(excerpt) < len("In the full text: …") + 2 + 100 + len("germanium line in 2027.")
    ((_, post),) = server.posts
    assert "It will add a *germanium* line" in json.dumps(json.loads(post))


def serve_corpus_feeds(server: FeedServer, corpus: Path) -> str:
    """The corpus feeds served over HTTP on 127.0.0.1, as config lines."""
    lines = []
    for path in sorted((corpus / "feeds").glob("*.xml")):
        server.feed(f"/corpus/{path.name}", path.read_bytes())
        lines.append(
            f"  - name: {path.stem.split('.')[0]}\n    url: {server.url('/corpus/' + path.name)}\n"
        )
    return "".join(lines)


def test_corpus_gallium_subscriber_gets_one_alert_per_cluster(
    server: FeedServer, smtp: tuple[int, Inbox], corpus: Path, tmp_path: Path
) -> None:
    port, inbox = smtp
    slack_route(server, [])
    config = tmp_path / "watcher.yaml"
    feeds = serve_corpus_feeds(server, corpus)
    config.write_text(
        f"state: w.db\nrules: {ROOT / 'rules'}\nbackfill: all\n"
        f"smtp: {{host: 127.0.0.1, port: {port}, security: none, from: watcher@test}}\n"
        f"subscribers:\n  - name: gallium\n    follow: [gallium]\n    email: g@test\n    slack: {server.url('/slack')}\n"
        f"feeds:\n{feeds}"
    )
    assert watcher("--config", str(config), "once").returncode == 0
    labelled = [json.loads(line) for line in (corpus / "stories.jsonl").read_text().splitlines()]
    events = {d["event"] for d in labelled if "gallium" in d["mentions"]["minerals"]}
    assert len(inbox.messages) == len(events) == len(server.posts)
    watcher("--config", str(config), "once")
    assert len(inbox.messages) == len(events) == len(server.posts)


# -- faults --------------------------------------------------------------------------------


def polled_for_slack_only(
    server: FeedServer, tmp_path: Path, clock: FakeClock, answers: list[tuple[int, dict[str, str]]]
) -> Harness:
    """The analyst by Slack alone, its stand-in answering `answers` in turn (then 200);
    the Wire feed polled once."""
    slack_route(server, answers)
    config = write_config(tmp_path, smtp_port=free_port(), slack=server.url("/slack"))
    config.write_text(config.read_text().replace("    email: analyst@test\n", ""))
    return wire_polled(config, clock)


def test_why_shows_a_pending_alerts_last_failure_and_the_attempts_it_spent(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    harness = polled_for_slack_only(server, tmp_path, clock, [(500, {})])
    assert [d.outcome for d in harness.deliver()] == ["retry"]
    (alert,) = harness.store.alerts()
    config = str(tmp_path / "watcher.yaml")
    why = watcher("--config", config, "why", alert.story).stdout
    expected = "(last try failed, 1 attempt spent: Slack webhook: HTTP 500 error)"
    assert f"#{alert.id} analyst by slack: pending, due " in why and expected in why, why


@contextlib.asynccontextmanager
async def slack_service(harness: Harness, clock: FakeClock) -> AsyncIterator[Any]:
    """A `Service` (not started) over the harness's store and config, with a real sender."""
    from watcher.schedule import Service

    fetcher = Fetcher(harness.config.poll)
    clusterer = Clusterer(harness.store, harness.config.clustering, clock)
    pipeline = Pipeline(store=harness.store, fetcher=fetcher, settings=harness.config.poll,
                        clock=clock, clusterer=clusterer)  # fmt: skip
    sender = Sender(store=harness.store, config=harness.config, client=fetcher.client,
                    clock=clock)  # fmt: skip
    try:
        yield Service(harness.config, pipeline, harness.store, clock=clock, sender=sender)
    finally:
        await fetcher.aclose()


async def rounds_ended(service: Any) -> None:
    """Until the rounds the service started have ended, and it has counted them."""
    while service.sender.sending:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0)  # the service's own look at each ended round


def test_a_round_the_locked_database_fails_is_logged_and_the_next_one_sends(
    server: FeedServer, tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """`watcher run` runs each lane's round as a task of its own. Another process holding
    the database's write lock past the busy timeout fails the round: logged with the
    store's error, the alert left pending, and the lane's next round sends it."""
    harness = polled_for_slack_only(server, tmp_path, clock, [])
    holder = write_locked(tmp_path / "w.db", seconds=7)

    async def two_rounds() -> list[str]:
        statuses = []
        async with slack_service(harness, clock) as service:
            for _ in range(2):
                await service.deliver("slack")
                await rounds_ended(service)
                statuses.append(harness.store.alerts()[0].status)
                holder.wait()
        return statuses

    with caplog.at_level(logging.INFO, logger="watcher.schedule"):
        assert asyncio.run(two_rounds()) == ["pending", "sent"]
    (failed,) = [r for r in caplog.records if r.getMessage() == "delivery round failed"]
    assert failed.event_fields["job"] == "deliver slack analyst"
    assert "locked" in failed.event_fields["error"]
    assert len(server.posts) == 1


def test_a_delivery_tick_the_database_fails_is_logged_and_the_next_one_sends(
    server: FeedServer, tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """The delivery job, and a poll that matched, start the rounds at once; a read of the
    outbox that fails is logged with the store's error, and raises into neither."""
    harness = polled_for_slack_only(server, tmp_path, clock, [])

    async def two_ticks() -> None:
        async with slack_service(harness, clock) as service:
            harness.store.db.execute("ALTER TABLE alerts RENAME TO alerts_away")
            service.start_rounds("slack")  # the outbox unreadable: logged, nothing started
            assert not service.sender.sending
            harness.store.db.execute("ALTER TABLE alerts_away RENAME TO alerts")
            await service.deliver("slack")
            await rounds_ended(service)

    with caplog.at_level(logging.INFO, logger="watcher.schedule"):
        asyncio.run(two_ticks())
    (failed,) = [r for r in caplog.records if r.getMessage() == "delivery failed"]
    assert failed.event_fields["channel"] == "slack"
    assert "no such table: alerts" in failed.event_fields["error"]
    assert len(server.posts) == 1 and harness.store.alerts()[0].status == "sent"


def test_slack_429_waits_as_told_then_delivers_once(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    harness = polled_for_slack_only(server, tmp_path, clock, [(429, {"Retry-After": "120"})])
    (first,) = harness.deliver()
    assert first.outcome == "retry"
    (alert,) = harness.store.alerts()
    assert alert.next_attempt_at >= clock.now + timedelta(seconds=120)
    clock.now += timedelta(seconds=60)
    assert harness.deliver() == [] and len(server.posts) == 1  # not before Retry-After
    clock.now += timedelta(seconds=200)
    (second,) = harness.deliver()
    assert second.outcome == "sent" and len(server.posts) == 2
    assert harness.store.alerts()[0].status == "sent"


@pytest.mark.parametrize("value", HOSTILE_RETRY_AFTER)
def test_slack_429_with_a_hostile_retry_after_waits_at_most_a_day(
    server: FeedServer, tmp_path: Path, clock: FakeClock, value: str
) -> None:
    """A Retry-After of centuries (or of digits HTTP does not know) neither crashes the
    round nor leaves the alert 'sending': it is retried within a day."""
    harness = polled_for_slack_only(server, tmp_path, clock, [(429, {"Retry-After": value})])
    (first,) = harness.deliver()
    assert first.outcome == "retry"
    (alert,) = harness.store.alerts()
    assert alert.status == "pending" and alert.next_attempt_at is not None
    assert alert.next_attempt_at <= clock.now + timedelta(days=1, minutes=1)
    clock.now += timedelta(days=1, minutes=1)
    (second,) = harness.deliver()
    assert second.outcome == "sent" and len(server.posts) == 2


def test_a_webhook_that_redirects_is_not_followed_and_the_alert_goes_dead(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    """A redirect is no delivery: the alert is not posted to wherever it points (an alert
    is not sent to a place the operator never named) and waits in the dead-letter list."""
    harness = polled_for_slack_only(
        server, tmp_path, clock, [(301, {"Location": server.url("/slack")})]
    )
    (first,) = harness.deliver()
    assert first.outcome == "dead" and "HTTP 301" in (first.error or "")
    assert len(server.posts) == 1


def test_a_clock_set_back_leaves_no_alert_or_lane_waiting_for_it(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    """An alert's retry, and its lane's hold, were set while the clock ran a year ahead:
    once the clock is put right, both lie further ahead than any wait the sender sets, so
    the alert goes at the next round instead of a year later."""
    right = clock.now
    clock.now = right + timedelta(days=365)
    harness = polled_for_slack_only(server, tmp_path, clock, [(503, {})])

    async def rounds() -> list[list[Delivery]]:
        fetcher = Fetcher(harness.config.poll)
        sender = Sender(
            store=harness.store, config=harness.config, client=fetcher.client, clock=clock,
            rules=LiveRules(harness.config.rules),
        )  # fmt: skip
        try:
            failed = await sender.deliver_due()  # the lane is held too, in this sender
            clock.now = right + timedelta(minutes=1)
            return [failed, await sender.deliver_due(), await sender.deliver_due()]
        finally:
            await fetcher.aclose()

    failed, sent, after = asyncio.run(rounds())
    assert [d.outcome for d in failed] == ["retry"] and [d.outcome for d in sent] == ["sent"]
    assert after == [] and len(server.posts) == 2  # once


def test_a_story_its_feed_still_lists_is_not_alerted_again_after_the_prune(
    tmp_path: Path, clock: FakeClock
) -> None:
    """With max_age off (or for an undated story), a story pruned after retention_days while
    its feed still listed it came back as new at the feed's next change, and alerted again."""
    config = write_config(tmp_path, smtp_port=free_port(), slack="http://127.0.0.1:9/slack")
    config.write_text(
        config.read_text().replace("backfill: all\n", "backfill: all\nmax_age: off\n")
    )
    harness = wire_polled(config, clock)
    alerted = len(harness.store.alerts())
    assert alerted > 0
    clock.now += timedelta(days=31)
    feeds = [f.name for f in harness.config.feeds]  # as the service's prune job passes them
    assert harness.store.prune_stories(clock.now - timedelta(days=30), feeds) == 0
    extra = b"<item><title>Port reopens</title><link>https://wire.test/port</link></item>"
    (tmp_path / "Wire.xml").write_bytes(WIRE.replace(b"</channel>", extra + b"</channel>"))
    harness.poll()
    assert len(harness.store.alerts()) == alerted


def test_smtp_down_then_up_delivers_once(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    port = free_port()
    _config, harness = polled_by_email_only(tmp_path, port, server, clock)
    (down,) = harness.deliver()
    assert down.outcome == "retry" and "SMTP 127.0.0.1" in (down.error or "")
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        clock.now += timedelta(minutes=5)
        (up,) = harness.deliver()
        assert up.outcome == "sent" and len(inbox.messages) == 1
        clock.now += timedelta(hours=1)
        assert harness.deliver() == [] and len(inbox.messages) == 1
    finally:
        controller.stop()


def test_an_alert_waiting_out_a_long_outage_keeps_its_story_past_the_prune(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    """With `retention_days: 1`, an SMTP server down over a weekend: the prune took the
    story its pending alert is about (its feed had moved on), and the alert died with an
    unexpected error when the server came back. Stories of alerts not yet sent are kept."""
    port = free_port()
    _config, harness = polled_by_email_only(tmp_path, port, server, clock)
    assert [d.outcome for d in harness.deliver()] == ["retry"]
    (tmp_path / "Wire.xml").write_bytes(rss(["<item><title>Port strike ends</title>"
                                             "<guid>other-1</guid></item>"]))  # fmt: skip
    clock.now += timedelta(hours=1)
    harness.poll()
    clock.now += timedelta(days=3)
    names = [f.name for f in harness.config.feeds]
    harness.store.prune_stories(clock.now - timedelta(days=1), names)
    assert harness.store.count_stories() == 2  # the alert's story, and the one listed now
    inbox = Inbox()
    with smtp_serving(inbox) as port_now:
        harness.config = replace(harness.config, smtp=replace(harness.config.smtp, port=port_now))
        assert [d.outcome for d in harness.deliver()] == ["sent"]
    assert len(inbox.messages) == 1
    harness.store.prune_stories(clock.now - timedelta(days=1), names)
    assert harness.store.count_stories() == 1  # sent: its story goes at the next prune


def test_the_prune_job_takes_the_clusters_it_leaves_without_stories(
    server: FeedServer, tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Stories went after `retention_days`, their clusters never: `watcher status` and
    /metrics counted every news item ever seen. The prune job takes both."""
    config = write_config(tmp_path, smtp_port=free_port(), slack=server.url("/slack"),
                          rules_yaml="  - name: r\n    when: tungsten\n")  # fmt: skip
    harness = wire_polled(config, clock)  # two news items, no alert
    (tmp_path / "Wire.xml").write_bytes(rss(["<item><title>Port strike ends</title>"
                                             "<guid>other-1</guid></item>"]))  # fmt: skip
    clock.now += timedelta(hours=1)
    harness.poll()
    assert (harness.store.count_stories(), harness.store.count_clusters()) == (3, 3)
    clock.now += timedelta(days=31)
    logged = run_prune(harness, clock, caplog)
    assert (harness.store.count_stories(), harness.store.count_clusters()) == (1, 1)
    assert logged["removed"] == 2 and logged["clusters"] == 2


def run_prune(
    harness: Harness, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> dict[str, Any]:
    """The service's prune job run once; the fields of its `pruned stories` line."""
    from watcher.schedule import Service

    async def prune() -> None:
        fetcher = Fetcher(harness.config.poll)
        clusterer = Clusterer(harness.store, harness.config.clustering, clock)
        pipeline = Pipeline(store=harness.store, fetcher=fetcher, settings=harness.config.poll,
                            clock=clock, clusterer=clusterer)  # fmt: skip
        try:
            await Service(harness.config, pipeline, harness.store, clock=clock).prune()
        finally:
            await fetcher.aclose()

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="watcher.prune"):
        asyncio.run(prune())
    (logged,) = [r for r in caplog.records if r.getMessage() == "pruned stories"]
    return logged.event_fields  # type: ignore[no-any-return]


def test_the_prune_job_takes_sent_alerts_once_their_news_item_went_and_their_time_passed(
    server: FeedServer, tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Alerts stayed for ever, as history: the table grew by every alert to every subscriber
    for as long as the service ran. A sent alert goes `alert_retention_days` after it was
    sent, once the prune has taken its news item; a newer one stays."""
    inbox = Inbox()
    with smtp_serving(inbox) as port:
        config, harness = polled_by_email_only(tmp_path, port, server, clock)
        config.write_text(
            config.read_text().replace("\nfeeds:", "\nalert_retention_days: 60\nfeeds:")
        )
        harness.config = replace(load_config(config, env={}), smtp=harness.config.smtp)
        assert harness.config.alert_retention_days == 60
        assert [d.outcome for d in harness.deliver()] == ["sent"]
        (tmp_path / "Wire.xml").write_bytes(rss(["<item><title>Port strike ends</title>"
                                                 "<guid>other-1</guid></item>"]))  # fmt: skip
        clock.now += timedelta(hours=1)
        harness.poll()
        clock.now += timedelta(days=31)
        assert run_prune(harness, clock, caplog)["alerts"] == 0  # sent 31 days ago
        assert harness.store.count_clusters() == 1  # the germanium story's went
        clock.now += timedelta(days=30)
        (tmp_path / "Wire.xml").write_bytes(rss([
            "<item><title>Germanium exports resume</title><guid>wire-200</guid><description>"
            "Germanium shipments leave the port again.</description></item>"
        ]))  # fmt: skip
        harness.poll()
        assert [d.outcome for d in harness.deliver()] == ["sent"]
    assert run_prune(harness, clock, caplog)["alerts"] == 1
    (left,) = harness.store.alerts()
    assert left.story == harness.store.recent_stories(clock.now - timedelta(days=1))[0].id


def wire_and_reprints_by_email(tmp_path: Path, port: int, server: FeedServer, clock: FakeClock,
                               extra: str = "") -> Harness:  # fmt: skip
    """Two news items (germanium, antimony), each a Wire story and its reprint, alerted to
    the analyst by email (and to `extra`'s subscribers)."""
    config = write_config(tmp_path, smtp_port=port, slack=server.url("/slack"), extra=extra,
                          rules_yaml=GERMANIUM_RULE + ANTIMONY_RULE)  # fmt: skip
    config.write_text(config.read_text().replace(f"    slack: {server.url('/slack')}\n", ""))
    add_feed(config, "Wire", WIRE)
    add_feed(config, "Reprints", REPRINT)
    harness = Harness(config, clock)
    harness.poll()
    return harness


def forget_stories(harness: Harness, alerts: list[Alert]) -> None:
    """The first alert's story goes from the database, and every story of the second's news
    item: as a prune could have taken them."""
    gone, emptied = alerts
    harness.store.db.execute("DELETE FROM stories WHERE id = ?", [gone.story])
    harness.store.db.execute("DELETE FROM stories WHERE cluster_id = ?", [emptied.cluster])


def test_an_alert_whose_story_is_gone_tells_of_its_news_item_by_its_lead(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path, clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """It went to the dead-letter list as an unexpected error, with a traceback. Now the
    news item's lead stands in for the story; one whose news item is gone too is dead, said
    so, alone."""
    port, inbox = smtp
    harness = wire_and_reprints_by_email(tmp_path, port, server, clock)
    alerts = sorted(harness.store.alerts(channel="email"), key=lambda a: a.id)
    forget_stories(harness, alerts)
    with caplog.at_level(logging.ERROR):
        outcomes = {d.alert: (d.outcome, d.error) for d in harness.deliver()}
    assert outcomes[alerts[0].id] == ("sent", None)
    outcome, error = outcomes[alerts[1].id]
    assert outcome == "dead" and "neither its story nor its news item is stored" in (error or "")
    (mail,) = inbox.messages
    assert "id=9101" in mail.get_body(preferencelist=("plain",)).get_content()  # the reprint
    assert not [r for r in caplog.records if "unexpected error" in r.getMessage()]


def test_a_digest_leaves_out_only_the_alert_whose_story_and_news_item_are_gone(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path, clock: FakeClock
) -> None:
    port, inbox = smtp
    clock.now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    harness = wire_and_reprints_by_email(tmp_path, port, server, clock, DIGEST_SUBSCRIBER)
    alerts = sorted(harness.store.alerts(subscriber="reader"), key=lambda a: a.id)
    forget_stories(harness, alerts)
    clock.now = datetime(2026, 11, 25, 7, 0, 1, tzinfo=UTC)  # past 08:00 in Berlin
    outcomes = {d.alert: d.outcome for d in harness.deliver() if d.subscriber == "reader"}
    assert outcomes == {alerts[0].id: "sent", alerts[1].id: "dead"}
    (digest,) = [m for m in inbox.messages if m["To"] == "reader@test"]
    assert digest["Subject"] == "[watcher] digest for reader: 1 news item"


SUBSCRIBERS_BC = "".join(
    f"  - name: {name}\n    follow: [metals]\n    email: {name}@test\n" for name in ("b", "c")
)


def three_by_email(
    folder: Path,
    smtp_port: int,
    server: FeedServer,
    clock: FakeClock,
    rules_yaml: str = GERMANIUM_RULE,
) -> Harness:
    """analyst, b and c follow the metals rules by email (analyst by Slack too); the Wire
    feed polled once: one news item (two with ANTIMONY_RULE) for each of them."""
    config = write_config(folder, smtp_port=smtp_port, slack=server.url("/slack"),
                          extra=SUBSCRIBERS_BC, rules_yaml=rules_yaml)  # fmt: skip
    return wire_polled(config, clock)


def by_webhook(url: Any) -> str:
    """Config lines of subscribers a and b, following the metals rules by webhook at
    `url(name)`."""
    return "".join(
        f"  - name: {name}\n    follow: [metals]\n    webhook: {url(name)}\n" for name in "ab"
    )


def two_by_webhook(
    tmp_path: Path, server: FeedServer, clock: FakeClock, url: Any, *, email: bool = True
) -> Harness:
    """a and b follow the metals rules by webhook, at `url(name)`, beside the analyst
    (without email, given `email=False`); the Wire feed polled once: two news items."""
    config = write_config(tmp_path, smtp_port=free_port(), slack=server.url("/slack"),
                          extra=by_webhook(url), rules_yaml=GERMANIUM_RULE + ANTIMONY_RULE)  # fmt: skip
    if not email:
        config.write_text(config.read_text().replace("    email: analyst@test\n", ""))
    return wire_polled(config, clock)


@contextmanager
def smtp_serving(handler: Inbox) -> Iterator[int]:
    """An aiosmtpd server with `handler`, on a free port, for the block."""
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()


def by_email_without_smtputf8(
    tmp_path: Path, server: FeedServer, clock: FakeClock, port: int, addresses: dict[str, str],
    sender: str = "watcher@test",
) -> Harness:  # fmt: skip
    """Subscribers by email at `addresses` (name: address; the analyst's first), following
    the metals rules; the Wire feed polled once: one news item each."""
    first = addresses.pop("analyst")
    extra = "".join(
        f"  - name: {name}\n    follow: [metals]\n    email: '{address}'\n"
        for name, address in addresses.items()
    )
    config = write_config(tmp_path, smtp_port=port, slack=server.url("/slack"), extra=extra)
    text = config.read_text().replace(f"    slack: {server.url('/slack')}\n", "")
    text = text.replace("from: watcher@test", f"from: '{sender}'")
    config.write_text(text.replace("    email: analyst@test\n", f"    email: '{first}'\n"))
    return wire_polled(config, clock)


def test_a_domain_not_in_ascii_is_sent_in_its_idna_form(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    """A server without SMTPUTF8 (many have none) takes ana@xn--bcher-kva.test, not
    ana@bücher.test: the email failed, as the server's failure, holding every email."""
    with smtp_server(enable_SMTPUTF8=False) as (inbox, port):
        harness = by_email_without_smtputf8(
            tmp_path, server, clock, port, {"analyst": "Ana Müller <ana@bücher.test>"}
        )
        assert [d.outcome for d in harness.deliver() if d.channel == "email"] == ["sent"]
    (mail,) = inbox.messages
    assert mail["To"].addresses[0].display_name == "Ana Müller"
    assert mail["To"].addresses[0].addr_spec == "ana@xn--bcher-kva.test"


def test_a_local_part_not_in_ascii_fails_its_email_alone(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    """A recipient's address that needs SMTPUTF8, at a server without it, is that email's
    failure for good: the other subscribers' emails go in the same round. The sender's
    holds every email, as a refused sender does, until the config is fixed."""
    with smtp_server(enable_SMTPUTF8=False) as (inbox, port):
        addresses = {"analyst": "анна@test", "b": "b@test"}
        harness = by_email_without_smtputf8(tmp_path, server, clock, port, addresses)
        outcomes = {d.subscriber: d.outcome for d in harness.deliver() if d.channel == "email"}
        assert outcomes == {"analyst": "dead", "b": "sent"} and len(inbox.messages) == 1
        (dead,) = [a for a in harness.store.alerts() if a.status == "dead"]
        assert "no SMTPUTF8" in (dead.last_error or "")
    with smtp_server(enable_SMTPUTF8=False) as (inbox, port):
        addresses = {"analyst": "a@test", "b": "b@test"}
        (tmp_path / "sender").mkdir()
        harness = by_email_without_smtputf8(
            tmp_path / "sender", server, clock, port, addresses, sender="вотчер@test"
        )
        outcomes = {d.subscriber: d.outcome for d in harness.deliver() if d.channel == "email"}
        assert "dead" not in outcomes.values() and inbox.messages == []
        assert all(a.status == "pending" for a in harness.store.alerts() if a.channel == "email")


def test_a_round_of_emails_shares_one_smtp_connection(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path, clock: FakeClock
) -> None:
    """A burst of alerts logs in once, not once an email, which providers may refuse."""
    port, inbox = smtp
    harness = three_by_email(tmp_path, port, server, clock, GERMANIUM_RULE + ANTIMONY_RULE)
    done = [d.outcome for d in harness.deliver() if d.channel == "email"]
    assert done == ["sent"] * 6
    assert sorted(m["To"] for m in inbox.messages) == sorted(
        ["analyst@test", "b@test", "c@test"] * 2
    )
    assert len(set(inbox.peers)) == 1


class HangingUpInbox(Inbox):
    """An SMTP server that hangs up after each message it takes."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        asyncio.get_running_loop().call_soon(server.transport.close)  # after the reply
        return await super().handle_DATA(server, session, envelope)


def test_an_smtp_server_that_hangs_up_after_each_email_gets_each_once(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    """A shared connection that the server dropped is opened again for the next email."""
    inbox = HangingUpInbox()
    with smtp_serving(inbox) as port:
        harness = three_by_email(tmp_path, port, server, clock)
        done = [d.outcome for d in harness.deliver() if d.channel == "email"]
    assert done == ["sent"] * 3
    assert sorted(m["To"] for m in inbox.messages) == ["analyst@test", "b@test", "c@test"]
    assert len(set(inbox.peers)) == 3


def delivery_rounds(harness: Harness, steps: list[Any], channel: str = "email") -> list[list[str]]:
    """Rounds of one long-lived Sender on `channel`, as `watcher run` makes them: each step
    is None for a round, or a callable run between rounds (given the sender). Returns each
    round's outcomes, by subscriber."""

    async def go() -> list[list[str]]:
        fetcher = Fetcher(harness.config.poll)
        sender = Sender(store=harness.store, config=harness.config, client=fetcher.client,
                        clock=harness.clock)  # fmt: skip
        rounds = []
        try:
            for step in steps:
                if step is None:
                    done = await sender.deliver_due(channel=channel)
                    rounds.append(sorted(f"{d.subscriber}:{d.outcome}" for d in done))
                else:
                    step(sender)
        finally:
            await fetcher.aclose()
        return rounds

    return asyncio.run(go())


def test_a_down_smtp_server_is_tried_once_a_backoff_not_once_an_email(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    """The server's failure holds its lane: the emails behind the one that failed wait,
    untried, instead of each spending an attempt on a server that is down. A config
    reload (which may mend the address) and the end of the backoff lift the hold."""
    port = free_port()
    harness = three_by_email(tmp_path, port, server, clock)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)

    def later(seconds: float) -> Any:
        return lambda _sender: setattr(clock, "now", clock.now + timedelta(seconds=seconds))

    rounds = delivery_rounds(harness, [
        None, later(2), None,  # held: retry_base is 10 s
        lambda sender: sender.use_config(harness.config), None,  # tried again, held again
        lambda _sender: controller.start(), later(2), None,  # still held
        later(30), None,  # all three, one of them on its third try
    ])  # fmt: skip
    controller.stop()
    assert rounds[0] in (["analyst:retry"], ["b:retry"], ["c:retry"])
    assert rounds[1] == []
    assert len(rounds[2]) == 1 and rounds[2][0].endswith(":retry")
    assert rounds[3] == []
    assert rounds[4] == ["analyst:sent", "b:sent", "c:sent"]
    failed_tries = [a.attempts for a in harness.store.alerts() if a.channel == "email"]
    assert sorted(failed_tries) == [0, 1, 1]
    assert len(set(inbox.peers)) == 1


@pytest.mark.parametrize("ended_by", ["its end", "a config reload"])
def test_once_the_server_is_back_the_alerts_that_failed_go_at_once(
    server: FeedServer, tmp_path: Path, clock: FakeClock, ended_by: str
) -> None:
    """The first send after a hold (ended, or lifted by a config reload) makes the lane's
    failed alerts due at once, not at the end of their own backoff (up to retry_max); a
    hold, however long the outage, lasts at most HOLD_MAX_SECONDS (but for a
    Retry-After)."""
    inbox = Inbox()
    with smtp_serving(inbox) as port:
        harness = three_by_email(tmp_path, port, server, clock)
        first = min(a.id for a in harness.store.alerts() if a.channel == "email")
        until = clock.now + timedelta(seconds=-1 if ended_by == "its end" else 60)

        def after_an_outage(sender: Sender) -> None:
            harness.store.mark_failed(first, "SMTP down", clock.now + timedelta(hours=1))
            sender.holds[("email", "")] = Hold(6, until, "SMTP down")
            if ended_by == "a config reload":
                sender.use_config(harness.config)

        rounds = delivery_rounds(harness, [after_an_outage, None, None])
    assert len(rounds[0]) == 2 and len(rounds[1]) == 1 and len(inbox.messages) == 3

    async def hold_after(failures: int, retry_after: float | None) -> timedelta:
        fetcher = Fetcher(harness.config.poll)
        sender = Sender(store=harness.store, config=harness.config, client=fetcher.client,
                        clock=clock)  # fmt: skip
        sender.holds[("email", "")] = Hold(failures, clock.now, "down")
        error = DeliveryError("down", transient=True, server_wide=True, retry_after=retry_after)
        sender._hold_if_server(harness.store.alerts()[0], error)
        await fetcher.aclose()
        return sender.holds[("email", "")].until - clock.now

    assert asyncio.run(hold_after(20, None)) <= timedelta(seconds=HOLD_MAX_SECONDS)
    assert asyncio.run(hold_after(20, 3600)) == timedelta(seconds=3600)
    # a server down for weeks: 5-minute holds, thousands of failures in a row
    assert asyncio.run(hold_after(5000, None)) <= timedelta(seconds=HOLD_MAX_SECONDS)


def queue_slack_alert(store: Store, cluster: int, story: str, at: datetime) -> None:
    """The analyst's Slack alert of a news item, matched by `story` and due at `at`, queued
    as a rule match queues it."""
    match = Match(
        cluster=cluster, rule="germanium-news", story=story, terms={}, clause="c",
        ruleset_version="v", matched_at=at,
    )  # fmt: skip
    store.record_matches(
        [match], lambda m: [AlertPlan(subscriber="analyst", channel="slack", due=at)]
    )


def test_an_outage_however_long_sends_no_alert_to_the_dead_letter_list(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    """A server down for hours: the failure that found it down spends an attempt, the
    probes of the held lane after it do not (max_attempts is 3 here, the probes 12), so
    no alert dies of the outage, and all go once the server is back."""
    answers: list[tuple[int, dict[str, str]]] = [(503, {})] * 12
    harness = polled_for_slack_only(server, tmp_path, clock, answers)
    # a second news item: an alert behind the first
    queue_slack_alert(harness.store, 99, harness.store.alerts()[0].story, clock.now)

    def later(_sender: Sender) -> None:
        clock.now += timedelta(minutes=10)

    rounds = delivery_rounds(harness, [None, later] * 14, channel="slack")
    outcomes = [outcome for round_ in rounds for outcome in round_]
    assert outcomes.count("analyst:retry") == 12 and "analyst:dead" not in outcomes
    assert outcomes.count("analyst:sent") == 2 and len(server.posts) == 14
    assert max(a.attempts for a in harness.store.alerts()) == 1


def test_an_alert_the_server_fails_alone_still_dies_while_others_go(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    """A server that answers 5xx to one alert alone (its own content) looks down at each
    of its tries; but the others on the lane go between them, so each try is counted and
    it reaches the dead-letter list after max_attempts (3), holding no other alert up."""

    def slack(handler: BaseHTTPRequestHandler) -> None:
        poison = b"Antimony" in server.posts[-1][1]  # the body the server read
        send(handler, 500 if poison else 200, b"error" if poison else b"ok", "text/plain")

    config = write_config(tmp_path, smtp_port=free_port(), slack=server.url("/slack"),
                          rules_yaml=GERMANIUM_RULE + ANTIMONY_RULE)  # fmt: skip
    config.write_text(config.read_text().replace("    email: analyst@test\n", ""))
    harness = wire_polled(config, clock)
    server.routes["/slack"] = slack
    germanium = next(a.story for a in harness.store.alerts() if a.rule == "germanium-news")
    steps: list[Any] = []
    for cluster in range(100, 104):  # a news item on the lane every 10 minutes

        def news(_sender: Sender, cluster: int = cluster) -> None:
            clock.now += timedelta(minutes=10)
            queue_slack_alert(harness.store, cluster, germanium, clock.now)

        steps += [news, None, None]
    delivery_rounds(harness, [None, *steps], channel="slack")
    (poison,) = [a for a in harness.store.alerts() if a.rule == "antimony-news"]
    assert poison.status == "dead" and poison.attempts == 3
    assert [a.status for a in harness.store.alerts() if a.rule != "antimony-news"] == ["sent"] * 5


def test_a_webhook_answering_503_is_held_alone(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    """HTTP 5xx is the server's failure: that subscriber's webhook waits out its backoff,
    and the other subscriber's alerts go on."""
    server.routes["/hook-a"] = lambda h: send(h, 503, b"busy", "text/plain")
    server.routes["/hook-b"] = lambda h: send(h, 200, b"ok", "text/plain")
    harness = two_by_webhook(tmp_path, server, clock, lambda name: server.url(f"/hook-{name}"))
    rounds = delivery_rounds(harness, [None, None], channel="webhook")
    assert rounds == [["a:retry", "b:sent", "b:sent"], []]
    assert sorted(path for path, _ in server.posts) == ["/hook-a", "/hook-b", "/hook-b"]


def test_the_outbox_leaves_out_held_lanes_before_its_limit(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    """A held lane's backlog never fills a round's limit ahead of the other lanes."""
    harness = two_by_webhook(tmp_path, server, clock, lambda name: f"https://{name}.test/hook")
    due = harness.store.due_alerts

    def lanes(alerts: list[Alert]) -> list[str]:
        return sorted(f"{a.channel}:{a.subscriber}" for a in alerts)

    assert lanes(due(clock.now, 2, "webhook", [("webhook", "a")])) == ["webhook:b"] * 2
    everything_but_email = due(clock.now, 100, None, [("email", ""), ("webhook", "b")])
    assert lanes(everything_but_email) == ["slack:analyst"] * 2 + ["webhook:a"] * 2


def test_an_unexpected_error_while_sending_puts_the_alert_in_the_dead_letter_list(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    """A bug, or input no check foresaw, must not leave an alert 'sending' until a restart:
    it is logged and the alert is dead, with the error, for `watcher alerts retry`."""
    config = write_config(tmp_path, smtp_port=free_port(), slack=server.url("/slack"),
                          extra="  - name: ops\n    follow: [metals]\n    console: true\n")  # fmt: skip
    add_feed(config, "Wire", WIRE)
    harness = Harness(config, clock)
    harness.poll()

    def broken_console(message: object, alert: Alert) -> None:
        raise RuntimeError("the console is broken")

    async def go() -> list[Any]:
        fetcher = Fetcher(harness.config.poll)
        sender = Sender(store=harness.store, config=harness.config, client=fetcher.client,
                        clock=clock, console=broken_console)  # fmt: skip
        try:
            return await sender.deliver_due(channel="console")
        finally:
            await fetcher.aclose()

    (result,) = asyncio.run(go())
    assert result.outcome == "dead" and "RuntimeError('the console is broken')" in result.error
    (alert,) = harness.store.alerts(channel="console")
    assert alert.status == "dead" and "unexpected error" in (alert.last_error or "")


class MailboxFullFor(Inbox):
    """An SMTP server that refuses one recipient with `reply`: by default for now (452), as
    a full mailbox."""

    def __init__(self, full: str, reply: str = "452 4.2.2 Mailbox full") -> None:
        super().__init__()
        self.full = full
        self.reply = reply

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address == self.full:
            return self.reply
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_a_recipient_refused_for_now_holds_up_no_other_email(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    """One email's failure is retried alone; the server's other emails go on."""
    inbox = MailboxFullFor("b@test")
    with smtp_serving(inbox) as port:
        harness = three_by_email(tmp_path, port, server, clock)
        rounds = delivery_rounds(harness, [None, None])
    assert rounds == [["analyst:sent", "b:retry", "c:sent"], []]
    assert sorted(m["To"] for m in inbox.messages) == ["analyst@test", "c@test"]


def test_an_email_some_recipients_refuse_for_now_reaches_them_later_and_no_one_twice(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    """A subscriber's email to two addresses, one of them refused for now (452): the other
    gets it at once, the refused one at the retry, and neither twice. It went as sent,
    and the refused address never had it."""
    inbox = MailboxFullFor("b2@test")
    with smtp_serving(inbox) as port:
        config = write_config(tmp_path, smtp_port=port, slack=server.url("/slack"),
                              extra=SUBSCRIBERS_BC.replace("b@test", "'b@test, b2@test'"))  # fmt: skip
        harness = wire_polled(config, clock)

        def mailbox_emptied(sender: Sender) -> None:
            inbox.full = ""
            clock.now += timedelta(minutes=1)

        rounds = delivery_rounds(harness, [None, None, mailbox_emptied, None, None])
    assert rounds == [["analyst:sent", "b:retry", "c:sent"], [], ["b:sent"], []]
    to_b = [e for e in inbox.envelopes if "b@test" in e or "b2@test" in e]
    assert to_b == [["b@test"], ["b2@test"]]
    (alert,) = harness.store.alerts(subscriber="b")
    assert alert.status == "sent" and alert.attempts == 1


def test_an_email_one_recipient_refuses_for_good_is_sent_with_the_refusal_noted(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    """A 550 for one of a subscriber's addresses (a typo, a closed mailbox) is not tried
    again; the alert is sent to the others, and `watcher alerts` shows the refusal."""

    inbox = MailboxFullFor("b2@test", "550 5.1.1 No such user")
    with smtp_serving(inbox) as port:
        config = write_config(tmp_path, smtp_port=port, slack=server.url("/slack"),
                              extra=SUBSCRIBERS_BC.replace("b@test", "'b@test, b2@test'"))  # fmt: skip
        harness = wire_polled(config, clock)
        rounds = delivery_rounds(harness, [None, None])
    assert rounds == [["analyst:sent", "b:sent", "c:sent"], []]
    (alert,) = harness.store.alerts(subscriber="b")
    assert alert.status == "sent" and "b2@test (550 5.1.1 No such user)" in (alert.last_error or "")
    assert [e for e in inbox.envelopes if "b@test" in e] == [["b@test"]]
    why = watcher("--config", str(config), "why", alert.story).stdout
    assert f"#{alert.id} b by email: sent " in why and "b2@test (550 5.1.1" in why, why


def test_an_smtp_reply_is_one_line_of_the_servers_words(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    """A reply of several lines kept its line breaks in the alert's last error (a row of
    `watcher alerts` broken in two), and an escape sequence in it acted on the terminal."""

    reply = "550-5.1.1 \x1b[2J\x1b[31mNo such user\r\n550 5.1.1 See the help page"
    with smtp_serving(MailboxFullFor("b2@test", reply)) as port:
        config = write_config(tmp_path, smtp_port=port, slack=server.url("/slack"),
                              extra=SUBSCRIBERS_BC.replace("b@test", "'b@test, b2@test'"))  # fmt: skip
        harness = wire_polled(config, clock)
        delivery_rounds(harness, [None])
    (alert,) = harness.store.alerts(subscriber="b")
    assert "b2@test (550 5.1.1 \\x1b[2J\\x1b[31mNo such user 5.1.1 See the help page)" in (
        alert.last_error or ""
    )


def test_a_reply_without_a_code_is_the_servers_fault_and_said_so() -> None:
    """smtplib's code -1 (`25O ok`, noise): the alert went to the dead-letter list at once
    as `-1 ok`; such a server holds every email until it answers right."""
    import smtplib

    from watcher.alerts.mail import _delivery_error

    error = _delivery_error("SMTP mail.test:25", smtplib.SMTPResponseException(-1, b"ok"))
    assert str(error) == "SMTP mail.test:25: a reply with no reply code ('ok' after it)"
    assert error.transient and error.server_wide


class SenderRefused(Inbox):
    """An SMTP server that will not take mail from the configured sender."""

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        return "553 5.7.1 Sender address rejected: not owned by user"


def test_an_smtp_server_refusing_its_greeting_or_sender_dead_letters_no_alert(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    """A 5xx before any recipient is named is the server's or the config's: the alerts
    wait for a fix (held, retried), where each went to the dead-letter list."""
    greeting_554 = socket.create_server(("127.0.0.1", 0))

    def greet() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = greeting_554.accept()
                with conn:
                    conn.sendall(b"554 5.3.2 No SMTP service here\r\n")

    threading.Thread(target=greet, daemon=True).start()
    outcomes = []
    try:
        with smtp_serving(SenderRefused()) as refused:
            for port in (greeting_554.getsockname()[1], refused):
                (tmp_path / str(port)).mkdir()
                harness = three_by_email(tmp_path / str(port), port, server, clock)
                outcomes += delivery_rounds(harness, [None])
                (failed,) = [a for a in harness.store.alerts() if a.attempts]
                assert failed.status == "pending"
                said = "554 5.3.2 No SMTP service here" if port != refused else "553 5.7.1"
                assert f"SMTP 127.0.0.1:{port}: {said}" in (failed.last_error or "")
    finally:
        greeting_554.close()
    assert [len(round_) for round_ in outcomes] == [1, 1]
    assert all(outcome.endswith(":retry") for round_ in outcomes for outcome in round_)


class HungSmtp:
    """An SMTP server that takes connections and never greets: a client waits for its
    timeout. Counts the connections made and those still open."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.accepted = 0
        self.open = 0
        self.first_closed = threading.Event()  # the first connection's client gave up
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            self.open += 1
            self.connections.append(conn)
            threading.Thread(target=self._hold, args=(conn, self.accepted), daemon=True).start()

    def _hold(self, conn: socket.socket, number: int) -> None:
        with conn:
            try:
                while conn.recv(1024):  # until the client hangs up
                    pass
            except OSError:
                pass
        self.open -= 1
        if number == 1:
            self.first_closed.set()

    def close(self) -> None:
        """Stop listening, and hang up on every client waiting for a greeting."""
        self.listener.close()
        for conn in self.connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class TricklingSmtp(HungSmtp):
    """An SMTP server that greets without end: a "220-" line every 0.2 s, each well within
    a client's timeout, until the client hangs up."""

    def _hold(self, conn: socket.socket, number: int) -> None:
        with conn:
            try:
                while True:
                    conn.sendall(b"220-still greeting\r\n")
                    time.sleep(0.2)
            except OSError:
                pass
        self.open -= 1
        if number == 1:
            self.first_closed.set()


def test_an_smtp_server_that_trickles_its_replies_fails_the_send_in_bounded_time() -> None:
    """Every read is within the timeout, so only a limit on the whole exchange ends it; the
    connection is shut, so the send's thread ends too."""
    from watcher.alerts.mail import SEND_TIMEOUTS, SmtpSession
    from watcher.config.settings import SmtpSettings

    smtp = TricklingSmtp()
    settings = SmtpSettings(host="127.0.0.1", port=smtp.port, security="none", timeout=1.0)
    mail = EmailMessage()
    mail["Subject"], mail["From"], mail["To"] = "x", "w@test", "a@test"

    async def send() -> float:
        started = time.monotonic()
        session = SmtpSession(settings)
        try:
            with pytest.raises(DeliveryError) as caught:
                await session.send(mail, ["a@test"])
        finally:
            await session.close()
        assert caught.value.transient and caught.value.server_wide
        assert f"did not end within {SEND_TIMEOUTS:g} s" in str(caught.value)
        return time.monotonic() - started

    try:
        took = asyncio.run(send())
        assert SEND_TIMEOUTS <= took < SEND_TIMEOUTS + 2
        assert smtp.first_closed.wait(3)  # hung up: the thread reading it has ended
    finally:
        smtp.close()


def _scripted_smtp(replies: dict[bytes, bytes]) -> socket.socket:
    """An SMTP server that greets 220 and answers each command by its first word from
    `replies` (250 for any other), until QUIT; for one connection."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with contextlib.suppress(OSError):
            conn, _ = listener.accept()
            with conn, conn.makefile("rb") as lines:
                conn.sendall(b"220 mail.test\r\n")
                for line in lines:
                    word = line.split()[0].upper() if line.split() else b""
                    conn.sendall(replies.get(word, b"250 ok\r\n"))
                    if word == b"QUIT":
                        return

    threading.Thread(target=serve, daemon=True).start()
    return listener


@pytest.mark.parametrize(
    ("security", "replies", "said"),
    [("none", {b"EHLO": b"250-mail.test\r\n250 AUTH LOGIN\r\n", b"AUTH": b"334 abcde\r\n"},
      "SMTPException: the server's AUTH challenge is no base64 (Invalid base64-encoded"),
     ("tls", {}, "SSLError: [SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)"
      " (the server speaks no TLS there: port 587 and 25 take security: starttls)")],
    ids=["auth-challenge", "tls-to-a-plain-port"],
)  # fmt: skip
def test_an_smtp_server_that_cannot_be_logged_in_to_is_said_why(
    security: str, replies: dict[bytes, bytes], said: str
) -> None:
    """A challenge that is no base64 raised binascii.Error out of smtplib: an unexpected
    error, the alert dead at once; `security: tls` to a port of STARTTLS said only
    `WRONG_VERSION_NUMBER`."""
    from watcher.alerts.mail import SmtpSession
    from watcher.config.settings import SmtpSettings

    smtp = _scripted_smtp(replies)
    port = smtp.getsockname()[1]
    settings = SmtpSettings(host="127.0.0.1", port=port, security=security, timeout=3.0,
                            username="u", password="p")  # fmt: skip
    mail = EmailMessage()
    mail["Subject"], mail["From"], mail["To"] = "x", "w@test", "a@test"

    async def send() -> DeliveryError:
        session = SmtpSession(settings)
        try:
            with pytest.raises(DeliveryError) as caught:
                await session.send(mail, ["a@test"])
            return caught.value
        finally:
            await session.close()

    try:
        error = asyncio.run(send())
    finally:
        smtp.close()
    assert str(error).startswith(f"SMTP 127.0.0.1:{port}: {said}")
    assert error.transient and error.server_wide


def test_a_hung_smtp_server_holds_up_no_slack_alert(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    """Each channel is delivered in a lane of its own; a lane stops at a failure that may
    pass, so one hung server costs one timeout a round, not one an alert."""
    smtp = HungSmtp()
    posted_while_smtp_hung = []

    def slack(handler: BaseHTTPRequestHandler) -> None:
        deadline = time.monotonic() + 2
        while smtp.open == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        posted_while_smtp_hung.append(smtp.open > 0)
        send(handler, 200, b"ok", "text/plain")

    server.routes["/slack"] = slack
    config = write_config(tmp_path, smtp_port=smtp.port, slack=server.url("/slack"),
                          rules_yaml=GERMANIUM_RULE + ANTIMONY_RULE)  # fmt: skip
    config.write_text(
        config.read_text().replace("from: watcher@test}", "from: w@test, timeout: 4s}")
    )
    add_feed(config, "Wire", WIRE)  # a germanium and an antimony story: two news items
    harness = Harness(config, clock)
    harness.poll()
    try:
        done = sorted((d.channel, d.outcome) for d in harness.deliver())
    finally:
        smtp.close()
    assert done == [("email", "retry"), ("slack", "sent"), ("slack", "sent")]
    assert posted_while_smtp_hung == [True, True]
    assert smtp.accepted == 1  # the second email waits for the next round
    untried = [a for a in harness.store.alerts() if a.channel == "email" and a.attempts == 0]
    assert len(untried) == 1 and untried[0].status == "pending"


@pytest.mark.parametrize(
    ("status", "charset", "outcome"),
    [(500, "utf-8", "transient"), (404, "no-such-charset", "permanent"), (200, None, None)],
)
def test_a_receiver_that_never_stops_replying_is_read_no_further_than_its_start(
    server: FeedServer, status: int, charset: str | None, outcome: str | None
) -> None:
    """A webhook URL that answers with an endless body (a download, a stream, a hostile
    server) costs the start of its reply, not memory and time without end: the error
    quotes its first characters."""
    stop = threading.Event()

    def endless(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        kind = "text/plain" + (f"; charset={charset}" if charset else "")
        handler.send_header("Content-Type", kind)
        handler.end_headers()  # no length: the body ends when the connection does
        with contextlib.suppress(OSError):
            handler.wfile.write(b"Service down: " + b"x" * 65536)
            while not stop.wait(0.01):
                handler.wfile.write(b"y" * 65536)

    server.routes["/hook"] = endless

    async def post() -> None:
        from watcher.alerts.webhooks import post_json

        async with httpx.AsyncClient(timeout=5) as client:
            await post_json(client, server.url("/hook"), {"text": "hi"}, "webhook", "k1", limit=60)

    try:
        if outcome is None:
            asyncio.run(asyncio.wait_for(post(), 10))
            return
        with pytest.raises(DeliveryError) as caught:
            asyncio.run(asyncio.wait_for(post(), 10))
    finally:
        stop.set()
    assert str(caught.value) == f"webhook: HTTP {status} Service down: " + "x" * 186
    assert caught.value.transient == (outcome == "transient")


def _post_to_raw_answer(answer: bytes, path: str, then: float = 0.0) -> DeliveryError | None:
    """Post to a socket that answers `answer` (then waits `then` seconds before it closes),
    through the service's own transport (aiohttp's); the DeliveryError, or None."""
    from watcher.alerts.webhooks import post_json
    from watcher.config import PollSettings

    async def post(url: str) -> DeliveryError | None:
        fetcher = Fetcher(PollSettings())
        try:
            await post_json(fetcher.client, url, {"text": "hi"}, "Slack webhook", "k1", limit=2)
        except DeliveryError as exc:
            return exc
        finally:
            await fetcher.aclose()
        return None

    with answering_once(answer, then) as port:
        return asyncio.run(post(f"http://127.0.0.1:{port}{path}"))


def test_a_reason_phrase_in_latin_1_is_no_unexpected_error() -> None:
    """httpx-aiohttp encoded a status line's phrase again as UTF-8, strictly: a receiver's
    Latin-1 phrase raised UnicodeEncodeError, and the alert went to the dead-letter list as
    an unexpected error though the receiver had taken it."""
    assert _post_to_raw_answer(b"HTTP/1.1 200 R\xe9ussi\r\nContent-Length: 0\r\n\r\n", "/") is None
    error = _post_to_raw_answer(b"HTTP/1.1 503 Indisponible \xe0 cette heure\r\n\r\n", "/")
    assert error is not None and error.transient and str(error) == "Slack webhook: HTTP 503"


def test_a_reply_aiohttp_cannot_read_is_a_delivery_error_that_names_no_secret() -> None:
    """aiohttp's parser error escaped as itself, no DeliveryError: the alert went to the
    dead-letter list as an `unexpected error` whose repr held the request, the Slack
    webhook's secret URL in it, and its traceback was logged."""
    error = _post_to_raw_answer(b"HTTP/1.1 abc Bad\r\n\r\n", "/services/T0/B0/s3cr3tPath")
    assert error is not None and error.transient and error.server_wide
    assert str(error) == "Slack webhook: broken HTTP response: Bad status line: Invalid status code"


@pytest.mark.parametrize(
    ("answer", "then"),
    [(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 2\r\n\r\nok", 0.0),
     (b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nok", 0.0),
     (b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nok", 3.0)],
    ids=["not-gzip", "cut-short", "past-the-limit"],
)  # fmt: skip
def test_a_2xx_is_a_delivery_whatever_becomes_of_its_body(answer: bytes, then: float) -> None:
    """The receiver took the message: a reply body labelled gzip that is not, cut short,
    or still coming at the exchange's limit failed the post, and its retry delivered the
    alert twice."""
    assert _post_to_raw_answer(answer, "/hook", then) is None


def test_a_receiver_that_trickles_its_reply_fails_the_post_in_bounded_time(
    server: FeedServer,
) -> None:
    """Each byte of the reply's head comes within the client's read timeout: only the limit
    on the whole exchange ends it."""
    stop = threading.Event()

    def trickle(handler: BaseHTTPRequestHandler) -> None:
        with contextlib.suppress(OSError):
            handler.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            while not stop.wait(0.2):
                handler.wfile.write(b"y")
                handler.wfile.flush()

    server.routes["/hook"] = trickle

    async def post() -> float:
        from watcher.alerts.webhooks import post_json

        started = time.monotonic()
        async with httpx.AsyncClient(timeout=5) as client:
            with pytest.raises(DeliveryError) as caught:
                await post_json(client, server.url("/hook"), {}, "webhook", "k1", limit=2)
        assert str(caught.value).startswith("webhook: the exchange did not end within 2 s")
        assert caught.value.transient and caught.value.server_wide
        return time.monotonic() - started

    try:
        assert asyncio.run(post()) < 4
    finally:
        stop.set()


def test_one_subscribers_hung_webhook_holds_up_no_other_subscribers(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    """Webhook and Slack alerts go to each subscriber's own URL: a lane each."""
    release, a_in_flight = threading.Event(), threading.Event()
    b_posted_while_a_hung = []

    def hook_a(handler: BaseHTTPRequestHandler) -> None:
        a_in_flight.set()
        release.wait(10)  # longer than the client waits
        send(handler, 200, b"ok", "text/plain")

    def hook_b(handler: BaseHTTPRequestHandler) -> None:
        a_in_flight.wait(2)
        b_posted_while_a_hung.append(a_in_flight.is_set() and not release.is_set())
        send(handler, 200, b"ok", "text/plain")

    server.routes["/hook-a"], server.routes["/hook-b"] = hook_a, hook_b
    extra = by_webhook(lambda name: server.url(f"/hook-{name}")) + "poll:\n  read_timeout: 3s\n"
    config = write_config(tmp_path, smtp_port=free_port(), slack=server.url("/slack"), extra=extra)
    add_feed(config, "Wire", WIRE)
    harness = Harness(config, clock)
    harness.poll()
    try:
        done = sorted(
            (d.subscriber, d.outcome) for d in harness.deliver() if d.channel == "webhook"
        )
    finally:
        release.set()
    assert done == [("a", "retry"), ("b", "sent")]
    assert b_posted_while_a_hung == [True]


# a germanium news item of its own, for a feed added while the service runs
OTHER_GERMANIUM = rss([
    "<item><title>Germanium Recycler Opens Plant In Belgium</title>"
    "<link>https://other.test/1</link><pubDate>Tue, 10 Nov 2026 09:00:00 +0000</pubDate>"
    "<description>A recycler opened a germanium recovery plant near Antwerp to supply "
    "fibre-optic makers.</description></item>"
])  # fmt: skip


def test_the_service_sends_a_later_slack_alert_while_an_email_still_hangs(
    server: FeedServer, tmp_path: Path
) -> None:
    """`watcher run` delivers each channel in a job of its own: a Slack alert made while
    the email job waits on a hung SMTP server goes at once, not after that round."""
    import signal

    smtp = HungSmtp()
    first_email_hung = []

    def slack(handler: BaseHTTPRequestHandler) -> None:
        first_email_hung.append(smtp.accepted > 0 and not smtp.first_closed.is_set())
        send(handler, 200, b"ok", "text/plain")

    server.routes["/slack"] = slack
    config = write_config(tmp_path, smtp_port=smtp.port, slack=server.url("/slack"))
    config.write_text(
        config.read_text().replace("from: watcher@test}", "from: w@test, timeout: 60s}")
    )
    add_feed(config, "Wire", WIRE)  # one germanium story: an email and a Slack alert
    command = [sys.executable, "-m", "watcher", "--config", str(config), "run", "--listen",
               "127.0.0.1:0"]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    try:
        wait_until(lambda: len(server.posts) == 1 and smtp.accepted == 1, proc=proc)
        add_feed(config, "Other", OTHER_GERMANIUM)
        proc.send_signal(signal.SIGHUP)  # the new feed is polled at once: a new news item
        wait_until(lambda: len(server.posts) == 2, proc=proc)
        assert first_email_hung[1]  # the first email still waited for its SMTP server
        assert smtp.accepted == 1  # and the email job took up no other alert meanwhile
        proc.send_signal(signal.SIGTERM)  # with the email still waiting on its server
        assert proc.wait(15) == 0  # stopped within its drain time, not the SMTP timeout
        (email_alert,) = [a for a in Store(tmp_path / "w.db").alerts() if a.channel == "email"
                          and a.status == "sending"]  # fmt: skip
    finally:
        smtp.close()
        proc.kill()
    assert email_alert.sends == 1  # sent again on the next start, as after a crash


def test_the_service_sends_a_later_webhook_alert_while_another_subscribers_hangs(
    server: FeedServer, tmp_path: Path
) -> None:
    """`watcher run` sends each lane's round in a task of its own: while one subscriber's
    webhook hangs, the next alert of another subscriber's webhook goes at once, not when
    that round ends (the webhook's timeout)."""
    import signal

    release, a_in_flight = threading.Event(), threading.Event()
    b_posted_while_a_hung: list[bool] = []

    def hook_a(handler: BaseHTTPRequestHandler) -> None:
        a_in_flight.set()
        release.wait(60)  # longer than the test waits for b
        send(handler, 200, b"ok", "text/plain")

    def hook_b(handler: BaseHTTPRequestHandler) -> None:
        b_posted_while_a_hung.append(a_in_flight.is_set() and not release.is_set())
        send(handler, 200, b"ok", "text/plain")

    server.routes["/hook-a"], server.routes["/hook-b"] = hook_a, hook_b
    server.routes["/slack"] = lambda handler: send(handler, 200, b"ok", "text/plain")
    extra = (
        by_webhook(lambda name: server.url(f"/hook-{name}"))
        + "poll:\n  read_timeout: 50s\n  total_timeout: 50s\n"
    )
    config = write_config(tmp_path, smtp_port=free_port(), slack=server.url("/slack"), extra=extra)
    add_feed(config, "Wire", WIRE)
    command = [sys.executable, "-m", "watcher", "--config", str(config), "run", "--listen",
               "127.0.0.1:0"]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: a_in_flight.is_set() and len(b_posted_while_a_hung) == 1, proc=proc)
        add_feed(config, "Other", OTHER_GERMANIUM)
        proc.send_signal(signal.SIGHUP)  # the new feed is polled at once: a new news item
        wait_until(lambda: len(b_posted_while_a_hung) == 2, seconds=20, proc=proc)
        assert b_posted_while_a_hung[1]  # a's first alert still waited for its webhook
        proc.send_signal(signal.SIGTERM)  # with a's first alert still in flight
        assert proc.wait(15) == 0  # stopped within its drain time, not the webhook's timeout
    finally:
        release.set()
        proc.kill()
    hooks = [a for a in Store(tmp_path / "w.db").alerts() if a.channel == "webhook"]
    assert sorted((a.subscriber, a.status) for a in hooks) == [
        ("a", "pending"),
        ("a", "sending"),
        ("b", "sent"),
        ("b", "sent"),
    ]  # a's second waits for its lane; its first is sent again on the next start


def test_a_channel_that_always_fails_ends_in_the_dead_letter_list(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    harness = polled_for_slack_only(server, tmp_path, clock, [(500, {})] * 10)
    outcomes = []
    for _ in range(3):  # delivery.max_attempts: 3
        outcomes += [d.outcome for d in harness.deliver()]
        clock.now += timedelta(hours=2)
    assert outcomes == ["retry", "retry", "dead"]
    (alert,) = harness.store.alerts(dead_only=True)
    assert alert.attempts == 3 and "HTTP 500" in (alert.last_error or "")
    listed = watcher("--config", str(tmp_path / "watcher.yaml"), "alerts", "--failed")
    assert (
        "dead" in listed.stdout
        and "HTTP 500" in listed.stdout
        and "1 alert in the dead-letter list" in listed.stdout
    )
    header, row = listed.stdout.splitlines()[:2]
    assert row[header.index("FAILED TRIES") :].split()[0] == "3"  # no "ATTEMPTS 0" when sent
    retried = watcher("--config", str(tmp_path / "watcher.yaml"), "alerts", "retry", str(alert.id))
    assert retried.returncode == 0 and harness.store.alert(alert.id).status == "pending"


def test_alerts_retry_requeues_dead_letters_by_id_or_all_of_a_subscriber_or_channel(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    slack_route(server, [(404, {})] * 2)
    server.routes["/gone"] = lambda h: send(h, 404, b"no such hook", "text/plain")
    harness = two_by_webhook(tmp_path, server, clock, lambda _: server.url("/gone"), email=False)
    assert {d.outcome for d in harness.deliver()} == {"dead"}

    def retry(*args: str) -> subprocess.CompletedProcess[str]:
        return watcher("--config", str(tmp_path / "watcher.yaml"), "alerts", "retry", *args)

    def dead() -> list[str]:
        return sorted(f"{a.subscriber}/{a.channel}" for a in harness.store.alerts(dead_only=True))

    listed = watcher("--config", str(tmp_path / "watcher.yaml"), "alerts", "--failed",
                     "--subscriber", "a", "--channel", "webhook").stdout  # fmt: skip
    assert "2 alerts of a on webhook in the dead-letter list" in listed
    rows = listed.splitlines()[1:-1]
    assert len(rows) == 2 and all(" a " in row and " webhook " in row for row in rows)
    assert retry().returncode == 2 and "give the IDs of dead alerts, or --all" in retry().stderr
    assert retry("--subscriber", "a").returncode == 2
    first = min(a.id for a in harness.store.alerts())
    unknown = retry(str(first), "99999")
    assert unknown.returncode == 1 and "no alert with id 99999" in unknown.stderr
    assert len(dead()) == 6  # none queued
    for wrong in ("99999999999999999999999", "0", "١٢"):  # past SQLite's integers: a traceback
        refused = retry("--", wrong)
        assert refused.returncode == 2 and "is no alert id" in refused.stderr, refused
    by_id = retry(str(first))
    assert by_id.returncode == 0 and f"alert {first} (" in by_id.stdout and len(dead()) == 5
    assert harness.store.alert(first).status == "pending"
    assert retry(str(first)).returncode == 1  # no longer dead
    of_a = retry("--all", "--subscriber", "a")
    assert "2 alerts of the dead-letter list queued again" in of_a.stdout, of_a
    assert "a/webhook" not in dead()
    on_slack = retry("--all", "--channel", "slack")
    assert on_slack.returncode == 0 and not [d for d in dead() if d.endswith("/slack")]
    rest = retry("--all")
    assert rest.returncode == 0 and dead() == []
    assert {a.attempts for a in harness.store.alerts()} == {0}


def test_alerts_drop_takes_dead_letters_off_the_list_for_good(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    """A subscriber removed from the config leaves its dead alerts for ever, and the dead
    count in /metrics with them: the operator drops them, and they stay on record."""
    slack_route(server, [(404, {})] * 2)
    server.routes["/gone"] = lambda h: send(h, 404, b"no such hook", "text/plain")
    harness = two_by_webhook(tmp_path, server, clock, lambda _: server.url("/gone"), email=False)
    assert {d.outcome for d in harness.deliver()} == {"dead"}
    config = str(tmp_path / "watcher.yaml")

    def drop(*args: str) -> subprocess.CompletedProcess[str]:
        return watcher("--config", config, "alerts", "drop", *args)

    assert drop().returncode == 2 and "alerts drop: give the IDs" in drop().stderr
    first = min(a.id for a in harness.store.alerts())
    one = drop(str(first))
    assert one.returncode == 0 and f"alert {first} (" in one.stdout and "is dropped" in one.stdout
    assert drop(str(first)).returncode == 1  # no longer dead
    of_a = drop("--all", "--subscriber", "a")
    assert of_a.returncode == 0 and "of the dead-letter list dropped" in of_a.stdout
    left = harness.store.alerts(dead_only=True)
    assert left and all(a.subscriber != "a" for a in left)
    assert ("dead", "slack") in harness.store.outbox_depth()
    drop("--all")
    assert harness.store.alerts(dead_only=True) == [] and harness.store.outbox_depth() == {}
    assert {a.status for a in harness.store.alerts()} == {"dropped"}  # kept, on record
    listed = watcher("--config", config, "alerts", "--since", "3650d").stdout
    assert listed.count(" dropped ") == 6, listed
    assert harness.deliver() == []  # never sent
    why = watcher("--config", config, "why", harness.store.alert(first).story).stdout
    assert f"#{first} " in why and "dropped, never sent, 1 attempt spent: " in why, why
    assert "a:        not alerted: its alert failed, and was dropped" in why
    assert (
        "0 alerts in the dead-letter list"
        in watcher("--config", config, "alerts", "--failed").stdout
    )


def test_alerts_drop_takes_a_failing_pending_alert_by_id(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    """An alert that its server fails alone waits, pending, while its lane looks down (no
    other alert goes): the operator can drop it by id, but not one never tried, and
    `--all` takes the dead-letter list alone."""
    harness = polled_for_slack_only(server, tmp_path, clock, [(503, {})])
    (failing,) = harness.store.alerts()
    assert [d.outcome for d in harness.deliver()] == ["retry"]
    queue_slack_alert(harness.store, 99, failing.story, clock.now + timedelta(days=1))
    untried = max(a.id for a in harness.store.alerts())
    config = str(tmp_path / "watcher.yaml")
    refused = watcher("--config", config, "alerts", "drop", str(untried))
    assert refused.returncode == 1
    assert f"alert {untried} is pending, not in the dead-letter list nor failing" in refused.stderr
    everything = watcher("--config", config, "alerts", "drop", "--all")
    assert "0 alerts of the dead-letter list dropped" in everything.stdout
    dropped = watcher("--config", config, "alerts", "drop", str(failing.id))
    assert (
        dropped.returncode == 0
        and f"alert {failing.id} (analyst, slack) is dropped" in dropped.stdout
    )
    assert {a.id: a.status for a in harness.store.alerts()} == {
        failing.id: "dropped",
        untried: "pending",
    }
    clock.now += timedelta(hours=2)
    assert harness.deliver() == [] and len(server.posts) == 1  # never sent


def test_a_permanent_refusal_is_dead_at_once(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    harness = polled_for_slack_only(server, tmp_path, clock, [(404, {})])
    (result,) = harness.deliver()
    assert result.outcome == "dead" and "HTTP 404" in (result.error or "")


def test_an_alert_left_sending_by_a_crash_is_sent_again_and_counted(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path, clock: FakeClock
) -> None:
    port, inbox = smtp
    config, harness = polled_by_email_only(tmp_path, port, server, clock)
    (alert,) = harness.store.alerts()
    harness.store.mark_sending(alert.id)  # ... and the process dies before sending
    harness.store.close()
    restarted = Harness(config, clock)
    assert restarted.store.requeue_sending() == 1
    (result,) = restarted.deliver()
    assert result.outcome == "sent" and len(inbox.messages) == 1
    assert restarted.store.alert(alert.id).sends == 2  # the send the crash may have repeated


def test_an_alert_removed_by_a_merge_after_it_was_read_is_not_sent(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path, clock: FakeClock
) -> None:
    """Found by the soak drill: a merge during a delivery batch removed an alert the batch had
    already read; it was sent anyway and its record was gone. Now it is claimed first."""
    port, inbox = smtp
    _config, harness = polled_by_email_only(tmp_path, port, server, clock)
    read = harness.store.due_alerts

    def read_then_merge(
        now: datetime, limit: int = 100, channel: str | None = None, held: Any = (),
        beyond: datetime | None = None,
    ) -> list[Alert]:  # fmt: skip
        due = read(now, limit, channel, held, beyond)
        harness.store.db.execute("DELETE FROM alerts")  # what a merge does to an untried alert
        return due

    harness.store.due_alerts = read_then_merge  # type: ignore[method-assign]
    (result,) = harness.deliver()
    assert result.outcome == "skipped" and inbox.messages == []
    assert harness.store.mark_sending(result.alert) is None


def test_send_test_reports_each_channel(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path
) -> None:
    port, inbox = smtp
    slack_route(server, [(404, {})])
    config = write_config(tmp_path, smtp_port=port, slack=server.url("/slack"))
    result = watcher("--config", str(config), "send-test", "analyst")
    assert result.returncode == 1
    assert "email: sent a test alert to analyst" in result.stdout
    assert "slack: FAILED: Slack webhook: HTTP 404" in result.stderr
    assert len(inbox.messages) == 1 and inbox.messages[0]["Subject"].endswith(
        "Test alert from watcher"
    )


def test_send_test_goes_through_the_proxy_as_the_service_does(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path
) -> None:
    elsewhere = "http://127.0.0.2:9/slack"  # nothing listens there: only the proxy answers
    server.routes[elsewhere] = lambda h: send(h, 200, b"ok", "text/plain")
    config = write_config(tmp_path, smtp_port=smtp[0], slack=elsewhere)
    result = watcher("--config", str(config), "send-test", "analyst",
                     env={"HTTP_PROXY": server.base, "NO_PROXY": "localhost"})  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert [path for path, _ in server.posts] == [elsewhere]


# -- SMTP security ---------------------------------------------------------------------------


@pytest.fixture
def tls(tmp_path: Path):  # type: ignore[no-untyped-def]
    import ssl

    import trustme

    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return server_context, ca_file


def test_a_webhook_behind_a_private_ca_is_reached_with_poll_ca_file(
    tmp_path: Path, clock: FakeClock, tls: tuple[Any, Path]
) -> None:
    """A Slack-compatible server in-house (Mattermost, Rocket.Chat) with a certificate its
    company CA signed: refused until poll.ca_file names that CA, then sent once."""
    server_context, ca_file = tls
    server = FeedServer(tls=server_context).start()
    try:
        slack_route(server, [])
        config = write_config(tmp_path, smtp_port=free_port(), slack=server.url("/slack"))
        config.write_text(config.read_text().replace("    email: analyst@test\n", ""))
        (refused,) = wire_polled(config, clock).deliver()
        assert refused.outcome == "retry", refused
        assert "TLS certificate refused" in (refused.error or ""), refused.error
        assert server.posts == []
        config.write_text(f"poll:\n  ca_file: {ca_file}\n" + config.read_text())
        clock.now += timedelta(hours=1)
        (sent,) = Harness(config, clock).deliver()
        assert sent.outcome == "sent" and len(server.posts) == 1
    finally:
        server.stop()


def authenticator(
    server: object, session: object, envelope: object, mechanism: str, auth_data: object
):  # type: ignore[no-untyped-def]
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == b"watcher"
        and auth_data.password == b"s3cret"
    )
    return AuthResult(success=ok)


def smtp_config(tmp_path: Path, port: int, security: str, ca_file: Path, password: str) -> Path:
    path = tmp_path / "watcher.yaml"
    path.write_text(
        f"state: w.db\nsmtp:\n  host: 127.0.0.1\n  port: {port}\n  security: {security}\n"
        f"  username: watcher\n  password: ${{SMTP_PASSWORD}}\n  from: watcher@test\n  ca_file: {ca_file}\n  timeout: 3s\n"
        "subscribers:\n  - name: analyst\n    email: analyst@test\n"
    )
    return path


@contextmanager
def smtp_server(**options: Any) -> Iterator[tuple[Inbox, int]]:
    """A real aiosmtpd server on 127.0.0.1 with these options: its inbox and port."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


def send_test(config: Path, password: str) -> subprocess.CompletedProcess[str]:
    return watcher("--config", str(config), "send-test", "analyst", env={"SMTP_PASSWORD": password})


def test_email_over_starttls_with_auth(tmp_path: Path, tls) -> None:  # type: ignore[no-untyped-def]
    server_context, ca_file = tls
    with smtp_server(authenticator=authenticator, auth_required=True, tls_context=server_context,
                     require_starttls=True) as (inbox, port):  # fmt: skip
        config = smtp_config(tmp_path, port, "starttls", ca_file, "s3cret")
        good = send_test(config, "s3cret")
        assert good.returncode == 0, good.stderr
        assert len(inbox.messages) == 1
        bad = send_test(config, "wrong")
        assert bad.returncode == 1 and "email: FAILED: SMTP 127.0.0.1" in bad.stderr
        assert "wrong" not in bad.stderr  # the password is never shown
        assert len(inbox.messages) == 1


# aiosmtpd counts only STARTTLS as TLS: for a session that is TLS from its first byte, AUTH
# must be allowed "without" TLS, which it warns about
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_email_over_implicit_tls_with_auth(tmp_path: Path, tls) -> None:  # type: ignore[no-untyped-def]
    server_context, ca_file = tls
    # TLS from the first byte, as on port 465
    with smtp_server(authenticator=authenticator, auth_required=True, auth_require_tls=False,
                     ssl_context=server_context) as (inbox, port):  # fmt: skip
        sent = send_test(smtp_config(tmp_path, port, "tls", ca_file, "s3cret"), "s3cret")
        assert sent.returncode == 0, sent.stderr
        assert len(inbox.messages) == 1
        refused = send_test(smtp_config(tmp_path, port, "starttls", ca_file, "s3cret"), "s3cret")
        assert refused.returncode == 1 and "email: FAILED: SMTP 127.0.0.1" in refused.stderr
        assert len(inbox.messages) == 1  # a plain session gets nowhere with a TLS-only server


def utf8_authenticator(
    server: object, session: object, envelope: object, mechanism: str, auth_data: object
):  # type: ignore[no-untyped-def]
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ok = isinstance(auth_data, LoginPassword) and auth_data.password == "pässwörd€".encode()
    return AuthResult(success=ok)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_email_logs_in_with_a_password_not_in_ascii(tmp_path: Path, tls) -> None:  # type: ignore[no-untyped-def]
    """smtplib sends AUTH as ASCII and raised UnicodeEncodeError on "pässwörd€": each alert
    went to the dead-letter list as an unexpected error. It goes as AUTH PLAIN in UTF-8."""
    server_context, ca_file = tls
    with smtp_server(authenticator=utf8_authenticator, auth_required=True,
                     auth_require_tls=False, ssl_context=server_context) as (inbox, port):  # fmt: skip
        sent = send_test(smtp_config(tmp_path, port, "tls", ca_file, "x"), "pässwörd€")
        assert sent.returncode == 0, sent.stderr
        assert len(inbox.messages) == 1
    with smtp_server(authenticator=utf8_authenticator, auth_required=True,
                     auth_require_tls=False, ssl_context=server_context,
                     auth_exclude_mechanism=["PLAIN"]) as (inbox, port):  # fmt: skip
        refused = send_test(smtp_config(tmp_path, port, "tls", ca_file, "x"), "pässwörd€")
        assert refused.returncode == 1 and "Traceback" not in refused.stderr
        assert "needs AUTH PLAIN, which the server does not offer" in refused.stderr
        assert inbox.messages == []


def test_email_refuses_a_server_certificate_it_does_not_trust(tmp_path: Path, tls) -> None:  # type: ignore[no-untyped-def]
    import trustme

    server_context, _ = tls
    with smtp_server(tls_context=server_context, require_starttls=True) as (inbox, port):
        other_ca = tmp_path / "other.pem"
        trustme.CA().cert_pem.write_to_path(str(other_ca))
        result = send_test(smtp_config(tmp_path, port, "starttls", other_ca, "x"), "x")
        assert result.returncode == 1, result.stderr
        assert (
            "TLS certificate refused: unable to get local issuer certificate: the server does "
            "not send the chain to a CA trusted here: add the intermediate certificate it "
            "leaves out, or its private CA, to smtp.ca_file"
        ) in result.stderr
        assert inbox.messages == []


def test_sigkill_while_sending_then_restart_delivers_and_counts_the_sends(
    server: FeedServer, tmp_path: Path
) -> None:
    import signal
    import sqlite3
    import subprocess
    import threading

    release = threading.Event()

    def slow_then_fast(handler: BaseHTTPRequestHandler) -> None:
        if len(server.posts) == 1:
            release.wait(20)  # hold the first send open: the process dies during it
        send(handler, 200, b"ok", "text/plain")

    server.routes["/slack"] = slow_then_fast
    config = write_config(tmp_path, smtp_port=free_port(), slack=server.url("/slack"))
    config.write_text(config.read_text().replace("    email: analyst@test\n", ""))
    add_feed(config, "Wire", WIRE)
    db = tmp_path / "w.db"

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "watcher",
                "--config",
                str(config),
                "run",
                "--listen",
                "127.0.0.1:0",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def alert_row() -> tuple[str, int] | None:
        try:
            return sqlite3.connect(db).execute("SELECT status, sends FROM alerts").fetchone()
        except sqlite3.Error:
            return None

    first = start()
    try:
        wait_until(lambda: alert_row() == ("sending", 1) and len(server.posts) == 1)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        first.kill()
        release.set()
    second = start()
    try:
        wait_until(lambda: alert_row() == ("sent", 2))
        assert len(server.posts) == 2  # at least once: the killed send had reached the stand-in
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(10)


# -- digests and the hourly cap -------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "zone", "after", "expected"),
    [
        pytest.param(
            "hourly", "UTC", "2026-11-24T10:20:00+00:00", "2026-11-24T11:00:00+00:00", id="hourly"
        ),
        pytest.param(
            "hourly",
            "Asia/Kolkata",
            "2026-11-24T10:20:00+00:00",
            "2026-11-24T10:30:00+00:00",
            id="hourly-half-hour-zone",
        ),
        pytest.param(
            "daily 08:00",
            "Europe/Berlin",
            "2026-11-24T06:00:00+00:00",
            "2026-11-24T07:00:00+00:00",
            id="daily-later-today",
        ),
        pytest.param(
            "daily 08:00",
            "Europe/Berlin",
            "2026-11-24T07:00:00+00:00",
            "2026-11-25T07:00:00+00:00",
            id="daily-tomorrow",
        ),
        pytest.param(
            "daily 08:00",
            "Europe/Berlin",
            "2026-07-01T08:00:00+00:00",
            "2026-07-02T06:00:00+00:00",
            id="daily-summer-time",
        ),
        pytest.param(  # 02:00 CEST, and at 01:00 UTC the clocks go back to 02:00 CET
            "hourly",
            "Europe/Berlin",
            "2026-10-25T00:00:00+00:00",
            "2026-10-25T01:00:00+00:00",
            id="hourly-when-summer-time-ends",
        ),
        pytest.param(  # 01:20 CET; 02:00 does not come: at 01:00 UTC it is 03:00 CEST
            "hourly",
            "Europe/Berlin",
            "2026-03-29T00:20:00+00:00",
            "2026-03-29T01:00:00+00:00",
            id="hourly-when-summer-time-starts",
        ),
        pytest.param(
            "hourly",
            "Asia/Kathmandu",
            "2026-11-24T10:20:00+00:00",
            "2026-11-24T11:15:00+00:00",
            id="hourly-quarter-hour-zone",
        ),
        pytest.param(  # Friday 13:00 in Berlin: Monday's 08:00, not Saturday's
            "weekdays 08:00",
            "Europe/Berlin",
            "2026-12-04T12:00:00+00:00",
            "2026-12-07T07:00:00+00:00",
            id="weekdays-over-the-weekend",
        ),
        pytest.param(  # Friday 13:00 in Berlin: today's 14:00
            "weekdays 14:00",
            "Europe/Berlin",
            "2026-12-04T12:00:00+00:00",
            "2026-12-04T13:00:00+00:00",
            id="weekdays-today",
        ),
        pytest.param(
            "weekly mon 08:00",
            "Europe/Berlin",
            "2026-12-04T12:00:00+00:00",
            "2026-12-07T07:00:00+00:00",
            id="weekly-short-name",
        ),
        pytest.param(  # at the time itself: a week on
            "weekly friday 13:00",
            "Europe/Berlin",
            "2026-12-04T12:00:00+00:00",
            "2026-12-11T12:00:00+00:00",
            id="weekly-strictly-after",
        ),
        pytest.param(  # across the end of summer time: 08:00 CET, not 07:00
            "weekly sun 08:00",
            "Europe/Berlin",
            "2026-10-20T12:00:00+00:00",
            "2026-10-25T07:00:00+00:00",
            id="weekly-when-summer-time-ends",
        ),
        pytest.param(  # 02:10 CEST; at 01:00 UTC the clocks go back from 03:00 to 02:00
            "daily 02:30",
            "Europe/Berlin",
            "2026-10-25T00:10:00+00:00",
            "2026-10-25T00:30:00+00:00",
            id="daily-in-the-hour-that-comes-twice",
        ),
        pytest.param(  # 02:10 CET, the second 02:10: today's 02:30 came at 00:30 UTC
            "daily 02:30",
            "Europe/Berlin",
            "2026-10-25T01:10:00+00:00",
            "2026-10-26T01:30:00+00:00",
            id="daily-in-the-hour-come-again",
        ),
    ],
)
def test_next_digest(spec: str, zone: str, after: str, expected: str) -> None:
    from zoneinfo import ZoneInfo

    from watcher.alerts.digest import next_digest

    assert next_digest(
        spec, ZoneInfo(zone), datetime.fromisoformat(after)
    ) == datetime.fromisoformat(expected)


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Australia/Sydney"])
@pytest.mark.parametrize("spec", ["daily 01:30", "daily 02:30", "weekdays 02:00", "hourly"])
def test_a_later_alert_is_never_due_before_an_earlier_one(spec: str, zone: str) -> None:
    """Every 5 minutes over the two days around each change of clocks of 2026, the next
    digest is after the moment and never before the one of a moment earlier."""
    from zoneinfo import ZoneInfo

    from watcher.alerts.digest import next_digest

    tz, day, changes = ZoneInfo(zone), timedelta(days=1), []
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    while moment.year == 2026:
        if (moment + day).astimezone(tz).utcoffset() != moment.astimezone(tz).utcoffset():
            changes.append(moment)
        moment += day
    assert len(changes) == 2
    for change in changes:
        moment, last = change, change
        while moment < change + 2 * day:
            due = next_digest(spec, tz, moment)
            assert moment < due and last <= due, (moment, due, last)
            moment, last = moment + timedelta(minutes=5), due


@pytest.mark.parametrize(
    ("spec", "zone", "now", "expected"),
    [
        pytest.param("22:00-07:00", "Europe/Berlin", "2026-11-24T22:30:00+00:00",
                     "2026-11-25T06:00:00+00:00", id="past-midnight"),
        pytest.param("22:00-07:00", "Europe/Berlin", "2026-11-25T05:59:00+00:00",
                     "2026-11-25T06:00:00+00:00", id="before-the-end"),
        pytest.param("22:00-07:00", "Europe/Berlin", "2026-11-25T06:00:00+00:00", None,
                     id="at-the-end"),
        pytest.param("22:00-07:00", "Europe/Berlin", "2026-11-24T20:59:00+00:00", None,
                     id="before-the-start"),
        pytest.param("22:00-07:00", "Europe/Berlin", "2026-11-24T21:00:00+00:00",
                     "2026-11-25T06:00:00+00:00", id="at-the-start"),
        pytest.param("12:00-13:30", "UTC", "2026-11-24T13:29:00+00:00",
                     "2026-11-24T13:30:00+00:00", id="within-a-day"),
        pytest.param("12:00-13:30", "UTC", "2026-11-24T14:00:00+00:00", None, id="after"),
        pytest.param(  # 01:30 CET; summer time starts at 02:00: 07:00 CEST is 05:00 UTC
            "22:00-07:00", "Europe/Berlin", "2026-03-29T00:30:00+00:00",
            "2026-03-29T05:00:00+00:00", id="summer-time-starts-in-the-night"),
        pytest.param(  # the second 02:10 (CET) of the night clocks go back: its 02:30
            "00:30-02:30", "Europe/Berlin", "2026-10-25T01:10:00+00:00",
            "2026-10-25T01:30:00+00:00", id="summer-time-ends-in-quiet-hours"),
    ],
)  # fmt: skip
def test_quiet_until(spec: str, zone: str, now: str, expected: str | None) -> None:
    from zoneinfo import ZoneInfo

    from watcher.alerts.digest import quiet_until

    ends = quiet_until(spec, ZoneInfo(zone), datetime.fromisoformat(now))
    assert ends == (datetime.fromisoformat(expected) if expected else None)


@pytest.mark.parametrize(
    ("quiet", "mode", "problem"),
    [
        ("22:00 to 07:00", "immediate", "is not quiet hours: write HH:MM-HH:MM"),
        ("24:00-07:00", "immediate", "is not quiet hours"),
        ("07:00-7:00", "immediate", "ends when it starts"),
        ("22:00-07:00", "digest", "is for mode: immediate"),
    ],
)
def test_wrong_quiet_hours_stop_the_config(
    tmp_path: Path, quiet: str, mode: str, problem: str
) -> None:
    found = subscriber_problems(tmp_path, f"mode: {mode}, quiet_hours: '{quiet}'")
    assert "subscribers[0].quiet_hours" in found and problem in found


def subscriber_problems(tmp_path: Path, fields: str) -> str:
    """The problems of a config whose one subscriber (a console's) has these `fields`,
    written as in a YAML flow mapping."""
    path = tmp_path / "w.yaml"
    path.write_text(f"subscribers:\n  - {{name: a, console: true, {fields}}}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    return str(caught.value)


def test_alerts_in_quiet_hours_wait_for_their_end_as_one_digest_but_urgent_ones(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    slack_route(server, [])
    urgent = "  - name: antimony-news\n    when: '@minerals:\"antimony\"'\n    priority: 5\n"
    config = write_config(
        tmp_path, smtp_port=free_port(), slack=server.url("/slack"),
        rules_yaml=GERMANIUM_RULE + urgent.replace("    priority", "    tags: [metals]\n    priority"),
    )  # fmt: skip
    config.write_text(
        config.read_text().replace(
            "    email: analyst@test\n",
            "    quiet_hours: 22:00-07:00\n    timezone: Europe/Berlin\n",
        )
    )
    add_feed(config, "Wire", WIRE)  # one germanium story (priority 3), one antimony (5)
    clock.now = datetime(2026, 11, 24, 23, 0, tzinfo=UTC)  # midnight in Berlin
    harness = Harness(config, clock)
    harness.poll()
    (urgent_sent,) = harness.deliver()
    assert urgent_sent.outcome == "sent" and "Antimony" in json.loads(server.posts[0][1])["text"]
    (waiting,) = [a for a in harness.store.alerts() if a.status == "pending"]
    assert waiting.digest and waiting.rule == "germanium-news"
    assert waiting.next_attempt_at == datetime(2026, 11, 25, 6, 0, tzinfo=UTC)  # 07:00 Berlin
    clock.now = datetime(2026, 11, 25, 5, 59, tzinfo=UTC)
    assert harness.deliver() == []
    clock.now = datetime(2026, 11, 25, 6, 0, 1, tzinfo=UTC)
    assert [r.outcome for r in harness.deliver()] == ["sent"] and len(server.posts) == 2
    assert json.loads(server.posts[1][1])["text"].startswith("[watcher] digest for analyst")


def test_an_urgent_match_on_a_news_item_whose_alert_waits_for_quiet_hours_goes_at_once(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    """A reprint whose title adds "export controls" to a germanium story whose alert waits
    for the morning: the urgent rule's match brings that alert forward, under its name."""
    slack_route(server, [])
    urgent = "  - name: export-controls\n    when: '\"export controls\"'\n    tags: [metals]\n"
    config = write_config(
        tmp_path, smtp_port=free_port(), slack=server.url("/slack"),
        rules_yaml=GERMANIUM_RULE + urgent + "    priority: 5\n",
    )  # fmt: skip
    config.write_text(
        config.read_text().replace(
            "    email: analyst@test\n",
            "    quiet_hours: 22:00-07:00\n    timezone: Europe/Berlin\n",
        )
    )
    clock.now = datetime(2026, 11, 10, 23, 0, tzinfo=UTC)  # midnight in Berlin, the window's
    harness = wire_polled(config, clock)
    assert harness.deliver() == []  # germanium-news waits for 07:00
    controls = b"Germanium Output In Ontario As Export Controls Loom</title>"
    add_feed(config, "Reprints", REPRINT.replace(b"Germanium Output In Ontario</title>", controls))
    clock.now = datetime(2026, 11, 10, 23, 10, tzinfo=UTC)
    harness = Harness(config, clock)
    harness.poll()
    (sent,) = harness.deliver()
    assert sent.outcome == "sent" and len(server.posts) == 1
    text = json.loads(server.posts[0][1])["text"]
    assert text.startswith("export-controls: Smelter Group To Start Germanium Output In Ontario As")
    (alert,) = [a for a in harness.store.alerts() if a.rule == "export-controls"]
    assert alert.status == "sent" and len(harness.store.alerts()) == 1


DIGEST_SUBSCRIBER = "  - name: reader\n    follow: [metals]\n    mode: digest\n    digest: daily 08:00\n    timezone: Europe/Berlin\n    email: reader@test\n"


def test_a_weekly_digest_waits_for_its_day(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path, clock: FakeClock
) -> None:
    """Its time, days ahead, is no time set while the clock ran ahead (which counts as due
    now): the digest waits for Monday."""
    port, inbox = smtp
    weekly = DIGEST_SUBSCRIBER.replace("daily 08:00", "weekly mon 08:00")
    config = write_config(tmp_path, smtp_port=port, slack=server.url("/slack"), extra=weekly,
                          rules_yaml=GERMANIUM_RULE)  # fmt: skip
    config.write_text(config.read_text().replace("    follow: [metals]\n    email: analyst@test",
                                                 "    follow: []\n    email: analyst@test"))  # fmt: skip
    add_feed(config, "Wire", WIRE)
    clock.now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)  # Friday, 13:00 in Berlin
    harness = Harness(config, clock)
    harness.poll()
    (waiting,) = harness.store.alerts()
    assert waiting.next_attempt_at == datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    for day in (4, 5, 6, 7):  # Friday to Monday, 07:59 in Berlin
        clock.now = datetime(2026, 12, day, 6, 59, tzinfo=UTC)
        assert harness.deliver() == [] and inbox.messages == []
    clock.now = datetime(2026, 12, 7, 7, 0, 1, tzinfo=UTC)
    assert [r.outcome for r in harness.deliver()] == ["sent"] and len(inbox.messages) == 1


def test_a_daily_digest_subscriber_gets_one_email_holding_them_all(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path, clock: FakeClock
) -> None:
    port, inbox = smtp
    config = write_config(
        tmp_path,
        smtp_port=port,
        slack=server.url("/slack"),
        extra=DIGEST_SUBSCRIBER,
        rules_yaml=GERMANIUM_RULE + ANTIMONY_RULE,
    )
    config.write_text(
        config.read_text().replace(
            "  - name: analyst\n    follow: [metals]\n    email: analyst@test\n",
            "  - name: analyst\n    follow: [nothing]\n    email: analyst@test\n",
        )
    )
    add_feed(config, "Wire", WIRE)
    add_feed(config, "Reprints", REPRINT)
    clock.now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # 13:00 in Berlin
    harness = Harness(config, clock)
    harness.poll()
    assert harness.deliver() == [] and inbox.messages == []  # not before 08:00 Berlin
    clock.now = datetime(2026, 11, 25, 7, 0, 1, tzinfo=UTC)
    results = harness.deliver()
    assert [r.outcome for r in results] == ["sent", "sent"] and len(inbox.messages) == 1
    mail = inbox.messages[0]
    assert mail["Subject"] == "[watcher] digest for reader: 2 news items"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert text.index("== antimony-news (1) ==") < text.index("== germanium-news (1) ==")
    assert (
        "Antimony Miner Lifts Forecast" in text
        and "Smelter Group To Start Germanium Output In Ontario" in text
    )
    assert "CET" in text  # times on the subscriber's clock
    # each item: a snippet with the matched word marked, and the terms found
    assert "start *germanium* output in Ontario" in text
    assert "  Matched: minerals: germanium" in text and "  Matched: minerals: antimony" in text
    page = mail.get_body(preferencelist=("html",)).get_content()
    assert "start <mark>germanium</mark> output" in page
    clock.now += timedelta(days=1)
    assert harness.deliver() == [] and len(inbox.messages) == 1


def test_a_digest_shows_the_higher_priority_rule_first(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path, clock: FakeClock
) -> None:
    port, inbox = smtp
    config = write_config(
        tmp_path, smtp_port=port, slack=server.url("/slack"), extra=DIGEST_SUBSCRIBER,
        rules_yaml=GERMANIUM_RULE + "    priority: 4\n" + ANTIMONY_RULE,
    )  # fmt: skip
    analyst = "    follow: [metals]\n    email: analyst@test\n"  # the reader alone gets news
    config.write_text(config.read_text().replace(analyst, "    follow: []\n    email: a@test\n"))
    add_feed(config, "Wire", WIRE)
    clock.now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    harness = Harness(config, clock)
    harness.poll()
    clock.now = datetime(2026, 11, 25, 7, 0, 1, tzinfo=UTC)
    assert [r.outcome for r in harness.deliver()] == ["sent", "sent"]
    (mail,) = inbox.messages
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert text.index("== germanium-news (1) ==") < text.index("== antimony-news (1) ==")


def test_a_digest_that_fails_is_one_failure_of_its_server(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    """A digest of two alerts is one message: its failure counts once toward the hold's
    backoff, not once an alert."""
    config = write_config(tmp_path, smtp_port=free_port(), slack=server.url("/slack"),
                          extra=DIGEST_SUBSCRIBER, rules_yaml=GERMANIUM_RULE + ANTIMONY_RULE)  # fmt: skip
    config.write_text(
        config.read_text().replace(
            "follow: [metals]\n    email: analyst@test",
            "follow: [nothing]\n    email: analyst@test",
        )
    )
    add_feed(config, "Wire", WIRE)  # two news items: one digest of two alerts
    clock.now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    harness = Harness(config, clock)
    harness.poll()
    clock.now = datetime(2026, 11, 25, 7, 0, 1, tzinfo=UTC)  # past 08:00 in Berlin
    holds: list[Any] = []
    rounds = delivery_rounds(harness, [None, lambda sender: holds.extend(sender.held_now())])
    assert rounds[0] == ["reader:retry", "reader:retry"]
    (held,) = holds
    assert held["channel"] == "email" and held["failures"] == 1


def test_a_digest_one_address_refuses_for_now_goes_again_to_it_alone(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    inbox = MailboxFullFor("r2@test")
    with smtp_serving(inbox) as port:
        config = write_config(tmp_path, smtp_port=port, slack=server.url("/slack"),
                              extra=DIGEST_SUBSCRIBER.replace("reader@test", "'reader@test, r2@test'"),
                              rules_yaml=GERMANIUM_RULE + ANTIMONY_RULE)  # fmt: skip
        config.write_text(
            config.read_text().replace(
                "follow: [metals]\n    email: analyst", "follow: [x]\n    email: analyst"
            )
        )
        add_feed(config, "Wire", WIRE)  # two news items: one digest of two alerts
        clock.now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
        harness = Harness(config, clock)
        harness.poll()
        clock.now = datetime(2026, 11, 25, 7, 0, 1, tzinfo=UTC)  # past 08:00 in Berlin

        def mailbox_emptied(sender: Sender) -> None:
            inbox.full = ""
            clock.now += timedelta(hours=1)

        rounds = delivery_rounds(harness, [None, mailbox_emptied, None, None])
    assert rounds == [["reader:retry", "reader:retry"], ["reader:sent", "reader:sent"], []]
    assert inbox.envelopes == [["reader@test"], ["r2@test"]]
    assert inbox.messages[0]["Subject"] == inbox.messages[1]["Subject"]
    assert {a.status for a in harness.store.alerts(subscriber="reader")} == {"sent"}


def test_alerts_over_the_hourly_cap_roll_into_the_next_hourly_digest(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    slack_route(server, [])
    config = write_config(
        tmp_path,
        smtp_port=free_port(),
        slack=server.url("/slack"),
        rules_yaml=GERMANIUM_RULE + ANTIMONY_RULE,
    )
    config.write_text(
        config.read_text().replace("    email: analyst@test\n", "    max_per_hour: 1\n")
    )
    add_feed(config, "Wire", WIRE)
    harness = Harness(config, clock)
    harness.poll()
    first = harness.deliver()
    assert [r.outcome for r in first] == ["sent"] and len(server.posts) == 1
    held = [a for a in harness.store.alerts() if a.digest]
    assert len(held) == 1 and held[0].next_attempt_at == datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
    clock.now = datetime(2026, 11, 24, 13, 0, 1, tzinfo=UTC)
    assert [r.outcome for r in harness.deliver()] == ["sent"] and len(server.posts) == 2
    assert json.loads(server.posts[1][1])["text"].startswith(
        "[watcher] digest for analyst: 1 news item"
    )


def test_a_long_slack_digest_is_split_within_50_blocks() -> None:
    from watcher.alerts.digest import render_digest

    now = datetime(2026, 11, 24, tzinfo=UTC)
    items = []
    for i in range(60):
        story = Story(
            id=f"s{i}",
            feed="f",
            guid=None,
            source="Wire",
            title=f"Story {i}",
            summary="",
            link=f"https://x.test/{i}",
            published=now,
            fetched_at=now,
        )
        alert = Alert(
            id=i,
            subscriber="s",
            channel="slack",
            cluster=i,
            rule=f"rule-{i % 3}",
            story=f"s{i}",
            terms={},
            status="pending",
            attempts=0,
            sends=0,
            next_attempt_at=now,
            last_error=None,
            created_at=now,
            sent_at=None,
            digest=True,
        )
        items.append((alert, story, None, {}))
    message = render_digest("s", items)
    assert len(message.slack) == 2 and all(len(p["blocks"]) <= 50 for p in message.slack)
    assert sum(b["type"] == "section" for p in message.slack for b in p["blocks"]) == 60
    assert message.slack[1]["text"].endswith("(part 2 of 2)")


def digest_story(i: int, summary: str = "", body: str = "", source: str = "Wire") -> Story:
    now = datetime(2026, 11, 24, tzinfo=UTC)
    return Story(
        id=f"s{i}", feed="f", guid=None, source=source, title=f"Story {i}", summary=summary,
        link=f"https://x.test/{i}", published=now + timedelta(minutes=i), fetched_at=now,
        body=body,
    )  # fmt: skip


def digest_alert(i: int, terms: dict[str, list[str]]) -> Alert:
    now = datetime(2026, 11, 24, tzinfo=UTC)
    return Alert(
        id=i, subscriber="s", channel="email", cluster=i, rule="r", story=f"s{i}", terms=terms,
        status="pending", attempts=0, sends=0, next_attempt_at=now, last_error=None,
        created_at=now, sent_at=None, digest=True,
    )  # fmt: skip


def test_a_digest_puts_the_most_urgent_rules_first() -> None:
    """Grouped by rule, by priority (highest first), then name; oldest first in a rule. A
    rule no longer loaded counts as of the default priority."""
    from watcher.alerts.digest import render_digest

    rules = ["zinc", "antimony", "zinc", "export-controls", "gone"]
    items = [
        (replace(digest_alert(i, {}), rule=rule), digest_story(i), None, {})
        for i, rule in reversed(list(enumerate(rules)))
    ]
    priority = {"zinc": 4, "antimony": 2, "export-controls": 5}
    message = render_digest("s", items, priority=priority)
    headers = [line for line in message.text.splitlines() if line.startswith("==")]
    assert headers == [
        "== export-controls (1) ==", "== zinc (2) ==", "== gone (1) ==", "== antimony (1) ==",
    ]  # fmt: skip
    zinc = message.text[message.text.index("== zinc") : message.text.index("== gone")]
    assert zinc.index("Story 0") < zinc.index("Story 2")
    slack = [b["text"]["text"] for b in message.slack[0]["blocks"] if b["type"] == "header"]
    assert slack == ["export-controls", "zinc", "gone", "antimony"]
    assert "<h3>export-controls</h3>" in message.html.split("<h3>zinc</h3>")[0]


def test_an_alert_names_the_other_outlets_each_linked_to_its_story() -> None:
    from watcher.models import Cluster

    story = digest_story(1, "Gallium output rises.")
    reprint = digest_story(2, "Gallium output rises.", source="Reprints")
    again = digest_story(3, "Gallium output rises again.", source="Reprints")  # one outlet: once
    unlinked = replace(digest_story(4, "Output rises.", source="Daily & Co"), link="")
    cluster = Cluster(id=1, lead=story, members=(story, reprint, again, unlinked))
    message = render(digest_alert(1, {}), story, cluster, {})
    assert "Also reported by: Reprints, Daily & Co\n" in message.text
    assert (
        '<p>Also reported by: <a href="https://x.test/2">Reprints</a>, Daily &amp; Co</p>'
        in message.html
    )
    context = message.slack[0]["blocks"][2]["elements"][0]["text"]
    assert context.endswith("also reported by <https://x.test/2|Reprints>, Daily &amp; Co")
    assert message.json["also_reported_by"] == ["Reprints", "Daily & Co"]
    assert message.json["coverage"] == [
        {"source": "Reprints", "title": "Story 2", "link": "https://x.test/2"},
        {"source": "Daily & Co", "title": "Story 4", "link": ""},
    ]


def test_an_alert_names_the_earlier_news_item_it_follows() -> None:
    """A news item begun for clustering.max_span (its first story read as the same event as
    a story of a news item begun too long before) names that story, so the alert reads as
    the next step of a topic the subscriber heard of, not as a duplicate."""
    from watcher.alerts.digest import render_digest
    from watcher.models import Cluster

    story = digest_story(2, "Gallium exports dry up.")
    earlier = replace(digest_story(1, "Gallium prices <jump>."), title="Prices jump & more",
                      source="Asia Wire", published=story.published - timedelta(hours=60))  # fmt: skip
    cluster = Cluster(id=2, lead=story, members=(story,), follows=earlier)
    message = render(digest_alert(2, {}), story, cluster, {})
    assert (
        "Follows earlier news: Prices jump & more (Asia Wire, 2026-11-21 12:02 UTC) "
        "https://x.test/1\n" in message.text
    )
    assert (
        '<p>Follows earlier news: <a href="https://x.test/1">Prices jump &amp; more</a> '
        "(Asia Wire, 2026-11-21 12:02 UTC)</p>" in message.html
    )
    context = message.slack[0]["blocks"][2]["elements"][0]["text"]
    assert context.endswith(
        "follows earlier news: <https://x.test/1|Prices jump &amp; more> "
        "(Asia Wire, 2026-11-21 12:02 UTC)"
    )
    assert message.json["follows"] == {
        "source": "Asia Wire", "title": "Prices jump & more", "link": "https://x.test/1",
        "published": "2026-11-21T12:02:00+00:00",
    }  # fmt: skip
    digest = render_digest("s", [(digest_alert(2, {}), story, cluster, {})])
    assert "  Follows earlier news: Prices jump & more (Asia Wire, 2026-11-21" in digest.text
    assert '<br>Follows earlier news: <a href="https://x.test/1">' in digest.html
    item = next(b for b in digest.slack[0]["blocks"] if b["type"] == "section")
    assert (
        "\nFollows earlier news: <https://x.test/1|Prices jump &amp; more>" in item["text"]["text"]
    )
    assert digest.json["alerts"][0]["follows"]["link"] == "https://x.test/1"
    alone = render(digest_alert(2, {}), story, replace(cluster, follows=None), {})
    assert "Follows" not in alone.text and alone.json["follows"] is None


def test_an_alert_shows_a_headline_without_the_outlets_name_it_shows_beside_it() -> None:
    """Google News and many feeds end a title with " - Outlet": shown with the outlet, the
    name came twice in every alert."""
    from watcher.alerts.digest import render_digest
    from watcher.models import Cluster

    title = "Sojitz buys a gallium stake - Asia Wire"
    story = replace(digest_story(1, "A stake."), title=title, source="Asia Wire")
    other = replace(digest_story(2, "A stake."), title="Gallium stake sold | Reprints",
                    source="Reprints")  # fmt: skip
    cluster = Cluster(id=1, lead=story, members=(story, other))
    at = title.index("gallium")
    spans = {"title": [(at, at + 7), (title.index("Asia"), len(title))]}  # the name matched too
    message = render(digest_alert(1, {}), story, cluster, spans)
    assert message.subject == "[watcher] r: Sojitz buys a gallium stake"
    assert message.text.startswith("Sojitz buys a gallium stake\nAsia Wire, 2026-11-24 00:01 UTC\n")
    assert "<h2>Sojitz buys a <mark>gallium</mark> stake</h2>" in message.html
    header, section, _ = message.slack[0]["blocks"]
    assert header["text"]["text"] == "Sojitz buys a gallium stake"
    assert section["text"]["text"].startswith("<https://x.test/1|Sojitz buys a gallium stake>\n")
    assert message.json["title"] == "Sojitz buys a gallium stake"
    assert message.json["coverage"][0]["title"] == "Gallium stake sold"
    digest = render_digest("s", [(digest_alert(1, {}), story, cluster, spans)])
    assert "- Sojitz buys a gallium stake (Asia Wire, 2026-11-24 00:01 UTC)" in digest.text
    assert '<a href="https://x.test/1">Sojitz buys a gallium stake</a> (Asia Wire' in digest.html
    item = next(b for b in digest.slack[0]["blocks"] if b["type"] == "section")
    assert item["text"]["text"].startswith("<https://x.test/1|Sojitz buys a gallium stake> · ")
    assert digest.json["alerts"][0]["title"] == "Sojitz buys a gallium stake"


def test_a_digest_item_shows_a_snippet_with_the_matched_words_and_the_terms() -> None:
    from watcher.alerts.digest import SNIPPET_CHARS, render_digest
    from watcher.models import Cluster

    filler = "Markets were quiet as traders waited for the data. " * 10  # 510 characters
    short = digest_story(1, "Sojitz & a <partner> buy a gallium stake.")
    long_ = digest_story(2, filler + "Later, gallium prices rose. " + filler)
    in_body = digest_story(3, "A short summary.", body=filler + "A gallium plant opens. " + filler)
    unmatched = digest_story(4, filler)
    reprint = digest_story(9, "Sojitz & a partner buy a gallium stake.", source="Reprints")
    cluster = Cluster(id=1, lead=short, members=(short, reprint))

    def spans(story: Story, field: str = "summary") -> dict[str, list[tuple[int, int]]]:
        text = getattr(story, field)
        at = text.index("gallium")
        return {field: [(at, at + len("gallium"))]}

    terms = {"minerals": ["gallium"]}
    message = render_digest(
        "s",
        [
            (digest_alert(1, terms), short, cluster, spans(short)),
            (digest_alert(2, terms), long_, None, spans(long_)),
            (digest_alert(3, terms), in_body, None, spans(in_body, "body")),
            (digest_alert(4, {}), unmatched, None, {}),
        ],
    )
    lines = message.text.splitlines()
    first = lines.index("- Story 1 (Wire, 2026-11-24 00:01 UTC) - also reported by Reprints")
    assert lines[first + 1 : first + 4] == [
        "  Sojitz & a <partner> buy a *gallium* stake.",
        "  Matched: minerals: gallium",
        "  https://x.test/1",
    ]
    around = lines[lines.index("- Story 2 (Wire, 2026-11-24 00:02 UTC)") + 1]
    assert around.startswith("  …") and "Later, *gallium* prices rose." in around
    assert len(around) < 2 * EXCERPT_CHARS + 20
    full = lines[lines.index("- Story 3 (Wire, 2026-11-24 00:03 UTC)") + 1]
    assert full.startswith("  In the full text: …") and "A *gallium* plant opens." in full
    beginning = lines[lines.index("- Story 4 (Wire, 2026-11-24 00:04 UTC)") + 1]
    assert beginning.endswith("…") and len(beginning) <= 2 + SNIPPET_CHARS + 1
    assert filler.startswith(beginning[2:-1])
    assert "Matched" not in lines[lines.index("- Story 4 (Wire, 2026-11-24 00:04 UTC)") + 2]
    assert "Sojitz &amp; a &lt;partner&gt; buy a <mark>gallium</mark> stake." in message.html
    assert "<br>Matched: minerals: gallium" in message.html
    slack = [b["text"]["text"] for b in message.slack[0]["blocks"] if b["type"] == "section"]
    assert slack[0] == (
        "<https://x.test/1|Story 1> · Wire - also reported by <https://x.test/9|Reprints> · "
        "minerals: gallium\n"
        "Sojitz &amp; a &lt;partner&gt; buy a *gallium* stake."
    )
    assert message.json["alerts"][0]["also_reported_by"] == ["Reprints"]
    assert 'also reported by <a href="https://x.test/9">Reprints</a>' in message.html
    assert message.json["alerts"][2]["full_text_excerpts"] == [
        full.split(": ", 1)[1].replace("*", "")
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param("    digest: weekly\n", "'weekly' is not a digest schedule", id="schedule"),
        pytest.param(
            "    digest: weekly mo 08:00\n", "'weekly mo 08:00' is not a digest", id="weekday-name"
        ),
        pytest.param(
            "    digest: weekdays 25:00\n", "'weekdays 25:00' is not a digest", id="weekdays-time"
        ),
        pytest.param(
            "    timezone: Mars/Olympus\n", "'Mars/Olympus' is not an IANA time zone", id="zone"
        ),
        pytest.param(  # a folder of the zone database: IsADirectoryError escaped
            "    timezone: Europe\n", "'Europe' is not an IANA time zone", id="zone-region"
        ),
        pytest.param("    mode: sometimes\n", "must be immediate or digest", id="mode"),
    ],
)
def test_subscriber_settings_are_checked(tmp_path: Path, line: str, expected: str) -> None:
    from watcher.errors import ConfigError

    path = tmp_path / "w.yaml"
    path.write_text("subscribers:\n  - name: s\n    console: true\n" + line)
    with pytest.raises(ConfigError, match=expected):
        load_config(path, env={})


def test_corpus_daily_digest_subscriber_gets_one_email_holding_every_gallium_cluster(
    server: FeedServer, smtp: tuple[int, Inbox], corpus: Path, tmp_path: Path, clock: FakeClock
) -> None:
    port, inbox = smtp
    config = tmp_path / "watcher.yaml"
    feeds = serve_corpus_feeds(server, corpus)
    config.write_text(
        f"state: w.db\nrules: {ROOT / 'rules'}\nbackfill: all\n"
        f"smtp: {{host: 127.0.0.1, port: {port}, security: none, from: watcher@test}}\n"
        "subscribers:\n  - name: daily\n    follow: [gallium]\n    mode: digest\n    digest: daily 08:00\n    email: d@test\n"
        f"feeds:\n{feeds}"
    )
    harness = Harness(config, clock)
    harness.poll()
    assert harness.deliver() == []
    clock.now = clock.now.replace(hour=8, minute=0, second=1) + timedelta(days=1)
    results = harness.deliver()
    labelled = [json.loads(line) for line in (corpus / "stories.jsonl").read_text().splitlines()]
    events = {d["event"] for d in labelled if "gallium" in d["mentions"]["minerals"]}
    assert len(results) == len(events) and len(inbox.messages) == 1
    assert inbox.messages[0]["Subject"] == f"[watcher] digest for daily: {len(events)} news items"
    assert inbox.messages[0]["Message-ID"].startswith("<digest-daily-")


@pytest.mark.parametrize(
    ("key", "top", "no_limit", "want"),
    [
        pytest.param("backfill", "6h", "all", (6 * 3600, None, 2 * 86400), id="backfill"),
        pytest.param("max_age", "7d", "off", (7 * 86400, None, 2 * 86400), id="max_age"),
        pytest.param("silent_after", "3d", "off", (3 * 86400, None, 2 * 86400),
                     id="silent_after"),
    ],
)  # fmt: skip
def test_a_feed_can_override_the_ages_of_stories_that_alert(
    tmp_path: Path, key: str, top: str, no_limit: str, want: tuple[float | None, ...]
) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(
        f"{key}: {top}\nfeeds:\n  - name: A\n    url: https://a.test/\n  - name: B\n    url: https://b.test/\n    {key}: {no_limit}\n  - name: C\n    url: https://c.test/\n    {key}: 2d\n"
    )
    assert tuple(getattr(f, key) for f in load_config(path, env={}).feeds) == want


def test_silent_after_is_a_week_unless_set_and_at_least_an_hour(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("feeds:\n  - name: A\n    url: https://a.test/\n")
    assert load_config(path, env={}).feeds[0].silent_after == 7 * 86400
    path.write_text("feeds:\n  - name: A\n    url: https://a.test/\n    silent_after: 30m\n")
    with pytest.raises(ConfigError, match=r"feeds\[0\].silent_after: must be at least 3600"):
        load_config(path, env={})


def test_max_age_is_off_unless_set_and_at_least_an_hour(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("feeds:\n  - name: A\n    url: https://a.test/\n")
    assert load_config(path, env={}).feeds[0].max_age is None
    path.write_text("max_age: 10m\nfeeds: []\n")
    with pytest.raises(ConfigError, match=r"w.yaml:1: max_age: must be at least 3600 seconds"):
        load_config(path, env={})


def test_a_merge_keeps_one_pending_alert_per_subscriber_and_channel(tmp_path: Path) -> None:
    from watcher.models import Assignment, Match

    store = Store(tmp_path / "w.db")
    now = datetime(2026, 11, 24, tzinfo=UTC)
    from watcher.models import AlertPlan, FeedConfig

    store.sync_feeds([FeedConfig(name="f", url="https://f.test/", interval=600)])
    stories = [
        Story(
            id=f"s{i}",
            feed="f",
            guid=None,
            source=f"S{i}",
            title=f"T{i}",
            summary="",
            link=f"https://x.test/{i}",
            published=now,
            fetched_at=now,
        )
        for i in range(3)
    ]
    store.record_poll(store.feed_state("f"), stories)
    store.record_assignments(
        [
            Assignment(story="s0", cluster=1, level=None),
            Assignment(story="s1", cluster=2, level=None),
        ],
        now,
    )

    def plans(m: Match) -> list[AlertPlan]:
        return (
            [
                AlertPlan(subscriber="a", channel="email", due=now),
                AlertPlan(subscriber="b", channel="email", due=now),
            ]
            if m.cluster == 1
            else [
                AlertPlan(subscriber="a", channel="email", due=now),
                AlertPlan(subscriber="c", channel="slack", due=now),
            ]
        )

    store.record_matches(
        [
            Match(
                cluster=1,
                rule="r",
                story="s0",
                terms={},
                clause="x",
                ruleset_version="v",
                matched_at=now,
            )
        ],
        plans,
    )
    store.record_matches(
        [
            Match(
                cluster=2,
                rule="q",
                story="s1",
                terms={},
                clause="x",
                ruleset_version="v",
                matched_at=now,
            )
        ],
        plans,
    )
    store.record_assignments(
        [Assignment(story="s2", cluster=1, level="same-event", merged=(2,))], now
    )
    assert sorted((a.subscriber, a.channel, a.cluster) for a in store.alerts()) == [
        ("a", "email", 1),
        ("b", "email", 1),
        ("c", "slack", 1),
    ]
    assert [a.cluster for a in store.alerts_for(1)] == [1, 1, 1] and store.alerts_for(2) == []


def test_the_alerts_of_a_cluster_include_those_tried_before_it_merged_others(
    tmp_path: Path,
) -> None:
    """An alert tried before a merge keeps its cluster: `why` still finds it, through any
    number of merges."""
    from watcher.models import AlertPlan, Assignment, FeedConfig, Match

    store = Store(tmp_path / "w.db")
    now = datetime(2026, 11, 24, tzinfo=UTC)
    store.sync_feeds([FeedConfig(name="f", url="https://f.test/", interval=600)])
    store.record_poll(store.feed_state("f"), [digest_story(i) for i in range(4)])
    store.record_assignments(
        [Assignment(story=f"s{i}", cluster=i, level=None) for i in (1, 2)], now
    )
    for cluster in (1, 2):
        match = Match(cluster=cluster, rule="r", story=f"s{cluster}", terms={}, clause="x",
                      ruleset_version="v", matched_at=now)  # fmt: skip
        store.record_matches(
            [match], lambda m: [AlertPlan(subscriber="a", channel="email", due=now)]
        )
    (tried,) = [a for a in store.alerts() if a.cluster == 1]
    store.mark_sending(tried.id)  # tried: it stays with cluster 1
    store.record_assignments(
        [Assignment(story="s3", cluster=2, level="same-event", merged=(1,))], now
    )
    store.record_assignments(
        [Assignment(story="s0", cluster=5, level="same-event", merged=(2,))], now
    )
    assert {(a.id, a.cluster) for a in store.alerts_for(5)} == {(tried.id, 1), (tried.id + 1, 5)}
    assert [a.id for a in store.alerts_for(1)] == [tried.id]  # not the cluster it merged into


def _match(cluster: int, story: str, *, quiet: bool = False) -> Match:
    now = datetime(2026, 11, 24, tzinfo=UTC)
    return Match(cluster=cluster, rule="r", story=story, terms={}, clause="x",
                 ruleset_version="v", matched_at=now, quiet=quiet)  # fmt: skip


def _clustered(tmp_path: Path, stories: int, clusters: dict[int, int]) -> Store:
    """A store of `stories` stories s0, s1..., story i placed in cluster `clusters[i]`."""
    from watcher.models import Assignment, FeedConfig

    store = Store(tmp_path / "w.db")
    store.sync_feeds([FeedConfig(name="f", url="https://f.test/", interval=600)])
    store.record_poll(store.feed_state("f"), [digest_story(i) for i in range(stories)])
    store.record_assignments(
        [Assignment(story=f"s{i}", cluster=c, level=None) for i, c in clusters.items()],
        datetime(2026, 11, 24, tzinfo=UTC),
    )
    return store


def _email_to_a(m: Match) -> list[AlertPlan]:
    """The route of every match: an email to subscriber a."""
    return [AlertPlan(subscriber="a", channel="email", due=datetime(2026, 11, 24, tzinfo=UTC))]


def test_a_quiet_match_gives_way_to_the_next_loud_match_of_its_cluster_and_rule(
    tmp_path: Path,
) -> None:
    """A match by a story too old to alert alerts no one, and leaves the news item free to
    alert on its next story that matches the rule; in a batch, in either order."""
    store = _clustered(tmp_path, 6, {i: i // 2 for i in range(6)})
    plans = _email_to_a
    assert store.record_matches([_match(0, "s0", quiet=True)], plans) == [
        _match(0, "s0", quiet=True)
    ]
    assert store.alerts() == []
    assert store.record_matches([_match(0, "s1")], plans) == [_match(0, "s1")]
    assert store.record_matches([_match(0, "s1")], plans) == []  # once
    store.record_matches([_match(1, "s2", quiet=True), _match(1, "s3")], plans)
    store.record_matches([_match(2, "s5"), _match(2, "s4", quiet=True)], plans)
    assert sorted((a.cluster, a.story) for a in store.alerts()) == [(0, "s1"), (1, "s3"), (2, "s5")]
    assert [(m.story, m.quiet) for c in range(3) for m in store.matches_for(c)] == [
        ("s1", False), ("s3", False), ("s5", False)
    ]  # fmt: skip


def test_a_later_match_brings_forward_its_news_items_waiting_alert(tmp_path: Path) -> None:
    """An urgent rule matched by a story that joins a news item whose alert waits for the
    end of quiet hours went out then, under the lesser rule: the alert goes when the urgent
    match's would, as its alert. A match due no sooner, or an alert tried, changes nothing."""
    store = _clustered(tmp_path, 4, {0: 0, 1: 0, 2: 1, 3: 1})
    night, morning = datetime(2026, 11, 24, 23, tzinfo=UTC), datetime(2026, 11, 25, 6, tzinfo=UTC)

    def plan(due: datetime, waits: Waits | None) -> Callable[[Match], list[AlertPlan]]:
        return lambda m: [AlertPlan(subscriber="a", channel="email", due=due, waits=waits)]

    def match(cluster: int, story: str, rule: str) -> Match:
        return replace(_match(cluster, story), rule=rule, terms={"minerals": [rule]})

    store.record_matches([match(0, "s0", "gallium")], plan(morning, "quiet"))
    store.record_matches([match(0, "s1", "firms")], plan(morning, "quiet"))  # no sooner
    (waiting,) = store.alerts()
    assert (waiting.rule, waiting.next_attempt_at, waiting.digest) == ("gallium", morning, True)
    store.record_matches([match(0, "s1", "export-controls")], plan(night, None))
    (alert,) = store.alerts()
    assert (alert.id, alert.rule, alert.story, alert.terms) == (
        waiting.id,
        "export-controls",
        "s1",
        {"minerals": ["export-controls"]},
    )
    assert (alert.next_attempt_at, alert.digest, alert.waits) == (night, False, None)
    assert [a.id for a in store.due_alerts(night)] == [alert.id]
    store.record_matches([match(1, "s2", "gallium")], plan(morning, "quiet"))
    (tried,) = [a for a in store.alerts() if a.cluster == 1]
    store.mark_sending(tried.id)
    store.record_matches([match(1, "s3", "export-controls")], plan(night, None))
    (still,) = [a for a in store.alerts() if a.cluster == 1]
    assert (still.rule, still.next_attempt_at, still.status) == ("gallium", morning, "sending")


def test_a_merge_keeps_the_sooner_of_two_waiting_alerts_of_a_subscriber(tmp_path: Path) -> None:
    """Two news items, one alert each waiting for a subscriber's channel, made one: the
    alert that stays goes when the sooner would have, as that one (an urgent rule's alert,
    merged into a news item whose alert waits for the morning, waited with it)."""
    from watcher.models import Assignment

    store = _clustered(tmp_path, 6, {0: 0, 1: 1, 3: 3, 4: 4})
    night, morning = datetime(2026, 11, 24, 23, tzinfo=UTC), datetime(2026, 11, 25, 6, tzinfo=UTC)
    waiting: list[tuple[int, str, datetime, Waits | None]] = [
        (0, "gallium", morning, "quiet"), (1, "urgent", night, None),
        (3, "urgent", night, None), (4, "gallium", morning, "quiet"),
    ]  # fmt: skip
    for cluster, rule, due, waits in waiting:
        plan = AlertPlan(subscriber="a", channel="email", due=due, waits=waits)
        match = replace(_match(cluster, f"s{cluster}"), rule=rule)
        store.record_matches([match], lambda _, plan=plan: [plan])
    store.record_assignments(
        [Assignment(story="s2", cluster=0, level="same-event", merged=(1,)),
         Assignment(story="s5", cluster=3, level="same-event", merged=(4,))], night,
    )  # fmt: skip
    kept = {a.cluster: a for a in store.alerts()}
    assert sorted(kept) == [0, 3]
    assert (kept[0].rule, kept[0].story, kept[0].next_attempt_at) == ("urgent", "s1", night)
    assert (kept[0].digest, kept[0].waits) == (False, None)
    assert (kept[3].rule, kept[3].story, kept[3].next_attempt_at) == ("urgent", "s3", night)


def test_a_merge_keeps_the_loud_match_of_a_rule_both_clusters_matched(tmp_path: Path) -> None:
    """Merged into a cluster whose match of the rule was quiet, an alerted cluster's match
    stays: a later story of the news item does not alert it again."""
    from watcher.models import Assignment

    store, now, plans = (
        _clustered(tmp_path, 4, {1: 1, 2: 2}),
        datetime(2026, 11, 24, tzinfo=UTC),
        _email_to_a,
    )
    store.record_matches([_match(1, "s1", quiet=True), _match(2, "s2")], plans)
    (alert,) = store.alerts()
    store.mark_sending(alert.id)
    store.record_assignments(
        [Assignment(story="s3", cluster=1, level="same-event", merged=(2,))], now
    )
    assert [(m.story, m.quiet) for m in store.matches_for(1)] == [("s2", False)]
    assert store.record_matches([_match(1, "s3")], plans) == []
    assert len(store.alerts()) == 1


# -- rules that wait for outlets (min_sources) ---------------------------------------------

T_WAIT = datetime(2026, 11, 24, 8, tzinfo=UTC)


def outlet_story(sid: str, source: str, *, hours: float = 0) -> Story:
    """One outlet's copy of the same wire story: the same text, its own link."""
    when = T_WAIT + timedelta(hours=hours)
    return Story(
        id=sid, feed="f", guid=None, source=source,
        title="Smelter group to start gallium output in Ontario next year",
        summary="A smelter group will start gallium output in Ontario next year and sell it "
        "to chip makers, its chief executive said on Tuesday.",
        link=f"https://{sid}.test/news/1", published=when, fetched_at=when,
    )  # fmt: skip


class Waiting:
    """A pipeline over a real store whose rule `gallium` waits for outlets; one console
    subscriber follows it."""

    def __init__(self, tmp_path: Path, rule: str, clock: FakeClock) -> None:
        from watcher.alerts.routing import route
        from watcher.config import PollSettings, Subscriber
        from watcher.dedupe import ClusterSettings
        from watcher.models import FeedConfig

        self.rules = tmp_path / "rules"
        self.rules.mkdir()
        self.write(rule)
        self.live = LiveRules(self.rules)
        self.store = Store(tmp_path / "w.db")
        self.store.sync_feeds([FeedConfig(name="f", url="https://f.test/", interval=600)])
        subscribers = [Subscriber(name="desk", console=True)]
        self.pipeline = Pipeline(
            store=self.store, fetcher=Fetcher(PollSettings()), settings=PollSettings(),
            clock=clock, clusterer=Clusterer(self.store, ClusterSettings(), clock),
            rules=self.live,
            route=lambda m: route(
                m, {r.name: r for r in self.live.matcher.ruleset.rules}, subscribers
            ),
        )  # fmt: skip

    def write(self, rule: str) -> None:
        (self.rules / "r.yaml").write_text(f"rules:\n  - name: gallium\n{rule}")

    def settle(self, *stories: Story) -> list[Match]:
        saved = self.store.record_poll(self.store.feed_state("f"), stories)
        return self.pipeline.settler.settle(saved)[1]


def test_a_rule_with_min_sources_alerts_when_its_news_item_reaches_that_many_outlets(
    tmp_path: Path,
) -> None:
    """Matched by one outlet's story, the news item waits, quiet; a second copy from the same
    outlet is no second outlet; a copy from another outlet alerts it, once, with the story
    that matched first."""
    clock = FakeClock(T_WAIT + timedelta(hours=3))
    wait = Waiting(tmp_path, "    when: gallium\n    min_sources: 2\n", clock)
    (first,) = wait.settle(outlet_story("a", "Wire"))
    assert (first.quiet, first.waiting) == (True, True)
    assert wait.store.alerts() == []
    assert wait.settle(outlet_story("b", "Wire", hours=1)) == []  # the same outlet again
    assert wait.store.alerts() == []
    (loud,) = wait.settle(outlet_story("c", "Daily Paper", hours=2))
    assert (loud.quiet, loud.waiting, loud.cluster) == (False, False, first.cluster)
    (alert,) = wait.store.alerts()
    assert (alert.subscriber, alert.cluster) == ("desk", first.cluster)
    assert wait.settle(outlet_story("d", "Third Outlet", hours=2.5)) == []  # once
    assert [(m.quiet, m.waiting) for m in wait.store.matches_for(first.cluster)] == [(False, False)]


def test_a_waiting_news_item_alerts_when_an_outlet_joins_that_the_rule_does_not_match(
    tmp_path: Path,
) -> None:
    """The joining story need not match the rule: the news item's outlets are what count.
    The match keeps the story that made it."""
    clock = FakeClock(T_WAIT + timedelta(hours=3))
    rule = "    when: 'gallium AND NOT source:Rival'\n    min_sources: 2\n"
    wait = Waiting(tmp_path, rule, clock)
    (first,) = wait.settle(outlet_story("a", "Wire"))
    (promoted,) = wait.settle(outlet_story("b", "Rival", hours=1))
    assert (promoted.story, promoted.cluster, promoted.quiet) == ("a", first.cluster, False)
    assert promoted.matched_at == clock.now
    assert [(a.story, a.cluster) for a in wait.store.alerts()] == [("a", first.cluster)]


def test_rules_that_ask_for_fewer_outlets_alert_the_news_items_waiting_in_the_window(
    tmp_path: Path,
) -> None:
    """Lowered min_sources applies to matches waiting now, within the clustering window;
    older news stays unalerted."""
    from watcher.dedupe import ClusterSettings

    clock = FakeClock(T_WAIT + timedelta(hours=1))
    wait = Waiting(tmp_path, "    when: gallium\n    min_sources: 3\n", clock)
    old = wait.settle(outlet_story("a", "Wire"), outlet_story("b", "Paper"))
    assert [m.waiting for m in old] == [True]
    later = timedelta(seconds=ClusterSettings().window, hours=6)
    clock.now += later
    fresh = [replace(outlet_story(sid, source), published=clock.now, fetched_at=clock.now,
                     title="Gallium output to start in Ontario, smelter group says")
             for sid, source in (("c", "Wire"), ("d", "Paper"))]  # fmt: skip
    (waiting,) = wait.settle(*fresh)
    assert waiting.cluster != old[0].cluster
    assert wait.pipeline.settler.recheck_waiting() == []  # the rules did not change
    wait.write("    when: gallium\n    min_sources: 2\n")
    assert wait.live.reload().changed
    (promoted,) = wait.pipeline.settler.recheck_waiting()
    assert (promoted.cluster, promoted.quiet) == (waiting.cluster, False)
    assert [a.cluster for a in wait.store.alerts()] == [waiting.cluster]
    assert [m.waiting for m in wait.store.matches_for(old[0].cluster)] == [True]


def test_a_merge_keeps_a_waiting_match_over_a_quiet_one(tmp_path: Path) -> None:
    """A waiting match may alert yet; a quiet one (a story too old) never does: merged, the
    news item keeps the one that waits."""
    from watcher.models import Assignment

    store, now, plans = (
        _clustered(tmp_path, 4, {1: 1, 2: 2}),
        datetime(2026, 11, 24, tzinfo=UTC),
        _email_to_a,
    )
    waiting = replace(_match(2, "s2", quiet=True), waiting=True)
    store.record_matches([_match(1, "s1", quiet=True), waiting], plans)
    store.record_assignments(
        [Assignment(story="s3", cluster=1, level="same-event", merged=(2,))], now
    )
    assert [(m.story, m.waiting) for m in store.matches_for(1)] == [("s2", True)]
    assert store.waiting_matches(clusters=[1]) == [replace(waiting, cluster=1)]
    assert store.alerts() == []


def test_a_waiting_match_takes_a_quiet_ones_place(tmp_path: Path) -> None:
    """A news item whose first match was quiet (a backlog story) still waits for outlets
    when a fresh story matches the rule: its match waits in the quiet one's place."""
    store, plans = _clustered(tmp_path, 2, {0: 0}), _email_to_a
    store.record_matches([_match(0, "s0", quiet=True)], plans)
    waiting = replace(_match(0, "s1", quiet=True), waiting=True)
    assert store.record_matches([waiting], plans) == [waiting]
    assert store.record_matches([waiting], plans) == []  # once
    assert store.waiting_matches(clusters=[0]) == [waiting]
    assert store.record_matches([_match(0, "s1")], plans) == [_match(0, "s1")]
    assert store.waiting_matches(clusters=[0]) == [] and len(store.alerts()) == 1


def test_a_fresh_story_joining_a_backlog_news_item_alerts_it(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path
) -> None:
    """A new feed's backlog is quiet, but it must not silence the news it reported: a fresh
    outlet's story of the same news item, polled later, alerts it."""
    port, inbox = smtp
    slack_route(server, [])
    config = write_config(tmp_path, smtp_port=port, slack=server.url("/slack"), backfill="24h")
    now = datetime.now(UTC)
    item = (
        "<item><title>{0}</title><link>https://{1}.test/1</link><pubDate>{2}</pubDate>"
        "<description>{3}</description></item>"
    )
    lead = ("A smelter group will start germanium output in Ontario next year and sell it to "
            "optics makers, its chief executive said on Tuesday.")  # fmt: skip
    title = "Smelter group to start germanium output in Ontario"
    add_feed(
        config,
        "Wire",
        rss([item.format(title, "wire", format_datetime(now - timedelta(days=2)), lead)]),
    )
    first = watcher("--config", str(config), "once").stdout
    assert inbox.messages == [] and server.posts == []  # two days old on its feed's first poll
    (matched,) = [line for line in first.splitlines() if line.startswith("MATCH rule")]
    assert matched.endswith("(quiet: the story was kept from alerting)")
    add_feed(config, "Paper", rss([item.format(title, "paper", format_datetime(now), lead)]))
    second = watcher("--config", str(config), "once").stdout
    assert "MATCH rule germanium-news" in second and "(quiet" not in second
    assert [m["Subject"] for m in inbox.messages] == [f"[watcher] germanium-news: {title}"]
    store = Store(tmp_path / "w.db")
    (wire,) = store.find_stories("https://wire.test/1")
    (paper,) = store.find_stories("https://paper.test/1")
    assert {a.story for a in store.alerts()} == {paper.id}
    assert store.placement(paper.id)[0] == store.placement(wire.id)[0]  # one news item
    lines = watcher("--config", str(config), "why", wire.id).stdout.splitlines()
    assert "analyst:  alerted" in lines


def test_min_sources_holds_the_email_until_a_second_outlet_carries_the_news(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path
) -> None:
    """End to end with `watcher once`: the console says the match waits, `why` says for
    how many outlets, a second feed of the same outlet changes nothing, another outlet's
    feed sends the one email."""
    port, inbox = smtp
    slack_route(server, [])
    config = write_config(
        tmp_path, smtp_port=port, slack=server.url("/slack"),
        rules_yaml=GERMANIUM_RULE + "    min_sources: 2\n",
    )  # fmt: skip
    now = format_datetime(datetime.now(UTC))
    item = (
        "<item><title>Smelter group to start germanium output in Ontario</title>"
        "<link>https://{0}.test/1</link><pubDate>{1}</pubDate><description>A smelter group "
        "will start germanium output in Ontario next year and sell it to optics makers, its "
        "chief executive said on Tuesday.</description></item>"
    )

    def add_outlet(name: str, source: str, host: str) -> str:
        add_feed(config, name, rss([item.format(host, now)]))
        with config.open("a") as handle:
            handle.write(f"    source: {source}\n")
        return watcher("--config", str(config), "once").stdout

    first = add_outlet("Wire", "Wire Service", "wire")
    (matched,) = [line for line in first.splitlines() if line.startswith("MATCH rule")]
    assert matched.endswith("(waiting: alerts once as many outlets carry the news item as "
                            "the rule asks)")  # fmt: skip
    add_outlet("Wire-Metals", "Wire Service", "metals.wire")
    assert inbox.messages == [] and server.posts == []
    (wire,) = Store(tmp_path / "w.db").find_stories("https://wire.test/1")
    lines = watcher("--config", str(config), "why", wire.id).stdout.splitlines()
    assert "cluster:  " in lines[2] and "2 stories from 1 outlet" in lines[2]
    assert any(line.endswith("; waiting for the outlets the rule asks for (min_sources)")
               for line in lines)  # fmt: skip
    assert lines[-1] == (
        "analyst:  not alerted yet: the rules it follows wait for outlets (min_sources: "
        "germanium-news at 2); 1 outlet carries this news item"
    )
    listed = watcher("--config", str(config), "clusters", "--since", "1h").stdout
    assert "  rules: germanium-news (waiting for outlets)\n" in listed
    third = add_outlet("Paper", "Daily Paper", "paper")
    assert "MATCH rule germanium-news" in third and "(waiting" not in third
    assert [m["Subject"] for m in inbox.messages] == [
        "[watcher] germanium-news: Smelter group to start germanium output in Ontario"
    ]
    assert len(server.posts) == 1
    watcher("--config", str(config), "once")
    assert len(inbox.messages) == 1  # once
    lines = watcher("--config", str(config), "why", wire.id).stdout.splitlines()
    assert lines[-1] == "analyst:  alerted"
    listed = watcher("--config", str(config), "clusters", "--since", "1h").stdout
    assert "  rules: germanium-news\n" in listed


def test_rules_that_ask_for_fewer_outlets_while_the_service_is_down_apply_at_its_start(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path
) -> None:
    port, inbox = smtp
    slack_route(server, [])
    waiting = GERMANIUM_RULE + "    min_sources: 3\n"
    config = write_config(tmp_path, smtp_port=port, slack=server.url("/slack"), rules_yaml=waiting)
    add_feed(config, "Wire", WIRE)
    assert "(waiting" in watcher("--config", str(config), "once").stdout
    assert inbox.messages == []
    rules = tmp_path / "rules" / "r.yaml"
    rules.write_text(rules.read_text().replace("min_sources: 3", "min_sources: 1"))
    again = watcher("--config", str(config), "once").stdout
    assert "MATCH rule germanium-news" in again and "(waiting" not in again
    assert [m["Subject"].split(":")[0] for m in inbox.messages] == ["[watcher] germanium-news"]


def test_a_backlog_story_given_another_title_stays_quiet(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path
) -> None:
    """A story of a new feed's backlog is not news when its feed retitles it later; a story
    of that first poll recent enough for `backfill` alerts, once."""
    port, inbox = smtp
    slack_route(server, [])
    config = write_config(tmp_path, smtp_port=port, slack=server.url("/slack"), backfill="24h")
    polled = polled_before_and_after(
        config, inbox,
        [developing(1, "Germanium smelter halts output", 2),
         developing(2, "Refinery closes in Belgium", 0.1)],
        [developing(1, "Germanium smelter halts output in Belgium", 2),
         developing(2, "Germanium refinery closes in Belgium", 0.1)],
    )  # fmt: skip
    assert polled.stderr.count("story retitled") == 2
    assert [m["Subject"] for m in inbox.messages] == [
        "[watcher] germanium-news: Germanium refinery closes in Belgium"
    ]
