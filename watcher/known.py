"""Which of a poll's stories are news: not stored yet, stored under an id that misleads
(another story under a guid given again, or one retitled to tell the opposite), stored and
since given another title, or stored and since revised to match a rule.

In: a poll's parsed stories (with what the parse pool prepared of them), the feed's state
and the store. Out: a `Sorted`. Reads the store, writes nothing; what the ids of a feed get
wrong is decided in `dedupe.identity`, and each such decision is logged with the feed and
the story's title, so an operator can tell why a story did or did not alert.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import NamedTuple

from watcher.dedupe import (
    ClusterSettings,
    Fingerprint,
    fingerprint,
    moved_stories,
    reused_guid,
    reversed_entry,
)
from watcher.feed_state import backlog, stale, was_backlog
from watcher.logs import event
from watcher.models import FeedConfig, FeedState, Story
from watcher.prepare import Prepared
from watcher.store import Store

log = logging.getLogger("watcher.known")


class Sorted(NamedTuple):
    """A poll's stories as news."""

    new: list[Story]  # not stored yet (some under ids of their own, see `dedupe.identity`)
    quiet: set[str]  # ids of new and retitled stories to store and match without alerting
    retitled: list[Story]  # stored stories, as their feed gives them now: another title
    same: list[Story]  # stored stories with the same link and title (`revised` reads them)
    old: set[str]  # ids of new stories dated more than the feed's `max_age` ago (in `quiet`)
    # ids of its entries' stories under ids of their own (a guid given again, a title
    # reversed), stored or new: listed by the feed as those entries are
    renamed: list[str]


def sort_stories(
    store: Store, stories: Sequence[Story], *, state: FeedState, feed: FeedConfig,
    prepared: Prepared | None, settings: ClusterSettings, now: datetime,
) -> Sorted:  # fmt: skip
    """Sort a poll's stories; `prepared` learns the ids given to stories of reused guids."""
    known = store.unknown_stories(stories)
    others, edited, given = _given_again(store, known.relinked, prepared, settings)
    since = now - timedelta(seconds=settings.window)
    reversed_, retitled, turned = _reversed(store, known.retitled + edited, prepared, since)
    taken = {s.id for s in known.new}
    new = known.new + [s for s in others + reversed_ if s.id not in taken]
    quiet = backlog(state, feed.backfill, new, now) | _moved(store, state, new)
    old = _stale(state, feed.max_age, new, now)
    quiet |= old | quiet_again(store, state, feed, retitled, now)
    return Sorted(new, quiet, retitled, known.same, old, given + turned)


def _given_again(
    store: Store, relinked: list[Story], prepared: Prepared | None, settings: ClusterSettings
) -> tuple[list[Story], list[Story], list[str]]:
    """Entries of `relinked` that are other news items than the stored stories of their
    ids, under ids of their own that are not stored either; those that are the stored
    stories with another title; and the ids of their own of all the former, stored or not."""
    others: dict[str, tuple[Story, Story]] = {}  # by new id: the entry and its guid's story
    edited: list[Story] = []
    stories = store.stories([s.id for s in relinked]) if relinked else {}
    for entry in (s for s in relinked if s.id in stories):
        print_ = prepared.prints[entry.id] if prepared is not None else fingerprint(entry)
        stored = stories[entry.id]
        other = reused_guid(entry, print_, stored, settings)
        if other is None:
            if entry.title != stored.title:
                edited.append(entry)
            continue
        others[other.id] = (other, stored)
        _renamed(prepared, print_, entry.id, other.id)
    return _fresh(store, others, "guid given again", "guid_story"), edited, list(others)


def _reversed(
    store: Store, retitled: list[Story], prepared: Prepared | None, since: datetime
) -> tuple[list[Story], list[Story], list[str]]:
    """Entries of `retitled` published since `since` whose title now tells the opposite
    of their stored story's, under ids of their own (`reversed_entry`), those not stored
    yet; the other entries of `retitled`; and the ids of their own of all the former. The
    stored story keeps the title it had: its news item alerted with it."""
    recent = [s for s in retitled if s.published >= since]
    stored = store.stories([s.id for s in recent]) if recent else {}
    owned: dict[str, tuple[Story, Story]] = {}  # by new id: the entry and its id's story
    for entry in (s for s in recent if s.id in stored):
        print_ = prepared.prints[entry.id] if prepared is not None else fingerprint(entry)
        own = reversed_entry(entry, print_, stored[entry.id])
        if own is not None:
            owned[own.id] = (own, stored[entry.id])
            _renamed(prepared, print_, entry.id, own.id)
    gone = {story.id for _, story in owned.values()}
    fresh = _fresh(store, owned, "story reversed", "was")
    return fresh, [s for s in retitled if s.id not in gone], list(owned)


def _fresh(
    store: Store, owned: dict[str, tuple[Story, Story]], message: str, stored_as: str
) -> list[Story]:
    """Of entries under ids of their own (`owned`, by that id: the entry, and the stored
    story of its feed's id), those not stored yet, each logged with `message` and the
    stored story's title as `stored_as`: once, as later polls find it under its own id."""
    fresh = store.unknown_stories(o for o, _ in owned.values()).new if owned else []
    for story in fresh:
        event(log, logging.INFO, message, feed=story.feed, title=story.title,
              **{stored_as: owned[story.id][1].title})  # fmt: skip
    return fresh


def _renamed(prepared: Prepared | None, print_: Fingerprint, old: str, new: str) -> None:
    """`prepared` learns that the story made of entry `old` is stored as `new`."""
    if prepared is None:
        return
    prepared.prints[new] = print_._replace(id=new, guid=None)
    if prepared.matches is not None and old in prepared.matches.by_story:
        prepared.matches.by_story[new] = prepared.matches.by_story[old]


def _moved(store: Store, state: FeedState, new: list[Story]) -> set[str]:
    """Ids of new stories that are stored stories of the feed under new ids (a site that
    moved to https or changed its guids): stored, not alerted."""
    dated = [s for s in new if s.published != s.fetched_at]
    if state.last_success_at is None or not dated:
        return set()
    stored = store.stories_published_at(state.name, [s.published for s in dated])
    moved = moved_stories(dated, stored) if stored else set()
    for story in (s for s in dated if s.id in moved):
        event(log, logging.INFO, "story moved", feed=story.feed, title=story.title,
              link=story.link, alert="no")  # fmt: skip
    return moved


def revised(
    store: Store, same: list[Story], *, may_match: Callable[[Story], bool],
    rules_of: Callable[[Story], frozenset[str]], full_text: bool, since: datetime,
) -> list[Story]:  # fmt: skip
    """Stored stories (of `same`, published since `since`) whose feed has changed their
    summary or full text so that they match a rule (`rules_of`) their stored text did not,
    and that their news item has not matched loudly: a developing story whose summary now
    names a watched firm. `may_match` passes every story that may match a rule (the parse
    pool's matches tell). A change that makes no rule match changes nothing, so a feed that
    rewrites its summaries at every poll (a "2 hours ago") costs a look and nothing more; a
    rule added since matches the stored text too, so it alerts no stored story. Each story
    as it is to be stored: a `full_text` feed's keeps the page it was read from as its body."""
    maybe = [s for s in same if s.published >= since and may_match(s)]
    stored = store.stories([s.id for s in maybe]) if maybe else {}
    gained: dict[str, tuple[Story, frozenset[str]]] = {}
    for story in (s for s in maybe if s.id in stored):
        old = stored[story.id]
        story = replace(story, body=old.body) if full_text else story
        if (story.summary, story.body) == (old.summary, old.body):
            continue
        if rules := rules_of(story) - rules_of(old):
            gained[story.id] = (story, rules)
    clusters = store.clusters_of(list(gained)) if gained else {}
    loud = {c: {m.rule for m in store.matches_for(c) if not m.quiet} for c in {*clusters.values()}}
    revisions = []
    for story, rules in (gained[i] for i in gained if i in clusters):
        if new_rules := rules - loud[clusters[story.id]]:
            event(log, logging.INFO, "story revised", feed=story.feed, title=story.title,
                  rules=",".join(sorted(new_rules)))  # fmt: skip
            revisions.append(story)
    return revisions


def quiet_again(
    store: Store, state: FeedState, feed: FeedConfig, retitled: list[Story], now: datetime
) -> set[str]:
    """Ids of stored stories given another title (or revised) that are still no news: those
    of their feed's backlog, and those dated more than `max_age` ago."""
    if not retitled:
        return set()
    stored = store.stories([s.id for s in retitled])
    first_fetch = store.first_fetch(feed.name)
    backlogged = {
        id_ for id_, story in stored.items()
        if was_backlog(story, feed.backfill, state.first_read_at, first_fetch)
    }  # fmt: skip
    return backlogged | stale(state, feed.max_age, retitled, now)


def _stale(state: FeedState, max_age: float | None, new: list[Story], now: datetime) -> set[str]:
    """Ids of new stories older than the feed's `max_age`: stored, not alerted."""
    old = stale(state, max_age, new, now)
    for story in (s for s in new if s.id in old):
        event(log, logging.INFO, "story too old to alert", feed=story.feed, title=story.title,
              published=story.published.isoformat(), alert="no")  # fmt: skip
    return old
