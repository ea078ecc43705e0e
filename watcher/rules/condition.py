"""What a rule's condition needs, and the condition compiled into a function.

In: a condition tree from `watcher.rules.query`.
Out: the atoms (words, list entries, whole lists) it names, the atoms one of which must be
found for it to hold (so the matcher wakes only the rules a story's hits can satisfy), and
an `Evaluator`: hits by atom -> None, or the clause that held and the hits behind it.
Compiling once into nested closures spares every story the walk over the tree.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable
from typing import NamedTuple

from watcher.rules.query import DEFAULT_FIELDS, And, ListRef, Near, Node, Not, Or, Words, leaves
from watcher.scripts import HAN, KANA

# ("words", text, "*"|"", fields), ("entry", list, name, fields) or ("list", list, fields)
AtomKey = tuple[object, ...]
NOT_CLAUSE = "NOT ..."
# what NEAR counts as a word: a run of letters between blanks; in Chinese and Japanese,
# written without them, every two characters (a word of either is two, most often)
_HAN_KANA = HAN + KANA
_WORD_RUN = re.compile(f"[{_HAN_KANA}]{{1,2}}|[^\\s{_HAN_KANA}]+")


class Hit(NamedTuple):
    """Where an atom was found: a field and a span of its text."""

    field: str
    start: int
    end: int


Hits = dict[int, list[Hit]]  # atom number -> where it was found
Result = tuple[str, list[Hit]] | None


class Found:
    """What the scan of one story found: hits by atom, and what NEAR needs to number words.

    `texts` holds each field as the matcher scans it: every character that is not a letter
    or digit a space, and one space of padding in front, so a hit at `start` stands after
    the words of texts[field][: start + 1]."""

    def __init__(self) -> None:
        self.hits: Hits = defaultdict(list)
        self.texts: dict[str, str] = {}
        self._starts: dict[str, list[int]] = {}  # where each word of a field's text starts

    def word(self, hit: Hit) -> int:
        """The number of the word a hit starts at: how many words of its field's text begin
        before it (the text's word starts are found when NEAR first asks)."""
        starts = self._starts.get(hit.field)
        if starts is None:
            text = self.texts.get(hit.field, "")
            starts = self._starts[hit.field] = [m.start() for m in _WORD_RUN.finditer(text)]
        return bisect_right(starts, hit.start)


Evaluator = Callable[[Found], Result]


def atom_key(node: Words | ListRef) -> AtomKey:
    """What a word or list reference finds, and in which fields: its scope is part of it."""
    return (*base_key(node), node.fields)


def base_key(node: Words | ListRef) -> AtomKey:
    if isinstance(node, Words):
        return ("words", node.text, "*" if node.wildcard else "")
    return ("list", node.list) if node.entry is None else ("entry", node.list, node.entry)


def words_of(node: Node) -> list[Words]:
    """Every word, phrase and wildcard the condition names."""
    return [leaf for leaf in leaves(node) if isinstance(leaf, Words)]


def triggers(node: Node) -> set[AtomKey] | None:
    """Atoms one of which must be found for `node` to hold, the rarest such set by a rough
    rank; None when none is needed (NOT)."""
    if isinstance(node, Words | ListRef):
        return {atom_key(node)}
    if isinstance(node, Not):
        return None
    if isinstance(node, Near):
        return triggers(node.left)
    sets = [triggers(child) for child in node.children]
    if isinstance(node, Or):
        if any(s is None for s in sets):
            return None
        return set().union(*(s for s in sets if s is not None))
    known = [s for s in sets if s is not None]
    return min(known, key=_expected_hits) if known else None


def _expected_hits(atoms: set[AtomKey]) -> int:
    """A rough rank of how often atoms are found: a whole list far more often than a word."""
    return sum(50 if atom[0] == "list" else 1 for atom in atoms)


def needs(node: Node) -> list[frozenset[AtomKey]]:
    """Groups of atoms, one of each of which must be found for `node` to hold."""
    if isinstance(node, Words | ListRef):
        return [frozenset((atom_key(node),))]
    if isinstance(node, Not):
        return []
    if isinstance(node, Near):
        return needs(node.left) + needs(node.right)
    if isinstance(node, And):
        return [group for child in node.children for group in needs(child)]
    alternatives = [needs(child) for child in node.children]
    if any(not groups for groups in alternatives):
        return []  # a branch that needs nothing (NOT ...) can hold on its own
    # (a AND b) OR c needs a-or-c and b-or-c: one group per pick of a group from each branch
    product: list[frozenset[AtomKey]] = [frozenset()]
    for groups in alternatives:
        product = list(dict.fromkeys(mine | theirs for mine in product for theirs in groups))
        if len(product) > _MOST_GROUPS:  # too many to check: one atom of any branch
            return [frozenset().union(*(group for groups in alternatives for group in groups))]
    return product


_MOST_GROUPS = 16


def describe(node: Words | ListRef) -> str:
    scope = "" if node.fields == DEFAULT_FIELDS else f"{node.fields[0]}:"
    if isinstance(node, Words):
        shown = node.written or node.text
        text = f'"{shown}"' if " " in shown else shown
        return scope + text + ("*" if node.wildcard else "")
    return scope + f"@{node.list}" + (f':"{node.entry}"' if node.entry else "")


def render(node: Node) -> str:
    """A condition tree written back in the query language."""
    if isinstance(node, Words | ListRef):
        return describe(node)
    if isinstance(node, Not):
        return f"NOT {render(node.child)}"
    if isinstance(node, Near):
        return f"{render(node.left)} NEAR/{node.distance} {render(node.right)}"
    joiner = " OR " if isinstance(node, Or) else " AND "
    return "(" + joiner.join(render(c) for c in node.children) + ")"


Numbering = Callable[[AtomKey], int]


def compile_condition(node: Node, number: Numbering) -> Evaluator:
    """The condition as a function of a story's hits, keyed by `number(atom)`."""
    if isinstance(node, Words | ListRef):
        return _compile_atom(node, number)
    if isinstance(node, Not):
        return _compile_not(compile_condition(node.child, number))
    if isinstance(node, Or):
        return _compile_or(tuple(compile_condition(c, number) for c in node.children))
    if isinstance(node, And):
        return _compile_and(tuple(compile_condition(c, number) for c in node.children))
    return _compile_near(node, number)


def _compile_atom(node: Words | ListRef, number: Numbering) -> Evaluator:
    key, clause = number(atom_key(node)), describe(node)

    def atom(found: Found) -> Result:
        hits = found.hits.get(key)  # only hits in the node's fields: the key holds them
        return (clause, hits) if hits else None

    return atom


def _compile_not(child: Evaluator) -> Evaluator:
    def negation(found: Found) -> Result:
        return (NOT_CLAUSE, []) if child(found) is None else None

    return negation


def _compile_or(children: tuple[Evaluator, ...]) -> Evaluator:
    def either(found: Found) -> Result:
        for child in children:
            result = child(found)
            if result is not None:
                return result
        return None

    return either


def _compile_and(children: tuple[Evaluator, ...]) -> Evaluator:
    def every(found: Found) -> Result:
        clauses: list[str] = []
        evidence: list[Hit] = []
        for child in children:
            result = child(found)
            if result is None:
                return None
            if result[0] != NOT_CLAUSE:
                clauses.append(result[0])
            evidence += result[1]
        return " AND ".join(clauses) or NOT_CLAUSE, evidence

    return every


def _compile_near(node: Near, number: Numbering) -> Evaluator:
    left = _compile_positions(node.left, number)
    right = _compile_positions(node.right, number)
    clause, distance = render(node), node.distance

    def near(found: Found) -> Result:
        rights = right(found)
        by_field = _by_word(found, rights) if rights else {}
        for a in left(found) if by_field else ():
            if a.field not in by_field:
                continue
            numbers, placed = by_field[a.field]
            at = found.word(a)
            within = placed[
                bisect_left(numbers, at - distance) : bisect_right(numbers, at + distance)
            ]
            # the first of `rights` within reach, as a scan of them in order finds it
            reachable = [(n, b) for _, n, b in within if b.start != a.start]  # not a's own word
            if reachable:
                return clause, [a, min(reachable)[1]]
        return None

    return near


def _by_word(
    found: Found, hits: list[Hit]
) -> dict[str, tuple[list[int], list[tuple[int, int, Hit]]]]:
    """Per field, the hits sorted by the number of their word, with those numbers apart (to
    bisect) and each hit's place in `hits`: NEAR finds the hits within reach of another in
    O(log n), where comparing every pair took 0.3 s over a story of 20,000 characters."""
    placed: dict[str, list[tuple[int, int, Hit]]] = defaultdict(list)
    for order, hit in enumerate(hits):
        placed[hit.field].append((found.word(hit), order, hit))
    sorted_ = {field: sorted(entries) for field, entries in placed.items()}
    return {field: ([w for w, _, _ in entries], entries) for field, entries in sorted_.items()}


def _compile_positions(node: Node, number: Numbering) -> Callable[[Found], list[Hit]]:
    """The hits a NEAR operand stands at: its words, any of its alternatives', or none."""
    if isinstance(node, Words | ListRef | Near):
        evaluate = compile_condition(node, number)
        return lambda found: (evaluate(found) or ("", []))[1]
    if isinstance(node, Or):
        children = tuple(_compile_positions(c, number) for c in node.children)
        return lambda found: [h for child in children for h in child(found)]
    return lambda found: []
