"""Match stories against every rule and term list with one Aho-Corasick automaton.

In: a `RuleSet` (compiled once) and a story's title, summary and source.
Out: a `StoryMatch`: the rules that matched (with the clause and the words that made each
match) and every term-list entry found in title + summary.

Text is folded before matching, one character for one, so positions stay those of the
original text: curly quotes and apostrophes become straight, dashes a hyphen, white space a
space, and letters lose their diacritics. Matching is on whole words, case-insensitive unless
a term says otherwise; a possessive ("Alcoa's") still matches, and a term may ask for its
plural. Only rules that one of the story's hits can satisfy are evaluated, so the cost per
story hardly grows with the number of rules.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

import ahocorasick

from watcher.rules.model import Alias, Rule, RuleSet, Term
from watcher.rules.query import And, ListRef, Near, Node, Not, Or, Words

_TRANSLATE = str.maketrans({
    "’": "'", "‘": "'", "ʼ": "'", "`": "'", "“": '"', "”": '"',
    "–": "-", "—": "-", "‐": "-", "‑": "-", "\u00a0": " ", "\n": " ", "\t": " ", "\r": " ",
})  # fmt: skip

AtomKey = tuple[str, ...]  # ("words", text, "*"|"") or ("entry", list, name)


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    char = char.translate(_TRANSLATE)
    if char.isascii():
        return char
    base = unicodedata.normalize("NFKD", char)
    stripped = "".join(c for c in base if not unicodedata.combining(c))
    return stripped if len(stripped) == 1 else char


def fold(text: str) -> str:
    """The text with quotes, dashes, spaces and diacritics folded, same length as the input."""
    if text.isascii():
        return text.translate(_TRANSLATE)
    return "".join(_fold_char(c) for c in text)


def lower_same_length(text: str) -> str:
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


@dataclass(frozen=True, slots=True)
class Hit:
    field: str
    start: int
    end: int
    word: int  # index of the first word, for NEAR


@dataclass(frozen=True, slots=True)
class _Pattern:
    atom: AtomKey
    alias: Alias
    term: Term | None
    form: str  # as written, folded: what a case-sensitive alias must equal


@dataclass(frozen=True)
class RuleMatch:
    rule: str
    clause: str  # the part of the condition that held, with the words found
    hits: tuple[Hit, ...]


@dataclass(frozen=True)
class StoryMatch:
    rules: tuple[RuleMatch, ...]
    terms: dict[str, tuple[str, ...]]  # list name -> canonical names found in title + summary
    hits: dict[str, tuple[Hit, ...]] = field(default_factory=dict)  # by field, for highlighting


class Matcher:
    """All rules and term lists of a rule set, compiled into one automaton."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self.automaton = ahocorasick.Automaton()
        patterns: dict[str, list[_Pattern]] = defaultdict(list)
        for list_name, terms in ruleset.lists.items():
            for term in terms:
                for alias in term.aliases:
                    for form in map(fold, alias.forms()):
                        atom: AtomKey = ("entry", list_name, term.name)
                        patterns[form.lower()].append(_Pattern(atom, alias, term, form))
        self.always: list[Rule] = []
        self.by_atom: dict[AtomKey, list[Rule]] = defaultdict(list)
        for rule in ruleset.rules:
            for words in _words(rule.condition):
                alias = Alias(text=words.text, case_sensitive=False, wildcard=words.wildcard)
                form = fold(words.text)
                patterns[form].append(_Pattern(_words_key(words), alias, None, form))
            triggers = _triggers(rule.condition)
            if triggers is None:
                self.always.append(rule)
            for atom in triggers or ():
                self.by_atom[atom].append(rule)
        for key, items in patterns.items():
            unique = list({(p.atom, p.alias, p.form): p for p in items}.values())
            self.automaton.add_word(key, (len(key), unique))
        if patterns:
            self.automaton.make_automaton()
        self.has_patterns = bool(patterns)

    def match(self, title: str, summary: str, source: str = "") -> StoryMatch:
        hits: dict[AtomKey, list[Hit]] = defaultdict(list)
        by_field: dict[str, list[Hit]] = {}
        for field_name, text in (("title", title), ("summary", summary), ("source", source)):
            by_field[field_name] = self._scan(field_name, text, hits)
        rules = {id(r): r for r in self.always}
        for atom in list(hits):
            for rule in self.by_atom.get(atom, ()):
                rules[id(rule)] = rule
            if atom[0] == "entry":
                for rule in self.by_atom.get(("list", atom[1]), ()):
                    rules[id(rule)] = rule
        matched = []
        for rule in sorted(rules.values(), key=lambda r: r.order):
            result = _evaluate(rule.condition, hits)
            if result is not None:
                clause, evidence = result
                matched.append(RuleMatch(rule=rule.name, clause=clause, hits=tuple(evidence)))
        terms: dict[str, set[str]] = {name: set() for name in self.ruleset.lists}
        for atom, atom_hits in hits.items():
            if atom[0] == "entry" and any(h.field != "source" for h in atom_hits):
                terms[atom[1]].add(atom[2])
        return StoryMatch(
            rules=tuple(matched),
            terms={k: tuple(sorted(v)) for k, v in terms.items()},
            hits={k: tuple(v) for k, v in by_field.items()},
        )

    def _scan(self, field_name: str, text: str, hits: dict[AtomKey, list[Hit]]) -> list[Hit]:
        if not text or not self.has_patterns:
            return []
        folded = fold(text)
        lowered = lower_same_length(folded)
        starts = _word_starts(lowered)
        found = []
        for end, (length, patterns) in self.automaton.iter(lowered):
            start = end - length + 1
            if start > 0 and _is_word_char(lowered[start - 1]):
                continue
            whole = end + 1 >= len(lowered) or not _is_word_char(lowered[end + 1])
            for p in patterns:
                if not (whole or p.alias.wildcard):
                    continue
                if p.alias.case_sensitive and folded[start : end + 1] != p.form:
                    continue
                if p.term is not None and _excluded(p.term, lowered, start, end + 1):
                    continue
                stop = end + 1
                while p.alias.wildcard and stop < len(lowered) and _is_word_char(lowered[stop]):
                    stop += 1
                hit = Hit(field_name, start, stop, bisect_right(starts, start) - 1)
                hits[p.atom].append(hit)
                found.append(hit)
        return found


def _is_word_char(char: str) -> bool:
    return char.isalnum()


def _word_starts(text: str) -> list[int]:
    return [i for i, c in enumerate(text) if c.isalnum() and (i == 0 or not text[i - 1].isalnum())]


def _excluded(term: Term, lowered: str, start: int, end: int) -> bool:
    after = lowered[end:].lstrip(" .,")
    for word in term.not_followed_by:
        if after.startswith(word) and not after[len(word) : len(word) + 1].isalnum():
            return True
    before = lowered[:start].rstrip(" ")
    for word in term.not_preceded_by:
        if before.endswith(word) and not before[: len(before) - len(word)][-1:].isalnum():
            return True
    return False


def _words_key(words: Words) -> AtomKey:
    return ("words", words.text, "*" if words.wildcard else "")


def _words(node: Node) -> list[Words]:
    if isinstance(node, Words):
        return [node]
    if isinstance(node, ListRef):
        return []
    if isinstance(node, Not):
        return _words(node.child)
    if isinstance(node, Near):
        return _words(node.left) + _words(node.right)
    return [w for child in node.children for w in _words(child)]


def _triggers(node: Node) -> set[AtomKey] | None:
    """Atoms one of which must be found for `node` to hold; None when none is needed (NOT)."""
    if isinstance(node, Words):
        return {_words_key(node)}
    if isinstance(node, ListRef):
        return {("list", node.list)} if node.entry is None else {("entry", node.list, node.entry)}
    if isinstance(node, Not):
        return None
    if isinstance(node, Near):
        return _triggers(node.left)
    sets = [_triggers(child) for child in node.children]
    if isinstance(node, Or):
        if any(s is None for s in sets):
            return None
        return set().union(*(s for s in sets if s is not None))
    known = [s for s in sets if s is not None]
    return min(known, key=len) if known else None


def _atom_hits(node: Words | ListRef, hits: dict[AtomKey, list[Hit]]) -> list[Hit]:
    if isinstance(node, Words):
        found = hits.get(_words_key(node), [])
    elif node.entry is not None:
        found = hits.get(("entry", node.list, node.entry), [])
    else:
        found = [
            h
            for atom, hs in hits.items()
            if atom[0] == "entry" and atom[1] == node.list
            for h in hs
        ]
    return [h for h in found if h.field in node.fields]


def _describe(node: Words | ListRef) -> str:
    scope = "" if node.fields == ("title", "summary") else f"{node.fields[0]}:"
    if isinstance(node, Words):
        text = f'"{node.text}"' if " " in node.text else node.text
        return scope + text + ("*" if node.wildcard else "")
    return scope + f"@{node.list}" + (f':"{node.entry}"' if node.entry else "")


def render(node: Node) -> str:
    """A condition tree written back in the query language."""
    if isinstance(node, Words | ListRef):
        return _describe(node)
    if isinstance(node, Not):
        return f"NOT {render(node.child)}"
    if isinstance(node, Near):
        return f"{render(node.left)} NEAR/{node.distance} {render(node.right)}"
    joiner = " OR " if isinstance(node, Or) else " AND "
    return "(" + joiner.join(render(c) for c in node.children) + ")"


def _evaluate(node: Node, hits: dict[AtomKey, list[Hit]]) -> tuple[str, list[Hit]] | None:
    """None when `node` does not hold; else the clause that held and the hits behind it."""
    if isinstance(node, Words | ListRef):
        found = _atom_hits(node, hits)
        return (_describe(node), found) if found else None
    if isinstance(node, Not):
        return ("NOT ...", []) if _evaluate(node.child, hits) is None else None
    if isinstance(node, Or):
        for child in node.children:
            result = _evaluate(child, hits)
            if result is not None:
                return result
        return None
    if isinstance(node, And):
        clauses, evidence = [], []
        for child in node.children:
            result = _evaluate(child, hits)
            if result is None:
                return None
            if result[0] != "NOT ...":
                clauses.append(result[0])
            evidence += result[1]
        return " AND ".join(clauses) or "NOT ...", evidence
    return _evaluate_near(node, hits)


def _positions(node: Node, hits: dict[AtomKey, list[Hit]]) -> list[Hit]:
    if isinstance(node, Words | ListRef):
        return _atom_hits(node, hits)
    if isinstance(node, Or):
        return [h for child in node.children for h in _positions(child, hits)]
    if isinstance(node, Near):
        result = _evaluate_near(node, hits)
        return result[1] if result else []
    return []


def _evaluate_near(node: Near, hits: dict[AtomKey, list[Hit]]) -> tuple[str, list[Hit]] | None:
    left, right = _positions(node.left, hits), _positions(node.right, hits)
    for a in left:
        for b in right:
            if a.field == b.field and a is not b and abs(a.word - b.word) <= node.distance:
                return f"{render(node.left)} NEAR/{node.distance} {render(node.right)}", [a, b]
    return None
