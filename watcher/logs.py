"""Log lines: `event key=value ...` by default, one JSON object per line by config; no secret.

`event(logger, level, name, **fields)` logs one event with its fields. The formatters render
it as key=value (logfmt) or as JSON; records from other libraries become `msg="..."`.
Every line passes through `redact` last, so a secret never reaches the log even inside an
exception's text or a traceback: passwords in URLs, Slack webhook paths, token-like query
parameters, and every secret the config names (registered with `add_secrets`).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

MASK = "***"
_BARE = re.compile(r"^[A-Za-z0-9_.:/@+\-]+$")
_PATTERNS = (
    (re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^/\s:@'\"]+):[^@\s/'\"]+@"), rf"\1:{MASK}@"),
    (
        re.compile(r"(?i)(hooks\.slack\.com/(?:services|workflows|triggers)/)[^\s'\"]+"),
        rf"\1{MASK}",
    ),
    (
        re.compile(
            r"(?i)([?&](?:token|access_token|api_key|apikey|key|password|passwd|secret|sig|"
            r"signature|auth)=)[^&\s'\"]+"
        ),
        rf"\1{MASK}",
    ),
)
_secrets: set[str] = set()


def add_secrets(values: Iterable[str | None]) -> None:
    """Values that must never appear in a log line (passwords, webhook URLs)."""
    _secrets.update(v for v in values if v and len(v.strip()) >= 4)


def redact(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def event(logger: logging.Logger, level: int, name: str, **fields: Any) -> None:
    """Log the event `name` with its fields, rendered by whichever formatter is installed."""
    if logger.isEnabledFor(level):
        logger.log(level, "%s", name, extra={"event_fields": fields}, stacklevel=2)


def _value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.0f}" if value >= 10 else f"{value:.3g}"
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return text if _BARE.match(text) else json.dumps(text, ensure_ascii=False)


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return getattr(record, "event_fields", None) or {}


class KeyValueFormatter(logging.Formatter):
    """`2026-11-24T05:00:00Z level=INFO logger=watcher.pipeline poll feed=Wire http=200`."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        head = f"{stamp} level={record.levelname} logger={record.name}"
        if hasattr(record, "event_fields"):
            pairs = (f"{k}={_value(v)}" for k, v in _fields(record).items())
            body = " ".join([record.getMessage(), *pairs])
        else:
            body = f"msg={_value(record.getMessage())}"
        line = f"{head} {body}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return redact(line)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, event (or msg) and the event's fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        if hasattr(record, "event_fields"):
            line["event"] = record.getMessage()
            line.update({k: _json_value(v) for k, v in _fields(record).items()})
        else:
            line["msg"] = record.getMessage()
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(line, ensure_ascii=False))


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def configure(level: str, fmt: str = "keyvalue") -> None:
    """Send every log line to stderr in the format `fmt` (keyvalue or json)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else KeyValueFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    quiet = max(logging.WARNING, logging.getLevelName(level))
    for noisy in ("apscheduler", "httpx", "httpcore"):  # our own poll line says what matters
        logging.getLogger(noisy).setLevel(quiet)
