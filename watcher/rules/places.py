"""Where a column of a YAML scalar's value lies in its file, for a rule's condition written
over several lines (`when: >-` and its lines below, or a value folded across lines): a
problem at a column of the condition is reported at the file's own line and column.

In: the file's lines, the scalar's node and a column (1-based) of its value. Out: the line
and column (1-based), or None where the value is on one line (its node's place and the
column say it) or cannot be traced back to its lines (escapes in a double-quoted value, a
folded value's blank lines). Pure.
"""

from __future__ import annotations

import yaml

Piece = tuple[int, int, str]  # a line's index, the column its part of the value starts at, it


def source_place(lines: list[str], node: yaml.ScalarNode, column: int) -> tuple[int, int] | None:
    """The file's line and column of the value's `column`."""
    pieces = _block(lines, node) if node.style in (">", "|") else _flow(lines, node)
    if not pieces:
        return None
    joint = "\n" if node.style == "|" else " "
    if joint.join(text for _, _, text in pieces).rstrip() != str(node.value).rstrip():
        return None
    at = column - 1
    for line, start, text in pieces:
        if at <= len(text):
            return line + 1, start + at + 1
        at -= len(text) + len(joint)
    return None


def _block(lines: list[str], node: yaml.ScalarNode) -> list[Piece] | None:
    """A block scalar's lines (`>-`, `|`), each without the block's indentation."""
    pieces: list[Piece] = []
    indent, blank = None, False
    for index in range(node.start_mark.line + 1, min(node.end_mark.line + 1, len(lines))):
        raw = lines[index]
        if not raw.strip():
            blank = bool(pieces)
            continue
        here = len(raw) - len(raw.lstrip(" "))
        indent = here if indent is None else indent
        if here < indent:
            break
        if blank:
            return None  # a blank line within: a paragraph, not one line of text
        pieces.append((index, indent, raw[indent:].rstrip()))
    return pieces


def _flow(lines: list[str], node: yaml.ScalarNode) -> list[Piece] | None:
    """A plain or quoted scalar's lines, where it spans more than one."""
    start, end = node.start_mark, node.end_mark
    if start.line == end.line or end.line >= len(lines):
        return None
    quote = 1 if node.style in ("'", '"') else 0
    pieces = [(start.line, start.column + quote, lines[start.line][start.column + quote :])]
    for index in range(start.line + 1, end.line + 1):
        raw = lines[index][: end.column - quote] if index == end.line else lines[index]
        text = raw.lstrip(" \t")
        pieces.append((index, len(raw) - len(text), text))
    return [(index, at, text.rstrip()) for index, at, text in pieces]
