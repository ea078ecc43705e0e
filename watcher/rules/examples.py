"""A rule's `examples:`: stories it must match and must not, read from its file and checked
whenever the rules load, so an edit that breaks what a rule was written for never takes
effect.

In: a rule's `examples:` node, then the loaded `RuleSet`. Out: `Example`s, then the
`RuleProblem`s of those the rule does not bear out, each placed where it is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import yaml

from watcher.errors import RuleProblem
from watcher.normalise import composed
from watcher.rules.condition import Hit
from watcher.rules.matcher import Matcher
from watcher.rules.model import Example, RuleSet
from watcher.rules.nodes import NodeReader, kind_of, not_a_list

EXAMPLE_KINDS = {"match": True, "no_match": False}
EXAMPLE_KEYS = {"title", "summary", "body", "source"}


class ExamplesReader(NodeReader):
    """Reads a rule's examples, noting each problem."""

    def read_examples(self, path: Path, node: yaml.Node, rule: str) -> list[Example]:
        """`examples:` of a rule: `match:` and `no_match:` lists of stories, each a title,
        or a mapping of title, summary, body and source."""
        kinds = self.mapping(path, node, set(EXAMPLE_KINDS), "examples")
        if isinstance(node, yaml.MappingNode) and not node.value:
            self.problem(path, node, f"rule {rule!r}: examples need match: or no_match: lists")
        examples = []
        for kind, items in kinds.items():
            if not isinstance(items, yaml.SequenceNode):
                self.problem(path, items, not_a_list(f"rule {rule!r}: examples {kind}", items))
                continue
            for item in items.value:
                fields = self.example_fields(path, item, rule)
                if fields is not None:
                    examples.append(Example(
                        rule=rule, match=EXAMPLE_KINDS[kind], **fields, path=str(path),
                        line=item.start_mark.line + 1, column=item.start_mark.column + 1,
                    ))  # fmt: skip
        return examples

    def example_fields(self, path: Path, node: yaml.Node, rule: str) -> dict[str, str] | None:
        """An example's text by field: a scalar is a title."""
        if isinstance(node, yaml.ScalarNode):
            fields = {"title": composed(self.scalar(path, node, "an example") or "")}
        elif not isinstance(node, yaml.MappingNode):
            self.problem(path, node, f"rule {rule!r}: an example must be a title or a mapping "
                         f"of title, summary, body and source, not {kind_of(node)}")  # fmt: skip
            return None
        else:
            m = self.mapping(path, node, EXAMPLE_KEYS, "an example")
            fields = {
                key: composed(self.scalar(path, value, key) or "") for key, value in m.items()
            }
        if not any(fields.get(key, "").strip() for key in ("title", "summary", "body")):
            self.problem(path, node, f"rule {rule!r}: an example needs a title, summary or body")
            return None
        return {"title": "", **fields}


def failed_examples(ruleset: RuleSet) -> list[RuleProblem]:
    """The examples their rule does not bear out, each placed where it is written: a rule
    that matches what it says it must not, or misses what it says it must."""
    if not ruleset.examples:
        return []
    matcher = Matcher(ruleset)
    problems = []
    for example in ruleset.examples:
        found = matcher.match(example.title, example.summary, example.source, example.body)
        held = next((m for m in found.rules if m.rule == example.rule), None)
        if (held is not None) == example.match:
            continue
        message = f"rule {example.rule!r} does not match this example, which it must"
        if held is not None:
            message = (
                f"rule {example.rule!r} matches this example, which it must not: {held.clause}"
                f" (found: {_found(example, held.hits)})"
            )
        at = example.path, example.line, example.column
        problems.append(RuleProblem(path=at[0], line=at[1], column=at[2], message=message))
    return problems


def _found(example: Example, hits: Iterable[Hit]) -> str:
    """The words of `example` that the hits point at, each once."""
    text = {"title": example.title, "summary": example.summary, "body": example.body,
            "source": example.source}  # fmt: skip
    return ", ".join(dict.fromkeys(text[hit.field][hit.start : hit.end] for hit in hits))
