"""The matcher against a plain reading of the rule language, on generated rules and stories.

The matcher scans a story once with one automaton, wakes only the rules a hit can
satisfy and builds hit lists only for the words they need; each shortcut is a place to
miss a match. Here every rule of a random set is also evaluated the slow, obvious way:
words compared one by one, a phrase's words in a row (joined by a blank or a hyphen, not
by other punctuation), a wildcard as a prefix, NEAR/n as two hits of one field at most n
words apart. Both must agree on every story.
"""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from watcher.errors import RuleError
from watcher.rules import Matcher, load_rules
from watcher.rules.loader import query_rule
from watcher.rules.model import RuleSet

WORDS = ["gallium", "galena", "gold", "price", "prices", "export", "ban", "china", "mine"]
PREFIXES = ["gal", "pri", "ex", "g", "ch"]
ENTRIES = ["gallium", "galena", "export ban"]  # the term list `m`
FIELDS = ("title", "summary", "body")
GAPS = [" "] * 8 + ["-", ", ", ". ", " - ", " / "]  # between a story's words
JOINING = (" ", "-")  # the gaps a phrase's words may have between them

Node = tuple[Any, ...]  # ("words", words, wildcard, fields) | ("list", fields) |
# ("entry", name, fields) | ("not", node) | ("and" | "or", [nodes]) | ("near", l, r, n)
Story = dict[str, list[tuple[str, str]]]  # field -> (gap before, word) in order


class Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def scope(self) -> tuple[str, ...] | None:
        return self.rng.choice([None, None, None, None, ("title",), ("summary",)])

    def atom(self) -> Node:
        rng, fields = self.rng, self.scope()
        kind = rng.choice(["word", "word", "word", "phrase", "wildcard", "list", "entry"])
        if kind == "word":
            return ("words", (rng.choice(WORDS),), False, fields)
        if kind == "phrase":
            return ("words", (rng.choice(WORDS), rng.choice(WORDS)), False, fields)
        if kind == "wildcard":
            return ("words", (rng.choice(PREFIXES),), True, fields)
        if kind == "list":
            return ("list", fields)
        return ("entry", rng.choice(ENTRIES), fields)

    def near_operand(self) -> Node:
        """A word, phrase or list, or an OR group of them under one scope."""
        if self.rng.random() < 0.25:
            fields = self.scope()
            return ("or", [(*self.atom()[:-1], fields) for _ in range(2)])
        return self.atom()

    def condition(self, depth: int = 0) -> Node:
        roll = self.rng.random()
        if depth >= 3 or roll < 0.35:
            return self.atom()
        if roll < 0.5:
            return ("not", self.condition(depth + 1))
        if roll < 0.88:
            kind = "and" if roll < 0.7 else "or"
            return (kind, [self.condition(depth + 1) for _ in range(self.rng.randint(2, 3))])
        return ("near", self.near_operand(), self.near_operand(), self.rng.randint(1, 4))

    def story(self) -> Story:
        rng = self.rng
        return {
            field: [
                (rng.choice(GAPS), rng.choice(WORDS))
                for _ in range(rng.randint(1 if field == "title" else 0, 10))
            ]
            for field in FIELDS
        }

    def text(self, words: list[tuple[str, str]]) -> str:
        return "".join(
            (gap if i else "") + (word.capitalize() if self.rng.random() < 0.2 else word)
            for i, (gap, word) in enumerate(words)
        )


def query(node: Node) -> str:
    """The condition in the rule language, every group in parentheses."""
    kind = node[0]
    if kind in ("words", "list", "entry"):
        scope = f"{node[-1][0]}:" if node[-1] else ""
        if kind == "list":
            return scope + "@m"
        if kind == "entry":
            return scope + f'@m:"{node[1]}"'
        words, wildcard = node[1], node[2]
        text = f'"{" ".join(words)}"' if len(words) > 1 else words[0]
        return scope + text + ("*" if wildcard else "")
    if kind == "not":
        return f"NOT {query(node[1])}"
    if kind == "near":
        return f"({query(node[1])} NEAR/{node[3]} {query(node[2])})"
    return "(" + f" {kind.upper()} ".join(query(child) for child in node[1]) + ")"


def _in_a_row(words: list[tuple[str, str]], at: int, wanted: tuple[str, ...]) -> bool:
    found = words[at : at + len(wanted)]
    return tuple(word for _, word in found) == wanted and all(
        gap in JOINING for gap, _ in found[1:]
    )


def hits(node: Node, story: Story) -> list[tuple[str, int]]:
    """Where an atom is: (field, number of the word it begins at)."""
    kind, fields = node[0], node[-1] or FIELDS
    found = []
    for field in fields:
        words = story[field]
        for at, (_, word) in enumerate(words):
            if kind == "words" and node[2]:
                here = word.startswith(node[1][0])
            elif kind == "words":
                here = _in_a_row(words, at, node[1])
            else:
                names = ENTRIES if kind == "list" else [node[1]]
                here = any(_in_a_row(words, at, tuple(name.split())) for name in names)
            if here:
                found.append((field, at))
    return found


def holds(node: Node, story: Story) -> bool:
    kind = node[0]
    if kind in ("words", "list", "entry"):
        return bool(hits(node, story))
    if kind == "not":
        return not holds(node[1], story)
    if kind == "and":
        return all(holds(child, story) for child in node[1])
    if kind == "or":
        return any(holds(child, story) for child in node[1])
    lefts, rights = _positions(node[1], story), _positions(node[2], story)
    return any(
        a[0] == b[0] and a[1] != b[1] and abs(a[1] - b[1]) <= node[3]
        for a in lefts for b in rights
    )  # fmt: skip


def _positions(node: Node, story: Story) -> list[tuple[str, int]]:
    if node[0] == "or":
        return [hit for child in node[1] for hit in _positions(child, story)]
    return hits(node, story)


@pytest.fixture(scope="module")
def term_lists(tmp_path_factory: pytest.TempPathFactory) -> RuleSet:
    folder: Path = tmp_path_factory.mktemp("rules")
    (folder / "m.yaml").write_text(
        'lists:\n  m: [gallium, galena, "export ban"]\nrules:\n  - name: any\n    when: gold\n'
    )
    return load_rules(folder)


@pytest.mark.parametrize("seed", range(4))
def test_the_matcher_agrees_with_a_plain_reading_of_every_rule(
    seed: int, term_lists: RuleSet
) -> None:
    generate = Generator(seed)
    for _ in range(40):  # rule sets
        conditions, rules = [], []
        while len(rules) < 6:
            condition = generate.condition()
            try:
                rule = query_rule(query(condition), term_lists)
            except RuleError:  # a group the language refuses, such as NOT inside NEAR
                continue
            conditions.append(condition)
            rules.append(replace(rule, name=f"r{len(rules)}", order=len(rules)))
        ruleset = RuleSet(lists=term_lists.lists, rules=tuple(rules), version="v", files=())
        matcher = Matcher(ruleset)
        for _ in range(30):  # stories
            story = generate.story()
            title, summary, body = (generate.text(story[field]) for field in FIELDS)
            matched = {m.rule for m in matcher.match(title, summary, "", body).rules}
            for rule, condition in zip(rules, conditions, strict=True):
                assert (rule.name in matched) == holds(condition, story), (
                    f"{rule.text!r} on title {title!r}, summary {summary!r}, body {body!r}"
                )
