"""`clustering.max_span`: a topic covered day after day, each story linking the one before,
alerts again once the news item it would join began longer ago than that, instead of
chaining into one news item that alerted once, days before."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from tests.conftest import FakeClock, free_port
from tests.feedserver import FeedServer
from tests.test_alerts import Harness, add_feed, slack_route, write_config
from tests.test_cli import watcher
from tests.test_dedupe import SAGA

BEGAN = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
HOURS = (0, 50, 100, 150)  # each story 50 h after the one before: the window links them


def _feed(count: int) -> bytes:
    """The outlet's feed once it has carried the saga's first `count` stories."""
    items = "".join(
        f"<item><title>{title}</title><link>https://metals.test/{sid}</link>"
        f"<guid>https://metals.test/{sid}</guid><description>{lead}</description>"
        f"<pubDate>{format_datetime(BEGAN + timedelta(hours=h))}</pubDate></item>"
        for (sid, title, lead), h in zip(SAGA[:count], HOURS[:count], strict=True)
    )
    channel = f"<title>Metals</title><link>https://metals.test/</link>{items}"
    return f'<?xml version="1.0"?><rss version="2.0"><channel>{channel}</channel></rss>'.encode()


def _covered_day_after_day(tmp_path: Path, server: FeedServer, span: str) -> list[str]:
    """Poll the feed as each story comes; the stories whose news item alerted the Slack
    subscriber of the germanium rule, in order."""
    slack_route(server, [])
    config = write_config(
        tmp_path, smtp_port=free_port(), slack=server.url("/slack"),
        extra=f"clustering: {{max_span: {span}}}\n",
    )  # fmt: skip
    config.write_text(config.read_text().replace("    email: analyst@test\n", ""))
    add_feed(config, "Metals", _feed(1))
    harness = Harness(config, FakeClock(BEGAN))
    for count, hours in enumerate(HOURS, 1):
        (tmp_path / "Metals.xml").write_bytes(_feed(count))
        harness.clock.now = BEGAN + timedelta(hours=hours, minutes=10)
        harness.poll()
        harness.deliver()
    texts = [json.loads(body)["text"] for path, body in server.posts if path == "/slack"]
    return [sid for sid, title, _ in SAGA for text in texts if title in text]


@pytest.mark.parametrize(("span", "alerted"), [("72h", ["d0", "d4"]), ("off", ["d0"])])
def test_a_topic_covered_day_after_day_alerts_again_after_max_span(
    server: FeedServer, tmp_path: Path, span: str, alerted: list[str]
) -> None:
    assert _covered_day_after_day(tmp_path, server, span) == alerted
    bodies = [body.decode() for path, body in server.posts if path == "/slack"]
    follows = [body for body in bodies if "follows earlier news: " in body]
    assert len(follows) == len(alerted) - 1  # the alert of d4 names d2, the story it followed
    assert all("follows earlier news: <https://metals.test/d2|Gallium prices" in b for b in follows)


def test_why_and_clusters_say_a_news_item_began_for_max_span(
    server: FeedServer, tmp_path: Path
) -> None:
    _covered_day_after_day(tmp_path, server, "72h")
    why = watcher("--config", str(tmp_path / "watcher.yaml"), "why", "https://metals.test/d4")
    assert (
        "this story started it: it reads as the same event as " in why.stdout
        and "but its news item began 100.0 h before, beyond clustering.max_span 72 h" in why.stdout
    ), why.stdout
    listed = watcher("--config", str(tmp_path / "watcher.yaml"), "clusters", "--since", "90d")
    assert (
        "  follows earlier news: Gallium prices jump as China's export licences loom (Metals, "
        in listed.stdout
    ), listed.stdout
