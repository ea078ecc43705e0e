from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from feedparser.datetimes import _parse_date as feedparser_date

from watcher import normalise, urls
from watcher.boilerplate import coverage, without_post_footer
from watcher.dates import entry_time, published_time
from watcher.normalise import plain_text, story_id
from watcher.urls import absolute_url, canonical_url, unwrapped_url


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        pytest.param(
            "HTTPS://Example.COM/a/B?x=1#frag", "https://example.com/a/B?x=1", id="case-fragment"
        ),
        pytest.param("https://e.com/a?utm_source=rss&utm_medium=feed", "https://e.com/a", id="utm"),
        pytest.param("http://[FD00::1]:8080/a?utm_source=x", "http://[fd00::1]:8080/a", id="ipv6"),
        pytest.param(
            "https://e.com/a?id=7&fbclid=1&gclid=2&page=3",
            "https://e.com/a?id=7&page=3",
            id="keeps-others",
        ),
        pytest.param(
            "https://e.com/a?at_medium=RSS&at_campaign=KARANGA", "https://e.com/a", id="at-internet"
        ),
        pytest.param("https://e.fr/a.html?xtor=RSS-3208", "https://e.fr/a.html", id="xtor"),
        pytest.param(
            "https://e.com/a?id=7&_ga=2.1.3&guccounter=1&smid=tw-share&WT.mc_id=x",
            "https://e.com/a?id=7",
            id="analytics-and-share-tags",
        ),
        pytest.param("http://e.com:80/a", "http://e.com/a", id="default-port"),
        pytest.param("https://e.com:8443/a", "https://e.com:8443/a", id="other-port"),
        pytest.param(
            "https://e.com/what-is?-the-tiny", "https://e.com/what-is?-the-tiny", id="bare-query"
        ),
        pytest.param("https://e.com", "https://e.com/", id="empty-path"),
        pytest.param(
            "https://e.com/a?UTM_Campaign=x&q=a+b",
            "https://e.com/a?q=a+b",
            id="case-insensitive-key",
        ),
        pytest.param(
            "https://ir.e.com/news/12;jsessionid=0A1B.node2?id=7",
            "https://ir.e.com/news/12?id=7",
            id="java-session-id",
        ),
        pytest.param(
            "https://e.com/a.php?PHPSESSID=9f&id=7&CFID=1&cftoken=2",
            "https://e.com/a.php?id=7",
            id="session-ids-in-query",
        ),
        pytest.param("https://e.com/a;v=2", "https://e.com/a;v=2", id="other-path-parameter"),
    ],
)
def test_canonical_url(raw: str, canonical: str) -> None:
    assert canonical_url(raw) == canonical


@pytest.mark.parametrize(
    ("url", "target"),
    [
        pytest.param(
            "https://www.google.com/url?rct=j&sa=t&url=https://news.test/gallium-deal/"
            "&ct=ga&cd=CAIyGjU5&usg=AOvVaw0x",
            "https://news.test/gallium-deal/", id="google-alerts",
        ),
        pytest.param(
            "http://www.bing.com/news/apiclick.aspx?ref=FexRss&aid=&tid=9A&url=https%3a%2f%2f"
            "mining.test%2fa%3fid%3d7&c=55&mkt=en-us",
            "https://mining.test/a?id=7", id="bing-news-percent-encoded",
        ),
        pytest.param(
            "https://news.google.com/news/url?sa=t&fd=R&usg=x&url=http://wire.test/1",
            "http://wire.test/1", id="old-google-news",
        ),
        pytest.param(
            "https://www.google.co.uk/url?q=https://e.test/b&sa=U", "https://e.test/b",
            id="google-country-domain-q",
        ),
        pytest.param(
            "https://www.google.com/search?q=https://e.test/", "https://www.google.com/search?q=https://e.test/",
            id="a-search-is-no-redirect",
        ),
        pytest.param(
            "https://www.google.com/url?url=javascript:alert(1)",
            "https://www.google.com/url?url=javascript:alert(1)", id="only-to-http",
        ),
        pytest.param(
            "https://www.google.com/url?sa=t", "https://www.google.com/url?sa=t", id="no-target",
        ),
        pytest.param(
            "https://www.google.com/url?rct=j&url=https://e.test/gallium+germanium/1&ct=ga",
            "https://e.test/gallium+germanium/1", id="plus-is-plus",
        ),
        pytest.param(
            "https://news.google.com/rss/articles/CBMiabc?oc=5",
            "https://news.google.com/rss/articles/CBMiabc?oc=5", id="opaque-google-news-link",
        ),
        pytest.param(
            "https://notgoogle.test/url?url=https://e.test/", "https://notgoogle.test/url?url=https://e.test/",
            id="other-hosts",
        ),
    ],
)  # fmt: skip
def test_a_redirectors_link_is_the_page_it_leads_to(url: str, target: str) -> None:
    assert unwrapped_url(url) == target


def test_plain_urls_are_made_canonical_as_urlsplit_makes_them() -> None:
    """Most links skip urlsplit; any URL, odd characters included, comes out the same."""
    rng = random.Random(1)
    hosts = ["e.com", "www.news.test", "E.com", "e.com:80", "u@e.com", "[::1]", "é.com", ""]
    usual = ["/a", "/B-2", "?id=7", "&utm_source=x", "&fbclid=1", "#top", "/", "?", "&", "//",
             ";jsessionid=A1", ";JSessionID=b.2", "&phpsessid=3"]  # fmt: skip
    odd = [*"Z09.-_/?#&=:@[]%+~ \t\r\n\x00\x7f;,é!$'()*"]
    written = [
        rng.choice(["http://", "https://", "Https://", "http:/", " https://", ""])
        + rng.choice(hosts)
        + "".join(rng.choices(usual, k=rng.randint(0, 6)))
        + "".join(rng.choices(odd, k=rng.choice([0, 0, 1, 3])))
        + "".join(rng.choices(usual, k=rng.randint(0, 3)))
        for _ in range(50_000)
    ]
    plain = [u for u in written if urls._PLAIN_URL.fullmatch(u.strip())]
    assert len(plain) > 3_000  # the fast path is taken, and checked, often
    for url in written:
        assert canonical_url(url) == urls._split_canonical(url.strip()), url


@pytest.mark.parametrize(
    ("url", "bases", "resolved"),
    [
        ("https://a.test/1", ("https://b.test/",), "https://a.test/1"),
        ("mailto:desk@a.test", ("https://b.test/",), "mailto:desk@a.test"),
        ("/news/1", ("https://b.test/x/",), "https://b.test/news/1"),
        ("news/1", ("https://b.test/x/",), "https://b.test/x/news/1"),
        ("//cdn.test/1", ("https://b.test/",), "https://cdn.test/1"),
        ("/news/1", (None, "", "relative/base", "https://c.test/"), "https://c.test/news/1"),
        ("/news/1", (None, "https://c.test/"), "https://c.test/news/1"),
        ("/news/1", (), "/news/1"),
        ("/news/1", ("http://[::1", "https://c.test/"), "https://c.test/news/1"),
    ],
    ids=["absolute", "other-scheme", "root-relative", "path-relative", "scheme-relative",
         "first-usable-base", "skips-none", "no-base", "skips-a-malformed-base"],
)  # fmt: skip
def test_absolute_url(url: str, bases: tuple[str | None, ...], resolved: str) -> None:
    assert absolute_url(url, *bases) == resolved


@pytest.mark.parametrize(
    ("html", "text"),
    [
        pytest.param("<p>One</p><p>Two</p>", "One Two", id="blocks"),
        pytest.param(
            "<tr><td>Gallium</td><td>Germanium</td></tr>", "Gallium Germanium", id="cells"
        ),
        pytest.param(
            "<dl><dt>Metal</dt><dd>Antimony</dd></dl>", "Metal Antimony", id="definitions"
        ),
        pytest.param(
            "<ul><li>Tin</li></ul>Lithium<hr>Cobalt", "Tin Lithium Cobalt", id="list-and-rule"
        ),
        pytest.param("Sojitz<blockquote>Quoted</blockquote>said", "Sojitz Quoted said", id="quote"),
        pytest.param(
            "<figure><img src=x><figcaption>Photo</figcaption></figure>Gallium",
            "Photo Gallium",
            id="figure",
        ),
        pytest.param("end.</section><section>Next", "end. Next", id="sections"),
        pytest.param(
            "Kazakh<wbr>stan <b>Gal</b>lium", "Kazakhstan Gallium", id="inline-stays-joined"
        ),
        pytest.param("A &amp; B&nbsp;&mdash; C", "A & B — C", id="entities"),
        pytest.param("x<script>alert(1)</script>y", "xy", id="script"),
        pytest.param("  lots \n of\t space ", "lots of space", id="space"),
        pytest.param(None, "", id="none"),
        pytest.param("a <![C--x y]]> <b>b</b>", "a C--x y]]> b", id="unknown-marked-section"),
        pytest.param("a <![ b", "a b", id="unclosed-marked-section"),
        pytest.param("a <!-- b <p>c", "a <!-- b c", id="unclosed-comment-then-a-tag"),
        pytest.param("<![CDATA[Tin rises]]> <i>again</i>", "Tin rises again", id="cdata"),
        pytest.param("<![if !supportLists]>1.<![endif]> <b>Tin</b>", "1. Tin", id="ms-office"),
        pytest.param("Gal&shy;lium Mitsu\u00adbishi", "Gallium Mitsubishi", id="soft-hyphens"),
        pytest.param(
            "gal\u200blium anti\u2060mony \ufeffTin", "gallium antimony Tin", id="zero-width"
        ),
        pytest.param("Sojitz \u202egallium\u202c x", "Sojitz gallium\u202c x", id="overrides"),
        pytest.param("a\x1b[2Jb", "a [2Jb", id="controls-as-space"),
        pytest.param("\u201cTin\u201d \u2013 ok", "\u201cTin\u201d \u2013 ok", id="quotes-stay"),
        pytest.param("Socie\u0301te\u0301 \u30ab\u3099", "Soci\u00e9t\u00e9 \u30ac", id="composed"),
        pytest.param("Galli\u00ad\u0301um", "Gall\u00edum", id="composed-without-soft-hyphen"),
        pytest.param(
            "\uff76\uff9e\uff98\uff73\uff91\u8f38\u5165\uff61",  # ｶﾞﾘｳﾑ輸入｡
            "\u30ac\u30ea\u30a6\u30e0\u8f38\u5165\u3002",
            id="half-width-katakana",
        ),
        pytest.param(
            "\uff25\uff32\uff27\u3000\uff12\uff10\uff12\uff16\u5e74\uff01",  # ＥＲＧ　２０２６年！
            "ERG 2026\u5e74!",
            id="full-width-ascii",
        ),
        pytest.param(
            "\u0645\u06cc\u200c\u062e\u0648", "\u0645\u06cc\u200c\u062e\u0648", id="joiners-stay"
        ),
    ],
)
def test_plain_text(html: str | None, text: str) -> None:
    assert plain_text(html) == text


def _html_parsers_text(html: str) -> str:
    extractor = normalise._TextExtractor()
    extractor.feed(html)
    extractor.close()
    return normalise.fold_space("".join(extractor.parts))


HTML_PIECES = [
    "<p>", "</p>", "<br/>", "<br />", "<b>", "</b>", '<a href="x?a=1&amp;b=2">', "</a>", "<P>",
    "<div class='c'>", "</DIV>", "<script>x<y</script>", "<style>p{}</style>", "<!-- c -->",
    "<![CDATA[z]]>", "<?php ?>", "&amp;", "&lt;", "&#8217;", "&eacute;", "&amp", "&", "<", ">",
    "&nbsp;", "\xa0", " ", "\n", "word", "Mot", "<img src=x>", '<a title="x>y">', "<o:p>",
    "</o:p>", "<h1>", "x<3", "<a\nhref='q'>", "<li>", "<a title='it\"s'>", "</span >", "<p/>",
    "</", "<1>", "<td>", "</td>", "<dd>", "<blockquote>", "</section>", "<hr>", "<wbr>",
]  # fmt: skip


def test_plain_text_of_plain_tags_is_html_parsers() -> None:
    """The fast path for plain tags gives what HTMLParser gives, on random HTML made of plain
    tags, entities, scripts, comments, quoted '>' and stray '<'."""
    rng = random.Random(11)
    fast = 0
    for _ in range(20_000):
        html = "".join(rng.choices(HTML_PIECES, k=rng.randint(1, 12)))
        assert plain_text(html) == _html_parsers_text(html), html
        fast += "<" in html and normalise._plain_tags_text(html) is not None
    assert fast > 1000  # the fast path was taken, not only the fallback


@pytest.mark.parametrize("unclosed", ["<a", "<!--", "</", "<?", "<![CDATA[", "<!x"])
def test_html_of_a_megabyte_of_unclosed_tags_is_read_at_once(unclosed: str) -> None:
    """A hostile summary: what the parser reads on to the end of the HTML, a megabyte of it.
    Read at each `<` to the end, 200 KB of `<a` took 7 s, a megabyte minutes; each is text."""
    html = "<p>Gallium</p>" + unclosed * (1_000_000 // len(unclosed))
    assert plain_text(html) == "Gallium " + unclosed * (1_000_000 // len(unclosed))


FETCHED = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_published_falls_back_to_updated_then_fetch_time() -> None:
    updated = FETCHED - timedelta(days=1)
    assert published_time(None, updated, FETCHED) == updated
    assert published_time(None, None, FETCHED) == FETCHED


@pytest.mark.parametrize("placeholder", ["0001-01-01", "1900-01-01", "1970-01-01", "1990-12-31"])
def test_a_date_before_the_web_is_no_date(placeholder: str) -> None:
    zero = datetime.fromisoformat(placeholder).replace(tzinfo=UTC)
    updated = FETCHED - timedelta(days=1)
    assert published_time(zero, None, FETCHED) == FETCHED
    assert published_time(zero, updated, FETCHED) == updated
    assert published_time(datetime(1991, 1, 1, tzinfo=UTC), None, FETCHED).year == 1991


def test_future_dates_are_clamped_to_fetch_time() -> None:
    assert published_time(FETCHED + timedelta(days=3), None, FETCHED) == FETCHED


def test_story_id_is_stable_and_prefers_guid() -> None:
    a = story_id("feed", "g1", "https://e.com/1", "T", "")
    assert a == story_id("feed", "g1", "https://e.com/other", "T2", "")
    assert a != story_id("other feed", "g1", "https://e.com/1", "T", "")
    assert story_id("feed", None, "https://e.com/1", "T", "") != story_id(
        "feed", None, "https://e.com/2", "T", ""
    )
    assert story_id("feed", None, None, "T", "d1") != story_id("feed", None, None, "T", "d2")


_COVERAGE = (
    '<ol><li><a href="https://news.test/a" target="_blank">Tokyo buys Kazakh gallium</a>'
    '&nbsp;&nbsp;<font color="#6f6f6f">Wire One</font></li>'
    '<li><a href="https://news.test/b">Sojitz eyes antimony in Tajikistan</a>'
    '&nbsp;&nbsp;<font color="#6f6f6f">Mine Daily</font></li>'
    '<li><strong><a href="https://news.test/all">View full coverage</a></strong></li></ol>'
)


@pytest.mark.parametrize(
    ("html", "title", "own"),
    [
        pytest.param(
            _COVERAGE, "Tokyo buys Kazakh gallium - Wire One",
            '<a href="https://news.test/a" target="_blank">Tokyo buys Kazakh gallium</a>'
            '&nbsp;&nbsp;<font color="#6f6f6f">Wire One</font>',
            id="coverage-list-headed-by-the-entry",
        ),
        pytest.param(
            _COVERAGE.upper().replace("HREF", "href"), "TOKYO BUYS KAZAKH GALLIUM",
            '<A href="HTTPS://NEWS.TEST/A" TARGET="_BLANK">TOKYO BUYS KAZAKH GALLIUM</A>'
            '&NBSP;&NBSP;<FONT COLOR="#6F6F6F">WIRE ONE</FONT>',
            id="tags-in-capitals",
        ),
        pytest.param(_COVERAGE, "Sojitz eyes antimony in Tajikistan", _COVERAGE, id="headed-by-another-story"),
        pytest.param(
            "<ul><li>Output up 4%</li><li>Exports resume</li></ul>", "Output up 4%",
            "<ul><li>Output up 4%</li><li>Exports resume</li></ul>", id="bullets-without-links",
        ),
        pytest.param(
            '<ol><li><a href="/a">Tokyo buys gallium</a></li></ol>', "Tokyo buys gallium",
            '<ol><li><a href="/a">Tokyo buys gallium</a></li></ol>', id="one-item",
        ),
        pytest.param(
            '<p>Read on.</p><ol><li><a href="/a">T</a></li><li><a href="/b">U</a></li></ol>', "T",
            '<p>Read on.</p><ol><li><a href="/a">T</a></li><li><a href="/b">U</a></li></ol>',
            id="a-list-inside-a-text",
        ),
        pytest.param("Plain text.", "Plain", "Plain text.", id="no-html"),
    ],
)  # fmt: skip
def test_a_coverage_list_is_cut_to_the_entrys_own_item(html: str, title: str, own: str) -> None:
    assert coverage(html, title).own == own


def test_a_coverage_list_gives_the_links_of_its_other_stories() -> None:
    assert coverage(_COVERAGE, "Tokyo buys Kazakh gallium").others == (
        "https://news.test/b", "https://news.test/all",
    )  # fmt: skip
    html = (
        "<ol><li><a href='/a'>T</a></li><li><a\tHREF = https://n.test/b?x=1&amp;y=2>U</a></li>"
        '<li><a name="c">V</a></li><li><a data-href="/d" href="/e">W</a></li></ol>'
    )
    assert coverage(html, "T") == ("<a href='/a'>T</a>", ("https://n.test/b?x=1&y=2", "/e"))


@pytest.mark.parametrize(
    "html",
    [
        pytest.param("<ol>" + "<li><a " * 2500, id="tags-never-closed"),
        pytest.param("<ol>" + "<li>" * 5000, id="items-never-closed"),
        pytest.param("<ol><li><a>T</a></li><li><a>U</a></li></ol>" + " " * 20_000, id="too-long-to-be-a-list"),
    ],
)  # fmt: skip
def test_a_summary_that_only_looks_like_a_list_is_kept(html: str) -> None:
    assert coverage(html, "T") == (html, ())


@pytest.mark.parametrize(
    ("summary", "title", "kept"),
    [
        pytest.param("Output rises. The post Smelter news appeared first on MINE.TEST.", "Smelter news", "Output rises.", id="footer"),
        pytest.param("The post Smelter news appeared first on Mine Daily | Metals.", "Smelter news", "", id="footer-alone"),
        pytest.param("Output rises. The post Other news appeared first on Mine Daily.", "Smelter news", "Output rises. The post Other news appeared first on Mine Daily.", id="another-title"),
        pytest.param("The post Smelter news appeared first on Mine Daily. Then output rose.", "Smelter news", "The post Smelter news appeared first on Mine Daily. Then output rose.", id="text-follows"),
        pytest.param("Output rises. The post Smelter news appeared first on Mine Daily", "Smelter news", "Output rises. The post Smelter news appeared first on Mine Daily", id="no-full-stop"),
        pytest.param("The post office reopens.", "", "The post office reopens.", id="untitled"),
        pytest.param("Output rises. Continue reading →", "T", "Output rises.", id="continue-reading"),
        pytest.param("Output rises… Read More", "T", "Output rises…", id="read-more-after-a-cut"),
        pytest.param("Output rises. [Read more]", "T", "Output rises.", id="read-more-in-brackets"),
        pytest.param("Выпуск растет. Читать далее", "T", "Выпуск растет.", id="russian"),
        pytest.param("生産が増える。続きを読む", "T", "生産が増える。", id="japanese"),
        pytest.param("Output rises. Read more. The post T appeared first on M.", "T", "Output rises.",
                     id="read-more-before-the-wordpress-line"),
        pytest.param("Analysts urged investors to read more.", "T", "Analysts urged investors to read more.",
                     id="a-sentence-ending-so-stays"),
        pytest.param("Output rose 5%. More to come.", "T", "Output rose 5%. More to come.", id="more-text-stays"),
    ],
)  # fmt: skip
def test_what_sites_close_entries_with_is_not_the_storys_text(
    summary: str, title: str, kept: str
) -> None:
    assert without_post_footer(summary, title) == kept


@pytest.mark.parametrize(
    ("title", "source", "shown"),
    [
        ("Sojitz buys a gallium stake - Asia Wire", "Asia Wire", "Sojitz buys a gallium stake"),
        ("Sojitz buys a gallium stake | ASIA WIRE ", "Asia Wire", "Sojitz buys a gallium stake"),
        ("Sojitz buys a gallium stake — Asia Wire", "Asia Wire", "Sojitz buys a gallium stake"),
        ("Sojitz buys a gallium stake-Asia Wire", "Asia Wire", "Sojitz buys a gallium stake-Asia Wire"),
        ("Sojitz buys a gallium stake - Asia Wire Daily", "Asia Wire", "Sojitz buys a gallium stake - Asia Wire Daily"),
        ("Talks with Asia Wire", "Asia Wire", "Talks with Asia Wire"),
        ("Asia Wire", "Asia Wire", "Asia Wire"),
        (" - Asia Wire", "Asia Wire", " - Asia Wire"),
        ("Sojitz buys a gallium stake - Asia Wire", "", "Sojitz buys a gallium stake - Asia Wire"),
    ],
)  # fmt: skip
def test_a_headline_is_shown_without_its_outlets_name_at_its_end(
    title: str, source: str, shown: str
) -> None:
    assert normalise.headline(title, source) == shown


@pytest.mark.parametrize(
    ("raw", "utc"),
    [
        pytest.param("Fr, 04 Dez 2026 10:00:00 +0100", "2026-12-04 09:00", id="german"),
        pytest.param("Mi, 02 Mär 2026 10:00 MEZ", "2026-03-02 09:00", id="german-zone-name"),
        pytest.param("ven., 04 déc. 2026 10:00:00 +0100", "2026-12-04 09:00", id="french"),
        pytest.param("mar., 01 DEC. 2026 10:00:00 +0100", "2026-12-01 09:00", id="french-mardi"),
        pytest.param("sáb, 05 dic 2026 08:00:00 GMT", "2026-12-05 08:00", id="spanish"),
        pytest.param("mar, 17 mar 2026 08:00:00 GMT", "2026-03-17 08:00", id="spanish-martes"),
        pytest.param("gio, 03 set 2026 08:00:00 +0200", "2026-09-03 06:00", id="italian"),
        pytest.param("Sex, 04 Dez 2026 10:00:00 -0300", "2026-12-04 13:00", id="portuguese"),
        pytest.param("vr, 04 mrt 2026 10:00:00 +0100", "2026-03-04 09:00", id="dutch"),
        pytest.param("Пт, 04 дек 2026 10:00:00 +0600", "2026-12-04 04:00", id="russian"),
        pytest.param("4 мая 2026 10:00:00 +0500", "2026-05-04 05:00", id="russian-genitive"),
        pytest.param("30 ноября 2026, 11:20", "2026-11-30 11:20", id="russian-comma-before-time"),
        pytest.param("30 ноября 2026 г., 11:20 +0500", "2026-11-30 06:20", id="russian-year-word"),
        pytest.param("30 ноября 2026 в 11:20", "2026-11-30 11:20", id="russian-at"),
        pytest.param("4 décembre 2026 à 10:15", "2026-12-04 10:15", id="french-at"),
        pytest.param("4 décembre 2026 à 10h15", "2026-12-04 10:15", id="french-h"),
        pytest.param("4 de dezembro de 2026 às 10 h 15", "2026-12-04 10:15", id="portuguese-h"),
        pytest.param("4. Dezember 2026 um 10.15 Uhr", "2026-12-04 10:15", id="german-dot-uhr"),
        pytest.param("4 грудня 2026 року, 10:15", "2026-12-04 10:15", id="ukrainian-year-word"),
        pytest.param("4 Aralık 2026 - 10:15", "2026-12-04 10:15", id="turkish-dash"),
        pytest.param("4 grudnia 2026 | 10:15", "2026-12-04 10:15", id="polish-bar"),
        pytest.param("4. Dezember 2026, 10:15 Uhr", "2026-12-04 10:15", id="german-uhr"),
        pytest.param("30 ноября 2026", "2026-11-30 00:00", id="no-time"),
        pytest.param("30 қараша 2026 ж., 11:20", "2026-11-30 11:20", id="kazakh"),
        pytest.param("4 de diciembre de 2026 a las 10:15", "2026-12-04 10:15", id="spanish-de"),
        pytest.param("4 de dezembro de 2026 às 10:15", "2026-12-04 10:15", id="portuguese-de"),
        pytest.param("Дс, 07 желтоқсан 2026 09:00:00 +0500", "2026-12-07 04:00", id="kazakh-rfc"),
        pytest.param("Пт, 04 гру 2026 10:00:00 +0200", "2026-12-04 08:00", id="ukrainian"),
        pytest.param("4 грудня 2026 о 10:15", "2026-12-04 10:15", id="ukrainian-genitive"),
        pytest.param("pt., 04 gru 2026 10:00:00 +0100", "2026-12-04 09:00", id="polish"),
        pytest.param("4 grudnia 2026 o 10:15", "2026-12-04 10:15", id="polish-genitive"),
        pytest.param("Cum, 04 Ara 2026 10:00:00 +0300", "2026-12-04 07:00", id="turkish"),
        pytest.param("4 Aralık 2026 10:15", "2026-12-04 10:15", id="turkish-full"),
        pytest.param("4 dekabr 2026 10:15", "2026-12-04 10:15", id="uzbek"),
        pytest.param("4 декабр 2026, 10:15", "2026-12-04 10:15", id="uzbek-cyrillic"),
        pytest.param("Fri, 04 Dec 2026 10:00:00 +0100", "2026-12-04 09:00", id="english"),
        # the month first, as US sites in Spanish write a date, and a few others
        pytest.param("diciembre 4, 2026", "2026-12-04 00:00", id="spanish-month-first"),
        pytest.param(
            "viernes, diciembre 4, 2026 - 10:15",
            "2026-12-04 10:15",
            id="spanish-weekday-month-first",
        ),
        pytest.param(
            "mar., diciembre 1, 2026 10:15 -0500",
            "2026-12-01 15:15",
            id="spanish-martes-month-first",
        ),
        pytest.param("Aralık 14, 2026 10:15", "2026-12-14 10:15", id="turkish-month-first"),
        pytest.param("Foo 4, 2026 10:15", None, id="no-month-month-first"),
        pytest.param("Fr, 04 Foo 2026 10:00:00 +0100", None, id="no-month"),
        pytest.param("heute, 10:00", None, id="no-date"),
    ],
)
def test_dates_in_rfc_822s_order_are_read_in_other_languages(raw: str, utc: str | None) -> None:
    """Sites that format dates with their server's locale write RFC 822 in their own
    language: read as feedparser reads the English, not dated at their fetch."""
    read = entry_time(raw, None)
    assert (read.strftime("%Y-%m-%d %H:%M") if read else None) == utc


@pytest.mark.parametrize(
    ("raw", "utc"),
    [
        pytest.param("2026/12/04 10:15:00 +0900", "2026-12-04 01:15", id="year-first-slashes"),
        pytest.param("2026/12/04", "2026-12-04 00:00", id="no-time"),
        pytest.param("2026.12.04 10:15", "2026-12-04 10:15", id="year-first-dots"),
        pytest.param("2026/12/04T10:15:30.250Z", "2026-12-04 10:15", id="t-and-fraction"),
        pytest.param("2026/12/04 9:05 KST", "2026-12-04 00:05", id="zone-name"),
        pytest.param("04.12.2026 10:15", "2026-12-04 10:15", id="day-first"),
        pytest.param("4.12.2026, 10:15 +01:00", "2026-12-04 09:15", id="day-first-comma"),
        pytest.param("04.12.2026 um 10.15 Uhr", "2026-12-04 10:15", id="day-first-um-uhr"),
        pytest.param("04.12.2026 в 10:15", "2026-12-04 10:15", id="day-first-russian-at"),
        pytest.param("2026.12.04 23.27 +0300", "2026-12-04 20:27", id="dot-clock"),
        pytest.param("04.12.26 10:15", "2026-12-04 10:15", id="day-first-two-digit-year"),
        pytest.param("2026年12月4日 10:15", "2026-12-04 10:15", id="hanzi"),
        pytest.param("2026年12月04日(木) 10時15分", "2026-12-04 10:15", id="hanzi-weekday-and-clock"),
        pytest.param("2026年12月4日 午後3時15分", "2026-12-04 15:15", id="hanzi-afternoon"),
        pytest.param("2026년 12월 4일 10:15", "2026-12-04 10:15", id="korean"),
        pytest.param("2026년 12월 4일 (금) 오후 3:15", "2026-12-04 15:15", id="korean-weekday-pm"),
        pytest.param("2026년 12월 4일 오전 12:05 KST", "2026-12-03 15:05", id="korean-midnight"),
        pytest.param("2026년 12월 4일 오후 13:15", None, id="korean-no-13-pm"),
        pytest.param("2026. 12. 4. 10:15", "2026-12-04 10:15", id="year-first-dots-blanks"),
        pytest.param("2026. 12. 04.", "2026-12-04 00:00", id="year-first-dots-closed"),
        pytest.param("2026/13/04 10:15", None, id="no-month-13"),
        pytest.param("2026/02/31", None, id="no-31-february"),
        pytest.param("2026/12", None, id="a-month-is-no-day"),
        pytest.param("12/04/2026 10:15", None, id="month-or-day-first-unknown"),
        pytest.param("07-12-2026 10:15", None, id="dashes-not-the-year-2007"),
        pytest.param("07-12-26 10:15", None, id="two-digit-year-unknown-place"),
    ],
)  # fmt: skip
def test_dates_in_numbers_are_read_or_not_at_all(raw: str, utc: str | None) -> None:
    """feedparser reads `2026/12/04 10:15` as 1 December at midnight: a story dated three
    days early is silenced by `max_age` or a first poll's `backfill`. Read right, whichever
    parser gave the misread time, or not at all."""
    misread = feedparser_date(raw)
    for parsed in (None, misread):
        read = entry_time(raw, parsed)
        assert (read.strftime("%Y-%m-%d %H:%M") if read else None) == utc


@pytest.mark.parametrize(
    ("raw", "utc"),
    [
        pytest.param("Monday, 07-Dec-26 09:15:00 GMT", "2026-12-07 09:15", id="rfc-850"),
        pytest.param("Mon, 07-Dec-2026 09:15:00 +0300", "2026-12-07 06:15", id="dashed-day"),
        pytest.param("2026-Dec-07 09:15", "2026-12-07 09:15", id="dashed-year-first"),
        pytest.param("2026-12-07 09:15:00 +0000 UTC", "2026-12-07 09:15", id="go-utc"),
        pytest.param("2026-12-07 09:15:00.5 -0500 EST", "2026-12-07 14:15", id="go-est"),
        pytest.param("Monday, December 7, 2026 - 09:15", "2026-12-07 09:15", id="month-first-dash"),
        pytest.param("December 7th, 2026 09:15", "2026-12-07 09:15", id="ordinal-month-first"),
        pytest.param("2026-12-07, 09:15", "2026-12-07 09:15", id="iso-comma"),
        pytest.param("2026-12-07 at 09:15 GMT", "2026-12-07 09:15", id="iso-at"),
        pytest.param("2026-12-07 - 09:15 +0300", "2026-12-07 06:15", id="iso-dash"),
        pytest.param("2026-12-07 09h15", "2026-12-07 09:15", id="iso-h"),
        pytest.param("2026-12-07 23.27 +0300", "2026-12-07 20:27", id="iso-dot-clock"),
        pytest.param("20261207T091500+0300", "2026-12-07 06:15", id="iso-basic"),
        pytest.param("2026-12-07 09:15 (UTC)", "2026-12-07 09:15", id="iso-zone-in-parentheses"),
        pytest.param("2026-12-07 09:15 (MSK)", "2026-12-07 06:15", id="iso-msk-in-parentheses"),
        pytest.param("Mon, 1st Dec 2026 09:15:00 GMT", "2026-12-01 09:15", id="ordinal-day-first"),
    ],
)
def test_a_date_written_otherwise_than_the_parsers_read_is_read(raw: str, utc: str) -> None:
    """Neither parser read these (or both kept the date and dropped the time): the story was
    dated at its fetch, or at midnight."""
    _read_as(raw, utc)


def _read_as(raw: str, utc: str, *parsed: time.struct_time | None) -> None:
    """`raw` is read as `utc` (UTC, to the minute), whatever the fast parser gave: no time,
    feedparser's reading, or `parsed`."""
    for given in (None, feedparser_date(raw), *parsed):
        read = entry_time(raw, given)
        assert read is not None and read.strftime("%Y-%m-%d %H:%M") == utc, given


@pytest.mark.parametrize(
    ("raw", "utc"),
    [
        pytest.param("17:35, 14 марта 2026", "2026-03-14 17:35", id="russian"),
        pytest.param("17:35 14.03.2026", "2026-03-14 17:35", id="numbers"),
        pytest.param("5:35 PM | 14 March 2026", "2026-03-14 17:35", id="english-pm-bar"),
        pytest.param("17:35:10 14.03.2026 +0300", "2026-03-14 14:35", id="zone-kept-last"),
        pytest.param("17:35, 14 Kasım 2026", "2026-11-14 17:35", id="turkish"),
    ],
)
def test_a_time_before_its_date_is_read_with_the_date(raw: str, utc: str) -> None:
    """feedparser read a leading time alone, on the day it read the feed: a story of March
    was dated today, inside any first poll's backfill, and alerted as news."""
    _read_as(raw, utc)


# date forms sites write (strftime), times after them and zones after those, with their
# offsets in hours; and times written first
_DATE_FORMS = (
    "%d %b %Y",
    "%d %B %Y",
    "%b %d, %Y",
    "%B %d %Y",
    "%Y-%m-%d",
    "%d.%m.%Y",
    "%Y/%m/%d",
    "%d-%m-%Y",
    "%m/%d/%Y",
    "%Y.%m.%d",
    "%d/%m/%y",
    "%d %b %y",
    "%a %d %b %Y",
    "%A %d %B %Y",
    "%a, %d %b %Y",
    "%d-%b-%Y",
    "%Y%m%d",
    "%b. %d, %Y",
    "%d. %B %Y",
    "%d-%m-%y",
)
_TIME_FORMS = ("", " %H:%M", " %H:%M:%S", "T%H:%M:%S", " %I:%M %p", ", %H:%M", " at %H:%M",
               " - %H:%M", " %Hh%M")  # fmt: skip
_ZONES = {"": 0, " GMT": 0, " UTC": 0, " +0300": -3, " +03:00": -3, "Z": 0, " -0500": 5,
          " EST": 5, " MSK": -3, " (UTC)": 0}  # fmt: skip
_TIME_FIRST = ("%H:%M %d.%m.%Y", "%H:%M, %d %B %Y", "%I:%M %p %d %b %Y", "%H:%M | %B %d, %Y")


def test_no_form_of_a_date_is_read_a_day_or_more_off() -> None:
    """Dates in every form of a grid are read right, to the minute where the time is
    kept, or as no date (dated at fetch): never a day or more off, which silenced a story
    for good (`07-12-2026` read as 2007) or alerted old news as today's (`17:35, 14 March
    2026` read as today). A time may still be lost where no parser reads it (`17.35`)."""
    forms = [d + t for d in _DATE_FORMS for t in _TIME_FORMS] + list(_TIME_FIRST)
    for when in (datetime(2026, 3, 14, 17, 35), datetime(2026, 11, 27, 9, 5)):
        for form in forms:
            for zone, hours in _ZONES.items():
                raw = when.strftime(form) + zone
                read = entry_time(raw, None)
                want = when.replace(tzinfo=UTC) + timedelta(hours=hours)
                assert read is None or abs(read - want) < timedelta(days=1), raw


@pytest.mark.parametrize(
    ("raw", "utc"),
    [
        pytest.param("Mon, 07 Dec 2026 09:15:00 Europe/Moscow", "2026-12-07 06:15", id="rfc-822"),
        pytest.param("07.12.2026 09:15 Asia/Tokyo", "2026-12-07 00:15", id="day-first-dots"),
        pytest.param("7 декабря 2026, 09:15 Asia/Almaty", "2026-12-07 04:15", id="russian"),
        pytest.param("Mon, 07 Dec 2026 09:15:00 Foo/Bar", "2026-12-07 09:15", id="no-such-zone"),
    ],
)
def test_a_date_followed_by_an_iana_zones_name_is_that_zones_time(raw: str, utc: str) -> None:
    """Only an ISO 8601 time was read in the zone named after it: another form was read as
    UTC, whatever the fast parser made of it (Moscow's 09:15 three hours late)."""
    _read_as(raw, utc, feedparser_date("Mon, 07 Dec 2026 09:15:00 GMT"))


@pytest.mark.parametrize(
    ("raw", "zone", "utc"),
    [
        pytest.param("Mon, 07 Dec 2026 9:15 PM EST", None, "2026-12-08 02:15", id="pm-zone-name"),
        pytest.param("Mon, 07 Dec 2026 09:15:00 pm +0300", None, "2026-12-07 18:15", id="pm-offset"),
        pytest.param("Mon, 07 Dec 2026 12:15 AM GMT", None, "2026-12-07 00:15", id="midnight"),
        pytest.param("Mon, 07 Dec 2026 12:15 PM GMT", None, "2026-12-07 12:15", id="noon"),
        pytest.param("07 Dec 2026 9:15 p.m.", "Asia/Tokyo", "2026-12-07 12:15", id="no-zone"),
        pytest.param("2026-12-07 09:15:00 PM +09:00", None, "2026-12-07 12:15", id="iso"),
        pytest.param("07.12.2026 9:15 PM", None, "2026-12-07 21:15", id="day-first-dots"),
        pytest.param("4 de diciembre de 2026 a las 10:15 p. m.", None, "2026-12-04 22:15",
                     id="spanish"),
        pytest.param("Dec 7, 2026 9:15 PM EST", None, "2026-12-08 02:15", id="month-first"),
        pytest.param("Mon, 07 Dec 2026 21:15 PM GMT", None, "2026-12-07 21:15", id="said-twice"),
        pytest.param("Mon, 07 Dec 2026 09:15:00 AMT", None, "2026-12-07 09:15", id="amt-no-am"),
    ],
)  # fmt: skip
def test_a_time_on_the_12_hour_clock_is_read_with_its_am_or_pm(
    raw: str, zone: str | None, utc: str
) -> None:
    """Both parsers read `PM` as a zone they do not know, UTC, and dropped the zone after
    it: `9:15 PM EST` was 09:15 UTC, 17 hours early, whatever time the fast parser gave."""
    misread = feedparser_date(raw)
    for parsed in (None, misread):
        read = entry_time(raw, parsed, ZoneInfo(zone) if zone else None)
        assert read is not None and read.strftime("%Y-%m-%d %H:%M") == utc
