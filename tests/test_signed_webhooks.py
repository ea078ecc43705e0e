"""A subscriber's `webhook_secret`: its webhook posts are signed as Standard Webhooks
(standardwebhooks.com), checked here with that project's own library, as a receiver would."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from tests.conftest import FakeClock, free_port
from tests.feedserver import FeedServer
from tests.test_alerts import ANTIMONY_RULE, GERMANIUM_RULE, slack_route, wire_polled, write_config
from watcher.config import ConfigError, load_config

SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()


def _signed_subscriber(server: FeedServer, secret: str = SECRET) -> str:
    return (
        f"  - name: hooks\n    follow: [metals]\n    webhook: {server.url('/hook')}\n"
        f"    webhook_secret: {secret}\n"
    )


def test_webhook_posts_are_signed_and_a_receiver_checks_them_with_its_library(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    slack_route(server, [])
    server.routes["/hook"] = server.routes["/slack"]
    config = write_config(tmp_path, smtp_port=free_port(), slack=server.url("/slack"),
                          extra=_signed_subscriber(server), rules_yaml=GERMANIUM_RULE + ANTIMONY_RULE)  # fmt: skip
    config.write_text(config.read_text().replace("    email: analyst@test\n", ""))
    harness = wire_polled(config, clock)
    assert [d.outcome for d in harness.deliver()] == ["sent"] * 4  # 2 news items, 2 subscribers
    posts = list(zip(server.posts, server.post_headers, strict=True))
    hooks = [(body, headers) for (path, body), headers in posts if path == "/hook"]
    assert len(hooks) == 2
    receiver = Webhook(SECRET)
    for body, headers in hooks:
        assert receiver.verify(body, dict(headers)) == json.loads(body)
        assert headers["webhook-id"] == headers["Idempotency-Key"]
        with pytest.raises(WebhookVerificationError):  # a body changed on the way
            receiver.verify(
                body.replace(b"Ontario", b"Quebec").replace(b"Antimony", b"Bismuth"), dict(headers)
            )
        with pytest.raises(WebhookVerificationError):  # another secret
            Webhook(
                "whsec_" + base64.b64encode(b"another key, 32 bytes long......").decode()
            ).verify(body, dict(headers))
    slack = [headers for (path, _), headers in posts if path == "/slack"]
    assert slack and all("webhook-signature" not in headers for headers in slack)


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        ("    webhook_secret: {secret}\n", "signs webhook posts: give webhook: as well"),
        ("    webhook: https://hooks.test/x\n    webhook_secret: sekret-value\n", "must start with whsec_"),
        ("    webhook: https://hooks.test/x\n    webhook_secret: whsec_sekret*value\n", "followed by base64"),
        ("    webhook: https://hooks.test/x\n    webhook_secret: whsec_c2VrcmV0\n", "at least 16 bytes (got 6)"),
    ],
)  # fmt: skip
def test_a_wrong_webhook_secret_stops_the_config_without_showing_it(
    tmp_path: Path, lines: str, problem: str
) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("subscribers:\n  - name: a\n    console: true\n" + lines.format(secret=SECRET))
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert "subscribers[0].webhook_secret" in str(caught.value) and problem in str(caught.value)
    for secret in (SECRET, "sekret"):
        assert secret not in str(caught.value)


def test_a_webhook_secret_is_never_logged(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(
        "subscribers:\n  - name: a\n    webhook: https://hooks.test/x\n"
        "    webhook_secret: ${HOOK_SECRET}\n"
    )
    config = load_config(path, env={"HOOK_SECRET": SECRET})
    assert config.subscribers[0].webhook_secret == SECRET and SECRET in config.secrets()
