"""Which stories of the clustering window are worth scoring against a new one.

In: a new story's `Row` and the window's columns (`WindowSlots`). Out: candidate slots, with
the specific terms each shares; and, for a slot, whether the pair could link at all, told
from the columns without building a score. Pure reads of the window.
"""

from __future__ import annotations

import heapq
from collections import Counter
from functools import partial
from itertools import compress
from operator import le

from rapidfuzz import fuzz

from watcher.dedupe.cleaning import MIN_LEAD
from watcher.dedupe.pairs import TITLE_ONLY_SPECIFIC, ClusterSettings
from watcher.dedupe.slots import FEW_NAMES, Row, WindowSlots, exact_keys, lead_key, link_key
from watcher.dedupe.terms import SPECIFIC_HUNDREDTHS
from watcher.dedupe.text import SHORT_TERMS


class Candidates(WindowSlots):
    """The window's columns, read for the candidates of a new story (`ClusterIndex`)."""

    settings: ClusterSettings

    def _candidates_of(self, row: Row) -> tuple[list[int], Counter[int], int, set[int]]:
        """Slots worth scoring against a new story; how many specific terms each slot shares
        with it; the oldest slot from which those counts are whole (a long posting list
        is scanned only from its newest `max_postings` slots); and the slots listed with it
        as coverage of one news item (by its entry, or theirs)."""
        hits: Counter[int] = Counter()
        limit, counted_from = self.settings.max_postings, 0
        postings, single = self._postings, []
        for term in row.specific:
            slots = postings[term]
            if isinstance(slots, int):
                single.append(slots)
            elif slots is not None:
                hits.update(slots[-limit:])  # counted in C: no Python call per posting
                if len(slots) > limit:  # slots in ascending order: older ones were not seen
                    counted_from = max(counted_from, slots[-limit])
        hits.update(single)
        needed = self._hits_needed(row)
        found = set(compress(hits.keys(), map(partial(le, needed), hits.values())))  # in C
        if needed > TITLE_ONLY_SPECIFIC:  # a story without a lead is a reprint by its title
            two = compress(hits.keys(), map(partial(le, TITLE_ONLY_SPECIFIC), hits.values()))
            found.update(
                slot for slot in two if slot not in found and self._lead_chars(slot) < MIN_LEAD
            )
        keyed, link, guid = self._keyed, self._link, self._guid
        # under a link's key: the slots of that link, and those whose entry lists it
        by_link = keyed.get(link_key(row.link)) if row.link else []
        listed = {slot for slot in by_link if link[slot] != row.link}
        for other in row.related:  # the slots of the links its entry lists
            listed.update(slot for slot in keyed.get(link_key(other)) if link[slot] == other)
        found.update(by_link)
        found |= listed
        for key in exact_keys(0, row.guid, row.title):
            found.update(keyed.get(key))
        if len(row.lead) >= MIN_LEAD:  # many leads may begin alike: the newest, as per term
            found.update(heapq.nlargest(limit, keyed.get(lead_key(row.lead))))
        found.difference_update(self._retired)
        oldest, published = row.published - self.settings.window, self._published
        return sorted(
            slot for slot in found if published[slot] >= oldest
            or (row.link and link[slot] == row.link) or (row.guid and guid[slot] == row.guid)
        ), hits, counted_from, listed  # fmt: skip

    def _hits_needed(self, row: Row) -> int:
        """Shared specific terms that make a candidate: 3, or 2 for a short story, whose
        reprints may share no more; never more than a same-event link needs, nor than the
        specific words of a lead (but 1): a reprint, known by its lead, may share no more."""
        if len(row.lead) < MIN_LEAD:  # title-only: a reprint by its title shares no more
            needed = TITLE_ONLY_SPECIFIC
        else:
            needed = 2 if len(row.specific) < SHORT_TERMS else FEW_NAMES
            needed = min(needed, max(1, row.specific_words[1].bit_count()))
        return min(needed, self.settings.same_event_terms)

    def _could_link(
        self, a: Row, a_terms: dict[int, int], a_total: int, slot: int, shares: bool = True
    ) -> bool:
        """The conditions of `_decide` without the name-swap veto and the titles' check of
        leads alike, computed cheaply from the columns, for a new story (its terms by id,
        and their summed weight) and a slot. Without `shares`, the pair is known to share
        too few specific terms to be the same event, and only the exact and reprint
        conditions are checked.

        Every pair `compare` would link passes; most pairs that share a few words fail here
        without building a score. Weights are in hundredths, sums exact.
        """
        s = self.settings
        if (a.link and a.link == self._link[slot]) or (a.guid and a.guid == self._guid[slot]):
            return True
        if abs(a.published - self._published[slot]) > s.window:
            return False
        text, title_len = self._text_of(slot), self._title_len[slot]
        common = min(len(a.lead), len(text) - title_len)
        if common >= MIN_LEAD:
            b_lead = text[title_len : title_len + common]
            if fuzz.ratio(a.lead[:common], b_lead, score_cutoff=s.reprint_lead):
                return True
        elif fuzz.ratio(a.title, text[:title_len], score_cutoff=s.reprint_title):
            return True
        if not shares:
            return False
        start, end = self._terms_at[slot], self._terms_at[slot + 1]
        b_weights = self._term_weights[start:end]
        b_terms = dict(zip(self._term_ids[start:end], b_weights, strict=True))
        shared = a_terms.keys() & b_terms.keys()  # in C
        if len(shared) < s.same_event_terms:
            return False
        weight = specific = 0
        for term in shared:
            low = min(a_terms[term], b_terms[term])
            weight += low
            specific += low >= SPECIFIC_HUNDREDTHS
        if specific < s.same_event_terms or weight < s.same_event_weight * 100:
            return False
        return 2 * weight / (a_total + sum(b_weights)) >= s.same_event_dice
