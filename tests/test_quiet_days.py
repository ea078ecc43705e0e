"""Quiet days: whole days of a subscriber's week on which its alerts below urgent wait,
as in quiet hours, and go out together as a digest when the quiet time ends."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import FakeClock, free_port
from tests.feedserver import FeedServer
from tests.test_alerts import (
    GERMANIUM_RULE,
    WIRE,
    Harness,
    add_feed,
    slack_route,
    subscriber_problems,
    write_config,
)
from tests.test_cli import watcher
from tests.test_waiting_alerts import waiting
from watcher.alerts.digest import quiet_until
from watcher.alerts.routing import replan
from watcher.config import Subscriber, load_config
from watcher.errors import ConfigError

WEEKEND = (5, 6)


@pytest.mark.parametrize(
    ("hours", "days", "zone", "now", "expected"),
    [
        pytest.param(None, WEEKEND, "Europe/Berlin", "2026-12-05T10:00:00+00:00",
                     "2026-12-06T23:00:00+00:00", id="saturday-to-monday"),
        pytest.param(None, WEEKEND, "Europe/Berlin", "2026-12-06T22:59:00+00:00",
                     "2026-12-06T23:00:00+00:00", id="sunday-night"),
        pytest.param(None, WEEKEND, "Europe/Berlin", "2026-12-06T23:00:00+00:00", None,
                     id="monday-midnight"),
        pytest.param(None, WEEKEND, "Europe/Berlin", "2026-12-04T22:59:00+00:00", None,
                     id="friday-night"),
        pytest.param("22:00-07:00", WEEKEND, "Europe/Berlin", "2026-12-05T10:00:00+00:00",
                     "2026-12-07T06:00:00+00:00", id="then-monday-morning's-quiet-hours"),
        pytest.param("22:00-07:00", WEEKEND, "Europe/Berlin", "2026-12-04T22:00:00+00:00",
                     "2026-12-07T06:00:00+00:00", id="friday's-quiet-hours-into-the-weekend"),
        pytest.param("22:00-07:00", WEEKEND, "Europe/Berlin", "2026-12-07T07:00:00+00:00", None,
                     id="monday-day"),
        pytest.param("12:00-13:00", (2,), "UTC", "2026-12-08T12:30:00+00:00",
                     "2026-12-08T13:00:00+00:00", id="hours-on-a-loud-day"),
        pytest.param("12:00-13:00", (2,), "UTC", "2026-12-09T08:00:00+00:00",
                     "2026-12-10T00:00:00+00:00", id="a-quiet-wednesday"),
        pytest.param(None, (0, 1, 2, 3, 4, 5), "UTC", "2026-12-07T09:00:00+00:00",
                     "2026-12-13T00:00:00+00:00", id="six-days"),
        pytest.param(  # Santiago's clocks go from 00:00 to 01:00 on 6 September 2026
            None, (5,), "America/Santiago", "2026-09-05T16:00:00+00:00",
            "2026-09-06T04:00:00+00:00", id="sunday-begins-at-one"),
    ],
)  # fmt: skip
def test_quiet_until_with_days(
    hours: str | None, days: tuple[int, ...], zone: str, now: str, expected: str | None
) -> None:
    ends = quiet_until(hours, ZoneInfo(zone), datetime.fromisoformat(now), days)
    assert ends == (datetime.fromisoformat(expected) if expected else None)


@pytest.mark.parametrize(
    ("written", "days"),
    [
        pytest.param("[sat, sun]", WEEKEND, id="list"),
        pytest.param("'Saturday, Sunday'", WEEKEND, id="one-line"),
        pytest.param("[sun, SAT, sun]", WEEKEND, id="any-case-and-order"),
        pytest.param("fri", (4,), id="one-day"),
        pytest.param("weekend", WEEKEND, id="weekend"),  # as people say it
        pytest.param("[Weekend, fri]", (4, 5, 6), id="weekend-and-a-day"),
        pytest.param("[]", (), id="none"),
    ],
)
def test_quiet_days_are_read(tmp_path: Path, written: str, days: tuple[int, ...]) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(f"subscribers:\n  - {{name: a, console: true, quiet_days: {written}}}\n")
    (subscriber,) = load_config(path, env={}).subscribers
    assert subscriber.quiet_days == days


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        pytest.param("quiet_days: [sat, sunday, holidays]", "'holidays' is not a day of the week",
                     id="not-a-day"),
        pytest.param("quiet_days: [mon, tue, wed, thu, fri, sat, sun]", "makes every day quiet",
                     id="every-day"),
        pytest.param("mode: digest, quiet_days: [sat]", "is for mode: immediate", id="digest"),
        pytest.param("quiet_days: {sat: true}", "must be a list of strings", id="a-mapping"),
    ],
)  # fmt: skip
def test_wrong_quiet_days_stop_the_config(tmp_path: Path, fields: str, problem: str) -> None:
    found = subscriber_problems(tmp_path, fields)
    assert "subscribers[0].quiet_days" in found and problem in found


def test_a_wrong_day_in_a_block_list_is_reported_at_its_own_line(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(
        "subscribers:\n  - name: a\n    console: true\n    quiet_days:\n      - sat\n"
        "      - sunday\n      - [holidays]\n      - sun, hols\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    found = str(caught.value)
    assert f"{path}:7: subscribers[0].quiet_days[2]: must be a string" in found
    assert f"{path}:8: subscribers[0].quiet_days[3]: 'hols' is not a day of the week" in found


def test_quiet_days_added_move_a_waiting_alert() -> None:
    """Made at midnight on Saturday in Berlin, waiting for 07:00: quiet weekends move it to
    Monday's 07:00, the end of that night's quiet hours."""
    subscriber = Subscriber(
        name="ana", slack="https://hooks.test/x", timezone="Europe/Berlin",
        quiet_hours="22:00-07:00", quiet_days=WEEKEND,
    )  # fmt: skip
    alert = waiting("quiet", datetime(2026, 12, 5, 6, 0, tzinfo=UTC))
    assert replan(alert, subscriber, 3) == (datetime(2026, 12, 7, 6, 0, tzinfo=UTC), "quiet")
    assert replan(alert, subscriber, 5) == (alert.created_at, None)


URGENT_ANTIMONY = (
    "  - name: antimony-news\n    when: '@minerals:\"antimony\"'\n    tags: [metals]\n"
    "    priority: 5\n"
)


def test_alerts_on_quiet_days_wait_for_monday_as_one_digest_but_urgent_ones(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    """Days ahead, the alert's due time is no time set while the clock ran ahead (which
    would count as due now): it waits for Monday."""
    slack_route(server, [])
    config = write_config(
        tmp_path, smtp_port=free_port(), slack=server.url("/slack"),
        rules_yaml=GERMANIUM_RULE + URGENT_ANTIMONY,
    )  # fmt: skip
    config.write_text(
        config.read_text().replace(
            "    email: analyst@test\n",
            "    quiet_days: [sat, sun]\n    timezone: Europe/Berlin\n",
        )
    )
    add_feed(config, "Wire", WIRE)  # one germanium story (priority 3), one antimony (5)
    clock.now = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)  # Saturday, 10:00 in Berlin
    harness = Harness(config, clock)
    harness.poll()
    (urgent_sent,) = harness.deliver()
    assert urgent_sent.outcome == "sent" and "Antimony" in json.loads(server.posts[0][1])["text"]
    (held,) = [a for a in harness.store.alerts() if a.status == "pending"]
    assert held.digest and held.waits == "quiet" and held.rule == "germanium-news"
    assert held.next_attempt_at == datetime(2026, 12, 6, 23, 0, tzinfo=UTC)  # Monday 00:00
    why = watcher("--config", str(config), "why", held.story).stdout
    assert "pending, due 2026-12-06 23:00" in why, why
    assert "(waiting for the end of its subscriber's quiet hours or days)" in why, why
    clock.now = datetime(2026, 12, 6, 22, 59, tzinfo=UTC)
    assert harness.deliver() == []
    clock.now = datetime(2026, 12, 6, 23, 0, 1, tzinfo=UTC)
    assert [r.outcome for r in harness.deliver()] == ["sent"] and len(server.posts) == 2
    assert json.loads(server.posts[1][1])["text"].startswith("[watcher] digest for analyst")
