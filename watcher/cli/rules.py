"""`watcher rules check` and `watcher rules test`: rules tested before they are trusted."""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from watcher.alerts.excerpts import body_excerpts, hit_spans, marked
from watcher.alerts.routing import unknown_names
from watcher.cli.common import (
    EXIT_USAGE,
    HEADER_HELP,
    count,
    header,
    utf8_text,
)
from watcher.cli.rules_diff import (
    NewsItems,
    alerting,
    print_alert_changes,
    print_changes,
    rule_names,
)
from watcher.cli.rules_stories import stories_tested, try_rules
from watcher.config import default_rules, load_optional_config
from watcher.errors import RuleError
from watcher.models import Story
from watcher.rules import Matcher, RuleSet, load_rules
from watcher.rules.loader import QUERY_RULE, query_rule
from watcher.rules.matcher import StoryMatch


def add_parsers(commands: Any) -> None:
    rules = commands.add_parser(
        "rules",
        help="check rule files, or test rules on stories before trusting them",
        description="Check rule files, or run the rules over stories and show what they match.",
    )
    rules.set_defaults(handler=cmd_rules, needs_config=False)
    sub = rules.add_subparsers(dest="rules_command", metavar="check|test", required=True)
    check = sub.add_parser(
        "check",
        help="validate rule files; print every problem as file:line:col: message",
        description="Validate every rule file, and check each rule's examples (the stories "
        "it must match and must not). Each problem is printed as file:line:col: message "
        "and the exit code is 2; when all is valid a one-line summary is printed (exit 0). "
        "Without --rules, the config's subscribers and feeds are checked against the rules "
        "too: a name a subscriber follows that is no rule's name or tag, a name a rule "
        "notifies that is no subscriber's, a name in a rule's feeds: or a subscriber's "
        "feed_problems: that is no feed's name or tag, or a subscriber that gets nothing "
        "(follow: [], named by no rule, without feed_problems or delivery_problems) or whose "
        "rules are all below its min_priority, is printed as a warning on stderr (the exit "
        "code stays 0).",
    )
    check.add_argument(
        "--rules",
        metavar="DIR",
        type=Path,
        help="the rules folder (default: the config's rules:, else ./rules, else the rules "
        "shipped with watcher)",
    )
    test = sub.add_parser(
        "test",
        help="run the rules over stories and show which matched, and why",
        description="Run the rules over stories from a JSON-lines file, the database, or a feed, "
        "and show which rules matched each story, the clause that made it match and the matched "
        "words in [brackets]; then, per rule, how many stories and news items (clusters: "
        "from the database, as stored; else as watcher dedupe forms them) it matched, one alert "
        "each to a subscriber who follows it; for a rule with min_sources, a last column counts "
        "the news items that enough outlets carry (from the database, among all their stored "
        "stories; else among the stories tested). --format jsonl "
        "writes one line per story, in "
        'input order: {"id": ..., "rules": [...], "terms": {list: [canonical names]}} with '
        "every term-list entry found in title, summary and body (the full text).",
    )
    source = test.add_mutually_exclusive_group()
    source.add_argument(
        "--stories",
        metavar="FILE.jsonl",
        type=Path,
        help="stories as JSON lines (as for dedupe, with body: the full text)",
    )
    source.add_argument(
        "--since",
        metavar="DURATION",
        help="stories first fetched within this time, from the database (default: 7d)",
    )
    source.add_argument(
        "--url", metavar="FEED_URL",
        help="fetch one feed (or file) and test its stories; with a config given or found, "
        "with its poll: settings (timeouts, size cap, user agent, ca_file), as the service, "
        "and a configured feed's URL as that feed (its name, source:, headers:, timezone:, "
        "date_order:)",
    )  # fmt: skip
    source.add_argument(
        "--live", action="store_true",
        help="fetch every configured feed now, as the service polls them (their headers:, "
        "source:, timezone: and date_order:, a full_text feed's pages, the config's poll: "
        "settings), and test their stories, storing nothing; a feed that cannot be read is "
        "named on stderr",
    )  # fmt: skip
    test.add_argument(
        "--header", metavar="HEADER", type=header, action="append", default=[],
        help=f"with --url: {HEADER_HELP}",
    )  # fmt: skip
    only = test.add_mutually_exclusive_group()
    only.add_argument("--rule", metavar="NAME", type=utf8_text, help="only this rule")
    only.add_argument(
        "--query",
        metavar="QUERY",
        type=utf8_text,
        help="only this query, in the rule files' query language, with their term lists "
        "(e.g. '@minerals AND Kazakhstan'): a rule tried before it goes in a file; it is "
        f"reported as the rule {QUERY_RULE}",
    )
    test.add_argument("--format", choices=["table", "jsonl"], default="table", help="output format")
    test.add_argument(
        "--diff", metavar="DIR", nargs="?", const="",
        help="what an edit changes: compare the rules tested (--rules, a copy being edited) "
        "with those in DIR (default: the rules in force, the config's rules:, else ./rules, "
        "else the rules shipped with watcher); show only the stories the two match "
        "otherwise, each rule gained (+) or lost (-) with its clause, then per rule the news "
        "items it would alert on (with its min_sources) before and after, gained and lost; "
        'with --format jsonl, each line also holds "before": the rules DIR matched',
    )  # fmt: skip
    test.add_argument(
        "--rules",
        metavar="DIR",
        type=Path,
        help="the rules folder (default: the config's rules:, else ./rules, else the rules "
        "shipped with watcher)",
    )


def cmd_rules(args: argparse.Namespace) -> int:
    config = load_optional_config(args.config) if args.rules is None else None
    folder = args.rules or (config.rules if config else _rules_here())
    try:
        ruleset = load_rules(folder)
    except RuleError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr if args.rules_command == "test" else sys.stdout)
        return EXIT_USAGE
    if args.rules_command == "check":
        print(f"{folder}: {ruleset.summary()}: OK")
        for unknown in (
            unknown_names(ruleset.rules, config.subscribers, config.feeds) if config else ()
        ):
            print(f"watcher: warning: {unknown}", file=sys.stderr)
        return 0
    before = None
    if args.diff is not None:
        other = _in_force(args) if args.diff == "" else Path(args.diff)
        if args.query is not None or other.resolve() == folder.resolve():
            print(_DIFF_USAGE, file=sys.stderr)
            return EXIT_USAGE
        try:
            before = load_rules(other)
        except RuleError as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            return EXIT_USAGE
    names = {r.name for r in [*ruleset.rules, *(before.rules if before else ())]}
    if args.rule and args.rule not in names:
        where = f"{folder} or {other}" if before else folder
        print(f"watcher: rules test: no rule named {args.rule!r} in {where}", file=sys.stderr)
        return EXIT_USAGE
    if args.query is not None:
        try:
            ruleset = _with_query_only(ruleset, args.query)
        except RuleError as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            return EXIT_USAGE
        args.rule = QUERY_RULE
    with stories_tested(args) as tested:
        earlier = Matcher(before) if before is not None else None
        tried = try_rules(tested, Matcher(ruleset), earlier, args)
        if args.format == "jsonl":
            return 0
        items = tested.news_items([c.story for c in tried.kept])
    if before is not None:
        print_changes(tried.kept, tried.tested, args.rule)
        need = (ruleset.min_sources, before.min_sources)
        print_alert_changes(tried.kept, items, need, args.rule)
        return 0
    results = [(c.story, c.after) for c in tried.kept]
    _print_table(results, tried.tested, items, ruleset.min_sources, args.rule)
    _print_counts(results, items, ruleset.min_sources, args.rule)
    return 0


_DIFF_USAGE = (
    "watcher: rules test: --diff compares the rules tested (--rules DIR, a copy being edited) "
    "with other rules (--diff DIR, else the rules in force), not with themselves, and not "
    "with --query"
)


def _in_force(args: argparse.Namespace) -> Path:
    """The rules the service uses: the config's `rules:`, else ./rules, else the shipped."""
    config = load_optional_config(args.config)
    return config.rules if config else _rules_here()


def _with_query_only(ruleset: RuleSet, query: str) -> RuleSet:
    """The rule set's term lists with one rule, the query (`rules.loader.query_rule`)."""
    return replace(ruleset, rules=(query_rule(query, ruleset),))


def _rules_here() -> Path:
    """./rules when it exists, else the rules shipped with watcher."""
    here = Path("rules")
    return here if here.is_dir() else default_rules()


def _print_table(
    results: Sequence[tuple[Story, StoryMatch]], tested: int, items: NewsItems,
    need: dict[str, int], only: str | None,
) -> None:  # fmt: skip
    """The stories matched (of `tested`), their matched words in [brackets]."""
    matched = 0
    for story, result in results:
        rules = [m for m in result.rules if only is None or m.rule == only]
        if not rules:
            continue
        matched += 1
        spans = hit_spans(h for m in rules for h in m.hits)
        print(f"{story.id}  {_bracketed(story.title, spans.get('title', []))}")
        summary = _bracketed(story.summary, spans.get("summary", []))
        if "[" in summary:
            print(f"    {summary}")
        for part, inside in body_excerpts(story, spans):
            print(f"    in the full text: {_bracketed(part, inside)}")
        outlets = items.outlets[items.of[story.id]]
        for m in rules:
            waits = need.get(m.rule, 1)
            have = f"{outlets} outlet" + ("s" if outlets != 1 else "")
            enough = f" (min_sources {waits}: {have})" if waits > 1 else ""
            print(f"    matched {m.rule}: {m.clause}{enough}")
        found = "; ".join(f"{k}: {', '.join(v)}" for k, v in result.terms.items() if v)
        if found:
            print(f"    terms: {found}")
    stories = count(tested, "story", "stories")
    print(f"{matched} of {stories} matched" + (f" rule {only}" if only else ""))


def _print_counts(
    results: Sequence[tuple[Story, StoryMatch]], items: NewsItems, need: dict[str, int],
    only: str | None,
) -> None:  # fmt: skip
    """Per rule, the stories it matched and the news items they are: how many alerts it
    would have sent a subscriber who follows it alone (one per news item). When a rule
    waits for outlets (`min_sources`), a last column counts the news items that have them:
    the alerts."""
    stories: Counter[str] = Counter()
    found: defaultdict[str, set[Any]] = defaultdict(set)
    for story, result in results:
        item = items.of[story.id]
        names = rule_names(result, only)
        for name in [*names, ANY_RULE] if names and only is None else names:
            stories[name] += 1
            found[name].add(item)
    alerts_of = alerting(results, items, need, only)
    alerts_of[ANY_RULE] = set().union(*alerts_of.values())
    if not stories:
        return
    waits = any(need.get(name, 1) > 1 for name in stories)
    width = max(map(len, ("rule", *stories)))
    print(f"\n{'rule':<{width}}  stories  news items" + ("  alerting" if waits else ""))
    rows = sorted(stories.items(), key=lambda kv: (kv[0] == ANY_RULE, -len(found[kv[0]]), kv[0]))
    for name, matched in rows:
        alerts = f"  {len(alerts_of[name]):>8}" if waits else ""
        print(f"{name:<{width}}  {matched:>7}  {len(found[name]):>10}{alerts}")


ANY_RULE = "(any rule)"  # the last row, without --rule: the news items any rule matched


def _bracketed(text: str, spans: list[tuple[int, int]]) -> str:
    """The text with every span wrapped in [brackets]."""
    return marked(text, spans, "[", "]", str)
