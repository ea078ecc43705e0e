"""The feeds table: configured feeds and their health, and polls that store stories as they are.

In: `FeedConfig`, `FeedState`, `Story`. Out: `FeedState`, `Story`. Raises: `StoreError`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from watcher.errors import StoreError
from watcher.models import FeedConfig, FeedState, Story
from watcher.store.base import Tables, in_batches, translated
from watcher.store.rows import INSERT_STORY, UPDATE_FEED, feed_from_row, feed_row, story_row


class Unknown(NamedTuple):
    """A poll's stories as the store knows them (see `FeedTables.unknown_stories`)."""

    new: list[Story]
    relinked: list[Story]
    retitled: list[Story]
    same: list[Story]  # stored with the same link and title (their text may have changed)


def _relinked(story: Story, link: str, title: str) -> bool:
    if story.link and link:
        return story.link != link
    return story.title != title


class FeedTables(Tables):
    """Feeds, and what a poll writes without clustering."""

    def sync_feeds(self, feeds: Iterable[FeedConfig]) -> None:
        """Add feeds not seen before; a feed whose configured URL changed starts afresh (its
        notice too: the operator who changed it knows what the old URL did; its next good
        poll is a first poll, whose backlog `backfill` keeps quiet). Each feed's `paused` is
        copied."""
        with translated("recording the configured feeds"), self._atomic():
            for feed in feeds:
                row = self.db.execute(
                    "SELECT config_url, paused FROM feeds WHERE name = ?", [feed.name]
                ).fetchone()
                if row is None:
                    self.db.execute(
                        "INSERT INTO feeds (name, config_url, url, paused) VALUES (?, ?, ?, ?)",
                        [feed.name, feed.url, feed.url, int(feed.paused)],
                    )
                    continue
                if row[1] != feed.paused:  # a start or a reload needs no write per feed
                    self.db.execute(
                        "UPDATE feeds SET paused = ? WHERE name = ?", [int(feed.paused), feed.name]
                    )
                if row[0] != feed.url:
                    self.db.execute(
                        """UPDATE feeds SET config_url = ?, url = ?, etag = NULL,
                           last_modified = NULL, content_hash = NULL, disabled = 0,
                           consecutive_failures = 0, next_poll_at = NULL, notified = NULL,
                           gaps = 0, gap_at = NULL, first_read_at = NULL, ttl = NULL,
                           old_dates = 0, old_dated = NULL
                           WHERE name = ?""",
                        [feed.url, feed.url, feed.name],
                    )

    def notified(self) -> dict[str, str]:
        """The problem last told of each feed that has one told (see `record_notices`)."""
        with translated("reading the feeds' notices"):
            rows = self.db.execute(
                "SELECT name, notified FROM feeds WHERE notified IS NOT NULL"
            ).fetchall()
        return dict(rows)

    def feed_state(self, name: str) -> FeedState:
        """One feed's state, read before each poll (its `stories` count is left at 0)."""
        with translated(f"reading feed {name!r}"):  # the cursor, not sqlite-utils' query():
            cursor = self.db.conn.execute("SELECT * FROM feeds WHERE name = ?", [name])
            row = cursor.fetchone()  # it wraps each query in a savepoint
        if row is None:
            raise StoreError(f"no feed named {name!r} in the database")
        return feed_from_row(dict(zip([c[0] for c in cursor.description], row, strict=True)))

    def feed_states(self, *, counted: bool = True) -> list[FeedState]:
        """Every feed, with how many stories it has stored and when the newest was fetched
        (`counted`: else without, and without reading the stories)."""
        sql = """SELECT f.*, COUNT(s.id) AS stories, MAX(s.fetched_at) AS newest_story_at
                 FROM feeds f LEFT JOIN stories s ON s.feed = f.name
                 GROUP BY f.name ORDER BY f.name"""
        if not counted:
            sql = "SELECT * FROM feeds ORDER BY name"
        with translated("reading feeds"):
            return [feed_from_row(row) for row in self.db.execute_returning_dicts(sql)]

    def record_poll(self, state: FeedState, stories: Iterable[Story] = ()) -> list[Story]:
        """Save the feed's new state and its stories not seen before, in one transaction.

        Returns the stories that were new.
        """
        stories = list(stories)
        action = f"saving a poll of feed {state.name!r}"
        if not stories:  # one statement is a transaction of its own
            with translated(action):
                self.db.conn.execute(UPDATE_FEED, feed_row(state))
            return []
        with translated(action), self._atomic():
            new = self.unknown_stories(stories).new
            if new:
                self.db.conn.executemany(INSERT_STORY, [story_row(s) for s in new])
            self.db.conn.execute(UPDATE_FEED, feed_row(state))
        return new

    def unknown_stories(self, stories: Iterable[Story]) -> Unknown:
        """The stories not stored yet, one per id (the last given, in the first one's place);
        those stored under their id with another link (or, where either has no link,
        another title): perhaps another story under a guid the feed gave before; those
        stored with their link but another title; and those stored with their link and
        title."""
        with translated("reading which stories are stored"):
            unique = list({s.id: s for s in stories}.values())
            stored = self._stored_keys([s.id for s in unique]) if unique else {}
        new = [s for s in unique if s.id not in stored]
        relinked, retitled, same = [], [], []
        for story in (s for s in unique if s.id in stored):
            link, title = stored[story.id]
            if _relinked(story, link, title):
                relinked.append(story)
            elif story.title != title:
                retitled.append(story)
            else:
                same.append(story)
        return Unknown(new, relinked, retitled, same)

    def _stored_keys(self, ids: list[str]) -> dict[str, tuple[str, str]]:
        """The link and title of each stored story of `ids`."""
        stored: dict[str, tuple[str, str]] = {}
        for marks, batch in in_batches(ids):
            rows = self.db.execute(
                f"SELECT id, link, title FROM stories WHERE id IN ({marks})", batch
            )
            stored.update((row[0], (row[1], row[2])) for row in rows)
        return stored
