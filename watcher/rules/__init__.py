"""Rules: term lists and boolean conditions that operators write, check and test.

load_rules(folder) -> RuleSet      (raises RuleError with file:line:col problems)
Matcher(ruleset).match(title, summary, source, body) -> StoryMatch (or .match_story(story))
"""

from watcher.rules.loader import load_rules, rule_files
from watcher.rules.matcher import Matcher, RuleMatch, StoryMatch
from watcher.rules.model import Alias, Rule, RuleSet, Term

__all__ = [
    "Alias",
    "Matcher",
    "Rule",
    "RuleMatch",
    "RuleSet",
    "StoryMatch",
    "Term",
    "load_rules",
    "rule_files",
]
