"""`watcher stories` and `watcher clusters` narrowed to a feed, a tag or a rule, and the
clusters as JSON lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.feedserver import FeedServer, fixture_bytes
from tests.test_cli import watcher, write_config


@pytest.fixture
def polled(server: FeedServer, tmp_path: Path) -> Path:
    """Three feeds polled once: Wire and Reprints (its stories under other ids) tagged
    `wire`, Journal untagged; rules `g` (germanium) and `l` (lithium)."""
    wire = fixture_bytes("wire.rss.xml")
    server.feed("/wire.xml", wire)
    server.feed("/reprints.xml", wire.replace(b"wire-10", b"re-10").replace(b"id=10", b"id=90"))
    server.feed("/journal.xml", fixture_bytes("journal.atom.xml"))
    config = write_config(
        tmp_path, server, ("Wire", "/wire.xml"), ("Reprints", "/reprints.xml"),
        ("Journal", "/journal.xml"),
    )  # fmt: skip
    tagged = config.read_text()
    for path in ("/wire.xml", "/reprints.xml"):
        tagged = tagged.replace(f"{path}\n", f"{path}\n    tags: [wire]\n")
    config.write_text(tagged + "rules: rules\n")
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "r.yaml").write_text(
        "rules:\n  - name: g\n    when: germanium\n  - name: l\n    when: lithium\n"
    )
    once = watcher("--config", str(config), "once")
    assert once.returncode == 0, once.stderr
    return config


def feeds_of(config: Path, *args: str) -> list[str]:
    result = watcher("--config", str(config), "stories", "--format", "jsonl", *args)
    assert result.returncode == 0, result.stderr
    return sorted(json.loads(line)["feed"] for line in result.stdout.splitlines())


def clusters_of(config: Path, *args: str) -> list[dict]:
    result = watcher("--config", str(config), "clusters", "--format", "jsonl", *args)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_stories_of_a_feed_or_of_every_feed_tagged_so(polled: Path) -> None:
    assert feeds_of(polled, "--feed", "Journal") == ["Journal", "Journal"]
    assert feeds_of(polled, "--feed", "Wire") == ["Wire", "Wire"]
    assert feeds_of(polled, "--feed", "wire") == ["Reprints", "Reprints", "Wire", "Wire"]
    assert len(feeds_of(polled)) == 6
    table = watcher("--config", str(polled), "stories", "--feed", "Journal").stdout
    assert table.splitlines()[-1] == "2 stories of Journal first fetched in the last 24h"
    assert "Lithium Price Update" in table and "Germanium" not in table


def test_a_feed_no_longer_configured_is_warned_of_and_still_read(polled: Path) -> None:
    polled.write_text(polled.read_text().replace("name: Journal", "name: Metals Journal"))
    gone = watcher("--config", str(polled), "stories", "--feed", "Journal")
    assert gone.returncode == 0
    assert "no configured feed is named or tagged 'Journal'" in gone.stderr
    assert gone.stdout.splitlines()[-1] == "2 stories of Journal first fetched in the last 24h"
    typo = watcher("--config", str(polled), "stories", "--feed", "Jornal")
    assert "'Jornal'" in typo.stderr
    assert typo.stdout.splitlines()[-1] == "0 stories of Jornal first fetched in the last 24h"


def test_clusters_of_a_feed_and_of_a_rule_as_json_lines(polled: Path) -> None:
    journal = clusters_of(polled, "--feed", "Journal")
    assert {s["feed"] for c in journal for s in c["stories"]} == {"Journal"}
    assert len(journal) == 2
    lithium = clusters_of(polled, "--rule", "l")
    assert [[s["title"] for s in c["stories"]] for c in lithium] == [["Lithium Price Update"]]
    [germanium] = clusters_of(polled, "--rule", "g", "--feed", "wire")
    assert {s["feed"] for s in germanium["stories"]} == {"Wire", "Reprints"}
    [rule] = germanium["rules"]
    assert rule["rule"] == "g" and rule["story"] in {s["id"] for s in germanium["stories"]}
    assert rule["quiet"] is True  # published before the feeds' backfill: kept from alerting
    assert "body" not in germanium["stories"][0] and "summary" not in germanium["stories"][0]
    assert clusters_of(polled, "--rule", "l", "--feed", "wire") == []


def test_the_clusters_table_says_what_it_was_narrowed_to(polled: Path) -> None:
    table = watcher("--config", str(polled), "clusters", "--rule", "g", "--feed", "Reprints")
    assert table.returncode == 0, table.stderr
    assert "Smelter Group To Start Germanium Output In Ontario" in table.stdout
    assert "Lithium" not in table.stdout
    last = table.stdout.splitlines()[-1]
    assert last == "1 cluster of Reprints matching g updated in the last 24h"
    none = watcher("--config", str(polled), "clusters", "--rule", "nothing").stdout
    assert none == "0 clusters matching nothing updated in the last 24h\n"


def test_alerts_as_json_lines(server: FeedServer, tmp_path: Path) -> None:
    """Sent console alerts, one line each, with the news item, rule, story and terms."""
    server.feed("/wire.xml", fixture_bytes("wire.rss.xml"))
    config = write_config(tmp_path, server, ("Wire", "/wire.xml"))
    config.write_text(
        config.read_text() + "backfill: all\nrules: rules\n"
        "subscribers:\n  - {name: ana, console: true, follow: ['*']}\n"
    )
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "r.yaml").write_text(
        "lists:\n  minerals: [germanium, antimony]\n"
        "rules:\n  - name: g\n    when: '@minerals:\"germanium\"'\n"
    )
    assert watcher("--config", str(config), "once").returncode == 0
    result = watcher("--config", str(config), "alerts", "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    [alert] = [json.loads(line) for line in result.stdout.splitlines()]
    assert (alert["subscriber"], alert["channel"], alert["status"]) == ("ana", "console", "sent")
    assert alert["rule"] == "g" and alert["terms"] == {"minerals": ["germanium"]}
    assert alert["due"] is None and alert["sent_at"] and alert["failed_tries"] == 0
    clusters = clusters_of(config, "--rule", "g")
    assert [alert["cluster"]] == [c["id"] for c in clusters]
    assert alert["story"] in {s["id"] for s in clusters[0]["stories"]}
    none = watcher("--config", str(config), "alerts", "--format", "jsonl", "--subscriber", "bo")
    assert none.stdout == ""
