"""Alerts that wait for a digest (a digest time, the end of quiet hours, the next hour over
the hourly cap) follow their subscriber's settings as they are now: a new schedule, time
zone, quiet hours or mode, or a rule made urgent, moves them, at start and at reload."""

from __future__ import annotations

import json
import logging
import re
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from pathlib import Path

import pytest

from tests.conftest import wait_until
from tests.feedserver import FeedServer
from tests.test_alerts import REPRINT, WIRE, add_feed, slack_route, write_config
from tests.test_cli import watcher
from watcher.alerts.renames import follow_renames, reaches, renames
from watcher.alerts.routing import replan, replan_waiting
from watcher.config import Subscriber
from watcher.models import Alert, AlertPlan, Match
from watcher.rules.model import Rule
from watcher.rules.query import parse
from watcher.store import Store

MADE = datetime(2026, 12, 4, 23, 0, tzinfo=UTC)  # midnight in Berlin
NOW = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)
BERLIN = {"timezone": "Europe/Berlin"}


def waiting(waits: str, due: datetime) -> Alert:
    return Alert(
        id=1, subscriber="ana", channel="slack", cluster=7, rule="r", story="s", terms={},
        status="pending", attempts=0, sends=0, next_attempt_at=due, last_error=None,
        created_at=MADE, sent_at=None, digest=True, waits=waits,  # type: ignore[arg-type]
    )  # fmt: skip


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


DAILY_8 = {"mode": "digest", "digest": "daily 08:00", **BERLIN}
QUIET = {"quiet_hours": "22:00-07:00", **BERLIN}


@pytest.mark.parametrize(
    ("before", "now", "priority", "after"),
    [
        pytest.param(
            ("digest", "2026-12-05T07:00:00+00:00"), DAILY_8, 3, None, id="digest-unchanged"
        ),
        pytest.param(
            ("digest", "2026-12-05T07:00:00+00:00"),
            {**DAILY_8, "digest": "daily 06:30"},
            3,
            ("2026-12-05T05:30:00+00:00", "digest"),
            id="digest-earlier",
        ),
        pytest.param(
            ("digest", "2026-12-05T07:00:00+00:00"),
            {**DAILY_8, "timezone": "Asia/Kolkata"},  # made at 04:30 there
            3,
            ("2026-12-05T02:30:00+00:00", "digest"),
            id="digest-other-zone",
        ),
        pytest.param(
            ("digest", "2026-12-05T07:00:00+00:00"),
            {"digest": "daily 08:00", **BERLIN},
            3,
            (MADE.isoformat(), None),
            id="digest-now-immediate",
        ),
        pytest.param(
            ("digest", "2026-12-05T07:00:00+00:00"),
            QUIET,
            3,
            ("2026-12-05T06:00:00+00:00", "quiet"),  # immediate, but made in quiet hours
            id="digest-now-quiet-hours",
        ),
        pytest.param(("quiet", "2026-12-05T06:00:00+00:00"), QUIET, 3, None, id="quiet-unchanged"),
        pytest.param(
            ("quiet", "2026-12-05T06:00:00+00:00"),
            {**QUIET, "quiet_hours": "23:00-06:00"},
            3,
            ("2026-12-05T05:00:00+00:00", "quiet"),
            id="quiet-ends-earlier",
        ),
        pytest.param(
            ("quiet", "2026-12-05T06:00:00+00:00"),
            BERLIN,
            3,
            (MADE.isoformat(), None),
            id="quiet-hours-gone",
        ),
        pytest.param(
            ("quiet", "2026-12-05T06:00:00+00:00"),
            QUIET,
            5,
            (MADE.isoformat(), None),
            id="rule-now-urgent",
        ),
        pytest.param(
            ("quiet", "2026-12-05T06:00:00+00:00"),
            DAILY_8,
            3,
            ("2026-12-05T07:00:00+00:00", "digest"),
            id="quiet-now-digest",
        ),
        pytest.param(
            ("cap", "2026-12-05T00:00:00+00:00"),
            {"max_per_hour": 5},
            3,
            None,
            id="cap-stands",
        ),
        pytest.param(
            ("cap", "2026-12-05T00:00:00+00:00"), {}, 3, (MADE.isoformat(), None), id="cap-gone"
        ),
        pytest.param(
            ("cap", "2026-12-05T00:00:00+00:00"),
            {"max_per_hour": 5, **DAILY_8},
            3,
            ("2026-12-05T07:00:00+00:00", "digest"),
            id="cap-now-digest",
        ),
    ],
)
def test_replan(
    before: tuple[str, str],
    now: dict[str, object],
    priority: int,
    after: tuple[str, str | None] | None,
) -> None:
    subscriber = Subscriber(name="ana", slack="https://hooks.test/x", **now)  # type: ignore[arg-type]
    found = replan(waiting(before[0], at(before[1])), subscriber, priority)
    assert found == (None if after is None else (at(after[0]), after[1]))


def test_a_second_replan_changes_nothing() -> None:
    subscriber = Subscriber(name="ana", slack="https://hooks.test/x", **BERLIN)  # type: ignore[arg-type]
    alert = waiting("digest", at("2026-12-05T07:00:00+00:00"))
    due, waits = replan(alert, subscriber, 3) or (alert.next_attempt_at, alert.waits)
    assert replan(replace(alert, next_attempt_at=due, waits=waits), subscriber, 3) is None


def _queued(store: Store, plan: AlertPlan, cluster: int, *, rule: str = "r") -> None:
    match = Match(
        cluster=cluster, rule=rule, story=f"s{cluster}", terms={}, clause="c",
        ruleset_version="v", matched_at=MADE,
    )  # fmt: skip
    store.record_matches([match], lambda m: [plan])


def _rule(name: str, priority: int) -> Rule:
    return Rule(
        name=name, description="", condition=parse("x"), text="x", tags=(), notify=(),
        priority=priority, path="r.yaml", line=1, order=0,
    )  # fmt: skip


def test_replan_waiting_moves_what_the_settings_move_and_leaves_the_rest(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store(tmp_path / "w.db")
    due = at("2026-12-05T07:00:00+00:00")
    for cluster, subscriber in enumerate(["ana", "ana", "gone", "ana"]):
        channel = "email" if cluster == 3 else "slack"  # ana no longer has email
        plan = AlertPlan(subscriber=subscriber, channel=channel, due=due, waits="digest")
        _queued(store, plan, cluster, rule="urgent" if cluster == 1 else "r")
    _queued(store, AlertPlan(subscriber="ana", channel="slack", due=MADE), 9)  # due at once
    store.mark_sending(2)
    store.mark_failed(2, "HTTP 500", retry_at=due, spent=False)  # tried: its retry time stands
    ana = Subscriber(name="ana", slack="https://hooks.test/x", **QUIET)  # type: ignore[arg-type]
    rules = [_rule("r", 3), _rule("urgent", 5)]
    with caplog.at_level(logging.WARNING, logger="watcher.alerts"):
        assert replan_waiting(store, [ana], rules, NOW) == 1
    orphans = [
        {k: r.event_fields[k] for k in ("subscriber", "channel", "alerts")}  # type: ignore[attr-defined]
        for r in caplog.records if "no longer configured" in r.getMessage()
    ]  # fmt: skip
    assert orphans == [  # each subscriber and channel whose alerts wait, once
        {"subscriber": "ana", "channel": "email", "alerts": 1},
        {"subscriber": "gone", "channel": "slack", "alerts": 1},
    ]
    by_id = {a.id: a for a in store.alerts()}
    assert (by_id[1].next_attempt_at, by_id[1].waits) == (at("2026-12-05T06:00:00+00:00"), "quiet")
    assert (by_id[2].next_attempt_at, by_id[2].waits) == (due, "digest")  # urgent, but tried
    assert by_id[3].next_attempt_at == due and by_id[4].next_attempt_at == due  # gone: as due
    assert by_id[5].waits is None and not by_id[5].digest
    assert replan_waiting(store, [ana], rules, NOW) == 0  # nothing moves twice
    store.mark_failed(2, "HTTP 500", retry_at=None)  # dead, then retried by hand: tried
    assert replan_waiting(store, [ana], rules, NOW) == 0


# -- end to end, with the service and the command --------------------------------------------


DIGEST = "    mode: digest\n    digest: daily {hhmm}\n"


def _digest_config(server: FeedServer, tmp_path: Path) -> Path:
    """The analyst on Slack alone, in digest mode at a time 12 hours from now: no digest
    goes while the test runs."""
    slack_route(server, [])
    config = write_config(tmp_path, smtp_port=1, slack=server.url("/slack"))
    later = (datetime.now(UTC) + timedelta(hours=12)).strftime("%H:%M")
    config.write_text(
        config.read_text().replace("    email: analyst@test\n", DIGEST.format(hhmm=later))
    )
    add_feed(config, "Wire", WIRE)  # one germanium story
    return config


def _now_immediate(config: Path) -> None:
    text = config.read_text()
    start = text.index("    mode: digest\n")
    end = text.index("\n", text.index("    digest: daily")) + 1
    config.write_text(text[:start] + text[end:])


def _pending(db: Path) -> list[Alert]:
    return [a for a in Store(db).alerts() if a.status == "pending"]


def test_once_sends_the_digest_waiting_when_the_subscriber_is_now_immediate(
    server: FeedServer, tmp_path: Path
) -> None:
    config = _digest_config(server, tmp_path)
    first = watcher("--config", str(config), "once")
    assert first.returncode == 0, first.stderr
    (alert,) = _pending(tmp_path / "w.db")
    assert alert.waits == "digest" and server.posts == []
    listed = watcher("--config", str(config), "alerts").stdout
    header, row = listed.splitlines()[:2]
    due = alert.next_attempt_at.strftime("%Y-%m-%d %H:%M")
    assert row[header.index("DUE") :].startswith(f"{due} (digest)"), listed
    again = watcher("--config", str(config), "once")  # the same config: it still waits
    assert again.returncode == 0 and server.posts == [] and "alerts rescheduled" not in again.stderr
    _now_immediate(config)
    last = watcher("--config", str(config), "once")
    assert last.returncode == 0, last.stderr
    assert "alerts rescheduled" in last.stderr and "subscriber=analyst" in last.stderr
    (post,) = server.posts  # nothing new was polled: the waiting alert went
    assert json.loads(post[1])["text"].startswith("[watcher] digest for analyst")
    assert _pending(tmp_path / "w.db") == []
    listed = watcher("--config", str(config), "alerts").stdout
    header, row = listed.splitlines()[:2]
    assert row[header.index("DUE") :].split()[0] == "-"  # sent: due no more


def test_once_withdraws_the_digest_alert_of_a_rule_the_subscriber_no_longer_follows(
    server: FeedServer, tmp_path: Path
) -> None:
    config = _digest_config(server, tmp_path)
    assert watcher("--config", str(config), "once").returncode == 0
    (alert,) = _pending(tmp_path / "w.db")
    assert alert.rule == "germanium-news"
    config.write_text(config.read_text().replace("    follow: [metals]\n", "    min_priority: 4\n"))
    last = watcher("--config", str(config), "once")
    assert last.returncode == 0, last.stderr
    assert "alert withdrawn" in last.stderr and "rule=germanium-news" in last.stderr
    assert Store(tmp_path / "w.db").alerts() == [] and server.posts == []


@pytest.mark.parametrize("name", ["analyst", "analyst-kz"])  # the same, or renamed
def test_a_reload_sends_the_digest_waiting_when_the_subscriber_is_now_immediate(
    server: FeedServer, tmp_path: Path, name: str
) -> None:
    config = _digest_config(server, tmp_path)
    command = [sys.executable, "-m", "watcher", "--config", str(config), "run", "--listen",
               "127.0.0.1:0"]  # fmt: skip
    log = tmp_path / "stderr.log"
    with log.open("w") as stderr:
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)

    try:
        wait_until(lambda: len(_pending(tmp_path / "w.db")) == 1, proc=proc)
        time.sleep(2.5)  # a delivery round or more: the alert waits for its digest
        assert server.posts == []
        _now_immediate(config)
        _renamed(config, name)
        proc.send_signal(signal.SIGHUP)
        wait_until(lambda: len(server.posts) == 1, seconds=15, proc=proc)
        assert json.loads(server.posts[0][1])["text"].startswith(f"[watcher] digest for {name}")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        proc.kill()
    assert "alerts rescheduled" in log.read_text()


# -- a rule no longer followed -----------------------------------------------------------------


DIGEST_PLAN = AlertPlan(
    subscriber="ana", channel="slack", due=at("2026-12-05T07:00:00+00:00"), waits="digest"
)


def _two_news_items(store: Store, plan: AlertPlan = DIGEST_PLAN) -> None:
    """Alerts waiting for ana's digest (or as `plan` says): news item 1 matched germanium,
    then deals; news item 2 germanium alone; news item 3 a rule no longer loaded."""
    _queued(store, plan, 1, rule="germanium")
    deal = Match(cluster=1, rule="deals", story="s1-deal", terms={"firms": ["Sojitz"]},
                 clause="c", ruleset_version="v", matched_at=MADE)  # fmt: skip
    store.record_matches([deal], lambda m: [plan])  # one alert a news item: this makes none
    _queued(store, plan, 2, rule="germanium")
    _queued(store, plan, 3, rule="renamed")


RULES = [_rule("germanium", 3), _rule("deals", 3)]


@pytest.mark.parametrize(
    ("settings", "after"),
    [
        pytest.param({"follow": ("deals",)}, {1: "deals", 3: "renamed"}, id="unfollowed"),
        pytest.param({"follow": ("*",)}, {1: "germanium", 2: "germanium", 3: "renamed"},
                     id="still-followed"),
        pytest.param({"follow": ("deals", "metal")}, {1: "germanium", 2: "germanium",
                     3: "renamed"}, id="a-name-that-names-no-rule-keeps-them"),
        pytest.param({"follow": ("*",), "min_priority": 4}, {3: "renamed"},
                     id="below-min-priority"),
    ],
)  # fmt: skip
def test_an_alert_of_a_rule_no_longer_followed_goes_under_another_or_is_withdrawn(
    tmp_path: Path, settings: dict[str, object], after: dict[int, str]
) -> None:
    store = Store(tmp_path / "w.db")
    _two_news_items(store)
    ana = Subscriber(name="ana", slack="https://hooks.test/x", **DAILY_8, **settings)  # type: ignore[arg-type]
    replan_waiting(store, [ana], RULES, NOW)
    alerts = store.alerts()
    assert {a.cluster: a.rule for a in alerts} == after
    for alert in alerts:  # a deal's alert shows the deal's story and terms
        deal = alert.rule == "deals"
        assert alert.story == ("s1-deal" if deal else f"s{alert.cluster}")
        assert alert.terms == ({"firms": ["Sojitz"]} if deal else {})
        assert alert.waits == "digest"


def test_a_settling_alert_of_a_rule_no_longer_followed_is_moved_or_withdrawn_not_replanned(
    tmp_path: Path,
) -> None:
    """Alerts of an immediate subscriber, settling for 10 minutes: moved to a followed rule
    or withdrawn as a digest's would be; each keeps its time (quiet hours added since do
    not move an alert made before them)."""
    store = Store(tmp_path / "w.db")
    settling = AlertPlan(subscriber="ana", channel="slack", due=MADE + timedelta(minutes=10))
    _two_news_items(store, settling)
    ana = Subscriber(name="ana", slack="https://hooks.test/x", follow=("deals",), settle=600,
                     **QUIET)  # type: ignore[arg-type]  # fmt: skip
    assert replan_waiting(store, [ana], RULES, NOW) == 0
    alerts = store.alerts()
    assert {a.cluster: a.rule for a in alerts} == {1: "deals", 3: "renamed"}
    assert {(a.next_attempt_at, a.waits) for a in alerts} == {(MADE + timedelta(minutes=10), None)}
    assert sorted(a.story for a in alerts) == ["s1-deal", "s3"]


def test_a_news_item_whose_alert_was_withdrawn_alerts_on_a_followed_rule_later(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "w.db")
    _two_news_items(store)
    ana = Subscriber(name="ana", slack="https://hooks.test/x", follow=("deals",), **DAILY_8)  # type: ignore[arg-type]
    replan_waiting(store, [ana], RULES, NOW)
    plan = AlertPlan(subscriber="ana", channel="slack", due=at("2026-12-05T07:00:00+00:00"),
                     waits="digest")  # fmt: skip
    _queued(store, plan, 2, rule="deals")
    (alert,) = [a for a in store.alerts() if a.cluster == 2]
    assert alert.rule == "deals" and alert.status == "pending"


def test_a_withdrawn_alert_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = Store(tmp_path / "w.db")
    _two_news_items(store)
    ana = Subscriber(name="ana", slack="https://hooks.test/x", follow=("deals",), **DAILY_8)  # type: ignore[arg-type]
    with caplog.at_level(logging.INFO, logger="watcher.alerts"):
        replan_waiting(store, [ana], RULES, NOW)
    (withdrawn,) = [r for r in caplog.records if r.getMessage().startswith("alert withdrawn")]
    fields = withdrawn.event_fields  # type: ignore[attr-defined]
    assert (fields["subscriber"], fields["cluster"], fields["rule"]) == ("ana", 2, "germanium")


def test_an_alert_moved_to_an_urgent_rule_goes_at_once(tmp_path: Path) -> None:
    """Quiet hours hold a germanium alert till 07:00; the subscriber now follows only the
    deals rule, urgent, which the news item matched too: the alert is due when made."""
    store = Store(tmp_path / "w.db")
    _two_news_items(store)
    ana = Subscriber(name="ana", slack="https://hooks.test/x", follow=("deals",), **QUIET)  # type: ignore[arg-type]
    replan_waiting(store, [ana], [_rule("germanium", 3), _rule("deals", 5)], NOW)
    (moved,) = [a for a in store.alerts() if a.cluster == 1]
    assert (moved.rule, moved.next_attempt_at, moved.waits) == ("deals", MADE, None)


# -- a subscriber renamed ----------------------------------------------------------------------


def _reach(**channels: str) -> dict[str, str]:
    return reaches(Subscriber(name="x", **channels))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("recorded", "configured", "found"),
    [
        pytest.param({"ana": _reach(email="a@test")}, {"bo": _reach(email="A@TEST")},
                     [("ana", "bo")], id="renamed"),
        pytest.param({"ana": _reach(email="a@test, b@test")},
                     {"bo": _reach(email="b@test,a@test", slack="https://hooks.test/x")},
                     [("ana", "bo")], id="an-address-list-in-another-order-and-a-channel-added"),
        pytest.param({"ana": _reach(email="a@test")}, {"bo": _reach(email="b@test")}, [],
                     id="another-address"),
        pytest.param({"ana": _reach(email="a@test")}, {"bo": _reach(slack="a@test")}, [],
                     id="another-channel"),
        pytest.param({"ana": _reach(email="a@test")},
                     {"ana": _reach(email="a@test"), "bo": _reach(email="a@test")}, [],
                     id="both-configured: a second subscriber of one address"),
        pytest.param({"ana": _reach(email="a@test")},
                     {"bo": _reach(email="a@test"), "cy": _reach(email="a@test")}, [],
                     id="two-new-names: which is it"),
        pytest.param({"ana": _reach(webhook="https://h.test/1"), "bo": _reach(email="a@test")},
                     {"cy": _reach(webhook="https://h.test/1", email="a@test")}, [],
                     id="two-old-names: which is it"),
        pytest.param({"ana": _reach(console=True)}, {"bo": _reach(console=True)}, [],  # type: ignore[arg-type]
                     id="the-console-reaches-no-one-in-particular"),
    ],
)  # fmt: skip
def test_renames(
    recorded: dict[str, dict[str, str]],
    configured: dict[str, dict[str, str]],
    found: list[tuple[str, str]],
) -> None:
    assert renames(recorded, configured) == found


def test_follow_renames_moves_every_alert_and_keeps_no_address(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store(tmp_path / "w.db")
    hook = "https://hooks.slack.test/services/T0/B0/secret"
    ana = Subscriber(name="ana", slack=hook, email="ana@test")  # type: ignore[arg-type]
    follow_renames(store, [ana])
    for cluster in (1, 2):
        _queued(store, DIGEST_PLAN, cluster)
    _queued(store, replace(DIGEST_PLAN, channel="email"), 3)
    store.mark_sending(1)
    store.mark_sent(1, NOW)
    rows = store.db.execute("SELECT * FROM subscriber_channels").fetchall()
    assert rows and not any("@" in str(row) or "secret" in str(row) for row in rows)
    with caplog.at_level(logging.INFO, logger="watcher.alerts"):
        follow_renames(store, [replace(ana, name="ana-kz")])
    assert {(a.id, a.subscriber) for a in store.alerts()} == {
        (1, "ana-kz"),
        (2, "ana-kz"),
        (3, "ana-kz"),
    }  # sent or waiting: the news items it had are its own
    (renamed,) = [r for r in caplog.records if r.getMessage().startswith("subscriber renamed")]
    assert renamed.event_fields == {"old": "ana", "new": "ana-kz", "alerts": 3}  # type: ignore[attr-defined]
    follow_renames(store, [replace(ana, name="ana-kz")])  # nothing more to move
    assert {a.subscriber for a in store.alerts()} == {"ana-kz"}


def test_a_name_given_back_to_an_address_it_had_takes_its_alerts(tmp_path: Path) -> None:
    """A subscriber removed for a while and configured again under a new name."""
    store = Store(tmp_path / "w.db")
    ana = Subscriber(name="ana", slack="https://hooks.test/x")  # type: ignore[arg-type]
    follow_renames(store, [ana])
    _queued(store, DIGEST_PLAN, 1)
    follow_renames(store, [])
    assert {a.subscriber for a in store.alerts()} == {"ana"}
    follow_renames(store, [replace(ana, name="bo")])
    assert {a.subscriber for a in store.alerts()} == {"bo"}


def _renamed(config: Path, name: str) -> None:
    config.write_text(config.read_text().replace("  - name: analyst\n", f"  - name: {name}\n"))


def test_once_sends_a_renamed_subscribers_waiting_digest_under_its_new_name(
    server: FeedServer, tmp_path: Path
) -> None:
    config = _digest_config(server, tmp_path)
    assert watcher("--config", str(config), "once").returncode == 0
    assert [a.subscriber for a in _pending(tmp_path / "w.db")] == ["analyst"]
    _renamed(config, "analyst-kz")
    _now_immediate(config)
    last = watcher("--config", str(config), "once")
    assert last.returncode == 0, last.stderr
    assert "subscriber renamed old=analyst new=analyst-kz alerts=1" in last.stderr
    (post,) = server.posts  # not left waiting for a name no longer configured, to die
    assert json.loads(post[1])["text"].startswith("[watcher] digest for analyst-kz")
    assert [a.status for a in Store(tmp_path / "w.db").alerts()] == ["sent"]


def _dated_now(feed: bytes) -> bytes:
    return re.sub(rb"<pubDate>[^<]*", b"<pubDate>" + formatdate(usegmt=True).encode(), feed)


def test_a_renamed_subscriber_is_not_alerted_again_of_a_news_item_it_had(
    server: FeedServer, tmp_path: Path
) -> None:
    config = _digest_config(server, tmp_path)
    _now_immediate(config)
    (tmp_path / "Wire.xml").write_bytes(_dated_now(WIRE))  # within the clustering window
    assert watcher("--config", str(config), "once").returncode == 0
    assert len(server.posts) == 1  # the germanium news
    _renamed(config, "analyst-kz")
    rules = tmp_path / "rules" / "r.yaml"
    rules.write_text(rules.read_text() + "  - name: germanium-word\n    when: germanium\n"
                     "    tags: [metals]\n")  # fmt: skip
    add_feed(config, "Reprints", _dated_now(REPRINT))  # the same news; the new rule matches
    last = watcher("--config", str(config), "once")
    assert last.returncode == 0, last.stderr
    store = Store(tmp_path / "w.db")
    assert "germanium-word" in {
        m.rule for a in store.alerts() for m in store.matches_for(a.cluster)
    }
    assert len(server.posts) == 1, server.posts[1:]
    assert [(a.subscriber, a.status) for a in store.alerts()] == [("analyst-kz", "sent")]
