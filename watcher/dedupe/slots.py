"""The clustering window's storage: recent stories as slots in flat columns.

In: `Fingerprint`s, as `Row`s with their terms numbered. Out: a slot's fields, its text and
its fingerprint rebuilt; the slots that hold a specific term or an exact key. Pure data
structures, no I/O: `window.ClusterIndex` decides what goes in and what is scored.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from functools import partial
from itertools import compress, count
from operator import le, not_
from typing import Any

from watcher.dedupe.cleaning import MIN_LEAD
from watcher.dedupe.columns import (
    SlotTable,
    StoryIds,
    Vocabulary,
    compact,
    keep_in_place,
    moved_postings,
    renumbering,
)
from watcher.dedupe.terms import SPECIFIC_HUNDREDTHS, words_of
from watcher.dedupe.text import Fingerprint

# a lead with fewer specific words than a candidate may need to share (see
# `ClusterIndex._hits_needed`) is found by its beginning too: see `exact_keys`
FEW_NAMES = 3
# characters of a lead's beginning it is found under: of the MIN_LEAD a reprint's lead is
# compared on at least, a lead cut short may end in "…" or " [...]"
LEAD_KEY = MIN_LEAD - 8


class WindowSlots:
    """Stories in columns, not as `Fingerprint` objects: the window holds hundreds of
    thousands. A story is a slot in flat arrays, its terms are numbers in a vocabulary, its
    link and guid are their hashes; a slot's fingerprint is rebuilt only to score a pair
    that may link. Specific terms and exact keys (link, guid, title, the beginning of a
    lead with few names) lead to their slots."""

    def __init__(self) -> None:
        self._ids = StoryIds()
        self._published = array("d")
        self._cluster = array("q")  # cluster on insertion (the index follows merges from it)
        self._began = array("d")  # when its cluster's first story was published, as known then
        self._link = array("q")  # hash of the link, 0 for none
        self._guid = array("q")
        self._outlet = array("i")  # `outlet_hash` of the source: 4 bytes, as few outlets
        self._text = bytearray()  # cleaned titles + leads, UTF-8: most news is ASCII
        self._text_at = array("I", [0])  # slot i's text: [_text_at[i], _text_at[i + 1])
        self._title_len = array("I")
        self._title_terms = array("I")  # a fingerprint's title terms come first in its terms
        self._title_specific = array("Q")
        self._lead_specific = array("Q")
        self._terms_at = array("I", [0])  # slot i's terms: [_terms_at[i], _terms_at[i + 1])
        self._term_ids = array("I")
        self._term_weights = array("H")
        self._words: list[str] = []  # id -> term
        # specific term id -> its slots, oldest first: one slot as an int (most names are rare)
        self._postings: list[array[int] | int | None] = []
        self._vocab = Vocabulary(self._words, self._postings)  # term -> id
        self._keyed = SlotTable()  # hash of link, guid or title -> slots
        self._retired: set[int] = set()  # slots of stories held since in a newer slot

    def __len__(self) -> int:
        return len(self._ids)

    def _forget_words(self, kept: int) -> None:
        """Forget the terms numbered from `kept` on: new terms of rows taken back."""
        for word in self._words[kept:]:
            del self._vocab[word]
        del self._words[kept:], self._postings[kept:]

    def _row(self, fp: Fingerprint) -> Row:
        """A fingerprint as the window keeps it, its new terms given ids."""
        title_terms = len(fp.title_keys)
        assert fp.term_keys[:title_terms] == fp.title_keys, "title terms come first"
        link, guid = hash(fp.link) if fp.link else 0, hash(fp.guid) if fp.guid else 0
        row = self._made_row(
            fp.id, fp.published, link, guid, fp.title, fp.lead, fp.term_keys, fp.term_weights,
            title_terms, (fp.title_specific, fp.lead_specific), outlet_hash(fp.outlet),
        )  # fmt: skip
        if fp.related:
            row.related = tuple(map(hash, fp.related))
        return row

    def _made_row(
        self, id: str, published: float, link: int, guid: int, title: str, lead: str,
        keys: tuple[str, ...], weights: array[int], title_terms: int,
        specific_words: tuple[int, int], outlet: int,
    ) -> Row:  # fmt: skip
        found = list(map(self._vocab.__getitem__, keys))  # in C, as below: new terms numbered
        return Row(
            id=id, published=published, link=link, guid=guid, outlet=outlet, title=title,
            lead=lead,
            weights=weights, title_terms=title_terms, specific_words=specific_words,
            ids=array("I", found),
            specific=list(compress(found, map(partial(le, SPECIFIC_HUNDREDTHS), weights))),
        )  # fmt: skip

    def _text_of(self, slot: int) -> str:
        return self._text[self._text_at[slot] : self._text_at[slot + 1]].decode()

    def _lead_chars(self, slot: int) -> int:
        raw = self._text[self._text_at[slot] : self._text_at[slot + 1]]
        return (len(raw) if raw.isascii() else len(raw.decode())) - self._title_len[slot]

    def _stored(self, slot: int) -> tuple[Any, ...]:
        """A slot's fields, in `_made_row`'s order."""
        start, end = self._terms_at[slot], self._terms_at[slot + 1]
        text, title_len = self._text_of(slot), self._title_len[slot]
        return (
            self._ids[slot], self._published[slot], self._link[slot], self._guid[slot],
            text[:title_len], text[title_len:],
            tuple(map(self._words.__getitem__, self._term_ids[start:end])),
            self._term_weights[start:end], self._title_terms[slot],
            (self._title_specific[slot], self._lead_specific[slot]), self._outlet[slot],
        )  # fmt: skip

    def _insert(self, row: Row, cluster: int, began: float) -> None:
        slot = len(self._ids)
        self._ids.append(row.id)
        self._published.append(row.published)
        self._cluster.append(cluster)
        self._began.append(began)
        self._link.append(row.link)
        self._guid.append(row.guid)
        self._outlet.append(row.outlet)
        self._text += (row.title + row.lead).encode()
        self._text_at.append(len(self._text))
        self._title_len.append(len(row.title))
        self._title_terms.append(row.title_terms)
        self._title_specific.append(row.specific_words[0])
        self._lead_specific.append(row.specific_words[1])
        self._term_ids += row.ids
        self._term_weights += row.weights
        self._terms_at.append(len(self._term_ids))
        postings = self._postings
        for term in row.specific:
            slots = postings[term]
            if slots is None:
                postings[term] = slot
            elif isinstance(slots, int):
                postings[term] = array("i", [slots, slot])
            else:
                slots.append(slot)
        for key in exact_keys(row.link, row.guid, row.title, row.related, _keyed_lead(row)):
            self._keyed.add(key, slot)

    def _uninsert(self, row: Row) -> None:
        """Undo `_insert` of the newest slot (every later change is undone already)."""
        removed = self._ids.pop()
        assert removed == row.id, "undo steps run newest first"
        for column in (self._published, self._cluster, self._began, self._link, self._guid,
                       self._outlet, self._text_at,
                       self._title_len, self._title_terms, self._title_specific,
                       self._lead_specific, self._terms_at):  # fmt: skip
            column.pop()
        del self._term_ids[self._terms_at[-1] :], self._term_weights[self._terms_at[-1] :]
        del self._text[self._text_at[-1] :]
        for term in row.specific:
            slots = self._postings[term]
            assert slots is not None
            if isinstance(slots, int):
                self._postings[term] = None
            else:
                slots.pop()
                if len(slots) == 1:
                    self._postings[term] = slots[0]
        for key in exact_keys(row.link, row.guid, row.title, row.related, _keyed_lead(row)):
            self._keyed.remove(key, len(self._ids))

    def _print_at(self, slot: int) -> Fingerprint:
        """A slot's fingerprint, its link, guid and outlet stood in for by their hashes."""
        (id, published, link, guid, title, lead, keys, weights, title_terms, specific_words,
         outlet) = self._stored(slot)  # fmt: skip
        return Fingerprint(
            id=id, link=stand_in(link), guid=stand_in(guid), published=published,
            title=title, lead=lead, term_keys=keys, term_weights=weights,
            title_keys=keys[:title_terms], title_specific=specific_words[0],
            lead_specific=specific_words[1], outlet=stand_in(outlet),
        )  # fmt: skip

    def _compact(self, keep: bytes) -> None:
        """Keep the slots flagged 1 in `keep`, in order. Compacted in place, a column at a
        time, so the window is never held twice; terms only the others held are dropped, the
        rest keep their order."""
        moved = renumbering(keep)  # slot -> its new slot, -1 when dropped
        terms_at, maybe_unused = self._terms_at, set[int]()
        for slot in compress(range(len(keep)), map(not_, keep)):
            maybe_unused.update(self._term_ids[terms_at[slot] : terms_at[slot + 1]])
        for name in ("_published", "_cluster", "_began", "_link", "_guid", "_outlet", "_title_len",
                     "_title_terms", "_title_specific", "_lead_specific"):  # fmt: skip
            column = getattr(self, name)
            setattr(self, name, array(column.typecode, compress(column, keep)))
        self._ids.move(moved)
        self._text_at = compact(self._text_at, keep, self._text)
        self._terms_at = compact(terms_at, keep, self._term_ids, self._term_weights)
        postings = self._postings
        for term, slots in enumerate(postings):  # in place: old and new are never all held
            if slots is not None:
                postings[term] = moved_postings(slots, moved)
        maybe_unused.difference_update(self._term_ids)  # in C, in place: over the kept ids
        self._drop_terms(maybe_unused)
        self._keyed.move(moved)

    def _drop_terms(self, unused: set[int]) -> None:
        """Forget terms no story holds; the others are numbered anew, in the same order."""
        if not unused:
            return
        words = self._words
        alive = bytearray(b"\x01") * len(words)
        for term in unused:
            alive[term] = 0
        numbers = renumbering(alive)
        term_ids, step = self._term_ids, 1 << 16
        for start in range(0, len(term_ids), step):  # in C, a slice at a time: no second copy
            term_ids[start : start + step] = array(
                "I", map(numbers.__getitem__, term_ids[start : start + step])
            )
        keep_in_place(words, alive)
        keep_in_place(self._postings, alive)
        self._vocab.clear()  # numbered anew in C, emptied first: never two vocabularies
        self._vocab.update(zip(words, count()))


@dataclass(slots=True, kw_only=True)
class Row:
    """A story as the window index takes it in, with its terms numbered."""

    id: str
    published: float
    link: int  # hash, 0 for none
    guid: int
    outlet: int  # hash of the source, 0 for none
    title: str
    lead: str
    weights: array[int]
    title_terms: int
    specific_words: tuple[int, int]  # title's and lead's: see `_specific_words`
    ids: array[int]
    specific: list[int]  # ids of the specific terms
    related: tuple[int, ...] = ()  # hashes of the links its entry lists as other coverage


def exact_keys(
    link: int, guid: int, title: str, related: tuple[int, ...] = (), lead: str = ""
) -> list[int]:
    """The keys a slot is found under: its link's, those of the links it lists (stories
    listed with it are found as a link's are), its guid's, its title's and, for a lead
    long enough to be compared as a reprint's, its beginning (`LEAD_KEY`)."""
    keys = [link_key(link)] if link else []
    if related:
        keys += map(link_key, related)
    if guid:
        keys.append(hash(("guid", guid)))
    if len(title) >= 12:
        keys.append(hash(("title", title)))
    if len(lead) >= MIN_LEAD:
        keys.append(lead_key(lead))
    return keys


def lead_key(lead: str) -> int:
    """The key of the slots whose lead begins as this one (see `exact_keys`)."""
    return hash(("lead", lead[:LEAD_KEY]))


def _keyed_lead(row: Row) -> str:
    """The lead a slot is kept under (`exact_keys`), '' for none: one that a reprint may
    share too few specific terms with to be found by them, as it names few things, or
    none in its beginning (all of a reprint's lead, cut short)."""
    names = row.specific_words[1]
    if names.bit_count() < FEW_NAMES:
        return row.lead
    beginning = len(words_of(row.lead[:LEAD_KEY]))  # the last word may go on after it
    return "" if names & ((1 << beginning) - 1) else row.lead


def link_key(link: int) -> int:
    """The key of the slots whose link has this hash."""
    return hash(("link", link))


def outlet_hash(outlet: str) -> int:
    """A source's hash in 31 bits (a window holds a few thousand outlets), 0 for none."""
    return (hash(outlet) & 0x7FFF_FFFF) or 1 if outlet else 0


def stand_in(hashed: int) -> str:
    """What a pair score compares for a link or guid the window keeps as a hash."""
    return f"#{hashed:x}" if hashed else ""
