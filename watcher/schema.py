"""The database schema, as the steps that build it: `MIGRATIONS[n]` takes version n to n + 1.

The version is SQLite's `user_version`. A step is never edited once released: a change to
the schema is a new step, so a database from any earlier version migrates on start.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils


def _v1(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE feeds (
            name TEXT PRIMARY KEY,
            config_url TEXT NOT NULL,
            url TEXT NOT NULL,
            etag TEXT,
            last_modified TEXT,
            content_hash TEXT,
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            next_poll_at TEXT,
            disabled INTEGER NOT NULL DEFAULT 0,
            last_polled_at TEXT,
            last_success_at TEXT,
            last_error TEXT,
            last_error_at TEXT,
            last_status INTEGER,
            warning TEXT
        );
        CREATE TABLE stories (
            id TEXT PRIMARY KEY,
            feed TEXT NOT NULL,
            guid TEXT,
            source TEXT NOT NULL,
            title TEXT NOT NULL,
            summary TEXT NOT NULL,
            link TEXT NOT NULL,
            published TEXT NOT NULL,
            fetched_at TEXT NOT NULL
        );
        CREATE INDEX stories_fetched_at ON stories (fetched_at);
        CREATE INDEX stories_feed ON stories (feed);
        """
    )


def _v2(db: sqlite_utils.Database) -> None:
    """Story clusters: each story's cluster, how it joined, and each cluster's lead story."""
    db.executescript(
        """
        CREATE TABLE clusters (
            id INTEGER PRIMARY KEY,
            lead_story TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            merged_into INTEGER
        );
        ALTER TABLE stories ADD COLUMN cluster_id INTEGER;
        ALTER TABLE stories ADD COLUMN cluster_level TEXT;
        ALTER TABLE stories ADD COLUMN cluster_match TEXT;
        ALTER TABLE stories ADD COLUMN cluster_reason TEXT;
        CREATE INDEX stories_cluster ON stories (cluster_id);
        CREATE INDEX stories_published ON stories (published);
        CREATE INDEX clusters_updated ON clusters (updated_at);
        """
    )


def _v3(db: sqlite_utils.Database) -> None:
    """Rule matches, one per cluster and rule, with the terms and the rule-set version."""
    db.executescript(
        """
        CREATE TABLE matches (
            cluster_id INTEGER NOT NULL,
            rule TEXT NOT NULL,
            story_id TEXT NOT NULL,
            terms TEXT NOT NULL,
            clause TEXT NOT NULL,
            ruleset_version TEXT NOT NULL,
            matched_at TEXT NOT NULL,
            PRIMARY KEY (cluster_id, rule)
        );
        CREATE INDEX matches_at ON matches (matched_at);
        """
    )


def _v4(db: sqlite_utils.Database) -> None:
    """The alert outbox: one row per subscriber, cluster and channel, written with the match."""
    db.executescript(
        """
        CREATE TABLE alerts (
            id INTEGER PRIMARY KEY,
            subscriber TEXT NOT NULL,
            channel TEXT NOT NULL,
            cluster_id INTEGER NOT NULL,
            rule TEXT NOT NULL,
            story_id TEXT NOT NULL,
            terms TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            sends INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            last_error TEXT,
            created_at TEXT NOT NULL,
            sent_at TEXT,
            UNIQUE (subscriber, cluster_id, channel)
        );
        CREATE INDEX alerts_due ON alerts (status, next_attempt_at);
        """
    )


def _v5(db: sqlite_utils.Database) -> None:
    """Alerts delivered together in a digest."""
    db.execute("ALTER TABLE alerts ADD COLUMN digest INTEGER NOT NULL DEFAULT 0")


def _v6(db: sqlite_utils.Database) -> None:
    """What the running service says about itself, for `watcher status` in another process."""
    db.executescript(
        """
        CREATE TABLE service (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        """
    )


def _v7(db: sqlite_utils.Database) -> None:
    """The links a story's entry lists as other coverage of its news, one per line."""
    db.execute("ALTER TABLE stories ADD COLUMN related TEXT NOT NULL DEFAULT ''")


def _v8(db: sqlite_utils.Database) -> None:
    """A story's full text, where its feed gives more than the summary."""
    db.execute("ALTER TABLE stories ADD COLUMN body TEXT NOT NULL DEFAULT ''")


def _v9(db: sqlite_utils.Database) -> None:
    """Matches made by a story too old to alert (backfill, max_age) or moved: a later story of
    the cluster that matches the rule alerts in their place. Earlier matches count as loud."""
    db.execute("ALTER TABLE matches ADD COLUMN quiet INTEGER NOT NULL DEFAULT 0")


def _v10(db: sqlite_utils.Database) -> None:
    """Matches that wait, quiet, until their news item has the rule's `min_sources` outlets."""
    db.execute("ALTER TABLE matches ADD COLUMN waiting INTEGER NOT NULL DEFAULT 0")


def _v11(db: sqlite_utils.Database) -> None:
    """When a story was last listed by its feed, if after its first fetch: the stories its
    feed still lists are kept past `retention_days`, or they would come back as new."""
    db.execute("ALTER TABLE stories ADD COLUMN seen_at TEXT")


def _v12(db: sqlite_utils.Database) -> None:
    """The addresses of an email alert that the SMTP server refused for now (a JSON list):
    its retry goes to them alone, not again to those that had it. NULL: every address."""
    db.execute("ALTER TABLE alerts ADD COLUMN retry_to TEXT")


def _v13(db: sqlite_utils.Database) -> None:
    """Feed notices: the problem last told of a feed (NULL: none), and an alert's notices (a
    JSON list) where it tells of feeds, not a news item. Such an alert's cluster_id is
    negative, one a reading of the feeds' health, as the outbox's UNIQUE (subscriber,
    cluster_id, channel) needs."""
    db.executescript(
        """
        ALTER TABLE feeds ADD COLUMN notified TEXT;
        ALTER TABLE alerts ADD COLUMN notice TEXT;
        """
    )


def _v14(db: sqlite_utils.Database) -> None:
    """What a digest alert waits for: its subscriber's digest time ('digest'), the end of its
    quiet hours ('quiet') or the next hour, over the hourly cap ('cap'); NULL: nothing, or
    made before this. A subscriber's new schedule moves the alerts that wait (see
    `alerts.routing.replan`)."""
    db.execute("ALTER TABLE alerts ADD COLUMN waits TEXT")


def _v15(db: sqlite_utils.Database) -> None:
    """Alerts by when they were made: the hourly cap's count and `watcher alerts --since`
    read the last hour's or day's alerts, not every alert of a subscriber, or every alert
    (163 ms an alert made, at two million alerts of two subscribers)."""
    db.execute("CREATE INDEX alerts_made ON alerts (created_at)")


def _v16(db: sqlite_utils.Database) -> None:
    """A feed's polls in a row that listed only new stories: one that keeps dropping
    stories, even polled sooner, is told of (a feed notice)."""
    db.execute("ALTER TABLE feeds ADD COLUMN gaps INTEGER NOT NULL DEFAULT 0")


def _v17(db: sqlite_utils.Database) -> None:
    """When a feed's last poll that listed only new stories was: one told of as dropping
    stories is told recovered only an hour after it, not at its first poll that overlaps."""
    db.execute("ALTER TABLE feeds ADD COLUMN gap_at TEXT")


def _v18(db: sqlite_utils.Database) -> None:
    """Whether the config pauses a feed (copied at each start and reload): `watcher feeds`,
    `watcher status` and the feed notices read it with the feed's state."""
    db.execute("ALTER TABLE feeds ADD COLUMN paused INTEGER NOT NULL DEFAULT 0")


def _v19(db: sqlite_utils.Database) -> None:
    """What each configured subscriber's channels reach, as digests (no address or URL kept):
    a subscriber renamed in the config is known by them, and keeps its alerts."""
    db.execute(
        "CREATE TABLE subscriber_channels (subscriber TEXT NOT NULL, channel TEXT NOT NULL, "
        "reaches TEXT NOT NULL, PRIMARY KEY (subscriber, channel))"
    )


def _v20(db: sqlite_utils.Database) -> None:
    """When a feed's configured URL was first read well, cleared when the URL changes: the
    next good poll is the first of a URL put in place of another (`backfill`). A feed read
    before takes the first fetch of its stories kept, else its last success."""
    db.executescript(
        """
        ALTER TABLE feeds ADD COLUMN first_read_at TEXT;
        UPDATE feeds SET first_read_at = COALESCE(
            (SELECT MIN(fetched_at) FROM stories WHERE stories.feed = feeds.name),
            last_success_at
        ) WHERE last_success_at IS NOT NULL;
        """
    )


def _v21(db: sqlite_utils.Database) -> None:
    """The `<ttl>` of the last body read of a feed, in seconds: a 304 or an unchanged body
    carries its own again (`freshness`)."""
    db.execute("ALTER TABLE feeds ADD COLUMN ttl REAL")


def _v22(db: sqlite_utils.Database) -> None:
    """Stories by feed and when last listed: the prune finds each feed's latest listing in
    a step a feed, not a read of every story, and so can take its stories in batches. It
    serves what the index by feed alone did, which goes."""
    db.executescript(
        """
        CREATE INDEX stories_listed ON stories (feed, COALESCE(seen_at, fetched_at));
        DROP INDEX stories_feed;
        """
    )


def _v23(db: sqlite_utils.Database) -> None:
    """A feed's new stories in a row dated more than its `max_age` before they came, and the
    date of the last: a feed whose dates are stuck alerts no one, and is told of."""
    db.executescript(
        """
        ALTER TABLE feeds ADD COLUMN old_dates INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE feeds ADD COLUMN old_dated TEXT;
        """
    )


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _v1, _v2, _v3, _v4, _v5, _v6, _v7, _v8, _v9, _v10, _v11, _v12, _v13, _v14, _v15, _v16,
    _v17, _v18, _v19, _v20, _v21, _v22, _v23,
]  # fmt: skip
SCHEMA_VERSION = len(MIGRATIONS)
