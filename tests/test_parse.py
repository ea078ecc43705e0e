from __future__ import annotations

import codecs
import html
import json
import os
import random
import re
import resource
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from tests.feedserver import fixture_bytes, rss
from watcher import parsers
from watcher.boilerplate import repeats_title
from watcher.config import default_rules
from watcher.dedupe import ClusterSettings, cluster_batch, compare, fingerprint
from watcher.errors import ParseError
from watcher.links import MAX_RELATED, named_feeds
from watcher.models import ParsedFeed
from watcher.normalise import plain_text, story_id
from watcher.parse import parse_feed
from watcher.rules import Matcher, load_rules

FETCHED = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def parse(name: str, **kw: object):  # type: ignore[no-untyped-def]
    return parse_feed(fixture_bytes(name), feed="test", fetched_at=FETCHED, **kw)  # type: ignore[arg-type]


def feedparser_only(body: bytes, monkeypatch: pytest.MonkeyPatch, **kw: object) -> ParsedFeed:
    """What feedparser alone makes of `body`: the fast path switched off."""
    with monkeypatch.context() as patch:
        patch.setattr(parsers, "fast_parse", lambda body, content_type: None)
        return parse_feed(body, feed="test", fetched_at=FETCHED, **kw)  # type: ignore[arg-type]


def read_either(body: bytes, fast: bool, monkeypatch: pytest.MonkeyPatch) -> ParsedFeed:
    """`body` as `parse_feed` reads it, or, not `fast`, as feedparser alone does."""
    if fast:
        return parse_feed(body, feed="test", fetched_at=FETCHED)
    return feedparser_only(body, monkeypatch)


WELL_FORMED = ["wire.rss.xml", "journal.atom.xml", "asia.rdf.xml", "edges.rss.xml",
               "edges.atom.xml"]  # fmt: skip


@pytest.mark.parametrize("name", WELL_FORMED)
def test_fast_parser_gives_feedparsers_stories(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    body = fixture_bytes(name)
    assert parsers.fast_parse(body, "application/rss+xml; charset=utf-8") is not None
    assert parse(name) == feedparser_only(body, monkeypatch)


def test_fast_parser_gives_feedparsers_stories_on_the_corpus(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feeds = sorted((corpus / "feeds").glob("*.xml"))
    assert len(feeds) >= 10
    for path in feeds:
        body = path.read_bytes()
        assert parsers.fast_parse(body, None) is not None, path.name
        fast = parse_feed(body, feed="test", fetched_at=FETCHED)
        assert fast == feedparser_only(body, monkeypatch), path.name


@pytest.mark.parametrize("fast", [True, False])
def test_control_characters_never_reach_a_terminal(
    fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hostile feed's escape sequences (raw, or as character references) are taken out
    of every text a command or the console prints, and percent-encoded in links."""
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire\x1b]0;owned\x07</title>'
        b"<item><title>Gallium \x1b[31mprices\x1b[0m rise &#27;[2J</title>"
        b"<link>https://wire.test/a\x1b[5m</link>"
        b"<description>Smelters \x1b[8mhidden\x7f &#x9b;2J short</description></item>"
        b"</channel></rss>"
    )
    parsed = read_either(body, fast, monkeypatch)
    (story,) = parsed.stories
    for text in (story.title, story.summary, story.source, story.link):
        assert text.isprintable(), text
    assert story.title == "Gallium [31mprices [0m rise [2J"
    assert story.link == "https://wire.test/a%1B[5m"


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize(("written", "link"), [
    ("https://wire.test/invoice\u202efdp.exe", "https://wire.test/invoice%E2%80%AEfdp.exe"),
    ("https://wire.test/gal\u200blium", "https://wire.test/gal%E2%80%8Blium"),
    ("https://wire.test/Gallium plant news.html", "https://wire.test/Gallium%20plant%20news.html"),
    ("https://wire.test/a\u00a0b\u2028c", "https://wire.test/a%C2%A0b%E2%80%A8c"),
])  # fmt: skip
def test_a_link_holds_no_white_space_nor_a_character_that_shows_as_nothing(
    fast: bool, written: str, link: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a browser sends them, percent-encoded: a right-to-left override showed the rest of
    an alert's link reversed (`invoice<U+202E>fdp.exe` as `invoiceexe.pdf`), and a space
    ended the link a mail reader made of an alert's text."""
    body = rss([f"<item><title>Gallium prices</title><link>{written}</link></item>"])
    (story,) = read_either(body, fast, monkeypatch).stories
    assert story.link == link


def test_edge_entries_become_stories() -> None:
    """Entities in an Atom href, content without a summary, a guid standing in for a link."""
    atom = parse("edges.atom.xml").stories
    assert atom[0].link == "https://edges.test/a?id=7&lang=en&x=1"
    assert atom[0].title == "Germanium output & exports"
    assert atom[0].summary == "Xhtml content only."
    assert atom[1].source == "Original Outlet"
    assert atom[1].title == "Text title with < and > signs"
    rss = {s.title: s for s in parse("edges.rss.xml").stories}
    first = rss["Antimony prices jump 5% & more"]
    assert first.link == "https://edges.test/story?id=1&page=2"
    assert first.summary == "Short teaser only."
    assert first.source == "Outlet & Sons"
    assert rss["Lithium deal signed in Astana"].summary.startswith("Only content, no description")
    assert rss["Guid that is a URL, no link"].link == "https://edges.test/guid-only"
    assert rss["A date from the future"].published == FETCHED


_ATOM = '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"{base}>'
_ENTRY = '<entry{base}><title>{title}</title><link href="{href}"/><id>tag:t,{title}</id></entry>'
_RSS = '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>{link}'
_ITEM = "<item><title>{title}</title><link>{href}</link></item>"
FETCHED_FROM = "https://feeds.test/dir/feed.xml"


def _atom(feed_base: str, *entries: tuple[str, str, str]) -> bytes:
    body = "".join(_ENTRY.format(base=b, title=t, href=h) for b, t, h in entries)
    return (_ATOM.format(base=feed_base) + "<title>t</title><id>t</id>" + body + "</feed>").encode()


def _rss_links(channel_link: str, *hrefs: str) -> bytes:
    items = "".join(_ITEM.format(title=f"t{n}", href=h) for n, h in enumerate(hrefs))
    return (_RSS.format(link=channel_link) + items + "</channel></rss>").encode()


@pytest.mark.parametrize(
    ("body", "links"),
    [
        (_rss_links("<link>https://site.test/news/</link>", "/a/1", "b/2", "//cdn.test/c"),
         ["https://site.test/a/1", "https://site.test/news/b/2", "https://cdn.test/c"]),
        (_rss_links("", "/a/1", "https://abs.test/2"),
         ["https://feeds.test/a/1", "https://abs.test/2"]),
        (_atom(' xml:base="https://one.test/x/"', ("", "e1", "a/1"),
               (' xml:base="https://two.test/y/"', "e2", "a/2"), ("", "e3", "/root")),
         ["https://one.test/x/a/1", "https://two.test/y/a/2", "https://one.test/root"]),
    ],
    ids=["rss-against-channel-link", "rss-against-feed-url", "atom-against-xml-base"],
)  # fmt: skip
def test_relative_links_are_resolved_alike_by_both_parsers(
    body: bytes, links: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Against xml:base, then the channel's link, then the URL the feed came from: a relative
    link would make an alert's link useless and join unrelated outlets' stories."""
    assert parsers.fast_parse(body, None) is not None
    fast = parse_feed(body, feed="test", fetched_at=FETCHED, url=FETCHED_FROM)
    assert [s.link for s in fast.stories] == links
    assert fast == feedparser_only(body, monkeypatch, url=FETCHED_FROM)


ATOM_TEXT = (
    b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
    b"<title>t</title><id>urn:t</id><entry><id>urn:1</id><title>Fix &lt;Suspense&gt; in "
    b"gallium tool</title><summary>Write &lt;gallium&gt; for Ga.</summary></entry><entry>"
    b'<id>urn:2</id><title type="text"><![CDATA[Ga <Ge> Sb]]></title><summary>&lt;p&gt;'
    b"Labelled text, written as &lt;b&gt;HTML&lt;/b&gt;.&lt;/p&gt;</summary></entry></feed>"
)


@pytest.mark.parametrize("fast", [True, False])
def test_an_atom_text_of_type_text_keeps_its_angle_brackets(
    fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Atom's default type is text, whose `<` is its own: stripped as HTML's, `<gallium>`
    took the word out of the summary the rules read. A text of type text holding HTML's
    own tags is HTML its feed did not label so, and read as HTML."""
    first, second = read_either(ATOM_TEXT, fast, monkeypatch).stories
    assert (first.title, first.summary) == (
        "Fix <Suspense> in gallium tool",
        "Write <gallium> for Ga.",
    )
    assert (second.title, second.summary) == ("Ga <Ge> Sb", "Labelled text, written as HTML.")


def test_rss_resolves_relative_links_against_its_xml_base(monkeypatch: pytest.MonkeyPatch) -> None:
    """feedparser-rs ignores an `xml:base` in RSS (Drupal puts one on `<rss>`) and resolved
    such a feed's relative links against the channel's link, to pages that may not exist;
    feedparser reads the base, the channel's and an item's own."""
    body = (
        b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        b'xml:base="https://www.site.test/en/"><channel><title>t</title>'
        b"<link>https://site.test/</link><item><title>A</title><link>news/1</link></item>"
        b'<item xml:base="https://archive.site.test/"><title>B</title><link>/2</link></item>'
        b"</channel></rss>"
    )
    parsed = parse_feed(body, feed="test", fetched_at=FETCHED)
    assert [s.link for s in parsed.stories] == [
        "https://www.site.test/en/news/1", "https://archive.site.test/2"
    ]  # fmt: skip
    assert parsed == feedparser_only(body, monkeypatch)


def test_a_relative_link_without_a_base_is_kept_as_it_is() -> None:
    body = _rss_links("", "/a/1")
    for url in (None, "file:///feeds/f.xml"):  # a file: URL is no base for a web link
        (story,) = parse_feed(body, feed="t", fetched_at=FETCHED, url=url).stories
        assert story.link == "/a/1"


LONG_POST = "Kazakhstan restarts gallium output at the Pavlodar smelter after a decade, " * 3


@pytest.mark.parametrize(
    ("item", "title"),
    [
        ("<description>Gallium output restarts.</description><link>https://m.test/1</link>",
         "Gallium output restarts."),
        (f"<description>{LONG_POST}</description><link>https://m.test/2</link>",
         "Kazakhstan restarts gallium output at the Pavlodar smelter after a decade, Kazakhstan"
         " restarts…"),
        ("<description>   </description><link>https://m.test/3</link>", "https://m.test/3"),
        ("<title>  </title><guid isPermaLink=\"false\">g4</guid>", ""),
    ],
    ids=["short-text", "long-text-cut-at-a-word", "no-text-the-link", "nothing"],
)  # fmt: skip
def test_an_untitled_entry_is_titled_by_its_text(
    item: str, title: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mastodon's and Bluesky's feeds carry no titles; alerts and tables need one."""
    body = _rss_links("<link>https://m.test/</link>").replace(
        b"</channel>", f"<item>{item}</item></channel>".encode()
    )
    fast = parse_feed(body, feed="test", fetched_at=FETCHED)
    assert [s.title for s in fast.stories] == [title]
    assert fast == feedparser_only(body, monkeypatch)


@pytest.mark.parametrize(
    ("items", "expected", "ids"),
    [
        ([("g", "https://d.test/1"), ("g", "https://d.test/2"), ("g", "https://d.test/3")],
         [(None, "https://d.test/1"), (None, "https://d.test/2"), (None, "https://d.test/3")], 3),
        ([("g", "https://d.test/1"), ("g", "https://d.test/1?utm_source=x")],
         [("g", "https://d.test/1"), ("g", "https://d.test/1")], 1),
        ([("g", "https://d.test/1"), ("h", "https://d.test/1")], [("g", ""), ("h", "")], 2),
    ],
    ids=["one-guid-on-three-stories", "one-entry-twice", "two-guids-one-link"],
)  # fmt: skip
def test_a_guid_shared_by_entries_with_other_links_is_dropped(
    items: list[tuple[str, str]], expected: list[tuple[str | None, str]], ids: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """A feed that gives one guid to different stories would otherwise keep only the first.
    Two guids on one link: that link is no story's (see the test below)."""
    entries = "".join(
        f"<item><title>Story {n}</title><link>{escape(link)}</link><guid>{guid}</guid></item>"
        for n, (guid, link) in enumerate(items)
    )
    body = _rss_links("").replace(b"</channel>", entries.encode() + b"</channel>")
    parsed = parse_feed(body, feed="test", fetched_at=FETCHED)
    assert [(s.guid, s.link) for s in parsed.stories] == expected
    assert len({s.id for s in parsed.stories}) == ids
    assert parsed == feedparser_only(body, monkeypatch)


def test_a_summary_given_to_stories_with_other_titles_is_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Paywalled feeds give every story the same teaser: it is about none of them."""
    paywall = "This article is for subscribers only. Log in or subscribe to continue reading."
    entries = [("Gallium prices rise in Rotterdam", paywall),
               ("Port workers end strike at the northern harbour", paywall),
               ("Lithium mine floods in Chile", "Rain stopped work at the Atacama pit."),
               ("Lithium mine floods in Chile", "Rain stopped work at the Atacama pit.")]  # fmt: skip
    items = "".join(
        f"<item><title>{title}</title><link>https://p.test/{n}</link>"
        f"<description>{text}</description></item>"
        for n, (title, text) in enumerate(entries)
    )
    body = _rss_links("").replace(b"</channel>", items.encode() + b"</channel>")
    parsed = parse_feed(body, feed="test", fetched_at=FETCHED)
    assert [s.summary for s in parsed.stories] == ["", "", *[entries[2][1]] * 2]
    assert parsed == feedparser_only(body, monkeypatch)


def test_a_link_to_the_site_or_the_feed_is_no_storys_link(monkeypatch: pytest.MonkeyPatch) -> None:
    """Some feeds link every entry to the home page: taken for the stories' links, it would
    make them one story (without guids) or one cluster (by exact link)."""
    entries = [("Gallium prices rise", "<guid isPermaLink='false'>a</guid>", "https://site.test/"),
               ("Port strike ends", "", "https://site.test"),
               ("Lithium mine floods", "<guid>https://site.test/news/3</guid>", "https://site.test/"),
               ("Antimony curbs", "", FETCHED_FROM)]  # fmt: skip
    items = "".join(
        f"<item><title>{title}</title>{guid}<link>{link}</link></item>"
        for title, guid, link in entries
    )
    body = _rss_links("<link>https://site.test/</link>").replace(
        b"</channel>", items.encode() + b"</channel>"
    )
    parsed = parse_feed(body, feed="test", fetched_at=FETCHED, url=FETCHED_FROM)
    assert [s.link for s in parsed.stories] == ["", "", "https://site.test/news/3", ""]
    assert len({s.id for s in parsed.stories}) == 4
    assert parsed == feedparser_only(body, monkeypatch, url=FETCHED_FROM)


@pytest.mark.parametrize(
    ("hrefs", "links"),
    [
        (["#2026-11-24", "https://gov.test/press.html#2026-11-23"],
         ["https://gov.test/press.html#2026-11-24", "https://gov.test/press.html#2026-11-23"]),
        (["https://gov.test/a#top", "https://gov.test/b#top"],
         ["https://gov.test/a", "https://gov.test/b"]),
        (["https://gov.test/a#top"], ["https://gov.test/a"]),
    ],
    ids=["a-page-of-news-with-anchors", "same-fragment-other-pages", "one-entry"],
)  # fmt: skip
def test_fragments_are_kept_where_they_tell_entries_apart(
    hrefs: list[str], links: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A press-release page that lists its releases as anchors: without their fragments,
    every release would be one link, one id (without guids) and one story."""
    body = _rss_links("<link>https://gov.test/press.html</link>", *hrefs)
    parsed = parse_feed(body, feed="test", fetched_at=FETCHED, url=FETCHED_FROM)
    assert [s.link for s in parsed.stories] == links
    assert len({s.id for s in parsed.stories}) == len(links)
    assert parsed == feedparser_only(body, monkeypatch, url=FETCHED_FROM)


def _one_title_feed(declared: str | None, title: bytes) -> bytes:
    head = f'<?xml version="1.0" encoding="{declared}"?>'.encode() if declared else b""
    return head + (
        b'<rss version="2.0"><channel><title>t</title><item><title>' + title
        + b"</title><link>https://x.test/1</link></item></channel></rss>"
    )  # fmt: skip


@pytest.mark.parametrize(
    ("body", "content_type", "title"),
    [
        (_one_title_feed("iso-8859-1", "Café München".encode("latin-1")), None, "Café München"),
        (_one_title_feed(None, "日本".encode("shift_jis")), "text/xml; charset=Shift_JIS", "日本"),
        (_one_title_feed("utf-8", "Café".encode("latin-1")), None, "Café"),  # mislabelled
        (_one_title_feed(None, b"bad \xff\xfe bytes"), None, "bad ÿþ bytes"),  # invalid UTF-8
        ("<?xml version='1.0' encoding='utf-16'?>".encode("utf-16")
         + _one_title_feed(None, b"wide").decode().encode("utf-16")[2:], None, "wide"),
    ],
    ids=["latin-1", "shift-jis-in-content-type", "mislabelled", "invalid-utf-8", "utf-16"],
)  # fmt: skip
def test_other_encodings_go_to_feedparser(
    body: bytes, content_type: str | None, title: str
) -> None:
    assert parsers.fast_parse(body, content_type) is None
    (story,) = parse_feed(body, feed="t", fetched_at=FETCHED, content_type=content_type).stories
    assert story.title == title


_RU = ("Завод в Павлодаре начнёт выпуск галлия", "Компания сообщила о планах по выпуску галлия.")
_JA = ("双日、ガリウムの生産へ", "双日は現地企業と提携し、ガリウムの生産を始めると発表した。")
_FR = ("Le géant minier prévoit d’étendre sa production", "L’usine française réduira l’été.")


def _feed_in(encoding: str, declared: str | None, *items: tuple[str, str]) -> bytes:
    head = f'<?xml version="1.0" encoding="{declared}"?>' if declared else '<?xml version="1.0"?>'
    return (head + '<rss version="2.0"><channel><title>t</title>' + "".join(
        f"<item><title>{title}</title><link>https://x.test/{i}</link>"
        f"<description>{summary}</description></item>"
        for i, (title, summary) in enumerate(items)
    ) + "</channel></rss>").encode(encoding)  # fmt: skip


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "feedparser"])
@pytest.mark.parametrize(
    ("body", "items", "warning"),
    [
        pytest.param(_feed_in("cp1251", None, _RU), [_RU],
                     "not UTF-8, and declares no encoding: read as cp1251", id="windows-1251"),
        pytest.param(_feed_in("koi8-r", "utf-8", _RU, _RU), [_RU, _RU],
                     "not in the utf-8 it declares: read as koi8_r", id="koi8-r-said-utf-8"),
        pytest.param(_feed_in("shift_jis", None, _JA), [_JA],
                     "not UTF-8, and declares no encoding: read as cp932", id="shift-jis"),
        pytest.param(_feed_in("utf-8", "utf-8", _RU, _JA).replace("выпуску".encode(), b"\xd0"),
                     [_RU, _JA], "not all UTF-8: 1 broken sequence read as U+FFFD",
                     id="utf-8-cut-in-a-character"),
    ],
)  # fmt: skip
def test_a_feed_not_in_the_encoding_it_declares_is_read_in_its_own(
    body: bytes, items: list[tuple[str, str]], warning: str, fast: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Read as Windows-1252 or ISO-8859-2, as feedparser read it, every title was mojibake
    and no rule found its words; a cut character is U+FFFD, the rest read."""
    parsed = read_either(body, fast, monkeypatch)
    assert [s.title for s in parsed.stories] == [title for title, _ in items]
    summaries = [s.summary for s in parsed.stories]
    if "U+FFFD" in warning:
        assert summaries[0] == _RU[1].replace("выпуску", "\ufffd")
        summaries[0] = _RU[1]
    assert summaries == [summary for _, summary in items]
    assert parsed.warning is not None and parsed.warning.startswith(warning)


@pytest.mark.parametrize("codec", ["hex", "zlib", "rot13", "base64"])
@pytest.mark.parametrize("where", ["document", "server"])
def test_a_feed_declaring_a_codec_of_no_text_is_parsed(codec: str, where: str) -> None:
    """Python knows `hex` or `zlib` by name, but decodes no text by them: the body's decode
    raised LookupError out of the parse, and the feed's every poll failed."""
    body = _feed_in("cp1252", codec if where == "document" else None, _FR)
    server = f"text/xml; charset={codec}" if where == "server" else None
    parsed = parse_feed(body, feed="t", fetched_at=FETCHED, content_type=server)
    assert [s.link for s in parsed.stories] == ["https://x.test/0"]


@pytest.mark.parametrize(
    ("body", "content_type", "warning"),
    [
        pytest.param(_feed_in("utf-8", "utf-8", _RU, ("Иней", "Ш")), "text/xml; charset=windows-1251",
                     "declares windows-1251 but is UTF-8", id="a-servers-default-charset"),
        pytest.param(_feed_in("utf-8", "utf-8", _RU), "application/rss+xml; charset=ISO-8859-1",
                     "declares ISO-8859-1 but is UTF-8", id="latin-1-said-by-the-server"),
        pytest.param(_feed_in("utf-8", "koi8-r", _RU, _JA), None, "declares koi8-r but is UTF-8",
                     id="said-by-the-document"),
        # .NET writes an XML declaration of UTF-16 (a string's encoding) atop UTF-8 bytes: no
        # feed at all (feedparser read the bytes as UTF-16), every poll failed
        pytest.param(_feed_in("utf-8", "utf-16", _RU), None, "declares utf-16 but is UTF-8",
                     id="utf-16-said-by-the-document"),
        pytest.param(_feed_in("utf-8", "utf-8", _RU), "text/xml; charset=UTF-16BE",
                     "declares UTF-16BE but is UTF-8", id="utf-16-said-by-the-server"),
        pytest.param(_feed_in("utf-8", "utf-32", _RU), None, "declares utf-32 but is UTF-8",
                     id="utf-32-said-by-the-document"),
    ],
)  # fmt: skip
def test_utf_8_declared_as_another_encoding_is_read_as_utf_8(
    body: bytes, content_type: str | None, warning: str
) -> None:
    """Read as windows-1251 (Apache's AddDefaultCharset on many a Russian host), a UTF-8
    feed was mojibake (`РљР°Р·Р°С…`) without a warning."""
    parsed = parse_feed(body, feed="t", fetched_at=FETCHED, content_type=content_type)
    assert parsed.stories[0].title == _RU[0]
    assert parsed.warning == warning


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le"])
@pytest.mark.parametrize("server", [True, False])
def test_a_feed_in_utf_16_or_32_is_read_as_it_declares(codec: str, server: bool) -> None:
    body = _feed_in(codec, codec, _RU, _JA)
    parsed = parse_feed(body, feed="t", fetched_at=FETCHED,
                        content_type=f"text/xml; charset={codec}" if server else None)  # fmt: skip
    assert [s.title for s in parsed.stories] == [_RU[0], _JA[0]]
    assert "but is UTF-8" not in (parsed.warning or "")


@pytest.mark.parametrize(
    ("body", "title"),
    [
        pytest.param(_feed_in("cp1252", None, _FR, _FR), _FR[0], id="french"),
        pytest.param(_feed_in("cp1252", "utf-8", ("Mitsubishi’s “deal”", "x")),
                     "Mitsubishi’s “deal”", id="curly-quotes-said-utf-8"),
    ],
)  # fmt: skip
def test_a_latin_feed_not_utf_8_is_read_as_windows_1252(body: bytes, title: str) -> None:
    """A guess among Latin code pages from a few accented letters is often wrong: Windows-1252,
    which old Western feeds are in, stays the reading."""
    parsed = parse_feed(body, feed="t", fetched_at=FETCHED)
    assert {s.title for s in parsed.stories} == {title}
    assert parsed.warning is not None and "guessed" not in parsed.warning


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


# A Google Alerts feed as Google writes it: each link redirects through google.com, with
# parameters of its own, and the matched words are bold in title and content.
_ALERTS = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><id>tag:google.com,2005:reader/user/1/state/alerts/7</id>
<title>Google Alert - gallium</title><link href="https://www.google.com/alerts/feeds/1/7" rel="self"/>
<entry><id>tag:google.com,2013:googlealerts/feed:1055</id>
<title type="html">Astana signs &lt;b&gt;gallium&lt;/b&gt; supply pact with Tokyo</title>
<link href="https://www.google.com/url?rct=j&amp;sa=t&amp;url=https://wire.test/news/{path}&amp;ct=ga&amp;cd=CAIyGj&amp;usg=AOvVaw1"/>
<published>2026-11-24T09:00:00Z</published><updated>2026-11-24T09:00:00Z</updated>
<content type="html">Kazakhstan will ship &lt;b&gt;gallium&lt;/b&gt; to Japan from next year.</content>
</entry></feed>"""
_OUTLET = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Wire</title>
<item><title>Astana signs gallium supply pact with Tokyo</title>
<link>https://wire.test/news/{path}</link><guid isPermaLink="false">w-88</guid>
<pubDate>Tue, 24 Nov 2026 08:40:00 GMT</pubDate>
<description>Kazakhstan will ship gallium to Japan from next year.</description></item>
</channel></rss>"""


def test_a_google_alerts_story_is_known_by_the_page_its_link_leads_to(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Google Alerts links redirect through google.com with parameters that change: the
    story's link is the outlet's page, so the outlet's own entry is the same story."""
    path = "astana-gallium-pact?id=88&amp;utm_source=alerts"
    body = _ALERTS.format(path=path).encode()
    (alert,) = parse_feed(body, feed="test", fetched_at=FETCHED).stories
    assert alert.link == "https://wire.test/news/astana-gallium-pact?id=88"
    assert alert.title == "Astana signs gallium supply pact with Tokyo"
    assert alert.source == "wire.test"  # the outlet, not the alert's name ("Google Alert - ...")
    assert alert == feedparser_only(body, monkeypatch).stories[0]
    (outlet,) = parse_feed(
        _OUTLET.format(path=path).encode(), feed="wire", fetched_at=FETCHED
    ).stories
    score = compare(fingerprint(alert), fingerprint(outlet), ClusterSettings())
    assert (score.level, score.reason) == ("exact", "same canonical link")


_FEEDBURNER = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0"><channel>
<title>Site News</title><link>https://site.test/</link>
<item><title>Smelter restarts</title><link>http://feedproxy.google.com/~r/Site/~3/Zx9/s1</link>
<guid isPermaLink="false">s-1</guid>
<feedburner:origLink>https://site.test/news/s1?utm_source=feedburner</feedburner:origLink></item>
<item><title>No original</title><link>https://site.test/news/s2</link></item>
</channel></rss>"""


def test_a_feedburner_story_links_to_its_own_page() -> None:
    """FeedBurner gives each entry's page as `origLink` beside a feedproxy redirect."""
    assert parsers.fast_parse(_FEEDBURNER.encode(), None) is None  # it drops origLink
    stories = parse_feed(_FEEDBURNER.encode(), feed="t", fetched_at=FETCHED).stories
    assert [s.link for s in stories] == ["https://site.test/news/s1", "https://site.test/news/s2"]


def test_a_configured_or_given_outlet_names_a_redirected_story() -> None:
    body = _ALERTS.format(path="a").encode()
    (story,) = parse_feed(body, feed="t", fetched_at=FETCHED, source="Alerts").stories
    assert story.source == "Alerts"
    given = body.replace(b"</content>", b"</content><source><title>Wire Daily</title></source>")
    (story,) = parse_feed(given, feed="t", fetched_at=FETCHED).stories
    assert story.source == "Wire Daily"
    (story,) = parse("journal.atom.xml").stories[:1]  # no redirect: the channel's title
    assert story.source == "Test Metals Journal"


_GOOGLE_NEWS = """<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>
<title>"gallium" - Google News</title><link>https://news.google.com/search?q=gallium</link>
<item><title>Tokyo trader to buy Kazakh gallium - Wire One</title>
<link>https://news.google.com/rss/articles/CBMiAAA?oc=5</link>
<guid isPermaLink="false">CBMiAAA</guid><pubDate>Tue, 24 Nov 2026 08:00:00 GMT</pubDate>
<description>&lt;ol&gt;&lt;li&gt;&lt;a href="https://news.google.com/rss/articles/CBMiAAA?oc=5"
target="_blank"&gt;Tokyo trader to buy Kazakh gallium&lt;/a&gt;&amp;nbsp;&amp;nbsp;&lt;font
color="#6f6f6f"&gt;Wire One&lt;/font&gt;&lt;/li&gt;&lt;li&gt;&lt;a
href="https://news.google.com/rss/articles/CBMiBBB?oc=5" target="_blank"&gt;Sojitz eyes antimony
deal in Tajikistan&lt;/a&gt;&amp;nbsp;&amp;nbsp;&lt;font color="#6f6f6f"&gt;Mine Daily&lt;/font&gt;
&lt;/li&gt;&lt;/ol&gt;</description><source url="https://wire-one.test">Wire One</source></item>
</channel></rss>"""


def test_a_google_news_coverage_list_is_not_the_storys_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Google News lists other outlets' headlines under an entry: their words are not the
    story's, so rules do not match them and clustering does not take them for its lead."""
    (story,) = parse_feed(_GOOGLE_NEWS.encode(), feed="test", fetched_at=FETCHED).stories
    assert story.summary == ""  # its own headline and outlet: nothing the title does not say
    assert story.source == "Wire One"
    assert story == feedparser_only(_GOOGLE_NEWS.encode(), monkeypatch).stories[0]
    terms = Matcher(load_rules(default_rules())).match(story.title, story.summary, story.source)
    assert set(terms.terms["minerals"]) == {"gallium"}
    assert not terms.terms["firms"]
    assert fingerprint(story).lead == ""  # its own headline and outlet: no lead
    assert story.related == ("https://news.google.com/rss/articles/CBMiBBB?oc=5",)


@pytest.mark.parametrize(
    ("title", "summary", "source", "dropped"),
    [
        pytest.param("Gallium plant opens", "Gallium plant opens", "", True, id="a-copy"),
        pytest.param("Gallium plant opens", "GALLIUM plant opens.", "", True, id="case-and-dot"),
        pytest.param(
            "Gallium plant opens - Wire One",
            "Gallium plant opens\xa0\xa0Wire One",
            "Wire One",
            True,
            id="google-news",
        ),
        pytest.param(
            "Gallium plant opens",
            "Gallium plant opens Wire One",
            "Wire One",
            True,
            id="outlet-after",
        ),
        pytest.param(
            "Gallium plant opens | Wire One",
            "Gallium plant opens",
            "",
            True,
            id="without-the-titles-outlet",
        ),
        pytest.param(
            "Gallium plant opens", "Gallium plant opens in Kazakhstan.", "", False, id="more"
        ),
        pytest.param("Gallium plant opens", "A plant opens.", "", False, id="other-words"),
        pytest.param("Gallium - a primer", "Gallium", "", True, id="words-of-the-title-only"),
        pytest.param("Gallium plant opens", "", "", True, id="empty"),
        pytest.param("Gallium plant opens", "—", "", False, id="no-words-kept-as-they-are"),
    ],
)
def test_a_summary_that_only_repeats_the_title_is_dropped(
    title: str, summary: str, source: str, dropped: bool
) -> None:
    item = f"<item><title>{escape(title)}</title><link>https://w.test/1</link>"
    item += f"<description>{escape(summary)}</description>"
    item += (
        f"<source url='https://w.test'>{escape(source)}</source></item>" if source else "</item>"
    )
    (story,) = parse_feed(rss([item]), feed="t", fetched_at=FETCHED).stories
    assert story.summary == ("" if dropped else plain_text(summary))
    assert repeats_title(plain_text(summary), title, source) is (dropped and bool(summary))
    assert story.title == title


def test_a_coverage_lists_links_are_kept_as_stories_links_web_ones_only_and_a_few() -> None:
    hrefs = ["/own", "javascript:alert(1)", "mailto:x@mine.test", "", "https://mine.test/",
             "//other.test/a?utm_source=rss", "/own#top"] + [f"/s{i}" for i in range(40)]  # fmt: skip
    items = "".join(f'<li><a href="{h}">Headline {i}</a></li>' for i, h in enumerate(hrefs))
    body = rss([f"<item><title>Headline 0</title><link>https://mine.test/own</link>"
                f"<description>{escape('<ol>' + items + '</ol>')}</description></item>"])  # fmt: skip
    (story,) = parse_feed(
        body.replace(b"drill.test", b"mine.test"), feed="t", fetched_at=FETCHED
    ).stories
    assert story.summary == ""  # its own headline alone
    assert story.related[0] == "https://other.test/a"
    assert story.related[1:] == tuple(
        f"https://mine.test/s{i}" for i in range(len(story.related) - 1)
    )
    # of the first 20 other links, four name no other story: a script, a mail address, the
    # site's home and the entry's own page
    assert len(story.related) == MAX_RELATED - 4


_WORDPRESS = """<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>
<title>Mine Daily</title><link>https://mine.test</link>
<item><title>Pavlodar refinery restarts gallium line</title><link>https://mine.test/pavlodar/</link>
<guid isPermaLink="false">https://mine.test/?p=4411</guid><pubDate>Tue, 24 Nov 2026 08:00:00 GMT</pubDate>
<description><![CDATA[<p>The refinery resumed gallium output on Monday.</p>
<p>The post <a href="https://mine.test/pavlodar/">Pavlodar refinery restarts gallium line</a>
appeared first on <a href="https://mine.test">Mine Daily</a>.</p>]]></description></item>
</channel></rss>"""


def test_a_wordpress_feeds_closing_line_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    (story,) = parse_feed(_WORDPRESS.encode(), feed="test", fetched_at=FETCHED).stories
    assert story.summary == "The refinery resumed gallium output on Monday."
    assert story == feedparser_only(_WORDPRESS.encode(), monkeypatch).stories[0]


_MOJIBAKE = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>
<title>Metals Wireâ€™s feed</title><link>https://mw.test/</link>
<item><title>Mitsubishiâ€™s gallium deal â€” first shipment in March</title>
<link>https://mw.test/1</link><description>Mitsubishi Corp.Â\u00a0will import gallium.</description></item>
<item><title>Kazakhstan’s café — “naïve” résumé</title><link>https://mw.test/2</link>
<description>三菱商事、カザフスタンからガリウム輸入 Ürümqi</description></item>
</channel></rss>"""


def test_text_a_site_decoded_wrongly_is_repaired(monkeypatch: pytest.MonkeyPatch) -> None:
    """UTF-8 read as Windows-1252 ("â€™" for "’") glues a name to the next word: the
    matcher could not find "Mitsubishi" in "Mitsubishiâ€™s". Text written right is kept."""
    fixed, right = parse_feed(_MOJIBAKE.encode(), feed="test", fetched_at=FETCHED).stories
    assert fixed.title == "Mitsubishi’s gallium deal — first shipment in March"
    assert fixed.summary == "Mitsubishi Corp. will import gallium."
    assert fixed.source == "Metals Wire’s feed"
    found = Matcher(load_rules(default_rules())).match(fixed.title, fixed.summary).terms
    assert set(found["firms"]) == {"Mitsubishi Corporation"}
    assert right.title == "Kazakhstan’s café — “naïve” résumé"
    assert right.summary == "三菱商事、カザフスタンからガリウム輸入 Ürümqi"
    assert (fixed, right) == feedparser_only(_MOJIBAKE.encode(), monkeypatch).stories


@pytest.mark.parametrize(
    ("written", "utc"),
    [
        pytest.param("Tue, 24 Nov 2026 09:00:00 UTC", "2026-11-24T09:00:00", id="utc-by-name"),
        pytest.param("Tuesday, 24 November 2026 09:00:00 GMT", "2026-11-24T09:00:00", id="full-day-and-month"),
        pytest.param("Tue, 24 Nov 2026 9:00:00 +0800", "2026-11-24T01:00:00", id="one-digit-hour"),
        pytest.param("Tue, 24 Nov 2026 09:00:00 JST", "2026-11-24T00:00:00", id="japan"),
        pytest.param("Tue, 24 Nov 2026 09:00:00 CET", "2026-11-24T08:00:00", id="central-europe"),
        pytest.param("Tue, 24 Nov 2026 05:00:00 EST", "2026-11-24T10:00:00", id="feedparser-knows-est"),
        pytest.param("Tue, 24 Nov 2026 09:00:00 +0900", "2026-11-24T00:00:00", id="offset"),
        pytest.param("2026-11-24T09:00:00+05:00", "2026-11-24T04:00:00", id="iso-8601"),
        pytest.param("2026/11/24 09:00:00 +0900", "2026-11-24T00:00:00", id="slashes"),
        pytest.param("2026/11/24 09:00 JST", "2026-11-24T00:00:00", id="slashes-zone-name"),
        pytest.param("24.11.2026 09:00", "2026-11-24T09:00:00", id="day-first-dots"),
        pytest.param("2026年11月24日 09:00", "2026-11-24T09:00:00", id="hanzi"),
        pytest.param("2026 жылғы 24 қараша, 09:00", "2026-11-24T09:00:00", id="kazakh-year-first"),
        pytest.param("2026 ж. 31 қараша", None, id="kazakh-no-such-day"),
        pytest.param("2026. november 24. 09:00", "2026-11-24T09:00:00", id="hungarian-year-first"),
        pytest.param("2026. márc. 24., 10:00 +0100", "2026-03-24T09:00:00", id="hungarian-abbreviated"),
        pytest.param("2026. nincs 24.", None, id="hungarian-no-month"),
        pytest.param("2026. 11. 24. 09:00", "2026-11-24T09:00:00", id="year-first-dots-blanks"),
        pytest.param("2026년 11월 24일 오후 6:00 KST", "2026-11-24T09:00:00", id="korean-pm"),
        pytest.param("04/12/2026", None, id="month-or-day-first-unknown"),
        pytest.param("2026-11-24 09:00:00 +0900", "2026-11-24T00:00:00", id="iso-offset-without-colon"),
        pytest.param("2026-11-24T04:00:00.5-0500", "2026-11-24T09:00:00", id="iso-t-offset-without-colon"),
        pytest.param("Nov 24, 2026", "2026-11-24T00:00:00", id="month-first"),
        pytest.param("Monday, November 23, 2026 9:00 PM EST", "2026-11-24T02:00:00", id="month-first-pm-zone"),
        pytest.param("November 24, 2026 13:00 PM", None, id="month-first-no-such-hour"),
        pytest.param("2026-11-24 09:00:00 UTC", "2026-11-24T09:00:00", id="iso-then-utc-by-name"),
        pytest.param("2026-11-24 04:00 EST", "2026-11-24T09:00:00", id="iso-then-zone-name"),
        pytest.param("2026-11-24 18:00:00 Asia/Tokyo", "2026-11-24T09:00:00", id="iso-then-iana-zone"),
        pytest.param("2026-11-24 18:00:00 America/Argentina", None, id="iso-then-region-folder"),
        pytest.param("2026-11-24 18:00:00 Asia/Atlantis", None, id="iso-then-no-such-zone"),
        pytest.param("2026-11-24 14:30:00 +0530", "2026-11-24T09:00:00", id="iso-offset-with-minutes"),
        pytest.param("2026-11-24 18:30:00 ACST", "2026-11-24T09:00:00", id="iso-then-half-hour-zone"),
        pytest.param("2026-11-24 18:00:00 +09:00", "2026-11-24T09:00:00", id="iso-offset-after-blank"),
        pytest.param("Tue,24 Nov 2026 09:00:00 GMT", "2026-11-24T09:00:00", id="no-blank-after-comma"),
        pytest.param("Di,24 Nov 2026 10:00:00 +0100", "2026-11-24T09:00:00", id="localized-no-blank-after-comma"),
        pytest.param("Tue, 24 Nov 2026 17:00:00 UTC+08:00", "2026-11-24T09:00:00", id="offset-after-utc"),
        pytest.param("Tue, 24 Nov 2026 17:00:00 GMT+8", "2026-11-24T09:00:00", id="hours-after-gmt"),
        pytest.param("2026-11-24 04:00 UTC-5", "2026-11-24T09:00:00", id="iso-then-utc-offset"),
        pytest.param("2026-11-24 18:00:00.123456+09", "2026-11-24T09:00:00", id="postgresql-hours-offset"),
        pytest.param("1795510800", "2026-11-24T09:00:00", id="unix-seconds"),
        pytest.param("1795510800000", "2026-11-24T09:00:00", id="unix-milliseconds"),
        pytest.param("sometime last week", None, id="no-date"),
        pytest.param("2026-W48-2T09:00:00Z", "2026-11-24T09:00:00", id="iso-week-date"),
        pytest.param("2026W482", "2026-11-24T00:00:00", id="iso-week-date-basic"),
        pytest.param("2026-W48", "2026-11-23T00:00:00", id="iso-week-its-monday"),
        pytest.param("2025-W53-1", None, id="iso-week-its-year-lacks"),
        pytest.param("Tue, 24 Nov 2026 08:59:60 GMT", "2026-11-24T08:59:59", id="leap-second"),
        pytest.param("20261124 09:00", "2026-11-24T09:00:00", id="basic-date-then-time"),
        pytest.param("2026/11/24" + " " * 40 + "x", "2026-11-24T00:00:00", id="blanks-after-a-date-in-numbers"),
        pytest.param("24 novembro 2026" + " " * 80 + "x", None, id="blanks-after-a-date-in-words"),
    ],
)  # fmt: skip
def test_dates_are_read_alike_by_both_parsers(
    written: str, utc: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """feedparser-rs reads no "UTC", no full day names and no one-digit hour: such a date is
    read as feedparser reads it, so a story is never dated at its fetch for it. A zone name
    feedparser would read as UTC (JST, CET) is read at its offset. feedparser reads a date
    in numbers with slashes as the 1st of its month, and with dots not at all; feedparser-rs
    reads `04/12/2026` as 12 April, where the day may come first, an ISO 8601 offset
    without colon (`+0900`) as none, and a date with its month first, which feedparser
    reads not at all, as midnight alone. Both read an ISO time followed by a zone's name
    (`... UTC`, as Ruby writes it) as its date alone, a Unix time as a day of the year 1733,
    and feedparser an offset of `+0530` as `+05`. feedparser-rs reads an ISO offset after a
    blank (`... 18:00:00 +09:00`) as UTC; feedparser no date without a blank after the day's
    name's comma (`Tue,24 Nov`)."""
    body = _WIRE_DATED.format(date=written).encode()
    (story,) = parse_feed(body, feed="test", fetched_at=FETCHED).stories
    want = FETCHED if utc is None else datetime.fromisoformat(utc).replace(tzinfo=UTC)
    assert story.published == want
    assert story == feedparser_only(body, monkeypatch).stories[0]


@pytest.mark.parametrize(
    "guid",
    [
        "&amp;#xD800;supply",
        "https://a.test/x?p=&amp;#xDFFF;",
        "&amp;#" + "9" * 5000 + ";x",  # raised ValueError: int() takes at most 4,300 digits
    ],
)
def test_a_character_reference_xml_forbids_in_an_atom_link_is_not_read(
    guid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """feedparser-rs leaves references in an Atom entry's link (here its id, the entry
    having no link), which are read as feedparser reads them; `&#xD800;` was read as a
    lone surrogate, which SQLite cannot store as UTF-8, and one of thousands of digits raised
    ValueError: the feed's every poll failed, as an unexpected error."""
    body = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>t</title><entry><id>{guid}</id><title>x</title></entry></feed>"
    ).encode()
    (story,) = parse_feed(body, feed="test", fetched_at=FETCHED).stories
    story.link.encode("utf-8")  # no lone surrogate; the reference starts a fragment, dropped
    assert story == feedparser_only(body, monkeypatch).stories[0]


def test_a_panic_of_the_fast_parser_leaves_the_feed_to_feedparser() -> None:
    """feedparser-rs's Rust code panics on a 7-byte date with a `-` after 4 characters, one
    of them not ASCII (`30.日-`): Python sees a PanicException, which is no Exception, and
    the feed's every poll failed (in the parse pool, with an error about pickling it)."""
    body = _WIRE_DATED.format(date="30.日-").encode()
    (story,) = parse_feed(body, feed="test", fetched_at=FETCHED).stories
    assert (story.title, story.published) == ("Smelter restarts", FETCHED)


@pytest.mark.parametrize(
    ("written", "zone", "utc"),
    [
        pytest.param("2026年11月24日 18:00", "Asia/Tokyo", "2026-11-24T09:00:00", id="hanzi"),
        pytest.param("2026/11/24 18:00", "Asia/Tokyo", "2026-11-24T09:00:00", id="slashes"),
        pytest.param("24.11.2026 12:00", "Europe/Moscow", "2026-11-24T09:00:00", id="day-first"),
        pytest.param("24 ноября 2026 г., 12:00", "Europe/Moscow", "2026-11-24T09:00:00", id="russian"),
        pytest.param("2026 жылғы 24 қараша, 14:00", "Asia/Almaty", "2026-11-24T09:00:00", id="kazakh"),
        pytest.param("24. November 2026, 10:00 Uhr", "Europe/Berlin", "2026-11-24T09:00:00", id="uhr"),
        pytest.param("2026-07-01T11:00:00", "Europe/Berlin", "2026-07-01T09:00:00", id="iso-summer"),
        pytest.param("Tue, 24 Nov 2026 18:00:00", "Asia/Tokyo", "2026-11-24T09:00:00", id="rfc822"),
        pytest.param("24 Nov 2026 18:00", "Asia/Tokyo", "2026-11-24T09:00:00", id="rfc822-no-day"),
        pytest.param("November 24, 2026 4:00 AM", "America/New_York", "2026-11-24T09:00:00", id="am"),
        pytest.param("2026-11-24", "Asia/Tokyo", "2026-11-23T15:00:00", id="day-alone"),
        pytest.param("Tue, 24 Nov 2026 14:30:00 IST", "Asia/Kolkata", "2026-11-24T09:00:00", id="ist"),
        pytest.param("Tue, 24 Nov 2026 17:00:00 CST", "Asia/Shanghai", "2026-11-24T09:00:00", id="china-cst"),
        pytest.param("Tue, 24 Nov 2026 03:00:00 CST", "America/Chicago", "2026-11-24T09:00:00", id="us-cst"),
        pytest.param("Tue, 24 Nov 2026 03:00:00 CST", "Asia/Tokyo", "2026-11-24T09:00:00", id="cst-elsewhere"),
        pytest.param("2026-07-01 10:00 IST", "Europe/Dublin", "2026-07-01T09:00:00", id="irish-summer"),
        pytest.param("2026-11-24 17:00 CST", "Asia/Taipei", "2026-11-24T09:00:00", id="iso-then-own-name"),
        pytest.param("Tue, 24 Nov 2026 09:00:00 GMT", "Asia/Tokyo", "2026-11-24T09:00:00", id="gmt"),
        pytest.param("Tue, 24 Nov 2026 09:00:00 -0000", "Asia/Tokyo", "2026-11-24T09:00:00", id="offset"),
        pytest.param("2026-11-24T09:00:00Z", "Asia/Tokyo", "2026-11-24T09:00:00", id="z"),
        pytest.param("2026-11-24T18:00:00.5+09:00", "Europe/Berlin", "2026-11-24T09:00:00", id="iso"),
        pytest.param("2026-11-24 18:00:00+09", "Europe/Berlin", "2026-11-24T09:00:00", id="hours"),
        pytest.param("Tue, 24 Nov 2026 04:00:00 EST", "Asia/Tokyo", "2026-11-24T09:00:00", id="est"),
        pytest.param("Tue, 24 Nov 2026 18:00:00 JST", "Europe/Berlin", "2026-11-24T09:00:00", id="jst"),
        pytest.param("Tue, 24 Nov 2026 17:00:00 GMT+8", "Asia/Tokyo", "2026-11-24T09:00:00", id="gmt-plus"),
        pytest.param("Tue, 24 Nov 2026 18:00:00 +0900 (JST)", "Europe/Berlin", "2026-11-24T09:00:00", id="comment"),
        pytest.param("2026-11-24 18:00:00 Asia/Tokyo", "Europe/Berlin", "2026-11-24T09:00:00", id="iana"),
        pytest.param("1795510800", "Asia/Tokyo", "2026-11-24T09:00:00", id="unix"),
        pytest.param("Nov 24, 2026 4:00 AM EST", "Asia/Tokyo", "2026-11-24T09:00:00", id="am-est"),
    ],
)  # fmt: skip
def test_a_feeds_timezone_is_that_of_its_dates_that_name_none(
    written: str, zone: str, utc: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A site writes its own time without a zone (`2026年11月24日 18:00` in Tokyo): read as
    UTC, the story was dated 9 hours late (then at its fetch, as in the future). With the
    feed's `timezone`, such a date is that zone's time, and so is one that names the zone
    as it is called then (`CST` in China, which feedparser reads as US Central's); a date
    that names another zone, by an offset, a name or a Unix time, stays as it says. Both
    parsers read alike."""
    body = _WIRE_DATED.format(date=written).encode()
    (story,) = parse_feed(body, feed="test", fetched_at=FETCHED, timezone=zone).stories
    assert story.published == datetime.fromisoformat(utc).replace(tzinfo=UTC)
    assert story == feedparser_only(body, monkeypatch, timezone=zone).stories[0]


@pytest.mark.parametrize(
    ("written", "zone"),
    [
        pytest.param("Mon, 01 Jan 0001 00:00:00", "Asia/Tokyo", id="year-1-east"),
        pytest.param("0001-01-01T00:00", "Asia/Tokyo", id="iso-year-1-east"),
        pytest.param("0001-01-01T00:00 Asia/Tokyo", None, id="iso-year-1-iana"),
        pytest.param("Fri, 31 Dec 9999 23:59:59", "America/New_York", id="year-9999-west"),
    ],
)  # fmt: skip
def test_a_date_out_of_pythons_years_in_a_feeds_zone_is_no_date(
    written: str, zone: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Year 1 east of UTC is year 0 in UTC, which Python does not hold: OverflowError, and
    the feed's every poll failed."""
    body = _WIRE_DATED.format(date=written).encode()
    (story,) = parse_feed(body, feed="test", fetched_at=FETCHED, timezone=zone).stories
    assert story.published == FETCHED
    assert story == feedparser_only(body, monkeypatch, timezone=zone).stories[0]


_WIRE_DATED = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>W</title>
<item><title>Smelter restarts</title><link>https://w.test/1</link><pubDate>{date}</pubDate></item>
</channel></rss>"""


@pytest.mark.parametrize(
    ("dates", "utc"),
    [
        pytest.param(
            ["11/20/2026 3:05:00 PM", "11/7/2026 10:00:00 AM", "11/3/2026 9:00 PM"],
            ["2026-11-20T15:05", "2026-11-07T10:00", "2026-11-03T21:00"],
            id="month-first-as-dotnet-writes-us-dates",
        ),
        pytest.param(
            ["20/11/2026 15:05", "07-11-2026 10:00", "03/11/2026"],
            ["2026-11-20T15:05", "2026-11-07T10:00", "2026-11-03T00:00"],
            id="day-first",
        ),
        pytest.param(["07/11/2026 10:00", "03/11/2026"], [None, None], id="order-not-shown"),
        pytest.param(
            ["20/11/2026 15:05", "11/13/2026", "07/11/2026"],
            [None, None, None],
            id="both-orders-shown",
        ),
    ],
)  # fmt: skip
def test_dates_with_the_year_last_are_read_in_the_order_their_document_shows(
    dates: list[str], utc: list[str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`07/11/2026` may be 7 November or 11 July: it was no date, even in a feed whose other
    dates (`11/20/2026`, as .NET writes a US date) show that the month comes first. A day
    after the 12th in any of a document's dates now shows the order for them all; where
    none shows it, or they show both, such a date is still none."""
    items = "".join(
        f"<item><title>Story {n}</title><link>https://w.test/{n}</link>"
        f"<pubDate>{date}</pubDate></item>"
        for n, date in enumerate(dates)
    )
    body = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>W</title>{items}</channel></rss>'
    )
    stories = parse_feed(body.encode(), feed="test", fetched_at=FETCHED).stories
    want = [FETCHED if u is None else datetime.fromisoformat(u).replace(tzinfo=UTC) for u in utc]
    assert [s.published for s in stories] == want
    assert stories == feedparser_only(body.encode(), monkeypatch).stories


def test_a_feeds_date_order_wins_over_what_its_document_shows() -> None:
    """The operator knows the site: a `date_order` reads every date with the year last in
    it, those of a document that shows no order too, and one that names no such day (a
    month 20) is no date."""
    items = "".join(
        f"<item><title>Story {n}</title><link>https://w.test/{n}</link><pubDate>{d}</pubDate></item>"
        for n, d in enumerate(["07/11/2026 10:00", "11/20/2026"])
    )  # fmt: skip
    body = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>W</title>{items}</channel></rss>'
    )
    day = parse_feed(body.encode(), feed="t", fetched_at=FETCHED, date_order="day").stories
    assert [s.published for s in day] == [datetime(2026, 11, 7, 10, tzinfo=UTC), FETCHED]
    month = parse_feed(body.encode(), feed="t", fetched_at=FETCHED, date_order="month").stories
    assert [s.published for s in month] == [
        datetime(2026, 7, 11, 10, tzinfo=UTC),
        datetime(2026, 11, 20, tzinfo=UTC),
    ]


def test_a_feed_whose_dates_cannot_be_read_is_warned_of() -> None:
    """A date no parser reads dated its story at its fetch, and nothing said so: a feed of
    them escaped its `max_age`, and nothing told the operator why. The warning counts them and
    quotes the first; a date in the future (dated at the fetch too) and no date are none."""

    def items(*dates: str) -> bytes:
        body = "".join(
            f"<item><title>Story {n}</title><link>https://w.test/{n}</link>"
            + (f"<pubDate>{date}</pubDate>" if date else "") + "</item>"
            for n, date in enumerate(dates)
        )  # fmt: skip
        return f'<?xml version="1.0"?><rss version="2.0"><channel><title>W</title>{body}</channel></rss>'.encode()

    unread = parse_feed(items("07/11/2026 10:00", "", "03/11/2026"), feed="t", fetched_at=FETCHED)
    assert unread.warning == (
        "the dates of 2 of 3 entries cannot be read (as '07/11/2026 10:00'): their stories "
        "are dated when they were first fetched (the feed's date_order: day-first or "
        "month-first reads them)"
    )
    assert [s.published for s in unread.stories] == [FETCHED] * 3
    read = parse_feed(
        items("Tue, 24 Nov 2026 09:00:00 GMT", "", "Tue, 24 Nov 2099 09:00:00 GMT"),
        feed="t", fetched_at=FETCHED,
    )  # fmt: skip
    assert read.warning is None and read.stories[2].published == FETCHED


def test_atom_without_published_uses_updated() -> None:
    assert parse("journal.atom.xml").stories[1].published == datetime(2026, 11, 11, 10, tzinfo=UTC)


def test_rdf_dc_date() -> None:
    (story,) = parse("asia.rdf.xml").stories
    assert story.published == datetime(2026, 11, 12, 18, 0, tzinfo=UTC)
    assert story.link == "https://asia.test/a/1"


def test_configured_source_overrides_channel_title() -> None:
    assert parse("asia.rdf.xml", source="Asia Daily").stories[0].source == "Asia Daily"


def test_malformed_feed_with_entries_is_used_and_flagged() -> None:
    assert parsers.fast_parse(fixture_bytes("broken.rss.xml"), None) is None
    parsed = parse("broken.rss.xml")
    assert [s.title for s in parsed.stories] == ["Tin output rises", "Cobalt exports fall"]
    assert parsed.warning and "malformed" in parsed.warning


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
@pytest.mark.parametrize("content_type", ["text/xml", "application/rss+xml; charset=iso-8859-1"])
def test_a_byte_order_mark_names_the_encoding_whatever_the_header_says(
    codec: str, content_type: str
) -> None:
    """A UTF-16 or UTF-32 feed served as `text/xml` without a charset (US-ASCII to RFC 3023)
    or with a wrong one: feedparser failed on it ("not well-formed"), or read it with a
    warning, where its byte order mark says what it is (RFC 7303)."""
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE,
           "utf-32-le": codecs.BOM_UTF32_LE, "utf-32-be": codecs.BOM_UTF32_BE}[codec]  # fmt: skip
    text = rss(["<item><title>Кобальт и литий</title><link>https://w.test/1</link></item>"])
    body = bom + text.decode().replace('encoding="utf-8"', 'encoding="utf-16"').encode(codec)
    parsed = parse_feed(body, feed="test", fetched_at=FETCHED, content_type=content_type)
    assert ([s.title for s in parsed.stories], parsed.warning) == (["Кобальт и литий"], None)


_CAFE = ["<item><title>Café reopens</title><link>https://cafe.test/1</link></item>"]


@pytest.mark.parametrize(
    ("body", "content_type", "warned"),
    [
        pytest.param(rss(_CAFE, "iso-8859-1"), "text/xml", False, id="text-xml-without-charset"),
        pytest.param(rss(_CAFE, "iso-8859-1"), "text/html; charset=iso-8859-1", False, id="served-as-html"),
        pytest.param(rss(_CAFE, "iso-8859-1"), "text/xml; charset=utf-8", True, id="header-says-other"),
        pytest.param(rss(_CAFE, "iso-8859-1", "utf-8"), "text/xml", True, id="declaration-says-other"),
        pytest.param(rss(_CAFE, "iso-8859-1", "utf-8"), None, True, id="declaration-says-other-alone"),
    ],
)  # fmt: skip
def test_only_a_feed_read_against_its_own_word_is_flagged(
    body: bytes, content_type: str | None, warned: bool
) -> None:
    """feedparser complains of a text/xml feed without charset (RFC 3023 made it US-ASCII;
    RFC 7303 lets the XML declaration decide) and of a feed served as text/html, both read
    right: "malformed feed" in `watcher feeds` would send an operator after nothing. A
    feed whose bytes are not what it or its server declares is flagged."""
    parsed = parse_feed(body, feed="test", fetched_at=FETCHED, content_type=content_type)
    assert [s.title for s in parsed.stories] == ["Café reopens"]
    assert (parsed.warning is not None) == warned, parsed.warning


@pytest.mark.parametrize("declared", [True, False])
def test_rss_091s_entities_are_read_and_flagged_only_without_its_dtd(declared: bool) -> None:
    """RSS 0.91's DTD declares HTML's entities (`&nbsp;`, `&eacute;`): a document that names
    it is well formed to a reader that does not fetch it; one without it is not."""
    doctype = (
        '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        '"http://my.netscape.com/publish/formats/rss-0.91.dtd">\n'
    )
    body = (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n' + (doctype if declared else "")
        + '<rss version="0.91"><channel><title>Old&nbsp;Wire</title><link>https://old.test/</link>'
        "<item><title>Gallium&nbsp;plant opens in Pavlodar, r&eacute;sum&eacute;</title>"
        "<link>https://old.test/1</link></item></channel></rss>"
    ).encode("latin-1")  # fmt: skip
    parsed = parse_feed(body, feed="test", fetched_at=FETCHED, content_type="text/xml")
    assert [s.title for s in parsed.stories] == ["Gallium plant opens in Pavlodar, résumé"]
    assert (parsed.warning is None) == declared, parsed.warning


@pytest.mark.parametrize(
    "ref",
    [
        "&#xD800;",
        "&#55296;",
        "&#xDFFF;",
        "&#x110000;",
        "&#99999999999999;",
        "&#x" + "1" * 5000 + ";",
    ],
)
def test_a_character_reference_to_no_character_costs_its_character_not_the_feed(
    ref: str,
) -> None:
    """feedparser raised on such a reference (UnicodeEncodeError, ValueError, OverflowError),
    and the feed failed every poll: now it reads as U+FFFD, and the other entries stay."""
    body = (
        '<rss version="2.0"><channel><title>Desk</title>'
        f"<item><title>Tin {ref} output &#8217;rises&#x2019;</title>"
        "<link>https://desk.test/1</link></item>"
        "<item><title>Cobalt exports fall</title><link>https://desk.test/2</link></item>"
        "</channel></rss>"
    ).encode()
    parsed = parse_feed(body, feed="t", fetched_at=FETCHED)
    assert [s.title for s in parsed.stories] == [
        "Tin \ufffd output \u2019rises\u2019",
        "Cobalt exports fall",
    ]


def test_a_failure_inside_feedparser_is_a_parse_error_that_names_it() -> None:
    """Its lenient parser raised KeyError on a link left open past its item."""
    body = (
        b'<rss version="2.0"><channel><title>Desk</title><item><title>Tin</title>'
        b"<link>https://desk.test/1</item></link></channel></rss>"
    )
    with pytest.raises(ParseError, match=r"^malformed feed: feedparser failed on it: KeyError"):
        parse_feed(body, feed="t", fetched_at=FETCHED)


def test_a_malformed_channel_link_is_no_base_for_relative_links() -> None:
    body = (
        b'<rss version="2.0"><channel><title>Desk</title><link>http://[::1</link>'
        b"<item><title>Tin output rises</title><link>/news/1</link></item></channel></rss>"
    )
    parsed = parse_feed(body, feed="t", fetched_at=FETCHED, url="https://desk.test/feed")
    assert [s.link for s in parsed.stories] == ["https://desk.test/news/1"]


@pytest.mark.parametrize(
    "body",
    [fixture_bytes("page.html"), b"", b"\x00\xff garbage \x89PNG"],
    ids=["html", "empty", "binary"],
)
def test_not_a_feed_is_a_parse_error(body: bytes) -> None:
    with pytest.raises(ParseError, match="no feed found") as raised:
        parse_feed(body, feed="t", fetched_at=FETCHED)
    assert ("web page (HTML)" in str(raised.value)) is body.startswith(b"<!DOCTYPE html")


_SITE_PAGE = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "xhtml1-strict.dtd">
<html><head><title>Metals Daily &raquo; News</title>
<link rel="stylesheet" href="/style.css" />
<link rel="alternate" type="application/rss+xml" title="Feed" href="https://metals.test/feed/" />
<LINK REL='Alternate' TYPE='application/atom+xml; charset=utf-8' HREF='atom.xml?a=1&amp;b=2'>
<link rel="alternate" type="application/json+oembed" href="/oembed?url=x">
<link rel="alternate" hreflang="fr" href="/fr/">
<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
<link rel="alternate" type="application/rss+xml" href="https://metals.test/feed/">
{more}</head><body><p>Gallium &amp; germanium news.</p></body></html>"""


def test_a_web_page_in_place_of_a_feed_names_the_feeds_it_links() -> None:
    """As feed readers discover feeds: the page's `<link rel="alternate">` of a feed type."""
    with pytest.raises(ParseError) as raised:
        parse_feed(
            _SITE_PAGE.format(more="").encode(), feed="t", fetched_at=FETCHED,
            url="https://metals.test/news/",
        )  # fmt: skip
    assert str(raised.value) == (
        "no feed found: the document is a web page (HTML), not RSS, Atom, RDF or JSON Feed; "
        "the page names its feeds: https://metals.test/feed/, "
        "https://metals.test/news/atom.xml?a=1&b=2 (use one as the url)"
    )
    many = "".join(
        f'<link rel="alternate" type="application/rdf+xml" href="/c{i}.rdf">' for i in range(9)
    )
    assert len(named_feeds(_SITE_PAGE.format(more=many).encode(), "https://m.test/")) == 5
    assert named_feeds(_SITE_PAGE.format(more="").encode(), None) == ["https://metals.test/feed/"]
    late = _SITE_PAGE.format(more=" " * 300_000 + '<link rel="alternate" type="application/'
                             'rss+xml" href="https://metals.test/late/">')  # fmt: skip
    assert "https://metals.test/late/" not in named_feeds(late.encode(), None)


def test_a_web_page_whose_link_tag_holds_a_long_run_of_letters_is_read_at_once() -> None:
    """A hostile page: one `<link>` of 250 KB of letters, then the feed it names. Trying an
    attribute's name at each letter of the run took 11 minutes of a parse worker."""
    hostile = _SITE_PAGE.format(more="<link " + "a" * 250_000 + ">")
    with pytest.raises(ParseError, match=r"names its feeds: https://metals\.test/feed/"):
        parse_feed(hostile.encode(), feed="t", fetched_at=FETCHED, url="https://metals.test/")


def test_a_web_page_naming_a_malformed_feed_url_is_still_a_web_page() -> None:
    """urljoin raised ValueError on `http://[::1/feed` (an IPv6 host never closed): the
    poll was an unexpected error, with a traceback, in place of what the page is."""
    broken = '<link rel="alternate" type="application/rss+xml" href="http://[::1/feed">'
    with pytest.raises(ParseError) as raised:
        parse_feed(
            _SITE_PAGE.format(more=broken).encode(), feed="t", fetched_at=FETCHED,
            url="https://metals.test/news/",
        )  # fmt: skip
    assert "web page (HTML)" in str(raised.value)
    assert "https://metals.test/feed/, https://metals.test/news/atom.xml" in str(raised.value)
    assert "[::1" not in str(raised.value)


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


_FULL_TEXT = """<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"
xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Mine Daily</title>
<link>https://mine.test</link>
<item><title>Kazakh output rises</title><link>https://mine.test/a/</link>
<description><![CDATA[<p>Output rose in May [&#8230;]</p>]]></description>
<content:encoded><![CDATA[<p>Output rose in May.</p><p>Sojitz said it will buy the
plant&#8217;s gallium.</p><p>The post Kazakh output rises appeared first on Mine Daily.</p>]]>
</content:encoded></item>
<item><title>Only a content</title><link>https://mine.test/b/</link>
<content:encoded><![CDATA[<p>The whole story.</p>]]></content:encoded></item>
<item><title>The same twice</title><link>https://mine.test/c/</link>
<description>All of it.</description><content:encoded>All of it.</content:encoded></item>
</channel></rss>"""


def test_an_entrys_full_text_is_its_body_where_it_says_more_than_its_summary(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A WordPress feed's description is an excerpt; `content:encoded` holds the article."""
    excerpt, only, same = parse_feed(_FULL_TEXT.encode(), feed="test", fetched_at=FETCHED).stories
    assert excerpt.summary == "Output rose in May […]"
    assert excerpt.body == "Output rose in May. Sojitz said it will buy the plant’s gallium."
    assert (only.summary, only.body) == ("The whole story.", "")
    assert (same.summary, same.body) == ("All of it.", "")
    assert feedparser_only(_FULL_TEXT.encode(), monkeypatch).stories == (excerpt, only, same)
    atom = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>A</title><id>urn:a</id><updated>2026-11-24T08:00:00Z</updated><entry>"
        '<title>T</title><id>urn:a:1</id><link href="https://a.test/1"/>'
        "<updated>2026-11-24T08:00:00Z</updated><summary>Short.</summary>"
        '<content type="html">&lt;p&gt;Short. Then more.&lt;/p&gt;</content></entry></feed>'
    )
    (story,) = parse_feed(atom.encode(), feed="test", fetched_at=FETCHED).stories
    assert (story.summary, story.body) == ("Short.", "Short. Then more.")


@pytest.mark.parametrize("fast", [True, False])
def test_a_word_a_site_hyphenated_softly_is_found_and_clusters_with_its_reprint(
    fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sites hyphenate long words with soft hyphens (`&shy;`), invisible in a headline:
    kept, they hid `gallium` from the rules, and the story from its reprints."""
    hyphenated = rss([
        "<item><title>Mitsu&#173;bishi buys gal&shy;lium from Kazakh\u200bstan</title>"
        "<link>https://de.test/a</link><description>Der Kon&shy;zern kauft Gal&shy;lium "
        "aus Pavlodar.</description></item>"
    ])  # fmt: skip
    hyphenated = hyphenated.replace(b"&shy;", "\u00ad".encode())  # as a character, and as &#173;
    plain = rss([
        "<item><title>Mitsubishi buys gallium from Kazakhstan</title><link>https://en.test/b"
        "</link><description>Der Konzern kauft Gallium aus Pavlodar.</description></item>"
    ])  # fmt: skip
    (soft,) = read_either(hyphenated, fast, monkeypatch).stories
    (reprint,) = read_either(plain, fast, monkeypatch).stories
    assert soft.title == "Mitsubishi buys gallium from Kazakhstan"
    assert soft.summary == "Der Konzern kauft Gallium aus Pavlodar."
    found = Matcher(load_rules(default_rules())).match(soft.title, soft.summary)
    assert {"gallium", "watched-firms"} <= {r.rule for r in found.rules}
    score = compare(fingerprint(soft), fingerprint(reprint), ClusterSettings())
    assert score.level in ("exact", "reprint"), score


@pytest.mark.parametrize("fast", [True, False])
def test_letters_written_apart_from_their_marks_are_read_composed(
    fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A feed may write a letter and its combining mark apart (NFD, as macOS writes file
    names): カ and a voiced mark for ガ, e and an acute for é. Read so, ガリウム (gallium)
    was no word the rules knew, nor the same word as in a composed reprint."""
    title, summary = "三菱商事、ガリウム輸入へ", "Société Générale finance l'achat de gallium."
    apart = rss([
        f"<item><title>{unicodedata.normalize('NFD', title)}</title><link>https://jp.test/a"
        f"</link><description>{unicodedata.normalize('NFD', summary)}</description></item>"
    ])  # fmt: skip
    (story,) = read_either(apart, fast, monkeypatch).stories
    assert "\u3099" not in story.title and (story.title, story.summary) == (title, summary)
    found = Matcher(load_rules(default_rules())).match(story.title, "")
    assert {"gallium", "watched-firms"} <= {r.rule for r in found.rules}


@pytest.mark.parametrize("fast", [True, False])
def test_html_a_feed_escaped_twice_is_read_as_html(
    fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Some publishing systems escape an entry's HTML once more than XML asks: without a
    second reading, its tags were the summary's words (`<p>Smelter ...`), shown in the
    alert and matched by the rules. Only text that begins with an escaped tag, or holds
    escaped markup (a tag opened and closed, a line break) later, is so read."""
    body = rss([
        "<item><title>Smelter news</title><link>https://twice.test/1</link><description>"
        "&amp;lt;p&amp;gt;A smelter will make &amp;lt;b&amp;gt;gallium&amp;lt;/b&amp;gt; "
        "&amp;amp;amp; germanium.&amp;lt;/p&amp;gt;</description><content:encoded>"
        "&amp;lt;div class=\"x\"&amp;gt;&amp;lt;p&amp;gt;The smelter, in Pavlodar, will make "
        "gallium and germanium from 2027.&amp;lt;/p&amp;gt;&amp;lt;/div&amp;gt;</content:encoded>"
        "</item>",
        "<item><title>Prices</title><link>https://twice.test/2</link><description>Tin rose: "
        "a &amp;lt;b&amp;gt; in the text stays as written</description></item>",
        "<item><title>Sojitz</title><link>https://twice.test/3</link><description>Sojitz "
        "will buy &amp;lt;b&amp;gt;gallium&amp;lt;/b&amp;gt;.&amp;lt;br /&amp;gt;More "
        "&amp;lt;a href=&quot;https://twice.test/m&quot;&amp;gt;here&amp;lt;/a&amp;gt;"
        "</description></item>",
        "<item><title>Lines</title><link>https://twice.test/4</link><description>Tin rose."
        "&amp;lt;br&amp;gt;Lead fell.</description></item>",
    ]).replace(b'<rss version="2.0">', b'<rss version="2.0" xmlns:content='
               b'"http://purl.org/rss/1.0/modules/content/">')  # fmt: skip
    parsed = read_either(body, fast, monkeypatch)
    twice, once, later, line = parsed.stories
    assert twice.summary == "A smelter will make gallium & germanium."
    assert twice.body == "The smelter, in Pavlodar, will make gallium and germanium from 2027."
    assert once.summary == "Tin rose: a <b> in the text stays as written"
    assert later.summary == "Sojitz will buy gallium. More here"  # markup after the text
    assert line.summary == "Tin rose. Lead fell."


@pytest.mark.parametrize("fast", [True, False])
def test_a_date_in_another_language_dates_its_story_whichever_parser_reads_it(
    fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = rss([
        "<item><title>Galliumwerk eröffnet</title><link>https://de.test/1</link>"
        "<pubDate>Mo, 23 Nov 2026 10:00:00 +0100</pubDate></item>",
        "<item><title>Новости</title><link>https://ru.test/1</link>"
        "<pubDate>Пн, 23 ноя 2026 15:00:00 +0600</pubDate></item>",
        "<item><title>Galio</title><link>https://es.test/1</link>"
        "<pubDate>lunes, noviembre 23, 2026 - 04:00 -0500</pubDate></item>",
    ])  # fmt: skip
    parsed = read_either(body, fast, monkeypatch)
    assert [s.published for s in parsed.stories] == [
        datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
        datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
        datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
    ]  # not FETCHED, the time they were read


def _numbered(count: int) -> list[str]:
    return [f"<item><title>Story {n}</title><link>https://many.test/{n}</link></item>"
            for n in range(count)]  # fmt: skip


@pytest.mark.parametrize("kind", ["feedparser-rs", "feedparser", "json-feed", "exactly-the-limit"])
def test_a_document_of_more_entries_than_max_entries_is_read_to_that_many(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """10 MB of empty items made a million stories: 30 s and 700 MB for one poll of a
    feed of 200,000. The first MAX_ENTRIES (feeds list the newest first) are read, and the
    warning says so; a document of exactly that many is read whole, without one."""
    count = parsers.MAX_ENTRIES + (0 if kind == "exactly-the-limit" else 2_000)
    if kind == "json-feed":
        items = [{"id": f"j{n}", "title": f"Story {n}"} for n in range(count)]
        body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": items})
        parsed = parse_feed(body.encode(), feed="test", fetched_at=FETCHED)
    elif kind == "feedparser":
        parsed = feedparser_only(rss(_numbered(count)), monkeypatch)
    else:
        parsed = parse_feed(rss(_numbered(count)), feed="test", fetched_at=FETCHED)
    expected = min(count, parsers.MAX_ENTRIES)
    assert [s.title for s in parsed.stories] == [f"Story {n}" for n in range(expected)]
    too_many = None if kind == "exactly-the-limit" else parsers.TOO_MANY
    assert parsed.warning == too_many


@pytest.mark.parametrize("fast", [True, False])
def test_a_link_of_another_scheme_than_http_is_no_storys_link(
    fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`javascript:`, `data:` or `file:` is no story's page, and would go into an alert's
    links; the guid stands in where it is a web address, as for a link home."""
    body = rss([
        "<item><title>A</title><link>javascript:alert(1)</link>"
        "<guid>https://drill.test/a</guid></item>",
        "<item><title>B</title><link> JavaScript:alert(2)</link></item>",
        "<item><title>C</title><link>data:text/html,&lt;script&gt;x&lt;/script&gt;</link></item>",
        "<item><title>D</title><link>file:///etc/passwd</link></item>",
        "<item><title>E</title><link>//cdn.test/e</link></item>",
    ])  # fmt: skip
    parsed = read_either(body, fast, monkeypatch)
    assert [s.link for s in parsed.stories] == [
        "https://drill.test/a", "", "", "", "https://cdn.test/e",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "link",
    [
        "http://127.0.0.1:8080/news/1", "http://10.1.2.3/news/1", "http://192.168.1.5/news/1",
        "http://localhost/news/1", "http://wiki.corp.local/news/1", "http://[fd00::5]/news/1",
        "http://news.internal:8080/news/1",
    ],
)  # fmt: skip
def test_a_link_to_a_host_on_a_private_network_is_kept_whichever_parser_reads_it(
    link: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """feedparser-rs blanks an entry's link to a private host, where feedparser keeps it: a
    company's own feed (an RSS bridge on localhost, an intranet's news) lost its links."""
    body = rss([f"<item><title>Memo</title><link>{link}</link><guid>m1</guid></item>"])
    (story,) = parse_feed(body, feed="test", fetched_at=FETCHED).stories
    assert story.link == link
    assert parse_feed(body, feed="test", fetched_at=FETCHED) == feedparser_only(body, monkeypatch)


MEDIA_ITEMS = (
    b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
    b'xmlns:media="http://search.yahoo.com/mrss/"><channel><title>t</title>'
    b"<link>https://m.test/</link><item><title>Gallium deal</title><link>https://m.test/1</link>"
    b'<media:content url="https://m.test/1.jpg"><media:title>Pavlodar plant</media:title>'
    b"<media:description>Workers at the plant.</media:description></media:content>"
    b"<description>Kazakhstan will sell gallium to Japan under a deal signed today.</description>"
    b"</item><item><link>https://m.test/2</link><description>Antimony prices rose again this "
    b'week.</description><media:content url="https://m.test/2.jpg"><media:title>A smelter'
    b"</media:title></media:content></item></channel></rss>"
)


@pytest.mark.parametrize("fast", [True, False])
def test_media_captions_are_neither_summary_nor_title_whichever_parser_reads_it(
    fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """feedparser read a `<media:description>` before the description as the summary, so
    an alert showed a photo's caption, and clustering compared captions; and a
    `<media:title>` as the title of an item without one. feedparser-rs reads both apart."""
    first, second = read_either(MEDIA_ITEMS, fast, monkeypatch).stories
    assert (first.title, first.summary, first.body) == (
        "Gallium deal", "Kazakhstan will sell gallium to Japan under a deal signed today.", ""
    )  # fmt: skip
    assert second.title == "Antimony prices rose again this week."


@pytest.mark.parametrize("fast", [True, False])
def test_a_link_whose_ampersand_is_escaped_twice_is_one_link_whichever_parser_reads_it(
    fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A publishing system that escapes an RSS link's `&` twice (`&amp;amp;`): feedparser
    reads `&`, feedparser-rs read `&amp;`, so a feed read by one parser at one poll and the
    other at the next (a poll whose body came malformed) stored its stories twice, under
    two ids and two links."""
    body = rss([
        "<item><title>Smelter news</title><link>https://amp.test/a?id=1&amp;amp;p=2</link></item>"
    ])  # fmt: skip
    (story,) = read_either(body, fast, monkeypatch).stories
    assert story.link == "https://amp.test/a?id=1&p=2"
    assert story.id == story_id("test", None, "https://amp.test/a?id=1&p=2", "", "")
    guid = "https://amp.test/a?id=1&amp;amp;p=3"  # the link of an item that has only a guid
    body = rss([f"<item><title>Smelter news</title><guid>{guid}</guid></item>"])
    (story,) = read_either(body, fast, monkeypatch).stories
    assert (story.link, story.guid) == ("https://amp.test/a?id=1&p=3", html.unescape(guid))


LOOSE_LINKS = [  # as written in a feed's XML; the link read from an RSS item, an Atom entry
    ("https://l.test/O&apos;Brien-&#39;s", "https://l.test/O'Brien-'s", "https://l.test/O'Brien-'s"),
    ("https://l.test/a?q=&quot;Ga&quot;&amp;x=&lt;1&gt;", 'https://l.test/a?q="Ga"&x=<1>',
     'https://l.test/a?q="Ga"&x=<1>'),
    # feedparser reads an RSS link's `&` escaped twice as `&`; an Atom href as written
    ("https://l.test/a?id=1&amp;amp;p=2", "https://l.test/a?id=1&p=2",
     "https://l.test/a?id=1&amp;p=2"),
    ("https://l.test/a?id=1&amp;amp=1", "https://l.test/a?id=1&amp=1",  # AMP's parameter
     "https://l.test/a?id=1&amp=1"),
]  # fmt: skip


@pytest.mark.parametrize(("written", "rss_link", "atom_link"), LOOSE_LINKS)
@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_a_link_of_a_feed_read_leniently_is_the_link_written(
    kind: str, written: str, rss_link: str, atom_link: str
) -> None:
    """A feed that is not well-formed (an unclosed `<br>` in its title) is read by
    feedparser's lenient parser, which left `&apos;` as `&apos` in an RSS link
    (`O&aposBrien`, a page that is not there) and `&apos;` in an Atom one; each link is
    read as the same feed's, well-formed, is."""
    entry = (
        f"<item><title>Smelter news</title><link>{written}</link></item>"
        if kind == "rss"
        else f'<entry><id>urn:x:1</id><title>Smelter news</title><link href="{written}"/></entry>'
    )
    head = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        if kind == "rss"
        else '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
    )
    tail = "</channel></rss>" if kind == "rss" else "</feed>"
    for title, malformed in (("Desk<br>news", True), ("Desk news", False)):
        body = f"{head}<title>{title}</title>{entry}{tail}".encode()
        parsed = parse_feed(body, feed="test", fetched_at=FETCHED)
        assert (parsed.warning is not None) is malformed
        assert [story.link for story in parsed.stories] == [
            rss_link if kind == "rss" else atom_link
        ]


_ITEM_WITH = (
    "<item>{before}<title>Smelter restarts</title>{middle}<link>https://w.test/1</link>"
    "<description>Gallium output resumes.</description></item>"
)


@pytest.mark.parametrize(
    ("before", "middle"),
    [
        pytest.param("<guid/>", "", id="guid"),
        pytest.param("", "<dc:creator/>", id="creator"),
        pytest.param("", "<category />", id="category"),
        pytest.param("<comments/>", "<description/>", id="comments-and-description"),
        pytest.param('<source url="https://other.test/rss"/>', "", id="source"),
    ],
)
def test_an_items_empty_element_written_self_closed_loses_nothing(
    before: str, middle: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """XML writers write an empty value as `<guid/>`: feedparser-rs read such an element of
    an RSS item as holding what followed it, so the story lost its title (shown as its
    summary's first words), or took its guid for its link, silently."""
    body = rss([_ITEM_WITH.format(before=before, middle=middle)]).replace(
        b'<rss version="2.0">',
        b'<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">',
    )
    (story,) = parse_feed(body, feed="test", fetched_at=FETCHED).stories
    assert (story.title, story.link, story.summary) == (
        "Smelter restarts", "https://w.test/1", "Gallium output resumes."
    )  # fmt: skip
    assert parse_feed(body, feed="test", fetched_at=FETCHED) == feedparser_only(body, monkeypatch)


def test_a_channel_title_holding_raw_html_is_read_whole() -> None:
    """A channel's title with HTML neither escaped nor in CDATA: feedparser-rs kept it up
    to the end of the first tag ("Raw html"), the outlet's name in every alert."""
    body = rss(["<item><title>Smelter restarts</title><link>https://w.test/1</link></item>"])
    body = re.sub(
        rb"<title>[^<]*</title>", b"<title>Mining <b>Weekly</b> Asia</title>", body, count=1
    )
    parsed = parse_feed(body, feed="test", fetched_at=FETCHED)
    assert (parsed.title, parsed.stories[0].source) == ("Mining Weekly Asia",) * 2


_XHTML = '<div xmlns="http://www.w3.org/1999/xhtml">{}</div>'


@pytest.mark.parametrize(
    ("title", "summary", "expected"),
    [
        pytest.param(
            "Smelter restarts",
            '<summary type="html">Gallium <b>output</b> resumes.</summary>',
            ("Smelter restarts", "Gallium output resumes."),
            id="html-summary",
        ),
        pytest.param(
            "Smelter restarts",
            "<summary><p>Gallium output.</p><p>Exports resume.</p></summary>",
            ("Smelter restarts", "Gallium output. Exports resume."),
            id="text-summary",
        ),
        pytest.param(
            '<title type="html"><b>Gallium</b> smelter restarts</title>',
            "",
            ("Gallium smelter restarts", ""),
            id="html-title",
        ),
        pytest.param(
            f'<title type="xhtml">{_XHTML.format("Gallium & germanium")}</title>',
            "",
            ("Gallium & germanium", ""),
            id="ampersand-in-xhtml",
        ),
    ],
)
def test_atom_text_holding_markup_not_escaped_is_read_whole(
    title: str, summary: str, expected: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An Atom title, summary or content of type html or text with its markup neither
    escaped nor in CDATA, or an xhtml one with a bare `&`: feedparser-rs kept its text up
    to the end of the first element within, or the `&` ("Gallium"), without a complaint,
    and rules found nothing in the rest."""
    title = title if title.startswith("<") else f"<title>{title}</title>"
    body = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>Wire</title><id>urn:w</id><entry><id>urn:w:1</id>{title}"
        f'<link href="https://w.test/1"/>{summary}</entry></feed>'
    ).encode()
    (story,) = parse_feed(body, feed="test", fetched_at=FETCHED).stories
    assert (story.title, story.summary) == expected
    assert parse_feed(body, feed="test", fetched_at=FETCHED) == feedparser_only(body, monkeypatch)


def test_atom_xhtml_text_is_read_by_the_fast_parser() -> None:
    """Markup in an xhtml title or content is XML, which feedparser-rs reads whole; Media
    RSS's elements (`media:content`, self-closed or holding `media:title`) are no Atom
    text, and leave the document to it."""
    body = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:media="http://search.yahoo.com/mrss/">'
        f'<title>Wire</title><id>urn:w</id><entry><id>urn:w:1</id><title type="xhtml">'
        f"{_XHTML.format('<b>Gallium</b> smelter &amp; mine')}</title>"
        '<link href="https://w.test/1"/><media:content url="https://w.test/1.jpg"/>'
        '<media:group><media:title>Pit</media:title></media:group><content type="xhtml">'
        f"{_XHTML.format('<p>Output resumes.</p><p>Exports too.</p>')}</content></entry></feed>"
    ).encode()
    assert parsers.fast_parse(body, None) is not None
    (story,) = parse_feed(body, feed="test", fetched_at=FETCHED).stories
    assert (story.title, story.summary) == (
        "Gallium smelter & mine",
        "Output resumes. Exports too.",
    )


def _press_page(*items: str) -> bytes:
    return rss([
        f"<item><title>{title}</title><link>https://m.test/press/</link>{guid}"
        f"<description>{title}, the ministry said.</description></item>"
        for title, guid in (item.split("|") for item in items)
    ])  # fmt: skip


def test_a_link_the_document_gives_entries_of_other_titles_is_no_storys_link() -> None:
    """A ministry's feed whose entries all link to its press page: the stories shared one
    link, so clustering took them for one news item (export curbs, a lithium price, a
    firm's stake: one alert for all three). The link identifies none of them; a guid that
    is a web address stands in, as for a link home."""
    body = _press_page(
        "Gallium exports curbed|<guid isPermaLink='false'>p-1</guid>",
        "Lithium prices fall|<guid isPermaLink='false'>p-2</guid>",
        "Sojitz buys a stake|<guid>https://m.test/press/3</guid>",
    )
    stories = parse_feed(body, feed="test", fetched_at=FETCHED).stories
    assert [story.link for story in stories] == ["", "", "https://m.test/press/3"]
    clusters = cluster_batch(list(stories), ClusterSettings())
    assert len(set(clusters.values())) == 3


def test_a_link_shared_by_entries_without_guids_is_dropped_but_one_entry_twice_keeps_it() -> None:
    """Without guids, a story's id was made of its link: the second entry of a shared link
    was taken for the first, edited, and never stored. Entries of one title (the same
    entry listed twice, under two guids too) share their link rightly."""
    shared = parse_feed(_press_page("Gallium exports curbed|", "Lithium prices fall|"),
                        feed="test", fetched_at=FETCHED).stories  # fmt: skip
    assert [s.link for s in shared] == ["", ""] and len({s.id for s in shared}) == 2
    twice = parse_feed(_press_page("Gallium exports curbed|<guid>a</guid>",
                                   "Gallium exports curbed|<guid>b</guid>"),
                       feed="test", fetched_at=FETCHED).stories  # fmt: skip
    assert [s.link for s in twice] == ["https://m.test/press/"] * 2


def test_an_rss_items_atom_link_is_its_link() -> None:
    """An RSS item may give its web page as `<atom:link rel="alternate">` alone, as
    feedparser reads it; feedparser-rs ignored it and took the guid, or nothing."""
    body = rss([
        '<item><title>Smelter restarts</title><atom:link href="https://w.test/1" '
        'rel="alternate"/><guid isPermaLink="false">w-1</guid></item>'
    ]).replace(b'<rss version="2.0">',
               b'<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">')  # fmt: skip
    (story,) = parse_feed(body, feed="test", fetched_at=FETCHED).stories
    assert story.link == "https://w.test/1" and story.guid == "w-1"


_NAMESPACES = (
    b'<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    b'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:a10="http://www.w3.org/2005/Atom" '
    b'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">'
)


@pytest.mark.parametrize(
    ("date", "utc"),
    [
        pytest.param("<dc:date>2026-11-24T18:00+09:00</dc:date>", "2026-11-24T09:00", id="w3cdtf-without-seconds"),
        pytest.param("<dc:date>2026-11-24 09:00</dc:date>", "2026-11-24T09:00", id="dc-date-blank"),
        pytest.param("<dcterms:modified>2026-11-24T09:00:00Z</dcterms:modified>", "2026-11-24T09:00", id="dcterms-modified"),
        pytest.param("<dcterms:issued>2026-11-24T09:00:00Z</dcterms:issued>", "2026-11-24T09:00", id="dcterms-issued"),
        pytest.param("<a10:updated>2026-11-24T18:00:00+09:00</a10:updated>", "2026-11-24T09:00", id="dotnet-atom-updated"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("fast", [True, False])
def test_an_rss_items_date_in_another_namespace_is_read(
    date: str, utc: str, fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A `dc:date` in W3C-DTF without seconds (which the standard allows), as some RDF feeds
    write it, was dropped by feedparser-rs, and `dcterms:*` or an Atom date in an RSS item
    (.NET writes `a10:updated`) ignored: the story was dated at its fetch, so `max_age` and a
    first poll's `backfill` let an old story alert. feedparser reads each."""
    body = rss([f"<item><title>Smelter restarts</title><link>https://w.test/1</link>{date}</item>"])
    body = body.replace(b'<rss version="2.0">', _NAMESPACES)
    (story,) = read_either(body, fast, monkeypatch).stories
    assert story.published == datetime.fromisoformat(utc).replace(tzinfo=UTC)


@pytest.mark.parametrize("fast", [True, False])
def test_an_rss_items_atom_elements_under_any_prefix_are_read(
    fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An RSS item's Atom link, summary and content are read under whatever prefix the
    feed binds to Atom (.NET writes `a10`); feedparser-rs ignored them: no link, no text."""
    body = rss([
        '<item><title>Plant opens</title><a10:link href="https://w.test/1" rel="alternate"/>'
        "<a10:summary>A gallium plant opens.</a10:summary></item>",
        '<item><title>Deal signed</title><link>https://w.test/2</link><description>A deal.'
        '</description><a10:content type="html">&lt;p&gt;Sojitz signs a germanium offtake '
        "deal with JOGMEC.&lt;/p&gt;</a10:content></item>",
    ]).replace(b'<rss version="2.0">', _NAMESPACES)  # fmt: skip
    plant, deal = read_either(body, fast, monkeypatch).stories
    assert (plant.link, plant.summary) == ("https://w.test/1", "A gallium plant opens.")
    assert deal.body == "Sojitz signs a germanium offtake deal with JOGMEC."


@pytest.mark.parametrize("second", ["dc:description", "itunes:summary"])
@pytest.mark.parametrize("fast", [True, False])
def test_a_second_description_is_an_items_full_text(
    second: str, fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An item with a `dc:description` or `itunes:summary` beside its description: feedparser
    reads the second as its full text; feedparser-rs kept one and dropped the other."""
    body = rss([
        f"<item><title>Plant opens</title><link>https://w.test/1</link><description>A plant "
        f"opens.</description><{second}>A gallium plant opens in Pavlodar.</{second}></item>"
    ]).replace(b'<rss version="2.0">', _NAMESPACES)  # fmt: skip
    (story,) = read_either(body, fast, monkeypatch).stories
    assert (story.summary, story.body) == ("A plant opens.", "A gallium plant opens in Pavlodar.")


def test_html_a_feed_did_not_escape_is_read_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """A feed that puts HTML in its title or description unescaped, outside CDATA:
    feedparser-rs kept the text up to the end of the first tag within it ("Raw gallium"),
    so the rest was matched by no rule and shown to no one."""
    body = rss([
        "<item><title>Smelter<br/>restarts</title><link>https://w.test/1</link><description>"
        "<p>Raw <b>gallium</b> output</p><p>Sojitz buys it all.</p></description></item>"
    ])  # fmt: skip
    (story,) = parse_feed(body, feed="test", fetched_at=FETCHED).stories
    assert story.title == "Smelter restarts"
    assert story.summary == "Raw gallium output Sojitz buys it all."
    assert parse_feed(body, feed="test", fetched_at=FETCHED) == feedparser_only(body, monkeypatch)


@pytest.mark.parametrize("fast", [True, False])
def test_windows_1252_character_references_are_their_characters(
    fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Old publishing systems write `’` as `&#146;` (its Windows-1252 code): HTML5 and
    feedparser read the character, feedparser-rs the C1 control, which was dropped
    ("Japan s gallium")."""
    body = rss([
        "<item><title>Japan&#146;s &#147;gallium&#148; deal &#150; &#128;5m</title>"
        "<link>https://w.test/1</link></item>"
    ])  # fmt: skip
    (story,) = read_either(body, fast, monkeypatch).stories
    assert story.title == "Japan’s “gallium” deal – €5m"


@pytest.mark.parametrize("fast", [True, False])
def test_an_rss_items_media_description_is_its_full_text(
    fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """feedparser reads an RSS item's `<media:description>` beside its description as its
    content; feedparser-rs kept it apart, and the story had no full text for the rules."""
    body = rss([
        "<item><title>Plant opens</title><link>https://w.test/1</link><description>A plant "
        "opens.</description><media:description>A gallium plant opens in Pavlodar, "
        "Kazakhstan.</media:description></item>"
    ]).replace(b'<rss version="2.0">',
               b'<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">')  # fmt: skip
    (story,) = read_either(body, fast, monkeypatch).stories
    assert (story.summary, story.body) == (
        "A plant opens.", "A gallium plant opens in Pavlodar, Kazakhstan."
    )  # fmt: skip


@pytest.mark.parametrize("fast", [True, False])
def test_a_caption_within_media_content_is_the_summary_of_an_item_without_one(
    fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A video's item (RSS or Atom) whose only text is its `<media:content>`'s caption:
    feedparser reads it, feedparser-rs did not (only one in a `<media:group>`), and the story
    had no text for the rules but its title."""
    body = MEDIA_ITEMS.replace(
        b"<item><title>Gallium deal</title>",
        b'<item><title>Plant tour</title><link>https://m.test/v</link><media:content url="https://'
        b'm.test/v.mp4"><media:description>A gallium plant in Pavlodar.</media:description>'
        b"</media:content></item><item><title>Gallium deal</title>",
    )
    first = read_either(body, fast, monkeypatch).stories[0]
    assert (first.title, first.summary) == ("Plant tour", "A gallium plant in Pavlodar.")
    atom = (
        b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
        b'xmlns:media="http://search.yahoo.com/mrss/"><title>C</title><id>c</id><entry><title>'
        b'Plant tour</title><id>v1</id><link href="https://m.test/v"/><media:content url="https'
        b'://m.test/v.mp4"><media:description>A gallium plant in Pavlodar.</media:description>'
        b"</media:content></entry></feed>"
    )
    (entry,) = read_either(atom, fast, monkeypatch).stories
    assert entry.summary == "A gallium plant in Pavlodar."  # an Atom entry's alike


@pytest.mark.parametrize("fast", [True, False])
def test_an_items_media_title_is_not_its_title_whichever_parser_reads_it(
    fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """feedparser-rs took the `<media:title>` of an item without a `<title>` for its title,
    feedparser does not: the story's title, and with it the links and summaries the
    document shares between entries of other titles, hung on the parser."""
    body = MEDIA_ITEMS.replace(
        b"<item><title>Gallium deal</title>",
        b"<item><media:title>Clip 7</media:title><link>https://m.test/v</link><description>"
        b"A gallium plant in Pavlodar.</description></item><item><title>Gallium deal</title>",
    )
    first = read_either(body, fast, monkeypatch).stories[0]
    assert (first.title, first.summary) == ("A gallium plant in Pavlodar.",) * 2


_RSS_PARTS = (
    ["<title>Caf&#233; &#x2014; Japan&#146;s news</title>", "<title><![CDATA[Sojitz & JOGMEC]]></title>",
     "<title>A <b>bold</b> title</title>", "<title/>", "<media:title>A video's title</media:title>", ""],
    ["<link>https://a.test/1</link>", "<link/>", "<link>https://a.test/c/?id=5&amp;amp;utm_source=rss</link>",
     '<atom:link href="https://a.test/4" rel="alternate"/>', "<link>javascript:alert(1)</link>", ""],
    ["<guid>https://a.test/g1</guid>", '<guid isPermaLink="false">7</guid>', "<guid/>",
     "<dc:identifier>https://a.test/dc/1</dc:identifier>", ""],
    ["<description>&lt;p&gt;One&lt;/p&gt;&lt;p&gt;Two&lt;/p&gt;</description>", "<description><p>Raw <b>gallium</b> here</p></description>",
     "<description>Short</description><content:encoded><![CDATA[<p>Long <b>full</b> text, longer than the short one.</p>]]></content:encoded>",
     "<dc:creator/><description>After an empty creator</description>", "<media:description>Media alone</media:description>",
     '<media:content url="https://a.test/v.mp4"><media:description>A caption alone</media:description></media:content>',
     "<description>Short</description><dc:description>A second, longer description</dc:description>",
     "<atom:summary>Atom's summary</atom:summary>", ""],
    ["<pubDate>Mon, 23 Nov 2026 10:00:00 GMT</pubDate>", "<dc:date>2026-11-23 10:00:00 +0900</dc:date>",
     "<dc:date>2026-11-23T10:00+09:00</dc:date>", "<atom:updated>2026-11-23T10:00:00Z</atom:updated>",
     "<pubDate>Mon,23 Nov 2026 10:00:00 GMT</pubDate>", "<dc:date>2026-11-23T10:00:00 +09:00</dc:date>",
     "<pubDate>04/11/2026</pubDate>", "<pubDate>Nov 23, 2026 9:00 AM EST</pubDate>", ""],
)  # fmt: skip


def test_both_parsers_read_generated_rss_items_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    """Items built of the forms real feeds take (entities, CDATA, markup left unescaped,
    empty elements self-closed, links escaped twice, an item's Atom elements, a second
    description, dates of every kind in every element): feedparser-rs, where it reads the
    feed, gives the stories feedparser gives."""
    rng = random.Random(7)
    for _ in range(150):
        item = "<item>" + "".join(rng.choice(part) for part in _RSS_PARTS) + "</item>"
        body = rss([item]).replace(b'<rss version="2.0">', (
            b'<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            b'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            b'xmlns:atom="http://www.w3.org/2005/Atom" '
            b'xmlns:media="http://search.yahoo.com/mrss/">'))  # fmt: skip
        fast = parse_feed(body, feed="test", fetched_at=FETCHED)
        assert fast == feedparser_only(body, monkeypatch), item


_ATOM_PARTS = (
    ['<title type="html">A &lt;b&gt;B&lt;/b&gt; &amp;amp; C</title>', "<title>x &lt; y</title>",
     '<title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">A <b>B</b></div></title>', "<title/>"],
    ['<link href="https://a.test/1?a=1&amp;b=2"/>', '<link rel="alternate" type="text/html" '
     'href="https://a.test/2"/><link rel="self" href="https://a.test/self"/>', '<link href="/rel/4"/>',
     '<link rel="related" href="https://a.test/r"/>', '<link rel="ALTERNATE" href="https://a.test/5"/>',
     '<link rel="alternate" type="application/pdf" href="https://a.test/6.pdf"/><link rel="alternate" '
     'type="text/html" href="https://a.test/6"/>', '<link href="7" xml:base="https://b.test/x/"/>', ""],
    ["<id>tag:a.test,2026:1</id>", "<id>https://a.test/id/1</id>", ""],
    ["<summary>Plain &amp; simple</summary>", '<summary type="html">&lt;p&gt;Hi&lt;/p&gt;</summary>',
     '<content type="html">&lt;p&gt;Full text, longer than the summary.&lt;/p&gt;</content><summary>Short</summary>',
     '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>X <i>y</i></p></div></content>', ""],
    ["<updated>2026-11-23T10:00:00Z</updated>", "<published>2026-11-23T10:00:00+09:00</published>"
     "<updated>2026-11-23T11:00:00Z</updated>", ""],
)  # fmt: skip


@pytest.mark.parametrize(
    ("links", "want"),
    [
        pytest.param([("alternate", "application/pdf", "p.pdf"), ("alternate", "text/html", "page")], "page", id="page-after-pdf"),
        pytest.param([("ALTERNATE", "TEXT/HTML", "page")], "page", id="capitals"),
        pytest.param([("alternate", "text/html; charset=utf-8", "page")], "page", id="type-with-charset"),
        pytest.param([("alternate", "text/html", "en"), ("alternate", "text/html", "fr")], "en", id="first-language"),
        pytest.param([("alternate", "application/pdf", "p.pdf")], "p.pdf", id="no-html-alternate"),
        pytest.param([("related", "text/html", "other")], "", id="none-alternate"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("fast", [True, False])
def test_an_atom_entrys_page_is_its_first_html_alternate(
    links: list[tuple[str, str, str]], want: str, fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """feedparser took an entry's last HTML alternate, none in capitals or with a charset,
    and its id where no alternate was HTML; feedparser-rs its first alternate of any type:
    the same entry had two links, so two ids for one story. Both give the first HTML
    alternate now, else the first alternate, else none."""
    tags = "".join(f'<link rel="{r}" type="{t}" href="https://a.test/{h}"/>' for r, t, h in links)
    body = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>C</title><id>c</id><entry><title>Smelter restarts</title><id>tag:a.test,2026:1"
        f"</id>{tags}</entry></feed>"
    ).encode()
    (story,) = read_either(body, fast, monkeypatch).stories
    assert story.link == (f"https://a.test/{want}" if want else "")


def _video_feed(first_title: str) -> bytes:
    """A YouTube-like Atom feed: each entry's caption in a `<media:group>`, the second entry
    with a `<source>` and its title."""
    group = ("<media:group><media:title>{0}</media:title><media:description>{0}, a tour of "
             "the gallium plant.</media:description></media:group>")  # fmt: skip
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:media="http://search.yahoo.com/mrss/"><title>C</title><id>c</id>'
        f'<entry>{first_title}<id>v1</id><link href="https://v.test/1"/>{group.format("Clip 1")}'
        '</entry><entry><title>Clip 2</title><id>v2</id><link href="https://v.test/2"/>'
        f"<source><title>Metals TV</title></source>{group.format('Clip 2')}</entry></feed>"
    ).encode()


@pytest.mark.parametrize("fast", [True, False])
def test_an_atom_entrys_media_title_is_not_its_title_whichever_parser_reads_it(
    fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As for an RSS item: an entry with an empty title is titled by its text, the media
    title kept apart, whichever parser reads it; a feed whose entries have titles stays
    with the fast parser."""
    first, second = read_either(_video_feed("<title/>"), fast, monkeypatch).stories
    assert first.title == "Clip 1, a tour of the gallium plant."
    assert second.title == "Clip 2"
    assert parsers.fast_parse(_video_feed("<title>Clip 1</title>"), None) is not None


def test_both_parsers_read_generated_atom_entries_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(11)
    for _ in range(100):
        entry = "<entry>" + "".join(rng.choice(part) for part in _ATOM_PARTS) + "</entry>"
        body = (
            '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
            f'xml:base="https://a.test/base/"><title>C</title><link href="https://a.test/"/>'
            f"<id>f</id>{entry}</feed>"
        ).encode()
        fast = parse_feed(body, feed="test", fetched_at=FETCHED)
        assert fast == feedparser_only(body, monkeypatch), entry
