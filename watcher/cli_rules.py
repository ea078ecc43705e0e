"""`watcher rules check` and `watcher rules test`: the rule commands of the command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from watcher.config import PollSettings, load_config, parse_duration, resolve_config_path
from watcher.errors import ConfigError, RuleError, WatcherError
from watcher.fetch import Fetcher
from watcher.jsonl import read_stories
from watcher.models import Story
from watcher.parse import parse_feed
from watcher.rules import Matcher, load_rules
from watcher.rules.matcher import Hit, StoryMatch
from watcher.store import Store

EXIT_FAILED, EXIT_USAGE = 1, 2


def add_parser(commands: Any) -> None:
    rules = commands.add_parser(
        "rules",
        help="check rule files, or test rules on stories before trusting them",
        description="Check rule files, or run the rules over stories and show what they match.",
    )
    sub = rules.add_subparsers(dest="rules_command", metavar="check|test", required=True)
    check = sub.add_parser(
        "check",
        help="validate rule files; print every problem as file:line:col: message",
        description="Validate every rule file. Each problem is printed as file:line:col: message "
        "and the exit code is 2; when all is valid a one-line summary is printed (exit 0).",
    )
    check.add_argument(
        "--rules",
        metavar="DIR",
        type=Path,
        help="the rules folder (default: the config's rules:, else ./rules)",
    )
    test = sub.add_parser(
        "test",
        help="run the rules over stories and show which matched, and why",
        description="Run the rules over stories from a JSON-lines file, the database, or a feed, "
        "and show which rules matched each story, the clause that made it match and the matched "
        "words in [brackets]. --format jsonl writes one line per story, in input order: "
        '{"id": ..., "rules": [...], "terms": {list: [canonical names]}} with every term-list '
        "entry found in title + summary.",
    )
    source = test.add_mutually_exclusive_group()
    source.add_argument(
        "--stories", metavar="FILE.jsonl", type=Path, help="stories as JSON lines (as for dedupe)"
    )
    source.add_argument(
        "--since",
        metavar="DURATION",
        help="stories first fetched within this time, from the database (default: 7d)",
    )
    source.add_argument(
        "--url", metavar="FEED_URL", help="fetch one feed (or file) and test its stories"
    )
    test.add_argument("--rule", metavar="NAME", help="only this rule")
    test.add_argument("--format", choices=["table", "jsonl"], default="table", help="output format")
    test.add_argument(
        "--rules",
        metavar="DIR",
        type=Path,
        help="the rules folder (default: the config's rules:, else ./rules)",
    )


def cmd_rules(args: argparse.Namespace) -> int:
    folder = args.rules or _configured_folder(args.config)
    if folder is None:
        return EXIT_USAGE
    try:
        ruleset = load_rules(folder)
    except RuleError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr if args.rules_command == "test" else sys.stdout)
        return EXIT_USAGE
    if args.rules_command == "check":
        print(f"{folder}: {ruleset.summary()}: OK")
        return 0
    if args.rule and args.rule not in {r.name for r in ruleset.rules}:
        print(f"watcher: rules test: no rule named {args.rule!r} in {folder}", file=sys.stderr)
        return EXIT_USAGE
    try:
        stories = _stories(args)
    except WatcherError as exc:
        print(f"watcher: {exc}", file=sys.stderr)
        return EXIT_FAILED
    matcher = Matcher(ruleset)
    results = [(s, matcher.match(s.title, s.summary, s.source)) for s in stories]
    if args.format == "jsonl":
        for story, result in results:
            print(
                json.dumps(
                    {
                        "id": story.id,
                        "rules": _rule_names(result, args.rule),
                        "terms": result.terms,
                    },
                    ensure_ascii=False,
                )
            )
        return 0
    _print_table(results, args.rule)
    return 0


def _configured_folder(cli_config: str | None) -> Path | None:
    path = resolve_config_path(cli_config)
    if cli_config is None and not path.exists():
        return Path("rules")
    try:
        return load_config(path).rules
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"watcher: {problem}", file=sys.stderr)
        return None


def _stories(args: argparse.Namespace) -> list[Story]:
    if args.stories:
        return read_stories(args.stories)
    if args.url:
        return asyncio.run(_feed_stories(args.url))
    since = datetime.now(UTC) - timedelta(seconds=parse_duration(args.since or "7d"))
    config = load_config(resolve_config_path(args.config))
    store = Store(config.state)
    try:
        return list(reversed(store.recent_stories(since)))
    finally:
        store.close()


async def _feed_stories(source: str) -> list[Story]:
    url = (
        source if "://" in source or source.startswith("file:") else Path(source).resolve().as_uri()
    )
    fetcher = Fetcher(PollSettings())
    try:
        result = await fetcher.fetch(url)
    finally:
        await fetcher.aclose()
    parsed = parse_feed(
        result.body, feed=source, fetched_at=datetime.now(UTC), content_type=result.content_type
    )
    return list(parsed.stories)


def _rule_names(result: StoryMatch, only: str | None) -> list[str]:
    return [m.rule for m in result.rules if only is None or m.rule == only]


def _print_table(results: Sequence[tuple[Story, StoryMatch]], only: str | None) -> None:
    matched = 0
    for story, result in results:
        rules = [m for m in result.rules if only is None or m.rule == only]
        if not rules:
            continue
        matched += 1
        evidence = [h for m in rules for h in m.hits]
        print(f"{story.id}  {highlight(story.title, evidence, 'title')}")
        summary = highlight(story.summary, evidence, "summary")
        if "[" in summary:
            print(f"    {summary}")
        for m in rules:
            print(f"    matched {m.rule}: {m.clause}")
        found = "; ".join(f"{k}: {', '.join(v)}" for k, v in result.terms.items() if v)
        if found:
            print(f"    terms: {found}")
    print(f"{matched} of {len(results)} stories matched" + (f" rule {only}" if only else ""))


def highlight(text: str, hits: Sequence[Hit], field: str) -> str:
    """The text with every hit in `field` wrapped in [brackets]."""
    spans = sorted({(h.start, h.end) for h in hits if h.field == field})
    out, pos = [], 0
    for start, end in spans:
        if start < pos:
            continue
        out += [text[pos:start], "[", text[start:end], "]"]
        pos = end
    out.append(text[pos:])
    return "".join(out)
