"""Reading YAML rule files as node trees, keeping each value's line and column for messages.

In: a file's bytes, then its nodes. Out: typed values; each problem is noted as a
`RuleProblem` (file, line, column) and a default returned, so one run reports them all.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from watcher.errors import RuleProblem
from watcher.files import NotUtf8, utf8_text
from watcher.normalise import LINE_BREAKS_AND_CONTROLS, SURROGATE
from watcher.rules.yaml_hints import yaml_hint
from watcher.spelling import did_you_mean

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: far faster


_SAFE_TAGS = {tag for tag in yaml.SafeLoader.yaml_constructors if tag}
_MERGE_TAG = "tag:yaml.org,2002:merge"
EXTENSION_PREFIX = "x-"  # a top-level key so named holds anchors to merge, not settings


_STR_TAG = "tag:yaml.org,2002:str"

# What YAML 1.1 lets a file hold; PyYAML refuses the rest at a position counted in
# characters, libyaml in bytes, so the first such character is found here.
_NOT_IN_YAML = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def _unreadable_node(root: yaml.Node) -> tuple[yaml.Node, str] | None:
    """The first node safe loading cannot build, and why: a tag it does not read
    (`!!python/object`, `!custom`), or a value its tag refuses (`!!int abc`, `!!binary ü`,
    or `2026-99-99`, which YAML takes for a date), which raised ValueError, KeyError or
    AttributeError from PyYAML; or text with an escaped UTF-16 surrogate (`"\\ud83d"`, as
    JSON writes characters past U+FFFF), which is no character and which libyaml refuses
    too; or a merge key (`<<`) that merges no mapping. A file that has one is not a file
    watcher reads; so is one whose lists and mappings nest more than `MAX_YAML_DEPTH`
    deep (`_too_deep` finds such a node where PyYAML's composer could not follow). Every
    mapping's merge keys are replaced, in place, by the pairs they merge (`_merge`)."""
    constructor = yaml.SafeLoader("")
    seen: set[int] = set()
    todo = [(root, 1)]  # a node, and the level of lists and mappings it is at
    while todo:
        node, depth = todo.pop()
        if id(node) in seen:  # an alias, possibly of a node that holds it
            continue
        seen.add(id(node))
        if depth > MAX_YAML_DEPTH and not isinstance(node, yaml.ScalarNode):
            return node, TOO_DEEP
        if node.tag not in _SAFE_TAGS:
            return node, f"the tag {node.tag!r} is not read here"
        if isinstance(node, yaml.ScalarNode) and (found := SURROGATE.search(node.value)):
            return node, (
                f"the escape \\u{ord(found.group()):04X} is half of a UTF-16 surrogate pair, "
                "no character: write the character itself, or \\U and its 8 hex digits"
            )
        if isinstance(node, yaml.ScalarNode) and node.tag != _STR_TAG:
            try:
                constructor.construct_object(node)  # type: ignore[no-untyped-call]
            except (yaml.YAMLError, ValueError, LookupError, AttributeError, TypeError):
                tag = node.tag.replace("tag:yaml.org,2002:", "!!")
                return node, f"{node.value!r} is no valid {tag} (quote it if it is text)"
        if isinstance(node, yaml.SequenceNode):
            todo += [(n, depth + 1) for n in reversed(node.value)]
        elif isinstance(node, yaml.MappingNode):
            if (fault := _merge(node, frozenset())) is not None:
                return fault
            todo += [(n, depth + 1) for pair in reversed(node.value) for n in reversed(pair)]
    return None


# levels of lists and mappings a file may nest: more than any config or rule file needs,
# fewer than PyYAML's composer, which recurses once a level, can follow
MAX_YAML_DEPTH = 200
TOO_DEEP = f"lists and mappings nested more than {MAX_YAML_DEPTH} deep"

_KINDS: dict[type | tuple[type, ...], str] = {bool: "true or false", int: "a whole number"}


class YamlFault(NamedTuple):
    """Where (1-based, when known) and why a text is no YAML watcher reads."""

    line: int | None
    column: int | None
    message: str


def yaml_tree(data: bytes, loader: Any = _YAML_LOADER) -> tuple[yaml.Node | None, YamlFault | None]:
    """The node tree of a file's `data` (None for an empty file), or the fault that makes it
    no YAML watcher reads: not UTF-8 (at its first foreign byte), not YAML, or a node safe
    loading cannot build (`_unreadable_node`). The config and the rule files read theirs
    through it: libyaml's loader where installed (the config of 10,000 feeds read in 0.9 s,
    not 2.6), PyYAML's to say why a text is no YAML."""
    try:
        text = utf8_text(data)
    except NotUtf8 as exc:
        return None, YamlFault(exc.line, exc.column, str(exc))
    foreign = _NOT_IN_YAML.search(text)
    if foreign:
        return None, _foreign_character(text, foreign.start())
    try:
        root = yaml.compose(text, Loader=loader)
    except RecursionError:  # PyYAML's composer recurses once a level; libyaml stops at 1,000
        return None, _too_deep(text, loader)
    except yaml.YAMLError as exc:
        if loader is not yaml.SafeLoader:  # PyYAML's own says more (a surrogate's escape)
            return yaml_tree(data, yaml.SafeLoader)
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        if mark is None:
            return None, YamlFault(None, None, f"invalid YAML: {reason}")
        lines = LINE_BREAK.split(text)
        hint = yaml_hint(reason, lines[mark.line] if mark.line < len(lines) else "", mark.column)
        return None, YamlFault(mark.line + 1, mark.column + 1, f"invalid YAML: {reason}{hint}")
    unreadable = _unreadable_node(root) if root is not None else None
    if unreadable is None:
        return root, None
    node, why = unreadable
    mark = node.start_mark
    return None, YamlFault(mark.line + 1, mark.column + 1, f"invalid YAML: {why}")


def _too_deep(text: str, loader: Any) -> YamlFault:
    """Where a text nests its lists and mappings deeper than its composer could follow: the
    first list or mapping past `MAX_YAML_DEPTH` levels, found by PyYAML's parser, which
    keeps no frame per level."""
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                why = f"invalid YAML: {TOO_DEEP}"
                if (mark := event.start_mark) is None:
                    return YamlFault(None, None, why)
                return YamlFault(mark.line + 1, mark.column + 1, why)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return YamlFault(None, None, "invalid YAML: lists and mappings nested too deep")


def _merge(node: yaml.MappingNode, within: frozenset[int]) -> tuple[yaml.Node, str] | None:
    """`node`'s merge keys (`<<: *defaults`, YAML 1.1's, as Docker Compose files use them)
    replaced by the pairs of the mappings they name: its own keys win, then the first
    mapping's of a list (`<<: [*a, *b]`). The node of a `<<` that merges no mapping (or
    the mapping `within` which it is), and why, if there is one."""
    if not any(key.tag == _MERGE_TAG for key, _ in node.value):
        return None
    if id(node) in within:
        return node, "a merge key (<<) merges the mapping that holds it"
    own = [(key, value) for key, value in node.value if key.tag != _MERGE_TAG]
    taken = {key.value for key, _ in own if isinstance(key, yaml.ScalarNode)}
    merged = []
    for key, value in node.value:
        if key.tag != _MERGE_TAG:
            continue
        for source in value.value if isinstance(value, yaml.SequenceNode) else [value]:
            if not isinstance(source, yaml.MappingNode):
                return source, "a merge key (<<) takes a mapping or a list of mappings"
            if (fault := _merge(source, within | {id(node)})) is not None:
                return fault
            for pair in source.value:  # a key that is no scalar is kept, and reported
                if not isinstance(pair[0], yaml.ScalarNode):
                    merged.append(pair)
                elif pair[0].value not in taken:
                    taken.add(pair[0].value)
                    merged.append(pair)
    node.value = merged + own
    return None


def _foreign_character(text: str, at: int) -> YamlFault:
    """The fault of a character YAML does not allow in a file (a control character), at `at`."""
    breaks = list(LINE_BREAK.finditer(text, 0, at))
    line_start = breaks[-1].end() if breaks else 0
    char = text[at]
    kind = "control character" if unicodedata.category(char) == "Cc" else "character"
    why = f"invalid YAML: the {kind} U+{ord(char):04X} is not allowed in a YAML file"
    return YamlFault(len(breaks) + 1, at - line_start + 1, why)


def as_written(node: yaml.Node, value: Any) -> Any:
    """A value meant as text: as written where YAML 1.1 read it as a number, a truth value
    or a date (0123 as 83, 1:30 as 90, no as false, 2026-12-05 as a date); else `value`."""
    return node.value if isinstance(value, int | float | date) else value  # bool, datetime too


class NodeReader:
    """Typed accessors over YAML nodes that note a problem and return a default."""

    def __init__(self) -> None:
        self.problems: list[RuleProblem] = []
        self._noted: set[RuleProblem] = set()
        self.constructor = yaml.SafeLoader("")

    def problem(
        self, path: Path, node: yaml.Node | None, message: str, column_offset: int = 0
    ) -> None:
        """Note a problem, once: a node that YAML anchors and aliases repeat (`*minerals` in
        ten rules) is read, and wrong, as often as it is named."""
        line = node.start_mark.line + 1 if node is not None else None
        column = node.start_mark.column + 1 + column_offset if node is not None else None
        self.problem_at(path, line, column, message)

    def problem_at(self, path: Path, line: int | None, column: int | None, message: str) -> None:
        """Note a problem at a line and column of the file, once."""
        found = RuleProblem(path=str(path), line=line, column=column, message=message)
        if found not in self._noted:
            self._noted.add(found)
            self.problems.append(found)

    def compose(self, path: Path, content: bytes) -> yaml.Node | None:
        """The file's node tree (None for an empty file, or one that is not YAML: noted)."""
        root, fault = yaml_tree(content)
        if fault is not None:
            line, column, message = fault
            self.problems.append(
                RuleProblem(path=str(path), line=line, column=column, message=message)
            )
        return root

    def mapping(
        self, path: Path, node: yaml.Node, known: set[str], what: str, *, top: bool = False
    ) -> dict[str, yaml.Node]:
        """The mapping's fields by name; at the `top` of a file, a key beginning with `x-`
        (anchors to merge) is skipped."""
        if not isinstance(node, yaml.MappingNode):
            self.problem(path, node, f"{what} must be a mapping, not {kind_of(node)}")
            return {}
        out: dict[str, yaml.Node] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                self.problem(path, key, f"a key of {what} must be a single word")
            elif top and str(key.value).startswith(EXTENSION_PREFIX):
                continue
            elif key.value not in known:
                self.problem(
                    path,
                    key,
                    f"unknown field {key.value!r} in {what}{did_you_mean(key.value, known)}; "
                    f"expected one of {', '.join(sorted(known))}",
                )
            elif key.value in out:
                self.problem(path, key, f"field {key.value!r} given twice")
            else:
                out[key.value] = value
        return out

    def scalar(
        self, path: Path, node: yaml.Node, what: str, kind: type | tuple[type, ...] = str
    ) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            self.problem(path, node, f"{what} must be a single value, not {kind_of(node)}")
            return None
        value = self.constructor.construct_object(node)  # type: ignore[no-untyped-call]
        if kind is str:
            value = as_written(node, value)
        if value is None:
            self.problem(path, node, f"{what} is empty")
        elif not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.problem(path, node, f"{what} must be {_KINDS.get(kind, 'text')}")
        else:
            return value
        return None

    def name(self, path: Path, node: yaml.Node, what: str) -> str | None:
        """A scalar that names something: one line, without control characters."""
        value = self.scalar(path, node, what)
        if value and LINE_BREAKS_AND_CONTROLS.search(value):
            self.problem(path, node, f"{what} must be one line of text, without control characters")
            return None
        return value  # type: ignore[no-any-return]

    def strings(self, path: Path, node: yaml.Node | None, what: str) -> tuple[str, ...]:
        """A list of names, or one line of them with commas between (`tags: policy,
        export`: as one name, "policy, export" was a tag no one follows)."""
        if node is None:
            return ()
        if isinstance(node, yaml.ScalarNode):
            value = self.name(path, node, what)
            return names_in_line(value or "")
        if not isinstance(node, yaml.SequenceNode):
            self.problem(path, node, f"{what} must be a list, not {kind_of(node)}")
            return ()
        names = []
        for item in node.value:
            if not isinstance(item, yaml.ScalarNode):
                self.problem(path, item, f"an item of {what} must be one name, not {kind_of(item)}")
            elif value := self.name(path, item, what):
                names.append(value)
        return tuple(names)


def is_text(node: yaml.Node | None) -> bool:
    """Whether a node is a scalar YAML reads as text (not a number, a truth value, a date
    or null), told before its value is read."""
    return isinstance(node, yaml.ScalarNode) and node.tag == _STR_TAG


def names_in_line(line: str) -> tuple[str, ...]:
    """The names of one line with commas between (`wire, asia`), each without the blanks
    around it."""
    return tuple(part.strip() for part in line.split(",") if part.strip())


def kind_of(node: yaml.Node) -> str:
    """What a node is, as a problem names what was written instead."""
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    return "a single value"


def not_a_list(what: str, node: yaml.Node) -> str:
    """The problem of `what` written as no list: one value reads as its list's one item
    (`aliases: 锗`, `write [锗]`)."""
    if isinstance(node, yaml.ScalarNode) and node.value:
        return f"{what} must be a list: write [{node.value}]"
    return f"{what} must be a list, not {kind_of(node)}"
