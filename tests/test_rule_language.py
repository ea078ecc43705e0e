"""The matcher against a plain reading of the rule language, on generated rules and stories.

The matcher scans a story once with one automaton, wakes only the rules a hit can
satisfy and builds hit lists only for the words they need; each shortcut is a place to
miss a match. Here every rule of a random set is also evaluated the slow, obvious way:
words compared one by one, a phrase's words in a row (joined by a blank or a hyphen, not
by other punctuation), a wildcard as a prefix, NEAR/n as two hits of one field at most n
words apart; and term lists the same way, their aliases case-sensitive, plural or
wildcards, their exclusions, in folded text. Both must agree on every story.
"""

from __future__ import annotations

import random
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

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


# -- term lists: aliases, their options and exclusions, against a plain reading ---------------

TERM_WORDS = ["gallium", "Mitsubishi", "Motors", "ERG", "erg", "rare", "earth", "earths", "Mitsui",
              "Sumitomo", "Zürich", "Zurich", "Société", "ion", "lithium", "heavy", "based", "tax",
              "taxes"]  # fmt: skip
TERM_GAPS = [" "] * 8 + ["-", ", ", ". ", " - ", "'s ", "’s ", " – ", "/", "--", "\u00a0", " & "]
TERM_FIELDS = ("title", "summary", "source", "body")
_FOLDED = str.maketrans({"ü": "u", "Ü": "U", "é": "e", "É": "E", "’": "'", "–": "-", "\u00a0": " "})
_ALNUM = re.compile(r"[A-Za-z0-9]+")


def _random_term(rng: random.Random, number: int) -> dict[str, Any]:
    """A term-list entry: one or two aliases of one or two words, each plain, case-sensitive,
    plural or a trailing wildcard; maybe a word it must not be followed or preceded by."""
    aliases = []
    for _ in range(rng.choice([1, 1, 2])):
        alias: dict[str, Any] = {"text": rng.choice([" ", "-"]).join(
            rng.sample(TERM_WORDS, rng.choice([1, 1, 2]))
        )}  # fmt: skip
        roll = rng.random()
        if roll < 0.2:
            alias["case_sensitive"] = True
        elif roll < 0.4:
            alias["plural"] = True
        elif roll < 0.5:
            alias["text"] = alias["text"][: rng.randint(3, len(alias["text"]))].rstrip(" -") + "*"
        aliases.append(alias)
    term: dict[str, Any] = {"name": f"T{number}", "aliases": aliases}
    for exclusion in ("not_followed_by", "not_preceded_by"):
        if rng.random() < 0.3:
            term[exclusion] = [rng.choice(TERM_WORDS)]
    return term


def _spans(text: str, alias: str, case_sensitive: bool, wildcard: bool) -> list[tuple[int, int]]:
    """Where the words of `alias` stand in `text` (both folded) one after the other: each
    equal (the last a prefix, for a wildcard), and between two, for a blank, any one
    character that is not a letter or digit, for a hyphen, that or up to three blanks and
    hyphens. (start, end) of each."""
    parts = re.split(r"([^A-Za-z0-9]+)", alias)
    words, gaps = parts[0::2], parts[1::2]
    found = list(_ALNUM.finditer(text))
    spans = []
    for at in range(len(found) - len(words) + 1):
        run = found[at : at + len(words)]
        same = all(
            _same(word, match.group(), case_sensitive, wildcard and n == len(words) - 1)
            for n, (word, match) in enumerate(zip(words, run, strict=True))
        )
        between = [text[run[n].end() : run[n + 1].start()] for n in range(len(gaps))]
        joined = all(
            len(found_gap) == 1 or (gap == "-" and len(found_gap) <= 3 and set(found_gap) <= {" ", "-"})
            for gap, found_gap in zip(gaps, between, strict=True)
        )  # fmt: skip
        if same and joined:
            spans.append((run[0].start(), run[-1].end()))
    return spans


def _same(word: str, found: str, case_sensitive: bool, prefix: bool) -> bool:
    if not case_sensitive:
        word, found = word.lower(), found.lower()
    return found.startswith(word) if prefix else found == word


def _excluded(term: dict[str, Any], text: str, start: int, end: int) -> bool:
    """A word it must not be followed by after blanks, hyphens, commas and periods; one it
    must not be preceded by before blanks and hyphens."""
    lowered = text.lower()
    for word in term.get("not_followed_by", []):
        word, after = word.translate(_FOLDED).lower(), end
        while lowered[after : after + 1] in (" ", "-", ",", "."):
            after += 1
        if lowered.startswith(word, after) and not lowered[after + len(word) :][:1].isalnum():
            return True
    for word in term.get("not_preceded_by", []):
        word, before = word.translate(_FOLDED).lower(), start
        while before and lowered[before - 1] in " -":
            before -= 1
        first = before - len(word)
        if (
            first >= 0
            and lowered.startswith(word, first)
            and not lowered[first - 1 : first].isalnum()
        ):
            return True
    return False


def _entry_found(term: dict[str, Any], raw: str) -> bool:
    text = raw.translate(_FOLDED)
    for alias in term["aliases"]:
        written, case = alias["text"].translate(_FOLDED), alias.get("case_sensitive", False)
        wildcard = written.endswith("*")
        forms = [written.rstrip("*")]
        if alias.get("plural"):
            forms.append(
                forms[0] + ("es" if forms[0].lower().endswith(("s", "x", "z", "ch", "sh")) else "s")
            )
        for form in forms:
            for start, end in _spans(text, form, case, wildcard):
                if wildcard:  # the hit runs to the end of its word
                    end = _ALNUM.match(text, end - 1).end()  # type: ignore[union-attr]
                if not _excluded(term, text, start, end):
                    return True
    return False


Atom = tuple[str, str | None, str | None]  # list, entry (None: any), field (None: the default)


def _random_rules(rng: random.Random, lists: dict[str, list[dict[str, Any]]]) -> list[Atom]:
    """Three rules a list: `@list` or `@list:"Entry"`, maybe scoped to one field."""
    return [
        (name, rng.choice(terms)["name"] if rng.random() < 0.4 else None,
         rng.choice([None, None, *TERM_FIELDS]))
        for name, terms in lists.items() for _ in range(3)
    ]  # fmt: skip


def _query(atom: Atom) -> str:
    name, entry, field = atom
    return (f"{field}:" if field else "") + f"@{name}" + (f':"{entry}"' if entry else "")


def _term_text(rng: random.Random) -> str:
    words = [rng.choice(TERM_WORDS) for _ in range(rng.randint(0, 10))]
    words = [word.upper() if rng.random() < 0.1 else word for word in words]
    return "".join((rng.choice(TERM_GAPS) if i else "") + word for i, word in enumerate(words))


@pytest.mark.parametrize("seed", range(3))
def test_term_lists_agree_with_a_plain_reading(seed: int, tmp_path: Path) -> None:
    """Aliases case-sensitive, plural or wildcard, exclusions, the source field and folded
    text (Zürich, curly apostrophes, dashes): the terms found and the rules that name the
    lists and entries, as the matcher finds them and as a plain reading does."""
    rng = random.Random(seed)
    for round_ in range(40):  # rule sets
        lists = {name: [_random_term(rng, n) for n in range(rng.randint(1, 4))] for name in "ab"}
        atoms = _random_rules(rng, lists)
        rules = [{"name": f"r{n}", "when": _query(atom)} for n, atom in enumerate(atoms)]
        folder = tmp_path / f"{round_}"
        folder.mkdir()
        document = {"lists": lists, "rules": rules}
        (folder / "r.yaml").write_text(yaml.safe_dump(document, allow_unicode=True))
        matcher = Matcher(load_rules(folder))
        for _ in range(25):  # stories
            story = {field: _term_text(rng) for field in TERM_FIELDS}
            found = matcher.match(story["title"], story["summary"], story["source"], story["body"])
            in_field = {
                (name, term["name"], field): _entry_found(term, story[field])
                for name, terms in lists.items() for term in terms for field in TERM_FIELDS
            }  # fmt: skip
            expected = {
                f"r{n}" for n, (name, entry, scope) in enumerate(atoms)
                if any(in_field[name, term["name"], field] for term in lists[name]
                       if entry in (None, term["name"]) for field in ((scope,) if scope else FIELDS))
            }  # fmt: skip
            terms = {
                name: tuple(sorted(t["name"] for t in terms
                                   if any(in_field[name, t["name"], field] for field in FIELDS)))
                for name, terms in lists.items()
            }  # fmt: skip
            assert {m.rule for m in found.rules} == expected, (document, story)
            assert found.terms == terms, (document, story)
