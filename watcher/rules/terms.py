"""Read the term lists of rule files: each term's name, aliases and exclusions.

In: a rule file's `lists:` entries as YAML nodes. Out: `Term`s with their `Alias`es, kept by
list name in `TermsReader.lists`; each problem noted where it is written; and, for a
condition's `@list:"Entry"` that no term is named, the term meant (`entry_hint`).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from watcher.rules.folding import excluding, has_word
from watcher.rules.model import Alias, Term
from watcher.rules.nodes import NodeReader, kind_of, not_a_list
from watcher.spelling import did_you_mean

TERM_KEYS = {"name", "aliases", "case_sensitive", "plural", "not_followed_by", "not_preceded_by"}
ALIAS_KEYS = {"text", "case_sensitive", "plural"}


class TermsReader(NodeReader):
    """Reads term lists, noting each problem: `lists` maps each list's name to its terms and
    where it is defined."""

    def __init__(self) -> None:
        super().__init__()
        self.lists: dict[str, tuple[tuple[Term, ...], str]] = {}

    def mapping_items(
        self, path: Path, node: yaml.Node, what: str
    ) -> list[tuple[yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            self.problem(path, node, f"{what} must map list names to lists of terms")
            return []
        return list(node.value)

    def read_list(self, path: Path, name_node: yaml.Node, items: yaml.Node) -> None:
        name = str(name_node.value)
        if name in self.lists:
            self.problem(
                path, name_node, f"term list {name!r} is already defined in {self.lists[name][1]}"
            )
            return
        if not isinstance(items, yaml.SequenceNode):
            self.problem(path, items, f"term list {name!r} must be a list of terms")
            return
        terms = [t for item in items.value if (t := self.read_term(path, item))]
        seen: set[str] = set()
        for term, item in zip(terms, items.value, strict=False):
            if term.name in seen:
                self.problem(path, item, f"term {term.name!r} appears twice in list {name!r}")
            seen.add(term.name)
        self.lists[name] = (tuple(terms), f"{path}:{name_node.start_mark.line + 1}")

    def read_term(self, path: Path, node: yaml.Node) -> Term | None:
        if isinstance(node, yaml.ScalarNode):
            name = self.term_name(path, node, "a term")
            return Term(name=name, aliases=(Alias(name),)) if name else None
        if not isinstance(node, yaml.MappingNode):
            self.problem(path, node, f"a term must be a name or a mapping with a name, not "
                         f"{kind_of(node)}: write each term as an item of its own")  # fmt: skip
            return None
        m = self.mapping(path, node, TERM_KEYS, "a term")
        if "name" not in m:
            self.problem(path, node, "a term needs a name")
            return None
        name = self.term_name(path, m["name"], "name")
        case = (
            bool(self.scalar(path, m["case_sensitive"], "case_sensitive", bool))
            if "case_sensitive" in m
            else False
        )
        plural = bool(self.scalar(path, m["plural"], "plural", bool)) if "plural" in m else False
        aliases = [Alias(name, case, plural)] if name else []
        alias_nodes = m["aliases"].value if isinstance(m.get("aliases"), yaml.SequenceNode) else []
        if "aliases" in m and not isinstance(m["aliases"], yaml.SequenceNode):
            self.problem(path, m["aliases"], not_a_list("aliases", m["aliases"]))
        for alias_node in alias_nodes:
            alias = self.read_alias(path, alias_node, case, plural)
            if alias is not None and alias not in aliases:
                aliases.append(alias)
        if not name:
            return None
        return Term(
            name=name,
            aliases=tuple(aliases),
            not_followed_by=tuple(
                map(excluding, self.strings(path, m.get("not_followed_by"), "not_followed_by"))
            ),
            not_preceded_by=tuple(
                map(excluding, self.strings(path, m.get("not_preceded_by"), "not_preceded_by"))
            ),
        )

    def term_name(self, path: Path, node: yaml.Node, what: str) -> str | None:
        """A term's name, which is reported as found, so no wildcard, and matched, so with
        a letter or digit."""
        name = self.name(path, node, what)
        if name and not has_word(name):
            self.problem(path, node, f"a term's name is matched as an alias is, and {name!r} "
                         "has no letter or digit, so it finds nothing")  # fmt: skip
            return None
        if name and name.endswith("*"):
            self.problem(path, node, f"a term's name is what is reported, so it cannot end in "
                         f"*: write {{name: ..., aliases: [{name}]}}")  # fmt: skip
            return None
        return name

    def read_alias(self, path: Path, node: yaml.Node, case: bool, plural: bool) -> Alias | None:
        if isinstance(node, yaml.ScalarNode):
            text = self.scalar(path, node, "an alias")
            return self.alias(path, node, text, case, plural) if text else None
        if not isinstance(node, yaml.MappingNode):
            self.problem(path, node, f"an alias must be a text or a mapping with a text, not "
                         f"{kind_of(node)}: write each alias as an item of its own")  # fmt: skip
            return None
        m = self.mapping(path, node, ALIAS_KEYS, "an alias")
        text = self.scalar(path, m["text"], "text") if "text" in m else None
        if not text:
            self.problem(path, node, "an alias needs a text")
            return None
        if "case_sensitive" in m:
            case = bool(self.scalar(path, m["case_sensitive"], "case_sensitive", bool))
        if "plural" in m:
            plural = bool(self.scalar(path, m["plural"], "plural", bool))
        return self.alias(path, node, text, case, plural)

    def alias(
        self, path: Path, node: yaml.Node, text: str, case: bool, plural: bool
    ) -> Alias | None:
        """An alias as written; one ending in * is a trailing wildcard, which finds the
        words that begin so (`галли*`: галлий, галлия, галлием), plural or not."""
        if not text.endswith("*"):
            if not has_word(text):
                self.problem(path, node, f"alias {text!r} has no letter or digit, so it finds "
                             "nothing: write it with the words around it")  # fmt: skip
                return None
            return Alias(text, case, plural)
        stem = text[:-1]
        if not stem[-1:].isalnum():
            self.problem(path, node, f"alias {text!r}: a wildcard * must follow a letter or "
                         "digit, once, at the alias's end")  # fmt: skip
            return None
        return Alias(stem, case, wildcard=True)


def entry_hint(entry: str, list_name: str, terms: tuple[Term, ...]) -> str:
    """What a problem adds for an entry that no term of the list is named: the term it is
    an alias of (entries are named by a term's name), or a name it is close to."""
    if entry.lower() in (t.name.lower() for t in terms):
        return did_you_mean(entry, (t.name for t in terms))
    for term in terms:
        if any(alias.text.lower() == entry.lower() for alias in term.aliases):
            return f' ({entry!r} is an alias of {term.name!r}: write @{list_name}:"{term.name}")'
    return did_you_mean(entry, (t.name for t in terms))
