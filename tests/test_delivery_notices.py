"""Delivery notices: a subscriber with `delivery_problems: true` hears when alerts go to the
dead-letter list (a revoked Slack webhook, an address refused for good), once for each
reading, through its channels but the one that refused them."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.conftest import FakeClock, Inbox
from tests.feedserver import FeedServer
from tests.test_alerts import (
    ANTIMONY_RULE,
    GERMANIUM_RULE,
    WIRE,
    Harness,
    add_feed,
    polled_for_slack_only,
    slack_route,
    slack_service,
    smtp_serving,
    subscriber_problems,
    wire_polled,
    write_config,
)
from tests.test_cli import watcher
from watcher.alerts.notices import queue_delivery_notices
from watcher.alerts.render_notices import render_undelivered
from watcher.alerts.routing import unknown_names
from watcher.config import Subscriber, load_config
from watcher.health import status_document
from watcher.models import Alert, DeliveryNotice, Lanes
from watcher.store import Store

REVOKED = [(404, {})] * 2  # Slack's answer to a webhook removed: no_service, for good


def _analyst_told(tmp_path: Path, server: FeedServer, port: int, clock: FakeClock) -> Harness:
    """The analyst takes delivery notices, by email and by a Slack webhook that was revoked;
    the Wire feed polled (two news items) and delivered once: two Slack alerts dead."""
    slack_route(server, list(REVOKED))
    config = write_config(tmp_path, smtp_port=port, slack=server.url("/slack"),
                          rules_yaml=GERMANIUM_RULE + ANTIMONY_RULE)  # fmt: skip
    config.write_text(
        config.read_text().replace(
            "    email: analyst@test\n", "    email: analyst@test\n    delivery_problems: true\n"
        )
    )
    harness = wire_polled(config, clock)
    outcomes = sorted((d.channel, d.outcome) for d in harness.deliver())
    assert outcomes == [("email", "sent"), ("email", "sent"), ("slack", "dead"), ("slack", "dead")]
    return harness


def _notice_mails(inbox: Inbox) -> list[Any]:
    return [m for m in inbox.messages if m["Subject"].startswith("[watcher] Alerts undelivered")]


def test_dead_letters_are_told_once_through_the_channels_that_still_work(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path, clock: FakeClock
) -> None:
    port, inbox = smtp
    harness = _analyst_told(tmp_path, server, port, clock)
    (notice,) = queue_delivery_notices(harness.store, harness.config, clock.now)
    assert (notice.subscriber, notice.channel, notice.alerts) == ("analyst", "slack", 2)
    assert notice.error.startswith("Slack webhook: HTTP 404")
    queued = [a for a in harness.store.alerts() if a.notices]
    assert [(a.channel, a.rule) for a in queued] == [("email", "alerts undelivered")]  # not Slack
    assert [d.outcome for d in harness.deliver()] == ["sent"]
    (mail,) = _notice_mails(inbox)
    assert mail["Subject"] == "[watcher] Alerts undelivered: analyst by slack"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "analyst by slack: 2 alerts in the dead-letter list." in text
    assert "Last error: Slack webhook: HTTP 404" in text
    assert "watcher alerts retry --all --subscriber analyst --channel slack" in text
    assert queue_delivery_notices(harness.store, harness.config, clock.now) == []  # told
    assert "dead_letters_told" not in status_document(harness.store, clock.now, {})["service"]
    listed = watcher(
        "--config", str(tmp_path / "watcher.yaml"), "alerts", "--since", "3650d"
    ).stdout
    assert "alerts undelivered: analyst by slack" in listed, listed


def test_an_alert_retried_that_goes_dead_again_is_told_again(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path, clock: FakeClock
) -> None:
    port, _ = smtp
    harness = _analyst_told(tmp_path, server, port, clock)
    queue_delivery_notices(harness.store, harness.config, clock.now)
    first = min(a.id for a in harness.store.alerts(dead_only=True))
    harness.store.retry_alerts(clock.now, [first])
    slack_route(server, [(404, {})])
    # the first reading's notice goes by email; the retried alert dies again
    delivered = sorted((d.channel, d.outcome) for d in harness.deliver())
    assert delivered == [("email", "sent"), ("slack", "dead")]
    (again,) = queue_delivery_notices(harness.store, harness.config, clock.now)
    assert (again.channel, again.alerts) == ("slack", 1)


def test_a_notices_own_dead_letter_is_not_told_of(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    """The notice to an address refused for good goes dead too: telling of it would make
    a notice a minute, each as undeliverable."""

    class Refusing(Inbox):
        async def handle_RCPT(self, server: Any, session: Any, envelope: Any,
                              address: str, options: Any) -> str:  # fmt: skip
            return "550 5.1.1 No such user"

    with smtp_serving(Refusing()) as port:
        harness = _refused_by_email(tmp_path, server, port, clock)
        (notice,) = queue_delivery_notices(harness.store, harness.config, clock.now)
        assert notice.channel == "email" and [d.outcome for d in harness.deliver()] == ["dead"]
        assert queue_delivery_notices(harness.store, harness.config, clock.now) == []
    assert [a.rule for a in harness.store.alerts() if a.notices] == ["alerts undelivered"]


def _refused_by_email(tmp_path: Path, server: FeedServer, port: int, clock: FakeClock) -> Harness:
    """The analyst's email refused for good (its two alerts dead); ops takes delivery
    notices by email alone, through the same server."""
    slack_route(server, [])
    config = write_config(
        tmp_path, smtp_port=port, slack=server.url("/slack"),
        rules_yaml=GERMANIUM_RULE + ANTIMONY_RULE,
        extra="  - name: ops\n    follow: []\n    delivery_problems: true\n    email: ops@test\n",
    )  # fmt: skip
    harness = wire_polled(config, clock)
    outcomes = sorted((d.channel, d.outcome) for d in harness.deliver())
    assert outcomes == [("email", "dead"), ("email", "dead"), ("slack", "sent"), ("slack", "sent")]
    return harness


def test_no_subscriber_takes_them_and_nothing_is_stored(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path, clock: FakeClock
) -> None:
    """As for feed notices: one who takes them later hears of the dead letters there are."""
    port, _ = smtp
    harness = _analyst_told(tmp_path, server, port, clock)
    untold = replace_subscribers(harness, delivery_problems=False)
    assert queue_delivery_notices(harness.store, untold, clock.now) == []
    assert harness.store.delivery_told() == (set(), set())
    (notice,) = queue_delivery_notices(harness.store, harness.config, clock.now)
    assert notice.alerts == 2


def replace_subscribers(harness: Harness, **changes: Any) -> Any:
    return replace(
        harness.config, subscribers=tuple(replace(s, **changes) for s in harness.config.subscribers)
    )


def test_a_delivery_notice_in_each_channels_form() -> None:
    alert = Alert(
        id=9, subscriber="ops", channel="webhook", cluster=-9, rule="alerts undelivered",
        story="", terms={}, status="pending", attempts=0, sends=0,
        next_attempt_at=datetime(2026, 12, 5, tzinfo=UTC), last_error=None,
        created_at=datetime(2026, 12, 5, tzinfo=UTC), sent_at=None,
    )  # fmt: skip
    notices = [
        DeliveryNotice(subscriber="a", channel="slack", alerts=1, error="Slack webhook: HTTP 404"),
        DeliveryNotice(subscriber="b", channel="email", alerts=3, error="550 No such user"),
    ]
    message = render_undelivered(alert, notices)
    assert message.subject == "[watcher] Alerts undelivered: 2 subscribers' channels"
    assert message.json == {
        "notice": 9, "subscriber": "ops",
        "undelivered": [
            {"subscriber": "a", "channel": "slack", "problem": "dead", "alerts": 1, "failures": 0,
             "error": "Slack webhook: HTTP 404"},
            {"subscriber": "b", "channel": "email", "problem": "dead", "alerts": 3, "failures": 0,
             "error": "550 No such user"},
        ],
    }  # fmt: skip
    (slack,) = message.slack
    assert slack["blocks"][0]["text"]["text"] == "Alerts undelivered: 2 subscribers' channels"
    assert "a by slack: 1 alert in the dead-letter list." in slack["blocks"][1]["text"]["text"]
    assert "b by email: 3 alerts in the dead-letter list." in message.text


def test_delivery_problems_must_be_true_or_false_and_count_as_something_to_get(
    tmp_path: Path,
) -> None:
    assert "subscribers[0].delivery_problems" in subscriber_problems(
        tmp_path, "delivery_problems: sometimes"
    )
    ops = Subscriber(name="ops", follow=(), console=True, delivery_problems=True)
    assert unknown_names([], [ops], []) == []
    assert unknown_names([], [Subscriber(name="ops", follow=(), console=True)], [])


def test_watcher_once_tells_of_the_alerts_an_earlier_run_left_dead(
    server: FeedServer, smtp: tuple[int, Inbox], tmp_path: Path
) -> None:
    """`watcher once` reads the dead-letter list after its polls, before it delivers."""
    port, inbox = smtp
    slack_route(server, list(REVOKED))
    config = write_config(tmp_path, smtp_port=port, slack=server.url("/slack"),
                          rules_yaml=GERMANIUM_RULE + ANTIMONY_RULE,
                          extra="  - name: ops\n    follow: []\n    delivery_problems: true\n"
                                "    email: ops@test\n")  # fmt: skip
    add_feed(config, "Wire", WIRE)
    first = watcher("--config", str(config), "once")
    assert first.returncode == 0 and _notice_mails(inbox) == [], first.stderr
    second = watcher("--config", str(config), "once")
    assert second.returncode == 0 and "delivery notice" in second.stderr, second.stderr
    (mail,) = _notice_mails(inbox)
    assert mail["To"] == "ops@test" and mail["Subject"].endswith("analyst by slack")


def test_a_lane_whose_server_keeps_failing_is_told_of_and_when_it_works_again(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    """`watcher run`'s notice job reads the sender's lanes: the analyst's Slack webhook
    failing with 503s three times in a row is told of (its alerts wait, not dead), once;
    a send through it after is told of too."""
    harness = polled_for_slack_only(server, tmp_path, clock, [(503, {})] * 3)
    ops = Subscriber(name="ops", follow=(), console=True, delivery_problems=True)
    harness.config = replace(harness.config, subscribers=(*harness.config.subscribers, ops))

    async def rounds() -> list[list[DeliveryNotice]]:
        told = []
        async with slack_service(harness, clock) as service:
            for _ in range(4):  # 503, 503, 503, then 200
                await service.sender.deliver_due()
                before = max((a.id for a in harness.store.alerts()), default=0)
                service.notice_feeds()
                told.append([n for a in harness.store.alerts() if a.id > before for n in a.notices])
                clock.now += timedelta(minutes=10)
        return told

    told = asyncio.run(rounds())
    assert [[n.problem for n in some] for some in told] == [[], [], ["held"], ["resumed"]]
    held = told[2][0]
    assert (held.subscriber, held.channel, held.failures) == ("analyst", "slack", 3)
    assert "HTTP 503" in held.error
    assert {a.status for a in harness.store.alerts() if not a.notices} == {"sent"}  # waited


def test_lanes_held_are_told_through_other_channels_and_resumed_only_once_a_send_went(
    tmp_path: Path,
) -> None:
    """The email lane held: every taker's email refuses too, so ops hears by console. After
    a restart no lane is known to fail; one told of as held is resumed only once a send
    went through on it."""
    path = tmp_path / "w.yaml"
    path.write_text(
        "state: w.db\nsubscribers:\n  - name: ops\n    follow: []\n    delivery_problems: true\n"
        "    email: ops@test\n    console: true\n"
    )
    config = load_config(path, env={})
    store, now, email = Store(config.state), datetime(2026, 12, 5, tzinfo=UTC), ("email", "")

    def reading(failing: dict[tuple[str, str], tuple[int, str]], delivered: set[Any]) -> list[Any]:
        lanes = Lanes(failing, frozenset(delivered))
        return [(n.problem, n.about) for n in queue_delivery_notices(store, config, now, lanes)]

    assert reading({email: (2, "SMTP refused")}, set()) == []  # a blip
    assert reading({email: (3, "SMTP refused")}, set()) == [("held", "email (every subscriber's)")]
    assert [(a.channel, a.rule) for a in store.alerts()] == [("console", "alerts held")]
    assert reading({email: (4, "SMTP refused")}, set()) == []  # told
    assert reading({}, set()) == []  # a restart: nothing known to fail, nothing proved to work
    assert reading({}, {email}) == [("resumed", "email (every subscriber's)")]
    resumed = [a for a in store.alerts() if a.rule == "alerts resumed"]
    assert sorted(a.channel for a in resumed) == ["console", "email"]
    assert reading({}, {email}) == []
