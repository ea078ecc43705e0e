"""The rule query language's words: a condition cut into tokens.

In: a condition string. Out: its tokens (`tokenize`), each with its column. Raises
`QuerySyntaxError` with the column (1-based) of a word an author surely did not mean
(`_mistaken`: `or` in lower case, `gallium, germanium`, `near/5`, `-nitride`, `&`), of an
unclosed quotation mark, or of a * in quotes. Curly quotes, and « », „ “ and 「 」, are a
phrase's quotes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from watcher.rules.folding import has_word


class QuerySyntaxError(ValueError):
    def __init__(self, message: str, column: int) -> None:
        self.column = column
        super().__init__(message)


NEAR_MAX = 1_000_000  # words; AND finds words at any distance

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<near>NEAR/(?P<n>\d+))(?![.,])
  | (?P<field>(?i:title|summary|source|body):)[ \t]*(?=[^\s)])
  | (?P<listref>@(?P<list>[\w-]+)(?::"(?P<entry>[^"]*)"|:(?P<bare>[^\s()"]+))?)
  | (?P<phrase>"(?P<phrase_text>[^"]*)")
  | (?P<unclosed>"[^"]*$)
  | (?P<word>[^\s()"]+)
    """,
    re.VERBOSE,
)
_KEYWORDS = {"AND", "OR", "NOT"}
# NEAR as other search tools write it: Factiva's near5, LexisNexis's w/5 and pre/5, or
# NEAR/n with no whole number; each would be a word to find, that no story has
_OTHER_NEAR = re.compile(r"(?:(?i:near)/?|(?i:w|pre)/|~)(?P<n>\d+)|NEAR(?:/\S*)?")
# operators of other tools and languages, which alone find nothing (no letter or digit)
_SYMBOLS = {"&": "AND", "&&": "AND", "|": "OR", "||": "OR", "-": "NOT", "!": "NOT"}


@dataclass(frozen=True)
class Token:
    kind: str
    value: str
    column: int
    extra: str | None = None


def _mistaken(word: str) -> str | None:
    """Why a bare word is surely not what the rule's author meant, or None: `or`, `and` or
    `not` not in capitals is a word to find, which the author meant as an operator; a
    comma after or before a word joins nothing (`gallium, germanium` needs both, as with
    AND); so is NEAR written otherwise than NEAR/n (`_OTHER_NEAR`), and a word without a
    letter or digit (`&`, `|`, `-`), which finds nothing. Each rule would match next to
    nothing, and say so nowhere. A word written with `-` or `!` before it, to leave it out
    as other tools do, would find the stories that have it."""
    if word == "AROUND":  # Google's AROUND(5)
        return f"{word!r} is a word to find here: for words within n of each other write NEAR/n"
    if near := _OTHER_NEAR.fullmatch(word):
        n = near.group("n")
        if n is None or word.startswith("NEAR/"):
            return f"{word!r}: write NEAR/n, with n a whole number of words from 1 to {NEAR_MAX}"
        return f"{word!r} is a word to find here: for words within {n} of each other write NEAR/{n}"
    if not has_word(word):
        operator = f"for the operator write {_SYMBOLS[word]}, or " if word in _SYMBOLS else ""
        return (
            f"{word!r} has no letter or digit, so it finds nothing: {operator}put it in "
            "quotes with the words around it to find them as written"
        )
    if word[0] in "-!" and word[1].isalpha():
        return (
            f"{word!r} finds {word[1:]!r}: to leave out the stories that have it write "
            f"NOT {word[1:]}"
        )
    if word.upper() in _KEYWORDS:
        return (
            f"{word!r} is a word to find here: for the operator write {word.upper()}, in "
            f'capitals, or "{word}" in quotes to find the word'
        )
    if word.endswith((",", ";")) or word.startswith((",", ";")):
        return (
            f"{word!r}: a comma joins nothing here (every word is needed, as with AND): write "
            "OR between words for any of them, or put the text in quotes"
        )
    return None


# quotation marks a word processor or another language writes for a phrase's: one character
# each, so a column stays the same
_QUOTES = str.maketrans(dict.fromkeys("“”„«»「」", '"'))
# a * at a word's end within quotes, which is no wildcard: a phrase is found as written
_STAR_IN_PHRASE = re.compile(r"\w\*(?=\s|$)")


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    text = text.translate(_QUOTES)
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        assert m is not None  # the word alternative matches any other character
        kind = m.lastgroup or ""
        column = pos + 1
        pos = m.end()
        if kind == "space":
            continue
        if kind in ("n", "near"):
            tokens.append(Token("near", m.group("n"), column))
        elif kind == "field":
            tokens.append(Token("field", m.group("field").lower(), column))
        elif kind in ("list", "entry", "bare", "listref"):
            entry = m.group("entry") if m.group("bare") is None else m.group("bare")
            tokens.append(Token("listref", m.group("list"), column, entry))
        elif kind in ("phrase", "phrase_text"):
            if star := _STAR_IN_PHRASE.search(m.group("phrase_text")):
                raise QuerySyntaxError(
                    "a * in quotes is no wildcard, as a phrase is found as written: write "
                    "the word outside quotes (export*), and NEAR/1 for words side by side",
                    column + 2 + star.start(),
                )
            tokens.append(Token("phrase", m.group("phrase_text"), column))
        elif kind == "unclosed":
            raise QuerySyntaxError("unclosed quotation mark", column)
        elif kind == "word" and m.group() in _KEYWORDS:
            tokens.append(Token(m.group(), m.group(), column))
        elif kind == "word" and (mistake := _mistaken(m.group())):
            raise QuerySyntaxError(mistake, column)
        elif kind == "word" and m.group().startswith("@"):
            raise QuerySyntaxError(
                f'bad list reference {m.group()!r}; write @list or @list:"Entry"', column
            )
        else:
            tokens.append(Token(kind, m.group(), column))
    return tokens
