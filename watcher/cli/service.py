"""`watcher run` and `watcher once`, and the console sink they print new stories with."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from typing import Any

from watcher.alerts.notices import queue_delivery_notices, queue_feed_notices
from watcher.alerts.renames import follow_renames
from watcher.alerts.render import Message
from watcher.alerts.routing import replan_waiting, router, warn_unknown_names
from watcher.alerts.sender import Sender
from watcher.cli.common import EXIT_FAILED, count, printable, shown, sole_writer, utc_now, when
from watcher.clusterer import Clusterer
from watcher.config import Config, load_config, parse_listen
from watcher.errors import ConfigError, DeliveryError
from watcher.fetch import Fetcher
from watcher.holds import record_holds, resume_holds
from watcher.logs import event
from watcher.models import Alert, ClusteredStory, Match, PollOutcome, tags_by_feed
from watcher.parse_pool import running_pool, start_pool, tune_gc
from watcher.pipeline import Pipeline
from watcher.prune import prune, prune_due
from watcher.reload import warn_same_urls
from watcher.rules.live import LiveRules
from watcher.schedule import Service
from watcher.store import Store

log = logging.getLogger("watcher.cli")


def add_parsers(commands: Any) -> None:
    run = commands.add_parser(
        "run",
        help="run the long-lived service: poll every feed on its schedule until SIGTERM/SIGINT",
        description="Run the service: poll each configured feed at its interval (one whose "
        "poll lists only new stories, which may have dropped some, sooner: after half its "
        "interval, then a quarter, until a poll lists a story seen before; on start, a "
        "feed read before once its interval since its last poll is over), store new "
        "stories, cluster them, match them against the rules, print them on the console and "
        "deliver the alerts due every 2 s and after each poll that matched, the SMTP "
        "server, the console and each subscriber's Slack, Teams or webhook URL on its own, so "
        "one hung server delays no other's alerts; a server that fails is tried again with "
        "backoff (at least every 5 minutes) while the alerts for it wait. Every minute the "
        "feeds' health is read, and a subscriber with feed_problems: true (or naming the "
        "feed, or its tag) is told of a feed that fails, is gone, falls silent, keeps "
        "dropping stories or has only new stories dated more than max_age ago, and when it "
        "recovers; one with delivery_problems: true, of alerts "
        "gone to the dead-letter list and of a delivery lane whose server keeps failing, and "
        "when it works again. Serves /healthz, /metrics (Prometheus) and /status (JSON) over "
        "HTTP. Rule files are checked for edits "
        "every 2 s; SIGHUP reloads the config and the rules at once (a broken edit is logged "
        "and changes nothing). A poll that stores no story is logged at DEBUG; every 10 "
        "minutes one line sums up the polls. Alerts a crash left 'sending' are sent again on "
        "start. At "
        "start and at each reload, alerts waiting for a digest time, the end of quiet hours "
        "or the next hour move to where the subscribers' settings and the rules' priorities "
        "now put them (one of a rule its subscriber no longer follows goes under another "
        "rule its news item matched that the subscriber follows, or is withdrawn). SIGTERM "
        "or SIGINT stops it cleanly, within 10 s. Exit code 75 at once when another run or "
        "once uses the database (its lock file, beside it).",
    )
    run.add_argument(
        "--listen",
        metavar="HOST:PORT",
        type=_listen,
        help="serve /healthz, /metrics and /status here (default: the config's listen:, else "
        "127.0.0.1:8080; port 0 takes a free port)",
    )
    run.set_defaults(handler=cmd_run, needs_config=True)
    once = commands.add_parser(
        "once",
        help="poll every due feed once, deliver the alerts due, then exit (for cron)",
        description="Poll every feed that is due (not disabled, not paused, not backing off, "
        "not left as it asked with max_ttl) once, store, "
        "cluster and match new stories, print them, queue the feed and delivery notices "
        "due, deliver every alert due, prune as `run` does when 6 hours have passed since "
        "the last prune, and exit. Alerts waiting for a digest time, the end "
        "of quiet hours or the next hour first move to where the subscribers' settings and "
        "the rules' priorities now put them (one of a rule its subscriber no longer "
        "follows goes under another rule its news item matched that the subscriber follows, "
        "or is withdrawn). Exit code 1 when a feed failed; 75 at once "
        "when another run or once uses the database (its lock file, beside it): cron's next "
        "once over a slow one.",
    )
    once.add_argument(
        "--force", action="store_true",
        help="also poll feeds that are backing off, or left as they asked (max_ttl)",
    )  # fmt: skip
    once.set_defaults(handler=cmd_once, needs_config=True)


def _listen(value: str) -> tuple[str, int]:
    try:
        return parse_listen(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def cmd_run(config: Config, args: argparse.Namespace) -> int:
    with sole_writer(config.state):
        return asyncio.run(_run_service(config, args.listen or config.listen))


async def _run_service(config: Config, listen: tuple[str, int]) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    store = Store(config.state)
    fetcher = Fetcher(config.poll)
    requeued = store.requeue_sending()
    if requeued:
        event(log, logging.WARNING, "alerts left sending by a crash are sent again", count=requeued)
    with running_pool() as pool:
        start_pool(pool)
        pipeline = build_pipeline(config, store, fetcher, pool)
        sender = build_sender(config, store, fetcher, pipeline.rules)
        service = Service(config, pipeline, store, clock=utc_now, sender=sender, listen=listen)
        loop.add_signal_handler(signal.SIGHUP, reload_config, service)
        try:
            await service.run(stop)
        finally:
            await fetcher.aclose()
            store.close()
    return 0


def reload_config(service: Service) -> None:
    """SIGHUP: read the config file again and apply it; a broken file changes nothing."""
    try:
        config = load_config(service.config.path)
    except ConfigError as exc:
        for problem in exc.problems:
            event(log, logging.ERROR, "config reload failed, keeping the config in force",
                  problem=str(problem))  # fmt: skip
        service.reload_rules(force=True)
        return
    service.apply_config(config)


def cmd_once(config: Config, args: argparse.Namespace) -> int:
    with sole_writer(config.state):
        counted = asyncio.run(_poll_once(config, force=args.force))
    outcomes = [outcome for outcome, _ in counted]
    failed = [o for o in outcomes if o.status in ("failed", "gone")]
    new = sum(new for _, new in counted)
    skipped = sum(o.status == "skipped" for o in outcomes)
    held = [o for o in outcomes if o.status == "held"]
    print(
        f"polled {count(len(outcomes) - skipped - len(held), 'feed')} ({skipped} skipped"
        f"{f', {len(held)} held' if held else ''}): "
        f"{count(new, 'new story', 'new stories')}, {len(failed)} failed"
    )
    for outcome in [*failed, *held]:
        print(f"  {outcome.feed}: {printable(outcome.error or '')}", file=sys.stderr)
    return EXIT_FAILED if failed else 0


async def _poll_once(config: Config, *, force: bool) -> list[tuple[PollOutcome, int]]:
    """Every feed's outcome, without its stories, and how many stories were new: a cycle
    over thousands of feeds would otherwise hold every story it stored until the end."""
    store = Store(config.state)
    fetcher = Fetcher(config.poll)
    try:
        store.sync_feeds(config.feeds)
        store.requeue_sending()
        with running_pool() as pool:
            pipeline = build_pipeline(config, store, fetcher, pool)
            resume_holds(store, fetcher)
            polls = (_counted(pipeline.refresh_feed(f, force=force)) for f in config.feeds)
            outcomes = await asyncio.gather(*polls)
            record_holds(store, fetcher, utc_now())
        queue_feed_notices(store, config, utc_now())
        queue_delivery_notices(store, config, utc_now())
        await build_sender(config, store, fetcher, pipeline.rules).deliver_due(limit=10_000)
        if prune_due(store, utc_now()):
            await prune(store, config, utc_now(), pipeline.clusterer.expire)
        return outcomes
    finally:
        await fetcher.aclose()
        store.close()


async def _counted(poll: Awaitable[PollOutcome]) -> tuple[PollOutcome, int]:
    outcome = await poll
    return replace(outcome, new_stories=(), clustered=(), matches=()), len(outcome.new_stories)


def build_pipeline(
    config: Config, store: Store, fetcher: Fetcher, pool: ProcessPoolExecutor
) -> Pipeline:
    """Every collaborator of a poll, built once; gives a renamed subscriber's alerts its new
    name (`follow_renames`), clusters what a crash left undone, alerts
    the news items waiting for outlets that rules changed while it was down let alert, and
    moves the alerts waiting for a digest that a subscriber's new schedule moves."""
    tune_gc()
    follow_renames(store, config.subscribers)  # before a match can alert the new name
    clusterer = Clusterer(store, config.clustering, utc_now)
    rules = LiveRules(config.rules)
    rules.feed_tags = tags_by_feed(config.feeds)
    warn_unknown_names(rules.matcher.ruleset.rules, config.subscribers, config.feeds)
    warn_same_urls(config.feeds)
    pipeline = Pipeline(
        store=store,
        fetcher=fetcher,
        settings=config.poll,
        clock=utc_now,
        clusterer=clusterer,
        rules=rules,
        route=router(rules, config.subscribers),
        on_new_stories=print_new_stories,
        parse_executor=pool,
    )
    recovered = pipeline.recover()
    if recovered:
        event(log, logging.INFO, "settled stories a crash left unclustered", count=recovered)
    promoted = pipeline.settler.recheck_waiting()
    if promoted:
        print_new_stories([], promoted)
    replan_waiting(store, config.subscribers, rules.matcher.ruleset.rules, utc_now())
    return pipeline


def build_sender(config: Config, store: Store, fetcher: Fetcher, rules: LiveRules | None) -> Sender:
    """Alerts go out over the fetcher's client: one pool of connections for the process."""
    return Sender(
        store=store, config=config, client=fetcher.client, clock=utc_now, rules=rules,
        console=print_alert,
    )  # fmt: skip


def print_alert(message: Message, alert: Alert) -> None:
    """The console channel. Raises DeliveryError once stdout is closed: the alert goes to the
    dead-letter list, to be sent again (`watcher alerts retry`) where something reads."""
    lines = [f"ALERT {alert.subscriber} (alert {alert.id}): {printable(message.subject)}"]
    lines += [f"      {printable(line)}" for line in message.text.rstrip().splitlines()]
    if not printed(lines):
        raise DeliveryError("console: stdout is closed, nothing reads the alert", transient=False)


class _Stdout:
    closed = False  # set once a print failed: nothing reads stdout any more


def printed(lines: Sequence[str]) -> bool:
    """Print `lines` on stdout; False once stdout is closed (its reader went away, as in
    `watcher run | head`, or its disk is full), and from then on. A print that raised there
    failed the poll that printed its new stories (stored, but recorded as an unexpected
    error), and every console alert after it. A warning says so once; stdout then goes to
    /dev/null, so that the interpreter's last flush does not fail too."""
    if _Stdout.closed:
        return False
    if not lines:
        return True
    try:
        print("\n".join(lines), flush=True)
        return True
    except OSError as exc:  # EPIPE, EIO from a terminal that closed, ENOSPC
        _Stdout.closed = True
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        event(log, logging.WARNING, "stdout is closed: new stories, matches and console "
              "alerts are no longer printed", error=exc.strerror or exc)  # fmt: skip
        return False


def print_new_stories(clustered: Sequence[ClusteredStory], matches: Sequence[Match]) -> None:
    """The console sink: a new news item, another outlet joining one, and rule matches."""
    lines = []
    for item in clustered:
        story, where = item.story, item.assignment
        if item.starts_cluster:
            lines.append(f"NEW   {when(story.published)}  [{story.source}] {shown(story)}")
            lines.append(f"      {story.link}  (cluster {where.cluster})")
        else:
            lines.append(f"ALSO  {when(story.published)}  [{story.source}] {shown(story)}")
            lines.append(f"      joins cluster {where.cluster} ({where.level}: {where.reason})")
    for match in matches:
        terms = "; ".join(f"{k}: {', '.join(v)}" for k, v in match.terms.items())
        found = f"  [{terms}]" if terms else ""  # a rule without term lists finds none
        quiet = "  (quiet: the story was kept from alerting)" if match.quiet else ""
        if match.waiting:
            quiet = "  (waiting: alerts once as many outlets carry the news item as the rule asks)"
        lines.append(
            f"MATCH rule {match.rule} on cluster {match.cluster}: {match.clause}{found}{quiet}"
        )
    printed(lines)
