"""Rules: the query language, matching corners, validation, rule testing and hot reload."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import sqlite3
import tracemalloc
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.feedserver import rss
from tests.test_cli import watcher
from watcher.cli import main
from watcher.errors import RuleError
from watcher.files import MAX_FILE_BYTES
from watcher.models import FeedConfig, Story
from watcher.normalise import plain_text
from watcher.parse import MAX_BODY
from watcher.rules import Matcher, load_rules, loader
from watcher.rules.live import LiveRules
from watcher.rules.query import (
    DEFAULT_FIELDS,
    MAX_DEPTH,
    And,
    ListRef,
    Near,
    Not,
    Or,
    QuerySyntaxError,
    Words,
    parse,
)
from watcher.store import Store

ROOT = Path(__file__).resolve().parent.parent

LISTS = """\
lists:
  minerals:
    - gallium
    - {name: tin}
    - name: rare earths
      aliases: [{text: rare earth, plural: true}]
    - lithium
  firms:
    - name: Mitsubishi Corporation
      aliases: ["Mitsubishi Corp.", Mitsubishi]
      not_followed_by: [Motors, Heavy Industries, UFJ]
    - name: Eurasian Resources Group
      aliases: [{text: ERG, case_sensitive: true}]
    - name: Alcoa
    - name: Zurich Metals
    - name: Mitsui
      aliases: ["Mitsui & Co."]
      not_preceded_by: [Sumitomo]
"""


def w(
    text: str,
    wildcard: bool = False,
    fields: tuple[str, ...] = DEFAULT_FIELDS,
    column: int = 1,
) -> Words:
    return Words(text, wildcard, fields, column)


@pytest.mark.parametrize(
    ("query", "tree"),
    [
        pytest.param("gallium", w("gallium"), id="word"),
        pytest.param("a AND b", And((w("a"), w("b", column=7))), id="and"),
        pytest.param("a b", And((w("a"), w("b", column=3))), id="implicit-and"),
        pytest.param("a OR b", Or((w("a"), w("b", column=6))), id="or"),
        pytest.param("NOT a", Not(w("a", column=5)), id="not"),
        pytest.param('"rare  Metal"', w("rare metal"), id="phrase-folded"),
        pytest.param("lithium*", w("lithium", wildcard=True), id="wildcard"),
        pytest.param("a NEAR/3 b", Near(w("a"), w("b", column=10), 3, 3), id="near"),
        pytest.param(
            "a NEAR/01000000 b", Near(w("a"), w("b", column=17), 1000000, 3), id="near-farthest"
        ),
        pytest.param("title:a", w("a", fields=("title",), column=7), id="field"),
        pytest.param("@firms", ListRef("firms", None, DEFAULT_FIELDS, 1), id="list"),
        pytest.param(
            '@firms:"Alcoa"', ListRef("firms", "Alcoa", DEFAULT_FIELDS, 1), id="list-entry"
        ),
        pytest.param(
            "a OR b AND c",
            Or((w("a"), And((w("b", column=6), w("c", column=12))))),
            id="and-binds-tighter-than-or",
        ),
        pytest.param(
            "NOT a b", And((Not(w("a", column=5)), w("b", column=7))), id="not-binds-tightest"
        ),
        pytest.param(
            "a AND b NEAR/2 c",
            And((w("a"), Near(w("b", column=7), w("c", column=16), 2, 9))),
            id="near-binds-tighter-than-and",
        ),
        pytest.param(
            "(a OR b) c",
            And((Or((w("a", column=2), w("b", column=7))), w("c", column=10))),
            id="parentheses",
        ),
        pytest.param(
            "source:(a OR b)",
            Or((w("a", fields=("source",), column=9), w("b", fields=("source",), column=14))),
            id="field-on-group",
        ),
    ],
)
def test_parse(query: str, tree: object) -> None:
    assert parse(query) == tree


@pytest.mark.parametrize(
    "query",
    ['"gallium or germanium"', '"or" AND gold', "1,000", "a,b", "Mitsui&Co.", "OR-8", "near",
     '"E*Trade"', "W5", "pre2020", "around",
     "24/7", "w/o", '"near/3"', '"Mitsui & Co."', '"5 %"', "AT&T", "-5%", "C++", "#gallium"],
)  # fmt: skip
def test_words_with_commas_inside_and_quoted_keywords_are_words(query: str) -> None:
    parse(query)  # no QuerySyntaxError


@pytest.mark.parametrize(
    ("query", "column"),
    [("title: gallium", 8), ("Title:gallium", 7), ("TITLE:  gallium", 9), ("title:\tgallium", 8)],
)
def test_a_field_may_be_written_in_capitals_and_with_blanks_after_its_colon(
    query: str, column: int
) -> None:
    assert parse(query) == w("gallium", fields=("title",), column=column)


@pytest.mark.parametrize(
    "query", ["“rare earth”", "„rare earth“", "«rare earth»", "「rare earth」"]
)
def test_a_phrase_may_be_in_the_quotation_marks_a_word_processor_writes(query: str) -> None:
    """A query pasted from a document or an email comes with curly quotes, or another
    language's: each was two words, found anywhere ("earth is rare"), not the phrase."""
    assert parse(query) == w("rare earth")


def test_near_takes_a_word_parenthesis_or_phrase_right_after_its_number() -> None:
    assert parse("a NEAR/5b") == Near(w("a"), w("b", column=9), 5, 3)
    assert parse('a NEAR/5"b c"') == Near(w("a"), w("b c", column=9), 5, 3)
    assert parse("a NEAR/5(b OR c)") == Near(
        w("a"), Or((w("b", column=10), w("c", column=15))), 5, 3
    )


@pytest.mark.parametrize(
    ("query", "message", "column"),
    [
        pytest.param("(a OR b", "'(' is never closed", 1, id="open-paren"),
        pytest.param("a OR b)", "')' without '('", 7, id="close-paren"),
        pytest.param("", "empty condition", 1, id="empty"),
        pytest.param("a AND", "the condition ends", 6, id="dangling-and"),
        pytest.param('a "b', "unclosed quotation mark", 3, id="unclosed-quote"),
        pytest.param("a NEAR/2 (b AND c)", "NEAR joins words", 3, id="near-of-and"),
        pytest.param("a NEAR/000 b", "n of at least 1", 3, id="near-zero"),
        pytest.param("a NEAR/1000001 b", "n of at most 1000000", 3, id="near-too-far"),
        # Python reads no number of over 4,300 digits: ValueError, out of the loader
        pytest.param("a NEAR/" + "9" * 5000 + " b", "n of at most", 3, id="near-5000-digits"),
        pytest.param("author:x", "unknown field 'author'", 1, id="unknown-field"),
        pytest.param("intitle:gallium", "unknown field 'intitle'; fields are title, summary, "
                     "source, body (for intitle: write title:)", 1, id="google-intitle"),
        pytest.param("a site:reuters.com", "(for site: write source:, the outlet's name, not "
                     "its site)", 3, id="google-site"),
        pytest.param("titel:x", "(did you mean 'title'?)", 1, id="field-typo"),
        pytest.param("li*um", "only a trailing *", 1, id="inner-wildcard"),
        pytest.param("a OR OR b", "unexpected 'OR'", 6, id="double-operator"),
        pytest.param("()", "empty parentheses", 2, id="empty-parens"),
        # what an author surely did not mean, which would match next to nothing
        pytest.param("gallium or germanium", "'or' is a word to find here: for the operator "
                     'write OR, in capitals, or "or" in quotes', 9, id="lower-case-or"),
        pytest.param("a And (b OR c)", "'And' is a word to find here", 3, id="and-capitalised"),
        pytest.param("gallium not nitride", "write NOT", 9, id="lower-case-not"),
        pytest.param("gallium, germanium", "'gallium,': a comma joins nothing here (every "
                     "word is needed, as with AND): write OR between words", 1, id="comma"),
        pytest.param("(a OR b) ;c", "';c': a comma joins nothing", 10, id="semicolon-before"),
        # NEAR as other tools write it, each a word no story has
        pytest.param("a near/3 b", "'near/3' is a word to find here: for words within 3 of "
                     "each other write NEAR/3", 3, id="near-lower-case"),
        pytest.param("a NEAR b", "'NEAR': write NEAR/n, with n a whole number", 3, id="bare-near"),
        pytest.param("a NEAR/x b", "'NEAR/x': write NEAR/n", 3, id="near-no-number"),
        pytest.param("a NEAR/2.5 b", "'NEAR/2.5': write NEAR/n", 3, id="near-fraction"),
        pytest.param("a NEAR/2,5 b", "'NEAR/2,5': write NEAR/n", 3, id="near-comma"),
        pytest.param("a near5 b", "write NEAR/5", 3, id="factiva-near"),
        pytest.param("a w/5 b", "write NEAR/5", 3, id="lexis-w"),
        pytest.param("a AROUND(5) b", "'AROUND' is a word to find here: for words within n of "
                     "each other write NEAR/n", 3, id="google-around"),
        pytest.param("a PRE/5 b", "write NEAR/5", 3, id="lexis-pre"),
        pytest.param("NEAR/2 a", "NEAR/2 needs a word, phrase or list on each side", 1,
                     id="near-first"),
        pytest.param("a NEAR/2 NEAR/3 b", "NEAR/3 needs a word", 10, id="near-twice"),
        pytest.param('"a b"~5', "'~5' is a word to find here: for words within 5 of each other "
                     "write NEAR/5", 6, id="lucene-proximity"),
        # other tools' operators: a word without a letter or digit finds nothing, and -word
        # finds the word it was meant to leave out
        pytest.param("Mitsui & Co.", "'&' has no letter or digit, so it finds nothing: for the "
                     "operator write AND, or put it in quotes with the words around it", 8,
                     id="ampersand"),
        pytest.param("a || b", "for the operator write OR", 3, id="double-bar"),
        pytest.param('a -"b c"', "for the operator write NOT", 3, id="minus-before-phrase"),
        pytest.param("5 %", "'%' has no letter or digit, so it finds nothing: put it in quotes",
                     3, id="percent"),
        pytest.param("gallium -nitride", "'-nitride' finds 'nitride': to leave out the stories "
                     "that have it write NOT nitride", 9, id="minus-word"),
        pytest.param("gallium !nitride", "write NOT nitride", 9, id="bang-word"),
        pytest.param('"export* control*"', "a * in quotes is no wildcard, as a phrase is found as "
                     "written: write the word outside quotes (export*)", 8, id="star-in-phrase"),
        pytest.param('a "rare earth*"', "a * in quotes is no wildcard", 14, id="star-ends-phrase"),
        pytest.param("“rare earth", "unclosed quotation mark", 1, id="curly-unclosed"),
        pytest.param("title:", "title: needs a word, phrase, list or parenthesis after it", 1,
                     id="field-alone"),
        pytest.param("(a title: )", "title: needs a word", 4, id="field-before-paren"),
    ],
)  # fmt: skip
def test_syntax_errors_have_columns(query: str, message: str, column: int) -> None:
    with pytest.raises(QuerySyntaxError, match=re.escape(message)) as caught:
        parse(query)
    assert caught.value.column == column


# a condition nested n deep by each construct, or by a mix of them
NESTED: dict[str, Callable[[int], str]] = {
    "parentheses": lambda n: "(" * n + "gallium" + ")" * n,
    "not": lambda n: "NOT " * n + "tin",
    "near": lambda n: " NEAR/2 ".join(["gallium"] * (n + 1)),
    "fields": lambda n: "title:" * n + "gallium",
    "mixed": lambda n: (
        "(gallium OR tin NOT " * (n // 2) + "NOT " * (n % 2) + "lithium" + ")" * (n // 2)
    ),
}


@pytest.mark.parametrize("construct", NESTED)
def test_a_condition_nested_too_deep_is_a_syntax_error_and_one_as_deep_as_allowed_matches(
    tmp_path: Path, construct: str
) -> None:
    """1,000 levels of "(" raised RecursionError out of the loader: a traceback for `rules
    check`, and at the service's start."""
    nested = NESTED[construct]
    found = matcher(tmp_path, nested(MAX_DEPTH)).match("Gallium " * 60 + "and tin", "")
    assert [m.rule for m in found.rules] == ["r"]
    with pytest.raises(QuerySyntaxError, match=f"nested more than {MAX_DEPTH} deep"):
        parse(nested(MAX_DEPTH + 1))
    with pytest.raises(QuerySyntaxError, match=f"nested more than {MAX_DEPTH} deep"):
        parse(nested(1000))


def folder(tmp_path: Path, rules: str, lists: str = LISTS) -> Path:
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir(exist_ok=True)
    (rules_dir / "lists.yaml").write_text(lists)
    (rules_dir / "rules.yaml").write_text(rules)
    return rules_dir


def matcher(tmp_path: Path, condition: str) -> Matcher:
    return Matcher(load_rules(folder(tmp_path, f"rules:\n  - name: r\n    when: '{condition}'\n")))


@pytest.mark.parametrize(
    ("condition", "title", "summary", "matches"),
    [
        pytest.param('@minerals:"tin"', "Tin output rises", "", True, id="tin"),
        pytest.param(
            '@minerals:"tin"',
            "Latin American leaders meet",
            "Tinder shares fall",
            False,
            id="tin-inside-words",
        ),
        pytest.param(
            '@firms:"Eurasian Resources Group"',
            "ERG reports copper finds",
            "",
            True,
            id="ERG-capitals",
        ),
        pytest.param(
            '@firms:"Eurasian Resources Group"',
            "What is an erg?",
            "An Erg is a unit",
            False,
            id="erg-the-unit",
        ),
        pytest.param(
            '@firms:"Mitsubishi Corporation"',
            "Mitsubishi Motors recalls cars",
            "Mitsubishi Heavy Industries too",
            False,
            id="mitsubishi-motors",
        ),
        pytest.param(
            '@firms:"Mitsubishi Corporation"',
            "Japan’s Mitsubishi to buy gallium",
            "",
            True,
            id="bare-mitsubishi",
        ),
        pytest.param(
            '@firms:"Mitsui"', "Sumitomo Mitsui Banking lends", "", False, id="not-preceded-by"
        ),
        pytest.param(
            '@firms:"Alcoa"', "", "at Alcoa’s Australian refinery", True, id="possessive-curly"
        ),
        pytest.param(
            '@firms:"Zurich Metals"', "Zürich Metals expands", "", True, id="diacritics-in-text"
        ),
        pytest.param(
            '@minerals:"rare earths"',
            "Rare earth prices",
            "imports of rare earths",
            True,
            id="plural",
        ),
        pytest.param(
            '@minerals:"rare earths"',
            "Rare metal prices",
            "",
            False,
            id="rare-metal-is-not-rare-earths",
        ),
        pytest.param(
            "gallium", "The best gallium nitride chargers", "", True, id="gallium-nitride"
        ),
        pytest.param("lithium*", "Lithium-ion makers", "", True, id="wildcard"),
        pytest.param("lithium*", "Lithiums", "", True, id="wildcard-longer"),
        pytest.param("lithium", "Lithiums", "", False, id="no-plural-unless-asked"),
        pytest.param('"rare metal"', "", "the Rare Metal gallium", True, id="phrase-any-case"),
        pytest.param('"rare metal"', "", "rare metals and a metal", False, id="phrase-whole-words"),
        pytest.param(
            "gallium NEAR/3 Kazakhstan", "", "gallium from Kazakhstan", True, id="near-within"
        ),
        pytest.param(
            "gallium NEAR/3 Kazakhstan",
            "",
            "gallium is a metal that one day may come from Kazakhstan",
            False,
            id="near-beyond",
        ),
        pytest.param("gallium NEAR/3 gallium*", "", "gallium prices", False, id="near-not-itself"),
        pytest.param("gallium NEAR/3 gallium*", "", "gallium and gallium", True, id="near-twice"),
        pytest.param(
            "(gallium AND export*) OR germanium", "", "gallium exports", True, id="or-of-and"
        ),
        pytest.param(
            "(gallium AND export*) OR germanium", "", "germanium", True, id="or-other-branch"
        ),
        pytest.param(
            "(gallium AND export*) OR germanium", "", "gallium imports", False, id="or-neither"
        ),
        pytest.param("title:@minerals", "Tin news", "", True, id="title-list"),
        pytest.param("title:@minerals", "Firm news", "tin too", False, id="title-list-scope"),
        pytest.param("title:gallium", "Tin news", "gallium here", False, id="title-scope"),
        pytest.param("summary:gallium", "Tin news", "gallium here", True, id="summary-scope"),
        pytest.param(
            "gallium AND NOT @firms", "Gallium prices", "Alcoa says", False, id="not-list"
        ),
        pytest.param(
            "gallium AND NOT @firms", "Gallium prices", "traders say", True, id="not-list-absent"
        ),
        pytest.param(
            "(gallium OR germanium) AND Kazakhstan",
            "Germanium from Kazakhstan",
            "",
            True,
            id="group",
        ),
        pytest.param("@minerals", "Copper news", "nickel too", False, id="list-without-hit"),
    ],
)
def test_matching(tmp_path: Path, condition: str, title: str, summary: str, matches: bool) -> None:
    result = matcher(tmp_path, condition).match(title, summary)
    assert bool(result.rules) is matches


def test_source_scope(tmp_path: Path) -> None:
    m = matcher(tmp_path, 'source:"Kyodo"')
    assert (
        m.match("Anything", "", "Kyodo News").rules
        and not m.match("Kyodo says", "", "Reuters").rules
    )


def test_terms_come_from_title_summary_and_body_alone(tmp_path: Path) -> None:
    m = matcher(tmp_path, "source:@firms")
    result = m.match("Tin news", "", "Alcoa wire", "ERG buys it")
    assert [r.rule for r in result.rules] and result.terms["firms"] == ("Eurasian Resources Group",)


@pytest.mark.parametrize(
    ("condition", "matches"),
    [
        pytest.param("gallium", True, id="unscoped"),
        pytest.param("body:gallium", True, id="body-scope"),
        pytest.param("summary:gallium", False, id="summary-scope"),
        pytest.param("title:(Kazakh gallium)", False, id="title-scope"),
        pytest.param("Kazakh NEAR/3 gallium", False, id="near-across-fields"),
        pytest.param("@minerals AND NOT body:@firms", False, id="not-in-body"),
    ],
)  # fmt: skip
def test_a_storys_full_text_is_matched_as_its_own_field(
    tmp_path: Path, condition: str, matches: bool
) -> None:
    """A WordPress feed's excerpt leaves out what its `content:encoded` says further on."""
    m = matcher(tmp_path, condition)
    result = m.match("Kazakh output rises", "Output rose in May.", "Mine Daily",
                     "Output rose in May. Alcoa will buy the plant's gallium.")  # fmt: skip
    assert bool(result.rules) is matches
    if matches:
        assert {hit.field for r in result.rules for hit in r.hits} == {"body"}


def test_terms_report_every_entry_found(tmp_path: Path) -> None:
    result = matcher(tmp_path, "nothing").match(
        "Mitsubishi Corp. and ERG sign tin deal", "Alcoa’s gallium"
    )
    assert result.rules == ()
    assert result.terms == {
        "minerals": ("gallium", "tin"),
        "firms": ("Alcoa", "Eurasian Resources Group", "Mitsubishi Corporation"),
    }


def test_clause_and_hits(tmp_path: Path) -> None:
    (match,) = (
        matcher(tmp_path, "@minerals AND (deal OR import*)")
        .match("Mitsubishi to import gallium", "")
        .rules
    )
    assert match.clause == "@minerals AND import*"
    assert sorted((h.start, h.end) for h in match.hits) == [(14, 20), (21, 28)]


UNSPACED_LISTS = """\
lists:
  minerals:
    - name: gallium
      aliases: [gallium, ガリウム, 镓, 갈륨, แกลเลียม]
  firms:
    - name: Mitsubishi Corporation
      aliases: [三菱商事, Mitsubishi]
    - name: Sojitz
      aliases: [双日]
"""


@pytest.mark.parametrize(
    ("text", "minerals", "firms"),
    [
        pytest.param("三菱商事、カザフスタンからガリウム輸入へ", ["ガリウム"], ["Mitsubishi Corporation"], id="japanese"),
        pytest.param("三菱商事将从哈萨克斯坦进口镓", ["镓"], ["Mitsubishi Corporation"], id="chinese"),
        pytest.param("三菱商事將從哈薩克斯坦進口鎵", ["鎵"], ["Mitsubishi Corporation"], id="traditional-chinese"),
        pytest.param("미쓰비시상사, 카자흐스탄산 갈륨을 수입", ["갈륨"], [], id="korean-particle"),
        pytest.param("ญี่ปุ่นนำเข้าแกลเลียมจากคาซัคสถาน", ["แกลเลียม"], [], id="thai"),
        pytest.param("Mitsubishi商事 imports gallium", ["gallium"], ["Mitsubishi Corporation"], id="latin-before-han"),
        pytest.param("双日とMitsubishiがgalliumを輸入", ["gallium"], ["Mitsubishi Corporation", "Sojitz"], id="latin-between-han"),
        pytest.param("Mitsubishix imports galliumy", [], [], id="latin-still-whole-words"),
        pytest.param("双日は双日本", [], ["Sojitz"], id="inside-a-run"),
    ],
)  # fmt: skip
def test_scripts_without_spaces_match_inside_runs(
    tmp_path: Path, text: str, minerals: list[str], firms: list[str]
) -> None:
    """Japanese, Chinese, Thai write no spaces between words, Korean joins particles to
    nouns: a term of those scripts is found inside a run of letters, with its exact span."""
    rules = "rules:\n  - name: r\n    when: '@minerals'\n"
    result = Matcher(load_rules(folder(tmp_path, rules, UNSPACED_LISTS))).match(text, "")
    hits = sorted((h.start, h.end) for r in result.rules for h in r.hits)
    assert [text[start:end] for start, end in hits] == minerals
    assert list(result.terms["firms"]) == firms


SPACED_LISTS = """\
lists:
  firms:
    - name: Mitsui & Co.
      not_preceded_by: [Sumitomo]
    - name: AT&T
    - name: S&P Global
      aliases: [{text: S&P, case_sensitive: true}]
    - name: U.S. Steel
  minerals:
    - lithium-ion
"""


@pytest.mark.parametrize(
    ("text", "firms"),
    [
        pytest.param("Mitsubishi-Motors recalls cars", [], id="hyphen-after"),
        pytest.param("Sumitomo-Mitsui Banking lends", [], id="hyphen-before"),
        pytest.param("Mitsui buys Mitsubishi - Motors", ["Mitsui"], id="spaced-hyphen"),
        pytest.param("Mitsubishi buys a stake", ["Mitsubishi Corporation"], id="not-excluded"),
    ],
)  # fmt: skip
def test_exclusions_read_past_hyphens(tmp_path: Path, text: str, firms: list[str]) -> None:
    """`not_followed_by: [Motors]` did not exclude "Mitsubishi-Motors", nor
    `not_preceded_by: [Sumitomo]` "Sumitomo-Mitsui": the hyphen stopped the look."""
    assert list(matcher(tmp_path, "@firms").match(text, "").terms["firms"]) == firms


@pytest.mark.parametrize(
    ("text", "found"),
    [
        pytest.param("Mitsui &Co. buys a stake", "Mitsui &Co", id="blank-before"),
        pytest.param("Mitsui&Co buys a stake", "Mitsui&Co", id="no-blanks"),
        pytest.param("AT & T sells towers", "AT & T", id="blanks-around"),
        pytest.param("A lithium – ion plant", "lithium – ion", id="dash-with-blanks"),
        pytest.param("U. S. Steel and U.S.Steel", "U. S. Steel|U.S.Steel", id="two-runs"),
        pytest.param("S & P cuts its outlook", "S & P", id="case-sensitive"),
        pytest.param("Mitsui, co-founder of the fund", "", id="other-punctuation"),
        pytest.param("AT, T and lithium, ion", "", id="comma-is-not-the-term"),
        pytest.param("Crews arrived at T-Mobile", "", id="other-punctuation-as-written"),
        pytest.param("A lithium ion cell", "lithium ion", id="hyphen-as-blank"),
        pytest.param("s & p cuts", "", id="case-still-checked"),
        pytest.param("Sumitomo Mitsui &Co. fund", "", id="exclusion-still-checked"),
    ],
)  # fmt: skip
def test_an_aliases_punctuation_matches_however_it_is_spaced(
    tmp_path: Path, text: str, found: str
) -> None:
    """A term-list alias whose words are joined by punctuation (`Mitsui & Co.`, `AT&T`)
    matched only the spacing it was written with, and any punctuation spaced alike:
    `Mitsui &Co.`, `AT & T`, `lithium - ion` reached no rule, "at T-Mobile" was AT&T. The
    alias's punctuation with or without blanks around it matches now, and no other (a
    hyphen and a blank aside)."""
    assert list_hits(tmp_path, SPACED_LISTS, text) == found


ABBREVIATED_LISTS = """\
lists:
  places:
    - name: European Union
      aliases: [EU]
    - name: United States
      aliases: ["U.S."]
    - name: Eurasian Resources Group
      aliases: [{text: ERG, case_sensitive: true}]
    - name: ore
"""


@pytest.mark.parametrize(
    ("text", "found"),
    [
        pytest.param("EU and E.U. agree", "EU|E.U", id="capitals-with-dots-too"),
        pytest.param("e.u. rules", "e.u", id="dots-in-any-case"),
        pytest.param("U.S. and US buyers", "U.S|US", id="dots-without-too"),
        pytest.param("buyers tell us so", "", id="undotted-in-capitals-only"),
        pytest.param("E.R.G. and erg", "E.R.G", id="case-sensitive-stays"),
        pytest.param("O.R.E. grades", "", id="lower-case-alias-as-written"),
        pytest.param("E.Usa", "", id="a-word-after-the-dot-is-no-abbreviation"),
    ],
)  # fmt: skip
def test_an_abbreviation_matches_with_dots_or_without(
    tmp_path: Path, text: str, found: str
) -> None:
    """Outlets write an abbreviation their own way: `EU` found no "E.U.", nor `U.S.` "US",
    so a rule for the EU missed the stories of every paper whose style writes the dots."""
    assert list_hits(tmp_path, ABBREVIATED_LISTS, text, "@places") == found
    query = list_hits(tmp_path, ABBREVIATED_LISTS, "E.U. and EU", "EU")  # a query word too
    assert query == "E.U|EU"


FOLDED_LISTS = """lists:
  firms:
    - name: Mitsui
      not_followed_by: [Fudōsan, "Macy’s", 單位, ＯＳＫ]
      not_preceded_by: [Société]
    - name: Nestle
      aliases: ["Socie\u0301te\u0301 des Produits Nestle\u0301"]
"""


@pytest.mark.parametrize(
    ("text", "found"),
    [
        pytest.param("Mitsui Fudosan builds a tower", "", id="macron"),
        pytest.param("Mitsui Fudōsan builds a tower", "", id="macron-in-both"),
        pytest.param("Mitsui Macy's deal", "", id="curly-apostrophe"),
        pytest.param("Mitsui单位", "", id="traditional-chinese"),
        pytest.param("Mitsui OSK Lines", "", id="full-width"),
        pytest.param("Societe Mitsui lends", "", id="preceded"),
        pytest.param("Mitsui buys a stake", "Mitsui", id="not-excluded"),
        pytest.param(
            "Société des Produits Nestlé SA", "Société des Produits Nestlé|Nestlé", id="alias-nfd"
        ),
    ],
)  # fmt: skip
def test_exclusions_and_aliases_are_read_as_the_text_is_folded(
    tmp_path: Path, text: str, found: str
) -> None:
    """The text a term is looked for in is folded (diacritics, curly quotes, traditional
    Chinese, full-width letters) and composed, but `not_followed_by` and `not_preceded_by`
    words were only put in lower case: `Fudōsan`, `Macy’s`, 單位 or `Société` excluded
    nothing. An alias written with its marks apart (pasted from a macOS PDF) found no
    text, which is composed."""
    assert list_hits(tmp_path, FOLDED_LISTS, text, "@firms") == found


def test_an_example_written_with_its_marks_apart_is_read_composed(tmp_path: Path) -> None:
    """A rule's example is a story: composed as a feed's text is, so one pasted with its
    marks apart bears out an alias typed composed."""
    lists = "lists:\n  firms:\n    - name: Société Générale\n"
    rules = (
        "rules:\n  - name: r\n    when: '@firms'\n    examples:\n"
        '      match: ["Socie\\u0301te\\u0301 Ge\\u0301ne\\u0301rale lends to Kazakhstan"]\n'
    )
    (rule,) = load_rules(folder(tmp_path, rules, lists)).rules
    assert rule.name == "r"


WILDCARD_LISTS = """lists:
  minerals:
    - name: antimony
      aliases: [сурьм*, "Sb*", "E*Trade"]
      not_followed_by: [фон]
"""


@pytest.mark.parametrize(
    ("text", "found"),
    [
        pytest.param("Экспорт сурьмы вырос", "сурьмы", id="an-inflection"),
        pytest.param("Запасы сурьмой богаты", "сурьмой", id="another"),
        pytest.param("СУРЬМА подорожала", "СУРЬМА", id="any-case"),
        pytest.param("Рост: сурьма фон", "", id="exclusions-still-checked"),
        pytest.param("Поставки несурьмы", "", id="only-words-that-begin-so"),
        pytest.param("Sbs and SbCl3", "Sbs|SbCl3", id="latin-too"),
        pytest.param("E*Trade and ETrade", "E*Trade", id="an-inner-star-is-a-star"),
    ],
)  # fmt: skip
def test_an_alias_ending_in_a_star_finds_the_words_that_begin_so(
    tmp_path: Path, text: str, found: str
) -> None:
    """Languages that inflect their nouns (Russian's сурьма, сурьмы, сурьмой) need one alias
    for every form; a trailing * in a term-list alias finds them all, as in a query."""
    assert list_hits(tmp_path, WILDCARD_LISTS, text, "@minerals") == found


@pytest.mark.parametrize(
    ("term", "problem"),
    [
        pytest.param("{name: Mitsui, aliases: ['&']}", "alias '&' has no letter or digit, so it "
                     "finds nothing: write it with the words around it", id="alias"),
        pytest.param("{name: Mitsui, aliases: [{text: ' - '}]}", "alias ' - ' has no letter",
                     id="alias-mapping"),
        pytest.param("'&'", "a term's name is matched as an alias is, and '&' has no letter or "
                     "digit, so it finds nothing", id="plain-term"),
        pytest.param("{name: '...'}", "'...' has no letter or digit", id="name"),
    ],
)  # fmt: skip
def test_an_alias_without_a_letter_or_digit_is_a_problem(
    tmp_path: Path, term: str, problem: str
) -> None:
    """Text is matched on words: punctuation alone finds nothing, and a term list entry
    that finds nothing, silently, is a mistake."""
    lists = f"lists:\n  firms:\n    - {term}\n"
    with pytest.raises(RuleError) as caught:
        load_rules(folder(tmp_path, "rules:\n  - name: r\n    when: '@firms'\n", lists))
    assert any(problem in str(p) and ":3:" in str(p) for p in caught.value.problems), caught.value


@pytest.mark.parametrize(
    ("term", "problem"),
    [
        pytest.param("{name: 'сурьм*'}", "a term's name is what is reported, so it cannot end in *",
                     id="a-name"),
        pytest.param("сурьм*", "a term's name is what is reported", id="a-plain-term"),
        pytest.param("{name: antimony, aliases: ['сурьм**']}",
                     "alias 'сурьм**': a wildcard * must follow a letter or digit", id="two"),
        pytest.param("{name: antimony, aliases: [{text: '*'}]}", "alias '*': a wildcard",
                     id="alone"),
    ],
)  # fmt: skip
def test_a_wildcard_where_it_cannot_be_is_a_problem(
    tmp_path: Path, term: str, problem: str
) -> None:
    lists = f"lists:\n  minerals:\n    - {term}\n"
    with pytest.raises(RuleError) as caught:
        load_rules(folder(tmp_path, "rules:\n  - name: r\n    when: '@minerals'\n", lists))
    assert any(problem in str(p) and ":3:" in str(p) for p in caught.value.problems), caught.value


UNSPACED_EXCLUSIONS = """lists:
  minerals:
    - name: graphite
      aliases: [石墨]
      not_followed_by: [烯]       # graphene
  firms:
    - name: Sojitz
      aliases: [双日]
      not_preceded_by: [单]       # odd and even days
"""


@pytest.mark.parametrize(
    ("text", "found"),
    [
        pytest.param("中国石墨出口增长", "石墨", id="a-term-in-a-run"),
        pytest.param("新型石墨烯电池问世", "", id="excluded-by-what-follows-in-the-run"),
        pytest.param("石墨烯", "", id="at-the-runs-end"),
        pytest.param("双日与JOGMEC合作", "双日", id="a-firm"),
        pytest.param("北京实行单双日限行", "", id="excluded-by-what-precedes-in-the-run"),
    ],
)  # fmt: skip
def test_exclusions_in_scripts_without_spaces_are_read_within_a_run_of_letters(
    tmp_path: Path, text: str, found: str
) -> None:
    """A term is found inside a run of Chinese or Japanese letters, but its exclusions were
    looked for as whole words, which such a run never holds: 石墨烯 (graphene) was graphite."""
    assert list_hits(tmp_path, UNSPACED_EXCLUSIONS, text) == found


MARKED_LISTS = """lists:
  minerals:
    - name: gallium
      aliases: [ガリウム, галлий]
    - name: germanium
      aliases: [германий]
  firms:
    - name: Eurasian Resources Group
      aliases: [{text: ERG, case_sensitive: true}]
"""


@pytest.mark.parametrize(
    ("text", "found"),
    [
        pytest.param("ガリウム輸入へ", "ガリウム", id="kana"),
        pytest.param("カリウム価格が上昇", "", id="potassium-is-not-gallium"),
        pytest.param("Цены на галлий растут", "галлий", id="cyrillic"),
        pytest.param("Экспорт из Германии вырос", "", id="germany-is-not-germanium"),
        pytest.param("Поставки галлии", "", id="и-is-not-й"),
        pytest.param("ＥＲＧ、新工場を建設", "ＥＲＧ", id="full-width-latin"),
    ],
)  # fmt: skip
def test_a_mark_that_makes_another_letter_is_not_folded_away(
    tmp_path: Path, text: str, found: str
) -> None:
    """Diacritics were folded in every script: Japanese ガ became カ, so ガリウム (gallium)
    matched カリウム (potassium), and Russian й became и, so германий (germanium) matched
    Германии (Germany's). They fold in Latin and Greek (Zürich is Zurich) and in full-width
    letters, no longer where the mark makes another letter."""
    assert list_hits(tmp_path, MARKED_LISTS, text) == found


def list_hits(tmp_path: Path, lists: str, text: str, when: str = "@firms OR @minerals") -> str:
    """`hit_text` of a rule `when` over these term lists."""
    rules = f"rules:\n  - name: r\n    when: '{when}'\n"
    return hit_text(Matcher(load_rules(folder(tmp_path, rules, lists))), text)


def hit_text(m: Matcher, text: str) -> str:
    """The text of each hit of the rules `text` matches, in order, joined by `|`."""
    hits = sorted((h.start, h.end) for r in m.match(text, "").rules for h in r.hits)
    return "|".join(text[start:end] for start, end in hits)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        pytest.param("AT & T buys spectrum", "AT & T", id="blanks-around"),
        pytest.param("Crews arrived at T-Mobile", "", id="other-punctuation"),
        pytest.param("A lithium – ion plant", "lithium – ion", id="hyphen-with-blanks"),
        pytest.param("A lithium ion plant", "lithium ion", id="hyphen-as-blank"),
        pytest.param("A lithium, ion plant", "", id="comma-is-not-a-hyphen"),
    ],
)  # fmt: skip
def test_a_query_phrases_punctuation_matches_however_it_is_spaced(
    tmp_path: Path, text: str, found: str
) -> None:
    """A query word or phrase is matched as a term-list alias is: its punctuation with or
    without blanks around it, and no other."""
    assert hit_text(matcher(tmp_path, '"AT&T" OR lithium-ion'), text) == found


@pytest.mark.parametrize(
    ("query", "text", "matches"),
    [
        pytest.param("ガリウム NEAR/3 輸出", "カザフスタンからガリウム輸出へ", True, id="japanese-near"),
        pytest.param("ガリウム NEAR/3 輸出", "ガリウムの価格は上昇し、日本の商社は今年中に新しい"
                     "供給先を探す方針で、輸出", False, id="japanese-far"),
        pytest.param("镓 NEAR/3 出口", "中国限制镓出口", True, id="chinese-near"),
        pytest.param("镓 NEAR/3 出口", "镓价格上涨，中国商务部今天宣布了一系列新的措施以限制出口",
                     False, id="chinese-far"),
        pytest.param("镓 NEAR/20 出口", "镓价格上涨，中国商务部今天宣布了一系列新的措施以限制出口",
                     True, id="chinese-far-enough"),
    ],
)  # fmt: skip
def test_near_counts_two_chinese_or_japanese_characters_as_a_word(
    tmp_path: Path, query: str, text: str, matches: bool
) -> None:
    """Chinese and Japanese put no blanks between words: a run of their letters up to a
    comma was one word, so NEAR/3 held for terms 30 characters apart, as AND does."""
    assert bool(matcher(tmp_path, query).match(text, "").rules) is matches


@pytest.mark.parametrize(
    ("alias", "text", "found"),
    [
        ("battery", "Gallium for EV batteries", True),
        ("battery", "Gallium for EV batterys", False),
        ("rare earth", "Rare earths rally", True),
        ("process", "New processes for gallium", True),
        ("alloy", "Gallium alloys", True),
        ("key", "Three keys to gallium", True),
        ("battery", "A battery of tests", True),
    ],
)
def test_a_plural_alias_finds_its_english_plural(
    tmp_path: Path, alias: str, text: str, found: bool
) -> None:
    """`plural: true` added s or es: "battery" found "batterys", never "batteries"."""
    lists = f"lists:\n  things:\n    - {{name: x, aliases: [{{text: {alias}, plural: true}}]}}\n"
    rules = "rules:\n  - name: r\n    when: '@things'\n"
    assert bool(Matcher(load_rules(folder(tmp_path, rules, lists))).match(text, "").rules) is found


def test_query_words_of_scripts_without_spaces_match_inside_runs(tmp_path: Path) -> None:
    m = matcher(tmp_path, "ガリウム AND 輸入*")
    (match,) = m.match("三菱商事、カザフスタンからガリウム輸入へ", "").rules
    assert match.clause == "ガリウム AND 輸入*"
    assert sorted((h.start, h.end) for h in match.hits) == [(13, 17), (17, 19)]
    assert not m.match("ガリウム", "").rules


def test_traditional_and_simplified_chinese_match_each_other(tmp_path: Path) -> None:
    """A rule in either script finds a word in both: 鍺 is 锗, germanium."""
    for query in ("鍺 AND 出口", "锗 AND 出口"):
        m = matcher(tmp_path, query)
        for text in ("中国限制锗出口", "中國限制鍺出口"):
            (match,) = m.match(text, "").rules
            assert sorted((h.start, h.end) for h in match.hits) == [(4, 5), (5, 7)]
        assert not m.match("中國限制鎵出口", "").rules


def test_structured_form(tmp_path: Path) -> None:
    rules = "rules:\n  - name: r\n    any: [gallium, germanium]\n    all: [Kazakhstan]\n    none: ['@firms']\n"
    m = Matcher(load_rules(folder(tmp_path, rules)))
    assert m.match("Gallium from Kazakhstan", "").rules
    assert not m.match("Gallium from Kazakhstan", "by Alcoa").rules
    assert not m.match("Gallium from Chile", "").rules


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        pytest.param(
            "rules:\n  - name: r\n    when: '@metals'\n",
            "rules.yaml:3:12: rule 'r': unknown term list @metals",
            id="unknown-list",
        ),
        pytest.param(
            "rules:\n  - name: r\n    when: '@firms:\"Nobody\"'\n",
            "rules.yaml:3:12: rule 'r': no entry 'Nobody' in term list @firms",
            id="unknown-entry",
        ),
        pytest.param(
            "rules:\n  - name: r\n    when: (gallium OR tin\n",
            "rules.yaml:3:11: rule 'r': unbalanced parentheses",
            id="unbalanced",
        ),
        pytest.param(
            "rules:\n  - name: r\n    when: a OR b)\n",
            "rules.yaml:3:17: rule 'r': unbalanced parentheses: ')' without '('",
            id="unbalanced-close",
        ),
        pytest.param(
            "rules:\n  - name: r\n    when: ''\n",
            "rules.yaml:3:11: rule 'r': empty condition",
            id="empty",
        ),
        pytest.param(
            "rules:\n  - name: r\n    when: a\n  - name: r\n    when: b\n",
            "rules.yaml:4:5: duplicate rule name 'r' (first defined at",
            id="duplicate",
        ),
        pytest.param(
            "rules:\n  - name: r\n    wen: a\n",
            "rules.yaml:3:5: unknown field 'wen' in a rule",
            id="unknown-field",
        ),
        pytest.param(
            "rules:\n  - name: r\n", "rules.yaml:2:5: rule 'r' has no condition", id="no-condition"
        ),
        pytest.param(
            "rules:\n  - name: r\n    when: a\n    priority: 9\n",
            "rules.yaml:4:15: priority must be 1 (low) to 5 (urgent)",
            id="priority",
        ),
        pytest.param(
            "rules:\n  - name: r\n    when: !!python/name:os.system a\n",
            "rules.yaml:3:11: invalid YAML: the tag 'tag:yaml.org,2002:python/name:os.system'",
            id="yaml-python-tag",
        ),
        pytest.param(
            "rules:\n  - name: r\n    when: a\n    tags: !custom [a]\n",
            "rules.yaml:4:11: invalid YAML: the tag '!custom' is not read here",
            id="yaml-custom-tag",
        ),
        pytest.param(  # PyYAML raised ValueError out of the loader
            "rules:\n  - name: r\n    when: a\n    priority: !!int high\n",
            "rules.yaml:4:15: invalid YAML: 'high' is no valid !!int",
            id="yaml-tag-refuses-value",
        ),
        pytest.param(
            "rules:\n  - name: r\n    when: a\n    ? [tags]\n    : [a]\n",
            "rules.yaml:4:7: a key of a rule must be a single word",
            id="list-key",
        ),
        pytest.param(
            'rules:\n  - name: "r\\nBcc: x@test"\n    when: a\n',
            "rules.yaml:2:11: name must be one line of text, without control characters",
            id="name-line-break",
        ),
        pytest.param(
            'rules:\n  - name: r\n    when: a\n    tags: ["a\\e[31m"]\n',
            "rules.yaml:4:12: tags must be one line of text, without control characters",
            id="tag-escape",
        ),
        pytest.param(
            "rules:\n  - name: r\n    when: a\n    min_sources: 0\n",
            "rules.yaml:4:18: min_sources must be 1 or more (outlets)",
            id="min-sources",
        ),
        pytest.param(
            "rules:\n  - name: r\n    when: a\n    min_sources: two\n",
            "rules.yaml:4:18: min_sources must be a whole number",
            id="min-sources-type",
        ),
        pytest.param(
            "rules:\n  - name: r\n    when: a\n    priority: high\n",
            "rules.yaml:4:15: priority must be a whole number",
            id="priority-type",
        ),
        pytest.param(
            "lists:\n  l:\n    - name: x\n      plural: maybe\n",
            "rules.yaml:4:15: plural must be true or false",
            id="plural-type",
        ),
        pytest.param(
            "rules:\n  - name: r\n    when: a\n    description:\n",
            "rules.yaml:4:17: description is empty",  # "has the wrong type" said nothing
            id="empty-description",
        ),
        pytest.param(
            "rules:\n  - name: r\n    when: [a\n", "rules.yaml:4:1: invalid YAML", id="yaml"
        ),
        pytest.param(
            "rules:\n  - name: r\n    when: a\n    examples: [a]\n",
            "rules.yaml:4:15: examples must be a mapping",
            id="examples-list",
        ),
        pytest.param(
            "rules:\n  - name: r\n    when: a\n    examples: {matches: [a]}\n",
            "rules.yaml:4:16: unknown field 'matches' in examples (did you mean 'match'?); expected "
            "one of match, no_match",
            id="examples-key",
        ),
        pytest.param(
            "rules:\n  - name: r\n    when: a\n    examples: {match: a}\n",
            "rules.yaml:4:23: rule 'r': examples match must be a list: write [a]",
            id="examples-not-a-list",
        ),
        pytest.param(
            "rules:\n  - name: r\n    when: a\n    examples:\n      match: [{link: x}]\n",
            "rules.yaml:5:16: unknown field 'link' in an example; expected one of body, source, summary, title",
            id="example-key",
        ),
        pytest.param(
            "rules:\n  - name: r\n    when: a\n    examples:\n      match: [{source: x}]\n",
            "rules.yaml:5:15: rule 'r': an example needs a title, summary or body",
            id="example-empty",
        ),
        pytest.param(
            "rules:\n  - name: r\n    when: a\n    examples:\n      no_match: [' ']\n",
            "rules.yaml:5:18: rule 'r': an example needs a title, summary or body",
            id="example-blank",
        ),
    ],
)
def test_validation_names_file_line_and_column(tmp_path: Path, rules: str, expected: str) -> None:
    with pytest.raises(RuleError) as caught:
        load_rules(folder(tmp_path, rules))
    assert any(expected in str(p) for p in caught.value.problems), caught.value


def test_each_mistake_in_a_rule_file_is_one_problem_and_hides_no_other(tmp_path: Path) -> None:
    """A term or an alias written as a list (`[gallium, 镓]`) was "must be a mapping" (it may
    be a name) and then "needs a name"; a query item written as a list was "any must be a
    single value" and then "empty condition"; a rule whose condition was wrong had its tags
    and notify left unread; feeds written as a mapping was also "names no feed"."""
    lists = "lists:\n  metals:\n    - [gallium, 镓]\n    - name: tin\n      aliases: [[ore]]\n"
    rules = (
        "rules:\n  - name: r\n    any: [[gallium]]\n    tags: {a: b}\n    notify: [[x]]\n"
        "    feeds: {a: b}\n  - name: s\n    when: tin\n    feeds: [[a]]\n"
    )
    path = folder(tmp_path, rules, lists)
    with pytest.raises(RuleError) as caught:
        load_rules(path)
    assert [str(problem).removeprefix(f"{path}/") for problem in caught.value.problems] == [
        "lists.yaml:3:7: a term must be a name or a mapping with a name, not a list: write "
        "each term as an item of its own",
        "lists.yaml:5:17: an alias must be a text or a mapping with a text, not a list: write "
        "each alias as an item of its own",
        "rules.yaml:3:11: rule 'r': an item of any must be a query, one single value, not a list",
        "rules.yaml:4:11: tags must be a list, not a mapping",
        "rules.yaml:5:14: an item of notify must be one name, not a list",
        "rules.yaml:6:12: feeds must be a list, not a mapping",
        "rules.yaml:9:13: an item of feeds must be one name, not a list",
    ]


def test_every_list_of_a_structured_condition_is_read_to_its_end(tmp_path: Path) -> None:
    """An empty `any: []`, or a wrong query in it, left its other items and `all:` and
    `none:` unread: each fix showed the next mistake."""
    rules = (
        "rules:\n  - name: r\n    any: []\n    all: [{term: x}, '(tin']\n    none: ['@nolist']\n"
    )
    path = folder(tmp_path, rules)
    with pytest.raises(RuleError) as caught:
        load_rules(path)
    assert [str(problem).removeprefix(f"{path}/") for problem in caught.value.problems] == [
        "rules.yaml:3:10: rule 'r': any is empty",
        "rules.yaml:4:11: rule 'r': an item of all must be a query, one single value, not a "
        "mapping",
        "rules.yaml:4:23: rule 'r': unbalanced parentheses: '(' is never closed",
        "rules.yaml:5:13: rule 'r': unknown term list @nolist (known: firms, minerals)",
    ]


@pytest.mark.parametrize(
    ("entry", "hint"),
    [
        pytest.param('"alcoa"', "(did you mean 'Alcoa'?)", id="case"),
        pytest.param('"Alcao"', "(did you mean 'Alcoa'?)", id="typo"),
        pytest.param('"Mitsubishi Corp."', "('Mitsubishi Corp.' is an alias of 'Mitsubishi "
                     "Corporation': write @firms:\"Mitsubishi Corporation\")", id="alias"),
    ],
)  # fmt: skip
def test_an_entry_no_term_is_named_says_which_term_was_meant(
    tmp_path: Path, entry: str, hint: str
) -> None:
    """Entries are named by a term's name: an alias, or the name in another case, was "no
    entry", which named none of the names there are."""
    with pytest.raises(RuleError) as caught:
        load_rules(folder(tmp_path, f"rules:\n  - name: r\n    when: '@firms:{entry}'\n"))
    assert f"no entry {entry.strip(chr(34))!r} in term list @firms {hint}" in str(caught.value)


def test_a_one_word_entry_may_be_written_without_quotes(tmp_path: Path) -> None:
    """`@firms:Alcoa` was @firms AND the word ":Alcoa", so `NOT @firms:Alcoa` left out
    every firm's story."""
    found = matcher(tmp_path, "tin AND NOT @firms:Alcoa")
    assert found.match("Mitsubishi buys tin", "").rules
    assert not found.match("Alcoa buys tin", "").rules


@pytest.mark.parametrize(
    ("when", "problem"),
    [
        pytest.param("@minerals AND export*", "3:11: invalid YAML: found character '@' that "
                     "cannot start any token: a value that begins with @ is written in quotes: "
                     "'@minerals AND export*'", id="at"),
        pytest.param('"rare earth" AND export', "3:24: invalid YAML: expected <block end>, but "
                     "found '<scalar>': a value that begins with a quote ends at the next one; "
                     "put it whole in quotes it does not hold: '\"rare earth\" AND export'",
                     id="phrase-first"),
        pytest.param('"title:"tin" OR lithium"', "put it whole in quotes it does not hold: "
                     "'title:\"tin\" OR lithium'", id="phrase-inside-quotes"),
        pytest.param("tin: export", "3:14: invalid YAML: mapping values are not allowed here: a "
                     "value that holds ': ' is written in quotes: 'tin: export'", id="colon"),
        pytest.param("x\n    any: ['@minerals', \"rare earth\" AND export]", "4:37: invalid YAML: "
                     "expected ',' or ']', but got '<scalar>': an item that begins with a quote "
                     "ends at the next one; put it whole in quotes it does not hold: "
                     "'\"rare earth\" AND export'", id="list-item"),
        pytest.param("x\n    any: [tin, @minerals]", "an item that begins with @ is written in "
                     "quotes: '@minerals'", id="list-item-at"),
    ],
)  # fmt: skip
def test_a_query_yaml_cannot_read_says_how_to_quote_it(
    tmp_path: Path, when: str, problem: str
) -> None:
    """The rule language's @lists, "phrases" and field: scopes are YAML's own syntax at the
    start of a value; PyYAML's words for each ("found character '@' that cannot start any
    token") named no fix."""
    with pytest.raises(RuleError) as caught:
        load_rules(folder(tmp_path, f"rules:\n  - name: r\n    when: {when}\n"))
    assert problem in str(caught.value)


@pytest.mark.parametrize(
    ("when", "place"),
    [
        pytest.param(">-\n      tin AND\n      gallium -nitride", "5:15", id="folded"),
        pytest.param("|-\n      tin AND\n      (gallium OR @metals)", "5:19", id="literal"),
        pytest.param("tin AND\n      gallium -nitride", "4:15", id="plain"),
        pytest.param("'tin AND\n      gallium -nitride'", "4:15", id="single-quoted"),
        pytest.param("'tin AND gallium -nitride'", "3:28", id="one-line"),
    ],
)
def test_a_problem_in_a_condition_over_several_lines_is_placed_on_its_line(
    tmp_path: Path, when: str, place: str
) -> None:
    """The shipped rules write their conditions over several lines (`when: >-`); a problem
    in one was placed on the `when:` line, at the column it has in the joined condition."""
    with pytest.raises(RuleError) as caught:
        load_rules(folder(tmp_path, f"rules:\n  - name: r\n    when: {when}\n"))
    (problem,) = caught.value.problems
    assert f"rules.yaml:{place}: rule 'r': " in str(problem)


def test_names_on_one_line_with_commas_are_a_list(tmp_path: Path) -> None:
    """`tags: policy, export` was one tag, "policy, export", which no subscriber follows."""
    rules = "rules:\n  - name: r\n    when: tin\n    tags: policy, export\n    notify: a, b\n"
    lists = LISTS + "    - name: Iluka\n      not_followed_by: Resources, Ltd\n"
    loaded = load_rules(folder(tmp_path, rules, lists))
    (rule,) = loaded.rules
    assert (rule.tags, rule.notify) == (("policy", "export"), ("a", "b"))
    iluka = next(t for t in loaded.lists["firms"] if t.name == "Iluka")
    assert iluka.not_followed_by == ("resources", "ltd")


def test_an_example_written_as_a_list_is_one_problem(tmp_path: Path) -> None:
    """It was "an example must be a mapping" (it may be a title) and then "an example needs
    a title, summary or body"."""
    rules = "rules:\n  - name: r\n    when: tin\n    examples:\n      match: [[Tin output]]\n"
    path = folder(tmp_path, rules)
    with pytest.raises(RuleError) as caught:
        load_rules(path)
    assert [str(problem).removeprefix(f"{path}/") for problem in caught.value.problems] == [
        "rules.yaml:5:15: rule 'r': an example must be a title or a mapping of title, summary, "
        "body and source, not a list"
    ]


def test_a_mistake_that_anchors_repeat_is_one_problem(tmp_path: Path) -> None:
    """An anchor holding a mistake, named by ten aliases (`*metals`), was ten problems at the
    anchor's line; nested aliases make that thousands."""
    lists = "lists:\n  metals:\n    - name: tin\n      aliases: &bad [[ore]]\n"
    lists += "".join(f"    - name: m{i}\n      aliases: *bad\n" for i in range(10))
    path = folder(tmp_path, "rules:\n  - name: r\n    when: '@metals'\n", lists)
    with pytest.raises(RuleError) as caught:
        load_rules(path)
    assert [str(problem).removeprefix(f"{path}/") for problem in caught.value.problems] == [
        "lists.yaml:4:22: an alias must be a text or a mapping with a text, not a list: write "
        "each alias as an item of its own",
    ]


def test_an_unknown_field_close_to_a_known_one_is_asked_about(tmp_path: Path) -> None:
    lists = "lists:\n  metals:\n    - name: tin\n      alias: [ore]\n      case_sensitve: true\n"
    rules = "rules:\n  - name: r\n    when: '@metals'\n    wen: tin\n    query: tin\n"
    path = folder(tmp_path, rules, lists)
    with pytest.raises(RuleError) as caught:
        load_rules(path)
    found = [str(p).removeprefix(f"{path}/").partition(";")[0] for p in caught.value.problems]
    assert found == [
        "lists.yaml:4:7: unknown field 'alias' in a term (did you mean 'aliases'?)",
        "lists.yaml:5:7: unknown field 'case_sensitve' in a term (did you mean 'case_sensitive'?)",
        "rules.yaml:4:5: unknown field 'wen' in a rule (did you mean 'when'?)",
        "rules.yaml:5:5: unknown field 'query' in a rule",  # like no field: no guess
    ]


def test_aliases_given_as_one_value_are_shown_as_a_list(tmp_path: Path) -> None:
    lists = "lists:\n  metals:\n    - name: germanium\n      aliases: 锗\n"
    with pytest.raises(RuleError, match=r"lists.yaml:4:16: aliases must be a list: write \[锗\]"):
        load_rules(folder(tmp_path, "rules:\n  - name: r\n    when: '@metals'\n", lists))


@pytest.mark.parametrize("levels", [300, 100_000])  # libyaml stops at 1,000 on its own
def test_a_rule_file_nested_too_deep_is_a_problem_at_its_place(tmp_path: Path, levels: int) -> None:
    rules = folder(tmp_path, "rules: " + "[" * levels + "]" * levels + "\n")
    with pytest.raises(RuleError) as caught:
        load_rules(rules)
    (problem,) = caught.value.problems
    assert (problem.line, problem.message.startswith("invalid YAML:")) == (1, True)
    assert "nest" in problem.message


def test_a_rule_file_not_in_utf_8_is_named_at_its_line_and_column(tmp_path: Path) -> None:
    """As the config is: Python's "codec can't decode byte 0xfc in position 34" gave no line."""
    rules = folder(tmp_path, "")
    (rules / "rules.yaml").write_bytes(
        "rules:\n  - name: r\n    when: Düsseldorf\n".encode("latin-1")
    )
    with pytest.raises(RuleError) as caught:
        load_rules(rules)
    assert [str(p) for p in caught.value.problems] == [
        f"{rules / 'rules.yaml'}:3:12: not UTF-8 text: byte 0xfc cannot be read"
    ]


def test_an_escaped_surrogate_in_a_rule_file_is_named_as_in_the_config(tmp_path: Path) -> None:
    """libyaml, which reads rule files, said only "found invalid Unicode character escape
    code" of JSON's way of writing 😀 ("\\ud83d\\ude00")."""
    rules = folder(tmp_path, 'rules:\n  - name: r\n    when: "gallium \\ud83d\\ude00"\n')
    with pytest.raises(RuleError) as caught:
        load_rules(rules)
    (problem,) = caught.value.problems
    assert problem.line == 3
    assert problem.message.startswith("invalid YAML: the escape \\uD83D is half of a UTF-16")


def test_a_rule_file_in_utf_16_is_read(tmp_path: Path) -> None:
    """Saved by Windows PowerShell 5 (`>` writes UTF-16 with a byte-order mark), a rule file
    was "not UTF-8 text: byte 0xff"."""
    rules = folder(tmp_path, "")
    text = "rules:\r\n  - name: r\r\n    when: Düsseldorf\r\n"
    (rules / "rules.yaml").write_bytes(text.encode("utf-16"))
    assert Matcher(load_rules(rules)).match("Düsseldorf smelter", "").rules


def test_a_control_character_in_a_rule_file_is_named_at_its_line_and_column(
    tmp_path: Path,
) -> None:
    """libyaml gave "position 41" (counted in bytes, without a line), PyYAML a position in
    characters: a BEL pasted into a rule was no place an operator could find."""
    rules = folder(tmp_path, "")
    (rules / "rules.yaml").write_text("rules:\n  - name: Zürich\n    when: gal\x07lium\n")
    with pytest.raises(RuleError) as caught:
        load_rules(rules)
    assert [str(p) for p in caught.value.problems] == [
        f"{rules / 'rules.yaml'}:3:14: invalid YAML: the control character U+0007 is not "
        "allowed in a YAML file"
    ]


def test_a_term_that_yaml_reads_as_a_number_is_matched_as_written(tmp_path: Path) -> None:
    """YAML 1.1 reads 0123 as the octal 83, 1.10 as 1.1 and NO (Norway) as false: the rule
    looked for "83", and NO was a problem, "has the wrong type"."""
    text = "lists:\n  codes: [0123, 1.10, NO]\nrules:\n  - name: r\n    when: '@codes'\n"
    text += "    examples:\n      match: [Export code 0123 listed, Version 1.10 out]\n"
    text += "      no_match: [Export code 83 listed, Version 1.1 out]\n"
    ruleset = load_rules(folder(tmp_path, text))
    assert [term.name for term in ruleset.lists["codes"]] == ["0123", "1.10", "NO"]


EXAMPLES = """\
rules:
  - name: gallium-exports
    when: '@minerals:"gallium" AND export*'
    examples:
      match:
        - Gallium exports resume
        - {title: Quarterly trade figures, summary: Exports of gallium rose.}
        - {title: Trade figures, body: "The full text: gallium exports doubled."}
      no_match:
        - Gallium prices rise
        - {title: Exports rise, source: Gallium Weekly}
"""


def test_examples_in_a_rule_file_are_checked_at_every_load(tmp_path: Path) -> None:
    """A rule file says what its rules must and must not match; a load fails, at the
    example, when a rule does not do as it says."""
    ruleset = load_rules(folder(tmp_path, EXAMPLES))
    assert [(e.title, e.match) for e in ruleset.examples] == [
        ("Gallium exports resume", True), ("Quarterly trade figures", True),
        ("Trade figures", True), ("Gallium prices rise", False), ("Exports rise", False),
    ]  # fmt: skip
    assert ", 5 examples, version " in ruleset.summary()
    narrowed = EXAMPLES.replace("export*'", "title:export*'")
    with pytest.raises(RuleError) as caught:
        load_rules(folder(tmp_path, narrowed))
    missed = "rule 'gallium-exports' does not match this example, which it must"
    assert [str(p).split("/")[-1] for p in caught.value.problems] == [
        f"rules.yaml:7:11: {missed}",
        f"rules.yaml:8:11: {missed}",
    ]
    widened = EXAMPLES.replace(" AND export*'", "'")
    with pytest.raises(RuleError) as caught:
        load_rules(folder(tmp_path, widened))
    messages = [str(p) for p in caught.value.problems]
    assert (
        len(messages) == 1
        and "rules.yaml:10:11: rule 'gallium-exports' matches this" in messages[0]
    )
    assert messages[0].endswith('which it must not: @minerals:"gallium" (found: Gallium)')


def test_a_reload_that_breaks_a_rules_examples_keeps_the_rules_in_force(tmp_path: Path) -> None:
    rules_dir = folder(tmp_path, EXAMPLES)
    live = LiveRules(rules_dir)
    first = live.version
    (rules_dir / "rules.yaml").write_text(EXAMPLES.replace(" AND export*'", "'"))
    result = live.reload_if_changed()
    assert result.error is not None and live.version == first
    assert "must not" in str(result.error)
    checked = watcher("rules", "check", "--rules", str(rules_dir))
    assert checked.returncode == 2 and "rules.yaml:10:11: rule 'gallium-exports'" in checked.stdout


def test_the_readmes_rule_file_example_loads_and_its_examples_hold(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("```yaml\nlists:\n") + len("```yaml\n")
    (tmp_path / "readme.yaml").write_text(readme[start : readme.index("```", start)])
    ruleset = load_rules(tmp_path)
    assert len(ruleset.rules) == 4 and len(ruleset.examples) == 3
    assert ruleset.rules[2].feeds == ("wire", "Nikkei Asia")


def test_min_sources_is_read_per_rule_and_is_one_unless_given(tmp_path: Path) -> None:
    ruleset = load_rules(
        folder(
            tmp_path,
            "rules:\n  - name: a\n    when: a\n    min_sources: 3\n  - name: b\n    when: b\n",
        )
    )
    assert [(r.name, r.min_sources) for r in ruleset.rules] == [("a", 3), ("b", 1)]
    assert ruleset.min_sources == {"a": 3, "b": 1} and ruleset.waits
    assert not load_rules(folder(tmp_path, "rules:\n  - name: b\n    when: b\n")).waits


def test_rules_share_fields_by_merge_keys(tmp_path: Path) -> None:
    """A rule file's `x-` keys hold anchors that rules merge (`<<: *urgent`), their own
    fields first."""
    rules = """\
x-urgent: &urgent {priority: 5, tags: [urgent], min_sources: 2}
rules:
  - {name: a, when: a, <<: *urgent}
  - name: b
    when: b
    <<: *urgent
    priority: 3
"""
    a, b = load_rules(folder(tmp_path, rules)).rules
    assert (a.priority, a.tags, a.min_sources) == (5, ("urgent",), 2)
    assert (b.priority, b.tags, b.min_sources) == (3, ("urgent",), 2)
    with pytest.raises(RuleError, match=r"rules.yaml:2:5: unknown field .x-urgent. in a rule"):
        load_rules(folder(tmp_path, "rules:\n  - x-urgent: 1\n    name: a\n    when: a\n"))


def test_rules_check_cli(tmp_path: Path) -> None:
    good = folder(tmp_path, "rules:\n  - name: r\n    when: gallium\n")
    ok = watcher("rules", "check", "--rules", str(good))
    assert ok.returncode == 0 and ok.stdout.strip().endswith(
        "2 files, 2 term lists (9 terms), 1 rules, version " + load_rules(good).version + ": OK"
    )
    (good / "rules.yaml").write_text(
        "rules:\n  - name: r\n    when: '@metals OR a'\n  - name: r\n    when: b\n"
    )
    bad = watcher("rules", "check", "--rules", str(good))
    assert bad.returncode == 2
    assert len(bad.stdout.strip().splitlines()) == 2
    assert f"{good}/rules.yaml:3:12: rule 'r': unknown term list @metals" in bad.stdout
    assert f"{good}/rules.yaml:4:5: duplicate rule name 'r'" in bad.stdout


def test_shipped_rules_are_valid() -> None:
    ruleset = load_rules(ROOT / "rules")
    assert {"minerals", "firms"} <= set(ruleset.lists)
    names = {t.name for t in ruleset.lists["minerals"]}
    assert {
        "gallium",
        "germanium",
        "antimony",
        "lithium",
        "rare earths",
        "graphite",
        "tin",
        "tungsten",
        "cobalt",
        "nickel",
        "copper",
    } <= names
    firms = {t.name for t in ruleset.lists["firms"]}
    assert {
        "Mitsubishi Corporation",
        "Sojitz",
        "Mitsui",
        "JOGMEC",
        "Eurasian Resources Group",
        "Aluminium of Kazakhstan",
        "Alcoa",
        "Atlas Lithium",
        "C29 Metals",
    } <= firms


CANONICAL = {
    "minerals": {"gallium", "germanium", "antimony", "lithium", "rare earths", "tin", "copper"},
    "firms": {
        "Mitsubishi Corporation",
        "Aluminium of Kazakhstan",
        "Eurasian Resources Group",
        "Sojitz",
        "Mitsui",
        "Atlas Lithium",
        "JOGMEC",
        "Alcoa",
    },
}


def test_shipped_terms_equal_the_corpus_labels(corpus: Path) -> None:
    result = watcher(
        "rules",
        "test",
        "--rules",
        str(ROOT / "rules"),
        "--stories",
        str(corpus / "stories.jsonl"),
        "--format",
        "jsonl",
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    labelled = [json.loads(line) for line in (corpus / "stories.jsonl").read_text().splitlines()]
    assert [d["id"] for d in lines] == [d["id"] for d in labelled]
    for got, want in zip(lines, labelled, strict=True):
        found = {k: sorted(set(got["terms"].get(k, [])) & CANONICAL[k]) for k in CANONICAL}
        assert found == {k: sorted(v) for k, v in want["mentions"].items()}, got["id"]


def test_shipped_terms_on_our_own_sentences() -> None:
    m = Matcher(load_rules(ROOT / "rules"))
    cases = {
        ("Mitsui & Co. buys stake in Atlas Lithium", ""): {
            "firms": {"Mitsui", "Atlas Lithium"},
            "minerals": {"lithium"},
        },
        ("Aluminum of Kazakhstan (AOK) ships alumina", ""): {
            "firms": {"Aluminium of Kazakhstan"},
            "minerals": {"alumina"},
        },
        ("Mitsubishi Motors and Mitsubishi UFJ report", "An erg of energy; Latin music"): {
            "firms": set(),
            "minerals": set(),
        },
        ("JOGMEC backs Sojitz", "rare-earth magnets from Lynas"): {
            "firms": {"JOGMEC", "Sojitz", "Lynas"},
            "minerals": {"rare earths"},
        },
        # names that other firms, car models and places share
        ("2027 Mitsubishi Outlander review", "Mitsubishi Tanabe Pharma; the Mitsubishi Triton"): {
            "firms": set(),
            "minerals": set(),
        },
        ("Italy's ERG buys wind farms", "Albemarle County schools close; ERG SpA results"): {
            "firms": set(),
            "minerals": set(),
        },
        ("Platinum Equity to acquire a parts maker", "The album went platinum"): {
            "firms": set(),
            "minerals": set(),
        },
        ("Platinum and palladium prices rise", ""): {
            "firms": set(),
            "minerals": {"platinum group metals"},
        },
        # minerals' names that tech, security, car, colour and everyday news use
        ("Hackers used Cobalt Strike beacons", "The Chevrolet Cobalt recall; cobalt blue paint"): {
            "firms": set(),
            "minerals": set(),
        },
        ("Google patches a Chromium bug", "Chromium-based browsers and the Chromium engine"): {
            "firms": set(),
            "minerals": set(),
        },
        ("Rhodium Group says exports rose", "Her platinum blonde hair; a platinum sponsor"): {
            "firms": set(),
            "minerals": set(),
        },
        ("Tin foil hats and the Tin Man", "a tin can on a tin roof"): {
            "firms": set(),
            "minerals": set(),
        },
        ("Cobalt and chromium prices rebound", "Tin output rises; platinum group metals too"): {
            "firms": set(),
            "minerals": {"cobalt", "chromium", "tin", "platinum group metals"},
        },
        ("ERG and Albemarle sign a deal", "Mitsubishi will import the ore"): {
            "firms": {"Eurasian Resources Group", "Albemarle", "Mitsubishi Corporation"},
            "minerals": set(),
        },
        # Kazakh adds suffixes to the Russian names: gallium's, germanium (acc.), lithium's
        ("Галлийдің экспорты өсті", "германийді өндіру; литийдің бағасы; сирек жер металдары"): {
            "firms": set(),
            "minerals": {"gallium", "germanium", "lithium", "rare earths"},
        },
        ("Германия и Галлиполи", "Германии, Германию; объединение двух Германий"): {
            "firms": set(),
            "minerals": set(),
        },
    }
    for (title, summary), want in cases.items():
        terms = m.match(plain_text(title), summary).terms
        assert {k: set(v) for k, v in terms.items()} == want, title


def test_rules_test_cli_table_and_filters(tmp_path: Path) -> None:
    rules_dir = folder(
        tmp_path,
        "rules:\n  - name: tin-news\n    when: '@minerals:\"tin\"'\n  - name: firm-news\n    when: '@firms'\n",
    )
    stories = tmp_path / "s.jsonl"
    stories.write_text(
        '{"id": "a", "title": "Tin output rises at Alcoa", "published": "2026-01-01T00:00:00Z"}\n'
        '{"id": "b", "title": "Latin music", "published": "2026-01-01T00:00:00Z"}\n'
    )
    table = watcher("rules", "test", "--rules", str(rules_dir), "--stories", str(stories))
    assert "a  [Tin] output rises at [Alcoa]" in table.stdout
    assert (
        'matched tin-news: @minerals:"tin"' in table.stdout
        and "1 of 2 stories matched" in table.stdout
    )
    only = watcher(
        "rules",
        "test",
        "--rules",
        str(rules_dir),
        "--stories",
        str(stories),
        "--rule",
        "firm-news",
        "--format",
        "jsonl",
    )
    assert [json.loads(line)["rules"] for line in only.stdout.splitlines()] == [["firm-news"], []]
    unknown = watcher(
        "rules", "test", "--rules", str(rules_dir), "--stories", str(stories), "--rule", "nope"
    )
    assert unknown.returncode == 2 and "no rule named 'nope'" in unknown.stderr
    stories.write_text(
        '{"id": "c", "title": "Smelter news", "summary": "Output rose.", "published": '
        '"2026-01-01T00:00:00Z", "body": "<p>Output rose.</p><p>Alcoa runs the plant.</p>"}\n'
    )
    table = watcher("rules", "test", "--rules", str(rules_dir), "--stories", str(stories))
    assert "    in the full text: Output rose. [Alcoa] runs the plant." in table.stdout


def test_rules_test_tries_a_query_with_the_folders_term_lists(tmp_path: Path) -> None:
    """A query tried on stories before it goes in a rule file; its problems placed as a
    rule file's are."""
    rules_dir = folder(tmp_path, "rules:\n  - name: tin-news\n    when: '@minerals:\"tin\"'\n")
    stories = tmp_path / "s.jsonl"
    stories.write_text(
        '{"id": "a", "title": "Tin output rises at Alcoa", "published": "2026-01-01T00:00:00Z"}\n'
        '{"id": "b", "title": "Gallium from Kazakhstan", "published": "2026-01-01T01:00:00Z"}\n'
    )
    test = ("rules", "test", "--rules", str(rules_dir), "--stories", str(stories))
    tried = watcher(*test, "--query", "@minerals AND Kazakhstan")
    assert tried.returncode == 0, tried.stderr
    assert "b  [Gallium] from [Kazakhstan]\n    matched (query): @minerals AND" in tried.stdout
    assert "AND Kazakhstan" in tried.stdout  # as written, not lower-cased
    phrase = watcher(*test, "--query", 'title:"Gallium  From" OR Kazakh*').stdout
    assert 'matched (query): title:"Gallium From"\n' in phrase, phrase
    assert "a  " not in tried.stdout and "tin-news" not in tried.stdout  # the query alone
    assert tried.stdout.splitlines()[-1].split() == ["(query)", "1", "1"]
    jsonl = watcher(*test, "--query", "@minerals AND Kazakhstan", "--format", "jsonl").stdout
    assert [json.loads(line)["rules"] for line in jsonl.splitlines()] == [[], ["(query)"]]
    unknown = watcher(*test, "--query", "tin OR @metals")
    assert unknown.returncode == 2 and unknown.stderr.startswith(
        "--query:1:8: rule '(query)': unknown term list @metals (known: firms, minerals)"
    )
    unclosed = watcher(*test, "--query", "tin AND (gallium")
    assert unclosed.returncode == 2 and unclosed.stderr.startswith("--query:1:9: ")
    both = watcher(*test, "--query", "tin", "--rule", "tin-news")
    assert both.returncode == 2 and "not allowed with" in both.stderr


def tin_stories(tmp_path: Path) -> Path:
    """Four stories as JSON lines: two outlets' copies of one tin story, a firm's, another
    tin story."""
    lead = "A smelter in Bolivia will double its tin output next year, its owner said on Monday."
    line = '{{"id": "{0}", "title": "{1}", "summary": "{2}", "source": "{3}", "published": "2026-01-01T0{4}:00:00Z"}}\n'
    stories = tmp_path / "s.jsonl"
    stories.write_text(
        line.format("a", "Bolivian smelter to double tin output", lead, "Wire", 1)
        + line.format("b", "Bolivian smelter to double tin output - Daily", lead, "Daily", 2)
        + line.format("c", "Alcoa names a new chief executive", "Alcoa named a chief.", "Wire", 3)
        + line.format("d", "Tin prices slip in London trading", "Prices fell.", "Wire", 4)
    )  # fmt: skip
    return stories


def test_rules_test_counts_the_news_items_each_rule_would_alert(tmp_path: Path) -> None:
    """Two outlets' copies of one wire story are one news item, one alert."""
    rules_dir = folder(
        tmp_path,
        "rules:\n  - name: tin-news\n    when: '@minerals:\"tin\"'\n  - name: firm-news\n    when: '@firms'\n",
    )
    stories = tin_stories(tmp_path)
    table = watcher("rules", "test", "--rules", str(rules_dir), "--stories", str(stories)).stdout
    rows = [re.split(r"\s{2,}", line) for line in table.split("\n\n")[-1].splitlines()]
    assert rows == [
        ["rule", "stories", "news items"],
        ["tin-news", "3", "2"], ["firm-news", "1", "1"], ["(any rule)", "4", "3"],
    ]  # fmt: skip
    only = watcher(
        "rules", "test", "--rules", str(rules_dir), "--stories", str(stories), "--rule", "tin-news"
    ).stdout
    assert only.split("\n\n")[-1].splitlines()[1:] == ["tin-news        3           2"]


def test_rules_test_counts_the_news_items_a_rule_that_waits_for_outlets_would_alert(
    tmp_path: Path,
) -> None:
    """With min_sources, each match says how many outlets carry its news item, and a last
    column counts the news items that have enough: the alerts."""
    rules_dir = folder(
        tmp_path,
        "rules:\n  - name: tin-news\n    when: '@minerals:\"tin\"'\n    min_sources: 2\n"
        "  - name: firm-news\n    when: '@firms'\n",
    )
    stories = tin_stories(tmp_path)
    out = watcher("rules", "test", "--rules", str(rules_dir), "--stories", str(stories)).stdout
    assert out.count('matched tin-news: @minerals:"tin" (min_sources 2: 2 outlets)') == 2
    assert out.count('matched tin-news: @minerals:"tin" (min_sources 2: 1 outlet)') == 1
    assert "matched firm-news: @firms\n" in out
    rows = [re.split(r"\s{2,}", line) for line in out.split("\n\n")[-1].splitlines()]
    assert rows == [
        ["rule", "stories", "news items", "alerting"],
        ["tin-news", "3", "2", "1"], ["firm-news", "1", "1", "1"], ["(any rule)", "4", "3", "2"],
    ]  # fmt: skip


def test_rules_test_diff_shows_what_an_edit_of_the_rules_changes(tmp_path: Path) -> None:
    """An edited copy of the rules, tested against the rules in force (the config's): the
    stories the two match otherwise, with the clause, and per rule the news items it would
    alert on before and after, `min_sources` counted."""
    in_force = folder(
        tmp_path,
        "rules:\n  - name: tin-news\n    when: '@minerals:\"tin\"'\n  - name: firm-news\n    when: '@firms'\n",
    )
    (tmp_path / "watcher.yaml").write_text("state: w.db\nrules: rules/\n")
    draft = tmp_path / "draft"
    shutil.copytree(in_force, draft)
    (draft / "rules.yaml").write_text(
        "rules:\n  - name: tin-news\n    when: '@minerals:\"tin\" AND NOT prices'\n"
        "  - name: firm-news\n    when: '@firms OR smelter'\n    min_sources: 2\n"
    )
    stories = tin_stories(tmp_path)  # a and b: one news item of two outlets; c; d
    test = ("rules", "test", "--stories", str(stories), "--rules", str(draft), "--diff")
    out = watcher(*test, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    changes, alerts = out.stdout.split("\n\n")
    assert changes.splitlines() == [
        "a  Bolivian smelter to double tin output", "    + firm-news: smelter",
        "b  Bolivian smelter to double tin output - Daily", "    + firm-news: smelter",
        "d  Tin prices slip in London trading", '    - tin-news: @minerals:"tin"',
        "3 of 4 stories matched otherwise",
    ]  # fmt: skip
    rows = [re.split(r"\s{2,}", line.strip()) for line in alerts.splitlines()]
    assert rows == [
        ["rule", "news items before", "after", "gained", "lost"],
        ["firm-news", "1", "1", "1", "1"],  # c has one outlet of the 2 now needed
        ["tin-news", "2", "1", "0", "1"],
    ]  # fmt: skip
    jsonl = watcher(*test, "--format", "jsonl", "--rule", "firm-news", cwd=tmp_path).stdout
    assert [json.loads(line) for line in jsonl.splitlines()] == [
        {"id": "a", "rules": ["firm-news"], "before": []},
        {"id": "b", "rules": ["firm-news"], "before": []},
        {"id": "c", "rules": ["firm-news"], "before": ["firm-news"]},
        {"id": "d", "rules": [], "before": []},
    ]
    named = watcher(*test[:-3], "--rules", str(in_force), "--diff", str(draft), cwd=tmp_path)
    assert named.stdout.splitlines()[1] == "    - firm-news: smelter"  # the other way round
    for wrong in ([str(draft)], [str(in_force), "--query", "tin"]):  # itself; a query
        refused = watcher(*test, *wrong, cwd=tmp_path)
        assert refused.returncode == 2 and "--diff compares" in refused.stderr
    broken = tmp_path / "broken"
    shutil.copytree(in_force, broken)
    (broken / "rules.yaml").write_text("rules:\n  - name: tin-news\n    when: 'tin AND ('\n")
    refused = watcher(*test[:-1], "--diff", str(broken), cwd=tmp_path)
    assert refused.returncode == 2 and refused.stderr.startswith(f"{broken / 'rules.yaml'}:3:")


FEED_RULES = (
    "rules:\n"
    "  - name: tin-wires\n    when: tin\n    feeds: [wire]\n"  # a tag of feeds
    "  - name: tin-blog\n    when: tin\n    feeds: Blog\n"  # a feed's name, alone
    "  - name: tin-any\n    when: tin\n"
    "  - name: tin-typo\n    when: tin\n    feeds: [wrie]\n"
    "  - name: gallium-wires\n    when: gallium\n    feeds: [wire]\n"
)


def feeds_of_tin(tmp_path: Path) -> Path:
    """A config of three feeds, one tagged wire, two with a tin story of its own and one
    with a gallium story, and a console subscriber of every rule; the rules folder holds
    `FEED_RULES`."""
    folder(tmp_path, FEED_RULES)
    stories = {
        "wire": ("Tin output rises at Bolivian smelter", "A smelter in Oruro raised output."),
        "blog": ("Why tin prices fell this week", "Traders sold on weaker Chinese demand."),
        "notes": ("Gallium recycler opens a plant", "It recovers gallium from scrap."),
    }
    for name, (title, summary) in stories.items():
        (tmp_path / f"{name}.xml").write_bytes(rss([
            f"<item><title>{title}</title><link>https://{name}.test/1</link>"
            f"<pubDate>Tue, 01 Dec 2026 09:00:00 +0000</pubDate>"
            f"<description>{summary}</description></item>"
        ]))  # fmt: skip
    config = tmp_path / "watcher.yaml"
    config.write_text(
        "state: w.db\nrules: rules/\nbackfill: all\nmax_age: 'off'\n"
        "feeds:\n  - {name: Wire, url: 'file:wire.xml', tags: [wire, asia]}\n"
        "  - {name: Blog, url: 'file:blog.xml'}\n  - {name: Notes, url: 'file:notes.xml'}\n"
        "subscribers:\n  - {name: desk, console: true}\n"
    )
    return config


def test_a_rule_with_feeds_takes_only_the_stories_of_those_feeds(tmp_path: Path) -> None:
    """`feeds:` names feeds, by name or by a tag the config gives them: the service (whose
    parse pool matches) and `rules test` match such a rule only in their stories. A name
    that is no feed's nor tag's is warned of, as a subscriber's unknown name is."""
    config = feeds_of_tin(tmp_path)
    once = watcher("--config", str(config), "once", cwd=tmp_path)
    assert once.returncode == 0, once.stderr
    assert "rule 'tin-typo' takes stories of 'wrie' (feeds:)" in once.stderr
    db = sqlite3.connect(tmp_path / "w.db")
    feed_of = dict(db.execute("SELECT id, feed FROM stories"))
    matched = sorted((r, feed_of[s]) for r, s in db.execute("SELECT rule, story_id FROM matches"))
    assert matched == [
        ("tin-any", "Blog"), ("tin-any", "Wire"), ("tin-blog", "Blog"), ("tin-wires", "Wire"),
    ]  # fmt: skip
    tested = watcher("--config", str(config), "rules", "test", "--since", "3650d",
                     "--format", "jsonl", cwd=tmp_path)  # fmt: skip
    by_feed = {
        feed_of[line["id"]]: line["rules"] for line in map(json.loads, tested.stdout.splitlines())
    }
    assert by_feed == {
        "Wire": ["tin-wires", "tin-any"], "Blog": ["tin-blog", "tin-any"], "Notes": [],
    }  # fmt: skip
    (notes,) = [story for story, feed in feed_of.items() if feed == "Notes"]
    why = watcher("--config", str(config), "why", notes, cwd=tmp_path).stdout
    assert "rules:    none matched this news item\n" in why
    assert (
        "the words of gallium-wires are in it, but not its feeds: (this story is of feed 'Notes')"
        in why
    )
    checked = watcher("--config", str(config), "rules", "check", cwd=tmp_path)
    assert (
        checked.returncode == 0
        and "'wrie' (feeds:), which is no feed's name or tag" in checked.stderr
    )
    lines = tmp_path / "s.jsonl"  # a line's feed: the configured feed of that name, its tags
    lines.write_text(
        '{"id": "a", "feed": "Wire", "title": "Tin rises", "published": "2026-12-01T00:00:00Z"}\n'
        '{"id": "b", "title": "Tin falls", "published": "2026-12-01T00:00:00Z"}\n'
    )
    from_file = watcher("--config", str(config), "rules", "test", "--stories", str(lines),
                        "--format", "jsonl", cwd=tmp_path)  # fmt: skip
    assert [json.loads(line)["rules"] for line in from_file.stdout.splitlines()] == [
        ["tin-wires", "tin-any"], ["tin-any"],
    ]  # fmt: skip
    from_url = watcher("--config", str(config), "rules", "test", "--url", "file:wire.xml",
                       "--format", "jsonl", cwd=tmp_path)  # fmt: skip
    assert json.loads(from_url.stdout)["rules"] == ["tin-wires", "tin-any"]  # named as Wire


def test_commands_over_a_period_of_stories_read_the_database_as_they_go(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`rules test --since 30d` (as README suggests, before an edit) read every story into
    memory first, then kept every result: a month of 5,000 feeds' stories took gigabytes
    (200,000 stories, 620 MB). Stories are read a chunk at a time now, and only those a rule
    matched are kept for the table; the others are counted. `watcher stories --format
    jsonl` prints each as it is read. Here, 5,000 stories with the longest body kept (20,000
    characters: 100 MB held at once) are read within 40 MB."""
    rules_dir = folder(tmp_path, "rules:\n  - name: r\n    when: gallium\n")
    config = tmp_path / "watcher.yaml"
    config.write_text(
        f"state: w.db\nrules: {rules_dir}\nfeeds:\n  - {{name: f, url: 'file:f.xml'}}\n"
    )
    store = Store(tmp_path / "w.db")
    store.sync_feeds([FeedConfig(name="f", url=(tmp_path / "f.xml").as_uri(), interval=600)])
    now, body = datetime.now(UTC), "x" * MAX_BODY
    for batch in range(0, 5_000, 500):
        store.record_poll(store.feed_state("f"), [
            Story(id=f"s{n}", feed="f", guid=None, source="Wire", link=f"https://w.test/{n}",
                  title="Gallium smelter restarts" if n == 1_234 else f"Market report {n}",
                  summary="", body=body, published=now, fetched_at=now)
            for n in range(batch, batch + 500)
        ])  # fmt: skip
    store.close()
    tested, tested_peak = _traced(main, ["--config", str(config), "rules", "test", "--since", "1d"])
    out = capsys.readouterr().out
    assert tested == 0 and "s1234  [Gallium] smelter restarts" in out
    assert "1 of 5000 stories matched" in out
    printed = _Counted()  # not captured: 100 MB of JSON lines held would be counted
    with contextlib.redirect_stdout(printed):
        listed, listed_peak = _traced(
            main, ["--config", str(config), "stories", "--since", "1d", "--format", "jsonl"]
        )
    assert listed == 0 and printed.lines == 5_000
    assert max(tested_peak, listed_peak) < 40 * 2**20, (tested_peak, listed_peak)


class _Counted(io.TextIOBase):
    """A stdout that counts the lines printed and keeps none."""

    lines = 0

    def write(self, text: str) -> int:
        self.lines += text.count("\n")
        return len(text)


def _traced(call: Callable[[list[str]], int], argv: list[str]) -> tuple[int, int]:
    """What `call(argv)` returned, and the most memory Python held meanwhile."""
    tracemalloc.start()
    try:
        return call(argv), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_feeds_that_name_no_feed_is_a_problem(tmp_path: Path) -> None:
    rules_dir = folder(tmp_path, "rules:\n  - name: r\n    when: tin\n    feeds: []\n")
    checked = watcher("rules", "check", "--rules", str(rules_dir))
    assert checked.returncode == 2
    assert "rules.yaml:4:12: feeds: names no feed (leave it out for every feed)" in checked.stdout


def test_rules_test_on_a_feed_url(tmp_path: Path) -> None:
    feed = ROOT / "tests" / "fixtures" / "wire.rss.xml"
    rules_dir = folder(tmp_path, "rules:\n  - name: g\n    when: germanium\n")
    result = watcher(
        "rules", "test", "--rules", str(rules_dir), "--url", feed.as_uri(), "--format", "jsonl"
    )
    assert [json.loads(line)["rules"] for line in result.stdout.splitlines()] == [["g"], []]


def test_rules_test_and_ingest_fetch_a_feed_url_as_the_service_does(tmp_path: Path) -> None:
    """With a config, `rules test --url` and `ingest` take its poll settings: an intranet
    feed behind a company CA (`poll.ca_file`) is read, as `watcher run` reads it; without
    them, it is refused."""
    import ssl

    import trustme

    from tests.feedserver import FeedServer, fixture_bytes

    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    server = FeedServer(tls=context).start()
    try:
        server.feed("/wire.xml", fixture_bytes("wire.rss.xml"))
        rules_dir = folder(tmp_path, "rules:\n  - name: g\n    when: germanium\n")
        config = tmp_path / "watcher.yaml"
        config.write_text("feeds: []\n")
        test = ("rules", "test", "--rules", str(rules_dir), "--url", server.url("/wire.xml"))
        ingest = ("ingest", server.url("/wire.xml"))
        for command in (test, ingest):
            refused = watcher("--config", str(config), *command)
            assert refused.returncode == 1 and "TLS certificate refused" in refused.stderr
        config.write_text("poll:\n  ca_file: ca.pem\nfeeds: []\n")
        read = watcher("--config", str(config), *test, "--format", "jsonl")
        assert read.returncode == 0, read.stderr
        assert [json.loads(line)["rules"] for line in read.stdout.splitlines()] == [["g"], []]
        ingested = watcher("--config", str(config), *ingest)
        assert ingested.returncode == 0, ingested.stderr
        assert len(ingested.stdout.splitlines()) == 2
    finally:
        server.stop()


def test_hot_reload_keeps_the_last_good_rules(tmp_path: Path) -> None:
    rules_dir = folder(tmp_path, "rules:\n  - name: r\n    when: gallium\n")
    live = LiveRules(rules_dir)
    first = live.version
    assert live.reload_if_changed().changed is False
    (rules_dir / "rules.yaml").write_text("rules:\n  - name: r\n    when: (gallium\n")
    broken = live.reload_if_changed()
    assert broken.error is not None and live.version == first and live.last_error is not None
    assert live.matcher.match("Gallium", "").rules  # the old rule still works
    (rules_dir / "rules.yaml").write_text("rules:\n  - name: r2\n    when: germanium\n")
    assert live.reload_if_changed().changed and live.last_error is None
    assert [m.rule for m in live.matcher.match("Germanium", "").rules] == ["r2"]


def test_a_rule_file_too_large_or_gone_is_a_problem_and_reload_keeps_the_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rule file larger than 16 MB (a log saved as .yaml) is not read whole; one removed
    between listing and reading raised FileNotFoundError out of the reload job."""
    rules_dir = folder(tmp_path, "rules:\n  - name: r\n    when: gallium\n")
    live = LiveRules(rules_dir)
    (rules_dir / "huge.yaml").write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    huge = live.reload_if_changed()
    assert huge.error is not None and live.matcher.match("Gallium", "").rules
    assert [str(p) for p in huge.error.problems] == [
        f"{rules_dir / 'huge.yaml'}: cannot read: larger than 16 MB, more than any config, "
        "rule or OPML file"
    ]
    (rules_dir / "huge.yaml").unlink()
    listed = loader.rule_files(rules_dir)
    monkeypatch.setattr(loader, "rule_files", lambda _: [*listed, rules_dir / "gone.yaml"])
    gone = live.reload()
    assert gone.error is not None and "gone.yaml: cannot read: No such file" in str(gone.error)
    assert live.matcher.match("Gallium", "").rules


def test_hidden_files_of_the_rules_folder_are_not_rule_files(tmp_path: Path) -> None:
    """A Mac copying a folder leaves `._NAME` beside each file, its resource fork in binary:
    read as a rule file, it stopped the service at start. `*.yml` files are rule files."""
    rules_dir = folder(tmp_path, "rules:\n  - name: r\n    when: gallium\n")
    (rules_dir / "._rules.yaml").write_bytes(b"\x00\x05\x16\x07\x00\x02Mac OS X")
    (rules_dir / ".draft.yaml").write_text("rules: [oops")
    (rules_dir / "more.yml").write_text("rules:\n  - name: r2\n    when: germanium\n")
    assert [p.name for p in loader.rule_files(rules_dir)] == [
        "lists.yaml",
        "rules.yaml",
        "more.yml",
    ]
    ruleset = load_rules(rules_dir)
    assert [rule.name for rule in ruleset.rules] == ["r", "r2"]


def test_missing_rules_folder_matches_nothing_until_it_appears(tmp_path: Path) -> None:
    live = LiveRules(tmp_path / "rules")
    assert live.matcher.match("Gallium", "").rules == ()
    folder(tmp_path, "rules:\n  - name: r\n    when: gallium\n")
    assert live.reload_if_changed().changed
    assert live.matcher.match("Gallium", "").rules


def test_matches_are_recorded_once_per_cluster_with_the_rule_set_version(tmp_path: Path) -> None:
    import asyncio
    from datetime import UTC, datetime

    from watcher.config import PollSettings
    from watcher.fetch import Fetcher
    from watcher.models import FeedConfig
    from watcher.pipeline import Pipeline
    from watcher.store import Store

    rules_dir = folder(
        tmp_path,
        "rules:\n  - name: germanium-news\n    when: germanium\n",
        lists="lists:\n  minerals: [germanium, antimony]\n",
    )
    feed_file = tmp_path / "wire.xml"
    feed_file.write_bytes((ROOT / "tests" / "fixtures" / "wire.rss.xml").read_bytes())
    copy = tmp_path / "copy.xml"  # the same story again in a second feed: same cluster
    copy.write_bytes(
        feed_file.read_bytes().replace(b"wire-101", b"copy-101").replace(b"id=101", b"id=901")
    )
    store = Store(tmp_path / "w.db")
    feeds = [
        FeedConfig(name="Wire", url=feed_file.as_uri(), interval=600),
        FeedConfig(name="Copy", url=copy.as_uri(), interval=600),
    ]
    store.sync_feeds(feeds)
    live = LiveRules(rules_dir)

    async def poll() -> list:  # type: ignore[type-arg]
        fetcher = Fetcher(PollSettings())
        pipeline = Pipeline(
            store=store,
            fetcher=fetcher,
            settings=PollSettings(),
            rules=live,
            clock=lambda: datetime(2026, 11, 24, tzinfo=UTC),
        )
        try:
            return [await pipeline.refresh_feed(f) for f in feeds]
        finally:
            await fetcher.aclose()

    wire, again = asyncio.run(poll())
    (match,) = wire.matches
    assert (match.rule, match.ruleset_version, match.terms) == (
        "germanium-news",
        live.version,
        {"minerals": ["germanium"]},
    )
    assert again.matches == ()  # the reprint joined the cluster: no second match
    recorded = store.matches_for(match.cluster)
    assert [(m.rule, m.story, m.ruleset_version) for m in recorded] == [
        ("germanium-news", match.story, live.version)
    ]


def test_matches_made_in_the_parse_pool_equal_the_services() -> None:
    """A spawned pool worker, as the service's are, matches stories against the rule set in
    force exactly as the service does; asked for a version its folder does not hold, it
    leaves the stories to the service."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from watcher.jsonl import read_stories
    from watcher.rules.live import PoolMatches, match_in_pool

    fixtures = read_stories(ROOT / "tests" / "fixtures" / "stories.jsonl")
    unwatched = replace(fixtures[0], id="unwatched", title="Rain all week", summary="Cold too.")
    stories = [*fixtures, unwatched]
    live = LiveRules(ROOT / "rules")
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
        pooled = pool.submit(match_in_pool, stories, ROOT / "rules", live.version).result()
        other = pool.submit(match_in_pool, stories, ROOT / "rules", "another").result()
    everything = {s.id: live.matcher.match(s.title, s.summary, s.source) for s in stories}
    expected = {key: found for key, found in everything.items() if found.rules}
    assert pooled == PoolMatches(live.version, expected)
    assert len(expected) >= 3 and "unwatched" not in expected  # it matched no rule
    assert other is None


def test_pool_matches_count_only_when_made_against_the_rule_set_in_force(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from watcher.config import PollSettings
    from watcher.fetch import Fetcher
    from watcher.models import Assignment, ClusteredStory, Story
    from watcher.pipeline import Pipeline
    from watcher.rules.live import PoolMatches
    from watcher.rules.matcher import RuleMatch, StoryMatch
    from watcher.store import Store

    live = LiveRules(folder(tmp_path, "rules:\n  - name: r\n    when: gallium\n"))
    when = datetime(2026, 11, 24, tzinfo=UTC)
    story = Story(id="s", feed="f", guid=None, source="x", title="Gallium", summary="", link="",
                  published=when, fetched_at=when)  # fmt: skip
    placed = [ClusteredStory(story=story, assignment=Assignment(story="s", cluster=7, level=None))]
    pipeline = Pipeline(store=Store(tmp_path / "w.db"), fetcher=Fetcher(PollSettings()),
                        settings=PollSettings(), rules=live, clock=lambda: when)  # fmt: skip
    made = {"s": StoryMatch(rules=(RuleMatch("made-in-pool", "gallium", ()),), terms={})}
    current = pipeline.settler.match_rules(placed, PoolMatches(live.version, made))
    stale = pipeline.settler.match_rules(placed, PoolMatches("an older version", made))
    assert [(m.rule, m.cluster) for m in current] == [("made-in-pool", 7)]
    assert [(m.rule, m.cluster) for m in stale] == [("r", 7)]
    # a story the pool left out matched no rule there: the service does not match it again
    assert pipeline.settler.match_rules(placed, PoolMatches(live.version, {})) == []
    assert [m.rule for m in pipeline.settler.match_rules(placed, None)] == ["r"]


class Running:
    """`watcher run` on a config in its own process; its output in out.log and err.log."""

    def __init__(self, config: Path) -> None:
        import subprocess
        import sys

        self.logs = config.parent
        self.out = (self.logs / "out.log").open("w")
        self.err = (self.logs / "err.log").open("w")
        command = ["-m", "watcher", "--config", str(config), "run", "--listen", "127.0.0.1:0"]
        self.proc = subprocess.Popen([sys.executable, *command], stdout=self.out, stderr=self.err)

    def wait_for(self, log: str, text: str, seconds: float = 20) -> None:
        import time

        path = self.logs / log
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if text in path.read_text():
                return
            assert self.proc.poll() is None, path.read_text()
            time.sleep(0.2)
        raise AssertionError(f"{text!r} not in {path.read_text()}")

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)
        self.out.close()
        self.err.close()


def wire_config(tmp_path: Path, subscribers: str) -> Path:
    """A config of the rules/ folder and the Wire fixture feed, every story news."""
    feed = tmp_path / "wire.xml"
    feed.write_bytes((ROOT / "tests" / "fixtures" / "wire.rss.xml").read_bytes())
    config = tmp_path / "watcher.yaml"
    config.write_text(
        f"state: w.db\nrules: rules/\nbackfill: all\nfeeds:\n  - name: Wire\n"
        f"    url: {feed.as_uri()}\nsubscribers:\n{subscribers}"
    )
    return config


def test_run_survives_a_broken_rule_edit_and_reloads_a_good_one(tmp_path: Path) -> None:
    import signal
    import time

    rules_dir = folder(tmp_path, "rules:\n  - name: germanium-news\n    when: germanium\n")
    config = wire_config(
        tmp_path, "  - name: desk\n    console: true\n    follow: [antimony-news]\n"
    )
    running = Running(config)
    proc, wait_for, err_log = running.proc, running.wait_for, tmp_path / "err.log"
    try:
        wait_for("out.log", "MATCH rule germanium-news")
        unknown = "subscriber 'desk' follows 'antimony-news', which is no rule's name or tag"
        assert unknown in err_log.read_text()  # said on start
        (rules_dir / "rules.yaml").write_text("rules:\n  - name: broken\n    when: (germanium\n")
        wait_for("err.log", "rule reload failed, keeping the rules in force")
        assert "rules.yaml:3:11: rule 'broken': unbalanced parentheses" in err_log.read_text()
        (rules_dir / "rules.yaml").write_text(
            "rules:\n  - name: antimony-news\n    when: antimony\n"
        )
        wait_for("err.log", "rules reloaded version=")
        (rules_dir / "rules.yaml").write_text(
            "rules:\n  - name: antimony-news\n    when: antimony\n    notify: [dsek]\n"
        )
        wait_for("err.log", "rules.yaml:2: rule 'antimony-news' notifies 'dsek', who")
        assert err_log.read_text().count(unknown) == 1  # followed since
        proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        assert proc.poll() is None  # SIGHUP reloads; it does not stop the service
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        running.close()


def test_run_alerts_the_waiting_news_when_a_rule_asks_for_fewer_outlets(tmp_path: Path) -> None:
    """The service checks the matches waiting for outlets again when it takes new rules."""
    waits = "rules:\n  - name: germanium-news\n    when: germanium\n    min_sources: {0}\n"
    rules_dir = folder(tmp_path, waits.format(2))
    config = wire_config(tmp_path, "  - name: desk\n    console: true\n    follow: ['*']\n")
    running = Running(config)
    try:
        running.wait_for("out.log", "MATCH rule germanium-news")
        running.wait_for("out.log", "(waiting: alerts once as many outlets carry")
        assert "ALERT desk" not in (tmp_path / "out.log").read_text()
        (rules_dir / "rules.yaml").write_text(waits.format(1))
        running.wait_for("out.log", "ALERT desk (alert 1): [watcher] germanium-news:")
        matches = [line for line in (tmp_path / "out.log").read_text().splitlines()
                   if line.startswith("MATCH rule germanium-news")]  # fmt: skip
        assert len(matches) == 2 and "(waiting" not in matches[1]
    finally:
        running.close()


def test_rules_check_warns_of_names_that_follow_or_notify_no_one(tmp_path: Path) -> None:
    folder(tmp_path, "rules:\n  - name: r\n    when: gallium\n    notify: [desk, dsek]\n")
    config = tmp_path / "watcher.yaml"
    config.write_text("rules: rules/\nsubscribers:\n  - name: desk\n    console: true\n"
                      "    follow: [r, gallium-news]\n")  # fmt: skip
    checked = watcher("--config", str(config), "rules", "check")
    assert checked.returncode == 0 and checked.stdout.endswith(": OK\n")
    assert checked.stderr.splitlines() == [
        "watcher: warning: subscriber 'desk' follows 'gallium-news', which is no rule's name "
        "or tag",
        f"watcher: warning: {tmp_path / 'rules' / 'rules.yaml'}:2: rule 'r' notifies 'dsek', "
        "who is no subscriber (did you mean 'desk'?)",
    ]
    alone = watcher("rules", "check", "--rules", str(tmp_path / "rules"))  # no config to check
    assert alone.returncode == 0 and alone.stderr == ""


def test_rules_commands_find_the_folder_through_watcher_config(tmp_path: Path) -> None:
    folder(tmp_path, "rules:\n  - name: r\n    when: gallium\n")
    config = tmp_path / "elsewhere.yaml"
    config.write_text("rules: rules/\n")
    result = watcher("rules", "check", cwd=ROOT / "tests", env={"WATCHER_CONFIG": str(config)})
    assert result.returncode == 0 and result.stdout.startswith(str(tmp_path / "rules"))
