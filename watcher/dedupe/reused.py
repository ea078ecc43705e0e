"""Guids a feed gives again: an entry whose id is a stored story's, but another news item.

Some feeds number their entries by position, or give a new story the guid of one they
dropped. The id made from the guid is then a stored story's, and the new story would be
taken as known: its alert would never go out. An entry stored under its id with another
link (`FeedTables.unknown_stories` tells which) is the stored story again, edited, when the
two have the same title or clustering would link them on their text; otherwise it is
another news item, known by its link from then on.

In: the entry and the stored story, with the entry's `Fingerprint`. Out: the entry under an
id of its own, or None. Pure computation.
"""

from __future__ import annotations

from dataclasses import replace

from watcher.dedupe.pairs import ClusterSettings, compare
from watcher.dedupe.text import Fingerprint, fingerprint
from watcher.models import Story
from watcher.normalise import story_id


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


def _text_only(print_: Fingerprint) -> Fingerprint:
    return print_._replace(link="", guid=None)
