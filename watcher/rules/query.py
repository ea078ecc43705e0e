"""The rule query language: parser and syntax tree (its tokens: `lexer`).

In: a condition string such as
    title:(gallium OR germanium) AND (export* NEAR/5 "rare metal") AND NOT @firms:"Alcoa"
Out: a tree of frozen nodes. Raises: `QuerySyntaxError` with the column (1-based) of the problem.

Grammar, loosest first (adjacent operands mean AND, as in news search boxes):
    or   := and ("OR" and)*
    and  := not ("AND"? not)*
    not  := "NOT" not | near
    near := atom ("NEAR/" n atom)*
    atom := field? ( "(" or ")" | WORD | WORD* | "PHRASE" | @list | @list:"Entry" )
    field:= title: | summary: | body: | source:
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from watcher.rules.lexer import NEAR_MAX, QuerySyntaxError, Token, tokenize
from watcher.spelling import did_you_mean

FIELDS = ("title", "summary", "source", "body")  # body: the full text, where a feed gives it
DEFAULT_FIELDS = ("title", "summary", "body")


@dataclass(frozen=True)
class Words:
    """A word, a "phrase", or a trailing-wildcard word (lithium*)."""

    text: str  # lower-case, single spaces
    wildcard: bool
    fields: tuple[str, ...]
    column: int
    written: str = field(default="", compare=False)  # as the rule wrote it, for messages


@dataclass(frozen=True)
class ListRef:
    """@list (any entry) or @list:"Entry" (one entry, by canonical name)."""

    list: str
    entry: str | None
    fields: tuple[str, ...]
    column: int


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Near:
    left: Node
    right: Node
    distance: int
    column: int


Node = Words | ListRef | Not | And | Or | Near


def parse(text: str) -> Node:
    """Parse a condition; the tree's list references are checked later, by the loader."""
    tokens = tokenize(text)
    if not tokens:
        raise QuerySyntaxError("empty condition", 1)
    parser = _Parser(tokens, len(text))
    node = parser.or_()
    if parser.peek() is not None:
        token = parser.peek()
        assert token is not None
        message = (
            "unbalanced parentheses: ')' without '('"
            if token.kind == "rparen"
            else f"unexpected {token.value!r}"
        )
        raise QuerySyntaxError(message, token.column)
    return node


# levels of parentheses, NOT, field scopes and NEAR a condition may nest: more than anyone
# writes, few enough that parsing, matching and explaining its tree, each by recursion,
# stay far inside Python's recursion limit (1,000 levels of "(" raised RecursionError)
MAX_DEPTH = 50


class _Parser:
    def __init__(self, tokens: list[Token], length: int) -> None:
        self.tokens = tokens
        self.pos = 0
        self.end_column = length + 1
        self.depth = 0  # of the parentheses, NOT and field scopes being read

    def deeper(self, token: Token) -> None:
        """Enter one more level at `token`; past `MAX_DEPTH`, a syntax error there."""
        if self.depth >= MAX_DEPTH:
            raise QuerySyntaxError(
                f"nested more than {MAX_DEPTH} deep (parentheses, NOT, fields and NEAR)",
                token.column,
            )
        self.depth += 1

    @contextmanager
    def level(self, token: Token) -> Iterator[None]:
        """What is read within is one level deeper (`deeper`), and left again after."""
        self.deeper(token)
        yield
        self.depth -= 1

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise QuerySyntaxError(
                "the condition ends where a word, phrase or list was expected", self.end_column
            )
        self.pos += 1
        return token

    def or_(self) -> Node:
        children = [self.and_()]
        while (t := self.peek()) is not None and t.kind == "OR":
            self.take()
            children.append(self.and_())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def and_(self) -> Node:
        children = [self.not_()]
        while (t := self.peek()) is not None and t.kind not in ("OR", "rparen"):
            if t.kind == "AND":
                self.take()
            children.append(self.not_())
        return children[0] if len(children) == 1 else And(tuple(children))

    def not_(self) -> Node:
        token = self.peek()
        if token is not None and token.kind == "NOT":
            self.take()
            with self.level(token):
                return Not(self.not_())
        return self.near()

    def near(self) -> Node:
        node = self.atom(DEFAULT_FIELDS)
        depth = self.depth
        while (t := self.peek()) is not None and t.kind == "near":
            self.take()
            self.deeper(t)  # each NEAR of a chain holds those before it
            distance = _distance(t)
            right = self.atom(DEFAULT_FIELDS)
            for side in (node, right):
                if not _has_positions(side):
                    raise QuerySyntaxError(
                        "NEAR joins words, phrases, lists or OR groups of them", t.column
                    )
            node = Near(node, right, distance, t.column)
        self.depth = depth
        return node

    def atom(self, fields: tuple[str, ...]) -> Node:
        token = self.take()
        if token.kind == "field":
            with self.level(token):
                return self.atom((token.value[:-1],))
        if token.kind == "lparen":
            if (t := self.peek()) is not None and t.kind == "rparen":
                raise QuerySyntaxError("empty parentheses", t.column)
            with self.level(token):
                node = _scoped(self.or_(), fields)
            closing = self.peek()
            if closing is None or closing.kind != "rparen":
                raise QuerySyntaxError("unbalanced parentheses: '(' is never closed", token.column)
            self.take()
            return node
        if token.kind == "listref":
            return ListRef(token.value, token.extra, fields, token.column)
        if token.kind == "phrase":
            written = " ".join(token.value.split())
            if not written:
                raise QuerySyntaxError("empty phrase", token.column)
            return Words(written.lower(), False, fields, token.column, written)
        if token.kind == "word":
            return _word(token, fields)
        if token.kind == "rparen":
            raise QuerySyntaxError("unbalanced parentheses: ')' without '('", token.column)
        if token.kind == "NOT":
            raise QuerySyntaxError("NOT needs a word, phrase or list after it", token.column)
        if token.kind == "near":
            raise QuerySyntaxError(
                f"NEAR/{token.value} needs a word, phrase or list on each side", token.column
            )
        raise QuerySyntaxError(
            f"unexpected {token.value!r} where a word, phrase or list was expected", token.column
        )


def _word(token: Token, fields: tuple[str, ...]) -> Words:
    raw = token.value
    wildcard = raw.endswith("*")
    text = raw.rstrip("*").lower()
    if not text or "*" in text:
        raise QuerySyntaxError(
            f"{raw!r}: only a trailing * is allowed, after at least one letter", token.column
        )
    if ":" in text and text.split(":")[0].isalpha():
        scope = text.split(":")[0]
        if scope in FIELDS:
            raise QuerySyntaxError(
                f"{scope}: needs a word, phrase, list or parenthesis after it", token.column
            )
        raise QuerySyntaxError(
            f"unknown field {scope!r}; fields are {', '.join(FIELDS)}{_field_meant(scope)}",
            token.column,
        )
    return Words(text, wildcard, fields, token.column, raw.rstrip("*"))


# fields as other search tools name them (Google's intitle:, a feed's description)
_OTHER_FIELDS = {
    "intitle": "title:", "allintitle": "title:", "headline": "title:",
    "description": "summary:", "content": "body:", "text": "body:",
    "site": "source:, the outlet's name, not its site",
}  # fmt: skip


def _field_meant(scope: str) -> str:
    """The field an unknown one stands for, as a problem suggests it, or ''."""
    if scope in _OTHER_FIELDS:
        return f" (for {scope}: write {_OTHER_FIELDS[scope]})"
    return did_you_mean(scope, FIELDS)


def _scoped(node: Node, fields: tuple[str, ...]) -> Node:
    """Apply a field scope written before a parenthesis to everything inside it."""
    if fields == DEFAULT_FIELDS:
        return node
    if isinstance(node, Words | ListRef):
        return replace(node, fields=fields)
    if isinstance(node, Not):
        return Not(_scoped(node.child, fields))
    if isinstance(node, Near):
        return Near(
            _scoped(node.left, fields), _scoped(node.right, fields), node.distance, node.column
        )
    return type(node)(tuple(_scoped(c, fields) for c in node.children))


def _distance(token: Token) -> int:
    """The n of a NEAR/n token, from 1 to `NEAR_MAX`. Python refuses to read a number of
    over 4,300 digits (ValueError), which escaped the loader as no syntax error."""
    digits = token.value.lstrip("0")
    if len(digits) > len(str(NEAR_MAX)) or (digits and int(digits) > NEAR_MAX):
        raise QuerySyntaxError(f"NEAR/n needs n of at most {NEAR_MAX}", token.column)
    distance = int(digits or "0")
    if distance < 1:
        raise QuerySyntaxError("NEAR/n needs n of at least 1", token.column)
    return distance


def _has_positions(node: Node) -> bool:
    if isinstance(node, Words | ListRef | Near):
        return True
    return isinstance(node, Or) and all(_has_positions(c) for c in node.children)


def leaves(node: Node) -> list[Words | ListRef]:
    """Every word, phrase, wildcard and list reference in a tree, in order."""
    if isinstance(node, Words | ListRef):
        return [node]
    if isinstance(node, Not):
        return leaves(node.child)
    if isinstance(node, Near):
        return leaves(node.left) + leaves(node.right)
    return [leaf for child in node.children for leaf in leaves(child)]


def list_refs(node: Node) -> list[ListRef]:
    """Every list reference in a tree, for validation."""
    return [leaf for leaf in leaves(node) if isinstance(leaf, ListRef)]
