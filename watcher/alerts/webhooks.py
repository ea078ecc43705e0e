"""Post one message's JSON to a webhook (Slack, Teams, a subscriber's own), signed when
the subscriber has a secret. I/O lives here.

Raises `DeliveryError`: transient for what may pass (a refused connection, HTTP 429 and
5xx, timeouts), permanent for what will not (HTTP 4xx); server-wide for what is the
server's and not the message's. Slack's 429 carries its Retry-After. Nothing past this
module sees httpx errors.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from typing import Any

import aiohttp
import httpx

from watcher.config.settings import signing_key
from watcher.errors import DeliveryError
from watcher.fetch import parse_retry_after
from watcher.transport import describe_error


async def post_json(
    client: httpx.AsyncClient, url: str, payload: dict[str, Any], what: str, key: str,
    *, limit: float, secret: str | None = None,
) -> None:  # fmt: skip
    """POST a JSON payload (Slack's incoming webhook, or a generic JSON webhook). `key` goes
    out as Idempotency-Key, the same on every retry, so a receiver can drop a repeat; with
    a `secret`, the post is signed (`signed`). The whole exchange takes at most `limit`
    seconds: the client's timeouts bound each read, and a receiver could trickle its reply
    a byte at a time. A 2xx is a delivery, whatever becomes of the reply's body after it
    (one labelled gzip that is not, a connection closed within it): a retry would deliver
    the message twice."""
    body = json_body(payload)
    headers = {"Idempotency-Key": key, "Content-Type": "application/json"}
    if secret is not None:
        headers |= signed(body, key, signing_key(secret), time.time())
    accepted = False  # the receiver answered 2xx: what follows its status is no matter
    try:
        async with (
            asyncio.timeout(limit),
            client.stream("POST", url, content=body, headers=headers) as response,
        ):
            accepted = response.status_code < 300
            head = await _first_bytes(response, REPLY_BYTES)
    except (httpx.HTTPError, aiohttp.ClientError) as exc:  # in a feed's words
        if accepted:
            return
        raise DeliveryError(
            f"{what}: {describe_error(exc)}", transient=True, server_wide=True
        ) from exc
    except TimeoutError:
        if accepted:
            return
        raise DeliveryError(
            f"{what}: the exchange did not end within {limit:g} s (a receiver that answers "
            "too slowly)", transient=True, server_wide=True,
        ) from None  # fmt: skip
    status = response.status_code
    if status < 300:
        return
    detail = f"{what}: HTTP {status} {_text(head, response.charset_encoding)[:200]}".strip()
    if status == 429 or status >= 500:
        retry = parse_retry_after(response.headers.get("retry-after"))
        raise DeliveryError(detail, transient=True, retry_after=retry, server_wide=True)
    raise DeliveryError(detail, transient=False)


def json_body(payload: dict[str, Any]) -> bytes:
    """A payload as httpx's `json=` sends it (compact, UTF-8): the bytes a signature is of."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode()


def signed(body: bytes, key: str, secret: bytes, now: float) -> dict[str, str]:
    """The headers of Standard Webhooks (standardwebhooks.com): the message's id (`key`,
    the same on every retry), when it was sent, and an HMAC-SHA256 under the subscriber's
    secret of both and the body, so a receiver can tell the post is ours, unchanged and
    recent."""
    timestamp = str(int(now))
    mac = hmac.new(secret, f"{key}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return {
        "webhook-id": key,
        "webhook-timestamp": timestamp,
        "webhook-signature": "v1," + base64.b64encode(mac).decode(),
    }


def _text(body: bytes, charset: str | None) -> str:
    try:
        return body.decode(charset or "utf-8", "replace")
    except LookupError:  # a charset Python does not know
        return body.decode("utf-8", "replace")


REPLY_BYTES = 4096  # of a receiver's reply read: the start of its error, never a huge body


async def _first_bytes(response: httpx.Response, limit: int) -> bytes:
    """The reply's first `limit` bytes, or all of a shorter one (the connection is then
    kept for the next post)."""
    head = bytearray()
    async for chunk in response.aiter_bytes():
        head += chunk
        if len(head) >= limit:
            break
    return bytes(head[:limit])
