"""A story that comes late (a feed back after an outage), published before the clustering
window's start or less than a window after it, is compared with the stored stories the
window no longer holds that may be its copies: its news item alerts once, not again."""

from __future__ import annotations

import logging
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import FakeClock
from tests.feedserver import FeedServer
from tests.test_alerts import REPRINT, WIRE, Harness, add_feed, write_config
from tests.test_dedupe import OWN_STORIES, reprinted
from tests.test_dedupe import story as dedupe_story
from watcher.clusterer import Clusterer
from watcher.dedupe import ClusterSettings, compare, fingerprint
from watcher.dedupe import recall as recall_module
from watcher.dedupe.recall import EXACT, RECALL_CHARS, late_story, likeness, recalled, spans
from watcher.jsonl import read_stories
from watcher.models import FeedConfig, Story
from watcher.store import Store
from watcher.store.window import StoryText

FIXTURE = Path(__file__).parent / "fixtures" / "stories.jsonl"
SETTINGS = ClusterSettings()  # window 72 h: the window holds 144 h
WEEK_LATER = datetime(2026, 3, 10, tzinfo=UTC)  # the window holds from 4 March on
HOUR = 3600.0


@pytest.fixture
def fixtures() -> dict[str, Story]:
    return {s.id: replace(s, feed="f") for s in read_stories(FIXTURE)}


def save(store: Store, *stories: Story) -> list[Story]:
    store.sync_feeds([FeedConfig(name="f", url="https://f.test/", interval=600)])
    return store.record_poll(store.feed_state("f"), stories)


def clustered_a_week_ago(db: Path, stories: list[Story]) -> Store:
    """A store holding the stories clustered when they came, a week before `WEEK_LATER`."""
    store = Store(db)
    Clusterer(store, SETTINGS, FakeClock(datetime(2026, 3, 3, 18, tzinfo=UTC))).cluster(
        save(store, *stories)
    )
    return store


# -- which stored stories are recalled -------------------------------------------------------


def text(sid: str, hours: float, title: str = "", summary: str = "", link: str = "",
         guid: str | None = None, related: str = "") -> StoryText:  # fmt: skip
    return StoryText(sid, int(hours * HOUR), title, summary, link or f"https://x.test/{sid}",
                     guid, related)  # fmt: skip


def late_at(hours: float, title: str, summary: str = "", **fields: object) -> Story:
    when = datetime.fromtimestamp(hours * HOUR, UTC)
    story = Story(
        id="late",
        feed="g",
        guid=None,
        source="Late Outlet",
        title=title,
        summary=summary,
        link="https://late.test/1",
        published=when,
        fetched_at=when,
    )
    return replace(story, **fields)  # type: ignore[arg-type]  # fmt: skip


def as_late(story: Story, held_since_hours: float = 1000) -> recall_module.Late:
    return late_story(fingerprint(story), story.guid, SETTINGS.window, held_since_hours * HOUR)


def test_a_late_story_looks_for_its_specific_words_not_its_numbers_or_common_words() -> None:
    late = as_late(late_at(100, "Umicore cuts germanium prices by 2,000 as demand slows"))
    assert set(late.keys) == {"umicor", "german", "slow"}  # "2000": a text writes "2,000"
    assert (late.start, late.end, late.needed) == (28 * HOUR, 172 * HOUR, 2)
    assert as_late(late_at(100, "Prices rise"), held_since_hours=130).needed == 0
    assert as_late(late_at(100, "Prices rise"), held_since_hours=130).end == 130 * HOUR


def test_a_stored_story_is_recalled_for_a_shared_link_guid_coverage_link_or_two_terms() -> None:
    late = as_late(late_at(100, "Umicore cuts germanium prices", guid="tag:w,1",
                           related=("https://other.test/a",)))  # fmt: skip
    group = [late]
    assert likeness(group, text("a", 90, link="https://late.test/%31")) == EXACT  # as compared
    assert likeness(group, text("b", 90, guid="tag:w,1")) == EXACT
    assert likeness(group, text("c", 90, link="https://other.test/a")) == EXACT
    assert likeness(group, text("d", 90, related="https://z.test/\nhttps://late.test/1")) == EXACT
    assert likeness(group, text("e", 90, "UMICORE’S germanium line")) == 2
    assert likeness(group, text("f", 90, "Umicore results", "Sales rose")) == 0  # one of two
    assert likeness(group, text("g", 20, "Umicore germanium")) == 0  # beyond the window
    linkless = as_late(late_at(100, "Prices rise", link=""))
    assert likeness([linkless], text("h", 90, link="", related="https://z.test/\n")) == 0


def test_a_late_reprint_whose_lead_names_one_thing_finds_its_copy_by_that_lead() -> None:
    """Under a headline of its own, a reprint shares with its copy only what its lead
    names: here one thing, and a beginning."""
    lead = (
        "Presidents from across South America gathered in Montevideo on Friday to discuss"
        " regional trade and new roads."
    )
    late = as_late(late_at(100, "Leaders of a continent meet on roads and trade", lead))
    assert late.needed == 1 and late.lead == lead[:32].lower()
    copy = text("copy", 90, "Summit opens with a call for unity", f"MONTEVIDEO (Wire) -- {lead}")
    assert likeness([late], copy) == EXACT
    other = text("other", 90, "Montevideo port strike ends", "Dock workers went back.")
    assert likeness([late], other) == 1  # its one name: scored by the window, not linked


@pytest.mark.parametrize("seed", range(3))
def test_every_stored_story_scoring_links_to_a_late_one_is_recalled(seed: int) -> None:
    """Recall picks stored stories by a look at their text; every one a pair's score links
    to a late story must be among them (generated reprints, as the window's own test)."""
    rng = random.Random(seed)
    own = [dedupe_story(f"own{i}", t, lead, hours=i) for i, (t, lead) in enumerate(OWN_STORIES)]
    originals = [*read_stories(FIXTURE), *own]
    stories = [*originals, *(reprinted(rng, rng.choice(originals), n) for n in range(40))]
    prints = {s.id: fingerprint(s) for s in stories}
    linked = 0
    for late in stories:
        looked_for = late_story(prints[late.id], late.guid, SETTINGS.window, 1e12)
        for stored in stories:
            score = compare(prints[late.id], prints[stored.id], SETTINGS)
            if stored is late or score.level is None:
                continue
            linked += 1
            read = text(stored.id, stored.published.timestamp() / HOUR, stored.title,
                        stored.summary[:RECALL_CHARS], stored.link, stored.guid)  # fmt: skip
            assert likeness([looked_for], read) > 0, (late.id, stored.id, score.reason)
    assert linked > 100


def test_an_abbreviation_is_found_however_its_dots_are_written() -> None:
    """`U.A.E.` and `UAE` are one term: a late story names it as its copy does."""
    late = as_late(late_at(100, "UAE fund buys Umicore germanium unit"))
    assert {"uae", "umicor", "german"} <= set(late.keys)
    copy = text("dots", 90, "U.A.E. fund buys Umicore germanium unit")
    assert likeness([late], copy) == len(late.keys)


def test_chinese_terms_are_found_in_traditional_writing() -> None:
    late = as_late(late_at(100, "中国限制镓出口", "商务部宣布限制镓和锗的出口。"))
    assert late.needed == 2
    assert likeness([late], text("t", 99, "中國限制鎵出口", "商務部宣布限制鎵和鍺的出口。")) >= 2


def test_spans_join_the_late_stories_whose_times_overlap() -> None:
    a, b, c = (as_late(late_at(h, f"Story {h}")) for h in (100, 150, 400))
    joined = spans([c, b, a])
    assert [(s / HOUR, e / HOUR, len(g)) for s, e, g in joined] == [(28, 222, 2), (328, 472, 1)]


def test_late_stories_alike_in_time_and_link_are_joined_whatever_their_guids() -> None:
    """Two entries of one page published at once, one with a guid: sorting them whole
    compared None with a guid and raised."""
    plain = as_late(late_at(100, "Umicore cuts germanium prices"))
    guided = plain._replace(guid="tag:w,1")
    ((start, end, group),) = spans([guided, plain])
    assert (start, end) == (plain.start, plain.end) and len(group) == 2


def test_at_most_the_limit_is_recalled_the_likeliest_first_and_none_held_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(recall_module, "RECALL_LIMIT", 2)
    late = as_late(late_at(100, "Umicore cuts germanium and gallium prices in Hoboken"))
    stored = [
        text("two", 95, "Umicore germanium"), text("four", 96, "Umicore germanium gallium Hoboken"),
        text("none", 97, "Weather"), text("link", 98, link="https://late.test/1"),
        text("three", 99, "Umicore germanium gallium"),
    ]  # fmt: skip
    assert recalled(((spans([late])[0][2], t) for t in stored), held=set()) == ["link", "four"]
    assert recalled(((spans([late])[0][2], t) for t in stored), held={"link"}) == ["four", "three"]


# -- the service's window --------------------------------------------------------------------


def recall_logged(caplog: pytest.LogCaptureFixture) -> list[tuple[str, dict[str, object]]]:
    return [(r.levelname, r.event_fields) for r in caplog.records  # type: ignore[attr-defined]
            if r.getMessage() == "late stories compared with stored ones"]  # fmt: skip


def test_a_late_reprint_joins_its_wire_story_after_a_restart(
    tmp_path: Path, fixtures: dict[str, Story], caplog: pytest.LogCaptureFixture
) -> None:
    """dm-pd reprints tw-pd, both of 3 March; dm-pd comes a week late, when the window the
    service rebuilds holds neither. Of the stories stored near it, only tw-pd is recalled."""
    near = ["tw-pd", "dm-ge-1", "dm-ge-2", "ns-ga", "tw-ga", "aw-sb-tj", "tw-u"]
    store = clustered_a_week_ago(tmp_path / "w.db", [fixtures[i] for i in near])
    wire = store.placement("tw-pd")[0]
    clusterer = Clusterer(store, SETTINGS, FakeClock(WEEK_LATER))
    clusterer.load()
    assert clusterer.index.cluster_for("tw-pd") is None and len(clusterer.index) == 2
    caplog.set_level(logging.INFO, logger="watcher.clusterer")
    (late,) = clusterer.cluster(save(store, fixtures["dm-pd"]))
    assert (late.assignment.cluster, late.assignment.level) == (wire, "reprint")
    assert late.assignment.matched == "tw-pd"
    assert len(clusterer.index) == 4  # the two of the window, tw-pd and dm-pd
    ((level, fields),) = recall_logged(caplog)
    assert level == "INFO" and {k: fields[k] for k in ("late", "read", "recalled")} == {
        "late": 1, "read": 5, "recalled": 1}  # tw-pd and the 4 stories stored near it  # fmt: skip
    store.close()


def test_a_late_reprint_joins_its_wire_story_after_the_window_expired(
    tmp_path: Path, fixtures: dict[str, Story]
) -> None:
    """The same in a window kept running: the prune expired tw-pd from it."""
    clock = FakeClock(datetime(2026, 3, 3, 18, tzinfo=UTC))
    store = Store(tmp_path / "w.db")
    clusterer = Clusterer(store, SETTINGS, clock)
    clusterer.load()
    (wire,) = clusterer.cluster(save(store, fixtures["tw-pd"]))
    clock.now = WEEK_LATER
    assert clusterer.expire() == 1
    with clusterer.tentative(), store.transaction():
        (late,) = clusterer.place([fixtures["dm-pd"]])
    assert (late.assignment.cluster, late.assignment.level) == (wire.assignment.cluster, "reprint")
    assert clusterer.expire() == 2  # both before the window: gone at the next prune
    store.close()


def test_a_story_the_window_holds_is_compared_with_its_copies_from_before_the_window(
    tmp_path: Path, fixtures: dict[str, Story]
) -> None:
    """Published 36 h after the window's start, dm-pd may repeat a story published up to 36
    h before it, which the window does not hold: tw-pd, 54 h before dm-pd."""
    store = clustered_a_week_ago(tmp_path / "w.db", [fixtures["tw-pd"]])
    clusterer = Clusterer(store, SETTINGS, FakeClock(WEEK_LATER))
    clusterer.load()
    assert clusterer.held_since == datetime(2026, 3, 4, tzinfo=UTC).timestamp()
    later = replace(fixtures["dm-pd"], published=datetime(2026, 3, 5, 12, tzinfo=UTC))
    (late,) = clusterer.cluster(save(store, later))
    assert late.assignment.level == "reprint" and late.assignment.matched == "tw-pd"
    assert clusterer.expire() == 1  # tw-pd, put back, leaves at the next prune; dm-pd stays
    assert clusterer.index.cluster_for("dm-pd") == late.assignment.cluster
    store.close()


def test_a_quiet_late_story_is_not_compared_with_stored_stories(
    tmp_path: Path, fixtures: dict[str, Story]
) -> None:
    """A story that alerts no one (a new feed's backlog, older than max_age) is not worth
    reading the database for: it starts a news item, as it did before."""
    store = clustered_a_week_ago(tmp_path / "w.db", [fixtures["tw-pd"]])
    clusterer = Clusterer(store, SETTINGS, FakeClock(WEEK_LATER))
    clusterer.load()
    (late,) = clusterer.place(save(store, fixtures["dm-pd"]), quiet={"dm-pd"})
    assert late.starts_cluster and len(clusterer.index) == 1
    store.close()


def test_a_late_story_of_the_year_1_is_placed(tmp_path: Path, fixtures: dict[str, Story]) -> None:
    """Its date less `window` was no time Python holds: ValueError, and its feed's every
    poll failed. The parse now reads a date before 1991 as none, so no feed's story comes
    so dated; this keeps the clusterer itself from failing on one."""
    store = clustered_a_week_ago(tmp_path / "w.db", [fixtures["tw-pd"]])
    clusterer = Clusterer(store, SETTINGS, FakeClock(WEEK_LATER))
    clusterer.load()
    first = datetime(1, 1, 1, tzinfo=UTC)
    odd = replace(fixtures["dm-pd"], published=first, fetched_at=WEEK_LATER)
    (placed,) = clusterer.place(save(store, odd))
    assert placed.starts_cluster
    store.close()


def test_a_story_stored_beyond_the_window_of_the_late_one_is_not_recalled(
    tmp_path: Path, fixtures: dict[str, Story], caplog: pytest.LogCaptureFixture
) -> None:
    """A reprint is looked for as the window looks: published within `window` of the story."""
    store = clustered_a_week_ago(tmp_path / "w.db", [fixtures["tw-pd"]])
    clusterer = Clusterer(store, SETTINGS, FakeClock(WEEK_LATER + timedelta(days=2)))
    clusterer.load()
    later = replace(fixtures["dm-pd"], published=fixtures["tw-pd"].published + timedelta(hours=73))
    caplog.set_level(logging.DEBUG, logger="watcher.clusterer")
    (late,) = clusterer.cluster(save(store, later))
    assert late.starts_cluster and len(clusterer.index) == 1
    assert [level for level, _ in recall_logged(caplog)] == ["DEBUG"]  # nothing put back
    store.close()


def test_stories_recalled_in_a_failed_batch_are_recalled_again(
    tmp_path: Path, fixtures: dict[str, Story]
) -> None:
    store = clustered_a_week_ago(tmp_path / "w.db", [fixtures["tw-pd"]])
    wire = store.placement("tw-pd")[0]
    clusterer = Clusterer(store, SETTINGS, FakeClock(WEEK_LATER))
    clusterer.load()
    with pytest.raises(RuntimeError), clusterer.tentative():
        clusterer.place([fixtures["dm-pd"]])
        raise RuntimeError("the poll's transaction failed")
    assert len(clusterer.index) == 0  # tw-pd taken back with dm-pd
    with clusterer.tentative(), store.transaction():
        (late,) = clusterer.place(save(store, fixtures["dm-pd"]))
    assert late.assignment.cluster == wire and len(clusterer.index) == 2
    store.close()


# -- end to end ------------------------------------------------------------------------------


def test_a_feed_back_after_a_week_alerts_no_news_item_again(
    server: FeedServer, tmp_path: Path
) -> None:
    """The Reprints feed was down while Wire's stories alerted; a week later it answers with
    its reprints of them, dated then. Each joins its wire story's news item: no alert."""
    config = write_config(tmp_path, smtp_port=9, slack=server.url("/slack"))
    add_feed(config, "Wire", WIRE)
    clock = FakeClock(datetime(2026, 11, 11, 2, tzinfo=UTC))
    Harness(config, clock).poll()
    before = Store(tmp_path / "w.db").alerts()
    assert {a.rule for a in before} == {"germanium-news"}
    add_feed(config, "Reprints", REPRINT)
    clock.now += timedelta(days=7)
    harness = Harness(config, clock)  # the window rebuilt: it holds no story of November 11
    harness.poll()
    assert harness.store.alerts() == before
    clusters = {harness.store.placement(s.id)[0] for s in harness.store.recent_stories(
        datetime(2026, 11, 1, tzinfo=UTC))}  # fmt: skip
    assert len(clusters) == 2  # a germanium news item and an antimony one, two stories each


# -- late or in time, the same news items ----------------------------------------------------


def _partition(
    db: Path, polls: list[tuple[datetime, list[Story]]], restart_at: int
) -> set[frozenset[str]]:
    """The news items the service makes of these polls (each at its time, each feed's stories
    in a transaction of its own), the window expired before each poll as the prune does,
    and rebuilt before each from poll `restart_at` on, as a restart does."""
    store = Store(db)
    store.sync_feeds([FeedConfig(name=f, url=f"https://{f}.test/", interval=600)
                      for f in {s.feed for _, poll in polls for s in poll}])  # fmt: skip
    clock = FakeClock(polls[0][0])
    clusterer = Clusterer(store, SETTINGS, clock)
    clusterer.load()
    for number, (when, poll) in enumerate(polls):
        clock.now = max(clock.now, when)
        if number >= restart_at:
            clusterer = Clusterer(store, SETTINGS, clock)
            clusterer.load()
        clusterer.expire()
        for feed in sorted({s.feed for s in poll}):
            with clusterer.tentative(), store.transaction():
                placed = clusterer.place([s for s in poll if s.feed == feed])
                store.record_new_stories(store.feed_state(feed), placed, clock())
    rows = store.db.execute("SELECT cluster_id, id FROM stories").fetchall()
    store.close()
    items: dict[int, set[str]] = {}
    for cluster, story in rows:
        items.setdefault(cluster, set()).add(story)
    return {frozenset(item) for item in items.values()}


@pytest.mark.parametrize("seed", range(8))
def test_feeds_back_days_late_make_the_news_items_they_would_have_made_in_time(
    tmp_path: Path, seed: int
) -> None:
    """The fixtures' stories polled in time, in random batches, against the same with one to
    three outlets' stories all coming 80 to 200 hours after the newest (a restart before
    them, or not): some published before the window the service holds then, some after its
    start but within `window` of it."""
    rng = random.Random(seed)
    stories = sorted((replace(s, feed=s.source.replace(" ", "-").lower())
                      for s in read_stories(FIXTURE)), key=lambda s: (s.published, s.id))  # fmt: skip
    outlets = sorted({s.feed for s in stories})
    late = set(rng.sample(outlets, rng.randint(1, 3)))

    def batched(chosen: list[Story]) -> list[tuple[datetime, list[Story]]]:
        polls, at = [], 0
        while at < len(chosen):
            size = rng.randint(1, 4)
            poll, at = chosen[at : at + size], at + size
            polls.append((max(s.published for s in poll) + timedelta(minutes=5), poll))
        return polls

    in_time = batched(stories)
    early = batched([s for s in stories if s.feed not in late])
    back = max(s.published for s in stories) + timedelta(hours=rng.choice([80, 100, 120, 200]))
    after = [*early, (back, [s for s in stories if s.feed in late])]
    restart_at = len(early) if seed % 2 else len(after)
    expected = _partition(tmp_path / "in_time.db", in_time, len(in_time))
    assert _partition(tmp_path / "late.db", after, restart_at) == expected, sorted(late)
