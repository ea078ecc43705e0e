"""What a YAML problem adds to PyYAML's own words, where those name no fix: a value (or an
item of a [list]) that begins with `@` or a backquote, or holds ": ", or begins with a
quote and goes on past the closing one (a rule's `when: "rare earth" AND export`, or
`when: "title:"x" OR y"`), each of which needs quotes around it whole; and a tab where
YAML wants spaces.

In: PyYAML's reason, the line it points at and the column (0-based). Out: the hint, or ''.
Pure.
"""

from __future__ import annotations

import re

# a line's value, after any "- " and "key: " before it
_VALUE = re.compile(r"\s*(?:-\s+)*(?:[^\s:'\"#\[{][^:#]*:\s+)?(?P<value>.*)")
_ITEM_ENDS = re.compile(r"[\[{,\]}]")


def yaml_hint(reason: str, line: str, column: int) -> str:
    """What to add to `reason`, PyYAML's problem at `column` of `line`, where a fix is plain."""
    match = _VALUE.match(line)
    assert match is not None  # every part of the pattern may be empty
    start, value = match.start("value"), match.group("value").rstrip()
    flow = value[:1] in "[{"
    what = "an item" if flow else "a value"
    written = _item(line, column) if flow else value
    if reason.startswith(("found character '@'", "found character '`'")):
        return f": {what} that begins with {written[:1]} is written in quotes: {_quoted(written)}"
    if reason.startswith("found character '\\t'"):
        return ": YAML indents with spaces, not tabs"
    if reason == "mapping values are not allowed here" and column > start:
        return f": {what} that holds ': ' is written in quotes: {_quoted(written)}"
    ends = ("expected <block end>", "expected ',' or ']'", "expected ',' or '}'")
    if reason.startswith(ends) and written[:1] in "\"'":
        meant = written[1:-1] if len(written) > 1 and written[-1] == written[0] else written
        return (
            f": {what} that begins with a quote ends at the next one; put it whole in quotes "
            f"it does not hold: {_quoted(meant)}"
        )
    return ""


def _item(line: str, column: int) -> str:
    """The item of a [list] or {mapping} on one line that `column` falls in: from the
    bracket or comma before it to the next (quotes are not read: a hint's guess)."""
    before = [m.end() for m in _ITEM_ENDS.finditer(line, 0, column)]
    begin = before[-1] if before else 0
    after = _ITEM_ENDS.search(line, column)
    return line[begin : after.start() if after else len(line)].strip()


def _quoted(value: str) -> str:
    """The value in the quotes it holds fewer of: in single quotes where it holds none."""
    if "'" not in value:
        return f"'{value}'"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
