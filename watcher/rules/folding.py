"""Text as rules compare it, one character for one, so positions stay those of the original:
curly quotes and apostrophes become straight, dashes a hyphen, white space a space, letters
lose their diacritics and traditional Chinese characters are written simplified;
`space_out` turns everything but letters and digits to spaces, `space_unspaced` the letters
of scripts written without spaces between words.

In and out: strings of the same length. Pure.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from itertools import groupby, product
from math import prod

from watcher.hanzi import simplified
from watcher.normalise import composed
from watcher.scripts import UNSPACED

_TRANSLATE = str.maketrans({
    "’": "'", "‘": "'", "ʼ": "'", "`": "'", "“": '"', "”": '"',
    "–": "-", "—": "-", "‐": "-", "‑": "-", "\u00a0": " ", "\n": " ", "\t": " ", "\r": " ",
})  # fmt: skip


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    char = char.translate(_TRANSLATE)
    if char.isascii():
        return char
    base = unicodedata.normalize("NFKD", char)
    stripped = "".join(c for c in base if not unicodedata.combining(c))
    if len(stripped) == 1 and (stripped == base or _marks_fold(char)):
        char = stripped  # ü as u, a full-width Ｅ as E, a half-width ｶ as カ
    return simplified(char)  # a traditional Chinese character as its simplified one: 鎵 as 镓


def _marks_fold(char: str) -> bool:
    """Whether a letter's marks go (Zürich is Zurich): in Latin and Greek, and Russian's ё
    (often written е); not where the mark makes another letter: Russian's й is not и, nor
    is Japanese ガ カ (ガリウム, gallium, is not カリウム, potassium)."""
    name = unicodedata.name(char, "")
    return "LATIN" in name or "GREEK" in name or char in "ёЁ"


_FOLD: dict[str, str] = {}  # every non-ASCII character met so far -> its folded form
_ASCII_FOLD = bytes(ord(_TRANSLATE.get(b, chr(b))) for b in range(128)) + bytes(128)


def fold(text: str) -> str:
    """The text with quotes, dashes, spaces and diacritics folded, same length as the input."""
    if text.isascii():  # bytes.translate is a table lookup; str.translate a dict per char
        return text.encode("ascii").translate(_ASCII_FOLD).decode("ascii")
    for char in set(text):
        folded = _FOLD.get(char)
        if folded is None:
            folded = _FOLD[char] = _fold_char(char)
        if folded != char:
            text = text.replace(char, folded)
    return text


def has_word(text: str) -> bool:
    """Whether the text holds a letter or digit: text is matched on words, and punctuation
    alone (`&`, `-`) is none, so it finds nothing."""
    return any(c.isalnum() for c in text)


def excluding(word: str) -> str:
    """A `not_followed_by` or `not_preceded_by` word as the text it is looked for in reads:
    composed, folded and in lower case (`Fudōsan` is found in "Mitsui Fudosan")."""
    return lower_same_length(fold(composed(word)))


def lower_same_length(text: str) -> str:
    """Lower case, one character for one: a character whose lower case is longer stays."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


_ASCII_SPACED = bytes(b if chr(b).isalnum() else 32 for b in range(128)) + bytes(128)


def space_out(text: str) -> str:
    """Every character that is not a letter or digit becomes a space: same length."""
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_SPACED).decode("ascii")
    for char in set(text):
        if char != " " and not char.isalnum():
            text = text.replace(char, " ")
    return text


_UNSPACED = re.compile(f"[{UNSPACED}]")  # Han, kana, Hangul, Thai, Lao, Khmer, Myanmar


def is_unspaced(char: str) -> bool:
    """Whether the character belongs to a script that does not put spaces between words."""
    return _UNSPACED.match(char) is not None


def space_unspaced(text: str) -> str:
    """Every letter of a script without spaces between words becomes a space: same length."""
    return _UNSPACED.sub(" ", text)


MAX_SPACINGS = 27  # an alias with more ways to space its punctuation is matched as written


def spacings(folded: str) -> list[str]:
    """The other ways to space the punctuation between an alias's words (`folded`, its
    folded text): each run of separators holding punctuation with no blank around it, one
    blank on one side, or blanks on both (`Mitsui & Co.`: `Mitsui&Co`, `Mitsui &Co`...),
    as `space_out` writes them, the alias's own spacing left out; none where there would be
    more than `MAX_SPACINGS`."""
    runs = [(alnum, "".join(chars)) for alnum, chars in groupby(trimmed(folded), str.isalnum)]
    choices = []
    for alnum, text in runs:
        core = "".join(text.split())
        if alnum or not core:
            choices.append([text if alnum else " " * len(text)])
        else:
            choices.append([" " * width for width in range(len(core), len(core) + 3)])
    if prod(map(len, choices)) > MAX_SPACINGS:
        return []
    own = space_out("".join(text for _, text in runs))
    return [form for form in map("".join, product(*choices)) if form != own]


def trimmed(text: str) -> str:
    """The text from its first letter or digit to its last."""
    start, end = 0, len(text)
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not text[end - 1].isalnum():
        end -= 1
    return text[start:end]


_LOOSE = re.compile(r"[\s-]+")


def joined(text: str) -> str:
    """The text without blanks and hyphens: what the spacings of an alias's punctuation share
    (`at&t` of `AT & T` and `AT&T`), and what a hyphen and a blank share."""
    return _LOOSE.sub("", text)


def punctuated(text: str) -> bool:
    """Whether the text holds a character other than letters, digits, blanks and hyphens."""
    return any(not (c.isalnum() or c.isspace() or c == "-") for c in text)
