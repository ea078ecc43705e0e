"""What the matcher compiles a rule set into: numbered atoms, the patterns of one
Aho-Corasick automaton, and which rules each atom wakes.

In: the patterns of term-list aliases and query words, and the compiled rules. Out: an
automaton whose values say, per key, where its text starts and ends, the term-list
entries to check and the query words' atoms per field; and each atom's `Wake`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import NamedTuple

import ahocorasick

from watcher.rules.condition import AtomKey, Evaluator
from watcher.rules.folding import is_unspaced
from watcher.rules.model import Alias, Rule, Term
from watcher.rules.query import DEFAULT_FIELDS, FIELDS


@dataclass(frozen=True, slots=True)
class Pattern:
    """One form of a term-list alias or a query word, as the automaton looks for it."""

    base: AtomKey  # ("entry", list, name) or ("words", text, "*"|""), without a scope
    alias: Alias
    term: Term | None
    form: str  # folded, punctuation as spaces: what a case-sensitive alias must equal
    # what the text found, in lower case without blanks and hyphens, must be, for another
    # spacing of an alias's punctuation (`folding.spacings`) and for an alias written with
    # punctuation other than a hyphen (`mitsui&co` of `Mitsui & Co.`: `Mitsui &Co` is
    # found, `Mitsui, co-founder` not); '' for no check
    joined: str = ""


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule as the matcher runs it: what it still needs once woken, and its condition."""

    rule: Rule
    rest: tuple[frozenset[int], ...]  # atom groups to check once woken: one atom of each
    words: frozenset[int]  # the atoms of the words, phrases and wildcards it names
    evaluate: Evaluator


class Wake(NamedTuple):
    """The rules an atom wakes, by what must still be checked: nothing (free), that each
    of some atoms is present (every), that one of some atoms is (one), or more (other)."""

    free: tuple[int, ...]
    every: tuple[tuple[int, frozenset[int]], ...]  # (rule number, its atoms)
    one: tuple[tuple[int, frozenset[int]], ...]
    other: tuple[int, ...]


def wakes(rules: list[CompiledRule], woken_by: dict[int, list[int]]) -> dict[int, Wake]:
    kinds: list[tuple[int, object]] = []  # per rule: (0-3 for free, every, one, other, data)
    for number, compiled in enumerate(rules):
        rest = compiled.rest
        if not rest:
            kinds.append((0, number))
        elif all(len(group) == 1 for group in rest):
            kinds.append((1, (number, frozenset().union(*rest))))
        elif len(rest) == 1:
            kinds.append((2, (number, rest[0])))
        else:
            kinds.append((3, number))
    wakes = {}
    for atom, numbers in woken_by.items():
        lists: tuple[list[object], ...] = ([], [], [], [])
        for number in numbers:
            kind, data = kinds[number]
            lists[kind].append(data)
        wakes[atom] = Wake(*map(tuple, lists))  # type: ignore[arg-type]
    return wakes


class Atoms:
    """Atom keys numbered: sets and dicts of small ints hash far faster than of tuples."""

    def __init__(self) -> None:
        self.ids: dict[AtomKey, int] = {}
        self.keys: list[AtomKey] = []

    def id(self, key: AtomKey) -> int:
        number = self.ids.get(key)
        if number is None:
            number = self.ids[key] = len(self.keys)
            self.keys.append(key)
        return number

    def ids_of(self, keys: set[AtomKey] | frozenset[AtomKey]) -> frozenset[int]:
        return frozenset(map(self.id, keys))


ByField = tuple[tuple[int, ...], ...]  # atoms whose scope holds title, summary, source


# How a key's text ends: at a word's end (a space follows), at the next space (a trailing
# wildcard), or where the key ends (a word of a script written without spaces).
AT_WORD_END, AT_NEXT_SPACE, AT_KEY_END = 0, 1, 2


class Value(NamedTuple):
    """What the automaton holds for a key: see build_automaton."""

    reach: int  # from the end of a found key back to where its text starts, plus one
    ends: int  # AT_WORD_END, AT_NEXT_SPACE or AT_KEY_END
    entries: tuple[tuple[Pattern, ByField, bool], ...]
    title: tuple[int, ...]  # the query words' atoms scoped to each field
    summary: tuple[int, ...]
    source: tuple[int, ...]
    body: tuple[int, ...]
    # the query words' atoms whose hits are checked (`Pattern.joined`): (joined, wildcard)
    checks: Mapping[int, tuple[str, bool]]


_NO_CHECKS: Mapping[int, tuple[str, bool]] = MappingProxyType({})  # most keys': one for all


def build_automaton(patterns: dict[str, list[Pattern]], atoms: Atoms) -> ahocorasick.Automaton:
    """One key per distinct pattern text; its value says where the key's text starts and
    ends, and, for each field, which query words' atoms it stands for; and which
    term-list entries to check, each with its atoms (the entry's and its list's) by field."""
    automaton = ahocorasick.Automaton()
    for key, items in patterns.items():
        unique = list({(p.base, p.alias, p.form): p for p in items}.values())
        words = list(dict.fromkeys(p.base for p in unique if p.term is None))
        entries = tuple(
            (p, _by_field(atoms, [p.base, ("list", p.base[1])]), _checked(p))
            for p in unique
            if p.term
        )
        reach = len(key) + (not key.startswith(" "))  # the padding space, or none
        ends = AT_WORD_END if key.endswith(" ") else AT_NEXT_SPACE
        ends = AT_KEY_END if is_unspaced(key[-1]) else ends
        checks = {
            atom: (p.joined, p.alias.wildcard)
            for p in unique
            if p.term is None and p.joined
            for atom in _scoped(atoms, p.base)
        } or _NO_CHECKS
        title, summary, source, body = _by_field(atoms, words)
        automaton.add_word(key, Value(reach, ends, entries, title, summary, source, body, checks))
    if patterns:
        automaton.make_automaton()
    return automaton


def _checked(pattern: Pattern) -> bool:
    """Whether a hit of the pattern needs checking: its case, its punctuation, or the words
    around it."""
    term = pattern.term
    excludes = term is not None and bool(term.not_followed_by or term.not_preceded_by)
    return pattern.alias.case_sensitive or excludes or bool(pattern.joined)


def _by_field(atoms: Atoms, bases: list[AtomKey]) -> ByField:
    """For each field, the atoms of `bases` in every scope holding that field that some rule
    (or, for entries, the terms found) uses."""
    return tuple(
        tuple(
            atoms.ids[scoped]
            for base in bases
            for scope in _SCOPES
            if field in scope and (scoped := (*base, scope)) in atoms.ids
        )
        for field in FIELDS
    )


def _scoped(atoms: Atoms, base: AtomKey) -> list[int]:
    """The atoms of `base` in every scope some rule uses."""
    return [atoms.ids[scoped] for scope in _SCOPES if (scoped := (*base, scope)) in atoms.ids]


_SCOPES = (DEFAULT_FIELDS, *((field,) for field in FIELDS))


def add_pattern(patterns: dict[str, list[Pattern]], pattern: Pattern) -> None:
    """Keys are " form " (" form" for a trailing wildcard): whole words of the spaced text.
    A form's end in a script written without spaces between words (Chinese, Japanese,
    Korean with its particles, Thai...) needs no space there: it is found inside a run."""
    if form := pattern.form.lower():
        lead = "" if is_unspaced(form[0]) else " "
        trail = "" if pattern.alias.wildcard or is_unspaced(form[-1]) else " "
        patterns[lead + form + trail].append(pattern)
