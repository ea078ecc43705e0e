"""Pair decisions: whether two fingerprinted stories are the same news item, and why.

In: two `Fingerprint`s and the `ClusterSettings`. Out: a `PairScore` with its level (exact,
reprint, same-event or none) and the reason. Pure computation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from itertools import chain

from rapidfuzz import fuzz

from watcher.dedupe.align import aligned, words
from watcher.dedupe.cleaning import MIN_LEAD
from watcher.dedupe.lexicon import is_cjk, is_cyrillic
from watcher.dedupe.recurring import day_swaps, opposite_swaps
from watcher.dedupe.reversals import reversal_swaps
from watcher.dedupe.terms import SPECIFIC, term_key
from watcher.dedupe.text import MASK_WORDS, Fingerprint, is_specific_word
from watcher.models import ClusterLevel

Level = ClusterLevel
LEVEL_RANK: dict[str, int] = {"exact": 3, "reprint": 2, "same-event": 1}


@dataclass(frozen=True, kw_only=True)
class ClusterSettings:
    """Thresholds of the three levels; `window` and `max_span` in seconds."""

    window: float = 72 * 3600.0
    # a same-event link joins a news item only while its first story is this recent (None: off)
    max_span: float | None = 72 * 3600.0
    reprint_lead: float = 90.0  # rapidfuzz ratio of the cleaned leads' first 200 characters
    reprint_title: float = 92.0  # ratio of cleaned titles, used when a story has no lead
    same_event_terms: int = 3  # specific terms both stories must share
    same_event_weight: float = 12.0  # summed weight of all shared terms
    same_event_dice: float = 0.25  # weighted Dice overlap of title + lead terms
    max_postings: int = 500  # newest stories scanned per term when picking candidates


@dataclass(frozen=True, kw_only=True)
class PairScore:
    """Why two stories are, or are not, the same news item."""

    level: Level | None
    reason: str
    hours_apart: float
    title_ratio: float
    lead_ratio: float | None
    shared_terms: tuple[str, ...]
    specific_shared: int
    title_specific_shared: int  # specific words in both titles
    shared_weight: float
    dice: float
    title_conflicts: tuple[str, ...]
    slot_swaps: tuple[str, ...] = ()
    day_swaps: tuple[str, ...] = ()  # other days named in the same wording (`day_swaps`)
    opposite_swaps: tuple[str, ...] = ()  # opposites in the same wording (`opposite_swaps`)
    listed: bool = False  # one story lists the other as coverage of its news

    @property
    def kept_apart(self) -> bool:
        """Whether the pair would have linked but for what tells it apart (`_kept_apart`):
        other names, another day or the opposite in the same wording. (Its swaps alone do
        not say so: `explain` finds them in pairs that would not have linked too.)"""
        return self.level is None and self.reason.startswith(SAME_WORDING)


def compare(
    a: Fingerprint, b: Fingerprint, settings: ClusterSettings, *, explain: bool = False,
    listed: bool = False,
) -> PairScore:  # fmt: skip
    """Score a pair and decide its level (None: not the same news item).

    The name-swap check (a word-level diff) only runs when the cheaper scores would link
    the pair, or when `explain` asks for every score. `listed`: one story's entry lists
    the other's link as coverage of its news, where their fingerprints do not say so (the
    window keeps no story's list).
    """
    a_terms, b_terms = a.terms, b.terms
    hours = abs(a.published - b.published) / 3600
    title_ratio = fuzz.ratio(a.title, b.title)
    # an outlet may cut the lead short: compare equally long beginnings
    common = min(len(a.lead), len(b.lead))
    lead_ratio = fuzz.ratio(a.lead[:common], b.lead[:common]) if common >= MIN_LEAD else None
    shared = sorted(a_terms.keys() & b_terms.keys())
    weight = sum(min(a_terms[t], b_terms[t]) for t in shared)
    total = sum(a_terms.values()) + sum(b_terms.values())
    conflicts = _title_conflicts(a, a_terms, b_terms) | _title_conflicts(b, b_terms, a_terms)
    score = PairScore(
        level=None, reason="", hours_apart=hours, title_ratio=title_ratio, lead_ratio=lead_ratio,
        shared_terms=tuple(shared),
        specific_shared=sum(1 for t in shared if min(a_terms[t], b_terms[t]) >= SPECIFIC),
        title_specific_shared=sum(
            1 for t in set(a.title_keys) & set(b.title_keys)
            if min(a_terms[t], b_terms[t]) >= SPECIFIC
        ),
        shared_weight=weight, dice=2 * weight / total if total else 0.0,
        title_conflicts=tuple(sorted(conflicts)),
        listed=listed or _lists(a, b) or _lists(b, a),
    )  # fmt: skip
    level, reason = _decide(a, b, score, settings, _titles_apart(a, b, a_terms, b_terms))
    if level == "exact" and (told := told_opposite(a.title, b.title)):
        reason = f"{SAME_WORDING}the opposite ({', '.join(told)}) under the {reason}"
        return replace(score, level=None, reason=reason, opposite_swaps=told)
    if level in ("reprint", "same-event") or explain:
        swaps = slot_swaps(a.title, b.title, a_terms, b_terms, a.title_specific,
                           b.title_specific, a.lead, b.lead)  # fmt: skip
        if lead_ratio is not None and lead_ratio >= settings.reprint_lead:
            swaps += slot_swaps(a.lead, b.lead, a_terms, b_terms, a.lead_specific, b.lead_specific)
        texts = [(a.title, b.title), (a.lead, b.lead)] if common else [(a.title, b.title)]
        score = replace(
            score,
            slot_swaps=tuple(dict.fromkeys(swaps)),
            day_swaps=_once_each(day_swaps(*pair) for pair in texts),
            opposite_swaps=_once_each(
                [*opposite_swaps(*pair), *reversal_swaps(*pair, cut=cut)]
                for pair, cut in zip(texts, (False, True), strict=False)  # leads are cut short
            ),
        )
        if level in ("reprint", "same-event") and not score.listed:
            level, reason = _kept_apart(score, level, reason)
    return replace(score, level=level, reason=reason)


def told_opposite(a_title: str, b_title: str) -> tuple[str, ...]:
    """Where two cleaned titles in the same wording tell the opposite, one reversing what
    the other tells ("to resume exports" / "scraps plan to resume exports") or naming the
    opposite action ("lifts ban" / "imposes ban"): a page, or a feed's entry, given a title
    that says its news is off is other news, though its link and guid are the same."""
    if a_title == b_title:
        return ()
    return _once_each([opposite_swaps(a_title, b_title), reversal_swaps(a_title, b_title)])


def _once_each(found: Iterable[list[str]]) -> tuple[str, ...]:
    """The swaps found in titles and leads, each once, in order."""
    return tuple(dict.fromkeys(chain.from_iterable(found)))


SAME_WORDING = "the same wording about "  # begins the reason of a pair `_kept_apart`


def _kept_apart(score: PairScore, level: Level, reason: str) -> tuple[Level | None, str]:
    """No link where aligned wording differs in names, in the day it tells of or in telling
    the opposite."""
    if score.slot_swaps:
        return None, f"{SAME_WORDING}other names ({', '.join(score.slot_swaps)})"
    if score.day_swaps:
        return None, f"{SAME_WORDING}another day ({', '.join(score.day_swaps)})"
    if score.opposite_swaps:
        return None, f"{SAME_WORDING}the opposite ({', '.join(score.opposite_swaps)})"
    return level, reason


def _lists(a: Fingerprint, b: Fingerprint) -> bool:
    """Whether a's entry lists b's link among other outlets' coverage of its news."""
    return bool(b.link) and b.link in a.related


def slot_swaps(
    a_text: str, b_text: str, a_terms: dict[str, float], b_terms: dict[str, float],
    a_specific: int, b_specific: int, a_lead: str = "", b_lead: str = "",
) -> list[str]:  # fmt: skip
    """Aligned spans of at most 3 words where each side holds a specific name the other lacks.

    "import antimony from Tajikistan" against "import antimony from Bolivia" swaps
    tajikistan/bolivia: the same template about other news. Where the texts do not share
    most of their wording (the words they have in common, in order, are fewer than half
    the shorter one's), a swapped word counts only if it recurs in its own story's lead
    (`a_lead`, `b_lead`), as a name the story is about does: two outlets' own headlines
    for one news item align their verbs ("China bans exports of gallium" against "Beijing
    halts shipments of critical minerals": bans/halts), words the leads seldom repeat.
    Numbers are not names: a corrected figure is still the same story. `a_specific` and
    `b_specific` say which words are names: specific (`_specific_words`) or, in a title,
    common words its capitals and its lead show as names (`_named_in_lead`).
    """
    a_words, b_words, opcodes, reworded = aligned(a_text, b_text)
    a_own, b_own = (set(words(a_lead)), set(words(b_lead))) if reworded else (None, None)
    swaps = []
    for tag, i1, i2, j1, j2 in opcodes:
        if tag != "replace" or i2 - i1 > 3 or j2 - j1 > 3:
            continue
        a_names = _names_missing(a_words, i1, i2, a_specific, b_terms, a_own)
        b_names = _names_missing(b_words, j1, j2, b_specific, a_terms, b_own)
        if a_names and b_names:
            swaps.append(f"{a_names[0]}/{b_names[0]}")
    return swaps


def _names_missing(
    words: list[str], start: int, end: int, specific: int, other_terms: dict[str, float],
    own: set[str] | None = None,
) -> list[str]:  # fmt: skip
    """Specific words of `words[start:end]` whose term the other story lacks (and that are
    among `own`, when given); `specific` holds the first words' answers (see
    `_specific_words`). A letter alone is no name: a short Russian title, weighed as
    English, made its prepositions у and в "other names"."""
    return [
        words[i] for i in range(start, end)
        if (len(words[i]) > 1 or is_cjk(words[i]))
        and (specific >> i & 1 if i < MASK_WORDS else is_specific_word(words[i]))
        and not _declined_in(term_key(words[i]), other_terms)
        and (own is None or words[i] in own)
    ]  # fmt: skip


def _declined_in(key: str, terms: dict[str, float]) -> bool:
    """Whether `terms` hold the term `key`, or, for a Cyrillic word, the same word in
    another case: Russian declines a name, and an outlet's wording may put it in another
    (галлий and галлия, Китай and Китая, Японию and Японии), which read as other names. The
    same beginning of 4 letters or more, and at most 3 letters after it on either side."""
    if key in terms:
        return True
    if not is_cyrillic(key):
        return False
    for other in terms:
        if other[:4] != key[:4]:
            continue
        pairs = enumerate(zip(key, other, strict=False))
        common = next((i for i, (x, y) in pairs if x != y), min(len(key), len(other)))
        if len(key) - common <= 3 and len(other) - common <= 3:
            return True
    return False


def _title_conflicts(
    a: Fingerprint, a_terms: dict[str, float], b_terms: dict[str, float]
) -> set[str]:
    """Specific words of a's title found nowhere in b's title or lead (in no case of it,
    for a Russian word: `_declined_in`)."""
    return {
        t for t in a.title_keys if a_terms.get(t, 0) >= SPECIFIC and not _declined_in(t, b_terms)
    }


def _titles_apart(
    a: Fingerprint, b: Fingerprint, a_terms: dict[str, float], b_terms: dict[str, float]
) -> bool:
    """Whether both stories have titles and neither title has a word (a term) found in the
    other story. A reprint's headline, however rewritten, tells of its lead, which the
    other story shares; headlines of other news over one lead tell of the lead neither: it
    is a notice the outlet runs atop every story ("Subscribe to read the full story")."""
    return (
        bool(a.title_keys) and bool(b.title_keys)
        and not any(t in b_terms for t in a.title_keys)
        and not any(t in a_terms for t in b.title_keys)
    )  # fmt: skip


# Specific words two titles must share to make title-only stories reprints: a recurring
# column ("Daily metals market report", "Gallium price assessment") repeats its title over
# other news every day, and a real headline names two things or more.
TITLE_ONLY_SPECIFIC = 2
# Terms of a headline that outlets print word for word, naming one specific word, from which
# their title-only stories are reprints (`_syndicated`)
SYNDICATED_TERMS = 5


def _syndicated(a: Fingerprint, b: Fingerprint, s: PairScore) -> bool:
    """Whether two outlets print one headline word for word, naming a specific word and
    `SYNDICATED_TERMS` terms or more ("UK to ban exports of antimony to Russia", an agency's
    story in a hundred papers, each its own entry in a Google News feed): a reprint, where
    one outlet's recurring column, which repeats its title over other news, is not."""
    return (
        a.title == b.title and bool(a.outlet) and bool(b.outlet) and a.outlet != b.outlet
        and s.title_specific_shared >= 1 and len(a.title_keys) >= SYNDICATED_TERMS
    )  # fmt: skip


def _decide(
    a: Fingerprint, b: Fingerprint, s: PairScore, settings: ClusterSettings,
    apart: bool = False,
) -> tuple[Level | None, str]:  # fmt: skip
    """The pair's level and why. `apart`: each story has a title, and neither title a word
    found in the other story (`_titles_apart`)."""
    if a.link and a.link == b.link:
        return "exact", "same canonical link"
    if a.guid and a.guid == b.guid:
        return "exact", "same guid"
    if abs(a.published - b.published) > settings.window:
        return None, f"published {s.hours_apart:.1f} h apart, beyond the window"
    alike = s.lead_ratio is not None and s.lead_ratio >= settings.reprint_lead
    if alike and not apart:
        return "reprint", f"leads {s.lead_ratio:.1f}% alike"
    title_only = s.lead_ratio is None
    if (
        title_only
        and len(set(a.title_keys) & set(b.title_keys)) >= 2
        and not s.title_conflicts
        and s.title_ratio >= settings.reprint_title
    ):
        if s.title_specific_shared >= TITLE_ONLY_SPECIFIC:
            return "reprint", f"titles {s.title_ratio:.1f}% alike, one story has no lead"
        if _syndicated(a, b, s):
            return "reprint", "the same title from another outlet, one story has no lead"
    if s.listed:  # the site that lists both (Google News) took them for one news item
        return "same-event", "listed together as coverage of one news item"
    if (
        s.specific_shared >= settings.same_event_terms
        and s.shared_weight >= settings.same_event_weight
        and s.dice >= settings.same_event_dice
    ):
        return "same-event", (
            f"{s.specific_shared} specific terms shared, weight {s.shared_weight:.2f}, "
            f"dice {s.dice:.3f}"
        )
    if alike:  # and apart
        return None, (
            f"leads {s.lead_ratio:.1f}% alike, but neither title has a word of the other story"
        )
    return None, (
        f"{s.specific_shared} specific terms shared (need {settings.same_event_terms}), "
        f"weight {s.shared_weight:.2f} (need {settings.same_event_weight:g}), "
        f"dice {s.dice:.3f} (need {settings.same_event_dice:g})"
    )
