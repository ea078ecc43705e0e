"""Stored stories a late story may repeat: those the clustering window no longer holds.

The window holds the stories published within twice `clustering.window` of now: all that
a story published within `window` of now is compared with. One published earlier (a feed
back after days of outage) may repeat stories published before the window's start. So the
stored stories published before that start and within `window` of it that may link to it
are put back in the window first: those sharing its link or guid, listed by its entry as
coverage of its news or listing it, holding the beginning of its lead (`slots.LEAD_KEY`
characters), or naming at least two of its specific terms (its one, for a story that has
one, or whose lead names one thing or none, as a reprint under another headline may share
no other). A look at their text picks them, far cheaper than their
fingerprints; the window then scores them as any other.

In: late stories' fingerprints, stored stories' text (`store.window.StoryText`). Out:
which stored stories to put back, most alike first. Pure computation.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from operator import attrgetter
from typing import NamedTuple, Protocol

from watcher.dedupe.cleaning import MIN_LEAD
from watcher.dedupe.lexicon import is_cjk
from watcher.dedupe.slots import LEAD_KEY
from watcher.dedupe.terms import SPECIFIC_HUNDREDTHS, undotted
from watcher.dedupe.text import TERM_TEXT_CHARS, Fingerprint
from watcher.hanzi import simplified
from watcher.urls import comparable_url

RECALL_LIMIT = 1000  # stored stories put back in the window for one poll's late stories
# of a stored summary, what is searched: the words terms are made of, after a dateline or a
# copy of the title (`text.clean_lead`), are within its first 800 characters but for a
# title longer than 300
RECALL_CHARS = 2 * TERM_TEXT_CHARS
EXACT = 1 << 30  # a shared link, guid or lead beginning outranks any count of shared terms


class StoredText(Protocol):
    """What is read of a stored story to tell whether it may be a late story's copy."""

    @property
    def id(self) -> str: ...
    @property
    def published(self) -> int: ...  # POSIX seconds
    @property
    def title(self) -> str: ...
    @property
    def summary(self) -> str: ...  # its beginning
    @property
    def link(self) -> str: ...
    @property
    def guid(self) -> str | None: ...
    @property
    def related(self) -> str: ...  # links, one a line


class Late(NamedTuple):
    """A late story as recall looks for its copies."""

    start: float  # POSIX seconds: its copies are published from here...
    end: float  # ...until before here: where the window begins, or `window` after the story
    link: str  # as compared (`comparable_url`)
    guid: str | None  # as its feed gives it
    related: frozenset[str]
    keys: tuple[str, ...]  # its specific terms that are words, not numbers
    needed: int  # of `keys` a copy names: 2, or fewer where it has, or its lead names, fewer
    lead: str = ""  # its lead's beginning as `searchable` writes it ('' for no lead)


def late_story(fp: Fingerprint, guid: str | None, window: float, held_since: float) -> Late:
    """What recall looks for of a story published less than `window` after `held_since`,
    where the window begins; `guid`: the story's own."""
    keys = tuple(
        key for key, weight in zip(fp.term_keys, fp.term_weights, strict=True)
        if weight >= SPECIFIC_HUNDREDTHS and not key[0].isdigit()  # "2,000" is written so
    )  # fmt: skip
    end = min(fp.published + window, held_since)
    has_lead = len(fp.lead) >= MIN_LEAD
    needed = min(2, len(keys), max(1, fp.lead_specific.bit_count()) if has_lead else 2)
    lead = searchable(fp.lead[:LEAD_KEY]) if has_lead else ""
    return Late(fp.published - window, end, fp.link, guid, frozenset(fp.related), keys,
                needed, lead)  # fmt: skip


def spans(lates: Iterable[Late]) -> list[tuple[float, float, list[Late]]]:
    """The times to read stored stories of, overlapping ones joined, each with the late
    stories whose copies it may hold."""
    joined: list[tuple[float, float, list[Late]]] = []
    for late in sorted(lates, key=attrgetter("start")):  # whole tuples: None < str raises
        if joined and late.start <= joined[-1][1]:
            start, end, group = joined[-1]
            joined[-1] = (start, max(end, late.end), [*group, late])
        else:
            joined.append((late.start, late.end, [late]))
    return joined


def likeness(group: Sequence[Late], stored: StoredText) -> int:
    """How alike a stored story is to the likeliest of the late stories it may repeat:
    `EXACT` for a shared link, guid or coverage link, or the beginning of its lead, else
    the specific terms it names, 0 if it names too few or was published too far from each."""
    link = comparable_url(stored.link) if stored.link else ""
    listed = {comparable_url(r) for r in stored.related.split("\n")} if stored.related else ()
    text, best = "", 0
    for late in group:
        if not late.start <= stored.published < late.end:
            continue
        if link and (link == late.link or link in late.related):
            return EXACT
        if late.link and late.link in listed:
            return EXACT
        if stored.guid and stored.guid == late.guid:
            return EXACT
        if late.needed or late.lead:
            text = text or searchable(f"{stored.title}\n{stored.summary}")
            if late.lead and late.lead in text:
                return EXACT
            named = sum(key in text for key in late.keys)
            if named >= late.needed:
                best = max(best, named)
    return best


def searchable(text: str) -> str:
    """Text (a stored story's title and summary, a late story's lead) as terms are written:
    lower-case, abbreviations without their dots (`terms.undotted`), a straight
    apostrophe, Chinese simplified (a term is the beginning of a word, so it is found in
    the word)."""
    text = undotted(text.lower())
    if text.isascii():
        return text
    text = text.replace("’", "'")
    return simplified(text) if is_cjk(text) else text


def recalled(found: Iterable[tuple[Sequence[Late], StoredText]], held: set[str]) -> list[str]:
    """The ids of the stored stories to put back, most alike first, at most `RECALL_LIMIT`,
    of those `found`, each with the late stories it may repeat; those in `held` the window
    has already."""
    picked: list[tuple[int, int, str]] = []
    for lates, text in found:
        if text.id not in held and (score := likeness(lates, text)):
            picked.append((score, text.published, text.id))
            if len(picked) >= 2 * RECALL_LIMIT:
                picked = heapq.nlargest(RECALL_LIMIT, picked)
    return [story for *_, story in heapq.nlargest(RECALL_LIMIT, picked)]
