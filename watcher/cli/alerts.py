"""`watcher alerts`, `watcher alerts retry` and `watcher send-test`: the outbox, seen and tried."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from watcher.alerts.channels import send_message
from watcher.alerts.render import render
from watcher.cli.common import (
    EXIT_FAILED,
    UsageError,
    count,
    print_table,
    printable,
    reading,
    since,
    utc_now,
    utf8_text,
    when,
)
from watcher.cli.service import print_alert
from watcher.config import CHANNELS, Config
from watcher.errors import DeliveryError
from watcher.fetch import Fetcher
from watcher.models import Alert, Story
from watcher.normalise import ascii_digits
from watcher.store import Store


def add_parsers(commands: Any) -> None:
    alerts = commands.add_parser(
        "alerts",
        help="list alerts (or only the dead-letter list), send dead alerts again, or drop them",
        description="List the alerts created within --since with their status (pending, "
        "sending, sent, dead, dropped), when a pending one is due (UTC) and what it waits "
        "for (a digest, quiet hours, the hourly cap), failed attempts and last error; "
        "--failed shows only "
        "the dead-letter list. 'watcher alerts retry ID...' puts dead alerts back in the "
        "queue, 'watcher alerts retry --all' every one; 'watcher alerts drop' takes them off "
        "the dead-letter list for good. --format jsonl writes one line per alert: "
        '{"id", "created_at", "subscriber", "channel", "status", "due", "waits", '
        '"failed_tries", "cluster", "rule", "story", "terms", "about", "sent_at", '
        '"last_error"}.',
    )
    alerts.add_argument("--failed", action="store_true", help="only alerts in the dead-letter list")
    alerts.add_argument(
        "--since", default="24h", help="how far back, e.g. 6h, 24h, 7d (default: 24h)"
    )
    alerts.add_argument(
        "--subscriber",
        metavar="NAME",
        dest="of_subscriber",
        type=utf8_text,
        help="only this subscriber's",
    )
    alerts.add_argument(
        "--channel", choices=CHANNELS, dest="on_channel", help="only those on this channel"
    )
    alerts.add_argument(
        "--format", choices=["table", "jsonl"], default="table", help="output format"
    )
    alerts.set_defaults(handler=cmd_alerts, needs_config=True)
    sub = alerts.add_subparsers(dest="alerts_command", metavar="retry|drop")
    retry = sub.add_parser(
        "retry",
        help="send dead alerts again",
        description="Put alerts of the dead-letter list back in the queue, due now, their "
        "attempts counted afresh: those given by ID (each must be dead, else none is "
        "queued), or with --all every one, of --subscriber and on --channel when given. The "
        "running service (or the next 'watcher once') delivers them.",
    )
    drop = sub.add_parser(
        "drop",
        help="take dead alerts off the dead-letter list for good",
        description="Mark alerts of the dead-letter list as dropped: never sent, kept as the "
        "record of what was not sent, no longer listed by --failed nor counted as dead (in "
        "watcher status and /metrics). Those given by ID (each must be dead, or pending "
        "after a failure, as an alert that its server fails alone while no other goes; else "
        "none is dropped), or with --all every dead one, of --subscriber and on --channel "
        "when given: the alerts of a subscriber removed from the config, say.",
    )
    for command in (retry, drop):
        command.add_argument(
            "alert_ids", metavar="ID", type=alert_id, nargs="*", help="dead alerts' ids"
        )
        command.add_argument(
            "--all", action="store_true", help="every alert in the dead-letter list"
        )
        command.add_argument(
            "--subscriber", metavar="NAME", help="with --all: only this subscriber's"
        )
        command.add_argument(
            "--channel", choices=CHANNELS, help="with --all: only those on this channel"
        )
    test = commands.add_parser(
        "send-test",
        help="send a test alert through each channel of one subscriber",
        description="Send a test alert through each channel of SUBSCRIBER, now, outside the "
        "outbox, and say for each channel whether it worked. Exit code 1 when one failed.",
    )
    test.add_argument("subscriber", metavar="SUBSCRIBER", type=utf8_text)
    test.set_defaults(handler=cmd_send_test, needs_config=True)


MAX_ID = 2**63 - 1  # SQLite's largest integer


def alert_id(text: str) -> int:
    """An argparse type: an alert's id, a whole number from 1 to SQLite's largest."""
    if not ascii_digits(text) or not 1 <= int(text) <= MAX_ID:
        raise argparse.ArgumentTypeError(f"{text!r} is no alert id (a whole number from 1)")
    return int(text)


def _feeds(alert: Alert) -> str:
    """The feeds of a feed notice's alert (or the channels of a delivery notice's), the
    first three by name."""
    names = [n.about for n in alert.notices]
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    return ", ".join(names[:3]) + more


WAITS_FOR = {"digest": "digest", "quiet": "quiet hours", "cap": "hourly cap"}


def _due(alert: Alert) -> str:
    """When a pending alert is due, and what it waits for; '-' for any other."""
    if alert.status != "pending":
        return "-"
    waits = f" ({WAITS_FOR[alert.waits]})" if alert.waits else ""
    return when(alert.next_attempt_at) + waits


def _alert_json(alert: Alert) -> dict[str, Any]:
    """An alert as `--format jsonl` writes it: a notice's has no cluster, story nor terms,
    and says what it is about (feeds, or subscribers' channels)."""
    pending = alert.status == "pending"
    return {
        "id": alert.id, "created_at": alert.created_at.isoformat(),
        "subscriber": alert.subscriber, "channel": alert.channel, "status": alert.status,
        "due": alert.next_attempt_at.isoformat() if pending else None,
        "waits": alert.waits if pending else None, "failed_tries": alert.attempts,
        "cluster": None if alert.notices else alert.cluster, "rule": alert.rule,
        "story": None if alert.notices else alert.story,
        "terms": {} if alert.notices else alert.terms,
        "about": [n.about for n in alert.notices],
        "sent_at": alert.sent_at.isoformat() if alert.sent_at else None,
        "last_error": alert.last_error,
    }  # fmt: skip


def cmd_alerts(config: Config, args: argparse.Namespace) -> int:
    with reading(config.state) as store:
        if args.alerts_command in ("retry", "drop"):
            return _retry_or_drop(store, args)
        alerts = store.alerts(
            since=None if args.failed else since(args.since), dead_only=args.failed,
            subscriber=args.of_subscriber, channel=args.on_channel,
        )  # fmt: skip
    if args.format == "jsonl":
        for alert in alerts:
            print(json.dumps(_alert_json(alert), ensure_ascii=False))
        return 0
    rows = [
        [str(a.id), when(a.created_at), a.subscriber, a.channel, a.status, _due(a),
         str(a.attempts),
         "-" if a.notices else str(a.cluster),
         f"{a.rule}: {_feeds(a)}" if a.notices else a.rule,
         a.last_error or ""]
        for a in alerts
    ]  # fmt: skip
    headers = [
        "ID",
        "CREATED",
        "SUBSCRIBER",
        "CHANNEL",
        "STATUS",
        "DUE",
        "FAILED TRIES",
        "CLUSTER",
        "RULE",
        "LAST ERROR",
    ]
    print_table(headers, rows)
    what = "in the dead-letter list" if args.failed else f"created in the last {args.since}"
    whose = f" of {args.of_subscriber}" if args.of_subscriber else ""
    where = f" on {args.on_channel}" if args.on_channel else ""
    print(f"{count(len(alerts), 'alert')}{whose}{where} {what}")
    return 0


def _retry_or_drop(store: Store, args: argparse.Namespace) -> int:
    command = f"alerts {args.alerts_command}"
    if bool(args.alert_ids) == args.all:
        raise UsageError(f"{command}: give the IDs of dead alerts, or --all")
    if (args.subscriber or args.channel) and not args.all:
        raise UsageError(f"{command}: --subscriber and --channel go with --all")
    whose = {"subscriber": args.subscriber, "channel": args.channel}
    if args.alerts_command == "retry":
        done, what = store.retry_alerts(utc_now(), args.alert_ids, **whose), "queued again"
    else:
        done, what = store.drop_alerts(args.alert_ids, **whose), "dropped"
    for alert in done:  # one a delivery took meanwhile says so
        print(f"alert {alert.id} ({alert.subscriber}, {alert.channel}) is "
              f"{what if alert.status in ('pending', 'dropped') else alert.status}")  # fmt: skip
    if args.all:
        print(f"{count(len(done), 'alert')} of the dead-letter list {what}")
    return 0


def cmd_send_test(config: Config, args: argparse.Namespace) -> int:
    subscriber = next((s for s in config.subscribers if s.name == args.subscriber), None)
    if subscriber is None:
        known = ", ".join(s.name for s in config.subscribers) or "none configured"
        raise UsageError(f"send-test: no subscriber named {args.subscriber!r} (known: {known})")
    results = asyncio.run(_send_test(config, subscriber.name, subscriber.channels()))
    for channel, error in results:
        if error is None:
            print(f"{channel}: sent a test alert to {subscriber.name}")
        else:
            print(f"{channel}: FAILED: {printable(error)}", file=sys.stderr)
    return EXIT_FAILED if any(error for _, error in results) else 0


async def _send_test(
    config: Config, name: str, channels: tuple[str, ...]
) -> list[tuple[str, str | None]]:
    now = utc_now()
    story = Story(
        id="test", feed="watcher", guid=None, source="watcher", title="Test alert from watcher",
        summary="If you can read this, this channel works.", link="", published=now, fetched_at=now,
    )  # fmt: skip
    subscriber = next(s for s in config.subscribers if s.name == name)
    results: list[tuple[str, str | None]] = []
    fetcher = Fetcher(config.poll)  # the service's client: its pool, proxies and timeouts
    try:
        for channel in channels:
            alert = Alert(
                id=0, subscriber=name, channel=channel, cluster=0, rule="send-test", story="test",
                terms={}, status="sending", attempts=0, sends=1, next_attempt_at=now,
                last_error=None, created_at=now, sent_at=None,
            )  # fmt: skip
            try:
                message = render(alert, story, None, {})
                await send_message(config, fetcher.client, print_alert, alert, subscriber, message)
                results.append((channel, None))
            except DeliveryError as exc:
                results.append((channel, str(exc)))
    finally:
        await fetcher.aclose()
    return results
