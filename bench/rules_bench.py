"""Rule matching cost as rules grow: compile time and per-story time over 3 KB stories.

Rules are generated YAML files, loaded, validated and compiled as the service does; each
combines words, phrases, wildcards, NEAR, NOT, field scopes and a term list of 500 firms.
Two workloads: "entity" rules are shaped like operators' rules, every branch naming one of
20,000 invented places or a firm of the list, with topic words drawn from 500 words of
English rank 1,000-5,000 (as "deal", "export*", "mine"); "common words" rules draw every
word from English ranks 1,000-30,000, so nearly every word of a story is some rule's word:
a worst case. Stories are 3 KB of Zipf-distributed English (wordfreq's top 30,000 words)
with firm and place names mixed in. Each story is matched once per pass, three passes in
turn; its time is its fastest pass (this machine's timings swing by half between seconds).

    python -m bench.rules_bench            # 100, 1,000 and 10,000 rules, both workloads
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from itertools import accumulate
from pathlib import Path

import yaml
from wordfreq import top_n_list

from watcher.rules import Matcher, load_rules

SIZES = (100, 1_000, 10_000)
STORIES = 300
PASSES = 3  # over all stories in turn, so each story meets caches as cold as in service
_SYLLABLES = ["ka", "zu", "mi", "ro", "ta", "ne", "lo", "vi", "sha", "qu", "dor", "gal", "bek"]
_NAME_RNG = random.Random(0)
_PLACES = ["".join(_NAME_RNG.choice(_SYLLABLES) for _ in range(3)) for _ in range(20_000)]
_COMMON: list[str] = []


def _rule(rng: random.Random, words: list[str], firms: list[str], i: int) -> dict[str, object]:
    a, b, c, d = rng.sample(words, 4)
    firm = rng.choice(firms)
    if words is _COMMON:  # any word may stand anywhere
        shapes = [
            f"{a} AND ({b} OR {c}*)",
            f'"{a} {b}" OR ({c} NEAR/5 {d})',
            f'@firms:"{firm}" AND ({a} OR {b})',
            f"title:{a} AND NOT {b}",
            f"@firms AND {a} AND {b}*",
        ]
    else:  # every branch names a place or a firm, as operators' rules do
        place = rng.choice(_PLACES)
        shapes = [
            f"{place} AND ({b} OR {c}*)",
            f'"{place} {b}" OR ({place} NEAR/5 {d})',
            f'@firms:"{firm}" AND ({a} OR {b})',
            f"title:{place} AND NOT {b}",
            f"@firms AND {place} AND {b}*",
        ]
    return {"name": f"rule-{i}", "when": shapes[i % len(shapes)], "tags": ["bench"], "priority": 3}


def write_rules(folder: Path, count: int, rng: random.Random, words: list[str]) -> list[str]:
    firms = [
        f"{w.capitalize()} {rng.choice(['Metals', 'Mining', 'Corp', 'Resources'])}"
        for w in rng.sample(words, 500)
    ]
    (folder / "lists.yaml").write_text(
        yaml.safe_dump({"lists": {"firms": [{"name": f} for f in firms]}})
    )
    rules = [_rule(rng, words, firms, i) for i in range(count)]
    (folder / "rules.yaml").write_text(yaml.safe_dump({"rules": rules}, sort_keys=False))
    return firms


def story_text(
    rng: random.Random, words: list[str], cum: list[float], firms: list[str], size: int = 3000
) -> str:
    parts: list[str] = []
    length = 0
    while length < size:
        roll = rng.random()
        if roll < 0.01:
            word = rng.choice(firms)
        elif roll < 0.03:
            word = rng.choice(_PLACES).capitalize()
        else:
            word = rng.choices(words, cum_weights=cum)[0]
        parts.append(word)
        length += len(word) + 1
    return " ".join(parts)


def measure(count: int, workload: str) -> dict[str, object]:
    rng = random.Random(count)
    vocabulary = [w for w in top_n_list("en", 30_000) if w.isalpha()]
    if workload == "common words":
        _COMMON[:] = vocabulary[1_000:]
        words = _COMMON
    else:  # topic words: 500 words of English rank 1,000-5,000, as "deal", "export", "mine"
        words = random.Random(1).sample(vocabulary[1_000:5_000], 500)
    cum = list(accumulate(1 / (rank + 10) for rank in range(len(vocabulary))))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        firms = write_rules(folder, count, rng, words)
        started = time.perf_counter()
        matcher = Matcher(load_rules(folder))
        compile_s = time.perf_counter() - started
    stories = [
        (
            story_text(rng, vocabulary, cum, firms, 120),
            story_text(rng, vocabulary, cum, firms, 2880),
        )
        for _ in range(STORIES)
    ]
    passes, matched = [], 0
    for _ in range(PASSES):
        times = []
        for title, summary in stories:
            t = time.perf_counter()
            result = matcher.match(title, summary)
            times.append((time.perf_counter() - t) * 1e6)
            matched += len(result.rules)
        passes.append(times)
    times = sorted(map(min, zip(*passes, strict=True)))  # each story's fastest pass
    matched //= PASSES
    return {
        "workload": workload,
        "rules": count,
        "compile_s": compile_s,
        "median_us": statistics.median(times),
        "p99_us": times[int(len(times) * 0.99) - 1],
        "rules_matched": matched / STORIES,
    }


WORKLOADS = ("entity", "common words")


def run_all(sizes: tuple[int, ...]) -> list[dict[str, object]]:
    return [measure(n, workload) for workload in WORKLOADS for n in sizes]


def table(rows: list[dict[str, object]]) -> str:
    lines = [
        "| rules | workload | load + compile | median per 3 KB story | p99 "
        "| rules matched per story |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['rules']:,} | {r['workload']} | {r['compile_s']:.2f} s "
            f"| {r['median_us']:.0f} µs | "
            f"{r['p99_us']:.0f} µs | {r['rules_matched']:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    sizes = tuple(int(a) for a in argv) or SIZES
    print(table(run_all(sizes)))


if __name__ == "__main__":
    main(sys.argv[1:])
