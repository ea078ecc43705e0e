"""An alias's patterns, and what a hit of one must also hold: its punctuation, and the
words around it (a term's exclusions).

In: an alias (or query word) and its term; the text a hit was found in. Out: patterns for
the automaton; whether a hit stands. Pure.
"""

from __future__ import annotations

import re

from watcher.rules.automaton import Pattern, add_pattern
from watcher.rules.condition import AtomKey
from watcher.rules.folding import (
    is_unspaced,
    joined,
    lower_same_length,
    punctuated,
    space_out,
    spacings,
    trimmed,
)
from watcher.rules.model import Alias, Term


def add_alias(
    patterns: dict[str, list[Pattern]], base: AtomKey, alias: Alias, term: Term | None,
    folded: str,
) -> None:  # fmt: skip
    """An alias's (or query word's) form as written, and its other spacings (`spacings`). A
    hit of one of those, or of the form written with punctuation other than a hyphen, is
    checked: the text found must be the alias's but for blanks and hyphens (`AT&T` is not
    found in "at T-Mobile", nor `Mitsui & Co.` in "Mitsui, co-founder")."""
    written = trimmed(folded)
    own = joined(lower_same_length(written))
    plain = space_out(written)
    add_pattern(patterns, Pattern(base, alias, term, plain, own if punctuated(written) else ""))
    for spaced in spacings(folded):
        add_pattern(patterns, Pattern(base, alias, term, spaced, own))


def written_forms(alias: Alias) -> list[tuple[Alias, str]]:
    """The alias's forms (`Alias.forms`), each with the alias it stands for, and each
    abbreviation's other writing (`abbreviated`)."""
    return [pair for form in alias.forms() for pair in [(alias, form), *abbreviated(alias, form)]]


def abbreviated(alias: Alias, form: str) -> list[tuple[Alias, str]]:
    """An abbreviation in capitals written the other way, with dots or without, as outlets'
    styles write it: `EU` also as `E.U.`, `U.S.` also as `US`, that one in capitals only
    (`us` is a word); none for another form."""
    if alias.wildcard or not form.isupper():
        return []
    if form.isalpha() and 2 <= len(form) <= ABBREVIATION_LETTERS:
        return [(alias, ".".join(form) + ".")]
    if _DOTTED.fullmatch(form):
        undotted = form.replace(".", "")
        return [(Alias(text=undotted, case_sensitive=True), undotted)]
    return []


ABBREVIATION_LETTERS = 5
_DOTTED = re.compile(rf"(?:[^\W\d_]\.){{1,{ABBREVIATION_LETTERS - 1}}}[^\W\d_]\.?")


def same_joined(own: str, wildcard: bool, found: str) -> bool:
    """Whether text found is an alias (`own`, joined) but for blanks and hyphens (a
    wildcard's runs on past it)."""
    text = joined(found)
    return text.startswith(own) if wildcard else text == own


def excluded(term: Term, lowered: str, start: int, end: int) -> bool:
    """Whether the words around a hit exclude it (Mitsubishi Motors, Mitsubishi-Motors,
    Sumitomo-Mitsui: past blanks and hyphens, and after it commas and periods; a word that
    begins or ends with punctuation, `-based`, right at the hit; a word of a script written
    without spaces, 石墨烯 for 石墨, within a run of letters); reads only nearby."""
    if term.not_followed_by:
        after = _AFTER.match(lowered, end).end()  # type: ignore[union-attr]
        for word in term.not_followed_by:
            at = end if not word[:1].isalnum() else after
            stop = at + len(word)
            ends = is_unspaced(word[-1]) or not lowered[stop : stop + 1].isalnum()
            if lowered.startswith(word, at) and ends:
                return True
    if term.not_preceded_by:
        before = start
        while before > 0 and lowered[before - 1] in " -":
            before -= 1
        for word in term.not_preceded_by:
            first = (start if not word[-1:].isalnum() else before) - len(word)
            begins = first == 0 or (
                first > 0 and (is_unspaced(word[0]) or not lowered[first - 1].isalnum())
            )
            if begins and lowered.startswith(word, first):
                return True
    return False


_AFTER = re.compile(r"[ .,-]*")
