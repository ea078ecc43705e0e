"""Story clustering: cleaning, pair decisions, batch partitions, and the service's window."""

from __future__ import annotations

import json
import logging
import math
import multiprocessing
import random
from array import array
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from wordfreq import get_frequency_dict, top_n_list, zipf_frequency

from bench.scoring import score
from tests.conftest import FakeClock
from tests.test_cli import watcher
from watcher import jsonl
from watcher.alerts.routing import route
from watcher.clusterer import Clusterer, WindowRow
from watcher.config import PollSettings, Subscriber
from watcher.dedupe import (
    SUMMARY_CHARS,
    ClusterIndex,
    ClusterSettings,
    clean_lead,
    clean_title,
    cluster_batch,
    compare,
    day_swaps,
    fingerprint,
    moved_stories,
    opposite_swaps,
    reused_guid,
    reversed_entry,
    slot_swaps,
    term_weight,
)
from watcher.dedupe.columns import SlotTable, StoryIds
from watcher.dedupe.lexicon import _english_top, english_zipf, is_cjk, languages_of, word_list
from watcher.dedupe.reversals import reversal_swaps
from watcher.dedupe.terms import WORD, term_key, weight_in, words_of
from watcher.errors import InputError
from watcher.fetch import Fetcher
from watcher.jsonl import read_stories, story_json
from watcher.models import FeedConfig, Story
from watcher.pipeline import Pipeline
from watcher.rules.folding import is_unspaced
from watcher.rules.live import LiveRules
from watcher.store import Store
from watcher.urls import canonical_url, comparable_url

FIXTURE = Path(__file__).parent / "fixtures" / "stories.jsonl"
T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)
SETTINGS = ClusterSettings()


def story(sid: str, title: str, summary: str = "", *, hours: float = 0, link: str | None = None,
          guid: str | None = None) -> Story:  # fmt: skip
    when = T0 + timedelta(hours=hours)
    return Story(
        id=sid, feed="f", guid=guid, source=f"source of {sid}", title=title, summary=summary,
        link=link if link is not None else f"https://news.test/{sid}", published=when, fetched_at=when,
    )  # fmt: skip


def labels(path: Path) -> dict[str, str]:
    return {d["id"]: d["event"] for d in map(json.loads, path.read_text().splitlines())}


def test_term_weight_is_wordfreqs() -> None:
    rng = random.Random(7)
    made_up = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 11)))
               for _ in range(3000)]  # fmt: skip
    # one listed word of every frequency, and a sample of all the listed words
    band = {f: w for w, f in get_frequency_dict("en").items() if w.isascii() and w.isalpha()}
    known = [*band.values(), *rng.sample(sorted(get_frequency_dict("en")), 5_000)]
    words = [*made_up, *known, "gallium", "the", "kazakhstan", "o'neill", "u.s", "café"]
    # numbers, and Chinese and Japanese words (the English list has some), by our own rules
    words = [w for w in words if not w[0].isdigit() and not is_cjk(w)]
    term_weight.cache_clear()
    for word in words:
        assert term_weight(word) == max(0.0, 6.0 - zipf_frequency(word, "en")), word


@pytest.mark.parametrize("lang", ["en", "zh", "ja"])
def test_a_compact_word_list_gives_every_word_wordfreqs_frequency(lang: str) -> None:
    """Every listed word (one listed twice at its rarer place, as wordfreq's dict has it),
    and no word that is not listed: "kp" and "火" are the same bytes to Python's hash."""
    listed = get_frequency_dict(lang)
    compact = word_list(lang)
    assert len(compact) == len(listed)
    for word, freq in listed.items():  # wordfreq's Zipf scale, to its two decimals
        assert compact.zipf(word) == round(math.log10(freq) + 9, 2), word
    rng = random.Random(11)
    unlisted = {"".join(rng.choices("abcdefghijklmnopqrstuvwxyz火水爱の", k=rng.randint(2, 9)))
                for _ in range(5000)} - listed.keys()  # fmt: skip
    assert not [word for word in unlisted if compact.zipf(word) is not None]


def test_english_frequency_of_a_word_of_several_tokens_is_wordfreqs() -> None:
    """Contractions, hyphens, digits inside words and accents: wordfreq's tokens and its
    formula, read from the compact list."""
    listed = [w for w in get_frequency_dict("en") if not (w.isascii() and w.isalpha())]
    made_up = ["co-op", "covid19", "g7", "abc-xyz-qq", "naïve", "l'état", "'s", "-", "",
               "don't", "x86-64", "2024s", "brexit-era", "smörgåsbord"]  # fmt: skip
    for word in [*listed, *made_up]:
        assert english_zipf(word) == zipf_frequency(word, "en"), word


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        pytest.param("UPDATE: Quake hits Hokkaido", "Quake hits Hokkaido", id="update-colon"),
        pytest.param("UPDATE 1-Quake hits Hokkaido", "Quake hits Hokkaido", id="update-n"),
        pytest.param("CORRECTED-Quake hits Hokkaido", "Quake hits Hokkaido", id="corrected"),
        pytest.param("RPT-Quake hits Hokkaido", "Quake hits Hokkaido", id="repeated"),
        pytest.param("BRIEF-Quake hits Hokkaido", "Quake hits Hokkaido", id="brief"),
        pytest.param("UPDATED: Quake hits Hokkaido", "Quake hits Hokkaido", id="updated"),
        pytest.param("【速報】北海道で地震 [動画]", "北海道で地震", id="label"),
        pytest.param("WATCH: Quake hits Hokkaido", "Quake hits Hokkaido", id="watch"),
        pytest.param("Just in - Quake hits Hokkaido", "Quake hits Hokkaido", id="just-in"),
        pytest.param("VIDEO | Quake hits Hokkaido", "Quake hits Hokkaido", id="video-bar"),
        pytest.param(
            "Live-streaming hits Hokkaido",
            "Live-streaming hits Hokkaido",
            id="a-word-that-begins-so-stays",
        ),
        pytest.param("Quake hits Hokkaido [VIDEO]", "Quake hits Hokkaido", id="label-after"),
        pytest.param(
            "Quake hits Hokkaido (Update 2) - Reuters",
            "Quake hits Hokkaido",
            id="label-after-then-outlet",
        ),
        pytest.param(
            "Quake hits Hokkaido (Chile)",
            "Quake hits Hokkaido (Chile)",
            id="other-words-in-brackets-stay",
        ),
        pytest.param("[Video]", "[Video]", id="a-label-alone-after-stays"),
        pytest.param("[Video] Quake hits Hokkaido", "Quake hits Hokkaido", id="label-ascii"),
        pytest.param("【ガリウム】", "【ガリウム】", id="a-label-alone-stays"),
        pytest.param("Quake hits Hokkaido - The Mainichi", "Quake hits Hokkaido", id="suffix-the"),
        pytest.param("Quake hits Hokkaido - BERNAMA", "Quake hits Hokkaido", id="suffix-caps"),
        pytest.param("Quake hits Hokkaido | Reuters", "Quake hits Hokkaido", id="suffix-bar"),
        pytest.param("Prices rise - again", "Prices rise - again", id="lower-case-tail-kept"),
    ],
)
def test_clean_title(raw: str, clean: str) -> None:
    assert clean_title(raw) == clean


@pytest.mark.parametrize(
    ("raw", "source", "clean"),
    [
        pytest.param("Gallium output resumes - The Globe and Mail", "The Globe and Mail",
                     "Gallium output resumes", id="source-with-lower-case-words"),
        pytest.param("Gallium output resumes | mining.com", "mining.com", "Gallium output resumes",
                     id="source-in-lower-case"),
        pytest.param("Gallium output resumes — times of central asia", "Times of Central Asia",
                     "Gallium output resumes", id="source-in-other-case"),
        pytest.param("Gallium deal with Japan-Kyodo", "Kyodo", "Gallium deal with Japan-Kyodo",
                     id="no-space-before-the-dash"),
        pytest.param("Gallium output resumes - BERNAMA", "Japan Today", "Gallium output resumes",
                     id="another-source-suffix-as-before"),
        pytest.param("Kyodo", "Kyodo", "Kyodo", id="the-source-alone"),
    ],
)  # fmt: skip
def test_clean_title_takes_the_source_off_its_end(raw: str, source: str, clean: str) -> None:
    """Google News ends every title with " - " and the outlet's name, however it is spelled."""
    assert clean_title(raw, source) == clean


@pytest.mark.parametrize(
    ("summary", "lead"),
    [
        pytest.param(
            "TOKYO, Jan 26 (Bernama-Kyodo) -- Mitsubishi will import.",
            "Mitsubishi will import.",
            id="bernama",
        ),
        pytest.param(
            "TOKYO (Kyodo) -- Mitsubishi will import.", "Mitsubishi will import.", id="kyodo"
        ),
        pytest.param(
            "BEIJING, July 3 (Reuters) - China will curb.", "China will curb.", id="reuters"
        ),
        pytest.param("TOKYO — Mitsubishi will import.", "Mitsubishi will import.", id="em-dash"),
        pytest.param(
            "Mitsubishi will import. -- BERNAMA-KYODO", "Mitsubishi will import.", id="credit"
        ),
        pytest.param(
            "Mitsubishi will import gallium, Kyodo News reported.",
            "Mitsubishi will import gallium.",
            id="reported",
        ),
        pytest.param("Headline Here Today Asia Wire", "", id="copied-title-is-no-lead"),
        pytest.param("December 1, 2026 — China will curb.", "China will curb.", id="date-stamp"),
        pytest.param("Gallium, " + "A" * 1600, "Gallium, " + "A" * 1600, id="a-run-of-capitals-after-a-comma"),
        pytest.param("Mon, 1 Dec 2026 10:30 GMT | China will curb.", "China will curb.", id="date-time-stamp"),
        pytest.param("Posted on 2026-12-01: China will curb.", "China will curb.", id="posted-on"),
        pytest.param("Dec. 1 (Reuters) - China will curb.", "China will curb.", id="date-agency"),
        pytest.param("December 1 — a day China will remember.", "December 1 — a day China will remember.", id="no-year-no-stamp"),
        pytest.param("China will curb exports from August 1, 2026 - a ministry said.", "China will curb exports from August 1, 2026 - a ministry said.", id="a-date-within"),
    ],
)  # fmt: skip
def test_clean_lead(summary: str, lead: str) -> None:
    assert clean_lead(summary, "Headline Here Today") == lead


@pytest.mark.parametrize(
    "text",
    ["U.S. output rose 1,000 t", "don't stop_here", "x--y, z.", "Kazakhstan’s gallium",
     "Société Générale à Paris", "a_b __c 9.5.1 ,x'", ""],
)  # fmt: skip
def test_words_of_finds_the_words_word_finds(text: str) -> None:
    assert words_of(text) == WORD.findall(text)


def test_words_of_ascii_text_are_the_words_word_finds() -> None:
    """On random ASCII text full of the characters words join or split on, the ASCII pattern
    finds exactly what WORD finds."""
    rng = random.Random(7)
    alphabet = "aZ09_.',- \t\n;:!?&()"
    for _ in range(3000):
        text = "".join(rng.choices(alphabet, k=rng.randint(0, 40)))
        assert words_of(text) == WORD.findall(text), text


def test_credit_lines_are_found_wherever_the_full_scan_finds_them() -> None:
    """clean_lead skips the credit-line scan for text that cannot end in a credit line; on
    random dashes, capitals and spaces it strips exactly what the scan alone strips."""
    from watcher.dedupe.cleaning import _CREDIT, _DATELINE, _REPORTED

    rng = random.Random(3)
    pieces = [*"ABCDEFGHIJ abc-—.,\n\t", "--", " -- ", "KYODO", "BERNAMA-KYODO", "  "]
    for _ in range(50_000):
        text = "".join(rng.choices(pieces, k=rng.randint(0, 30)))
        scanned = _REPORTED.sub(".", _CREDIT.sub("", _DATELINE.sub("", text, count=1))).strip()
        assert clean_lead(text, "") == scanned, text


PRICE = "Gallium 99.99% min, Rotterdam warehouse, was assessed at ${low}-{high} per kg on {day}, in thin trade as buyers waited for export licences."
CLOSE = "Shanghai copper futures {moved} on {day} as traders weighed demand signals from the property sector and a firmer yuan."
HANWA = (
    "Trading company Hanwa Co. will import {m} concentrate from {c} under a three-year contract."
)
PAIRS = [
    pytest.param(story("a", "Quake hits Hokkaido", link="https://x.test/q"), story("b", "Different", link="https://x.test/q", hours=200), "exact", id="same-link-any-time"),
    pytest.param(story("a", "Quake hits Hokkaido", guid="g1"), story("b", "Quake strikes", guid="g1"), "exact", id="same-guid"),
    pytest.param(story("a", "Quake hits Hokkaido", guid="20451", link="https://one.test/q"), story("b", "Gallium output rises", guid="20451", link="https://two.test/g"), None, id="two-sites-one-entry-number"),
    pytest.param(story("a", "Quake hits Hokkaido", guid="tag:wire.test,2026:7", link="https://one.test/q"), story("b", "Quake strikes", guid="tag:wire.test,2026:7", link="https://two.test/q"), "exact", id="same-uri-guid-on-two-sites"),
    pytest.param(story("a", "Hanwa to import antimony from Tajikistan", HANWA.format(m="antimony", c="Tajikistan")),
                 story("b", "Hanwa to import antimony from Bolivia", HANWA.format(m="antimony", c="Bolivia"), hours=20), None, id="template-other-country"),
    pytest.param(story("a", "Hanwa to import antimony from Tajikistan", HANWA.format(m="antimony", c="Tajikistan")),
                 story("b", "Hanwa to import tungsten from Tajikistan", HANWA.format(m="tungsten", c="Tajikistan"), hours=5), None, id="template-other-mineral"),
    pytest.param(story("a", "Hanwa to import antimony from Tajikistan", HANWA.format(m="antimony", c="Tajikistan")),
                 story("b", "Marubeni to import antimony from Tajikistan", HANWA.format(m="antimony", c="Tajikistan").replace("Hanwa Co.", "Marubeni Corp."), hours=5), None, id="template-other-firm"),
    pytest.param(story("a", "Umicore opens germanium recycling line in Belgium", "Umicore started a germanium recycling line at its Olen plant in Belgium, able to recover 20 tonnes a year from optical fibre scrap."),
                 story("b", "Umicore cuts germanium prices as demand slows", "Umicore lowered its germanium list price for the second time this quarter, citing weaker demand from satellite solar cell makers.", hours=30), None, id="same-firm-and-mineral-other-news"),
    pytest.param(story("a", "Quake of magnitude 6.1 strikes off Hokkaido", "A magnitude 6.1 earthquake struck off the coast of Hokkaido on Monday morning, the Japan Meteorological Agency said. No tsunami warning was issued."),
                 story("b", "UPDATE 2-Quake of magnitude 6.1 strikes off Hokkaido, no damage reported", "A magnitude 6.1 earthquake struck off the coast of Hokkaido on Monday morning, the Japan Meteorological Agency said. No damage was reported by early afternoon.", hours=3), "same-event", id="update"),
    pytest.param(story("a", "Nornickel to raise palladium output by 8%", "Nornickel plans to raise palladium output by 8% next year at its Taimyr operations, the miner said on Tuesday."),
                 story("b", "CORRECTED-Nornickel to raise palladium output by 6%", "Nornickel plans to raise palladium output by 6% next year at its Taimyr operations, the miner said on Tuesday.", hours=2), "reprint", id="correction"),
    pytest.param(story("a", "Nornickel to raise palladium output next year at Taimyr", "Nornickel plans to raise palladium output next year at its Taimyr operations in Arctic Siberia, the miner said on Tuesday."),
                 story("b", "Nornickel to raise palladium output next year at Taimyr - Mining Weekly", hours=1), "reprint", id="title-only-feed"),
    pytest.param(story("a", "Kazakhstan resumes gallium output after a decade", "Kazakhstan resumed gallium output at the Pavlodar aluminium smelter after a ten-year pause, the operator said on Monday."),
                 replace(story("b", "Kazakhstan resumes gallium output after a decade - The Times of Central Asia", hours=1), source="The Times of Central Asia"), "reprint", id="google-news-copy"),
    pytest.param(story("a", "Gallium"), story("b", "Gallium prices climb on export curbs", "Gallium prices in Rotterdam climbed for a third week after new export curbs.", hours=2), None, id="very-short-title"),
    pytest.param(story("a", "Gallium"), story("b", "Gallium", hours=2), None, id="two-one-word-titles"),
    pytest.param(story("a", "Gallium price assessment"), story("b", "Gallium price assessment", hours=24), None, id="recurring-column"),
    pytest.param(story("a", "UK to ban exports of antimony to Russia"), story("b", "UK to ban exports of antimony to Russia", hours=6), "reprint", id="syndicated-headline-naming-one-thing"),
    pytest.param(story("a", "UK to ban exports of antimony to Russia"), replace(story("b", "UK to ban exports of antimony to Russia", hours=24), source="source of a"), None, id="one-outlets-headline-again"),
    pytest.param(story("a", "UK to ban exports of antimony to Russia"), story("b", "UK to ban exports of antimony to Belarus", hours=6), None, id="syndicated-template-other-country"),
    pytest.param(story("a", "Kazatomprom signs uranium supply deal with Cameco", "Kazatomprom agreed to supply Cameco with 5 million pounds of uranium concentrate between 2027 and 2031, the Kazakh producer said."),
                 story("b", "Cameco secures Kazakh uranium in 5 million-pound deal", "Canadian miner Cameco will buy 5 million pounds of uranium from Kazakhstan's state producer Kazatomprom over five years from 2027.", hours=9), "same-event", id="same-event-rewrite"),
    pytest.param(story("a", "China bans exports of gallium, germanium, antimony to US", "China on Tuesday banned exports to the United States of gallium, germanium and antimony, key materials for chips, a day after Washington's latest curbs on its chip sector."),
                 story("b", "Beijing halts shipments of critical minerals to United States in chip war retaliation", "China has blocked sales of gallium, germanium and antimony to the US, the commerce ministry said, hitting back at new American curbs on semiconductor exports.", hours=2), "same-event", id="outlets-own-headline-verbs"),
    pytest.param(story("a", "Japan's Mitsubishi to begin procuring gallium in Kazakhstan", "Mitsubishi Corp. will begin procuring gallium from Aluminium of Kazakhstan this year, its first supply of the metal from Central Asia."),
                 story("b", "Mitsubishi taps Kazakhstan for gallium, hedging against China", "Japanese trading house Mitsubishi Corp. has struck a deal to buy gallium from Aluminium of Kazakhstan, reducing its reliance on Chinese supply.", hours=10), "same-event", id="outlets-own-headline-verbs-2"),
    pytest.param(story("a", "Kazatomprom signs uranium supply deal with Cameco", "Kazatomprom agreed to supply Cameco with 5 million pounds of uranium concentrate between 2027 and 2031."),
                 story("b", "Kazatomprom signs uranium supply deal with Cameco", "Kazatomprom agreed to supply Cameco with 5 million pounds of uranium concentrate between 2027 and 2031.", hours=24 * 20), None, id="outside-window"),
    pytest.param(story("a", "Gallium price assessment, December 1", PRICE.format(day="December 1", low=251, high=271)),
                 story("b", "Gallium price assessment, December 2", PRICE.format(day="December 2", low=254, high=272), hours=24), None, id="daily-report-other-date"),
    pytest.param(story("a", "Market close: Shanghai copper rises", CLOSE.format(moved="rose 1.1%", day="Monday")),
                 story("b", "Market close: Shanghai copper falls", CLOSE.format(moved="fell 0.4%", day="Tuesday"), hours=24), None, id="market-close-other-weekday"),
    pytest.param(story("a", "Antimony trioxide prices, 2026-12-01, Rotterdam warehouse"),
                 story("b", "Antimony trioxide prices, 2026-12-02, Rotterdam warehouse", hours=24), None, id="title-only-report-other-digits-date"),
    pytest.param(story("a", "Market close: Shanghai copper rises", CLOSE.format(moved="rose 1.1%", day="Monday")),
                 story("b", "Market close: Shanghai copper rises", CLOSE.format(moved="rose 1.1%", day="Monday (December 1)"), hours=2), "same-event", id="copy-adds-the-date"),
    pytest.param(story("a", "Shanghai copper rises as traders weigh property demand", CLOSE.format(moved="rose 1.1%", day="the day")),
                 story("b", "Shanghai copper falls as traders weigh property demand", CLOSE.format(moved="fell 0.4%", day="the day"), hours=24), None, id="market-close-the-other-way"),
    pytest.param(story("a", "Shanghai copper rises as traders weigh property demand", CLOSE.format(moved="rose 1.1%", day="the day")),
                 story("b", "Shanghai copper climbs as traders weigh property demand", CLOSE.format(moved="climbed 1.1%", day="the day"), hours=1), "reprint", id="copy-with-another-verb-the-same-way"),
    pytest.param(story("a", "Kazakhstan resumes gallium output after a decade", "December 1, 2026 — Kazakhstan resumed gallium output at the Pavlodar aluminium smelter after a ten-year pause, the operator said."),
                 story("b", "Kazakhstan resumes gallium output after a decade", "Dec 2, 2026 | Kazakhstan resumed gallium output at the Pavlodar aluminium smelter after a ten-year pause, the operator said.", hours=20), "reprint", id="reprint-under-its-own-date-stamp"),
    pytest.param(story("a", "Mitsubishi opens gallium recycling plant in Japan", "Mitsubishi Corp. opened a gallium recycling plant in Japan that can recover 10 tonnes a year from scrap."),
                 story("b", "Mitsubishi closes gallium recycling plant in Japan", "Mitsubishi Corp. closed a gallium recycling plant in Japan that could recover 10 tonnes a year from scrap.", hours=30), None, id="the-plant-opens-then-closes"),
    pytest.param(story("a", "China to curb gallium exports from August 1", "China will restrict exports of gallium and germanium from August 1 to protect national security, the commerce ministry said on Monday."),
                 story("b", "Beijing restricts gallium and germanium shipments", "Exporters of gallium and germanium will need licences from Aug. 1, China's commerce ministry announced on Tuesday, citing national security concerns.", hours=10), "same-event", id="same-event-told-on-other-days"),
    # names that are common words (a people, a country) tell two deals apart where their
    # title's capitals show them and its lead names them too
    pytest.param(story("a", "Mitsubishi Corp to buy lithium from Australian miner", "Mitsubishi Corp has agreed to buy lithium from Australian miner Pilbara Minerals under a five-year offtake deal."),
                 story("b", "Mitsubishi Corp to buy copper from Chilean miner", "Mitsubishi Corp has agreed to buy copper from Chilean miner Codelco under a five-year offtake deal.", hours=3), None, id="one-firms-deals-with-a-common-name"),
    pytest.param(story("a", "Mitsubishi Corp To Buy Lithium From Australian Miner", "Mitsubishi Corp has agreed to buy lithium from Australian miner Pilbara Minerals under a five-year offtake deal."),
                 story("b", "Mitsubishi Corp To Buy Copper From Chilean Miner", "Mitsubishi Corp has agreed to buy copper from Chilean miner Codelco under a five-year offtake deal.", hours=3), None, id="title-case-names-by-the-leads-capitals"),
    pytest.param(story("a", "Sojitz To Buy Stake In Kazakh Gallium Plant", "Japan's Sojitz will buy a 20% stake in a gallium plant in Pavlodar run by ERG, the company said on Monday."),
                 story("b", "Sojitz To Acquire Stake In Kazakh Gallium Plant", "Sojitz Corp agreed to acquire a fifth of ERG's gallium plant in Pavlodar, it announced on Monday.", hours=3), "same-event", id="title-case-verbs-are-no-names"),
    pytest.param(story("a", "Mitsubishi Corp to buy gallium from smelter in Kazakhstan", "Mitsubishi Corp and Sojitz will jointly buy gallium from ERG's Pavlodar plant, the firms said on Monday."),
                 story("b", "Mitsubishi Corporation to buy gallium from smelter in Kazakhstan", "Mitsubishi Corporation and Sojitz agreed to buy gallium produced at ERG's plant in Pavlodar, the two companies announced.", hours=3), "same-event", id="a-firms-legal-form-is-no-name"),
    # an abbreviation written with dots and without (U.K., UK) is one word
    pytest.param(story("a", "U.K. to ban exports of antimony to Russia"),
                 story("b", "UK to ban exports of antimony to Russia", hours=1), "reprint", id="title-only-abbreviation-dotted-or-not"),
    pytest.param(story("a", "E.U. agrees to stockpile gallium and germanium"),
                 story("b", "EU agrees to stockpile gallium and germanium", hours=1), "reprint", id="title-only-abbreviation-and-two-names"),
    pytest.param(story("a", "Gallium export curbs announced by Beijing", "China's commerce ministry said on Friday it would restrict exports of gallium and germanium from January."),
                 story("b", "Gallium export curbs announced by China", "China's commerce ministry said on Friday it would restrict exports of gallium and germanium from January.", hours=1), "reprint", id="reprint-retitled-with-a-name-its-copy-has"),
]  # fmt: skip


@pytest.mark.parametrize(("a", "b", "level"), PAIRS)
def test_pair_decisions(a: Story, b: Story, level: str | None) -> None:
    forward = compare(fingerprint(a), fingerprint(b), SETTINGS)
    backward = compare(fingerprint(b), fingerprint(a), SETTINGS)
    assert forward.level == level, forward.reason
    assert backward.level == level  # decisions are symmetric


def test_a_title_case_name_is_read_from_its_lead_past_the_leads_first_word() -> None:
    """The lead of a title-case headline may begin with its name: that tells nothing, but
    the name written with its capital later, within a sentence, does."""
    title = "Mitsubishi Corp To Buy Lithium From Australian Miner"
    lead = "Australian miner Pilbara will sell lithium to Mitsubishi, the Australian firm said."
    named = fingerprint(story("a", title, lead)).title_specific
    assert named >> title.split().index("Australian") & 1
    first_only = fingerprint(story("b", title, "Australian miner Pilbara sells lithium."))
    assert not first_only.title_specific >> title.split().index("Australian") & 1


def test_reworded_headlines_swap_only_names_their_leads_repeat() -> None:
    """Two headlines in other words align words of their own (an outlet's verb): where
    titles share less than half their wording, a swap counts only for words each story's
    lead repeats, as it does the names the story is about."""
    a = fingerprint(
        story(
            "a",
            "Tajikistan antimony heads to Japan under Hanwa contract",
            "Hanwa Co. will import antimony concentrate from Tajikistan for three years.",
        )
    )
    b = fingerprint(
        story(
            "b",
            "Bolivia strikes antimony pact with Osaka's Hanwa",
            "Hanwa Co. agreed to buy antimony concentrate from Bolivia for three years.",
        )
    )
    titles = (a.title, b.title, a.terms, b.terms, a.title_specific, b.title_specific)
    assert slot_swaps(*titles, a.lead, b.lead) == ["tajikistan/bolivia"]
    assert slot_swaps(*titles) == []  # no lead: no word recurs
    same = fingerprint(story("c", "Tajikistan antimony heads to Japan under Sojitz contract"))
    assert slot_swaps(
        a.title, same.title, a.terms, same.terms, a.title_specific, same.title_specific
    ) == ["hanwa/sojitz"]  # the same wording: no lead needed


@pytest.mark.parametrize(
    ("a", "b", "swapped"),
    [
        pytest.param("prices on monday", "prices on tuesday", ["monday/tuesday"], id="weekday"),
        pytest.param("assessed december 1", "assessed december 2", ["december 1/december 2"], id="month-day"),
        pytest.param("assessed 1 dec.", "assessed 2nd dec.", ["december 1/december 2"], id="day-month"),
        pytest.param("gallium was assessed on dec 31 in rotterdam", "gallium was assessed on jan 1 in rotterdam", ["december 31/january 1"], id="month-too"),
        pytest.param("prices 2026-12-01 rotterdam", "prices 2026-12-02 rotterdam", ["2026-12-01/2026-12-02"], id="iso"),
        pytest.param("prices 01.12.2026 rotterdam", "prices 02.12.2026 rotterdam", ["01.12.2026/02.12.2026"], id="dotted"),
        pytest.param("цены на галлий 1 декабря не изменились", "цены на галлий 2 декабря не изменились", ["december 1/december 2"], id="russian-date"),
        pytest.param("цены на галлий в среду не изменились", "цены на галлий в пятницу не изменились", ["wednesday/friday"], id="russian-weekday"),
        pytest.param("12月1日镓价格持稳，成交清淡", "12月2日镓价格持稳，成交清淡", ["december 1/december 2"], id="chinese-date"),
        pytest.param("１２月１日镓价格持稳，成交清淡", "１２月３日镓价格持稳，成交清淡", ["december 1/december 3"], id="full-width-digits"),
        pytest.param("星期一镓价格持稳，成交清淡", "星期二镓价格持稳，成交清淡", ["monday/tuesday"], id="chinese-weekday"),
        pytest.param("月曜日のガリウム価格は横ばい", "火曜日のガリウム価格は横ばい", ["monday/tuesday"], id="japanese-weekday"),
        pytest.param("prices 2026-12-01 rotterdam", "prices 2026-12-1 rotterdam", [], id="one-date-written-two-ways"),
        pytest.param("prices on monday", "prices on december 1", [], id="a-weekday-and-a-date-may-be-one-day"),
        pytest.param("output rose 8% on monday", "output rose 6% on monday", [], id="a-number-is-no-day"),
        pytest.param("output of 12 tonnes in may", "output of 14 tonnes in may", [], id="no-day-of-the-month"),
        pytest.param("between 2027 and 2031", "between 2028 and 2031", [], id="years-are-no-day"),
        pytest.param("china curbs gallium exports said on monday", "beijing ministry announces licences for metal on tuesday", [], id="other-words"),
    ],
)  # fmt: skip
def test_day_swaps(a: str, b: str, swapped: list[str]) -> None:
    """The days two texts in one wording name in the same place, where they differ."""
    assert day_swaps(a, b) == swapped
    assert day_swaps(b, a) == _turned(swapped)


@pytest.mark.parametrize(
    ("a", "b", "swapped"),
    [
        pytest.param("copper futures rose 1.1% on the day", "copper futures fell 0.4% on the day", ["rose/fell"], id="verbs"),
        pytest.param("gallium prices up 2% in rotterdam", "gallium prices down 1% in rotterdam", ["up/down"], id="up-down"),
        pytest.param("china raises gallium export quota for the year", "china cuts gallium export quota for the year", ["raises/cuts"], id="policy"),
        pytest.param("镓价格上涨，成交清淡", "镓价格下跌，成交清淡", ["价格上涨/下跌"], id="chinese"),
        pytest.param("鎵價格上漲，成交清淡", "鎵價格下跌，成交清淡", ["價格上漲/下跌"], id="traditional-chinese"),
        pytest.param("copper futures rose 1.1% on the day", "copper futures climbed 1.1% on the day", [], id="the-same-way"),
        pytest.param("copper futures rose 1.1% on the day", "copper futures were flat on the day", [], id="no-move-is-no-other-way"),
        pytest.param("gallium rose while germanium fell", "gallium fell while germanium rose", ["rose/fell", "fell/rose"], id="each-the-other-way"),
        pytest.param("mitsubishi opens gallium recycling plant in japan", "mitsubishi closes gallium recycling plant in japan", ["opens/closes"], id="open-close"),
        pytest.param("sojitz wins bid for kazakh tungsten mine", "sojitz loses bid for kazakh tungsten mine", ["wins/loses"], id="win-lose"),
        pytest.param("china bans gallium exports to the us", "china lifts curbs on gallium exports to the us", ["bans/lifts"], id="ban-lift"),
        pytest.param("china tightens gallium export curbs for us firms", "china eases gallium export curbs for us firms", ["tightens/eases"], id="tighten-ease"),
        pytest.param("japan imports gallium from kazakhstan", "japan exports gallium to kazakhstan", ["imports/exports"], id="import-export"),
        pytest.param("sojitz posts first-half profit on metals", "sojitz posts first-half loss on metals", ["profit/loss"], id="profit-loss"),
        pytest.param("kazatomprom starts uranium output at new mine", "kazatomprom begins uranium output at new mine", [], id="another-word-for-one-side"),
        pytest.param("copper rose on supply fears in asia trade", "miners said lower grades hurt output this quarter", [], id="other-words"),
    ],
)  # fmt: skip
def test_opposite_swaps(a: str, b: str, swapped: list[str]) -> None:
    """Where texts in one wording tell opposites."""
    assert opposite_swaps(a, b) == swapped
    assert opposite_swaps(b, a) == _turned(swapped)


@pytest.mark.parametrize(
    ("a", "b", "swapped"),
    [
        pytest.param("kazakhstan to build gallium plant in pavlodar", "kazakhstan scraps plan to build gallium plant in pavlodar", ["-/scraps"], id="scraps-plan"),
        pytest.param("kazakhstan to build gallium plant in pavlodar", "kazakhstan will not build gallium plant in pavlodar", ["-/not"], id="will-not"),
        pytest.param("sojitz to buy stake in kazakh gallium producer", "sojitz denies report it will buy stake in kazakh gallium producer", ["-/denies"], id="denies-report"),
        pytest.param("japan and kazakhstan sign gallium pact", "japan and kazakhstan fail to sign gallium pact", ["-/fail"], id="fail-to"),
        pytest.param("казахстан построит завод галлия в павлодаре", "казахстан не построит завод галлия в павлодаре", ["-/не"], id="russian"),
        pytest.param("哈萨克斯坦镓工厂项目启动", "哈萨克斯坦镓工厂项目取消", ["-/取消"], id="chinese"),
        pytest.param("カザフスタン、ガリウム生産を開始", "カザフスタン、ガリウム生産を開始せず", ["-/ない"], id="japanese-negation-last"),
        pytest.param("カザフスタン、ガリウム工場を建設", "カザフスタン、ガリウム工場の建設を見送り", ["-/見送"], id="japanese-shelved-last"),
        pytest.param("哈萨克斯坦镓项目启动", "哈萨克斯坦镓项目启动延期", ["-/延期"], id="chinese-postponed-last"),
        pytest.param("哈萨克斯坦将建设镓工厂", "哈萨克斯坦不会建设镓工厂", ["-/不会"], id="chinese-will-not"),
        pytest.param("中国出口镓至日本", "中国不再出口镓至日本", ["-/不再"], id="chinese-no-longer"),
        pytest.param("中国限制镓出口", "中国不限制镓出口", ["-/不"], id="chinese-bu-alone"),
        pytest.param("哈萨克斯坦建设镓工厂", "哈萨克斯坦不建设镓工厂", ["-/不"], id="chinese-bu-joined"),
        pytest.param("日本批准镓出口", "日本没有批准镓出口", ["-/没有"], id="chinese-meiyou"),
        pytest.param("中国镓出口持续增长", "中国镓出口不断增长", [], id="chinese-budaun-continuously"),
        pytest.param("未来五年镓需求增长", "将来五年镓需求增长", [], id="chinese-weilai-future"),
        pytest.param("カザフスタン、ガリウム生産を開始", "カザフスタン、ガリウム生産を開始した", [], id="japanese-past"),
        pytest.param("kazakhstan will not build gallium plant in pavlodar", "kazakhstan won't build gallium plant in pavlodar", [], id="both-reverse"),
        pytest.param("kazakhstan to build gallium plant in pavlodar", "kazakhstan plans to build a gallium plant in pavlodar", [], id="no-reversal"),
        pytest.param("japan did not approve gallium export licences", "japan didn't approve gallium export licences", [], id="contraction"),
        pytest.param("kazakhstan has not approved gallium plant", "kazakhstan hasn't approved gallium plant", [], id="contraction-has"),
        pytest.param("kazakhstan approved gallium plant", "kazakhstan hasn't approved gallium plant", ["-/hasn't"], id="contraction-reverses"),
        pytest.param("gallium output not affected by floods", "gallium output unaffected by floods", [], id="not-x-unx"),
        pytest.param("gallium plant plan isn't clear after vote", "gallium plant plan is unclear after vote", [], id="isnt-x-unx"),
        pytest.param("gallium output affected by floods", "gallium output unaffected by floods", [], id="unx-alone-is-no-reversal"),
        pytest.param("gallium output affected by floods", "gallium output not affected by floods", ["-/not"], id="not-x-alone"),
        pytest.param("gallium plant opens in pavlodar", "gallium plant opens in pavlodar after delays", [], id="added-at-the-end"),
        pytest.param("sojitz gallium deal signed", "sojitz gallium deal cancelled", ["-/cancelled"], id="replaced-at-the-end"),
        pytest.param("kazakhstan made 30 tonnes of gallium", "kazakhstan made not less than 30 tonnes of gallium", [], id="not-less-than"),
        pytest.param("china says it plans to curb gallium exports", "china says it has no plans to curb gallium exports", ["-/no"], id="no-plans"),
        pytest.param("sojitz supplies gallium to japanese chipmakers", "sojitz stops supplying gallium to japanese chipmakers", ["-/stops"], id="stops"),
        pytest.param("japan approves gallium export licence for sojitz", "japan has yet to approve gallium export licence for sojitz", ["-/yet"], id="yet-to"),
        pytest.param("kazakhstan gallium output rises yet exports fall", "kazakhstan gallium output rises but exports fall", [], id="yet-as-but"),
        pytest.param("sojitz to buy stake in kazakh gallium producer", "sojitz unlikely to buy stake in kazakh gallium producer", ["-/unlikely"], id="unlikely"),
        pytest.param("japan's no 1 gallium buyer signs deal", "japan's top gallium buyer signs deal", [], id="number-one"),
        pytest.param("у казахстана есть планы экспорта галлия в китай", "у казахстана нет планов экспорта галлия в китай", ["-/нет"], id="russian-no"),
        pytest.param("казахстан произвел 30 тонн галлия", "казахстан произвел не менее 30 тонн галлия", [], id="не-менее"),
        pytest.param("mitsubishi buys gallium scrap in japan", "mitsubishi buys gallium in japan", [], id="scrap-the-metal"),
        pytest.param("kazakhstan restarts gallium plant", "kazakhstan restarts suspended gallium plant", [], id="an-adjective"),
        pytest.param("sojitz revives gallium deal with erg", "sojitz revives failed gallium deal with erg", [], id="failed-deal"),
        pytest.param("kazakhstan opens gallium plant in pavlodar", "kazakhstan gallium plant in pavlodar delayed again", [], id="reworded"),
        pytest.param("kazakhstan to build gallium plant", "officials in astana did not comment on the metals market today", [], id="other-words"),
        pytest.param("sojitz agrees to buy stake in erg gallium plant", "sojitz pulls out of deal to buy stake in erg gallium plant", ["-/pulls"], id="pulls-out"),
        pytest.param("казахстан экспортирует галлий в японию", "казахстан прекратил экспорт галлия в японию", ["-/прекратил"], id="russian-stopped"),
        pytest.param("erg запустит производство галлия в павлодаре", "erg отложила запуск производства галлия в павлодаре", ["-/отложила"], id="russian-postponed"),
        pytest.param("проект по добыче лития в казахстане одобрен", "проект по добыче лития в казахстане отклонен", ["-/отклонен"], id="russian-rejected"),
        pytest.param("минпромстрой сообщил о сделке erg по галлию", "минпромстрой опроверг сообщения о сделке erg по галлию", ["-/опроверг"], id="russian-denied"),
        pytest.param("mitsubishi signs lithium supply deal with sqm", "mitsubishi calls off lithium supply deal with sqm", ["-/calls"], id="calls-off"),
        pytest.param("sojitz backs lynas rare earths expansion", "sojitz backs out of lynas rare earths expansion", ["-/backs out"], id="backs-out"),
        pytest.param("glencore to buy stake in kazakh gallium project", "glencore walks away from stake in kazakh gallium project", ["-/walks"], id="walks-away"),
        pytest.param("kazakhstan calls for gallium deal with china", "kazakhstan calls on china for gallium deal", [], id="calls-on"),
    ],
)  # fmt: skip
def test_reversal_swaps(a: str, b: str, swapped: list[str]) -> None:
    """Where one of two texts in one wording reverses what the other tells: the plan's end,
    a denial, a failure, not the plan told again."""
    assert reversal_swaps(a, b) == swapped
    assert reversal_swaps(b, a) == _turned(swapped)


def test_a_reversal_at_the_end_of_a_lead_cut_short_is_none_in_any_script() -> None:
    """Leads are compared cut short: one outlet's may end in "... but did not" where the
    other's ends a word before. At a title's end, a reversal is one (项目取消)."""
    a = "mitsubishi will import gallium from kazakhstan but did"
    b = a + " not"
    assert reversal_swaps(a + " today", b + " today") == ["-/not"]
    assert reversal_swaps(a, b, cut=True) == []
    japanese = "三菱商事はカザフスタンからガリウムを輸入"
    assert reversal_swaps(japanese, japanese + "せず") == ["-/ない"]
    assert reversal_swaps(japanese, japanese + "せず", cut=True) == []


def test_a_plan_and_its_reversal_in_the_same_wording_are_other_news() -> None:
    """A title-only story of a plan, then one of its end in the same wording, were one news
    item (the same specific words): the reversal, the bigger news, alerted no one."""
    index = ClusterIndex(SETTINGS)
    plan = index.add(story("a", "Kazakhstan to build gallium plant in Pavlodar"))
    scrapped = index.add(
        story("b", "Kazakhstan scraps plan to build gallium plant in Pavlodar", hours=5)
    )
    again = index.add(
        story("c", "Kazakhstan to build gallium plant in Pavlodar, says ERG", hours=6)
    )
    assert scrapped.cluster != plan.cluster and "the opposite (scraps/-)" in scrapped.reason
    assert again.cluster == plan.cluster, again.reason


def test_a_japanese_report_that_a_plan_is_off_is_other_news() -> None:
    """Japanese negates a verb in the hiragana after it, which the words of a text left
    out: "Mitsubishi to start gallium output in Kazakhstan" and "... not to start ...",
    with leads as alike, were one news item, and the second alerted no one."""
    index = ClusterIndex(SETTINGS)
    lead = "三菱商事は7日、カザフスタンのERGと組み、パブロダルでガリウムの生産を年内に開始すると発表した。"
    first = index.add(story("a", "三菱商事、カザフスタンでガリウム生産を開始", lead))
    again = index.add(story("b", "三菱商事、カザフスタンでガリウム生産を開始", lead, hours=1))
    off = index.add(story(
        "c", "三菱商事、カザフスタンでガリウム生産を開始せず",
        "三菱商事は8日、カザフスタンのERGと組み、パブロダルでガリウムの生産を年内に開始しないと発表した。",
        hours=5,
    ))  # fmt: skip
    assert again.cluster == first.cluster, again.reason
    assert off.cluster != first.cluster and "the opposite (ない/-)" in off.reason, off.reason


def test_a_negation_spelt_another_way_is_the_same_news() -> None:
    """One outlet's "did not" is another's "didn't", one's "not likely" another's
    "unlikely": the same news item, which the contraction, read as no negation, split in
    two alerts as "the opposite (not/-)"."""
    index = ClusterIndex(SETTINGS)
    first = index.add(story("a", "Japan did not approve gallium export licences, sources say"))
    later = [
        index.add(story("b", "Japan didn't approve gallium export licences, sources say", hours=1)),
        index.add(story("c", "Japan not likely to approve gallium export licences", hours=2)),
        index.add(story("d", "Japan unlikely to approve gallium export licences", hours=3)),
    ]
    assert later[0].cluster == first.cluster, later[0].reason
    assert later[2].cluster == later[1].cluster, later[2].reason
    opposite = index.add(story("e", "Japan approved gallium export licences, sources say", hours=4))
    assert opposite.cluster != first.cluster, opposite.reason


def _turned(swaps: Iterable[str]) -> list[str]:
    """Swaps as the other story's side gives them: "monday/tuesday" as "tuesday/monday"."""
    return ["/".join(reversed(swap.split("/"))) for swap in swaps]


def test_a_pair_is_decided_alike_whichever_story_comes_first() -> None:
    """difflib's alignment of two texts depends on which comes first; the name, day and move
    checks read one alignment either way, so a pair's decision, and the clusters of
    `watcher dedupe`, do not depend on the order of the stories."""
    rng = random.Random(5)
    words = ["copper", "gallium", "hanwa", "bolivia", "prices", "rose", "fell", "up", "down", "not", "scraps", "on", "monday", "tuesday", "december", "dec", "jan", "1", "2", "12", "2026", "01", "02", "the", "in", "as", "traders", "weighed"]  # fmt: skip
    for _ in range(30_000):
        text = [rng.choice(words) for _ in range(rng.randint(3, 12))]
        a, b = " ".join(text), " ".join(_edited(rng, text, words))
        for swaps in (day_swaps, opposite_swaps, reversal_swaps):
            assert sorted(swaps(a, b)) == sorted(_turned(swaps(b, a))), (swaps.__name__, a, b)
    for n in range(300):  # and whole decisions, names too
        title = [rng.choice(words) for _ in range(rng.randint(3, 8))]
        lead = [rng.choice(words) for _ in range(rng.randint(8, 30))]
        first = fingerprint(story(f"a{n}", " ".join(title), " ".join(lead)))
        second = fingerprint(story(f"b{n}", " ".join(_edited(rng, title, words)),
                                   " ".join(_edited(rng, lead, words)), hours=1))  # fmt: skip
        forward = compare(first, second, SETTINGS, explain=True)
        backward = compare(second, first, SETTINGS, explain=True)
        assert forward.level == backward.level, (first, second)
        assert set(forward.slot_swaps) == set(_turned(backward.slot_swaps)), (first, second)


def _edited(rng: random.Random, text: list[str], words: list[str]) -> list[str]:
    edited = list(text)
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(edited))
        roll = rng.random()
        if roll < 0.5:
            edited[at] = rng.choice(words)
        elif roll < 0.75:
            edited.insert(at, rng.choice(words))
        elif len(edited) > 1:
            del edited[at]
    return edited


def test_a_daily_report_alerts_every_day() -> None:
    """A week of one outlet's daily price assessment, each in the wording of the day before
    with its own date and figures, is seven news items, not one that alerts once."""
    index = ClusterIndex(SETTINGS)
    days = [
        story(f"d{day}", f"Gallium price assessment, December {day}",
              PRICE.format(day=f"December {day}", low=250 + day, high=270 + day), hours=24 * day)
        for day in range(1, 8)
    ]  # fmt: skip
    placed = [index.add(day) for day in days]
    assert [p.level for p in placed] == [None] * 7, [p.reason for p in placed]
    assert len({p.cluster for p in placed}) == 7
    assert [p.reason for p in placed[:3]] == [  # the closest report, the day before
        "new",
        "kept apart from d1: the same wording about another day (december 2/december 1)",
        "kept apart from d2: the same wording about another day (december 3/december 2)",
    ]


def test_why_names_the_story_a_news_item_was_kept_apart_from(tmp_path: Path) -> None:
    """A subscriber alerted twice asks why the second report started a news item of its
    own: `why` said only "this story started it", not which story it was kept from."""
    items = "".join(
        f"<item><title>Gallium price assessment, December {day}</title><link>https://p.test/"
        f"{day}</link><description>{PRICE.format(day=f'December {day}', low=250, high=270 + day)}"
        f"</description><pubDate>{day:02d} Dec 2026 09:00:00 GMT</pubDate></item>"
        for day in (1, 2)
    )
    feed = tmp_path / "prices.xml"
    feed.write_text(f'<?xml version="1.0"?><rss version="2.0"><channel><title>P</title>{items}'
                    "</channel></rss>")  # fmt: skip
    config = tmp_path / "watcher.yaml"
    config.write_text(f"state: w.db\nfeeds:\n  - name: Prices\n    url: {feed.as_uri()}\n"
                      "subscribers:\n  - name: a\n    console: true\n")  # fmt: skip
    assert watcher("--config", str(config), "once").returncode == 0
    first = watcher("--config", str(config), "why", "https://p.test/1").stdout
    second = watcher("--config", str(config), "why", "https://p.test/2").stdout
    assert "          this story started it\n" in first, first
    first_id = first.split()[1]
    assert (
        f"          this story started it: kept apart from {first_id}: the same wording about "
        "another day (december 2/december 1)\n" in second
    ), second


@pytest.mark.parametrize(("a", "b", "level"), PAIRS)
def test_the_window_decides_pairs_as_compare_does_without_wordfreq(
    a: Story, b: Story, level: str | None
) -> None:
    prints = fingerprint(a), fingerprint(b)  # made in the parse pool, where wordfreq is
    term_weight.cache_clear()
    index = ClusterIndex(SETTINGS)
    index.add_fingerprint(prints[0])
    second = index.add_fingerprint(prints[1])
    assert second.level == level, second.reason
    assert term_weight.cache_info().misses == 0  # the window never asked wordfreq


def test_a_pair_is_scored_in_full_when_a_shared_term_was_counted_only_in_part() -> None:
    """A story is scored in full against the window unless its shared specific terms were
    all counted: a long posting list is scanned only from its newest `max_postings` slots."""
    a, _, _ = next(p.values for p in PAIRS if p.id == "same-event-rewrite")
    b = story("b", "Kazatomprom and Cameco sign uranium deal", hours=3)  # 3 specific terms
    index = ClusterIndex(replace(SETTINGS, max_postings=2))
    first = index.add(a)
    for n, topic in enumerate(("price report", "market wrap", "weekly digest")):
        assert index.add(story(f"f{n}", f"Uranium {topic}", hours=1 + n / 10)).level is None
    second = index.add(b)  # a is counted for Kazatomprom and Cameco, but not for uranium
    assert (second.level, second.cluster) == ("same-event", first.cluster), second.reason


def test_thresholds_come_from_settings() -> None:
    a, b, _ = next(p.values for p in PAIRS if p.id == "same-event-rewrite")
    assert (
        compare(fingerprint(a), fingerprint(b), replace(SETTINGS, same_event_terms=9)).level is None
    )


def test_fixture_set_is_clustered_exactly() -> None:
    stories = read_stories(FIXTURE)
    result = score(cluster_batch(stories, SETTINGS), labels(FIXTURE))
    assert (result.pair_precision, result.pair_recall, result.bcubed_f1) == (1.0, 1.0, 1.0)


def test_partition_does_not_depend_on_input_order() -> None:
    stories = read_stories(FIXTURE)
    expected = cluster_batch(stories, SETTINGS)
    rng = random.Random(7)
    for _ in range(10):
        rng.shuffle(stories)
        assert cluster_batch(stories, SETTINGS) == expected


def test_a_story_linking_two_clusters_merges_them() -> None:
    index = ClusterIndex(SETTINGS)
    lead = "Kazatomprom agreed to supply Cameco with 5 million pounds of uranium concentrate between 2027 and 2031."
    first = index.add(story("a", "Kazatomprom signs uranium supply deal with Cameco", lead))
    other = index.add(story("b", "Uranium", "", hours=1))
    assert first.cluster != other.cluster
    bridge = index.add(
        story(
            "c",
            "Kazatomprom signs uranium supply deal with Cameco",
            lead,
            hours=2,
            link="https://news.test/b",
        )
    )
    assert bridge.cluster == first.cluster and bridge.merged == (other.cluster,)
    assert index.cluster_for("b") == first.cluster


def test_a_reprint_under_its_own_headline_is_found_by_a_lead_that_names_one_thing() -> None:
    # a lead of common words but one name: no two specific terms to be found by
    lead = (
        "Presidents from across South America gathered in Montevideo on Friday to discuss"
        " regional trade and new roads."
    )
    index = ClusterIndex(SETTINGS)
    first = index.add(story("a", "Leaders meet in Montevideo on trade", lead))
    second = index.add(story("b", "Summit opens with a call for unity", lead, hours=3))
    assert (second.level, second.cluster) == ("reprint", first.cluster), second.reason


def test_a_headline_in_full_width_letters_and_digits_is_a_reprint_of_its_ascii_twin() -> None:
    """Japanese outlets write the same headline with full-width digits and Latin letters
    (`ＥＲＧ　年産３０トン`) or ASCII ones: read apart, `３０` and `30` were other numbers, a
    conflict, and the two stories two news items, two alerts. A feed's text is read with
    them as ASCII."""
    from tests.feedserver import rss
    from watcher.parse import parse_feed

    titles = ["ＥＲＧ、ガリウム工場を建設　年産３０トン", "ERG、ガリウム工場を建設 年産30トン"]
    stories = [
        parse_feed(rss([f"<item><title>{title}</title><link>https://{n}.test/1</link></item>"]),
                   feed=f"f{n}", fetched_at=T0).stories[0]
        for n, title in enumerate(titles)
    ]  # fmt: skip
    assert [s.title for s in stories] == [titles[1]] * 2
    assert len(set(cluster_batch(stories, SETTINGS).values())) == 1


def test_a_russian_name_in_another_case_is_no_other_name() -> None:
    """Russian declines a name, and one outlet's wording puts it in another case than the
    other's ("начнет экспорт галлия" / "начнет экспортировать галлий"): read as other names
    (галлия/галлий), a reprint was another news item, another alert. Another name in the
    same wording (галлий/сурьму) still is."""
    lead = "Казахстан в следующем году начнет {} в Японию, сообщило министерство промышленности."
    index = ClusterIndex(SETTINGS)
    one = index.add(story("a", "Казахстан начнет экспорт галлия в Японию",
                          lead.format("экспорт галлия")))  # fmt: skip
    two = index.add(story("b", "Казахстан начнет экспортировать галлий в Японию",
                          lead.format("экспортировать галлий"), hours=1))  # fmt: skip
    other = index.add(story("c", "Казахстан начнет экспортировать сурьму в Японию",
                            lead.format("экспортировать сурьму"), hours=2))  # fmt: skip
    assert (two.level, two.cluster) == ("reprint", one.cluster), two.reason
    assert other.cluster != one.cluster and "(сурьму/галлий)" in other.reason, other.reason


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Mitsubishi закупит галлий у Казахстана", "Mitsubishi закупит галлий в Казахстане"),
        ("Завод ERG в Павлодаре выпустил первую тонну галлия",
         "Завод ERG в Павлодаре выпустил первую тонну галлий"),
    ],
)  # fmt: skip
def test_a_short_russian_headline_told_in_other_cases_is_one_news_item(
    first: str, second: str
) -> None:
    """A short Russian title is weighed as English, every word of it specific: its
    prepositions у and в were other names, and a name in another case a title word the
    other story lacked."""
    index = ClusterIndex(SETTINGS)
    one = index.add(story("a", first))
    two = index.add(story("b", second, hours=1))
    assert (two.level, two.cluster) == ("reprint", one.cluster), two.reason


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Sojitz halts lithium shipments from Argentina",
         "Sojitz halted lithium shipments from Argentina after floods"),
        ("Kazakhstan bans antimony exports to China", "Kazakhstan banned antimony exports to China"),
        ("Sojitz signs rare earths deal with Lynas", "Sojitz signed rare earth deals with Lynas"),
    ],
)  # fmt: skip
def test_a_headline_in_another_tense_or_number_is_one_news_item(first: str, second: str) -> None:
    """A word's stem was its first six letters, so a short word's endings made other terms:
    "halts" and "halted" were two names (the same wording about other names), "bans" and
    "banned" a title word the other lacked, and an outlet's headline in the past tense
    another news item, another alert."""
    index = ClusterIndex(SETTINGS)
    one = index.add(story("a", first))
    two = index.add(story("b", second, hours=1))
    assert two.cluster == one.cluster, two.reason


def test_an_english_terms_key_drops_its_inflection_and_begins_as_its_word() -> None:
    for forms in ("ban bans banned banning", "close closes closed closing", "taxes tax",
                  "ship ships shipped", "halt halts halted halting", "nestlé nestle",
                  "agree agrees agreed", "bill bills", "class classes"):  # fmt: skip
        assert len({term_key(word) for word in forms.split()}) == 1, forms
    for word in ("banned", "closes", "shipped", "gallium", "exporting", "lynas", "nestle"):
        assert word.startswith(term_key(word)), word  # recall finds a word by its key
    assert len({term_key(w) for w in ("bans", "bank", "bass", "bus", "is", "king")}) == 6


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Актюбинский завод Королёва начнёт выпуск галлия",
         "Актюбинский завод Королева начнет выпуск галлия"),
        ("ЁМКОСТЬ ХРАНИЛИЩА ГАЛЛИЯ ВЫРОСЛА", "ЕМКОСТЬ ХРАНИЛИЩА ГАЛЛИЯ ВЫРОСЛА"),
        ("China requires export licences for gallium and germanium shipped to Japan",
         "China requires export licenses for gallium and germanium shipped to Japan"),
        ("Kazakh sulphuric acid plant ships 30 tonnes of gallium to Sojitz",
         "Kazakh sulfuric acid plant ships 30 tons of gallium to Sojitz"),
        ("Sojitz opens a favourably placed gallium centre in Pavlodar",
         "Sojitz opens a favorably placed gallium center in Pavlodar"),
        ("Nestlé and Eramet sign lithium supply deal in São Paulo",
         "Nestle and Eramet sign lithium supply deal in Sao Paulo"),
        ("＜独自＞双日がカザフスタンでレアアース開発", "双日がカザフスタンでレアアース開発"),
        ("【速報】三菱商事、カザフスタン産ガリウムを輸入へ", "三菱商事、カザフスタン産ガリウムを輸入へ"),
        ("WATCH: ERG to triple gallium output by 2027", "ERG to triple gallium output by 2027"),
        ("ERG to triple gallium output by 2027 [VIDEO]", "ERG to triple gallium output by 2027"),
        ("Kazakhstan to invest $1.5bn in gallium plant",
         "Kazakhstan to invest $1.5 billion in gallium plant"),
        ("Kazakhstan to invest $1.5B in gallium plant",
         "Kazakhstan to invest $1.5 billion in gallium plant"),
    ],
)  # fmt: skip
def test_a_headline_spelled_either_way_is_one_news_item(first: str, second: str) -> None:
    """Russian writes ё, or е for it, British English licence and sulphur where American
    writes license and sulfur, and an outlet in ASCII São Paulo as Sao Paulo, as each
    outlet chooses: read apart, Королёв and Королев (licence and license, São and Sao)
    were other names, and the twin headline another news item, another alert. So was a
    Japanese headline under a label (＜独自＞, exclusive; 【速報】, breaking news), and an
    English one with the form its outlet gives the news (WATCH:, [VIDEO]), and a sum
    written `$1.5bn` against `$1.5 billion` (1.5bn, an unknown word, was a name)."""
    index = ClusterIndex(SETTINGS)
    one = index.add(story("a", first))
    two = index.add(story("b", second, hours=1))
    assert (two.level, two.cluster) == ("reprint", one.cluster), two.reason


def test_a_sum_written_with_its_scale_is_still_its_own_number() -> None:
    """`$2.5bn` is read as 2.5, as `$2.5 billion` is: another sum than 1.5 billion."""
    index = ClusterIndex(SETTINGS)
    one = index.add(story("a", "Kazakhstan to invest $1.5 billion in gallium plant"))
    two = index.add(story("b", "Kazakhstan to invest $2.5bn in gallium plant", hours=1))
    assert two.cluster != one.cluster, two.reason


def test_headlines_of_other_news_over_one_notice_are_no_reprints() -> None:
    # a notice the outlet runs atop every story, in stories of separate polls (a body that
    # gives it to two entries loses it in the parse)
    notice = (
        "This article is only available to subscribers. Sign up for a free trial to read the"
        " full story on our website."
    )
    titles = [
        "Gallium prices hit record as China curbs exports",
        "Toyota recalls 40,000 cars over brake fault",
        "Election results delayed in three states",
    ]
    stories = [story(f"s{i}", title, notice, hours=i) for i, title in enumerate(titles)]
    index = ClusterIndex(SETTINGS)
    assert len({index.add(s).cluster for s in stories}) == 3
    score = compare(fingerprint(stories[1]), fingerprint(stories[0]), SETTINGS)
    assert (score.level, score.reason) == (
        None, "leads 100.0% alike, but neither title has a word of the other story"
    )  # fmt: skip
    # a headline that tells of the lead makes a reprint of the other, however it is worded
    again = story("again", "Gallium prices soar", notice + " Gallium rose 8% on Monday.", hours=4)
    assert compare(fingerprint(again), fingerprint(stories[0]), SETTINGS).level == "reprint"


def test_a_story_is_found_by_an_earlier_reprint_whose_lead_was_cut_short() -> None:
    # the earlier copy's lead, cut short, names two of the five things the full one names
    lead = (
        "Harlow Mining said on Monday its Kestrel mine in Queensland would close for three"
        " weeks after flooding damaged the haul roads."
    )
    index = ClusterIndex(SETTINGS)
    first = index.add(story("cut", "Quarterly update from the company", lead[:48] + "…"))
    full = index.add(
        story("full", "Harlow shuts Kestrel coal mine in Queensland after floods", lead, hours=2)
    )
    assert (full.level, full.cluster) == ("reprint", first.cluster), full.reason


def test_of_many_leads_that_begin_alike_only_the_newest_are_scored() -> None:
    """A site may open every summary alike ("The company said on Tuesday that..."): the
    stories under one beginning are scanned as a term's, the newest `max_postings`."""
    settings = replace(SETTINGS, max_postings=5)
    index = ClusterIndex(settings)
    opening = "Officials said on Monday that the plan for the "
    ends = [  # of common words, which name nothing (no specific term)
        "road would go ahead once the money has been found", "school would have to wait",
        "new park was too costly and should be put off", "bridge was to be looked at again",
        "station had been turned down by the city", "market would move to the old square",
        "centre was ready and could open in the spring", "hospital was still on course",
    ]  # fmt: skip
    for i, end in enumerate(ends):
        index.add(story(f"s{i}", f"Plan number {i}", f"{opening}{end}.", hours=i))
    late = story("late", "Yet another plan", f"{opening}{ends[0]}.", hours=9)
    row = index._row(fingerprint(late))
    assert index._candidates_of(row)[0] == [3, 4, 5, 6, 7]  # s0, its copy, is too old
    assert index.add(late).level is None


def test_a_story_with_a_lead_finds_one_without_under_its_headline() -> None:
    """A story whose lead is too short to compare is a reprint by its title, which shares
    two specific words: it is a candidate of one with a lead, which would need three. A
    headline of eleven Chinese characters is too short for a title's key."""
    title = "中国对镓锗实施出口管制"
    short = story("short", title, "本报讯（记者 王明）记者昨日从有关方面获悉。")
    full = story(
        "full", title, "中国商务部宣布，自八月一日起对镓和锗相关物项实施出口管制，以维护国家安全和利益。",
        hours=2,
    )  # fmt: skip
    assert compare(fingerprint(full), fingerprint(short), SETTINGS).level == "reprint"
    index = ClusterIndex(SETTINGS)
    first, second = index.add(short), index.add(full)
    assert (second.level, second.cluster) == ("reprint", first.cluster), second.reason


def test_same_event_terms_below_two_picks_candidates_sharing_that_many() -> None:
    one = replace(SETTINGS, same_event_terms=1)
    port = story(
        "port", "Port strike halts grain and coal",
        "Dock workers at the port walked out on Monday over pay, stopping grain and coal for"
        " a second week as talks with employers broke down.",
    )  # fmt: skip
    dock = story(
        "dock", "Dock workers strike over pay",
        "Workers at the port stopped work on Monday in a dispute over pay, and grain and coal"
        " were held up while talks with employers broke down again.",
        hours=5,
    )  # fmt: skip
    assert compare(fingerprint(dock), fingerprint(port), one).specific_shared == 1
    index = ClusterIndex(one)
    first, second = index.add(port), index.add(dock)
    assert (second.level, second.cluster) == ("same-event", first.cluster), second.reason


HEADLINE_WORDS = [
    "update",
    "talks",
    "plan",
    "deal",
    "output",
    "prices",
    "market",
    "rises",
    "falls",
    "week",
    "report",
    "officials",
    "new",
    "firm",
    "group",
    "supply",
    "says",
    "sees",
    "cuts",
]
OWN_STORIES = (  # leads that name little, and headlines too short for a title's key
    ("Regional ministers meet", "Ministers from across the region met in the capital on"
     " Friday to discuss trade and new roads between their countries."),
    ("Rates on hold", "The central bank kept interest rates on hold on Thursday and said it"
     " would watch wages before its next move."),
    ("Retailer's shares fall", "Shares of the retailer fell sharply after the company said"
     " sales over the holiday season had been weaker than it had hoped."),
    ("双日、豪レアアース鉱山に出資", "双日は、豪州のレアアース鉱山に出資し、日本向けに年間数千トン"
     "の供給を受けると発表した。"),
    ("中国对镓锗实施出口管制", "中国商务部宣布，自八月一日起对镓和锗相关物项实施出口管制，"
     "以维护国家安全和利益。"),
)  # fmt: skip


def reprinted(rng: random.Random, original: Story, n: int) -> Story:
    """A copy as another outlet runs it: its own headline or none, a dateline, the lead cut
    short at a word, published within a day."""
    title = rng.choice([
        original.title, "", f"{original.title} - Other Outlet",
        " ".join(rng.sample(HEADLINE_WORDS, rng.randint(3, 7))).capitalize(),
    ])  # fmt: skip
    words = clean_lead(original.summary, original.title).split()
    if len(words) > 6 and rng.random() < 0.5:
        words = words[: rng.randint(6, len(words))]
    elif len(words) == 1 and rng.random() < 0.5:  # Chinese or Japanese: cut at a character
        words = [words[0][: rng.randint(10, len(words[0]))]]
    summary = " ".join(words) + rng.choice(["", "…", " [...]"])
    if rng.random() < 0.3:
        summary = f"CAPITAL (Wire) -- {summary}"
    return replace(
        original, id=f"copy{n}", title=title, summary=summary, link=f"https://copy.test/{n}",
        guid=None, source="Other Outlet", published=original.published
        + timedelta(hours=rng.uniform(-20, 20)),
    )  # fmt: skip


@pytest.mark.parametrize("seed", range(6))
def test_the_window_links_every_reprint_pair_that_scoring_all_pairs_links(seed: int) -> None:
    """The index picks candidates; scoring every pair must not link more."""
    rng = random.Random(seed)
    settings = replace(SETTINGS, max_span=None, max_postings=1 << 30)
    own = [story(f"own{i}", title, lead, hours=i) for i, (title, lead) in enumerate(OWN_STORIES)]
    originals = [*read_stories(FIXTURE), *own]
    stories = [*originals, *(reprinted(rng, rng.choice(originals), n) for n in range(40))]
    stories.sort(key=lambda s: (s.published, s.id))
    prints = [fingerprint(s) for s in stories]
    parent = list(range(len(stories)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for j, later in enumerate(prints):
        for i in range(j):
            if compare(later, prints[i], settings).level is not None:
                parent[root(i)] = root(j)
    index = ClusterIndex(settings)
    placed = [index.add(s).cluster for s in stories]
    clusters = [index.current(c) for c in placed]
    for i, j in pairwise(sorted(range(len(stories)), key=root)):
        if root(i) == root(j):
            assert clusters[i] == clusters[j], (stories[i].id, stories[j].id)
    assert len(set(clusters)) == len({root(i) for i in range(len(stories))})


def test_candidates_are_picked_not_scanned() -> None:
    index = ClusterIndex(SETTINGS)
    rng = random.Random(1)
    for i in range(2000):
        words = " ".join(f"w{rng.randrange(10**6)}" for _ in range(8))
        index.add(story(f"s{i}", f"Story {words}", f"Lead {words}", hours=i / 100))
    probe = fingerprint(
        story("p", "Kazatomprom signs uranium supply deal", "Nothing shared here at all.", hours=20)
    )
    assert index._candidates_of(index._row(probe))[0] == []


def test_expire_forgets_old_stories() -> None:
    index = ClusterIndex(SETTINGS)
    index.add(story("old", "Kazatomprom signs uranium supply deal with Cameco", hours=0))
    index.add(story("new", "Antimony price climbs", hours=100))
    assert index.expire((T0 + timedelta(hours=50)).timestamp()) == 1
    assert index.cluster_for("old") is None and index.cluster_for("new") is not None


def test_expiry_leaves_the_index_a_fresh_start_would_build() -> None:
    """Expiry compacts the window in place; what is left is what an index built from the
    kept stories alone holds, each story restored in the cluster it ended in."""
    rng = random.Random(3)
    names = ["Kazatomprom", "Sojitz", "Tajikistan", "Rotterdam", "Hunan", "Cameco", "Bolivia"]
    rare = ["".join(rng.choices("bdgklmnprstvz", k=3)).capitalize() + "ova" for _ in range(120)]
    index, prints = ClusterIndex(SETTINGS), []
    for i in range(400):
        a, b, c = rng.sample(names, 3)
        made = story(
            f"{i:024x}" if i % 5 else f"odd-{i}",  # hex ids are packed, others kept aside
            f"{a} {b} {c} {rare[rng.randrange(120)]} update {rng.randrange(40)}",
            f"{a} and {b} said on day {rng.randrange(9)} that output in {c} grew again.",
            hours=rng.uniform(0, 200),  # slots are not in order of publication
            link=f"https://news.test/{rng.randrange(300)}",  # shared links merge clusters
            guid=f"g-{rng.randrange(300)}" if i % 3 else None,
        )
        prints.append(fingerprint(made))
        index.add_fingerprint(prints[-1])
    assert index._merged  # clusters were merged before expiry
    before = (T0 + timedelta(hours=100)).timestamp()
    fresh = ClusterIndex(SETTINGS, next_cluster=index.next_cluster)
    clusters = {fp.id: index.cluster_for(fp.id) for fp in prints}
    starts: dict[int | None, float] = {}  # as the store gives them: a cluster's first story
    for fp in prints:
        starts[clusters[fp.id]] = min(starts.get(clusters[fp.id], fp.published), fp.published)
    for fp in prints:
        if fp.published >= before:
            fresh.add_fingerprint(fp, clusters[fp.id], starts[clusters[fp.id]])
    assert any(began < before for began in fresh._began)  # some began with expired stories
    assert index._lowered  # merges lowered some clusters' first stories
    assert index.expire(before) == 400 - len(fresh) > 100
    assert _worded_state(index) == _worded_state(fresh)
    assert all(index._words[term] == word for word, term in index._vocab.items())
    for fp in prints:  # and it finds the same candidates for any story, kept or not
        assert index._candidates_of(index._row(fp))[0] == fresh._candidates_of(fresh._row(fp))[0]
    assert index.expire(before) == 0


def _worded_state(index: ClusterIndex) -> dict[str, object]:
    """`_index_state` with terms as words: after expiry the kept terms keep their order,
    where a fresh start numbers them in order of first use."""
    state, words = _index_state(index), index._words
    state["_term_ids"] = [words[term] for term in index._term_ids]
    state["_vocab"] = state["_words"] = sorted(words)
    postings = enumerate(state["_postings"])  # type: ignore[arg-type]
    state["_postings"] = {words[term]: slots for term, slots in postings if slots is not None}
    return state


def _index_state(index: ClusterIndex) -> dict[str, object]:
    """Everything the index holds, as plain values (a slot table as its live entries)."""

    def plain(value: object) -> object:
        if isinstance(value, StoryIds):
            return [value[slot] for slot in range(len(value))]
        if isinstance(value, SlotTable):
            return sorted((k, s) for k, s in zip(value._keys, value._slots, strict=True) if s >= 0)
        if isinstance(value, list | array):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    return {name: plain(v) for name, v in vars(index).items() if not name.startswith("_undo")}


def test_story_ids_are_kept_packed_or_as_they_are() -> None:
    ids = StoryIds()
    made = ["67ee183094ecbfee032bf8e2", "a", "83ca66b11362285104690ad4", "67ee183094ecbfee032bf8e2"]
    for story_id in [*made, "ABCDEF0123456789abcdef01"]:
        ids.append(story_id)
    assert [ids[slot] for slot in range(len(ids))] == [*made, "ABCDEF0123456789abcdef01"]
    assert ids.last("67ee183094ecbfee032bf8e2") == 3 and ids.last("a") == 1
    assert ids.last("000000000000000000000000") is None  # an odd id's zero filler is no id
    assert ids.pop() == "ABCDEF0123456789abcdef01" and ids.pop() == made[3] and len(ids) == 3
    assert ids.last("67ee183094ecbfee032bf8e2") == 0


def test_the_window_compares_text_beyond_ascii() -> None:
    index = ClusterIndex(SETTINGS)
    lead = "Die Bundesregierung prüft Lieferverträge für Gallium aus Kasachstan, sagte Müller am Dienstag."
    first = index.add(story("a", "Gallium: Bundesregierung prüft Verträge mit Kasachstan", lead))
    again = index.add(
        story("b", "UPDATE: Gallium: Bundesregierung prüft Verträge mit Kasachstan", lead, hours=1)
    )
    assert (again.cluster, again.level) == (first.cluster, "reprint")
    assert index.cluster_for("b") == first.cluster


# A topic covered day after day, written for these tests: each story links the one before
# (same-event), and the fourth is news of its own (Kazakh supply deals) about the same metals.
SAGA = [
    ("d0", "China puts export licences on gallium and germanium",
     "Beijing will require exporters of gallium and germanium, two metals used in chips and "
     "solar panels, to apply for licences from August, the commerce ministry said on Monday."),
    ("d2", "Gallium prices jump as China's export licences loom",
     "Prices of gallium and germanium in Rotterdam rose by a fifth this week as buyers rushed "
     "to secure the chip metals before China's export licences take effect."),
    ("d4", "Chinese gallium exports dry up under licence rules",
     "China shipped no gallium or germanium abroad last month, customs data showed, the first "
     "full month of the commerce ministry's export licences on the chip metals."),
    ("d6", "Germanium buyers turn to Kazakhstan as China's gallium licences bite",
     "Chipmakers short of gallium and germanium after China's export licences are signing "
     "supply deals in Kazakhstan, where a smelter restarted gallium output."),
]  # fmt: skip


def saga(*hours: float) -> list[Story]:
    return [
        story(sid, title, lead, hours=h)
        for (sid, title, lead), h in zip(SAGA[: len(hours)], hours, strict=True)
    ]


def test_coverage_linking_day_after_day_is_a_new_news_item_after_max_span() -> None:
    stories = saga(0, 50, 100, 150)
    prints = [fingerprint(s) for s in stories]
    for a, b in pairwise(prints):  # each links the one before
        assert compare(b, a, SETTINGS).level == "same-event"
    assert SETTINGS.max_span == 72 * 3600
    assert set(cluster_batch(stories, SETTINGS).items()) == {
        ("d0", "d0"),
        ("d2", "d0"),
        ("d4", "d4"),
        ("d6", "d4"),
    }  # d4 came 100 h after d0, the first story of the news item d2 had joined
    chained = cluster_batch(stories, replace(SETTINGS, max_span=None))
    assert set(chained.values()) == {"d0"}  # as before max_span: one alert in six days
    index = ClusterIndex(SETTINGS)
    first, _ = index.add(stories[0]), index.add(stories[1])
    started = index.add(stories[2])
    assert started.level is None
    assert started.cluster != first.cluster and started.matched == "d2"
    assert started.reason == "its news item began 100.0 h before, beyond clustering.max_span 72 h"


def test_a_reprint_joins_its_story_however_long_ago_the_news_item_began() -> None:
    """max_span holds same-event links only: a reprint, or a story of the same link, is the
    story it repeats, and goes where that story went. A same-event link to another cluster
    counts only while the news item it would end in began within max_span."""
    d0, d2, d4 = saga(0, 50, 100)
    index = ClusterIndex(SETTINGS)
    old, _, new = index.add(d0), index.add(d2), index.add(d4)
    assert new.level is None  # d4: 100 h after d0
    reprint = story("r2", f"UPDATE: {d2.title}", f"ROTTERDAM (Wire) -- {d2.summary}", hours=101)
    joined = index.add(reprint)  # a reprint of d2 (old's), as alike d4 as d2 is
    assert (joined.cluster, joined.level, joined.matched) == (old.cluster, "reprint", "d2")
    assert joined.merged == () and index.cluster_for("d4") == new.cluster
    moved = index.add(story("m4", "Gallium seen elsewhere", hours=130, link=d4.link))
    assert (moved.cluster, moved.level) == (new.cluster, "exact")


def test_a_restored_window_knows_when_its_clusters_began(tmp_path: Path) -> None:
    """A cluster's first story may be older than the window read on start (a chain of
    stories placed before max_span, or with a longer one): the store says when it began."""
    d0, d2, d4, d6 = (replace(s, feed="f") for s in saga(0, 70, 140, 145))
    clock = FakeClock(T0 + timedelta(hours=146))
    store = Store(tmp_path / "w.db")
    unlimited, later = replace(SETTINGS, max_span=None), replace(SETTINGS, max_span=100 * 3600)
    placed = Clusterer(store, unlimited, clock).cluster(save(store, d0, d2, d4))
    assert len({c.assignment.cluster for c in placed}) == 1  # a chain over 140 h
    restarted = Clusterer(store, later, clock)
    restarted.load()
    assert restarted.index.cluster_for("d0") is None  # before the window: 2 x 72 h
    (d6_placed,) = restarted.cluster(save(store, d6))  # 145 h after d0, 5 h after d4
    assert d6_placed.starts_cluster and d6_placed.assignment.matched == "d4"
    store.close()


def test_a_news_item_begun_for_max_span_follows_the_story_it_linked(tmp_path: Path) -> None:
    d0, d2, d4 = (replace(s, feed="f", guid=f"tag:news.test,2026:{s.id}") for s in saga(0, 50, 100))
    store = Store(tmp_path / "w.db")
    clusterer = Clusterer(store, SETTINGS, FakeClock(T0 + timedelta(hours=101)))
    first, _, later = clusterer.cluster(save(store, d0, d2, d4))
    assert store.cluster(first.assignment.cluster).follows is None
    assert store.cluster(later.assignment.cluster).follows == d2
    # an entry under d2's link and d4's guid: one news item after all, following nothing
    bridge = story("x", "Gallium roundup", hours=100.5, link=d2.link, guid=d4.guid)
    (joined,) = clusterer.cluster(save(store, replace(bridge, feed="f")))
    assert joined.assignment.merged == (later.assignment.cluster,)
    assert store.cluster(joined.assignment.cluster).follows is None
    store.close()


def test_rollback_takes_back_the_stories_and_merges_since_begin() -> None:
    index = ClusterIndex(SETTINGS)
    index.add(story("a", "Copper smelter opens in Peru", link="https://news.test/same"))
    index.add(story("b", "Gallium prices climb in Rotterdam", hours=1, guid="g-1"))
    before = _index_state(index)
    links_both = story("c", "Zinc output falls", hours=2, link="https://news.test/same", guid="g-1")
    index.begin()
    assert index.add(links_both).merged  # a's and b's clusters become one
    index.add(story("d", "Antimony price climbs in Hunan as Kazakh exports stall", hours=3))
    index.add(story("a", "Copper smelter opens in Peru", link="https://news.test/same"))
    index.add(story("e", "Tin output falls", hours=-5, guid="g-1"))  # an earlier first story
    lead = "Presidents from across South America gathered in Montevideo on Friday."
    index.add(story("f", "Summit opens", lead, hours=4))  # kept under its lead's beginning
    index.rollback()
    assert _index_state(index) == before
    assert index.cluster_for("a") != index.cluster_for("b")
    index.begin()
    again = index.add(links_both)
    index.commit()
    assert again.merged and index.cluster_for("b") == index.cluster_for("a")


# -- the service's window, persisted --------------------------------------------------------


def save(store: Store, *stories: Story) -> list[Story]:
    store.sync_feeds([FeedConfig(name="f", url="https://f.test/", interval=600)])
    return store.record_poll(store.feed_state("f"), stories)


def test_clusters_persist_and_a_late_reprint_joins_after_restart(tmp_path: Path) -> None:
    stories = {s.id: replace(s, feed="f") for s in read_stories(FIXTURE)}
    clock = FakeClock(datetime(2026, 3, 4, tzinfo=UTC))
    store = Store(tmp_path / "w.db")
    clusterer = Clusterer(store, SETTINGS, clock)
    clusterer.load()
    first = clusterer.cluster(save(store, stories["tw-pd"], stories["aw-pd"], stories["tw-u"]))
    assert [c.starts_cluster for c in first] == [True, False, True]
    store.close()

    store = Store(tmp_path / "w.db")
    clusterer = Clusterer(store, SETTINGS, clock)
    clusterer.load()
    (late,) = clusterer.cluster(save(store, stories["dm-pd"]))
    assert (
        late.assignment.cluster == first[0].assignment.cluster
        and late.assignment.level == "reprint"
    )
    (fresh,) = clusterer.cluster(save(store, stories["aw-sb-tj"]))
    assert fresh.starts_cluster and fresh.assignment.cluster not in {
        c.assignment.cluster for c in first
    }
    cluster = store.cluster(first[0].assignment.cluster)
    assert cluster.lead.id == "tw-pd"
    assert cluster.sources == ("Test Wire", "Asia Wire", "Daily Metal")


def _clustered_in_batches(db: Path, batches: list[list[Story]], restart: bool) -> list[set[str]]:
    """The partition of the batches' stories, each batch clustered as a poll's new stories
    at five minutes past its newest: in one window (expired before each batch, as the
    prune does), or in a window rebuilt from the database before each (a restart)."""
    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    store = Store(db)
    clusterer = Clusterer(store, SETTINGS, clock)
    clusterer.load()
    for batch in batches:
        clock.now = max(clock.now, max(s.published for s in batch) + timedelta(minutes=5))
        if restart:
            store.close()
            store = Store(db)
            clusterer = Clusterer(store, SETTINGS, clock)
            clusterer.load()
        else:
            clusterer.expire()
        clusterer.cluster(save(store, *batch))
    rows = store.db.execute("SELECT id, cluster_id FROM stories").fetchall()
    store.close()
    clusters: dict[int, set[str]] = {}
    for story, cluster in rows:
        clusters.setdefault(cluster, set()).add(story)
    return sorted(clusters.values(), key=min)


@pytest.mark.parametrize("seed", range(4))
def test_a_window_rebuilt_at_every_poll_decides_as_the_one_kept(tmp_path: Path, seed: int) -> None:
    """`watcher run` restarted between any two polls (a deploy, a crash loop) clusters the
    same stories into the same news items as one that ran throughout."""
    stories = sorted(
        (replace(s, feed="f") for s in read_stories(FIXTURE)), key=lambda s: s.published
    )
    rng, batches = random.Random(seed), []
    while stories:
        size = rng.randint(1, 4)
        batches.append(stories[:size])
        stories = stories[size:]
    kept = _clustered_in_batches(tmp_path / "kept.db", batches, restart=False)
    rebuilt = _clustered_in_batches(tmp_path / "rebuilt.db", batches, restart=True)
    assert any(len(c) > 1 for c in kept) and rebuilt == kept


def test_the_window_rebuilt_in_a_process_pool_is_the_window_rebuilt_here(
    tmp_path: Path,
) -> None:
    clock = FakeClock(datetime(2026, 3, 4, tzinfo=UTC))
    store = Store(tmp_path / "w.db")
    Clusterer(store, SETTINGS, clock).cluster(
        save(store, *(replace(s, feed="f") for s in read_stories(FIXTURE)))
    )
    here = Clusterer(store, SETTINGS, clock)
    here.load()
    pooled = Clusterer(store, SETTINGS, clock)
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=spawn) as pool:
        pooled.load(pool)
    assert len(here.index) > 10
    assert _index_state(pooled.index) == _index_state(here.index)
    store.close()


@pytest.mark.parametrize("pooled", [False, True])
def test_the_window_is_rebuilt_a_few_chunks_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pooled: bool
) -> None:
    """Stories read from the store but not yet in the window never pass LOAD_AHEAD + 1
    chunks: a restart does not hold the whole window as stories."""
    from concurrent.futures import ThreadPoolExecutor

    from watcher import clusterer as loading

    monkeypatch.setattr(loading, "LOAD_CHUNK", 2)
    clock = FakeClock(datetime(2026, 3, 4, tzinfo=UTC))
    store = Store(tmp_path / "w.db")
    stories = [replace(s, feed="f") for s in read_stories(FIXTURE)]
    Clusterer(store, SETTINGS, clock).cluster(save(store, *stories))
    clusterer = Clusterer(store, SETTINGS, clock)
    ahead: list[int] = []
    read = store.window_stories

    def counted(since: datetime, **options: int) -> Iterator[WindowRow]:
        for number, row in enumerate(read(since, **options), 1):
            ahead.append(number - len(clusterer.index))
            yield row

    monkeypatch.setattr(store, "window_stories", counted)
    with ThreadPoolExecutor(2) as pool:
        assert clusterer.load(pool if pooled else None) == []
    assert len(ahead) == len(clusterer.index) > 2 * (loading.LOAD_AHEAD + 1)
    assert max(ahead) <= 2 * (loading.LOAD_AHEAD + 1)
    store.close()


def test_the_window_reads_only_the_part_of_a_summary_a_fingerprint_reads(
    tmp_path: Path,
) -> None:
    """A clustered story's summary is read only as far as its fingerprint goes, with the same
    fingerprint; an unclustered one whole, since it is yet to be matched against the rules."""
    long = "Kazakhstan's gallium exports rose again as Sojitz signed for more. " * 100
    clustered = story("a", "Kazakh gallium exports rise", long)
    unclustered = story("b", "Antimony output falls in Hunan", long.upper(), hours=1)
    clock = FakeClock(T0 + timedelta(hours=2))
    store = Store(tmp_path / "w.db")
    (placed,) = Clusterer(store, SETTINGS, clock).cluster(save(store, clustered))
    save(store, unclustered)
    rows = [row[0] for row in store.window_stories(T0, summary_chars=SUMMARY_CHARS)]
    assert [s.summary for s in rows] == [long[:SUMMARY_CHARS], long.upper()]
    loaded = Clusterer(store, SETTINGS, clock)
    assert loaded.load() == [unclustered]
    expected = ClusterIndex(SETTINGS, next_cluster=loaded.index.next_cluster)
    expected.add_fingerprint(fingerprint(clustered), placed.assignment.cluster)
    assert _index_state(loaded.index) == _index_state(expected)
    store.close()


def _pipeline(tmp_path: Path, store: Store, clock: FakeClock, word: str) -> Pipeline:
    """A pipeline over `store` with one rule, `word` (named so), that alerts a console
    subscriber."""
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    (rules_dir / "r.yaml").write_text(f"rules:\n  - name: {word}\n    when: {word}\n")
    live = LiveRules(rules_dir)
    subscribers = [Subscriber(name="s", console=True)]
    return Pipeline(
        store=store, fetcher=Fetcher(PollSettings()), settings=PollSettings(), clock=clock,
        clusterer=Clusterer(store, SETTINGS, clock), rules=live,
        route=lambda m: route(m, {r.name: r for r in live.matcher.ruleset.rules}, subscribers),
    )  # fmt: skip


def test_a_cluster_started_and_merged_away_in_one_batch_keeps_nothing_behind(
    tmp_path: Path,
) -> None:
    """B starts a cluster; C, later in the same poll, shares A's link and B's guid and merges
    B's cluster into A's. Every story, match and alert ends in A's cluster."""
    store = Store(tmp_path / "w.db")
    clock = FakeClock(T0 + timedelta(hours=3))
    pipeline = _pipeline(tmp_path, store, clock, "gallium")
    a = story("a", "Copper smelter opens in Peru", link="https://news.test/same")
    pipeline.settler.settle(save(store, a))
    b = story("b", "Gallium prices climb in Rotterdam", hours=1, guid="g-1")
    c = story("c", "Zinc output falls", hours=2, link="https://news.test/same", guid="g-1")
    clustered, matches = pipeline.settler.settle(save(store, b, c))
    home = pipeline.clusterer.index.cluster_for("a")
    assert [x.assignment.cluster for x in clustered] == [home, home]
    assert [m.cluster for m in matches] == [home]
    assert [s.id for s in store.cluster(home or 0).members] == ["a", "b", "c"]
    assert [(x.subscriber, x.cluster) for x in store.alerts()] == [("s", home)]


def test_later_stories_are_compared_with_a_retitled_story_as_it_is_now(tmp_path: Path) -> None:
    """A developing story's feed gave it a title and summary that name germanium, and it
    alerted; another outlet's story of that news, an hour later, was compared with the
    window's copy of the story as it first came, found nothing alike and alerted again
    (after a restart, which reads the story from the store, it joined)."""
    store = Store(tmp_path / "w.db")
    clock = FakeClock(T0 + timedelta(hours=3))
    pipeline = _pipeline(tmp_path, store, clock, "germanium")
    first = story("a", "Smelter halts output in Belgium", "A smelter near Olen halted its lines.")
    pipeline.settler.settle(save(store, first))
    now = replace(first, title="Umicore's germanium smelter in Olen halts output",
                  summary="Umicore halted its germanium lines at Olen, Belgium, after a fire.")  # fmt: skip
    assert [m.story for m in pipeline.settler.retitle([now], set(), None, clock())] == ["a"]
    other = story("b", "Umicore halts germanium output at Olen after fire", "Umicore halted "
                  "germanium production at its Olen plant in Belgium after a fire, it said.",
                  hours=1)  # fmt: skip
    (placed,), _ = pipeline.settler.settle(save(store, other))
    assert placed.assignment.cluster == pipeline.clusterer.index.cluster_for("a"), placed
    assert len(store.alerts()) == 1


def test_a_story_retitled_at_every_poll_is_logged_at_info_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A feed that writes a price or a count in its titles retitles its stories at every
    poll, and each poll logged each of them at INFO. A story retitled again at its feed's
    next poll is logged at DEBUG; after a poll that leaves it alone, at INFO again."""
    store = Store(tmp_path / "w.db")
    clock = FakeClock(T0 + timedelta(hours=3))
    pipeline = _pipeline(tmp_path, store, clock, "germanium")
    first = story("a", "Gallium price today: $512.40/kg")
    pipeline.settler.settle(save(store, first))
    levels = []
    for price, same in [("513.10", False), ("514.00", False), ("", True), ("515.90", False)]:
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="watcher.pipeline"):
            now = [] if same else [replace(first, title=f"Gallium price today: ${price}/kg")]
            pipeline.settler.retitle(now, set(), None, clock(), feed=first.feed)
        levels.append([r.levelname for r in caplog.records if "story retitled" in r.getMessage()])
    assert levels == [["INFO"], ["DEBUG"], [], ["INFO"]]


def test_the_window_links_one_headline_from_other_outlets_after_it_expires_some() -> None:
    """Outlets that print an agency's headline word for word, naming one specific word, in
    titles-only feeds (a Google News feed's entries) were an alert each. The window keeps
    each story's outlet, through an expiry that moves its slots: the same headline from
    another outlet joins, from its own outlet (a recurring column) it does not."""
    index = ClusterIndex(SETTINGS)
    for n in range(6):  # older stories of b's outlet, expired below, so that the slots move
        index.add(replace(story(f"old{n}", f"Copper smelter {n} restarts in Peru after strike"),
                          source="Daily Gazette"))  # fmt: skip
    headline = "UK to ban exports of antimony to Russia"
    first = index.add(story("a", headline, hours=40))
    again = index.add(replace(story("c", headline, hours=42), source="source of a"))
    assert again.cluster != first.cluster
    assert index.expire((T0 + timedelta(hours=1)).timestamp()) == 6
    other = index.add(replace(story("b", headline, hours=44), source="Daily Gazette"))
    assert other.level == "reprint"
    assert index.cluster_for("b") == index.cluster_for("a") == first.cluster


def test_the_window_holds_a_retitled_story_first_and_last_as_it_was_given() -> None:
    """A story retitled at every poll (a count of comments in its title) grew the window by
    a slot a poll; it holds the first version (a wire's later reprint of it joins) and the
    last, and drops those between at the next expiry."""
    index = ClusterIndex(SETTINGS)
    lead = "Umicore halted its germanium lines at Olen, Belgium, on Monday after a fire broke out."
    first = story("a", "Umicore halts germanium output at Olen", lead)
    cluster = index.add(first).cluster
    for comments in range(1, 6):
        now = replace(first, title=f"Umicore halts germanium output at Olen ({comments} comments)")
        assert index.retitle(fingerprint(now)) == cluster
    assert len(index) == 6 and index.expire(T0.timestamp() - 1) == 0 and len(index) == 2
    reprint = index.add(story("b", "Umicore halts germanium output at Olen", lead, hours=2))
    assert reprint.cluster == cluster and reprint.matched == "a"
    last = index.add(story("c", "Umicore halts germanium output at Olen (5 comments)", hours=3))
    assert last.cluster == cluster
    assert index.retitle(fingerprint(story("z", "Not in the window"))) is None


def test_stories_a_crash_left_unclustered_are_clustered_matched_and_alerted_on_start(
    tmp_path: Path,
) -> None:
    stories = {s.id: replace(s, feed="f") for s in read_stories(FIXTURE)}
    store = Store(tmp_path / "w.db")
    save(store, stories["tw-u"], stories["mr-u"])  # stored, then the process died
    clock = FakeClock(datetime(2026, 3, 6, tzinfo=UTC))
    pipeline = _pipeline(tmp_path, store, clock, "uranium")
    assert pipeline.recover() == 2
    cluster = pipeline.clusterer.index.cluster_for("tw-u") or 0
    assert store.cluster(cluster).sources == ("Test Wire", "Metals Review")
    assert [m.rule for m in store.matches_for(cluster)] == ["uranium"]
    assert [(a.subscriber, a.channel, a.cluster) for a in store.alerts()] == [
        ("s", "console", cluster)
    ]
    assert pipeline.recover() == 0  # settled once


# -- the command line -----------------------------------------------------------------------


def test_dedupe_cli_keeps_input_order_and_any_order_gives_the_same_partition(
    tmp_path: Path,
) -> None:
    lines = FIXTURE.read_text().splitlines()
    shuffled = tmp_path / "shuffled.jsonl"
    shuffled.write_text("\n".join(reversed(lines)) + "\n")
    out = tmp_path / "out.jsonl"
    assert watcher("dedupe", "--input", str(FIXTURE), "--output", str(out)).returncode == 0
    first = [json.loads(line) for line in out.read_text().splitlines()]
    assert [d["id"] for d in first] == [json.loads(line)["id"] for line in lines]
    second = [
        json.loads(line) for line in watcher("dedupe", "--input", str(shuffled)).stdout.splitlines()
    ]
    assert {d["id"]: d["cluster"] for d in first} == {d["id"]: d["cluster"] for d in second}
    assert score({d["id"]: d["cluster"] for d in first}, labels(FIXTURE)).pair_f1 == 1.0


def test_dedupe_explain(tmp_path: Path) -> None:
    result = watcher("dedupe", "explain", "aw-sb-tj", "aw-sb-bo", "--input", str(FIXTURE))
    assert result.returncode == 0
    assert "name swaps           tajikistan/bolivia" in result.stdout
    assert "day swaps            -" in result.stdout
    assert "opposite swaps       -" in result.stdout
    assert "same cluster         no" in result.stdout
    joined = watcher("dedupe", "explain", "tw-pd", "gn-pd", "--input", str(FIXTURE)).stdout
    assert "same cluster         yes" in joined
    itself = watcher("dedupe", "explain", "tw-pd", "tw-pd", "--input", str(FIXTURE))
    assert itself.returncode == 2 and not itself.stdout, itself
    assert "dedupe explain: give two stories, not 'tw-pd' twice" in itself.stderr


def test_dedupe_and_its_explain_keep_to_max_span(tmp_path: Path) -> None:
    path = tmp_path / "saga.jsonl"
    path.write_text("".join(json.dumps(story_json(s)) + "\n" for s in saga(0, 50, 100, 150)))
    placed = [
        json.loads(line) for line in watcher("dedupe", "--input", str(path)).stdout.splitlines()
    ]
    assert [d["cluster"] for d in placed] == ["d0", "d0", "d4", "d4"]
    explained = watcher("dedupe", "explain", "d2", "d4", "--input", str(path)).stdout
    assert "direct link          same-event: 4 specific terms shared" in explained
    assert (
        "same cluster         no: a same-event story joins a news item only within "
        "clustering.max_span (72 h) of its first story" in explained
    )
    path.with_name("watcher.yaml").write_text("clustering: {max_span: off}\n")
    unlimited = watcher(
        "--config", str(path.with_name("watcher.yaml")), "dedupe", "--input", str(path)
    )
    assert {json.loads(line)["cluster"] for line in unlimited.stdout.splitlines()} == {"d0"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(
            '{"id": "a", "title": "T", "published": "2026-01-01T00:00:00Z"}\nnot json\n',
            ":2: invalid JSON",
            id="bad-json",
        ),
        pytest.param(  # RecursionError, with a traceback
            '{"id": "a", "title": "T", "published": "2026-01-01T00:00:00Z"}\n'
            + "[" * 100_000
            + "]" * 100_000
            + "\n",
            ":2: invalid JSON: nested too deeply to read",
            id="nested-too-deep",
        ),
        pytest.param(
            '{"id": "a", "published": "2026-01-01T00:00:00Z"}\n',
            ":1: field 'title' is missing",
            id="missing-title",
        ),
        pytest.param(
            '{"id": "a", "title": "T", "published": "yesterday"}\n',
            ":1: published 'yesterday' is not ISO 8601",
            id="bad-date",
        ),
        pytest.param(  # not 16 MB of it on the terminal
            '{"id": "a", "title": "T", "published": "' + "9" * 100_000 + '"}\n',
            ":1: published '" + "9" * 80 + "…' is not ISO 8601",
            id="long-bad-date",
        ),
        pytest.param(  # valid ISO 8601, but before year 1 in UTC
            '{"id": "a", "title": "T", "published": "0001-01-01T00:00:00+14:00"}\n',
            ":1: published '0001-01-01T00:00:00+14:00' is out of range in UTC",
            id="date-out-of-range",
        ),
        pytest.param(
            '{"id": "a", "title": "T", "published": "2026-01-01T00:00:00Z", "related": "https://x.test/"}\n',
            ":1: field 'related' must be a list of links",
            id="related-not-a-list",
        ),
        pytest.param(  # fingerprints raised TypeError on it, with a traceback
            '{"id": "a", "title": "T", "published": "2026-01-01T00:00:00Z", "guid": ["g"]}\n',
            ":1: field 'guid' must be a string",
            id="guid-a-list",
        ),
        pytest.param(
            '{"id": "a", "title": "T", "published": "2026-01-01T00:00:00Z", "guid": true}\n',
            ":1: field 'guid' must be a string",
            id="guid-true",
        ),
    ],
)
def test_dedupe_input_errors_name_the_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(content)
    result = watcher("dedupe", "--input", str(path))
    assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr


def test_what_ingest_writes_of_an_entry_without_title_text_or_link_is_read_back(
    tmp_path: Path,
) -> None:
    """Such an entry is a story with an empty title, as `ingest` and `stories` write it:
    `dedupe` and `rules test --stories` refused the file ("field 'title' is missing")."""
    feed = tmp_path / "bare.xml"
    feed.write_text(
        '<rss version="2.0"><channel><title>W</title><item><description> </description></item>'
        "<item><title>Tin output</title><link>https://w.test/2</link></item></channel></rss>"
    )
    ingested = watcher("ingest", str(feed))
    assert ingested.returncode == 0, ingested.stderr
    path = tmp_path / "in.jsonl"
    path.write_text(ingested.stdout)
    bare, titled = read_stories(path)
    assert (bare.title, bare.link, titled.title) == ("", "", "Tin output")
    result = watcher("dedupe", "--input", str(path))
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 2, result.stderr


def test_a_numeric_guid_is_read_as_its_digits(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": "a", "title": "T", "published": "2026-01-01T00:00:00Z", "guid": 42}\n')
    (story,) = read_stories(path)
    assert story.guid == "42"
    assert watcher("dedupe", "--input", str(path)).returncode == 0


def test_a_lone_surrogate_in_the_json_is_read_as_a_replacement_character(tmp_path: Path) -> None:
    """`\\ud800` is valid JSON but no character: dedupe raised UnicodeEncodeError on it."""
    path = tmp_path / "in.jsonl"
    path.write_text(
        '{"id": "a", "title": "Tin \\ud800 output", "summary": "x \\udfff", '
        '"published": "2026-01-01T00:00:00Z", "related": ["https://r.test/\\ud800"]}\n'
        '{"id": "b", "title": "Tin \\ud83d\\ude00", "published": "2026-01-01T00:00:00Z"}\n'
    )
    (a, b) = read_stories(path)
    assert (a.title, a.summary, b.title) == ("Tin \ufffd output", "x \ufffd", "Tin \U0001f600")
    assert a.related == ("https://r.test/\ufffd",)
    result = watcher("dedupe", "--input", str(path))
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 2


def test_json_lines_are_split_at_newlines_alone(tmp_path: Path) -> None:
    """JSON holds U+2028, U+2029 and U+0085 unescaped (`json.dumps(ensure_ascii=False)`, as
    `watcher ingest` writes): a story with one in its title was split there, "invalid JSON".
    A byte order mark and CRLF line ends are read too."""
    titles = ["Tin\u2028output", "Gallium\u2029exports", "Lithium\x85deal"]
    lines = [
        json.dumps(
            {"id": str(n), "title": t, "published": "2026-01-01T00:00:00Z"}, ensure_ascii=False
        )
        for n, t in enumerate(titles)
    ]
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    assert [story.id for story in read_stories(path)] == ["0", "1", "2"]
    result = watcher("dedupe", "--input", str(path))
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 3, result.stderr


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_json_lines_in_utf_16_or_32_after_a_byte_order_mark_are_read(
    tmp_path: Path, encoding: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows PowerShell 5 writes `watcher stories --format jsonl > s.jsonl` in UTF-16,
    CRLF line ends: read back by `dedupe` or `rules test --stories`, it was "not UTF-8
    text". Its lines split at "\\n" alone; its too long a line, or one not in its encoding,
    is still an error."""
    titles = ["Tin\u2028output", "Gallium exports", "锗 exports"]
    lines = [
        json.dumps({"id": str(n), "title": t, "published": "2026-01-01T00:00:00Z"},
                   ensure_ascii=False)
        for n, t in enumerate(titles)
    ]  # fmt: skip
    path = _written(tmp_path, ("\r\n".join(lines) + "\r\n").encode(encoding))
    stories = read_stories(path)
    assert [(s.id, s.title) for s in stories] == [
        ("0", "Tin output"), ("1", "Gallium exports"), ("2", "锗 exports"),
    ]  # fmt: skip
    result = watcher("dedupe", "--input", str(path))
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 3, result.stderr
    broken = _written(tmp_path, "\n".join(lines).encode("utf-16") + b"\x00\xd8x\x00", "b.jsonl")
    with pytest.raises(InputError, match=r"b\.jsonl: not UTF-16 text: "):
        read_stories(broken)
    monkeypatch.setattr(jsonl, "MAX_LINE_BYTES", 10)
    with pytest.raises(InputError, match=r"one\.jsonl:1: line longer than"):
        read_stories(path)


def test_a_line_not_utf8_or_too_long_is_that_lines_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Latin-1 line is named by its number (it was the file's byte offset); a line longer
    than the cap stops the reading there, so /dev/zero or a binary file given by mistake
    does not fill the memory (/dev/zero took 6.6 GB in 8 s)."""
    good = b'{"id": "a", "title": "T", "published": "2026-01-01T00:00:00Z"}\n'
    path = tmp_path / "in.jsonl"
    path.write_bytes(good + b'{"id": "b", "title": "Gr\xfcn", "published": "2026-01-01"}\n')
    result = watcher("dedupe", "--input", str(path))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"{path}:2: not UTF-8 text: its byte 25, 0xfc, cannot be read" in result.stderr
    monkeypatch.setattr(jsonl, "MAX_LINE_BYTES", len(good) - 1)  # the newline may pass it
    assert len(read_stories(_written(tmp_path, good))) == 1
    with pytest.raises(InputError, match=r"long\.jsonl:2: line longer than"):
        read_stories(_written(tmp_path, good + b"x" * len(good) * 3, "long.jsonl"))


def _written(folder: Path, content: bytes, name: str = "one.jsonl") -> Path:
    path = folder / name
    path.write_bytes(content)
    return path


def test_shared_corpus_clusters_as_labelled(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    assert (
        watcher("dedupe", "--input", str(corpus / "stories.jsonl"), "--output", str(out)).returncode
        == 0
    )
    predicted = {d["id"]: d["cluster"] for d in map(json.loads, out.read_text().splitlines())}
    truth = labels(corpus / "stories.jsonl")
    for event in ("E1", "E2", "E3"):
        assert len({predicted[i] for i, e in truth.items() if e == event}) == 1, event
    singles = [predicted[i] for i, e in truth.items() if e.startswith("X")]
    assert len(set(singles)) == len(singles)
    assert all(list(predicted.values()).count(c) == 1 for c in singles)
    result = score(predicted, truth)
    assert result.pair_precision == 1.0 and result.pair_recall >= 0.95


def test_an_entry_under_a_stored_guid_is_told_from_an_edit_by_its_text() -> None:
    """The stored story under guid 1, and entries a later poll gives guid 1."""
    stored = story("s1", "Gallium plant opens in Kazakhstan",
                   "The Pavlodar smelter starts gallium output for export to Japan.",
                   link="https://pos.test/gallium", guid="1")  # fmt: skip
    other = replace(stored, title="Antimony mine floods in Bolivia", link="https://pos.test/sb",
                    summary="Rain stopped an antimony pit near Potosi.")  # fmt: skip
    edited = replace(stored, title="Gallium plant opens in Kazakhstan, ahead of plan",
                     link="https://pos.test/gallium-ahead")  # fmt: skip
    column = replace(stored, title="Morning market report", summary="")  # nothing specific
    retagged = replace(column, link="https://pos.test/report?src=rss2")  # a link that varies

    def told(entry: Story, before: Story = stored) -> Story | None:
        return reused_guid(entry, fingerprint(entry), before, SETTINGS)

    new = told(other)
    assert new is not None and new.guid is None and new.id != stored.id
    assert new.id == told(replace(other, summary="Another text")).id  # known by its link
    assert told(edited) is None  # the same text: the stored story, edited
    assert told(retagged, column) is None  # the same title and no text: nothing tells


def test_a_page_retitled_to_tell_the_opposite_is_other_news_under_its_link() -> None:
    """The same page, read by two feeds before and after its outlet retitled it to say the
    plan is off (or to name the opposite action), linked exactly and alerted once; another
    title that tells the same still links."""
    link = "https://wire.test/kz-gallium"
    index = ClusterIndex(SETTINGS)
    plan = index.add(story("a", "Kazakhstan to resume gallium exports to China", link=link))
    off = index.add(story("b", "Kazakhstan scraps plan to resume gallium exports to China",
                          link=link, hours=4))  # fmt: skip
    said = index.add(story("c", "Kazakhstan to resume gallium exports to China, minister says",
                           link=link, hours=5))  # fmt: skip
    assert off.cluster != plan.cluster
    assert off.reason == (
        "kept apart from a: the same wording about the opposite (scraps/-) under the same "
        "canonical link"
    )
    assert said.cluster == plan.cluster and said.level == "exact"
    lifted, imposed = (story(i, f"China {verb} ban on gallium exports to US", guid="g7")
                       for i, verb in (("d", "lifts"), ("e", "imposes")))  # fmt: skip
    score = compare(fingerprint(lifted), fingerprint(imposed), SETTINGS)
    assert score.level is None and score.kept_apart and score.opposite_swaps == ("lifts/imposes",)


def test_an_entry_retitled_to_tell_the_opposite_is_another_story_known_by_link_and_title() -> None:
    stored = story("s1", "Sojitz to buy stake in ERG gallium plant", guid="7",
                   link="https://pos.test/sojitz")  # fmt: skip
    reversed_ = replace(stored, title="Sojitz will not buy stake in ERG gallium plant")

    def told(entry: Story) -> Story | None:
        return reversed_entry(entry, fingerprint(entry), stored)

    new = told(reversed_)
    assert new is not None and new.guid is None and new.link == stored.link
    assert new.id not in (
        stored.id,
        told(replace(reversed_, title=f"{reversed_.title}, ERG says")).id,
    )
    assert new.id == told(replace(reversed_, summary="Another text")).id  # by link and title
    assert told(replace(stored, title="Sojitz to buy stake in ERG gallium plant, ERG says")) is None
    assert told(stored) is None


def test_a_story_a_site_moved_is_known_by_date_title_and_link_up_to_scheme_and_www() -> None:
    def fetched(s: Story, hours: float = 5) -> Story:  # dated by its feed, fetched later
        return replace(s, fetched_at=s.published + timedelta(hours=hours))

    stored = [
        fetched(story("s1", "Gallium plant opens", link="http://u.test/1")),
        fetched(story("s2", "Antimony mine floods", link="https://u.test/2",
                      guid="https://u.test/?p=2", hours=1)),
        fetched(story("s3", "Undated", link="http://u.test/3", hours=2), 0),
    ]  # fmt: skip
    moved = replace(stored[0], id="n1", link="https://www.u.test/1")  # to https and www
    reformed = replace(stored[1], id="n2", guid="2")  # the guid's form changed, the link not
    other_day = replace(moved, id="n3", published=T0 - timedelta(days=1))  # a landing page
    undated = replace(stored[2], id="n4", link="https://u.test/3")
    same_page = replace(moved, id="n6", title="Tin smelter restarts")  # one page, every entry
    unstored = fetched(story("n5", "Tin smelter restarts", link="https://www.u.test/5"))
    found = moved_stories([moved, reformed, other_day, undated, unstored, same_page], stored)
    assert found == {"n1", "n2"}
    assert moved_stories([replace(moved, feed="other")], stored) == set()


def test_a_story_stored_with_a_redirectors_link_is_known_by_the_page() -> None:
    """Stored before links were followed through redirectors, a story of a feed without
    guids (Bing News) comes back with the page's link, so a new id: it is the stored story."""
    bing = "http://www.bing.com/news/apiclick.aspx?tid=9&url=https%3a%2f%2fu.test%2f1%3futm_source%3dbing&c=5"
    stored = [
        replace(story("s1", "Gallium plant opens", link=bing), fetched_at=T0 + timedelta(hours=5))
    ]
    page = replace(stored[0], id="n1", link="https://u.test/1")
    elsewhere = replace(page, id="n2", link="https://u.test/2")
    assert moved_stories([page, elsewhere], stored) == {"n1"}


def test_a_story_stored_with_a_tracking_parameter_since_dropped_is_known_by_its_page() -> None:
    """A guid-less feed's link stored with a parameter links lose now (`?xtor=RSS-3208`,
    which a later watcher drops) gets a new id: it is the stored story, not news again."""
    stored = [
        replace(story("s1", "Gallium plant opens", link="https://u.test/1?xtor=RSS-3208"),
                fetched_at=T0 + timedelta(hours=5))
    ]  # fmt: skip
    page = replace(stored[0], id="n1", link=canonical_url(stored[0].link))
    assert page.link == "https://u.test/1"
    assert moved_stories([page], stored) == {"n1"}


def test_a_link_percent_encoded_and_the_same_link_written_out_are_one_page() -> None:
    """A Google Alerts entry's link, read from the redirector's query, writes the page's
    path out (`/новости/галлий`); the outlet's own feed percent-encodes it: two stories of
    one page, with different titles, were two news items and two alerts."""
    encoded = "https://kapital.kz/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8/%d0%b3%d0%b0?id=7"
    own = story("o1", "Kazakhstan to restart gallium output", link=encoded)
    alert = story(
        "g1", "Gallium smelter in Pavlodar to reopen", link="https://kapital.kz/новости/га?id=7"
    )
    other = story("o2", "Bolivia tin smelter shuts for repairs", link=encoded.replace("7", "8"))
    assert compare(fingerprint(own), fingerprint(alert), SETTINGS).level == "exact"
    assert compare(fingerprint(own), fingerprint(other), SETTINGS).level != "exact"
    clusters = cluster_batch([own, other, alert], SETTINGS)  # through the window
    assert clusters["g1"] == clusters["o1"] != clusters["o2"]


def test_a_host_in_punycode_and_the_same_host_written_out_are_one_page() -> None:
    """A Kazakh or Russian outlet's domain (`пример.рф`) is written out by one feed and in
    punycode (`xn--e1afmkfd.xn--p1ai`) by another, or by a redirector's target: two
    stories of one page were two news items."""
    own = story("o1", "Kazakhstan to restart gallium output", link="https://пример.рф/новости/7")
    alert = story("g1", "Gallium smelter in Pavlodar to reopen",
                  link="https://xn--e1afmkfd.xn--p1ai/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8/7")  # fmt: skip
    other = story("o2", "Bolivia tin smelter shuts for repairs", link="https://пример.рф/новости/8")
    assert compare(fingerprint(own), fingerprint(alert), SETTINGS).level == "exact"
    assert compare(fingerprint(own), fingerprint(other), SETTINGS).level != "exact"
    assert comparable_url("https://xn--zz.test/") == "https://xn--zz.test/"  # no punycode


# -- coverage lists (Google News) -------------------------------------------------------------

# three outlets' headlines of one news item: too few words in common to be linked on text
_HEADLINES = {
    "ga": "China curbs gallium and germanium exports",
    "gb": "Beijing tightens its grip on chip metals",
    "gc": "Export licences now needed for two minor metals, Mofcom says",
}


def listing(sid: str, *others: str, hours: float = 0) -> Story:
    """A title-only story whose entry lists `others` as coverage of the same news."""
    listed = tuple(f"https://news.test/{other}" for other in others)
    return replace(story(sid, _HEADLINES[sid], hours=hours), related=listed)


def test_stories_an_entry_lists_as_coverage_of_its_news_are_one_cluster_in_any_order() -> None:
    unlisted = cluster_batch([listing("ga"), listing("gb"), listing("gc")], SETTINGS)
    assert len(set(unlisted.values())) == 3  # on their text alone, three news items
    siblings = cluster_batch([listing("ga", "gc"), listing("gb", "gc", hours=1)], SETTINGS)
    assert siblings["gb"] == "gb"  # both list one page (a site's own, maybe): nothing said
    stories = [listing("ga", "gb"), listing("gb", hours=1), listing("gc", "ga", hours=2)]
    for order in ([0, 1, 2], [2, 1, 0], [1, 2, 0]):
        clusters = cluster_batch([stories[i] for i in order], SETTINGS)
        assert set(clusters.values()) == {"ga"}
    index = ClusterIndex(SETTINGS)
    index.add(stories[1])
    joined = index.add(stories[0])  # lists the story before it
    assert joined.level == "same-event" and joined.matched == "gb"
    assert joined.reason == "listed together as coverage of one news item"
    assert compare(fingerprint(stories[0]), fingerprint(stories[1]), SETTINGS).listed
    assert not compare(fingerprint(stories[1]), fingerprint(stories[2]), SETTINGS).listed


def test_a_listed_story_beyond_the_window_is_other_news() -> None:
    late = listing("gb", hours=SETTINGS.window / 3600 + 1)
    clusters = cluster_batch([listing("ga", "gb"), late], SETTINGS)
    assert clusters["gb"] == "gb"


def test_a_listing_taken_back_or_expired_with_its_story_links_nothing() -> None:
    index = ClusterIndex(SETTINGS)
    index.add(story("old", "Kazatomprom signs uranium supply deal with Cameco", hours=-100))
    before = _index_state(index)
    index.begin()
    index.add(listing("ga", "gb"))
    index.rollback()
    assert _index_state(index) == before
    assert index.add(listing("gb", hours=1)).reason == "new"
    index = ClusterIndex(SETTINGS)
    index.add(story("old", "Kazatomprom signs uranium supply deal with Cameco", hours=-100))
    first = index.add(listing("ga", "gb"))
    assert index.expire(T0.timestamp()) == 1  # "old" goes; "ga" moves to another slot
    assert index.add(listing("gb", hours=1)).cluster == first.cluster


def test_a_listing_is_stored_and_links_a_story_that_comes_after_a_restart(tmp_path: Path) -> None:
    clock = FakeClock(T0 + timedelta(hours=2))
    store = Store(tmp_path / "w.db")
    clusterer = Clusterer(store, SETTINGS, clock)
    clusterer.load()
    (first,) = clusterer.cluster(save(store, listing("ga", "gb", "gc")))
    store.close()

    store = Store(tmp_path / "w.db")
    assert store.story("ga").related == ("https://news.test/gb", "https://news.test/gc")
    clusterer = Clusterer(store, SETTINGS, clock)
    clusterer.load()
    (late,) = clusterer.cluster(save(store, listing("gc", hours=1)))
    assert late.assignment.cluster == first.assignment.cluster


def test_dedupe_reads_the_links_a_story_lists_and_explains_the_pair(tmp_path: Path) -> None:
    ga, gb = story_json(listing("ga")), story_json(listing("gb", hours=1))
    ga["related"] = ["https://news.test/gb?utm_source=x"]  # made canonical, as links are
    path = tmp_path / "in.jsonl"
    path.write_text(f"{json.dumps(ga)}\n{json.dumps(gb)}\n")
    assert read_stories(path)[0].related == ("https://news.test/gb",)
    out = watcher("dedupe", "--input", str(path)).stdout
    assert [json.loads(line)["cluster"] for line in out.splitlines()] == ["ga", "ga"]
    explained = watcher("dedupe", "explain", "ga", "gb", "--input", str(path)).stdout
    assert "listed together      yes" in explained and "same cluster         yes" in explained


# -- Chinese and Japanese --------------------------------------------------------------------


def test_chinese_and_japanese_runs_are_cut_into_words() -> None:
    """Neither script spaces its words: katakana runs stay whole, hiragana (grammar) goes,
    kanji/hanzi are cut at the words wordfreq lists, other letters stay as they are."""
    assert words_of("三菱商事がカザフスタンでガリウムを調達") == [
        "三菱商事", "カザフスタン", "ガリウム", "調達"
    ]  # fmt: skip
    assert words_of("中国限制镓和锗出口，商务部称") == [
        "中国", "限制", "镓", "和", "锗", "出口", "商务部", "称"
    ]  # fmt: skip
    assert words_of("EV向けリチウム電池") == ["EV", "向", "リチウム", "電池"]
    assert words_of("Gallium café in Almaty") == ["Gallium", "café", "in", "Almaty"]


def test_clustering_reads_as_chinese_or_japanese_every_letter_rules_do() -> None:
    """Kanji of the supplementary planes (𠮟, 𠀋) and katakana's phonetic extensions (ㇰ)
    were Chinese or Japanese to rule matching alone: clustering weighed a word of them by
    English, as a rare name."""
    for letter in ("𠮟", "𠀋", "ㇰ", "镓", "ガ", "が", "ｶ"):
        assert is_unspaced(letter) and is_cjk(letter), letter


@pytest.mark.parametrize(
    ("text", "cut"),
    [
        ("ガリウム生産を開始せず", ["ガリウム", "生産", "開始", "ない"]),
        ("輸出を承認しない", ["輸出", "承認", "ない"]),
        ("輸出を承認しませんでした", ["輸出", "承認", "ない"]),
        ("輸出は認められない", ["輸出", "認", "ない"]),
        ("合意なし", ["合意", "ない"]),
        ("ガリウム生産を開始した", ["ガリウム", "生産", "開始"]),
        ("生産を10トンずつ増加", ["生産", "10", "トン", "増加"]),  # ずつ: each
        ("間もなく開始", ["間", "開始"]),
        ("供給は少ない", ["供給", "少"]),  # few
        ("必ず開始", ["必", "開始"]),  # certainly
        ("まず開始", ["開始"]),  # first
        ("わずかに上昇", ["上昇"]),  # slightly
        ("販売しないため", ["販売", "ない"]),
        ("輸出規制ではない", ["輸出", "規制", "ない"]),  # is not
        ("輸出規制ではないか", ["輸出", "規制"]),  # is it not: a question, no negation
        ("輸出再開の結論出ず", ["輸出", "再開", "結論", "出", "ない"]),  # a one-kanji stem
        ("結論が出ない", ["結論", "出", "ない"]),
        ("利益が出た", ["利益", "出"]),
        ("結論は出ないか", ["結論", "出"]),
    ],
)
def test_a_japanese_negation_is_a_word_where_other_hiragana_goes(text: str, cut: list[str]) -> None:
    """Japanese says "does not start" in the hiragana after the verb (開始せず): dropped as
    grammar, it made "Kazakhstan starts gallium output" and "... does not start ..." the
    same words, one news item."""
    assert words_of(text) == cut


def test_a_cut_leaves_no_word_beginning_or_ending_in_a_joiner() -> None:
    """`镓’s` is one word to `WORD` (an apostrophe joins letters); cut at the script, it left
    `’s`, which the specific-word check read as an empty word and raised: the feed's every
    poll failed in its fingerprints."""
    assert words_of("镓’s price, ガリウム.com and 中国’s’") == [
        "镓", "s", "price", "ガリウム", "com", "and", "中国", "s"
    ]  # fmt: skip
    assert fingerprint(story("x", "镓’s price climbs")).term_keys[0] == "镓"


def test_a_chinese_or_japanese_word_weighs_as_common_as_either_language_uses_it() -> None:
    """A rare metal's one character is a specific term, in traditional characters too; a
    word every report uses is not."""
    gallium = term_weight("镓")
    assert gallium >= 2 and term_weight("鎵") == gallium  # traditional, as simplified
    assert term_weight("中国") < 2 and term_weight("発表") < 2 and term_weight("和") < 1
    assert term_weight("ガリウム") >= 2
    assert set(fingerprint(story("x", "中国限制镓和锗出口")).term_keys) >= {"镓", "锗"}


def test_chinese_and_japanese_reports_of_one_event_make_one_cluster() -> None:
    """Two outlets' own words about one event share its names and words once the runs are
    cut into words; another deal of the same firm, or the same move on another metal, does
    not join them."""
    stories = [
        story("ja1", "三菱商事、カザフスタン産ガリウムを調達へ",
              "三菱商事は26日、カザフスタンの企業からガリウムを調達すると発表した。"
              "中国の輸出規制を受け、半導体材料の供給網を多様化する。"),
        story("ja2", "カザフスタンのガリウム、三菱商事が日本へ供給",
              "三菱商事はカザフスタンの金属会社からガリウムを長期で調達する契約を結んだ。"
              "中国の輸出規制を受けて調達先を分散する。", hours=3),
        story("ja3", "三菱商事、豪州で銅鉱山の権益を追加取得",
              "三菱商事は26日、オーストラリアの銅鉱山の権益を追加で取得すると発表した。"
              "脱炭素で需要が伸びる銅の確保を狙う。", hours=1),
        story("ja4", "双日、ベトナムでレアアース調達",
              "双日は26日、ベトナムの企業からレアアースを調達すると発表した。"
              "中国の輸出規制を受け、供給網を多様化する。", hours=2),
        story("zh1", "中国限制镓和锗出口 称维护国家安全",
              "中国商务部周一宣布，将对镓和锗相关物项实施出口管制，自8月1日起生效，"
              "以维护国家安全和利益。"),
        story("zh2", "商务部：8月1日起对镓锗实施出口管制",
              "商务部和海关总署发布公告，对镓、锗相关物项实施出口管制，未经许可不得出口。",
              hours=2),
        story("zh3", "中国对锂电池技术实施出口限制",
              "商务部宣布对部分锂电池正极材料技术实施出口限制，以保护国内产业。", hours=1),
    ]  # fmt: skip
    clusters = cluster_batch(stories, ClusterSettings())
    assert clusters == {
        "ja1": "ja1", "ja2": "ja1", "ja3": "ja3", "ja4": "ja4",
        "zh1": "zh1", "zh2": "zh1", "zh3": "zh3",
    }  # fmt: skip
    settings = ClusterSettings()
    linked = compare(fingerprint(stories[0]), fingerprint(stories[1]), settings)
    assert linked.level == "same-event" and {"ガリウム", "三菱商事", "カザフスタン"} <= set(
        linked.shared_terms
    )


def test_a_report_in_traditional_characters_joins_the_simplified_reports_of_its_event() -> None:
    """Taiwan and Hong Kong write 鎵 where the mainland writes 镓: one term, one news item."""
    stories = [
        story("zh1", "中国限制镓和锗出口 称维护国家安全",
              "中国商务部周一宣布，将对镓和锗相关物项实施出口管制，自8月1日起生效，"
              "以维护国家安全和利益。"),
        story("tw1", "中國宣布管制鎵、鍺出口 8月起實施",
              "中國商務部與海關總署宣布，自8月1日起對鎵、鍺相關物項實施出口管制，"
              "出口須經許可，以維護國家安全。", hours=2),
        story("tw2", "台積電擴大美國亞利桑那廠投資",
              "台積電宣布將再投資美國亞利桑那州晶圓廠，擴大先進製程產能，以滿足客戶需求。",
              hours=1),
    ]  # fmt: skip
    assert cluster_batch(stories, ClusterSettings()) == {"zh1": "zh1", "tw1": "zh1", "tw2": "tw2"}
    linked = compare(fingerprint(stories[0]), fingerprint(stories[1]), ClusterSettings())
    assert {"镓", "锗", "管制"} <= set(linked.shared_terms) and not linked.slot_swaps


# -- other languages than English ------------------------------------------------------------


def test_a_storys_languages_are_told_by_their_commonest_words() -> None:
    def langs(text: str) -> tuple[str, ...]:
        return languages_of([w.lower() for w in words_of(text)])

    assert langs("Smelter Group To Start Germanium Output In Ontario") == ("en",)
    assert langs("Antimony miner lifts forecast") == ("en",)  # no common word at all
    assert "fr" in langs("Le ministère a annoncé mardi que la réforme sera présentée")
    assert "ru" in langs("Как сообщили в министерстве, завод будет построен до конца года")
    assert langs("Chile y Bolivia firman un acuerdo sobre el litio")[:2] == ("en", "es")
    # too short to tell by its common words, but in Cyrillic: weighed by English, where
    # no Cyrillic word is common, "Казахстан" and "нарастит" were rare names
    assert langs("Казахстан нарастит добычу лития") == ("en", "ru")
    assert langs("Mitsubishi закупит галлий у Казахстана") == ("en", "ru")
    assert langs("ERG Павлодар") == ("en",)  # half in Cyrillic only


def test_englishs_commonest_words_are_wordfreqs_top_100() -> None:
    """Read from wordfreq's file as `top_n_list` reads it: no "000" among them, "said" is."""
    assert _english_top() == {
        cased for word in top_n_list("en", 100) for cased in (word, word.capitalize(), word.upper())
    }


def test_a_word_common_in_the_storys_language_is_no_name() -> None:
    """Weighed by English alone, every French word is as rare as 'gallium'."""
    french = ("en", "fr")
    assert term_weight("dans") >= 2 and weight_in("dans", french) < 2
    assert weight_in("semaines", french) < 2 and weight_in("l'état", french) < 2
    assert weight_in("gallium", french) == term_weight("gallium") >= 2
    assert weight_in("министерстве", ("en", "ru")) < 2 <= weight_in("павлодаре", ("en", "ru"))


def test_a_word_of_the_storys_language_weighs_by_its_frequency_there() -> None:
    """As an English word does: 6 minus its Zipf frequency in the language (not 6, as a word
    unknown to English, whenever the language has it under Zipf 4)."""
    russian, french = ("en", "ru"), ("en", "fr")
    for word in ("месторождении", "восточно", "казахстанской"):
        assert weight_in(word, russian) == round(6 - zipf_frequency(word, "ru"), 2) < 4
        assert term_weight(word) == 6
    assert weight_in("exportations", french) == round(6 - zipf_frequency("exportations", "fr"), 2)
    lithium = story("ru-li", "Казахстан начал добычу лития в ВКО",
                    "Первую тонну лития получили на месторождении Бакенное в "
                    "Восточно-Казахстанской области, сообщила компания.")  # fmt: skip
    copper = story("ru-cu", "Добыча меди в ВКО выросла на 10%",
                   "На медных месторождениях Восточно-Казахстанской области за год добыли на "
                   "10 процентов больше меди, чем годом ранее.", hours=3)  # fmt: skip
    apart = compare(fingerprint(lithium), fingerprint(copper), ClusterSettings())
    assert apart.level is None and "казахс" in apart.shared_terms  # only the region's words


def test_unrelated_stories_in_other_languages_stay_apart_and_one_event_clusters() -> None:
    """Two unrelated French (Russian, Spanish) stories share a dozen everyday words, each
    unknown to English: they made one news item. One event's reports still do."""
    stories = [
        story("fr-pension", "Le gouvernement annonce une réforme des retraites",
              "Le Premier ministre a annoncé mardi que la réforme des retraites sera présentée "
              "au Parlement dans les prochaines semaines, selon un communiqué."),
        story("fr-gallium", "La Chine restreint les exportations de gallium",
              "Le ministère chinois du Commerce a annoncé mardi que les exportations de gallium "
              "et de germanium seront soumises à une licence dans les prochaines semaines.",
              hours=1),
        story("fr-gallium-2", "Pékin impose des licences pour exporter le gallium et le germanium",
              "La Chine va exiger des licences d'exportation pour le gallium et le germanium "
              "dans les prochaines semaines, a indiqué mardi le ministère du Commerce.", hours=2),
        story("ru-gallium", "Казахстан начнет производство галлия в Павлодаре",
              "Как сообщили в министерстве промышленности, завод по производству галлия будет "
              "построен в Павлодарской области до конца года, что позволит стране выйти на "
              "мировой рынок."),
        story("ru-banks", "Правительство утвердило новые правила для банков",
              "Как сообщили в министерстве финансов, новые правила для банков вступят в силу до "
              "конца года, что позволит снизить риски для вкладчиков.", hours=1),
        story("es-mining", "El gobierno aprueba una nueva ley de minería",
              "El Ministerio de Minas anunció el martes que la nueva ley de minería entrará en "
              "vigor en las próximas semanas, según un comunicado oficial."),
        story("es-lithium", "Chile y Bolivia firman un acuerdo sobre el litio",
              "El presidente de Chile anunció el martes que el acuerdo sobre el litio con "
              "Bolivia será firmado en las próximas semanas, según un comunicado oficial.",
              hours=1),
    ]  # fmt: skip
    clusters = cluster_batch(stories, ClusterSettings())
    assert clusters == {
        "fr-pension": "fr-pension", "fr-gallium": "fr-gallium", "fr-gallium-2": "fr-gallium",
        "ru-gallium": "ru-gallium", "ru-banks": "ru-banks",
        "es-mining": "es-mining", "es-lithium": "es-lithium",
    }  # fmt: skip


def test_dedupe_explain_names_the_languages_that_weigh_each_story(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    french = story("fr", "La Chine restreint les exportations de gallium",
                   "Le ministère du Commerce a annoncé mardi que les exportations de gallium "
                   "seront soumises à une licence dans les prochaines semaines.")  # fmt: skip
    english = story("en", "China curbs gallium exports",
                    "China said on Tuesday that exports of gallium will need a licence.")  # fmt: skip
    path.write_text("".join(json.dumps(story_json(s)) + "\n" for s in (french, english)))
    result = watcher("dedupe", "explain", "fr", "en", "--input", str(path))
    (row,) = [line for line in result.stdout.splitlines() if line.startswith("languages")]
    first, second = row.removeprefix("languages").strip().split(" / ")
    assert first.startswith("en, ") and "fr" in first.split(", ") and second == "en"
