"""Read and check the rule files of a folder.

In: a folder of `*.yaml` files, each with `lists:` (term lists) and/or `rules:`.
Out: a `RuleSet`. Raises: `RuleError` listing every problem as file:line:col: message.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import yaml

from watcher.errors import RuleError, RuleProblem
from watcher.files import read_capped, utf8_text
from watcher.rules.examples import ExamplesReader, failed_examples
from watcher.rules.model import DEFAULT_PRIORITY, Example, Rule, RuleSet
from watcher.rules.nodes import LINE_BREAK, kind_of
from watcher.rules.places import source_place
from watcher.rules.query import And, Node, Not, Or, QuerySyntaxError, list_refs, parse
from watcher.rules.terms import TermsReader, entry_hint

RULE_KEYS = {
    "name", "description", "when", "any", "all", "none", "tags", "notify", "priority",
    "min_sources", "examples", "feeds",
}  # fmt: skip
PRIORITIES = range(1, 6)


def rule_files(folder: Path) -> list[Path]:
    """The folder's `*.yaml` files, then its `*.yml` files, as a shell lists them: not a
    hidden one (`._minerals.yaml`, the resource fork a Mac leaves in a copied folder, would
    stop the service; `.#minerals.yaml`, an editor's lock)."""
    return [
        path
        for pattern in ("*.yaml", "*.yml")
        for path in sorted(folder.glob(pattern))
        if not path.name.startswith(".") and path.is_file()
    ]


def load_rules(folder: Path) -> RuleSet:
    """Load every rule file of `folder`; all problems are gathered before raising."""
    loader = _Loader()
    if not os.path.isdir(folder):
        raise RuleError(
            [RuleProblem(path=str(folder), line=None, column=None, message="no such folder")]
        )
    files = rule_files(folder)
    digest = hashlib.sha256()
    for path in files:
        try:
            content = read_capped(path)
        except OSError as exc:  # gone since listed, unreadable, or no rule file
            why = f"cannot read: {exc.strerror or exc}"
            loader.problems.append(RuleProblem(path=str(path), line=None, column=None, message=why))
            continue
        digest.update(path.name.encode() + b"\0" + content + b"\0")
        loader.read(path, content)
    rules = loader.build_rules()
    if loader.problems:  # in the order of the files and their lines, as a compiler lists them
        raise RuleError(sorted(loader.problems, key=_place))
    ruleset = RuleSet(
        lists={name: terms for name, (terms, _) in loader.lists.items()},
        rules=tuple(rules),
        version=digest.hexdigest()[:12],
        files=tuple(str(p) for p in files),
        examples=tuple(loader.examples),
    )
    failed = failed_examples(ruleset)
    if failed:
        raise RuleError(failed)
    return ruleset


QUERY_RULE = "(query)"  # the rule `watcher rules test --query` makes of its query
QUERY_PATH = "--query"  # where its problems are placed: --query:1:COLUMN


def query_rule(text: str, ruleset: RuleSet) -> Rule:
    """A rule of one query, checked as a rule file's `when:` is, against the term lists of
    `ruleset`: what `watcher rules test --query` tries before it goes in a file. Raises
    `RuleError` with each problem placed as --query:1:COLUMN."""
    loader = _Loader()
    loader.lists = {name: (terms, "") for name, terms in ruleset.lists.items()}
    start = yaml.Mark(QUERY_PATH, 0, 0, 0, text, 0)
    node = yaml.ScalarNode("tag:yaml.org,2002:str", text, start_mark=start)
    condition = loader.query(Path(QUERY_PATH), node, text, QUERY_RULE)
    if condition is None:
        raise RuleError(loader.problems)
    return Rule(
        name=QUERY_RULE, description="", condition=condition, text=text, tags=(), notify=(),
        priority=DEFAULT_PRIORITY, path=QUERY_PATH, line=1, order=len(ruleset.rules),
    )  # fmt: skip


class _Loader(ExamplesReader, TermsReader):
    """The term lists and rules of a folder's files: lists as each file is read, rules once
    every list is known."""

    def __init__(self) -> None:
        super().__init__()
        self.raw_rules: list[tuple[Path, yaml.MappingNode]] = []
        self.examples: list[Example] = []
        self.contents: dict[Path, bytes] = {}  # each file's, to place a problem in a condition

    def read(self, path: Path, content: bytes) -> None:
        root = self.compose(path, content)
        if root is None:
            return
        self.contents[path] = content  # read again only to place a problem (`problem_in`)
        top = self.mapping(path, root, {"lists", "rules"}, "rule file", top=True)
        if "lists" in top:
            for name_node, items in self.mapping_items(path, top["lists"], "lists"):
                self.read_list(path, name_node, items)
        if "rules" in top:
            node = top["rules"]
            if not isinstance(node, yaml.SequenceNode):
                self.problem(path, node, "rules must be a list of rules")
            else:
                self.raw_rules += [(path, item) for item in node.value]

    # -- rules -----------------------------------------------------------------------------

    def build_rules(self) -> list[Rule]:
        rules: list[Rule] = []
        names: dict[str, str] = {}
        for order, (path, node) in enumerate(self.raw_rules):
            name = _peek_name(node)
            if name is not None and name in names:
                self.problem(
                    path, node, f"duplicate rule name {name!r} (first defined at {names[name]})"
                )
                continue
            if name is not None:
                names[name] = f"{path}:{node.start_mark.line + 1}"
            rule = self.read_rule(path, node, order)
            if rule is not None:
                rules.append(rule)
        return rules

    def read_rule(self, path: Path, node: yaml.Node, order: int) -> Rule | None:
        m = self.mapping(path, node, RULE_KEYS, "a rule")
        if not m:
            return None
        name = self.name(path, m["name"], "name") if "name" in m else None
        if not name:
            self.problem(path, node, "a rule needs a name")
            return None
        condition, text = self.condition(path, node, m, name)
        priority = (
            self.scalar(path, m["priority"], "priority", int)
            if "priority" in m
            else DEFAULT_PRIORITY
        )
        if priority is not None and priority not in PRIORITIES:
            self.problem(path, m["priority"], "priority must be 1 (low) to 5 (urgent)")
        sources = 1
        if "min_sources" in m:
            sources = self.scalar(path, m["min_sources"], "min_sources", int)
        if sources is not None and sources < 1:
            self.problem(path, m["min_sources"], "min_sources must be 1 or more (outlets)")
        if "examples" in m:
            self.examples += self.read_examples(path, m["examples"], name)
        noted = len(self.problems)
        feeds = self.strings(path, m.get("feeds"), "feeds")
        if "feeds" in m and not feeds and len(self.problems) == noted:  # else: said why
            self.problem(path, m["feeds"], "feeds: names no feed (leave it out for every feed)")
        # read, and their problems noted, whether the condition is sound or not
        description = (
            self.scalar(path, m["description"], "description") if "description" in m else ""
        )
        tags = self.strings(path, m.get("tags"), "tags")
        notify = self.strings(path, m.get("notify"), "notify")
        if condition is None:
            return None
        return Rule(
            name=name,
            description=description,
            condition=condition,
            text=text,
            tags=tags,
            notify=notify,
            priority=priority or 3,
            path=str(path),
            line=node.start_mark.line + 1,
            order=order,
            min_sources=max(sources or 1, 1),
            feeds=feeds,
        )

    def condition(
        self, path: Path, node: yaml.Node, m: dict[str, yaml.Node], name: str
    ) -> tuple[Node | None, str]:
        structured = [k for k in ("any", "all", "none") if k in m]
        if "when" in m and structured:
            self.problem(
                path,
                m[structured[0]],
                f"rule {name!r}: write the condition as 'when' or as any/all/none lists, not both",
            )
            return None, ""
        if "when" in m:
            text = self.scalar(path, m["when"], "when") or ""
            parsed = self.query(path, m["when"], text, name)
            return parsed, text
        if not structured:
            self.problem(
                path, node, f"rule {name!r} has no condition: give 'when' or any/all/none lists"
            )
            return None, ""
        parts: dict[str, list[Node]] = {}
        texts: list[str] = []
        sound = True  # every list read to its end, so that no mistake hides another
        for key in structured:
            items = self.condition_items(path, m[key], key, name, texts)
            sound = sound and items is not None
            if items is not None:
                parts[key] = items
        if not sound:
            return None, ""
        children: list[Node] = []
        if "any" in parts:
            children.append(parts["any"][0] if len(parts["any"]) == 1 else Or(tuple(parts["any"])))
        children += parts.get("all", [])
        if "none" in parts:
            children += [Not(n) for n in parts["none"]]
        return (children[0] if len(children) == 1 else And(tuple(children))), "; ".join(texts)

    def condition_items(
        self, path: Path, node: yaml.Node, key: str, name: str, texts: list[str]
    ) -> list[Node] | None:
        """The queries of one of any/all/none, or None when one of them is wrong."""
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        if not items:
            self.problem(path, node, f"rule {name!r}: {key} is empty")
            return None
        parsed_items: list[Node] = []
        sound = True
        for item in items:
            if not isinstance(item, yaml.ScalarNode):
                self.problem(path, item, f"rule {name!r}: an item of {key} must be a query, "
                             f"one single value, not {kind_of(item)}")  # fmt: skip
                sound = False
                continue
            text = self.scalar(path, item, key) or ""
            parsed = self.query(path, item, text, name)
            if parsed is None:
                sound = False
                continue
            parsed_items.append(parsed)
            texts.append(f"{key}: {text}")
        return parsed_items if sound else None

    def problem_in(
        self, path: Path, node: yaml.Node, message: str, column: int, offset: int
    ) -> None:
        """A problem at `column` of a condition: at the file's line and column of it where
        the condition spans lines (`places`), else on the node's line."""
        place = None
        if isinstance(node, yaml.ScalarNode) and path in self.contents:
            lines = LINE_BREAK.split(utf8_text(self.contents[path]))
            place = source_place(lines, node, column)
        if place is None:
            self.problem(path, node, message, offset + column - 1)
        else:
            self.problem_at(path, *place, message)

    def query(self, path: Path, node: yaml.Node, text: str, name: str) -> Node | None:
        offset = 1 if getattr(node, "style", None) in ('"', "'") else 0
        if not text.strip():
            self.problem(path, node, f"rule {name!r}: empty condition")
            return None
        try:
            parsed = parse(text)
        except QuerySyntaxError as exc:
            self.problem_in(path, node, f"rule {name!r}: {exc}", exc.column, offset)
            return None
        ok = True
        for ref in list_refs(parsed):
            if ref.list not in self.lists:
                known = ", ".join(sorted(self.lists)) or "none defined"
                self.problem_in(
                    path,
                    node,
                    f"rule {name!r}: unknown term list @{ref.list} (known: {known})",
                    ref.column,
                    offset,
                )
                ok = False
            elif ref.entry is not None and ref.entry not in {
                t.name for t in self.lists[ref.list][0]
            }:
                hint = entry_hint(ref.entry, ref.list, self.lists[ref.list][0])
                self.problem_in(
                    path,
                    node,
                    f"rule {name!r}: no entry {ref.entry!r} in term list @{ref.list}{hint}",
                    ref.column,
                    offset,
                )
                ok = False
        return parsed if ok else None


def _place(problem: RuleProblem) -> tuple[str, int, int]:
    return problem.path, problem.line or 0, problem.column or 0


def _peek_name(node: yaml.Node) -> str | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for key, value in node.value:
        if key.value == "name" and isinstance(value, yaml.ScalarNode) and value.value:
            return str(value.value)
    return None
