"""Fold near-identical stories into story clusters.

In: `Story` objects. Out: cluster decisions (`Assignment`) and pair scores (`PairScore`).
Pure computation; the service persists what it decides through `store`.

Two stories are linked at one of three levels:
- exact: the same canonical link or the same guid;
- reprint: the same wire text once datelines, credit lines, outlet suffixes and UPDATE
  prefixes are set aside (near-identical lead, under titles one of which has a word of the
  other story, or for a title-only story, near-identical title with no specific word of
  either title missing from the other story);
- same-event: other wording of the same news, published within the window, sharing enough
  *specific* terms (names, rare words and numbers) and enough of their weighted wording;
  or listed by the other's entry as coverage of its news (Google News lists so).
Unless listed, two stories whose aligned wording names other names or another day, or tells
the opposite (a template about other news, a report that recurs) are not linked.

A term's weight is its rarity in general English (wordfreq's Zipf scale: 6 minus the
frequency, so "the" weighs nothing and "gallium" about 4.4), and in a story's own language
when that is another (`lexicon.languages_of`); Chinese and Japanese are cut into words
first, traditional characters read as simplified. A weight does not depend on the stories
seen, so a pair's decision depends on that pair alone. Clusters are the connected
components of these links: the same set of stories gives the same partition in any order.
"""

from watcher.dedupe.cleaning import clean_lead, clean_title
from watcher.dedupe.identity import moved_stories, reused_guid, reversed_entry
from watcher.dedupe.pairs import LEVEL_RANK, ClusterSettings, Level, PairScore, compare, slot_swaps
from watcher.dedupe.recurring import day_swaps, opposite_swaps
from watcher.dedupe.terms import term_weight
from watcher.dedupe.text import SUMMARY_CHARS, Fingerprint, fingerprint, fingerprints
from watcher.dedupe.window import ClusterIndex, cluster_batch

__all__ = [
    "LEVEL_RANK",
    "SUMMARY_CHARS",
    "ClusterIndex",
    "ClusterSettings",
    "Fingerprint",
    "Level",
    "PairScore",
    "clean_lead",
    "clean_title",
    "cluster_batch",
    "compare",
    "day_swaps",
    "fingerprint",
    "fingerprints",
    "moved_stories",
    "opposite_swaps",
    "reused_guid",
    "reversed_entry",
    "slot_swaps",
    "term_weight",
]  # fmt: skip
