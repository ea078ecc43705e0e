"""Entries whose id misleads: a guid given again, a story moved, one retitled to its opposite.

A story's id comes from its feed and guid, else its link (`normalise.story_id`), and two
things feeds do make it wrong:

- Some feeds number their entries by position, or give a new story the guid of one they
  dropped. The id is then a stored story's, and the new story would be taken as known: its
  alert would never go out. An entry stored under its id with another link
  (`FeedTables.unknown_stories` tells which) is the stored story again, edited, when the
  two have the same title or clustering would link them on their text; otherwise it is
  another news item, known by its link from then on (`reused_guid`).
- A site that moves to https, adds or drops "www.", or changes the form of its guids gives
  every entry a new id: each would alert again, months-old ones too, beyond the reach of
  clustering's window. A new entry with the date and title of a stored story of its feed
  and the same link or guid, up to scheme and "www.", is that story (`moved_stories`).

And a feed may give a stored story a title that tells the opposite of the one it had (a
plan's report retitled to say the plan is off): that is other news under the same id, known
by its link and title from then on (`reversed_entry`).

In: stories (and fingerprints). Out: stories or ids. Pure computation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from watcher.dedupe.cleaning import clean_title
from watcher.dedupe.pairs import ClusterSettings, compare, told_opposite
from watcher.dedupe.text import Fingerprint, fingerprint
from watcher.models import Story
from watcher.normalise import story_id
from watcher.urls import canonical_url, moved_key, unwrapped_url


def reused_guid(
    entry: Story, entry_print: Fingerprint, stored: Story, settings: ClusterSettings
) -> Story | None:
    """`entry` under an id of its own (from its link, else its title) and without its guid
    when it is another news item than `stored`, whose id its guid gave; None when it is
    `stored` again: the same cleaned title, or text that clustering would link (the link and
    guid set aside). A title alone, without text, tells no more than that: a titles-only
    feed whose links vary from poll to poll keeps its stories."""
    stored_print = fingerprint(stored)
    if entry_print.title == stored_print.title:
        return None
    if compare(_text_only(entry_print), _text_only(stored_print), settings).level:
        return None
    own_id = story_id(entry.feed, None, entry.link or None, entry.title, "")
    return replace(entry, id=own_id, guid=None)


def reversed_entry(entry: Story, entry_print: Fingerprint, stored: Story) -> Story | None:
    """`entry` under an id of its own (from its link and title) and without its guid when
    its feed gave `stored`, the story of its id, a title that tells the opposite of the
    stored one (`told_opposite`: "to resume exports" / "scraps plan to resume exports"):
    news that the plan is off, which the plan's alert did not tell. None when it does not."""
    if not told_opposite(entry_print.title, clean_title(stored.title, stored.source).lower()):
        return None  # (its title as `fingerprint` cleans it: a feed may retitle thousands)
    key = f"{entry.link or entry.guid or ''}\n{entry.title}"
    return replace(entry, id=story_id(entry.feed, None, key, entry.title, ""), guid=None)


def _text_only(print_: Fingerprint) -> Fingerprint:
    return print_._replace(link="", guid=None, related=())


def moved_stories(new: Iterable[Story], stored: Sequence[Story]) -> set[str]:
    """Ids of `new` stories that are `stored` stories of their feed under other ids: the same
    date and title, and the same link or guid up to scheme and "www." (the title too, as
    some feeds link every entry to one page). Undated stories (dated at their fetch) never
    match: only a date of the feed's own makes two entries one."""
    seen: set[tuple[str, datetime, str, str]] = set()
    for story in stored:
        if story.published != story.fetched_at:
            seen.update((story.feed, story.published, story.title, key) for key in _keys(story))
    return {
        story.id for story in new
        if story.published != story.fetched_at
        and any((story.feed, story.published, story.title, key) in seen for key in _keys(story))
    }  # fmt: skip


def _keys(story: Story) -> set[str]:
    """The story's link and guid up to scheme and "www.", and the page its link leads to
    when the link only redirects (a stored story's, kept from before links were followed
    through redirectors: `urls.unwrapped_url`)."""
    page = canonical_url(unwrapped_url(story.link)) if story.link else None
    return {key for key in map(moved_key, (story.link, page, story.guid)) if key}
