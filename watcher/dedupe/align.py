"""Two texts' words aligned (difflib), the same way whichever comes first: what the checks
of names, days and opposites read to find the places where two stories' wording differs.

In: two texts (cleaned, lower-case). Out: their words, the alignment's opcodes and whether
the texts are in other words. Pure computation.
"""

from __future__ import annotations

from difflib import SequenceMatcher
from functools import lru_cache
from typing import Literal

from watcher.dedupe.terms import words_of

Tag = Literal["replace", "delete", "insert", "equal"]
Opcodes = list[tuple[Tag, int, int, int, int]]


def aligned(a_text: str, b_text: str) -> tuple[list[str], list[str], Opcodes, bool]:
    """Both texts' words, their alignment (difflib opcodes) and whether they are in other
    words: the words they have in common, in order, fewer than half the shorter one's. The
    alignment is the same whichever text comes first (difflib's is not always), so that a
    pair's decision is too."""
    if a_text <= b_text:
        return _aligned_in_order(a_text, b_text)
    b_words, a_words, opcodes, reworded = _aligned_in_order(b_text, a_text)
    turned: Opcodes = [(_TURNED[tag], i1, i2, j1, j2) for tag, j1, j2, i1, i2 in opcodes]
    return a_words, b_words, turned, reworded


_TURNED: dict[Tag, Tag] = {
    "insert": "delete",
    "delete": "insert",
    "replace": "replace",
    "equal": "equal",
}


@lru_cache(maxsize=64)  # the names', days' and opposites' checks of one pair align the same texts
def _aligned_in_order(a_text: str, b_text: str) -> tuple[list[str], list[str], Opcodes, bool]:
    a_words, b_words = words(a_text), words(b_text)
    opcodes = SequenceMatcher(None, a_words, b_words, autojunk=False).get_opcodes()
    common = sum(i2 - i1 for tag, i1, i2, _, _ in opcodes if tag == "equal")
    return a_words, b_words, opcodes, 2 * common < min(len(a_words), len(b_words))


def words(text: str) -> list[str]:
    """The words the checks compare: lower case, apostrophes straight, without a possessive's."""
    return [w.removesuffix("'s") for w in words_of(text.replace("’", "'").lower())]
