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

import re
import unicodedata
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
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


_FOLD: dict[int, str] = {}  # every character met so far -> its folded form


def fold(text: str) -> str:
    """The text with quotes, dashes, spaces and diacritics folded, same length as the input."""
    if text.isascii():
        return text.translate(_TRANSLATE)
    for char in set(text):
        if ord(char) not in _FOLD:
            _FOLD[ord(char)] = _fold_char(char)
    return text.translate(_FOLD)


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


class _WordIndex:
    """Word numbers of character positions, worked out per field only when NEAR asks."""

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}
        self.starts: dict[str, list[int]] = {}

    def word(self, hit: Hit) -> int:
        starts = self.starts.get(hit.field)
        if starts is None:
            starts = self.starts[hit.field] = _word_starts(self.texts.get(hit.field, ""))
        return bisect_right(starts, hit.start) - 1


@dataclass(frozen=True, slots=True)
class _Pattern:
    atom: AtomKey
    alias: Alias
    term: Term | None
    form: str  # folded, punctuation as spaces: what a case-sensitive alias must equal


@dataclass(frozen=True)
class RuleMatch:
    rule: str
    clause: str  # the part of the condition that held, with the words found
    hits: tuple[Hit, ...]


@dataclass(frozen=True)
class StoryMatch:
    rules: tuple[RuleMatch, ...]
    terms: dict[str, tuple[str, ...]]  # list name -> canonical names found in title + summary


class Matcher:
    """All rules and term lists of a rule set, compiled into one automaton."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self.automaton = ahocorasick.Automaton()
        patterns: dict[str, list[_Pattern]] = defaultdict(list)
        for list_name, terms in ruleset.lists.items():
            for term in terms:
                for alias in term.aliases:
                    for form in alias.forms():
                        atom: AtomKey = ("entry", list_name, term.name)
                        _add(patterns, _Pattern(atom, alias, term, _spaced(fold(form)).strip()))
        self.always: list[Rule] = []
        self.by_atom: dict[AtomKey, list[Rule]] = defaultdict(list)
        self.needs: dict[str, list[frozenset[AtomKey]]] = {}
        self.word_atoms: dict[str, frozenset[AtomKey]] = {}
        for rule in ruleset.rules:
            for words in _words(rule.condition):
                alias = Alias(text=words.text, case_sensitive=False, wildcard=words.wildcard)
                _add(
                    patterns,
                    _Pattern(_words_key(words), alias, None, _spaced(fold(words.text)).strip()),
                )
            self.needs[rule.name] = _needs(rule.condition)
            self.word_atoms[rule.name] = frozenset(_words_key(w) for w in _words(rule.condition))
            triggers = _triggers(rule.condition)
            if triggers is None:
                self.always.append(rule)
            for atom in triggers or ():
                self.by_atom[atom].append(rule)
        for key, items in patterns.items():
            unique = list({(p.atom, p.alias, p.form): p for p in items}.values())
            word_keys = tuple(dict.fromkeys(p.atom for p in unique if p.term is None))
            entries = tuple(p for p in unique if p.term is not None)
            self.automaton.add_word(key, (len(key), not key.endswith(" "), word_keys, entries))
        if patterns:
            self.automaton.make_automaton()
        self.has_patterns = bool(patterns)

    def match(self, title: str, summary: str, source: str = "") -> StoryMatch:
        """Scan once; wake the rules a hit can satisfy; build hit lists only for their words."""
        hits: dict[AtomKey, list[Hit]] = defaultdict(list)
        raw: list[_RawHit] = []
        words = _WordIndex()
        for field_name, text in (("title", title), ("summary", summary), ("source", source)):
            self._scan(field_name, text, hits, raw, words)
        present = set(hits)
        for _, _, _, atoms in raw:
            present.update(atoms)
        woken = {id(r): r for r in self.always}
        for atom in present:
            for rule in self.by_atom.get(atom, ()):
                woken[id(rule)] = rule
        rules = [
            r for r in sorted(woken.values(), key=lambda r: r.order)
            if not any(present.isdisjoint(group) for group in self.needs[r.name])
        ]  # fmt: skip
        needed = set().union(*(self.word_atoms[r.name] for r in rules)) if rules else set()
        for field_name, start, stop, atoms in raw:
            for atom in atoms:
                if atom in needed:
                    hits[atom].append(Hit(field_name, start, stop))
        matched = []
        for rule in rules:
            result = _evaluate(rule.condition, hits, words)
            if result is not None:
                clause, evidence = result
                matched.append(RuleMatch(rule=rule.name, clause=clause, hits=tuple(evidence)))
        terms: dict[str, set[str]] = {name: set() for name in self.ruleset.lists}
        for atom, atom_hits in hits.items():
            if atom[0] == "entry" and any(h.field != "source" for h in atom_hits):
                terms[atom[1]].add(atom[2])
        return StoryMatch(
            rules=tuple(matched), terms={k: tuple(sorted(v)) for k, v in terms.items()}
        )

    def _scan(
        self,
        field_name: str,
        text: str,
        hits: dict[AtomKey, list[Hit]],
        raw: list[_RawHit],
        words: _WordIndex,
    ) -> None:
        """Find every pattern in one field. The automaton runs over a copy of the text with
        each non-word character turned into a space and a space added at both ends, and its
        keys are " form " (" form" for a trailing wildcard), so it only finds whole words.
        Term-list entries are checked (case, exclusions) at once; query words are kept raw."""
        if not text or not self.has_patterns:
            return
        folded = fold(text)
        lowered = lower_same_length(folded)
        spaced = " " + _spaced(lowered) + " "
        cased: str | None = None
        words.texts[field_name] = lowered
        for end, (length, wildcard, word_atoms, entries) in self.automaton.iter(spaced):
            start = end - length + 1  # in `text`: the key's leading space is the padding
            stop = end if wildcard else end - 1
            while wildcard and stop < len(lowered) and lowered[stop].isalnum():
                stop += 1
            if word_atoms:
                raw.append((field_name, start, stop, word_atoms))
            for p in entries:
                if p.alias.case_sensitive:
                    cased = cased if cased is not None else _spaced(folded)
                    if cased[start:stop] != p.form:
                        continue
                if p.term is not None and _excluded(p.term, lowered, start, stop):
                    continue
                hit = Hit(field_name, start, stop)
                hits[p.atom].append(hit)
                hits[("list", p.atom[1])].append(hit)  # an entry also counts for its list


_RawHit = tuple[str, int, int, tuple[AtomKey, ...]]


_NON_WORD = re.compile(r"[\W_]")


_ASCII_SPACED = str.maketrans({chr(i): " " for i in range(128) if not chr(i).isalnum()})


def _spaced(text: str) -> str:
    """Every character that is not a letter or digit becomes a space: same length."""
    return text.translate(_ASCII_SPACED) if text.isascii() else _NON_WORD.sub(" ", text)


def _add(patterns: dict[str, list[_Pattern]], pattern: _Pattern) -> None:
    if pattern.form:
        key = " " + pattern.form.lower() + ("" if pattern.alias.wildcard else " ")
        patterns[key].append(pattern)


_WORD = re.compile(r"[^\W_]+")


def _word_starts(text: str) -> list[int]:
    return [m.start() for m in _WORD.finditer(text)]


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
    return min(known, key=_expected_hits) if known else None


def _needs(node: Node) -> list[frozenset[AtomKey]]:
    """Groups of atoms, one of each of which must be found for `node` to hold."""
    if isinstance(node, Words | ListRef):
        return [frozenset(_triggers(node) or ())]
    if isinstance(node, Not):
        return []
    if isinstance(node, Near):
        return _needs(node.left) + _needs(node.right)
    if isinstance(node, And):
        return [group for child in node.children for group in _needs(child)]
    alternatives = [_needs(child) for child in node.children]
    if any(not groups for groups in alternatives):
        return []  # a branch that needs nothing (NOT ...) can hold on its own
    return [frozenset().union(*(group for groups in alternatives for group in groups))]


def _expected_hits(atoms: set[AtomKey]) -> int:
    """A rough rank of how often atoms are found: a whole list far more often than a word."""
    return sum(50 if atom[0] == "list" else 1 for atom in atoms)


def _atom_hits(node: Words | ListRef, hits: dict[AtomKey, list[Hit]]) -> list[Hit]:
    if isinstance(node, Words):
        found = hits.get(_words_key(node), [])
    elif node.entry is not None:
        found = hits.get(("entry", node.list, node.entry), [])
    else:
        found = hits.get(("list", node.list), [])
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


def _evaluate(
    node: Node, hits: dict[AtomKey, list[Hit]], words: _WordIndex
) -> tuple[str, list[Hit]] | None:
    """None when `node` does not hold; else the clause that held and the hits behind it."""
    if isinstance(node, Words | ListRef):
        found = _atom_hits(node, hits)
        return (_describe(node), found) if found else None
    if isinstance(node, Not):
        return ("NOT ...", []) if _evaluate(node.child, hits, words) is None else None
    if isinstance(node, Or):
        for child in node.children:
            result = _evaluate(child, hits, words)
            if result is not None:
                return result
        return None
    if isinstance(node, And):
        clauses, evidence = [], []
        for child in node.children:
            result = _evaluate(child, hits, words)
            if result is None:
                return None
            if result[0] != "NOT ...":
                clauses.append(result[0])
            evidence += result[1]
        return " AND ".join(clauses) or "NOT ...", evidence
    return _evaluate_near(node, hits, words)


def _positions(node: Node, hits: dict[AtomKey, list[Hit]], words: _WordIndex) -> list[Hit]:
    if isinstance(node, Words | ListRef):
        return _atom_hits(node, hits)
    if isinstance(node, Or):
        return [h for child in node.children for h in _positions(child, hits, words)]
    if isinstance(node, Near):
        result = _evaluate_near(node, hits, words)
        return result[1] if result else []
    return []


def _evaluate_near(
    node: Near, hits: dict[AtomKey, list[Hit]], words: _WordIndex
) -> tuple[str, list[Hit]] | None:
    left, right = _positions(node.left, hits, words), _positions(node.right, hits, words)
    for a in left:
        for b in right:
            if (
                a.field == b.field
                and a is not b
                and abs(words.word(a) - words.word(b)) <= node.distance
            ):
                return f"{render(node.left)} NEAR/{node.distance} {render(node.right)}", [a, b]
    return None
