"""`watcher dedupe`, `watcher dedupe explain` and `watcher clusters`: story clusters."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from watcher.cli.common import (
    EXIT_FAILED,
    FEED_NAMES,
    UsageError,
    count,
    feeds_named,
    print_table,
    reading,
    shown,
    since,
    utf8_text,
    when,
    write_output,
)
from watcher.config import Config, load_optional_config
from watcher.dedupe import ClusterSettings, PairScore, cluster_batch, compare, fingerprint
from watcher.dedupe.text import story_languages
from watcher.jsonl import read_stories, story_json
from watcher.models import Cluster, Match, Story


def add_parsers(commands: Any) -> None:
    dedupe = commands.add_parser(
        "dedupe",
        help="cluster a JSON-lines file of stories, statelessly (touches no database)",
        description="Read stories (JSON lines with id, title, summary, link, source, published, "
        "guid, related) "
        'and write one line per story, in input order: {"id": ..., "cluster": ...}. The '
        "cluster is the id of the cluster's earliest-published story. The same stories in any "
        "order give the same clusters. Thresholds come from the config's clustering: section "
        "when a config file is given or found, else the defaults. The file is UTF-8 (or "
        "UTF-16 or UTF-32 after a byte-order mark), lines ended by \\n alone; a line that is "
        "not UTF-8, longer than 16 MB or not a story is reported as file:line (exit code 1).",
    )
    dedupe.add_argument(
        "--input", metavar="STORIES.jsonl", type=Path, help="the stories to cluster"
    )
    dedupe.add_argument("--output", metavar="FILE", type=Path, help="write here instead of stdout")
    dedupe.set_defaults(handler=cmd_dedupe, needs_config=False)
    sub = dedupe.add_subparsers(dest="dedupe_command", metavar="explain")
    explain = sub.add_parser(
        "explain",
        help="show the scores behind the decision for two stories",
        description="Print the scores that decide whether two stories of the input are the same "
        "news item, and whether they end up in one cluster (directly or through others; a "
        "same-event pair apart for clustering.max_span says so). "
        "An id not in the input is an error (exit code 1); one id given twice, a usage error "
        "(exit code 2).",
    )
    explain.add_argument("story_a", metavar="ID_A", type=utf8_text)
    explain.add_argument("story_b", metavar="ID_B", type=utf8_text)
    explain.add_argument("--input", metavar="STORIES.jsonl", type=Path, required=True)
    clusters = commands.add_parser(
        "clusters",
        help="list story clusters that gained a story recently, with their sources",
        description="List clusters (news items) that gained a story within --since: the lead "
        "story, the earlier news it follows (a news item begun for clustering.max_span), the "
        "rules it matched (marked 'waiting for outlets' while a rule's min_sources "
        "is not reached, 'quiet' when the story that matched was kept from alerting), then "
        "every outlet that reported it. --format jsonl writes one line per news item: "
        '{"id", "stories": [...], "follows", "rules": [...]}, the lead story first.',
    )
    clusters.add_argument(
        "--since", default="24h", help="how far back, e.g. 6h, 24h, 7d (default: 24h)"
    )
    clusters.add_argument(
        "--feed",
        metavar="NAME",
        type=utf8_text,
        help=f"only news items with a story of this feed: {FEED_NAMES}",
    )
    clusters.add_argument(
        "--rule",
        metavar="NAME",
        type=utf8_text,
        help="only news items that matched the rule of this name (loudly, quietly or waiting)",
    )
    clusters.add_argument(
        "--format", choices=["table", "jsonl"], default="table", help="output format"
    )
    clusters.set_defaults(handler=cmd_clusters, needs_config=True)


def cmd_dedupe(args: argparse.Namespace) -> int:
    config = load_optional_config(args.config)
    settings = config.clustering if config else ClusterSettings()
    if args.input is None:
        raise UsageError("dedupe: --input STORIES.jsonl is required")
    explain = args.dedupe_command == "explain"
    if explain and args.story_a == args.story_b:
        raise UsageError(f"dedupe explain: give two stories, not {args.story_a!r} twice")
    stories = read_stories(args.input)
    clusters = cluster_batch(stories, settings)
    if explain:
        return _explain(args.story_a, args.story_b, stories, clusters, settings)
    lines = "".join(json.dumps({"id": s.id, "cluster": clusters[s.id]}) + "\n" for s in stories)
    if args.output is None:
        sys.stdout.write(lines)
    elif problem := write_output(args.output, lines.encode()):
        print(f"watcher: {problem}", file=sys.stderr)
        return EXIT_FAILED
    return 0


def _explain(
    id_a: str, id_b: str, stories: Sequence[Story], clusters: dict[str, str], st: ClusterSettings
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
    score = compare(a, b, st, explain=True)
    lead = "-" if score.lead_ratio is None else f"{score.lead_ratio:.1f}"
    rows = [
        ["story A", f"{id_a}: {by_id[id_a].title}"],
        ["story B", f"{id_b}: {by_id[id_b].title}"],
        ["cleaned titles", f"{a.title!r} / {b.title!r}"],
        ["languages", " / ".join(", ".join(story_languages(by_id[i])) for i in (id_a, id_b))],
        ["hours apart", f"{score.hours_apart:.2f} (window {st.window / 3600:g} h)"],
        ["title ratio", f"{score.title_ratio:.1f} (reprint, no lead: {st.reprint_title:g})"],
        ["lead ratio", f"{lead} (reprint: {st.reprint_lead:g})"],
        ["shared terms", ", ".join(score.shared_terms) or "-"],
        ["specific shared", f"{score.specific_shared} (same event: {st.same_event_terms})"],
        ["shared weight", f"{score.shared_weight:.2f} (same event: {st.same_event_weight:g})"],
        ["dice", f"{score.dice:.3f} (same event: {st.same_event_dice:g})"],
        ["title words missing", ", ".join(score.title_conflicts) or "-"],
        ["name swaps", ", ".join(score.slot_swaps) or "-"],
        ["day swaps", ", ".join(score.day_swaps) or "-"],
        ["opposite swaps", ", ".join(score.opposite_swaps) or "-"],
        ["listed together", "yes" if score.listed else "no"],
        ["direct link", f"{score.level or 'none'}: {score.reason}"],
        ["same cluster", _same_cluster(clusters[id_a] == clusters[id_b], score, st)],
    ]
    print_table(["", ""], rows, max_width=200)
    return 0


def _same_cluster(same: bool, score: PairScore, st: ClusterSettings) -> str:
    if same:
        return "yes"
    if score.level == "same-event" and st.max_span is not None:  # linked, yet apart
        return (
            f"no: a same-event story joins a news item only within clustering.max_span "
            f"({st.max_span / 3600:g} h) of its first story"
        )
    return "no"


def _kept(match: Match) -> str:
    """What kept a match from alerting, if anything."""
    if match.waiting:
        return " (waiting for outlets)"
    return " (quiet)" if match.quiet else ""


def cmd_clusters(config: Config, args: argparse.Namespace) -> int:
    start = since(args.since)
    feeds = feeds_named(config, args.feed)
    with reading(config.state) as store:
        clusters = [
            c for c in store.recent_clusters(start)
            if feeds is None or any(s.feed in feeds for s in c.members)
        ]  # fmt: skip
        matches = {cluster.id: store.matches_for(cluster.id) for cluster in clusters}
    if args.rule is not None:
        clusters = [c for c in clusters if any(m.rule == args.rule for m in matches[c.id])]
    if args.format == "jsonl":
        for cluster in clusters:
            print(json.dumps(_cluster_json(cluster, matches[cluster.id]), ensure_ascii=False))
        return 0
    for cluster in clusters:
        _print_cluster(cluster, matches[cluster.id])
    which = f" of {args.feed}" if args.feed else ""
    which += f" matching {args.rule}" if args.rule else ""
    print(f"{count(len(clusters), 'cluster')}{which} updated in the last {args.since}")
    return 0


def _cluster_json(cluster: Cluster, matches: Sequence[Match]) -> dict[str, Any]:
    """A news item as `--format jsonl` writes it: its stories (the lead first) without
    their text, the earlier news it follows, and the rules it matched."""
    return {
        "id": cluster.id,
        "stories": [
            {key: value for key, value in story_json(s).items() if key in CLUSTER_STORY_KEYS}
            for s in cluster.members
        ],
        "follows": cluster.follows.id if cluster.follows else None,
        "rules": [
            {
                "rule": m.rule, "story": m.story, "terms": m.terms, "clause": m.clause,
                "matched_at": m.matched_at.isoformat(), "waiting": m.waiting, "quiet": m.quiet,
            }
            for m in matches
        ],
    }  # fmt: skip


CLUSTER_STORY_KEYS = ("id", "feed", "source", "title", "link", "published", "fetched_at")


def _print_cluster(cluster: Cluster, matches: Sequence[Match]) -> None:
    lead = cluster.lead
    print(f"cluster {cluster.id}: {shown(lead)}")
    print(f"  {lead.link}")
    print(f"  first reported by {lead.source} at {when(lead.published)} UTC")
    if earlier := cluster.follows:
        at = f"{earlier.source}, {when(earlier.published)} UTC"
        print(f"  follows earlier news: {shown(earlier)} ({at})")
    if matches:
        print(f"  rules: {', '.join(m.rule + _kept(m) for m in matches)}")
    others = cluster.members[1:]
    if others:
        print(f"  also reported by ({len(others)}):")
        for story in others:
            print(f"    {when(story.published)}  {story.source}: {shown(story)}")
