"""The plain data of a rule set: term lists, their aliases, and rules."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from watcher.models import named_in
from watcher.rules.query import Node

DEFAULT_PRIORITY = 3  # of a rule that gives none, on the scale 1 (low) to 5 (urgent)


@dataclass(frozen=True)
class Alias:
    """One way a term is written."""

    text: str
    case_sensitive: bool = False
    plural: bool = False
    wildcard: bool = False

    def forms(self) -> tuple[str, ...]:
        """The alias, and its plural when asked for (rare earth -> rare earths, battery ->
        batteries)."""
        if not self.plural:
            return (self.text,)
        text, lower = self.text, self.text.lower()
        if lower.endswith("y") and lower[-2:-1] not in ("", *"aeiouy"):  # not day -> daies
            return (text, text[:-1] + "ies")
        suffix = "es" if lower.endswith(("s", "x", "z", "ch", "sh")) else "s"
        return (text, text + suffix)


@dataclass(frozen=True)
class Term:
    """An entry of a term list: a canonical name, its aliases and exclusions."""

    name: str
    aliases: tuple[Alias, ...]
    not_followed_by: tuple[str, ...] = ()  # lower-case words or phrases
    not_preceded_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    condition: Node
    text: str  # the condition as written
    tags: tuple[str, ...]
    notify: tuple[str, ...]  # subscriber names
    priority: int
    path: str
    line: int
    order: int  # position in the rule set, for stable output
    min_sources: int = 1  # outlets its news item needs before a match alerts
    feeds: tuple[str, ...] = ()  # names or tags of the feeds whose stories it takes; () all

    def takes(self, feed: str, tags: Iterable[str] = ()) -> bool:
        """Whether a story of the feed named `feed`, with `tags`, may match the rule: any
        feed's, or one its `feeds:` names (by name or tag)."""
        return not self.feeds or named_in(self.feeds, feed, tags)


@dataclass(frozen=True)
class Example:
    """A story a rule file says its rule matches (`match`), or does not: every load checks it."""

    rule: str
    match: bool
    title: str
    summary: str = ""
    body: str = ""
    source: str = ""
    path: str = ""  # where it is written
    line: int = 0
    column: int = 0


@dataclass(frozen=True)
class RuleSet:
    lists: dict[str, tuple[Term, ...]]
    rules: tuple[Rule, ...]
    version: str  # a hash of every rule file's content
    files: tuple[str, ...]
    examples: tuple[Example, ...] = ()  # every one checked: each rule did as it says

    @cached_property
    def min_sources(self) -> dict[str, int]:
        """Each rule's `min_sources`, by name."""
        return {r.name: r.min_sources for r in self.rules}

    @property
    def waits(self) -> bool:
        """Whether a rule waits for its news item's outlets."""
        return any(n > 1 for n in self.min_sources.values())

    def summary(self) -> str:
        terms = sum(len(t) for t in self.lists.values())
        examples = f", {len(self.examples)} examples" if self.examples else ""
        return (
            f"{len(self.files)} files, {len(self.lists)} term lists ({terms} terms), "
            f"{len(self.rules)} rules{examples}, version {self.version}"
        )
