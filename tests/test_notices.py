"""Feed notices: a subscriber with `feed_problems: true` hears once when a feed fails, is
gone or falls silent, and once when it recovers; through the outbox, as alerts go."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FakeClock, Inbox, wait_until
from tests.feedserver import FeedServer, fixture_bytes, send
from tests.test_alerts import Harness
from tests.test_cli import watcher
from watcher.alerts.notices import queue_feed_notices
from watcher.alerts.render_notices import render_notice
from watcher.alerts.routing import unknown_names
from watcher.config import Subscriber, load_config
from watcher.errors import ConfigError
from watcher.feed_state import OLD_DATES_TOLD, old_dates_outdated
from watcher.health import (
    DROPPING_NOTICE_AFTER,
    FAILING_NOTICE_AFTER,
    STEADY_AFTER,
    feed_notice,
)
from watcher.models import Alert, FeedNotice, FeedState
from watcher.store import Store

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
WEEK = 7 * 86400.0


def state(**changes: object) -> FeedState:
    """A feed polled well an hour ago, its newest story fetched then."""
    base = FeedState(
        name="Wire", url="https://wire.test/rss?token=s3cret", last_success_at=NOW - timedelta(hours=1),
        newest_story_at=NOW - timedelta(hours=1), stories=10,
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


FAILING = {"consecutive_failures": FAILING_NOTICE_AFTER, "last_error": "HTTP 500"}


@pytest.mark.parametrize(
    ("changes", "notified", "expected"),
    [
        pytest.param({}, None, None, id="ok"),
        pytest.param({"last_success_at": None, "newest_story_at": None}, None, None, id="new"),
        pytest.param(
            {"consecutive_failures": FAILING_NOTICE_AFTER - 1}, None, None, id="a-blip-tells-no-one"
        ),
        pytest.param(FAILING, None, "failing", id="failing"),
        pytest.param({**FAILING, "consecutive_failures": 9}, "failing", None, id="told-once"),
        pytest.param({}, "failing", "recovered", id="recovered"),
        pytest.param({"consecutive_failures": 1}, "failing", None, id="failing-by-turns"),
        pytest.param(
            {"last_error_at": NOW - timedelta(minutes=50)}, "failing", None, id="not-steady-yet"
        ),
        pytest.param(
            {"last_error_at": NOW - timedelta(minutes=60)}, "failing", "recovered", id="steady"
        ),
        pytest.param(
            {"last_error_at": NOW - timedelta(minutes=5)}, "silent", "recovered", id="silent-over"
        ),
        pytest.param({"consecutive_failures": 1}, "silent", None, id="silent-then-a-blip"),
        pytest.param({"disabled": True, "last_error": "HTTP 410"}, None, "gone", id="gone"),
        pytest.param({"disabled": True}, "failing", "gone", id="failing-then-gone"),
        pytest.param({"newest_story_at": NOW - timedelta(days=8)}, None, "silent", id="silent"),
        pytest.param(FAILING, "silent", "failing", id="silent-then-failing"),
        pytest.param({}, "silent", "recovered", id="silent-then-a-new-story"),
        pytest.param({"gaps": DROPPING_NOTICE_AFTER - 1}, None, None, id="a-burst-tells-no-one"),
        pytest.param({"gaps": DROPPING_NOTICE_AFTER}, None, "dropping", id="dropping"),
        pytest.param({"gaps": 7}, "dropping", None, id="dropping-told-once"),
        pytest.param({}, "dropping", "recovered", id="dropping-over"),
        pytest.param(
            {"gap_at": NOW - timedelta(minutes=50)}, "dropping", None, id="dropping-not-steady-yet"
        ),
        pytest.param(
            {"gap_at": NOW - timedelta(minutes=60)}, "dropping", "recovered", id="dropping-steady"
        ),
        pytest.param({"gap_at": NOW}, "failing", "recovered", id="failing-over-after-a-gap"),
        pytest.param({"gaps": 3, **FAILING}, "dropping", "failing", id="dropping-then-failing"),
        pytest.param({"old_dates": OLD_DATES_TOLD - 1}, None, None, id="old-news-found"),
        pytest.param({"old_dates": OLD_DATES_TOLD}, None, "old_dates", id="dated-old"),
        pytest.param({"old_dates": 9}, "old_dates", None, id="dated-old-told-once"),
        pytest.param({}, "old_dates", "recovered", id="a-story-dated-recently"),
    ],
)
def test_a_notice_is_due_when_a_feeds_problem_is_new_or_over(
    changes: dict[str, object], notified: str | None, expected: str | None
) -> None:
    notice = feed_notice(state(**changes), notified, WEEK, NOW)
    assert (notice.problem if notice else None) == expected


def test_a_run_of_old_dates_ends_with_the_max_age_that_made_it_and_only_its_warning_goes() -> None:
    told = "its last 3 new stories were dated more than max_age ago: none alerted"
    run = state(old_dates=3, old_dated=NOW - timedelta(days=10),
                warning=f"malformed feed: not well-formed; {told}")  # fmt: skip
    assert old_dates_outdated(run, 7 * 86400.0, NOW) == run  # still old: kept
    for max_age in (None, 11 * 86400.0):
        ended = old_dates_outdated(run, max_age, NOW)
        assert (ended.old_dates, ended.old_dated) == (0, None)
        assert ended.warning == "malformed feed: not well-formed"
    assert old_dates_outdated(replace(run, warning=told), None, NOW).warning is None


def test_a_notice_says_what_is_wrong_and_masks_the_urls_secrets() -> None:
    notice = feed_notice(state(**FAILING), None, WEEK, NOW)
    assert notice is not None and notice.since == NOW - timedelta(hours=1)
    assert notice.detail == "3 polls failed in a row; the last: HTTP 500"
    assert notice.url == "https://wire.test/rss?token=***"  # as logs mask it
    silent = feed_notice(state(newest_story_at=NOW - timedelta(days=8)), None, WEEK, NOW)
    assert silent is not None and "no new story since 2026-11-27 12:00 UTC" in silent.detail
    assert "(silent_after 7d)" in silent.detail
    dropping = feed_notice(state(gaps=4), None, WEEK, NOW)
    assert dropping is not None and dropping.detail == (
        "4 polls in a row listed only stories new since the poll before: stories come and go "
        "between its polls, unseen"
    )


def notice_alert(alert_id: int, notice: FeedNotice) -> Alert:
    """The outbox row of one feed notice to subscriber ops, as `record_notices` writes it."""
    return Alert(
        id=alert_id, subscriber="ops", channel="slack", cluster=-1, rule=f"feed {notice.problem}",
        story="", terms={}, status="pending", attempts=0, sends=0, next_attempt_at=NOW,
        last_error=None, created_at=NOW, sent_at=None, notices=(notice,),
    )  # fmt: skip


def test_a_notice_renders_in_every_channel() -> None:
    notice = FeedNotice(
        feed="Wire <&>", problem="failing", url="https://wire.test/rss",
        detail="3 polls failed in a row; the last: HTTP 500", since=NOW,
    )  # fmt: skip
    message = render_notice(notice_alert(7, notice), (notice,))
    assert message.subject == "[watcher] Feed failing: Wire <&>"
    assert "Last polled well: 2026-12-05 12:00 UTC." in message.text
    assert "<h2>Feed failing: Wire &lt;&amp;&gt;</h2>" in message.html
    (slack,) = message.slack
    assert slack["text"] == "Feed failing: Wire &lt;&amp;&gt;"
    assert slack["blocks"][0]["text"] == {"type": "plain_text", "text": "Feed failing: Wire <&>"}
    assert "HTTP 500" in slack["blocks"][1]["text"]["text"]
    (feed,) = message.json["feeds"]
    assert feed["feed"] == "Wire <&>" and feed["problem"] == "failing"
    assert feed["last_success"] == NOW.isoformat() and message.json["notice"] == 7


def test_follow_empty_follows_no_rule_and_one_that_gets_nothing_is_named(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(
        "subscribers:\n"
        "  - {name: ops, follow: [], feed_problems: true, console: true}\n"
        "  - {name: idle, follow: [], console: true}\n"
        "  - {name: all, follow: null, console: true}\n"
    )
    ops, idle, everything = load_config(path, env={}).subscribers
    assert ops.follow == () and ops.feed_problems and idle.follow == ()
    assert everything.follow == ("*",) and not everything.feed_problems
    (problem,) = unknown_names([], [ops, idle, everything], [])
    assert problem.startswith("subscriber 'idle' follows no rule")


def test_feed_problems_must_be_true_false_or_feeds(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(
        "subscribers:\n  - {name: ops, feed_problems: 3, console: maybe}\n"
        "  - {name: desk, feed_problems: [], console: true}\n"
        "  - {name: wires, feed_problems: [wire, Kyodo], console: true}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    message = str(caught.value)
    assert (
        "subscribers[0].feed_problems: must be true, false or a list of feed names or tags"
        in message
    )
    assert "subscribers[0].console: must be true or false" in message
    assert "subscribers[1].feed_problems: names no feed (true for every feed)" in message
    assert "subscribers[2]" not in message
    path.write_text(
        "subscribers:\n  - {name: wires, feed_problems: [wire, Kyodo], console: true}\n"
    )
    (wires,) = load_config(path, env={}).subscribers
    assert wires.feed_problems and wires.problem_feeds == ("wire", "Kyodo")


def test_feed_problems_may_name_one_feed_or_a_line_of_them(tmp_path: Path) -> None:
    """A name where a list may stand was "must be true, false or a list": `feed_problems:
    Kyodo` refused the config; a misspelt `feed_problems: ture` is a name no feed has,
    which `rules check` and the start warn of."""
    path = tmp_path / "w.yaml"
    path.write_text(
        "subscribers:\n  - {name: one, feed_problems: Kyodo, console: true}\n"
        "  - {name: line, feed_problems: 'wire, Kyodo', console: true}\n"
        "  - {name: typo, feed_problems: ture, console: true}\n"
        "  - {name: off, feed_problems: no, console: true}\n"
    )
    one, line, typo, off = load_config(path, env={}).subscribers
    assert one.feed_problems and one.problem_feeds == ("Kyodo",)
    assert line.problem_feeds == ("wire", "Kyodo") and not off.feed_problems
    path.write_text('subscribers:\n  - {name: bell, feed_problems: "wire\\u0007", console: true}\n')
    with pytest.raises(ConfigError) as caught:  # one name is a text value as any other
        load_config(path, env={})
    assert [p.message for p in caught.value.problems] == [  # not also "names no feed"
        "must be one line of text, without control characters"
    ]
    warnings = unknown_names([], [typo], [])
    assert warnings == [
        "subscriber 'typo' takes the problems of 'ture' (feed_problems:), which is no feed's name or tag"
    ]


def test_a_subscriber_naming_feeds_hears_of_their_problems_only(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    """`feed_problems: [names or tags]`: told of those feeds' problems alone, in the same
    reading's notice as the others; a reading with none of theirs queues it nothing."""
    server.feed("/rss", fixture_bytes("wire.rss.xml"))
    server.status("/gone", 410)
    config = ops_config(tmp_path, server, 9, server.url("/rss"))
    text = config.read_text().replace("{name: Wire, url:", "{name: Wire, tags: [wires], url:")
    desk = "  - {name: desk, follow: [], feed_problems: [wires], console: true}\n"
    config.write_text(text.replace("subscribers:\n", "subscribers:\n" + desk)
                      + f"  - {{name: Gone, url: '{server.url('/gone')}'}}\n")  # fmt: skip
    harness = Harness(config, clock)
    harness.poll()
    store, settings = harness.store, harness.config
    assert [n.feed for n in queue_feed_notices(store, settings, clock())] == ["Gone"]
    assert store.alerts(subscriber="desk") == []
    clock.now += timedelta(days=8)  # Wire falls silent; Gone was told
    store.db.execute("UPDATE feeds SET notified = NULL WHERE name = 'Gone'")  # told again
    assert [n.feed for n in queue_feed_notices(store, settings, clock())] == ["Gone", "Wire"]
    (told,) = store.alerts(subscriber="desk")
    assert [n.feed for n in told.notices] == ["Wire"] and told.rule == "feed silent"
    ops = [a for a in store.alerts(subscriber="ops") if a.cluster == told.cluster]
    assert [[n.feed for n in a.notices] for a in ops] == [["Gone", "Wire"]] * 2


def ops_config(tmp_path: Path, server: FeedServer, smtp_port: int, feed_url: str) -> Path:
    """One feed, a subscriber taking feed notices by webhook and email, and an analyst
    who follows every rule and takes none."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "r.yaml").write_text(
        "lists:\n  minerals: [germanium]\nrules:\n  - name: g\n    when: '@minerals'\n"
    )
    path = tmp_path / "watcher.yaml"
    path.write_text(
        "state: w.db\nrules: rules/\nbackfill: all\n"
        f"smtp: {{host: 127.0.0.1, port: {smtp_port}, security: none, from: watcher@test}}\n"
        "subscribers:\n"
        f"  - {{name: ops, follow: [], feed_problems: true, email: ops@test, "
        f"webhook: '{server.url('/hook')}'}}\n"
        f"  - {{name: analyst, webhook: '{server.url('/analyst')}'}}\n"
        f"feeds:\n  - {{name: Wire, url: '{feed_url}'}}\n"
    )
    server.routes["/hook"] = server.routes["/analyst"] = lambda h: _ok(h)
    return path


def _ok(handler: BaseHTTPRequestHandler) -> None:
    send(handler, 200, b"ok", "text/plain")


def notices_posted(server: FeedServer) -> list[dict[str, Any]]:
    """Each feed notice the webhook received: one feed each in these tests."""
    posts = [json.loads(body) for path, body in server.posts if path == "/hook"]
    assert all(len(post["feeds"]) == 1 for post in posts)
    return [post["feeds"][0] for post in posts]


def test_once_tells_of_a_failing_feed_once_and_of_its_recovery(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path
) -> None:
    port, inbox = smtp
    server.status("/rss", 500)
    config = ops_config(tmp_path, server, port, server.url("/rss"))
    for _ in range(FAILING_NOTICE_AFTER - 1):
        assert watcher("--config", str(config), "once", "--force").returncode == 1
    assert notices_posted(server) == [] and inbox.messages == []
    third = watcher("--config", str(config), "once", "--force")
    assert third.returncode == 1
    (posted,) = notices_posted(server)
    assert posted["feed"] == "Wire" and posted["problem"] == "failing"
    assert posted["last_success"] is None and "3 polls failed in a row" in str(posted["detail"])
    (mail,) = inbox.messages
    assert mail["Subject"] == "[watcher] Feed failing: Wire"
    assert mail["Message-ID"].startswith("<notice-ops-")
    assert "Last polled well: never." in mail.get_body(("plain",)).get_content()
    assert "feed notice" in third.stderr and "problem=failing" in third.stderr
    watcher("--config", str(config), "once", "--force")  # still failing: told already
    assert len(notices_posted(server)) == 1 and len(inbox.messages) == 1
    server.feed("/rss", fixture_bytes("wire.rss.xml"))
    assert watcher("--config", str(config), "once", "--force").returncode == 0
    assert len(notices_posted(server)) == 1  # back, but not yet steady: it may fail again
    with sqlite3.connect(tmp_path / "w.db") as db:  # its last failure an hour ago
        db.execute(
            "UPDATE feeds SET last_error_at = ?",
            [(datetime.now(UTC) - STEADY_AFTER).isoformat(timespec="seconds")],
        )
    assert watcher("--config", str(config), "once").returncode == 0
    assert [p["problem"] for p in notices_posted(server)] == ["failing", "recovered"]
    assert [m["Subject"] for m in inbox.messages][1] == "[watcher] Feed recovered: Wire"
    # the analyst had the news alert, and no notice; the ops subscriber no news alert
    analyst = [json.loads(body) for path, body in server.posts if path == "/analyst"]
    assert analyst and all("notice" not in a for a in analyst)
    listed = watcher("--config", str(config), "alerts", "--subscriber", "ops")
    assert "feed failing: Wire" in listed.stdout and "feed recovered: Wire" in listed.stdout
    alerts = Store(tmp_path / "w.db").alerts(subscriber="ops")
    assert {a.status for a in alerts} == {"sent"} and len(alerts) == 4  # 2 notices x 2 channels


def test_once_tells_of_a_feed_that_keeps_dropping_stories_and_when_it_stops(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path
) -> None:
    """A feed whose every poll lists only stories new since the one before loses the
    stories between: its operator hears of it once it has done so 3 polls in a row."""
    from tests.feedserver import rss
    from tests.test_polling import numbered_items

    port, inbox = smtp
    start, body = datetime.now(UTC) - timedelta(hours=1), {"xml": b""}
    server.feed("/rss", lambda: body["xml"], validators=False)
    config = ops_config(tmp_path, server, port, server.url("/rss"))
    for poll in range(DROPPING_NOTICE_AFTER + 1):  # the first poll stores, then 3 gaps
        body["xml"] = rss(numbered_items(range(5 * poll, 5 * poll + 5), start))
        assert watcher("--config", str(config), "once", "--force").returncode == 0
    (posted,) = notices_posted(server)
    assert posted["problem"] == "dropping" and posted["detail"].startswith("3 polls in a row")
    (mail,) = inbox.messages
    assert mail["Subject"] == "[watcher] Feed dropping stories: Wire"
    assert "Shorten its interval: in the config" in mail.get_body(("plain",)).get_content()
    body["xml"] = rss(numbered_items(range(19, 24), start))  # lists story 19 again
    watcher("--config", str(config), "once", "--force")
    assert len(notices_posted(server)) == 1  # overlaps, but not yet steady: a burst between?
    with sqlite3.connect(tmp_path / "w.db") as db:  # its last poll of only new stories an hour ago
        db.execute(
            "UPDATE feeds SET gap_at = ?",
            [(datetime.now(UTC) - STEADY_AFTER).isoformat(timespec="seconds")],
        )
    watcher("--config", str(config), "once", "--force")
    assert [p["problem"] for p in notices_posted(server)] == ["dropping", "recovered"]


def test_once_tells_of_a_feed_whose_new_stories_are_all_dated_too_old_and_when_one_is_not(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path
) -> None:
    """A feed whose dates are stuck in the past (a template's date, a build's) has every
    new story kept from alerting by `max_age`, logged, and nothing more: its news went
    missing without a word. Three such stories in a row are told of; one dated within
    max_age ends it. One old story alone is what a search feed finds, and tells no one."""
    from tests.feedserver import rss
    from tests.test_polling import numbered_items

    port, inbox = smtp
    stuck, body = datetime(2025, 3, 1, tzinfo=UTC), {"xml": b""}
    server.feed("/rss", lambda: body["xml"], validators=False)
    config = ops_config(tmp_path, server, port, server.url("/rss"))
    config.write_text(config.read_text() + "max_age: 7d\n")
    for last in (4, 4 + OLD_DATES_TOLD - 1):  # a first poll, then 2 new stories
        body["xml"] = rss(numbered_items(range(last, -1, -1), stuck))
        assert watcher("--config", str(config), "once", "--force").returncode == 0
        assert notices_posted(server) == []
    body["xml"] = rss(numbered_items(range(last + 1, -1, -1), stuck))
    assert watcher("--config", str(config), "once", "--force").returncode == 0
    (posted,) = notices_posted(server)
    assert posted["problem"] == "old_dates"
    assert posted["detail"].startswith(f"its last {OLD_DATES_TOLD} new stories were")
    assert "(the last 2025-03-01)" in posted["detail"]
    (mail,) = inbox.messages
    assert mail["Subject"] == "[watcher] Feed dated too old: Wire"
    assert "set max_age: off for it" in mail.get_body(("plain",)).get_content()
    feeds = watcher("--config", str(config), "feeds").stdout  # and the operator's table
    assert "its last 3 new stories were dated more than max_age ago: none alerted" in feeds
    fresh = numbered_items(range(1), datetime.now(UTC), guid="fresh")
    body["xml"] = rss(fresh + numbered_items(range(last + 1, -1, -1), stuck))
    watcher("--config", str(config), "once", "--force")
    assert [p["problem"] for p in notices_posted(server)] == ["old_dates", "recovered"]
    assert "none alerted" not in watcher("--config", str(config), "feeds").stdout
    listed = watcher("--config", str(config), "alerts", "--subscriber", "ops").stdout
    assert "feed old dates: Wire" in listed


@pytest.mark.parametrize(("cure", "recovered"), [("off", True), ("30d", False), ("1000d", True)])
def test_a_feed_dated_too_old_recovers_once_its_max_age_no_longer_makes_its_stories_old(
    cure: str, recovered: bool, server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path
) -> None:
    """The notice's cure, `max_age: off` (or a longer one), ended the run only when a new
    story came: a feed whose dates are stuck posts seldom, and stayed "dated too old" in
    `watcher feeds`, `status` and `/metrics` meanwhile. Its next poll now ends it, though
    its body is unchanged; a max_age that still makes its stories old keeps it."""
    from tests.feedserver import rss
    from tests.test_polling import numbered_items

    port, _ = smtp
    stuck = datetime.now(UTC) - timedelta(days=60)
    body = {"xml": rss(numbered_items(range(4, -1, -1), stuck))}
    server.feed("/rss", lambda: body["xml"], validators=False)
    config = ops_config(tmp_path, server, port, server.url("/rss"))
    config.write_text(config.read_text() + "max_age: 7d\n")
    assert watcher("--config", str(config), "once", "--force").returncode == 0  # its backlog
    body["xml"] = rss(numbered_items(range(4 + OLD_DATES_TOLD, -1, -1), stuck))
    assert watcher("--config", str(config), "once", "--force").returncode == 0
    assert [p["problem"] for p in notices_posted(server)] == ["old_dates"]
    config.write_text(config.read_text().replace("max_age: 7d\n", f"max_age: {cure}\n"))
    assert watcher("--config", str(config), "once", "--force").returncode == 0  # unchanged
    told = [p["problem"] for p in notices_posted(server)]
    feeds = watcher("--config", str(config), "feeds").stdout
    if recovered:
        assert told == ["old_dates", "recovered"]
        assert "none alerted" not in feeds
    else:
        assert told == ["old_dates"]
        assert "its last 3 new stories were dated more than max_age ago: none alerted" in feeds
    with sqlite3.connect(tmp_path / "w.db") as db:
        assert db.execute("SELECT old_dates > 0 FROM feeds").fetchone() == (not recovered,)


def test_the_service_tells_at_start_of_a_feed_that_failed_before_and_sends_it(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path
) -> None:
    from tests.test_ops import service

    server.status("/rss", 500)
    config = ops_config(tmp_path, server, smtp[0], server.url("/rss"))
    text = config.read_text()
    config.write_text(text.replace("feed_problems: true", "feed_problems: false"))
    for _ in range(FAILING_NOTICE_AFTER):
        watcher("--config", str(config), "once", "--force")
    assert notices_posted(server) == []  # no subscriber took them: none queued, none told
    config.write_text(text)
    with service(config) as running:
        wait_until(lambda: len(notices_posted(server)) == 1 and len(smtp[1].messages) == 1)
        running.wait_for("feed notice")
    assert notices_posted(server)[0]["problem"] == "failing"


def test_a_silent_feed_and_a_gone_one_are_told_once_and_only_configured_ones(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    server.feed("/rss", fixture_bytes("wire.rss.xml"))
    server.status("/gone", 410)
    config = ops_config(tmp_path, server, 9, server.url("/rss"))
    with config.open("a") as handle:
        handle.write(f"  - {{name: Gone, url: '{server.url('/gone')}'}}\n")
    harness = Harness(config, clock)
    harness.poll()
    store, settings = harness.store, harness.config
    assert [n.problem for n in queue_feed_notices(store, settings, clock())] == ["gone"]
    clock.now += timedelta(days=8)  # no new story since: the 7d default makes it silent
    assert [(n.feed, n.problem) for n in queue_feed_notices(store, settings, clock())] == [
        ("Wire", "silent")
    ]
    assert queue_feed_notices(store, settings, clock()) == []  # told
    unconfigured = replace(settings, feeds=(), subscribers=settings.subscribers)
    store.db.execute("UPDATE feeds SET notified = NULL")
    assert queue_feed_notices(store, unconfigured, clock()) == []  # removed feeds: none
    nobody = replace(settings, subscribers=(Subscriber(name="a", console=True),))
    assert queue_feed_notices(store, nobody, clock()) == []
    assert store.notified() == {}  # nobody took them: a subscriber added later hears
    queued = [a for a in store.alerts() if a.notices]
    numbers = {a.cluster for a in queued}  # one a reading, negative
    assert len(numbers) == 2 and max(numbers) < 0 and len(queued) == 4


def test_a_feed_whose_url_is_changed_is_told_afresh(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    server.status("/rss", 500)
    config = ops_config(tmp_path, server, 9, server.url("/rss"))
    harness = Harness(config, clock)
    for _ in range(FAILING_NOTICE_AFTER):
        harness.poll()
    assert [n.problem for n in queue_feed_notices(harness.store, harness.config, clock())] == [
        "failing"
    ]
    config.write_text(config.read_text().replace("/rss", "/moved"))
    moved = Harness(config, clock)  # syncs the feeds: the URL changed
    assert moved.store.notified() == {}
    assert queue_feed_notices(moved.store, moved.config, clock()) == []  # no recovery told


def test_a_reading_that_finds_many_feeds_changed_is_one_message_a_channel(
    tmp_path: Path, clock: FakeClock
) -> None:
    """A network outage fails every feed at once: one message says so, not one a feed."""
    store = Store(tmp_path / "w.db")
    failing = [FeedNotice(feed=f"F{i}", problem="failing", url=f"https://f{i}.test/",
                          detail="3 polls failed in a row; the last: timeout", since=None)
               for i in range(60)]  # fmt: skip
    back = FeedNotice(feed="B", problem="recovered", url="u", detail="it was failing", since=None)
    told = [*failing, back]
    assert (
        store.record_notices(told, [("ops", "slack", told), ("ops", "email", told)], clock()) == 2
    )
    slack, mail = sorted(store.alerts(), key=lambda a: a.channel, reverse=True)
    assert slack.rule == mail.rule == "feed problems" and slack.cluster == mail.cluster
    assert mail.notices == slack.notices and len(slack.notices) == 61
    message = render_notice(slack, slack.notices)
    assert message.subject == "[watcher] Feed problems: 60 failing, 1 recovered"
    blocks = message.slack[0]["blocks"]
    assert len(blocks) == 50 and blocks[-1]["text"]["text"].startswith("And 13 more feeds")
    assert "F59" in message.text and "Feed recovered: B" in message.text
    assert [f["feed"] for f in message.json["feeds"]][-2:] == ["F59", "B"]
    # a notice counts against no max_per_hour: the cap counts the alerts of news items
    (counted,) = store.db.execute(
        "SELECT COUNT(*) FROM alerts WHERE notice IS NULL AND created_at > ?",
        [(clock() - timedelta(hours=1)).isoformat()],
    ).fetchone()
    assert counted == 0


def test_a_notice_email_survives_an_smtp_outage_as_an_alert_does(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    server.status("/rss", 500)
    config = ops_config(tmp_path, server, 9, server.url("/rss"))  # nothing listens on 9
    config.write_text(config.read_text().replace(", webhook: '" + server.url("/hook") + "'", ""))
    harness = Harness(config, clock)
    for _ in range(FAILING_NOTICE_AFTER):
        harness.poll()
    queue_feed_notices(harness.store, harness.config, clock())
    (delivery,) = harness.deliver()
    assert delivery.outcome == "retry"  # kept, to be sent when the server is back
    (alert,) = harness.store.alerts(subscriber="ops")
    assert alert.status == "pending" and alert.attempts == 1 and alert.notices


def test_a_gone_feeds_notice_says_it_is_no_longer_polled() -> None:
    notice = FeedNotice(feed="Wire", problem="gone", url="u", detail="no longer polled: HTTP 410",
                        since=None)  # fmt: skip
    text = render_notice(notice_alert(1, notice), (notice,)).text
    assert text.splitlines()[:3] == ["Feed gone: Wire", "", "No longer polled: HTTP 410."]
    assert "mend or remove its url:" in text and "Last polled well: never." in text


def test_a_servers_escape_sequences_reach_no_notice_and_no_terminal(
    tmp_path: Path, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """A reason phrase is the server's text: an ANSI escape in it went into the feed's last
    error, and from there into a notice printed on the console."""
    import socket
    import threading

    from watcher.cli.service import print_alert

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 500 Bad \x1b[2J\x1b[31mred\r\n"
                             b"Content-Length: 0\r\nConnection: close\r\n\r\n")  # fmt: skip

    threading.Thread(target=serve, daemon=True).start()
    path = tmp_path / "watcher.yaml"
    path.write_text(
        "state: w.db\nsubscribers:\n  - {name: ops, follow: [], feed_problems: true, "
        f"console: true}}\nfeeds:\n  - {{name: Hostile, url: 'http://127.0.0.1:{port}/'}}\n"
    )
    harness = Harness(path, clock)
    try:
        for _ in range(FAILING_NOTICE_AFTER):
            harness.poll()
    finally:
        listener.close()
    (notice,) = queue_feed_notices(harness.store, harness.config, clock())
    assert "\x1b" not in notice.detail and "Bad \\x1b[2J\\x1b[31mred" in notice.detail
    (alert,) = harness.store.alerts()
    print_alert(render_notice(alert, alert.notices), alert)
    printed = capsys.readouterr().out
    assert "Feed failing: Hostile" in printed and "\x1b" not in printed
