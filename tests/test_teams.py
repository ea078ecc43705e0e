"""The Teams channel: alerts, digests and notices posted as Adaptive Cards to the webhook of
a Teams workflow ("When a Teams webhook request is received"), here a stand-in on 127.0.0.1."""

from __future__ import annotations

import json
from dataclasses import replace
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tests.conftest import FakeClock
from tests.feedserver import FeedServer, send
from tests.test_alerts import WIRE, Harness, add_feed, digest_alert, digest_story, write_config
from tests.test_cli import watcher
from watcher.alerts.digest import render_digest
from watcher.alerts.render import Message, render
from watcher.alerts.teams import TEAMS_LINE_CHARS, teams_cards
from watcher.alerts.webhooks import json_body
from watcher.config import ConfigError, load_config


def teams_route(server: FeedServer, answers: list[int]) -> None:
    """Answer POSTs to /teams with the given statuses in turn, then 202 (as Teams does)."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        status = answers.pop(0) if answers else 202
        send(handler, status, b"" if status == 202 else b"error", "text/plain")

    server.routes["/teams"] = route


def teams_config(tmp_path: Path, server: FeedServer) -> Path:
    """A config whose one subscriber has the Teams channel alone."""
    config = write_config(tmp_path, smtp_port=9, slack="https://hooks.test/unused")
    text = config.read_text().replace("    email: analyst@test\n", "")
    config.write_text(
        text.replace("slack: https://hooks.test/unused", f"teams: {server.url('/teams')}")
    )
    return config


def texts(card: dict) -> list[str]:  # type: ignore[type-arg]
    """Every text run of a posted card, in order."""
    (attachment,) = card["attachments"]
    return [run["text"] for block in attachment["content"]["body"] for run in block["inlines"]]


def test_an_alert_is_an_adaptive_card_of_its_plain_text_with_a_button_to_its_story() -> None:
    story = digest_story(1, "Kazakhstan opens a gallium plant [click](https://evil.test/).")
    message = render(digest_alert(1, {"minerals": ["gallium"]}), story, None, {})
    (post,) = teams_cards(message)
    assert post["type"] == "message"
    (attachment,) = post["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    heading = card["body"][0]["inlines"][0]
    assert heading == {
        "type": "TextRun", "text": message.subject, "weight": "Bolder", "size": "Medium"
    }  # fmt: skip
    lines = [line for line in message.text.splitlines() if line.strip()]
    assert texts(post) == [message.subject, *lines]
    # text runs: Teams reads no markdown there, so the feed's text makes no link
    assert all(b["type"] == "RichTextBlock" for b in card["body"])
    assert any("[click](https://evil.test/)" in text for text in texts(post))
    assert card["actions"] == [
        {"type": "Action.OpenUrl", "title": "Open the story", "url": "https://x.test/1"}
    ]
    spaced = [b.get("spacing") for b in card["body"]]
    assert spaced[:3] == [None, None, None] and "Medium" in spaced  # a blank line: a gap


def test_a_long_digest_goes_as_several_cards_and_loses_no_line() -> None:
    """A Teams message holds about 28 KB: each card's post stays well under it."""
    items = [(digest_alert(i, {}), digest_story(i, "Gallium output rose."), None, {})
             for i in range(1, 300)]  # fmt: skip
    message = render_digest("s", items)
    posts = teams_cards(message)
    assert len(posts) > 1
    for number, post in enumerate(posts, 1):
        assert texts(post)[0] == f"{message.subject} ({number}/{len(posts)})"
        assert len(json_body(post)) < 24_000
        assert "actions" not in post["attachments"][0]["content"]  # no one story to open
    sent = [line for post in posts for line in texts(post)[1:]]
    assert sent == [line for line in message.text.splitlines() if line.strip()]


def test_an_overlong_line_is_cut_to_fit_a_card() -> None:
    message = Message(subject="s", text="镓" * 50_000, html="", slack=[], json={})
    (post,) = teams_cards(message)
    assert len(texts(post)[1]) == TEAMS_LINE_CHARS and texts(post)[1].endswith("…")
    assert len(json_body(post)) < 24_000


def test_an_alert_of_a_story_with_a_huge_link_fits_a_card_without_its_button() -> None:
    """The button's URL is not cut with the lines: a story's 100 KB link made a card Teams
    refuses (past its 28 KB), and the alert a dead letter."""
    story = replace(digest_story(1, "Gallium output rose."), link="https://x.test/" + "a" * 100_000)
    (post,) = teams_cards(render(digest_alert(1, {}), story, None, {}))
    assert "actions" not in post["attachments"][0]["content"]
    assert len(json_body(post)) < 24_000


def test_an_alert_goes_to_the_teams_stand_in_and_a_refusal_is_a_dead_letter(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    teams_route(server, [])
    config = teams_config(tmp_path, server)
    add_feed(config, "Wire", WIRE)
    harness = Harness(config, clock)
    harness.poll()
    (delivered,) = harness.deliver()
    assert delivered.outcome == "sent"
    ((path, body),) = server.posts
    (post,) = [json.loads(body)]
    assert path == "/teams" and "germanium" in " ".join(texts(post)).lower()
    (headers,) = server.post_headers
    assert headers["content-type"] == "application/json"
    assert headers["idempotency-key"].startswith("watcher-alert-analyst-teams-")
    (alert,) = harness.store.alerts()
    assert (alert.channel, alert.status) == ("teams", "sent")


def test_a_teams_url_that_answers_404_puts_the_alert_in_the_dead_letter_list(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    teams_route(server, [404])
    config = teams_config(tmp_path, server)
    add_feed(config, "Wire", WIRE)
    harness = Harness(config, clock)
    harness.poll()
    harness.deliver()
    (alert,) = harness.store.alerts()
    assert alert.status == "dead" and alert.last_error == "Teams webhook: HTTP 404 error"


def test_send_test_posts_a_card_to_teams(server: FeedServer, tmp_path: Path) -> None:
    teams_route(server, [])
    result = watcher("--config", str(teams_config(tmp_path, server)), "send-test", "analyst")
    assert result.returncode == 0 and "teams: sent a test alert to analyst" in result.stdout
    ((_, body),) = server.posts
    assert texts(json.loads(body))[0].endswith("Test alert from watcher")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://teams.test/hook", "must be an http(s) URL"),
        ("https://teams.test:port/hook", "is not a valid URL"),
    ],
)
def test_a_wrong_teams_url_stops_the_config(tmp_path: Path, url: str, problem: str) -> None:
    config = tmp_path / "watcher.yaml"
    config.write_text(f"subscribers:\n  - name: a\n    teams: '{url}'\nfeeds: []\n")
    with pytest.raises(ConfigError) as raised:
        load_config(config, env={})
    assert f":3: subscribers[0].teams: {problem}" in str(raised.value)
    assert url not in str(raised.value)  # the URL is a secret


def test_a_teams_url_is_a_secret_kept_from_the_log(tmp_path: Path) -> None:
    config = tmp_path / "watcher.yaml"
    config.write_text("subscribers:\n  - name: a\n    teams: ${TEAMS_URL}\nfeeds: []\n")
    url = "https://example.test/workflows/abc?sig=s3cret"
    loaded = load_config(config, env={"TEAMS_URL": url})
    assert loaded.subscribers[0].channels() == ("teams",) and url in loaded.secrets()
