"""A subscriber's `settle`: an immediate alert waits that long before it goes, so that a
news item first seen as two (two clusters that a later story merges) alerts once, listing
every outlet that reported it meanwhile."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import FakeClock, free_port
from tests.feedserver import FeedServer, fixture_bytes
from tests.test_alerts import (
    GERMANIUM_RULE,
    Harness,
    add_feed,
    slack_route,
    subscriber_problems,
    write_config,
)
from tests.test_cli import watcher
from tests.test_ops import config_file, feed_lines, service
from tests.test_waiting_alerts import BERLIN, at
from watcher.alerts.routing import route
from watcher.config import ConfigError, Subscriber, load_config
from watcher.models import Match
from watcher.rules.model import Rule
from watcher.rules.query import parse
from watcher.store import Store

MADE = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def _rule(priority: int) -> Rule:
    return Rule(
        name="r", description="", condition=parse("x"), text="x", tags=(), notify=(),
        priority=priority, path="r.yaml", line=1, order=0,
    )  # fmt: skip


def _due(
    subscriber: Subscriber, made: datetime, priority: int
) -> list[tuple[datetime, str | None]]:
    match = Match(
        cluster=1, rule="r", story="s", terms={}, clause="c", ruleset_version="v", matched_at=made
    )
    return [(p.due, p.waits) for p in route(match, {"r": _rule(priority)}, [subscriber])]


QUIET_AT_ONE = {"quiet_hours": "13:00-14:00", **BERLIN}  # 12:00 to 13:00 UTC


@pytest.mark.parametrize(
    ("settings", "made", "priority", "expected"),
    [
        pytest.param({}, "11:00", 3, ("11:00", None), id="no-settle"),
        pytest.param({"settle": 300.0}, "11:00", 3, ("11:05", None), id="settles"),
        pytest.param({"settle": 300.0}, "11:00", 5, ("11:00", None), id="urgent-goes-at-once"),
        pytest.param(
            {"settle": 300.0, **QUIET_AT_ONE},
            "11:58",
            3,
            ("13:00", "quiet"),
            id="settles-into-quiet-hours",
        ),
        pytest.param(
            {"settle": 300.0, **QUIET_AT_ONE},
            "11:50",
            3,
            ("11:55", None),
            id="settles-before-quiet-hours",
        ),
    ],
)
def test_an_immediate_alert_is_due_after_its_subscribers_settle(
    settings: dict[str, object], made: str, priority: int, expected: tuple[str, str | None]
) -> None:
    subscriber = Subscriber(name="ana", slack="https://hooks.test/x", **settings)  # type: ignore[arg-type]
    due = _due(subscriber, at(f"2026-12-05T{made}:00+00:00"), priority)
    assert due == [(at(f"2026-12-05T{expected[0]}:00+00:00"), expected[1])]


def test_a_subscribers_settle_is_read_from_the_config(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(
        "subscribers:\n  - {name: a, console: true, settle: 5m}\n  - {name: b, console: true}\n"
    )
    a, b = load_config(path, env={}).subscribers
    assert (a.settle, b.settle) == (300.0, 0.0)


def test_delivery_settle_is_that_of_each_immediate_subscriber_that_gives_none(
    tmp_path: Path,
) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(
        "delivery: {settle: 5m}\nsubscribers:\n  - {name: a, console: true}\n"
        "  - {name: b, console: true, settle: 0s}\n  - {name: c, console: true, settle: 1m}\n"
        "  - {name: d, console: true, mode: digest}\n"
    )
    config = load_config(path, env={})
    assert [s.settle for s in config.subscribers] == [300.0, 0.0, 60.0, 0.0]
    path.write_text("delivery: {settle: 2h}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert "delivery.settle: must be at most 60m" in str(caught.value)


@pytest.mark.parametrize(
    ("value", "mode", "problem"),
    [
        ("2h", "immediate", "must be at most 60m (longer is a digest)"),
        ("soon", "immediate", "'soon' is not a duration"),
        ("-5m", "immediate", "'-5m' is not a duration"),
        ("5m", "digest", "is for mode: immediate"),
    ],
)
def test_a_wrong_settle_stops_the_config(
    tmp_path: Path, value: str, mode: str, problem: str
) -> None:
    found = subscriber_problems(tmp_path, f"mode: {mode}, settle: '{value}'")
    assert "subscribers[0].settle" in found and problem in found


# -- a news item first seen as two -------------------------------------------------------------

ITEM = """<item><title>{title}</title><link>{link}</link><guid>{guid}</guid>
<pubDate>Sat, 05 Dec 2026 11:{minute}:00 +0000</pubDate><description>{lead}</description></item>"""


def _feed(outlet: str, *items: str) -> bytes:
    body = "".join(items)
    channel = f"<title>{outlet}</title><link>https://{outlet.lower()}.test/</link>{body}"
    return f'<?xml version="1.0"?><rss version="2.0"><channel>{channel}</channel></rss>'.encode()


FIRST = ITEM.format(  # one outlet's report of the news
    title="Ostrava refinery to recover germanium from zinc residues",
    link="https://first.test/ostrava-germanium", guid="https://first.test/ostrava-germanium",
    minute="10", lead="A Czech refinery plans to recover germanium from zinc smelting residues.",
)  # fmt: skip
SECOND = ITEM.format(  # another outlet's, in other words: clustered apart at first
    title="Czech plant plans germanium output",
    link="https://second.test/a/77", guid="tag:second.test,2026:77",
    minute="20", lead="Germanium for optics will come from a plant near the Polish border.",
)  # fmt: skip
BRIDGE = ITEM.format(  # an aggregator's copy: the first's link, under the second's guid
    title="Czech plant plans germanium output",
    link="https://first.test/ostrava-germanium", guid="tag:second.test,2026:77",
    minute="30", lead="Germanium for optics will come from a plant near the Polish border.",
)  # fmt: skip


def _first_seen_as_two(tmp_path: Path, server: FeedServer, settle: str) -> tuple[Path, Harness]:
    """Two outlets' reports of one news item, polled and clustered apart, each matching the
    germanium rule followed by a Slack subscriber with `settle`."""
    slack_route(server, [])
    config = write_config(
        tmp_path, smtp_port=free_port(), slack=server.url("/slack"), rules_yaml=GERMANIUM_RULE
    )
    config.write_text(
        config.read_text().replace("    email: analyst@test\n", f"    settle: {settle}\n")
    )
    add_feed(config, "First", _feed("First", FIRST))
    add_feed(config, "Second", _feed("Second", SECOND))
    add_feed(config, "Aggregator", _feed("Aggregator"))
    return config, Harness(config, FakeClock(MADE))


def _texts(server: FeedServer) -> list[str]:
    return [json.loads(body)["text"] for path, body in server.posts if path == "/slack"]


@pytest.mark.parametrize(("settle", "alerts"), [("0s", 2), ("5m", 1)])
def test_a_news_item_first_seen_as_two_alerts_once_within_the_settle(
    server: FeedServer, tmp_path: Path, settle: str, alerts: int
) -> None:
    config, harness = _first_seen_as_two(tmp_path, server, settle)
    harness.poll()
    clusters = {a.cluster for a in harness.store.alerts()}
    assert len(clusters) == 2  # two clusters, an alert each so far
    sent_at_once = harness.deliver()
    harness.clock.now = MADE + timedelta(minutes=1)  # the aggregator's copy links the two
    (config.parent / "Aggregator.xml").write_bytes(_feed("Aggregator", BRIDGE))
    harness.poll()
    harness.clock.now = MADE + timedelta(minutes=5, seconds=1)
    sent = sent_at_once + harness.deliver()
    assert [d.outcome for d in sent] == ["sent"] * alerts
    assert len(_texts(server)) == alerts
    if alerts == 1:  # the alert that went names the other outlet, which joined meanwhile
        (body,) = [body.decode() for _, body in server.posts]
        assert (
            "Ostrava refinery" in body
            and "also reported by <https://second.test/a/77|Second>" in body
        )


def test_a_settling_alert_is_not_sent_before_its_time(server: FeedServer, tmp_path: Path) -> None:
    _, harness = _first_seen_as_two(tmp_path, server, "5m")
    harness.poll()
    harness.clock.now = MADE + timedelta(minutes=4, seconds=59)
    assert harness.deliver() == [] and _texts(server) == []
    (pending,) = {a.next_attempt_at for a in harness.store.alerts() if a.status == "pending"}
    assert pending == MADE + timedelta(minutes=5)
    config, story = str(tmp_path / "watcher.yaml"), harness.store.alerts()[0].story
    why = watcher("--config", config, "why", story).stdout
    assert "analyst by slack: pending, due " in why and "(settling: " in why, why
    harness.clock.now = MADE + timedelta(minutes=5)
    assert [d.outcome for d in harness.deliver()] == ["sent", "sent"]
    assert "(settling: " not in watcher("--config", config, "why", story).stdout


def test_watcher_run_sends_a_settling_alert_once_its_settle_is_over(
    server: FeedServer, tmp_path: Path
) -> None:
    """The service's delivery job picks a settling alert up when it falls due: not before."""
    server.feed("/wire.xml", fixture_bytes("wire.rss.xml"))
    config = config_file(tmp_path, feed_lines(server, ("Wire", "/wire.xml")))
    config.write_text(
        config.read_text().replace("    console: true\n", "    console: true\n    settle: 3s\n")
    )
    with service(config) as running:
        running.wait_for("alert sent", seconds=30)
        alerts = Store(tmp_path / "state" / "w.db").alerts()
    sent = [a for a in alerts if a.status == "sent"]
    assert sent and all(
        a.sent_at and a.sent_at - a.created_at >= timedelta(seconds=3) for a in sent
    )
    assert "alert sent" in running.log() and "ALERT" in running.out.read_text()
