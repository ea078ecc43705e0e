"""What a YAML problem adds to PyYAML's own words, where those name no fix: a value that
begins with `@` or a backquote, or holds ": ", or begins with a quote and goes on past the
closing one (a rule's `when: "rare earth" AND export`, or `when: "title:"x" OR y"`), each
of which needs quotes around the whole value; and a tab where YAML wants spaces.

In: PyYAML's reason and the line it points at. Out: the hint, or ''. Pure.
"""

from __future__ import annotations

import re

# a line's value, after any "- " and "key: " before it
_VALUE = re.compile(r"\s*(?:-\s+)*(?:[^\s:'\"#][^:#]*:\s+)?(?P<value>.*)")


def yaml_hint(reason: str, line: str) -> str:
    """What to add to `reason`, PyYAML's problem with `line`, where a fix is plain."""
    value = _VALUE.match(line).group("value").rstrip()  # type: ignore[union-attr]
    if reason.startswith(("found character '@'", "found character '`'")):
        return f": a value that begins with {value[:1]} is written in quotes: {_quoted(value)}"
    if reason.startswith("found character '\\t'"):
        return ": YAML indents with spaces, not tabs"
    if reason == "mapping values are not allowed here":
        return f": a value that holds ': ' is written in quotes: {_quoted(value)}"
    if reason.startswith("expected <block end>") and value[:1] in "\"'":
        meant = value[1:-1] if len(value) > 1 and value[-1] == value[0] else value
        return (
            f": a value that begins with a quote ends at the next one; put the whole value in "
            f"quotes it does not hold: {_quoted(meant)}"
        )
    return ""


def _quoted(value: str) -> str:
    """The value in the quotes it holds fewer of: in single quotes where it holds none."""
    if "'" not in value:
        return f"'{value}'"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
