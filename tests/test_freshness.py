"""A feed that asks to be left alone (its HTTP freshness, its RSS <ttl>) is, up to poll.max_ttl."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from pathlib import Path

import pytest

from tests.conftest import FakeClock
from tests.feedserver import FeedServer, rss
from tests.test_polling import SETTINGS, Harness
from watcher.config import PollSettings
from watcher.feed_state import DUE_SLACK
from watcher.freshness import MAX_SECONDS, channel_ttl, hinted_wait, response_fresh_for
from watcher.models import FeedConfig
from watcher.parse import parse_feed

NOW = 1_780_000_000.0  # POSIX seconds
HOUR = 3600.0


def _date(offset: float) -> str:
    return formatdate(NOW + offset, usegmt=True)


@pytest.mark.parametrize(
    ("headers", "fresh"),
    [
        pytest.param({}, None, id="nothing-said"),
        pytest.param({"Cache-Control": "max-age=600"}, 600.0, id="max-age"),
        pytest.param({"Cache-Control": "public, Max-Age=\"900\""}, 900.0, id="quoted-any-case"),
        pytest.param({"Cache-Control": "max-age=600", "Age": "450"}, 150.0, id="less-its-age"),
        pytest.param({"Cache-Control": "max-age=600", "Age": "900"}, 0.0, id="older-than-fresh"),
        pytest.param({"Cache-Control": "no-cache, max-age=600"}, 0.0, id="no-cache"),
        pytest.param({"Cache-Control": "no-store"}, 0.0, id="no-store"),
        pytest.param({"Cache-Control": "s-maxage=600"}, None, id="shared-caches-only"),
        pytest.param({"Cache-Control": "max-age=ten"}, None, id="max-age-no-number"),
        pytest.param({"Expires": _date(1200), "Date": _date(0)}, 1200.0, id="expires"),
        pytest.param({"Expires": _date(1200), "Date": _date(-300)}, 1500.0, id="expires-from-date"),
        pytest.param({"Expires": _date(-60), "Date": _date(0)}, 0.0, id="expired"),
        pytest.param({"Expires": "0"}, 0.0, id="expires-invalid"),
        pytest.param(
            {"Cache-Control": "max-age=60", "Expires": _date(7200), "Date": _date(0)}, 60.0,
            id="max-age-before-expires",
        ),
    ],
)  # fmt: skip
def test_a_response_is_fresh_as_http_caches_keep_it(
    headers: dict[str, str], fresh: float | None
) -> None:
    lower = {k.lower(): v for k, v in headers.items()}  # httpx's headers: any case
    assert response_fresh_for(lower, NOW) == fresh


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        pytest.param("60", 3600.0, id="text"),
        pytest.param(15, 900.0, id="number"),
        pytest.param(" 5 ", 300.0, id="spaces"),
        pytest.param("0", None, id="zero"),
        pytest.param("000", None, id="zeros"),
        pytest.param("9" * 5000, 10 * 365 * 86400.0, id="hostile-length"),  # int() would raise
        pytest.param("-5", None, id="negative"),
        pytest.param("1.5", None, id="fraction"),
        pytest.param("hourly", None, id="word"),
        pytest.param(None, None, id="missing"),
    ],
)
def test_a_channel_ttl_is_whole_minutes(value: object, seconds: float | None) -> None:
    assert channel_ttl(value) == seconds


@pytest.mark.parametrize(
    ("ttl", "fresh", "wait"),
    [
        pytest.param(None, None, None, id="nothing-asked"),
        pytest.param(HOUR, None, 1800.0, id="ttl-capped"),
        pytest.param(None, 1200.0, 1200.0, id="fresh-under-the-cap"),
        pytest.param(900.0, 1500.0, 1500.0, id="the-longer-of-both"),
        pytest.param(300.0, 500.0, None, id="shorter-than-the-interval"),
        pytest.param(600.0, None, None, id="the-interval-itself"),
    ],
)
def test_the_wait_is_what_the_feed_asks_within_the_interval_and_the_cap(
    ttl: float | None, fresh: float | None, wait: float | None
) -> None:
    assert hinted_wait(ttl, fresh, interval=600.0, max_ttl=1800.0) == wait
    assert hinted_wait(ttl, fresh, interval=600.0, max_ttl=0.0) is None  # the default: off


def _feed(ttl: int | None, items: int = 2, first: int = 0) -> bytes:
    entries = [
        f"<item><title>Story {n}</title><link>https://drill.test/{n}</link>"
        f"<guid>https://drill.test/{n}</guid></item>"
        for n in range(first, first + items)
    ]
    return rss(([f"<ttl>{ttl}</ttl>"] if ttl is not None else []) + entries)


class Polite(Harness):
    """Feeds polled every 10 minutes with a `max_ttl` (30 minutes unless given)."""

    def __init__(
        self, db: Path, clock: FakeClock, max_ttl: float = 1800.0, settings: PollSettings = SETTINGS
    ) -> None:
        super().__init__(db, clock, settings)
        self.max_ttl = max_ttl

    def feed(self, name: str, url: str) -> FeedConfig:
        feed = FeedConfig(name=name, url=url, interval=600, max_ttl=self.max_ttl)
        self.store.sync_feeds([feed])
        return feed


@pytest.fixture
def polite(tmp_path: Path, clock: FakeClock) -> Polite:
    return Polite(tmp_path / "polite.db", clock)


@pytest.mark.parametrize(
    ("ttl", "headers"),
    [
        pytest.param(60, {}, id="ttl"),
        pytest.param(None, {"Cache-Control": "max-age=3600"}, id="max-age"),
    ],
)
def test_a_feed_is_left_as_long_as_it_asks_up_to_max_ttl(
    server: FeedServer, polite: Polite, ttl: int | None, headers: dict[str, str]
) -> None:
    """Asked for an hour, polled every 10 minutes, capped at 30: the polls 10 and 20 minutes
    on ask the server nothing; the one 30 minutes on does, and its 304, which carries no
    <ttl>, leaves the feed 30 minutes again (the <ttl> of the body read before holds)."""
    server.feed("/slow.xml", _feed(ttl), extra=headers)
    feed = polite.feed("Slow", server.url("/slow.xml"))
    first = polite.clock.now
    assert polite.poll(feed)[0].status == "new"
    state = polite.store.feed_state("Slow")
    assert state.next_poll_at == first + timedelta(minutes=30, seconds=-DUE_SLACK)
    assert state.ttl == (3600.0 if ttl else None)
    for minutes in (10, 20):
        polite.clock.now = first + timedelta(minutes=minutes)
        assert polite.poll(feed)[0].status == "skipped"
    assert len(server.seen("/slow.xml")) == 1
    # the poll scheduled 30 minutes on, begun a moment sooner after its tick than this one
    polite.clock.now = first + timedelta(minutes=30, seconds=-1)
    (again,) = polite.poll(feed)
    assert (again.status, again.wait) == ("not_modified", 1800.0)
    left = polite.store.feed_state("Slow").next_poll_at
    assert left == polite.clock.now + timedelta(minutes=30, seconds=-DUE_SLACK)


def test_what_a_feed_asks_changes_nothing_by_default(server: FeedServer, harness: Harness) -> None:
    """Without `max_ttl`, a feed is polled at its interval whatever it says."""
    server.feed("/slow.xml", _feed(60), extra={"Cache-Control": "max-age=3600"})
    feed = harness.feed("Slow", server.url("/slow.xml"))
    start = harness.clock.now
    assert harness.poll(feed)[0].wait is None
    assert harness.store.feed_state("Slow").next_poll_at is None
    harness.clock.now = start + timedelta(minutes=10)
    assert harness.poll(feed)[0].status == "not_modified"


def test_a_feed_that_asks_for_less_than_its_interval_keeps_its_interval(
    server: FeedServer, polite: Polite
) -> None:
    server.feed("/quick.xml", _feed(5), extra={"Cache-Control": "max-age=120"})
    feed = polite.feed("Quick", server.url("/quick.xml"))
    start = polite.clock.now
    polite.poll(feed)
    assert polite.store.feed_state("Quick").next_poll_at is None
    polite.clock.now = start + timedelta(minutes=10)
    assert polite.poll(feed)[0].status == "not_modified"


def test_a_feed_that_may_drop_stories_is_not_left(server: FeedServer, polite: Polite) -> None:
    """A poll that lists only new stories is followed sooner (`Service._catch_up`): what the
    feed asks would keep that poll from happening, and stories come and go unseen."""
    server.feed("/busy.xml", _feed(60, items=3))
    feed = polite.feed("Busy", server.url("/busy.xml"))
    polite.poll(feed)
    server.feed("/busy.xml", _feed(60, items=3, first=3))  # none of the first three
    (gapped,) = polite.poll(feed, force=True)
    assert gapped.gap and gapped.wait is None
    assert polite.store.feed_state("Busy").next_poll_at is None


def test_a_feed_given_another_url_forgets_its_ttl(server: FeedServer, polite: Polite) -> None:
    server.feed("/old.xml", _feed(60))
    server.feed("/new.xml", _feed(None, first=5))
    polite.poll(polite.feed("Moved", server.url("/old.xml")))
    assert polite.store.feed_state("Moved").ttl == 3600.0
    moved = polite.feed("Moved", server.url("/new.xml"))
    state = polite.store.feed_state("Moved")
    assert (state.ttl, state.next_poll_at) == (None, None)
    polite.poll(moved)
    assert polite.store.feed_state("Moved").next_poll_at is None


def test_a_wait_longer_than_max_backoff_is_kept_when_max_ttl_allows_it(
    server: FeedServer, tmp_path: Path, clock: FakeClock
) -> None:
    """A wait longer than `poll.max_backoff` reads as set while the clock ran ahead, unless
    `poll.max_ttl` allows it: a feed that asked for a day, with `max_ttl: 8h`, is left 8h."""
    settings = replace(SETTINGS, max_backoff=6 * HOUR)
    harness = Polite(tmp_path / "long.db", clock, max_ttl=8 * HOUR, settings=settings)
    server.feed("/daily.xml", _feed(24 * 60))
    feed = harness.feed("Daily", server.url("/daily.xml"))
    start = clock.now
    harness.poll(feed)
    for hours in (0.2, 7):  # 7.8 hours left: longer than max_backoff, not than max_ttl
        clock.now = start + timedelta(hours=hours)
        assert harness.poll(feed)[0].status == "skipped"
    clock.now = start + timedelta(hours=8)
    # polled: a 304, or a full read that found the same body (the day's, `sends_validators`)
    assert harness.poll(feed)[0].status in ("not_modified", "unchanged")


@pytest.mark.parametrize(
    ("ttl", "seconds"),
    [
        pytest.param("45", 2700.0, id="minutes"),
        pytest.param("soon", None, id="word"),
        pytest.param("9" * 5000, MAX_SECONDS, id="hostile-length"),
    ],
)
def test_a_feed_is_read_whatever_its_ttl_says(ttl: str, seconds: float | None) -> None:
    body = rss(
        [f"<ttl>{ttl}</ttl>", "<item><title>One</title><link>https://drill.test/1</link></item>"]
    )
    parsed = parse_feed(body, feed="T", fetched_at=datetime.now(UTC))
    assert (len(parsed.stories), parsed.ttl) == (1, seconds)
