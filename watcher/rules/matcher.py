"""Match stories against every rule and term list with one Aho-Corasick automaton.

In: a `RuleSet` (compiled once) and a story's title, summary, source and body (its full text).
Out: a `StoryMatch`: the rules that matched (with the clause and the words that made each
match) and every term-list entry found in title, summary and body.

Text is folded before matching (see `folding`), one character for one, so positions stay
those of the original text. Matching is on whole words, case-insensitive unless a term says
otherwise; a possessive ("Alcoa's") still matches, and a term may ask for its
plural. Only rules that one of the story's hits can satisfy are evaluated, so the cost per
story hardly grows with the number of rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from itertools import chain, compress
from operator import attrgetter, itemgetter, not_
from typing import NamedTuple

from watcher.models import Story
from watcher.normalise import composed
from watcher.rules.aliases import (
    abbreviated,
    add_alias,
    excluded,
    same_joined,
    written_forms,
)
from watcher.rules.automaton import (
    AT_NEXT_SPACE,
    AT_WORD_END,
    Atoms,
    CompiledRule,
    Pattern,
    Value,
    Wake,
    build_automaton,
    wakes,
)
from watcher.rules.condition import (
    AtomKey,
    Found,
    Hit,
    atom_key,
    base_key,
    compile_condition,
    needs,
    triggers,
    words_of,
)
from watcher.rules.folding import fold, lower_same_length, space_out, space_unspaced
from watcher.rules.model import Alias, Rule, RuleSet
from watcher.rules.query import DEFAULT_FIELDS, FIELDS


class RuleMatch(NamedTuple):
    rule: str
    clause: str  # the part of the condition that held, with the words found
    hits: tuple[Hit, ...]


class StoryMatch(NamedTuple):
    rules: tuple[RuleMatch, ...]
    terms: dict[str, tuple[str, ...]]  # list name -> canonical names in title, summary, body


class Matcher:
    """All rules and term lists of a rule set, compiled into one automaton."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self.scoped = {r.name: r for r in ruleset.rules if r.feeds}  # rules with `feeds:`
        self.atoms = Atoms()
        self.entries: dict[int, tuple[str, str]] = {}  # atom -> (list, canonical name)
        patterns: dict[str, list[Pattern]] = defaultdict(list)
        for list_name, terms in ruleset.lists.items():
            for term in terms:
                entry = ("entry", list_name, term.name)
                # hits of an entry in title, summary or body: the terms found
                self.entries[self.atoms.id((*entry, DEFAULT_FIELDS))] = (list_name, term.name)
                for alias in term.aliases:
                    for written, form in written_forms(alias):
                        add_alias(patterns, entry, written, term, fold(composed(form)))
        self.rules: list[CompiledRule] = []
        self.always: list[int] = []  # rules that can hold with no hit at all (NOT ...)
        by_atom: dict[int, list[int]] = defaultdict(list)
        for number, rule in enumerate(ruleset.rules):
            woken_by = triggers(rule.condition)
            self.rules.append(self._compile(rule, woken_by, patterns))
            if woken_by is None:
                self.always.append(number)
            for atom in self.atoms.ids_of(woken_by or set()):
                by_atom[atom].append(number)
        self.wakes = wakes(self.rules, by_atom)
        # keys of other scripts apart, run only over text that is not ASCII once folded:
        # in one automaton, Chinese and Japanese keys (found inside runs, so at its root)
        # slowed the scan of English text by a third
        ascii_keys = {key: found for key, found in patterns.items() if key.isascii()}
        other_keys = {key: found for key, found in patterns.items() if not key.isascii()}
        self.automaton = build_automaton(ascii_keys, self.atoms) if ascii_keys else None
        self.other_scripts = build_automaton(other_keys, self.atoms) if other_keys else None
        self.has_patterns = bool(patterns)

    def _compile(
        self, rule: Rule, woken_by: set[AtomKey] | None, patterns: dict[str, list[Pattern]]
    ) -> CompiledRule:
        """The rule's words as patterns, and its condition as a function of hits."""
        named = words_of(rule.condition)
        for words in named:
            alias = Alias(text=words.text, case_sensitive=False, wildcard=words.wildcard)
            self.atoms.id(atom_key(words))
            # an abbreviation the rule wrote in capitals (`EU`) is found with dots too
            forms = [(alias, words.text), *abbreviated(alias, words.written)]
            for written, form in forms:
                add_alias(patterns, base_key(words), written, None, fold(composed(form)))
        # once woken, one of `woken_by` is present: a group holding all of them is met
        rest = [g for g in needs(rule.condition) if not woken_by or woken_by - g]
        return CompiledRule(
            rule=rule,
            rest=tuple(map(self.atoms.ids_of, rest)),
            words=frozenset(self.atoms.id(atom_key(w)) for w in named),
            evaluate=compile_condition(rule.condition, self.atoms.id),
        )

    def match_story(self, story: Story, tags: Iterable[str] = ()) -> StoryMatch:
        """The rules the story matches, but for those whose `feeds:` take no story of its
        feed (named `story.feed`, tagged `tags` in the config)."""
        found = self.match(story.title, story.summary, story.source, story.body)
        return self.in_feed(found, story.feed, tags)

    def in_feed(self, found: StoryMatch, feed: str, tags: Iterable[str] = ()) -> StoryMatch:
        """`found` without the rules whose `feeds:` take no story of the feed `feed`,
        tagged `tags`."""
        if not self.scoped or not found.rules:
            return found
        tags, scoped = tuple(tags), self.scoped
        taken = [m for m in found.rules if m.rule not in scoped or scoped[m.rule].takes(feed, tags)]
        return found._replace(rules=tuple(taken))

    def match(self, title: str, summary: str, source: str = "", body: str = "") -> StoryMatch:
        """Scan once; wake the rules a hit can satisfy; build hit lists only for their words.

        Query words are found far more often than any rule needs them, so their hits stay
        raw automaton output, filtered by C-level map/compress, until the rules woken by
        the story say which words they need."""
        found = Found()
        hits = found.hits
        scanned = [
            self._scan(index, text, found)
            for index, text in enumerate((title, summary, source, body))
            if text and self.has_patterns
        ]
        present = set(hits)
        for field in scanned:
            present.update(*field.word_atoms)
        candidates = [self.rules[n] for n in self._candidates(present)]
        needed = frozenset().union(*map(_WORDS, candidates))
        if needed:
            for field in scanned:
                wanted = map(not_, map(needed.isdisjoint, field.word_atoms))
                for (end, value), atoms in compress(
                    zip(field.found, field.word_atoms, strict=True), wanted
                ):
                    start, stop = _span(field.spaced, end, value.reach, value.ends)
                    hit = Hit(field.name, start, stop)
                    checks = value.checks
                    for atom in needed.intersection(atoms):
                        check = checks.get(atom) if checks else None
                        if check and not same_joined(*check, field.lowered[start:stop]):
                            continue
                        hits[atom].append(hit)
        matched = []
        for compiled in candidates:
            result = compiled.evaluate(found)
            if result is not None:
                clause, evidence = result
                matched.append(
                    RuleMatch(rule=compiled.rule.name, clause=clause, hits=tuple(evidence))
                )
        terms: dict[str, set[str]] = {name: set() for name in self.ruleset.lists}
        for list_name, name in filter(None, map(self.entries.get, hits)):
            terms[list_name].add(name)
        return StoryMatch(
            rules=tuple(matched), terms={k: tuple(sorted(v)) for k, v in terms.items()}
        )

    def _candidates(self, present: set[int]) -> list[int]:
        """The rules (by number) woken by a present atom that find one atom of every other
        group they need present. Most rules need nothing more, or only single atoms, or
        one of a single group: those are checked by C-level set operations over many rules
        at once; only the others one by one."""
        wakes = list(filter(None, map(self.wakes.get, present)))
        chosen = set(self.always)
        chosen.update(*map(_FREE, wakes))
        every = list(chain.from_iterable(map(_EVERY, wakes)))
        chosen.update(compress(map(_FIRST, every), map(present.issuperset, map(_SECOND, every))))
        one = list(chain.from_iterable(map(_ONE, wakes)))
        held = map(not_, map(present.isdisjoint, map(_SECOND, one)))
        chosen.update(compress(map(_FIRST, one), held))
        for n in chain.from_iterable(map(_OTHER, wakes)):
            if not any(map(present.isdisjoint, self.rules[n].rest)):
                chosen.add(n)
        return sorted(chosen)

    def _keys_in(self, spaced: str) -> _Found:
        """The automatons' keys found in a spaced text, in order of their ends: the ASCII
        keys', and for a text that is not all ASCII the other scripts' too, each also over
        the text with the letters of scripts written without spaces made spaces (a word
        right before or after Japanese, Chinese..., Mitsubishi商事, is whole too)."""
        found = list(self.automaton.iter(spaced)) if self.automaton else []
        if spaced.isascii():
            return found
        runs = [(self.other_scripts, spaced)]
        if spaced != (latin := space_unspaced(spaced)):
            runs += [(self.automaton, latin), (self.other_scripts, latin)]
        for automaton, text in runs:
            if automaton is not None:
                found = _with(found, automaton.iter(text))
        return found

    def _scan(self, index: int, text: str, found: Found) -> _Scanned:
        """Find every pattern in one field. The automaton runs over a copy of the text with
        each non-word character turned into a space and a space added at both ends, and its
        keys are " form " (" form" for a trailing wildcard), so it only finds whole words
        (see `add_pattern` for scripts written without spaces).
        Term-list entries are checked (case, exclusions) at once; query words are kept raw."""
        field_name = FIELDS[index]
        folded = fold(text)
        lowered = lower_same_length(folded)
        spaced = " " + space_out(lowered) + " "
        found.texts[field_name] = spaced
        output = self._keys_in(spaced)
        values = list(map(_VALUE, output))
        hits = found.hits
        cased: str | None = None
        for end, (reach, ends, entries, *_) in compress(output, map(_ENTRIES, values)):
            start, stop = _span(spaced, end, reach, ends)
            for p, atoms, checked in entries:
                if checked:
                    if p.joined and not same_joined(
                        p.joined, p.alias.wildcard, lowered[start:stop]
                    ):
                        continue
                    if p.alias.case_sensitive:
                        cased = cased if cased is not None else space_out(folded)
                        if cased[start:stop] != p.form:
                            continue
                    if p.term is not None and excluded(p.term, lowered, start, stop):
                        continue
                hit = Hit(field_name, start, stop)
                for atom in atoms[index]:  # the entry's and its list's, in scopes with this field
                    hits[atom].append(hit)
        word_atoms = list(map(_WORDS_IN[index], values))
        return _Scanned(field_name, lowered, spaced, output, word_atoms)


_VALUE, _ENTRIES = itemgetter(1), itemgetter(2)
_WORDS_IN = tuple(itemgetter(3 + index) for index in range(len(FIELDS)))
_WORDS = attrgetter("words")
_FREE, _EVERY, _ONE, _OTHER = (attrgetter(name) for name in Wake._fields)
_FIRST, _SECOND = itemgetter(0), itemgetter(1)


class _Scanned(NamedTuple):
    name: str
    lowered: str  # the text folded and in lower case
    spaced: str  # the text the automaton ran over
    found: list[tuple[int, Value]]  # the automaton's output: (end, value)
    word_atoms: list[tuple[int, ...]]  # for each, the query words' atoms scoped to the field


_Found = list[tuple[int, Value]]


def _with(found: _Found, more: Iterable[tuple[int, Value]]) -> _Found:
    """`found` and the keys of `more` not in it, in order of their ends."""
    seen = {(end, id(value)) for end, value in found}
    extra = [(end, value) for end, value in more if (end, id(value)) not in seen]
    return sorted(found + extra, key=itemgetter(0)) if extra else found


def _span(spaced: str, end: int, reach: int, ends: int) -> tuple[int, int]:
    """Where a key found at `end` of `spaced` stands in the text (`spaced` has one space of
    padding before it): a word ends before the key's last space, a wildcard runs on to the
    end of its word, the next space, and an unspaced script's word where the key ends."""
    if ends == AT_WORD_END:
        return end - reach + 1, end - 1
    if ends == AT_NEXT_SPACE:
        return end - reach + 1, spaced.index(" ", end + 1) - 1
    return end - reach + 1, end
