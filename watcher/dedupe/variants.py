"""Words that British and American outlets spell apart, read as American (letters outlets
write with or without their marks, `ё` and `е`, `ã` and `a`, `rules.folding.fold` reads as
one). Read apart, a headline and its twin were "the same wording about other names", two
news items, two alerts.

In: a lower-case word. Out: the same, respelled. Pure.
"""

from __future__ import annotations

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
