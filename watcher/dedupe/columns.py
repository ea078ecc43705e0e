"""Flat storage for the window: story ids packed by slot, slots by 64-bit key, and
compaction in place.

In and out: slots (ints) and arrays. Pure data structures; no I/O.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Sequence
from functools import partial
from itertools import compress, repeat
from operator import le, sub
from typing import Any


class Vocabulary(dict[str, int]):
    """Terms numbered in order of arrival. Looking up a new term numbers it, appends it to
    `words` and gives it an empty entry in `postings`: known terms, nearly all of a story's,
    are looked up in C, and a story's terms take one pass."""

    __slots__ = ("postings", "words")

    def __init__(self, words: list[str], postings: list[Any]) -> None:
        super().__init__()
        self.words = words  # number -> term
        self.postings = postings  # number -> its slots (None until a story holds it)

    def __missing__(self, word: str) -> int:
        number = len(self.words)
        self[word] = number
        self.words.append(word)
        self.postings.append(None)
        return number


class StoryIds:
    """Story ids by slot: 12 bytes for an id of 24 hex digits (what `parse` makes), a
    string for any other."""

    _WIDTH = 12

    def __init__(self) -> None:
        self._packed = bytearray()
        self._other: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._packed) // self._WIDTH

    def __getitem__(self, slot: int) -> str:
        if not 0 <= slot < len(self):
            raise IndexError(slot)
        other = self._other.get(slot)
        if other is not None:
            return other
        return self._packed[slot * self._WIDTH : (slot + 1) * self._WIDTH].hex()

    def append(self, story_id: str) -> None:
        packed = _packed_id(story_id)
        if packed is None:
            self._other[len(self)] = story_id
            packed = bytes(self._WIDTH)
        self._packed += packed

    def pop(self) -> str:
        story_id = self[len(self) - 1]
        self._other.pop(len(self) - 1, None)
        del self._packed[-self._WIDTH :]
        return story_id

    def move(self, moved: array[int]) -> None:
        """Renumber every slot as `moved` says, removing those it maps to -1."""
        keep = bytes(map(partial(le, 0), moved))
        compact(range(0, len(self._packed) + 1, self._WIDTH), keep, self._packed)  # in place
        self._other = {moved[old]: id for old, id in self._other.items() if moved[old] >= 0}

    def last(self, story_id: str, before: int | None = None) -> int | None:
        """The newest slot holding `story_id` (of those before slot `before`, when given)."""
        packed = _packed_id(story_id)
        if packed is None:
            return max(
                (s for s, other in self._other.items()
                 if other == story_id and (before is None or s < before)),
                default=None,
            )  # fmt: skip
        end = len(self._packed) if before is None else before * self._WIDTH
        while (at := self._packed.rfind(packed, 0, end)) >= 0:  # in C
            if at % self._WIDTH == 0 and at // self._WIDTH not in self._other:
                return at // self._WIDTH
            end = at + len(packed) - 1
        return None


_HEX_ID = re.compile(r"[0-9a-f]{24}")


def _packed_id(story_id: str) -> bytes | None:
    return bytes.fromhex(story_id) if _HEX_ID.fullmatch(story_id) else None


class SlotTable:
    """Slots by 64-bit key, any number per key, in two flat arrays (open addressing, linear
    probing): an entry costs 18 to 36 bytes, where a dict entry with its ints costs 100."""

    _FREE, _GONE = -1, -2  # slot values of an empty place and of a removed entry

    def __init__(self, capacity: int = 1024) -> None:
        self._keys = array("q", bytes(8 * capacity))
        self._slots = array("i", [self._FREE]) * capacity  # slots stay below 2**31
        self._mask = capacity - 1
        self._taken = 0  # entries and removed entries: what makes probes long

    def add(self, key: int, slot: int) -> None:
        if 3 * (self._taken + 1) > 2 * len(self._slots):  # probes stay short to 2/3 full
            self._resize()
        keys, slots, mask = self._keys, self._slots, self._mask
        i = key & mask
        while slots[i] != self._FREE:
            i = (i + 1) & mask
        keys[i], slots[i] = key, slot
        self._taken += 1

    def get(self, key: int) -> list[int]:
        """The slots added under `key`."""
        keys, slots, mask = self._keys, self._slots, self._mask
        found = []
        i = key & mask
        while (slot := slots[i]) != self._FREE:
            if slot >= 0 and keys[i] == key:
                found.append(slot)
            i = (i + 1) & mask
        return found

    def remove(self, key: int, slot: int) -> None:
        keys, slots, mask = self._keys, self._slots, self._mask
        i = key & mask
        while slots[i] != slot or keys[i] != key:
            assert slots[i] != self._FREE, "removing an entry that is not there"
            i = (i + 1) & mask
        slots[i] = self._GONE

    def move(self, moved: array[int]) -> None:
        """Renumber every slot as `moved` says, removing those it maps to -1."""
        slots = self._slots
        for i, slot in enumerate(slots):
            if slot >= 0:
                slots[i] = self._GONE if moved[slot] < 0 else moved[slot]

    def _resize(self) -> None:
        keys, slots = self._keys, self._slots
        live = len(slots) - slots.count(self._FREE) - slots.count(self._GONE)
        capacity = 1024
        while capacity < 2 * (live + 1):  # at most half full again
            capacity *= 2
        self.__init__(capacity)  # type: ignore[misc]
        for key, slot in zip(keys, slots, strict=True):  # no list of the entries: no peak
            if slot >= 0:
                self.add(key, slot)


def compact(at: Sequence[int], keep: bytes, *columns: Any) -> array[int]:
    """Move the spans of the kept slots (slot i's span: `column[at[i]:at[i + 1]]`) to the
    front of each column, in place, and drop the rest; returns the new offsets, which all
    the columns share. A run of kept slots moves at once, its offsets shifted in C."""
    offsets, end, slot = array("I", [0]), 0, 0  # as the offsets it is given
    while (first := keep.find(1, slot)) >= 0:  # kept: first .. last - 1
        last = keep.find(0, first)
        last = len(keep) if last < 0 else last
        start, stop = at[first], at[last]
        if start != end:
            for column in columns:
                column[end : end + stop - start] = column[start:stop]
        offsets.extend(map(sub, at[first + 1 : last + 1], repeat(start - end)))
        end += stop - start
        slot = last
    for column in columns:
        del column[end:]
    return offsets


def renumbering(keep: bytes | bytearray) -> array[int]:
    """For each place, its number among the kept ones (flag 1 in `keep`), -1 where dropped."""
    numbers = array("i", [-1]) * len(keep)
    for new, old in enumerate(compress(range(len(keep)), keep)):
        numbers[old] = new
    return numbers


def keep_in_place(items: list[Any], keep: bytes | bytearray) -> None:
    """Keep the items whose flag in `keep` is 1, in order, without a second list."""
    end = 0
    for item, kept in zip(items, keep, strict=True):  # writes stay behind the reads
        if kept:
            items[end] = item
            end += 1
    del items[end:]


def moved_postings(slots: array[int] | int | None, moved: array[int]) -> array[int] | int | None:
    """A term's postings with expired slots dropped and kept ones renumbered."""
    if slots is None:
        return None
    if isinstance(slots, int):  # one slot, as most names have
        return None if moved[slots] < 0 else moved[slots]
    kept = array("i", filter(partial(le, 0), map(moved.__getitem__, slots)))  # in C
    return None if not kept else kept[0] if len(kept) == 1 else kept
