from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils

from watcher.errors import StoreError
from watcher.models import Assignment, FeedConfig, Story
from watcher.schema import MIGRATIONS, SCHEMA_VERSION
from watcher.store import Store

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
FEED = FeedConfig(name="Wire", url="https://wire.test/rss", interval=600)


def story(n: int, fetched_at: datetime = NOW) -> Story:
    return Story(
        id=f"s{n}", feed="Wire", guid=f"g{n}", source="Wire", title=f"Title {n}", summary="",
        link=f"https://wire.test/{n}", published=fetched_at, fetched_at=fetched_at,
    )  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "state" / "w.db")
    s.sync_feeds([FEED])
    return s


def test_creates_folder_and_schema_in_wal_mode(tmp_path: Path) -> None:
    store = Store(tmp_path / "new" / "w.db")
    assert store.schema_version == SCHEMA_VERSION
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_migrates_from_every_earlier_version(tmp_path: Path) -> None:
    for start in range(SCHEMA_VERSION):
        path = tmp_path / f"v{start}.db"
        db = sqlite_utils.Database(path)
        for step in MIGRATIONS[:start]:
            step(db)
        if start:  # a story written by that version survives every later step
            db.execute("INSERT INTO feeds (name, config_url, url) VALUES ('Wire', 'u', 'u')")
            db.execute(
                "INSERT INTO stories (id, feed, guid, source, title, summary, link, published, "
                "fetched_at) VALUES ('old', 'Wire', 'g', 'Wire', 'Old', '', 'l', ?, ?)",
                [NOW.isoformat(), NOW.isoformat()],
            )
        db.execute(f"PRAGMA user_version = {start}")
        db.close()
        store = Store(path)
        assert store.schema_version == SCHEMA_VERSION
        store.sync_feeds([FEED])
        assert store.record_poll(store.feed_state("Wire"), [story(1)])
        if start:
            assert store.story("old").title == "Old"
        store.close()


def test_a_feed_read_before_schema_20_keeps_its_first_poll(tmp_path: Path) -> None:
    """Its first read is its oldest story's first fetch, else its last success: the next
    poll is no first poll (its backlog was dealt with), and `watcher why` still finds the
    stories of its first poll."""
    path = tmp_path / "w.db"
    db = sqlite_utils.Database(path)
    for step in MIGRATIONS[:19]:
        step(db)
    later = (NOW + timedelta(hours=1)).isoformat()
    db.execute(
        "INSERT INTO feeds (name, config_url, url, last_success_at) VALUES "
        "('Wire', 'u', 'u', ?), ('Empty', 'e', 'e', ?), ('New', 'n', 'n', NULL)",
        [later, later],
    )
    for at in (later, NOW.isoformat()):
        db.execute(
            "INSERT INTO stories (id, feed, guid, source, title, summary, link, published, "
            "fetched_at) VALUES (?, 'Wire', 'g', 'Wire', 'T', '', 'l', ?, ?)",
            [at, at, at],
        )
    db.execute("PRAGMA user_version = 19")
    db.close()
    store = Store(path)
    firsts = {name: store.feed_state(name).first_read_at for name in ("Wire", "Empty", "New")}
    assert firsts == {"Wire": NOW, "Empty": NOW + timedelta(hours=1), "New": None}


def test_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="upgrade watcher"):
        Store(path)


def test_record_poll_is_idempotent(store: Store) -> None:
    state = store.feed_state("Wire")
    assert len(store.record_poll(state, [story(1), story(2), story(1)])) == 2
    assert [s.id for s in store.record_poll(state, [story(2), story(3)])] == ["s3"]
    assert store.count_stories() == 3


def test_a_storys_body_is_kept_and_read_for_the_window_only_while_unclustered(
    store: Store,
) -> None:
    full = replace(story(1), body="The whole article.", related=("https://x.test/1",))
    store.record_poll(store.feed_state("Wire"), [full])
    assert store.story("s1") == full

    def in_window() -> Story:
        (found,) = (row[0] for row in store.window_stories(NOW - timedelta(1), summary_chars=9))
        return found

    assert in_window().body == full.body  # not clustered yet: clustered and matched on start
    placed = Assignment(story="s1", cluster=1, level=None, matched=None, reason="new")
    store.record_assignments([placed], NOW)
    assert (in_window().body, in_window().related) == ("", full.related)
    edited = replace(full, title="Title 1, edited", body="The whole article, edited.")
    assert store.retitle_stories([edited]) == {"s1": 1}
    assert store.story("s1") == edited


def test_stories_stored_under_their_id_with_another_link_or_title_are_told_apart(
    store: Store,
) -> None:
    """A stored id with another link (or, without links, another title) may be another
    story under a guid the feed gave again: the pipeline asks the text."""
    unlinked = replace(story(3), link="")
    store.record_poll(store.feed_state("Wire"), [story(1), story(2), unlinked, story(5)])
    given = [
        replace(story(1), link="https://wire.test/other"),  # another link
        replace(story(2), title="Title 2, edited"),  # the same link: the same story
        replace(unlinked, title="Another title"),  # no link: the title tells
        story(4),
        replace(story(5), summary="Revised."),  # the same link and title
    ]
    known = store.unknown_stories(given)
    assert [s.id for s in known.new] == ["s4"]
    assert [s.id for s in known.relinked] == ["s1", "s3"]
    assert [s.id for s in known.retitled] == ["s2"]  # its feed gave it another title
    assert [(s.id, s.summary) for s in known.same] == [("s5", "Revised.")]
    assert store.stories(["s5", "s9"])["s5"] == story(5)  # as stored; s9 is none


def test_a_failed_poll_write_leaves_nothing_behind(store: Store) -> None:
    state = replace(store.feed_state("Wire"), etag='"new"')
    broken = replace(story(2), title=None)  # type: ignore[arg-type]  # violates NOT NULL
    with pytest.raises(StoreError, match="saving a poll of feed 'Wire'"):
        store.record_poll(state, [story(1), broken])
    assert store.count_stories() == 0
    assert store.feed_state("Wire").etag is None


def test_prune_counts_from_fetch_time_not_story_date(store: Store) -> None:
    old_fetch = replace(story(1, NOW - timedelta(days=40)), published=NOW)
    old_story_new_fetch = replace(story(2), published=NOW - timedelta(days=400))
    store.record_poll(store.feed_state("Wire"), [old_fetch, old_story_new_fetch])
    assert store.prune_stories(NOW - timedelta(days=30)) == 1
    assert [s.id for s in store.recent_stories(NOW - timedelta(days=365))] == ["s2"]


def test_prune_keeps_the_stories_their_feed_still_lists(store: Store) -> None:
    """A story its feed still lists came back as new once pruned, and alerted again (an
    undated one, or any with max_age off): the latest listing of a configured feed is kept,
    whatever its age; what the feed no longer lists, and a removed feed's, go."""
    old = NOW - timedelta(days=40)
    store.record_poll(store.feed_state("Wire"), [story(1, old), story(2, old)])
    assert store.prune_stories(NOW - timedelta(days=30), ["Wire"]) == 0  # both still listed
    store.mark_listed("Wire", ["s2", "s9"], NOW - timedelta(days=1))  # s9: never stored
    assert store.prune_stories(NOW - timedelta(days=30), ["Wire"]) == 1
    assert [s.id for s in store.recent_stories(NOW - timedelta(days=365))] == ["s2"]
    assert store.prune_stories(NOW - timedelta(days=30), []) == 1  # Wire left the config


def test_prune_takes_stories_in_batches_each_with_the_feeds_latest_listing(store: Store) -> None:
    """One statement took every old story: cutting `retention_days` on a database of
    200,000 stories held the event loop (no poll, no alert) for 2 s and grew the write-ahead
    log by 121 MB. Batches run apart, so a poll between two of them may list a story again:
    each batch takes the latest listing anew, read a feed at a time through its index."""
    old = NOW - timedelta(days=40)
    store.record_poll(store.feed_state("Wire"), [story(1, old), story(2, old), story(3, old)])
    store.mark_listed("Wire", ["s3"], NOW - timedelta(days=2))  # s1 and s2 no longer listed
    ran: list[str] = []
    store.db.conn.set_trace_callback(ran.append)
    assert store.prune_stories(NOW - timedelta(days=30), ["Wire", "Wire"], limit=1) == 1
    store.db.conn.set_trace_callback(None)
    (left,) = {"s1", "s2"} & {s.id for s in store.recent_stories(NOW - timedelta(days=365))}
    store.mark_listed("Wire", [left, "s3"], NOW - timedelta(days=1))  # a poll lists it again
    assert store.prune_stories(NOW - timedelta(days=30), ["Wire"], limit=1) == 0
    (listing,) = [sql for sql in ran if sql.startswith("INSERT INTO temp.listing")]
    plan = [row[3] for row in store.db.execute(f"EXPLAIN QUERY PLAN {listing}")]
    assert any("stories_listed" in step for step in plan), plan


def test_the_prune_job_lets_the_event_loop_run_between_batches_of_stories(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from watcher.config import Config
    from watcher.prune import prune

    old = NOW - timedelta(days=40)
    store.record_poll(store.feed_state("Wire"), [story(n, old) for n in range(1, 4)])  # Wire
    # has left the config: its stories all go
    config = Config(path=tmp_path / "w.yaml", state=store.path, rules=tmp_path, feeds=())
    whole = store.prune_stories
    seen: list[int] = []
    ticks = 0
    monkeypatch.setattr(
        store, "prune_stories",
        lambda before, feeds: seen.append(ticks) or whole(before, feeds, limit=1),
    )  # fmt: skip

    async def ticking() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    async def run() -> None:
        ticker = asyncio.create_task(ticking())
        await asyncio.sleep(0)
        await prune(store, config, NOW, lambda: 0)
        ticker.cancel()

    asyncio.run(run())
    assert store.count_stories() == 0
    assert len(seen) == 4 and seen == sorted(set(seen))  # the loop ran between each two


def test_the_write_ahead_log_is_cut_back_after_a_large_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite keeps its log file as large as the largest transaction made it, for as long
    as the service runs, unless told a size to cut it back to."""
    import watcher.store

    monkeypatch.setattr(watcher.store, "WAL_BYTES_KEPT", 100_000)
    store = Store(tmp_path / "w.db")
    store.sync_feeds([FEED])
    wal = tmp_path / "w.db-wal"
    big = [replace(story(n), summary="x" * 2000) for n in range(2000)]
    store.record_poll(store.feed_state("Wire"), big)
    assert wal.stat().st_size > 2_000_000
    store.db.execute("PRAGMA wal_checkpoint(PASSIVE)")
    store.mark_listed("Wire", ["s1"], NOW)  # the next write begins the log anew
    assert wal.stat().st_size <= 100_000


def test_prune_clusters_takes_those_without_stories_and_keeps_the_chain_to_a_standing_one(
    store: Store,
) -> None:
    """Clusters outlived their stories for ever: `watcher status` counted every news item
    ever seen, and the table grew without end. Kept: one merged into a cluster that
    stands, and the newest (ids must not be given again)."""
    old, stamp = NOW - timedelta(days=40), (NOW - timedelta(days=40)).isoformat()
    store.record_poll(store.feed_state("Wire"), [story(2, old)])
    rows = [(1, None), (2, None), (3, 2), (4, 1), (5, None)]  # (id, merged into)
    for cluster, into in rows:
        store.db.execute(
            "INSERT INTO clusters (id, lead_story, created_at, updated_at, merged_into) "
            "VALUES (?, 's2', ?, ?, ?)",
            [cluster, stamp, stamp, into],
        )
        store.db.execute(
            "INSERT INTO matches (cluster_id, rule, story_id, terms, clause, ruleset_version, "
            "matched_at) VALUES (?, 'r', 's2', '{}', 'c', 'v', ?)",
            [cluster, stamp],
        )
    store.db.execute("UPDATE stories SET cluster_id = 2 WHERE id = 's2'")

    def left() -> list[int]:
        return [r[0] for r in store.db.execute("SELECT id FROM clusters ORDER BY id")]

    assert store.prune_clusters(old) == 0  # updated before the cutoff only
    assert store.prune_clusters(NOW) == 1 and left() == [2, 3, 4, 5]
    assert store.prune_clusters(NOW) == 1 and left() == [2, 3, 5]  # 1 gone, 4 after it
    assert store.prune_clusters(NOW) == 0
    matched = {r[0] for r in store.db.execute("SELECT cluster_id FROM matches")}
    assert matched == {2, 3, 5}
    assert store.prune_stories(NOW - timedelta(days=30)) == 1
    assert store.prune_clusters(NOW, limit=1) == 1 and left() == [3, 5]
    assert store.prune_clusters(NOW) == 1 and left() == [5]
    assert store.next_cluster_id() == 6


def test_prune_alerts_takes_old_sent_alerts_whose_news_item_went(store: Store) -> None:
    """Alerts stayed for ever, the table growing by every alert to every subscriber. Sent or
    dropped alerts, and notices, made and sent before the cutoff go once their news item
    has; kept: alerts not sent, those of a news item that stands, one sent since the
    cutoff, and the newest (notices take their ids from it)."""
    old, recent = (NOW - timedelta(days=400)).isoformat(), (NOW - timedelta(days=10)).isoformat()
    store.db.execute(
        "INSERT INTO clusters (id, lead_story, created_at, updated_at) VALUES (7, 's1', ?, ?)",
        [old, old],
    )
    rows = [  # (id, cluster, status, made, sent)
        (1, 5, "sent", old, old),  # goes: its news item went
        (2, 7, "sent", old, old),  # kept: its news item stands
        (3, 5, "pending", old, None),  # kept: not sent
        (4, 5, "dead", old, None),  # kept: in the dead-letter list
        (5, 5, "dropped", old, None),  # goes
        (6, -6, "sent", old, old),  # goes: a notice
        (7, 6, "sent", old, recent),  # kept: sent after a long outage
        (8, 6, "sent", recent, recent),  # kept: recent
        (9, 5, "sent", old, old),  # kept: the newest
    ]
    for alert, cluster, status, made, sent in rows:
        store.db.execute(
            "INSERT INTO alerts (id, subscriber, channel, cluster_id, rule, story_id, terms, "
            "status, next_attempt_at, created_at, sent_at) "
            "VALUES (?, ?, 'email', ?, 'r', 's1', '{}', ?, ?, ?, ?)",
            [alert, f"a{alert}", cluster, status, made, made, sent],
        )
    cutoff = NOW - timedelta(days=365)
    assert store.prune_alerts(cutoff, limit=2) == 2
    assert store.prune_alerts(cutoff) == 1 and store.prune_alerts(cutoff) == 0
    assert sorted(a.id for a in store.alerts()) == [2, 3, 4, 7, 8, 9]


def test_changed_config_url_starts_the_feed_afresh(store: Store) -> None:
    gapped = {"gaps": 3, "gap_at": datetime(2026, 12, 5, tzinfo=UTC)}
    store.record_poll(replace(store.feed_state("Wire"), etag='"x"', disabled=True, **gapped))
    assert store.feed_state("Wire").gap_at == gapped["gap_at"]
    store.sync_feeds([replace(FEED, url="https://wire.test/new")])
    state = store.feed_state("Wire")
    assert (state.url, state.etag, state.disabled) == ("https://wire.test/new", None, False)
    assert (state.gaps, state.gap_at) == (0, None)  # the old URL's gaps are not the new one's


def test_locked_database_is_a_store_error(store: Store, tmp_path: Path) -> None:
    other = sqlite3.connect(tmp_path / "state" / "w.db", timeout=0)
    other.execute("BEGIN IMMEDIATE")
    store.db.execute("PRAGMA busy_timeout = 100")
    try:
        with pytest.raises(StoreError, match="locked"):
            store.record_poll(store.feed_state("Wire"), [story(1)])
    finally:
        other.rollback()
        other.close()
    assert store.record_poll(store.feed_state("Wire"), [story(1)])


def test_stories_are_found_by_id_by_the_start_of_an_id_or_by_link(store: Store) -> None:
    ids = ["abcdef12", "abcdef1234", "abcdef99"]
    stories = [
        replace(story(n), id=story_id, link=f"https://site.test/news/{n}")
        for n, story_id in enumerate(ids)
    ]
    store.record_poll(store.feed_state("Wire"), stories)
    assert [s.id for s in store.find_stories("abcdef12")] == ["abcdef12"]  # the exact id first
    assert [s.id for s in store.find_stories("ABCDEF9")] == ["abcdef99"]
    assert sorted(s.id for s in store.find_stories("abcdef")) == sorted(ids)
    assert store.find_stories("abcd") == []  # too short to be the start of an id
    link = "HTTPS://Site.test/news/1?utm_source=rss#top"  # canonical: the stored link
    assert [s.id for s in store.find_stories(link)] == ["abcdef1234"]


def test_the_outbox_reads_the_last_hour_through_its_index_of_times(store: Store) -> None:
    """The hourly cap's count and `watcher alerts --since --subscriber` read alerts by time
    (`alerts_made`), not every alert a subscriber ever had: that grew without end, to
    163 ms an alert made at two million alerts. Checked on the statements the store runs."""
    from watcher.models import AlertPlan, Match

    plan = AlertPlan(
        subscriber="ana", channel="slack", due=NOW, cap=1, overflow_due=NOW + timedelta(hours=1)
    )
    ran: list[str] = []
    store.db.conn.set_trace_callback(ran.append)
    for cluster in (1, 2):
        match = Match(
            cluster=cluster, rule="r", story=f"s{cluster}", terms={}, clause="c",
            ruleset_version="v", matched_at=NOW,
        )  # fmt: skip
        store.record_matches([match], lambda m: [plan])
    listed = store.alerts(since=NOW - timedelta(days=1), subscriber="ana", channel="slack")
    store.db.conn.set_trace_callback(None)
    assert [(a.cluster, a.waits) for a in listed] == [(2, "cap"), (1, None)]  # over the cap
    reads = [sql for sql in ran if sql.startswith("SELECT") and "FROM alerts" in sql]
    assert any("COUNT(*)" in sql for sql in reads) and len(reads) >= 3
    for sql in reads:
        (plan_row, *_) = store.db.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
        assert "USING INDEX alerts_made" in plan_row[3], (sql, plan_row)


def test_feed_notices_of_each_reading_have_a_number_of_their_own(store: Store) -> None:
    """A notice alert's cluster number is negative and new at each reading, below those
    of readings made before schema 15 (-1, -2, ...)."""
    from watcher.models import FeedNotice

    notice = FeedNotice(feed="Wire", problem="failing", url="u", detail="d", since=NOW)
    store.db.execute(  # as an older watcher numbered its first reading's notice
        "INSERT INTO alerts (subscriber, channel, cluster_id, rule, story_id, terms, "
        "next_attempt_at, created_at, notice) VALUES ('ana', 'slack', -1, 'feed failing', '', "
        "'{}', '2026-11-24T12:00:00+00:00', '2026-11-24T12:00:00+00:00', '[]')"
    )
    for _ in range(3):
        store.record_notices(
            [notice], [("ana", "slack", [notice]), ("ana", "email", [notice])], NOW
        )
    numbers = [a.cluster for a in store.alerts()]
    assert len(numbers) == 7 and all(n < 0 for n in numbers)
    assert len(set(numbers)) == 4  # each reading's two channels share theirs
