from __future__ import annotations

import os
import resource
from datetime import UTC, datetime

import pytest

from tests.feedserver import fixture_bytes
from watcher.errors import ParseError
from watcher.parse import parse_feed

FETCHED = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def parse(name: str, **kw: object):  # type: ignore[no-untyped-def]
    return parse_feed(fixture_bytes(name), feed="test", fetched_at=FETCHED, **kw)  # type: ignore[arg-type]


def test_rss_story_fields() -> None:
    parsed = parse("wire.rss.xml")
    first = parsed.stories[0]
    assert first.title == "Smelter Group To Start Germanium Output In Ontario"
    assert first.link == "https://wire.test/news.php?id=101"
    assert first.published == datetime(2026, 11, 10, 7, 30, tzinfo=UTC)  # +0800 to UTC
    assert first.summary.startswith(
        "TORONTO, Nov 10 (Test Wire) -- A smelter group will start germanium"
    )
    assert "<" not in first.summary and "&amp;" not in first.summary
    assert first.guid == "wire-101"
    assert first.source == "Test Wire - Markets"
    assert parsed.warning is None


def test_atom_html_title_and_summary_become_plain_text() -> None:
    primer = parse("journal.atom.xml").stories[0]
    assert primer.title == "Gallium & germanium: a primer"
    assert primer.summary == "Two by-products of zinc and aluminium — and why they matter."
    assert primer.published == datetime(2026, 11, 12, 6, 0, tzinfo=UTC)


def test_atom_without_published_uses_updated() -> None:
    assert parse("journal.atom.xml").stories[1].published == datetime(2026, 11, 11, 10, tzinfo=UTC)


def test_rdf_dc_date() -> None:
    (story,) = parse("asia.rdf.xml").stories
    assert story.published == datetime(2026, 11, 12, 18, 0, tzinfo=UTC)
    assert story.link == "https://asia.test/a/1"


def test_configured_source_overrides_channel_title() -> None:
    assert parse("asia.rdf.xml", source="Asia Daily").stories[0].source == "Asia Daily"


def test_malformed_feed_with_entries_is_used_and_flagged() -> None:
    parsed = parse("broken.rss.xml")
    assert [s.title for s in parsed.stories] == ["Tin output rises", "Cobalt exports fall"]
    assert parsed.warning and "malformed" in parsed.warning


@pytest.mark.parametrize(
    "body",
    [fixture_bytes("page.html"), b"", b"\x00\xff garbage \x89PNG"],
    ids=["html", "empty", "binary"],
)
def test_not_a_feed_is_a_parse_error(body: bytes) -> None:
    with pytest.raises(ParseError, match="no feed found"):
        parse_feed(body, feed="t", fetched_at=FETCHED)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
<!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
<!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
<!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">
]>
<rss version="2.0"><channel><title>bomb</title>
<item><title>&h;</title><link>https://bomb.test/1</link><description>&h;</description></item>
</channel></rss>"""


def test_billion_laughs_expands_nothing() -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    parsed = parse_feed(BILLION_LAUGHS, feed="t", fetched_at=FETCHED)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    (story,) = parsed.stories
    assert len(story.title) < 100 and len(story.summary) < 100
    assert "a" * 100 not in story.title + story.summary
    assert grown_kib < 100 * 1024  # the full expansion would be 1.8 GB


def test_external_entity_reads_no_local_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    body = f"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>
<rss version="2.0"><channel><title>x</title>
<item><title>leak &xxe; here</title><link>https://x.test/1</link><description>&xxe;</description></item>
</channel></rss>""".encode()
    (story,) = parse_feed(body, feed="t", fetched_at=FETCHED).stories
    assert "TOP-SECRET" not in story.title + story.summary
    assert os.path.exists(secret)
