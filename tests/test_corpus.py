"""The 12 shared corpus feeds, served over HTTP, give exactly the 35 labelled stories."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from tests.conftest import FakeClock
from tests.feedserver import FeedServer
from tests.test_polling import Harness
from watcher.normalise import plain_text
from watcher.urls import canonical_url


def serve_corpus(server: FeedServer, corpus: Path, harness: Harness) -> list:  # type: ignore[type-arg]
    feeds = []
    for path in sorted((corpus / "feeds").glob("*.xml")):
        server.feed(f"/{path.name}", path.read_bytes())
        feeds.append(harness.feed(path.name.split(".")[0], server.url(f"/{path.name}")))
    return feeds


def test_corpus_feeds_give_exactly_the_labelled_stories(
    server: FeedServer, corpus: Path, tmp_path: Path, clock: FakeClock
) -> None:
    harness = Harness(tmp_path / "w.db", clock)
    feeds = serve_corpus(server, corpus, harness)
    assert len(feeds) == 12
    outcomes = harness.poll(*feeds)
    stories = [s for o in outcomes for s in o.new_stories]
    labelled = [json.loads(line) for line in (corpus / "stories.jsonl").read_text().splitlines()]
    assert len(stories) == len(labelled) == 35

    def key(feed: str, title: str, link: str, published: datetime) -> tuple[str, str, str, str]:
        return (feed, title, link, published.isoformat())

    got = {key(s.feed, s.title, s.link, s.published) for s in stories}
    want = {
        key(d["feed"], d["title"], canonical_url(d["link"]), datetime.fromisoformat(d["published"]))
        for d in labelled
    }
    assert got == want
    assert not any("utm_" in s.link for s in stories)
    summaries = {(s.feed, s.title): s.summary for s in stories}
    for d in labelled:
        # Google News gives "Headline  Outlet" as the summary: nothing the title does not say
        want = "" if d["feed"] == "googlenews" else plain_text(d["summary"])
        assert summaries[(d["feed"], d["title"])] == want, d["id"]
    mainichi = next(s for s in stories if s.feed == "mainichi")  # RDF: dc:date only
    assert mainichi.published.isoformat() == "2026-01-26T09:02:00+00:00"


def test_corpus_repoll_adds_nothing(
    server: FeedServer, corpus: Path, tmp_path: Path, clock: FakeClock
) -> None:
    harness = Harness(tmp_path / "w.db", clock)
    feeds = serve_corpus(server, corpus, harness)
    harness.poll(*feeds)
    again = harness.poll(*feeds)
    assert {o.status for o in again} == {"not_modified"}
    assert harness.store.count_stories() == 35
