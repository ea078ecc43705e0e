"""The command line: the only module that prints, reads the clock for real and exits.

Exit codes: 0 success, 1 a command failed (a feed could not be read, a store error),
2 invalid usage or an invalid config file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from watcher import __version__, cli_rules
from watcher.config import (
    Config,
    PollSettings,
    load_config,
    parse_duration,
    resolve_config_path,
)
from watcher.dedupe import ClusterSettings, cluster_batch, compare, fingerprint
from watcher.errors import ConfigError, FetchError, ParseError, WatcherError
from watcher.fetch import Fetcher
from watcher.jsonl import read_stories, story_json
from watcher.models import Cluster, ClusteredStory, FeedState, Match, PollOutcome
from watcher.parse import parse_feed
from watcher.pipeline import Clusterer, Pipeline
from watcher.rules.live import LiveRules
from watcher.schedule import Service
from watcher.store import Store

EXIT_FAILED = 1
EXIT_USAGE = 2


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="watcher",
        description="Self-hosted news monitoring: polls RSS/Atom/RDF feeds, keeps every story "
        "in SQLite, folds reprints into story clusters and matches them against rules.",
    )
    parser.add_argument("--version", action="version", version=f"watcher {__version__}")
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="the YAML config file (default: $WATCHER_CONFIG, else ./watcher.yaml)",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="how much to log on stderr (default: INFO)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    commands.add_parser(
        "run",
        help="run the long-lived service: poll every feed on its schedule until SIGTERM/SIGINT",
        description="Run the service: poll each configured feed at its interval, store new "
        "stories, print them on the console. SIGTERM or SIGINT stops it cleanly.",
    )
    once = commands.add_parser(
        "once",
        help="poll every due feed once, store and print new stories, then exit (for cron)",
        description="Poll every feed that is due (not disabled, not backing off) once, store "
        "new stories, print them, and exit. Exit code 1 when any feed failed.",
    )
    once.add_argument("--force", action="store_true", help="also poll feeds that are backing off")
    commands.add_parser(
        "feeds",
        help="show every configured feed and its health",
        description="A table of the configured feeds: status, stories kept, last success, "
        "consecutive failures, next poll and last error.",
    )
    stories = commands.add_parser(
        "stories",
        help="list stories first fetched recently",
        description="List stories first fetched within --since, newest first.",
    )
    stories.add_argument(
        "--since", default="24h", help="how far back, e.g. 90m, 24h, 7d (default: 24h)"
    )
    stories.add_argument(
        "--format", choices=["table", "jsonl"], default="table", help="output format"
    )
    ingest = commands.add_parser(
        "ingest",
        help="parse one feed and print its normalised stories as JSON lines (stores nothing)",
        description="Fetch or read one feed and print its normalised stories as JSON lines, "
        "without storing anything. For debugging a feed; needs no config file.",
    )
    ingest.add_argument("source", metavar="FILE_OR_URL", help="a feed file, or an http(s)/file URL")
    ingest.add_argument("--feed", metavar="NAME", help="feed name for ids (default: FILE_OR_URL)")
    _add_dedupe(commands)
    clusters = commands.add_parser(
        "clusters",
        help="list story clusters that gained a story recently, with their sources",
        description="List clusters (news items) that gained a story within --since: the lead "
        "story, then every outlet that reported it.",
    )
    clusters.add_argument(
        "--since", default="24h", help="how far back, e.g. 6h, 24h, 7d (default: 24h)"
    )
    cli_rules.add_parser(commands)
    return parser


def _add_dedupe(commands: Any) -> None:
    dedupe = commands.add_parser(
        "dedupe",
        help="cluster a JSON-lines file of stories, statelessly (touches no database)",
        description="Read stories (JSON lines with id, title, summary, link, source, published) "
        'and write one line per story, in input order: {"id": ..., "cluster": ...}. The '
        "cluster is the id of the cluster's earliest-published story. The same stories in any "
        "order give the same clusters. Thresholds come from the config's clustering: section "
        "when a config file is given or found, else the defaults.",
    )
    dedupe.add_argument(
        "--input", metavar="STORIES.jsonl", type=Path, help="the stories to cluster"
    )
    dedupe.add_argument("--output", metavar="FILE", type=Path, help="write here instead of stdout")
    sub = dedupe.add_subparsers(dest="dedupe_command", metavar="explain")
    explain = sub.add_parser(
        "explain",
        help="show the scores behind the decision for two stories",
        description="Print the scores that decide whether two stories of the input are the same "
        "news item, and whether they end up in one cluster (directly or through others).",
    )
    explain.add_argument("story_a", metavar="ID_A")
    explain.add_argument("story_b", metavar="ID_B")
    explain.add_argument("--input", metavar="STORIES.jsonl", type=Path, required=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level,
        stream=sys.stderr,
        format="%(asctime)s level=%(levelname)s logger=%(name)s %(message)s",
    )
    quiet = max(logging.WARNING, logging.getLevelName(args.log_level))
    for noisy in ("apscheduler", "httpx", "httpcore"):  # our own poll line says what matters
        logging.getLogger(noisy).setLevel(quiet)
    if args.command == "ingest":
        return cmd_ingest(args.source, args.feed)
    if args.command == "dedupe":
        return cmd_dedupe(args)
    if args.command == "rules":
        return cli_rules.cmd_rules(args)
    try:
        config = load_config(resolve_config_path(args.config))
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"watcher: {problem}", file=sys.stderr)
        return EXIT_USAGE
    try:
        handler = {
            "run": cmd_run,
            "once": cmd_once,
            "feeds": cmd_feeds,
            "stories": cmd_stories,
            "clusters": cmd_clusters,
        }
        return handler[args.command](config, args)
    except WatcherError as exc:
        print(f"watcher: {exc}", file=sys.stderr)
        return EXIT_FAILED


# -- commands ------------------------------------------------------------------------------


def cmd_run(config: Config, args: argparse.Namespace) -> int:
    return asyncio.run(_run_service(config))


async def _run_service(config: Config) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    store = Store(config.state)
    fetcher = Fetcher(config.poll)
    with _parse_pool() as pool:
        pipeline = _pipeline(config, store, fetcher, pool)
        if pipeline.rules is not None:
            loop.add_signal_handler(signal.SIGHUP, pipeline.rules.reload)
        try:
            await Service(config, pipeline, store, clock=utc_now).run(stop)
        finally:
            await fetcher.aclose()
            store.close()
    return 0


def cmd_once(config: Config, args: argparse.Namespace) -> int:
    outcomes = asyncio.run(_poll_once(config, force=args.force))
    failed = [o for o in outcomes if o.status in ("failed", "gone")]
    new = sum(len(o.new_stories) for o in outcomes)
    skipped = sum(o.status == "skipped" for o in outcomes)
    print(
        f"polled {len(outcomes) - skipped} feeds ({skipped} skipped): "
        f"{new} new stories, {len(failed)} failed"
    )
    for outcome in failed:
        print(f"  {outcome.feed}: {outcome.error}", file=sys.stderr)
    return EXIT_FAILED if failed else 0


async def _poll_once(config: Config, *, force: bool) -> list[PollOutcome]:
    store = Store(config.state)
    fetcher = Fetcher(config.poll)
    try:
        store.sync_feeds(config.feeds)
        with _parse_pool() as pool:
            return await _pipeline(config, store, fetcher, pool).run_cycle(
                config.feeds, force=force
            )
    finally:
        await fetcher.aclose()
        store.close()


def cmd_feeds(config: Config, args: argparse.Namespace) -> int:
    store = Store(config.state)
    try:
        store.sync_feeds(config.feeds)
        states = {s.name: s for s in store.feed_states()}
    finally:
        store.close()
    rows = [_feed_row(states[f.name]) for f in config.feeds]
    headers = [
        "FEED",
        "STATUS",
        "STORIES",
        "LAST SUCCESS",
        "FAILURES",
        "NEXT POLL",
        "URL / LAST ERROR",
    ]
    print_table(headers, rows)
    return 0


def _feed_row(state: FeedState) -> list[str]:
    if state.disabled:
        status = "disabled"
    elif state.consecutive_failures:
        status = "failing"
    elif state.last_success_at:
        status = "ok"
    else:
        status = "new"
    detail = state.last_error if state.consecutive_failures or state.disabled else state.url
    if state.warning and not state.consecutive_failures:
        detail = f"{state.url} (warning: {state.warning})"
    return [
        state.name,
        status,
        str(state.stories),
        _when(state.last_success_at),
        str(state.consecutive_failures),
        "never"
        if state.disabled
        else (_when(state.next_poll_at) if state.next_poll_at else "on schedule"),
        detail or "",
    ]


def cmd_stories(config: Config, args: argparse.Namespace) -> int:
    try:
        since = utc_now() - timedelta(seconds=parse_duration(args.since))
    except ValueError as exc:
        print(f"watcher: --since: {exc}", file=sys.stderr)
        return EXIT_USAGE
    store = Store(config.state)
    try:
        stories = store.recent_stories(since)
    finally:
        store.close()
    if args.format == "jsonl":
        for story in stories:
            print(json.dumps(story_json(story), ensure_ascii=False))
        return 0
    rows = [[_when(s.published), s.source, s.title, s.link] for s in stories]
    print_table(["PUBLISHED (UTC)", "SOURCE", "TITLE", "LINK"], rows)
    print(f"{len(stories)} stories first fetched in the last {args.since}")
    return 0


def cmd_ingest(source: str, feed_name: str | None) -> int:
    url = (
        source if "://" in source or source.startswith("file:") else Path(source).resolve().as_uri()
    )
    settings = PollSettings()
    try:
        result = asyncio.run(_fetch_one(url, settings))
        parsed = parse_feed(
            result.body,
            feed=feed_name or source,
            fetched_at=utc_now(),
            content_type=result.content_type,
        )
    except (FetchError, ParseError) as exc:
        print(f"watcher: cannot read feed {source}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if parsed.warning:
        print(f"watcher: warning: {source}: {parsed.warning}", file=sys.stderr)
    for story in parsed.stories:
        print(json.dumps(story_json(story), ensure_ascii=False))
    return 0


def cmd_dedupe(args: argparse.Namespace) -> int:
    settings = _clustering_settings(args.config)
    if settings is None:
        return EXIT_USAGE
    if args.input is None:
        print("watcher: dedupe: --input STORIES.jsonl is required", file=sys.stderr)
        return EXIT_USAGE
    try:
        stories = read_stories(args.input)
    except WatcherError as exc:
        print(f"watcher: {exc}", file=sys.stderr)
        return EXIT_FAILED
    clusters = cluster_batch(stories, settings)
    if args.dedupe_command == "explain":
        return _explain(args.story_a, args.story_b, stories, clusters, settings)
    lines = "".join(json.dumps({"id": s.id, "cluster": clusters[s.id]}) + "\n" for s in stories)
    if args.output:
        args.output.write_text(lines, encoding="utf-8")
    else:
        sys.stdout.write(lines)
    return 0


def _clustering_settings(cli_config: str | None) -> ClusterSettings | None:
    """The config's clustering settings; defaults when no config was named or found."""
    path = resolve_config_path(cli_config)
    if cli_config is None and "WATCHER_CONFIG" not in os.environ and not path.exists():
        return ClusterSettings()
    try:
        return load_config(path).clustering
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"watcher: {problem}", file=sys.stderr)
        return None


def _explain(
    id_a: str,
    id_b: str,
    stories: Sequence[Any],
    clusters: dict[str, str],
    settings: ClusterSettings,
) -> int:
    by_id = {s.id: s for s in stories}
    for story_id in (id_a, id_b):
        if story_id not in by_id:
            print(
                f"watcher: dedupe explain: no story with id {story_id!r} in the input",
                file=sys.stderr,
            )
            return EXIT_FAILED
    a, b = fingerprint(by_id[id_a]), fingerprint(by_id[id_b])
    score = compare(a, b, settings, explain=True)
    lead = "-" if score.lead_ratio is None else f"{score.lead_ratio:.1f}"
    st = settings
    rows = [
        ["story A", f"{id_a}: {by_id[id_a].title}"],
        ["story B", f"{id_b}: {by_id[id_b].title}"],
        ["cleaned titles", f"{a.title!r} / {b.title!r}"],
        ["hours apart", f"{score.hours_apart:.2f} (window {st.window / 3600:g} h)"],
        ["title ratio", f"{score.title_ratio:.1f} (reprint, no lead: {st.reprint_title:g})"],
        ["lead ratio", f"{lead} (reprint: {st.reprint_lead:g})"],
        ["shared terms", ", ".join(score.shared_terms) or "-"],
        ["specific shared", f"{score.specific_shared} (same event: {st.same_event_terms})"],
        ["shared weight", f"{score.shared_weight:.2f} (same event: {st.same_event_weight:g})"],
        ["dice", f"{score.dice:.3f} (same event: {st.same_event_dice:g})"],
        ["title words missing", ", ".join(score.title_conflicts) or "-"],
        ["name swaps", ", ".join(score.slot_swaps) or "-"],
        ["direct link", f"{score.level or 'none'}: {score.reason}"],
        ["same cluster", "yes" if clusters[id_a] == clusters[id_b] else "no"],
    ]
    print_table(["", ""], rows, max_width=200)
    return 0


def cmd_clusters(config: Config, args: argparse.Namespace) -> int:
    try:
        since = utc_now() - timedelta(seconds=parse_duration(args.since))
    except ValueError as exc:
        print(f"watcher: --since: {exc}", file=sys.stderr)
        return EXIT_USAGE
    store = Store(config.state)
    try:
        clusters = store.recent_clusters(since)
    finally:
        store.close()
    for cluster in clusters:
        _print_cluster(cluster)
    print(f"{len(clusters)} clusters updated in the last {args.since}")
    return 0


def _print_cluster(cluster: Cluster) -> None:
    lead = cluster.lead
    print(f"cluster {cluster.id}: {lead.title}")
    print(f"  {lead.link}")
    print(f"  first reported by {lead.source} at {_when(lead.published)} UTC")
    others = [s for s in cluster.members[1:]]
    if others:
        print(f"  also reported by ({len(others)}):")
        for story in others:
            print(f"    {_when(story.published)}  {story.source}: {story.title}")


async def _fetch_one(url: str, settings: PollSettings) -> Any:
    fetcher = Fetcher(settings)
    try:
        return await fetcher.fetch(url)
    finally:
        await fetcher.aclose()


# -- helpers -------------------------------------------------------------------------------


def _pipeline(
    config: Config, store: Store, fetcher: Fetcher, pool: ProcessPoolExecutor
) -> Pipeline:
    clusterer = Clusterer(store, config.clustering, utc_now)
    recovered = clusterer.load()
    if recovered:
        logging.getLogger("watcher.cli").info(
            "clustered stories left unclustered count=%d", recovered
        )
    return Pipeline(
        store=store,
        fetcher=fetcher,
        settings=config.poll,
        clock=utc_now,
        clusterer=clusterer,
        rules=LiveRules(config.rules),
        on_new_stories=print_new_stories,
        parse_executor=pool,
    )


def _parse_pool() -> ProcessPoolExecutor:
    """Parsing is CPU-bound: a process pool keeps it off the event loop, on every core."""
    return ProcessPoolExecutor(mp_context=multiprocessing.get_context("spawn"))


def print_new_stories(clustered: Sequence[ClusteredStory], matches: Sequence[Match]) -> None:
    """The console sink: a new news item, another outlet joining one, and rule matches."""
    for item in clustered:
        story, where = item.story, item.assignment
        if item.starts_cluster:
            print(f"NEW   {_when(story.published)}  [{story.source}] {story.title}", flush=True)
            print(f"      {story.link}  (cluster {where.cluster})", flush=True)
        else:
            print(
                f"ALSO  {_when(story.published)}  [{story.source}] {story.title}\n"
                f"      joins cluster {where.cluster} ({where.level}: {where.reason})",
                flush=True,
            )
    for match in matches:
        terms = "; ".join(f"{k}: {', '.join(v)}" for k, v in match.terms.items())
        print(
            f"MATCH rule {match.rule} on cluster {match.cluster}: {match.clause}  [{terms}]",
            flush=True,
        )


def _when(when: datetime | None) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if when else "-"


def print_table(headers: list[str], rows: list[list[str]], max_width: int = 60) -> None:
    cells = [[c if len(c) <= max_width else c[: max_width - 1] + "…" for c in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
