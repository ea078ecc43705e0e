"""Words that outlets spell apart, read as one: Russian's ё as е, Latin letters without
their accents, British spelling as American. Read apart, a headline and its twin were "the
same wording about other names", two news items, two alerts.

In: a text or a lower-case word. Out: the same, respelled. Pure.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache


def spelled_alike(text: str) -> str:
    """Text with the letters that outlets write either way as one: Russian's ё as е, which
    most Russian media write for it (Королёв, Королев; начнёт, начнет): read apart, one
    headline was "the same wording about other names", and its twin another news item."""
    if "ё" in text:  # a search in C: most text has none
        text = text.replace("ё", "е")
    return text.replace("Ё", "Е") if "Ё" in text else text


def unaccented(word: str) -> str:
    """A word's Latin letters without their accents (são as sao, zürich as zurich), as
    outlets that write ASCII spell them; the marks of other scripts stay (й is not и)."""
    return "".join(map(_latin_base, word))


@lru_cache(maxsize=4096)
def _latin_base(char: str) -> str:
    if char.isascii() or "LATIN" not in unicodedata.name(char, ""):
        return char
    bare = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return bare if len(bare) == 1 else char


# words British and American outlets spell apart (the same story in both read as other
# names: "export licence", "export license"): whole words, and the beginnings of a family
_US_WORDS = {
    "centre": "center", "centres": "centers", "centred": "centered", "tonne": "ton",
    "tonnes": "tons", "metre": "meter", "metres": "meters", "litre": "liter",
    "litres": "liters", "fibre": "fiber", "fibres": "fibers",
}  # fmt: skip
_US_BEGINNINGS = (
    ("licenc", "licens"), ("defenc", "defens"), ("offenc", "offens"), ("sulph", "sulf"),
    ("colour", "color"), ("labour", "labor"), ("favour", "favor"), ("harbour", "harbor"),
    ("neighbour", "neighbor"),
)  # fmt: skip
_BRITISH_FIRST = frozenset(british[:2] for british, _ in _US_BEGINNINGS)


def us_spelling(word: str) -> str:
    """A lower-case word as American English spells it, where British spells it apart
    (`_US_WORDS`, `_US_BEGINNINGS`); any other as it is."""
    if found := _US_WORDS.get(word):
        return found
    if word[:2] in _BRITISH_FIRST:
        for british, us in _US_BEGINNINGS:
            if word.startswith(british):
                return us + word[len(british) :]
    return word
