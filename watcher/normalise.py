"""Turn the parts of a feed entry into clean story fields.

In: strings as feedparser gives them. Out: plain text, headlines, printable names, stable
ids. Pure functions; no I/O. Links are made canonical in `urls`, dates read in `dates`.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from html import unescape
from html.parser import HTMLParser
from urllib.parse import quote

import ftfy


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML fragment, skipping scripts and styles."""

    _SKIP = frozenset({"script", "style", "template", "noscript"})
    # elements that stand apart from the text around them (HTML's block elements, table
    # cells, a line break): a space, so `<td>Gallium</td><td>Germanium</td>` is two words
    _BREAKS = frozenset({
        "p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "dt",
        "dd", "ul", "ol", "dl", "table", "thead", "tbody", "tfoot", "caption", "blockquote",
        "pre", "hr", "figure", "figcaption", "section", "article", "aside", "header",
        "footer", "nav", "main", "address", "details", "summary", "fieldset", "legend",
        "form", "hgroup", "dialog", "option",
    })  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in self._SKIP:
            self.skipping += 1
        elif tag in self._BREAKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self.skipping:
            self.skipping -= 1
        elif tag in self._BREAKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)

    def parse_marked_section(self, i: int, report: bool = True) -> int:
        """A `<![...[` section, as the standard library reads it; one it does not know
        (`<![foo[`, `<![ `) raised AssertionError from there and lost the whole feed: its
        `<![` is skipped, and what follows read as text."""
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:
            return i + 3

    def unknown_decl(self, data: str) -> None:
        """A `<![CDATA[...]]>` within the HTML (a feed that wrapped its text twice): text."""
        if data[:6].upper() == "CDATA[":
            self.handle_data(data[6:])


def plain_text(html: str | None) -> str:
    """HTML stripped, entities decoded, white space folded to single spaces."""
    if not html:
        return ""
    if "<" not in html:
        return fold_space(unescape(html))
    text = _plain_tags_text(html)
    if text is None:
        extractor = _TextExtractor()
        extractor.feed(_closable(html))
        extractor.close()
        text = "".join(extractor.parts)
    return fold_space(text)


# what the standard library's parser reads on to its end: a tag, `</`, `<?`, `<!`; a comment;
# a `<![...[` section of a name it knows (another's `<![` it skips: `parse_marked_section`)
_OPENS = re.compile(
    r"<(?:!--|!\[(?=(?:cdata|temp|ignore|include|rcdata|if|else|endif)(?![-_.\w]))|!(?!\[)|[?/a-zA-Z])",
    re.IGNORECASE,
)
_CLOSES = {"<!--": re.compile(r"--\s*>"), "<![": re.compile(r"\]\s*>"), "<": re.compile(">")}


def _closable(html: str) -> str:
    """The HTML with each `<` that nothing after it can close written `&lt;`, so that it is
    text at once: the parser reads an unclosed tag, comment or section to the end of the
    HTML at each such `<`, and 200 KB of `<a` took it 7 s (quadratic). A tag, `<?` or `<!`
    is closed by a later `>`, a comment by `-->` after its `<!--`, a section by `]>`."""
    last = {
        opened: max((m.start() for m in close.finditer(html)), default=-1)
        for opened, close in _CLOSES.items()
    }
    parts, at = [], 0
    for found in _OPENS.finditer(html):
        start, opened = found.start(), found.group()
        if opened not in _CLOSES:
            opened = "<"
        if last[opened] < start + len(opened):  # a comment's `--` after its `<!--`
            parts += [html[at:start], "&lt;"]
            at = start + 1
    return "".join(parts) + html[at:] if parts else html


# a start or end tag with a plain name: (slash, name, attributes)
TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)((?:\s[^<>]*)?)/?>")


def _plain_tags_text(html: str) -> str | None:
    """What `_TextExtractor` makes of HTML whose every '<' opens a plain tag outside scripts and
    styles (no comments, no '>' within quotes), 2.5 times faster; None for any other HTML."""
    parts = TAG.split(html)
    if html.count("<") != len(parts) // 4:
        return None
    out = [unescape(parts[0])]
    for at in range(1, len(parts), 4):
        name, attributes = parts[at + 1].lower(), parts[at + 2]
        if name in _TextExtractor._SKIP or attributes.count('"') % 2 or attributes.count("'") % 2:
            return None
        out.append(" " if name in _TextExtractor._BREAKS else "")
        out.append(unescape(parts[at + 3]))
    return "".join(out)


UNTITLED_CHARS = 100  # of an untitled entry's text, what stands for its title


def title_of_untitled(summary: str, link: str) -> str:
    """A title for an entry without one (as in Mastodon's and Bluesky's feeds): the beginning
    of its text, cut at a word with "…", else its link."""
    if len(summary) <= UNTITLED_CHARS:
        return summary or link
    cut = summary[: UNTITLED_CHARS + 1]
    cut = cut.rsplit(" ", 1)[0] if " " in cut else cut[:UNTITLED_CHARS]
    return cut.rstrip(" ,;:-–—") + "…"


# A character that UTF-8's first byte becomes when the bytes are read as Windows-1252 or
# Latin-1, then one that a following byte becomes: what every such mojibake holds.
_MOJIBAKE_HINT = re.compile(
    "[\u00c2-\u00ef][\u0080-\u00bf\u20ac\u201a\u0192\u201e\u2026\u2020\u2021\u02c6"
    "\u2030\u0160\u2039\u0152\u017d\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc"
    "\u2122\u0161\u203a\u0153\u017e\u0178]"
)


REPAIR_MAX_CHARS = 100_000  # ftfy takes about 0.25 ms a kilobyte: a longer text is kept


def without_source(title: str, source: str) -> str | None:
    """`title` without " - {source}" (or a bar or another dash) at its end, as Google News
    and many feeds end a headline with the outlet's name; None without it."""
    title, source = title.rstrip(), source.strip()
    head = title[: -len(source)] if source else ""
    if not head or title[len(head) :].lower() != source.lower():
        return None
    head = head.rstrip()
    if head[-1:] not in _SEPARATORS or head[-2:-1] not in (" ", "\t"):
        return None
    return head[:-1].strip() or None


_SEPARATORS = frozenset("-|–—")


def headline(title: str, source: str) -> str:
    """The title as shown beside its outlet's name: without that name at its end
    (`without_source`), else whole. Always a beginning of `title`, so the spans of words
    matched in the title stay in place."""
    head = without_source(title, source)
    return head if head is not None and title.startswith(head) else title


def repaired(text: str | None) -> str:
    """Text (or HTML) whose UTF-8 a site read as Windows-1252 ("Japanâ€™s" for "Japan’s")
    as it was meant, by ftfy; other text as it is ('' for None). Repair before folding
    white space: a non-breaking space's mojibake ends in one. ftfy judges only text that
    holds such a pair of characters: judging every text would cost 0.5 ms per 2 KB."""
    if not text or len(text) > REPAIR_MAX_CHARS or text.isascii():
        return text or ""
    return ftfy.fix_encoding(text) if _MOJIBAKE_HINT.search(text) else text


def fold_space(text: str) -> str:
    """Runs of white space (non-breaking spaces included) as one space, none at the ends,
    control characters as white space, and `_INVISIBLE` characters removed. A feed's ESC or
    BEL would reach an operator's terminal through `watcher stories` or the console (an
    escape sequence that retitles, recolours or clears it), and means nothing in a
    headline; a soft hyphen or a zero-width space inside a word (`gal&shy;lium`, as sites
    hyphenate long words) hides it from the rules and from clustering. A C1 control that
    Windows-1252 gives a character (`&#146;`, as old publishing systems write `’`) is
    that character, as HTML5 and feedparser read it: feedparser-rs gives the control.
    Text that is not ASCII is `composed`."""
    folded = " ".join(text.split())  # str.split's white space is re's \s: 4x faster than re.sub
    if _may_hide(folded):
        shown = _C1.sub(_windows_1252, folded)
        folded = " ".join(_INVISIBLE.sub("", _CONTROL.sub(" ", shown)).split())
    return folded if folded.isascii() else composed(folded)


def composed(text: str) -> str:
    """Text with each letter and its marks as one character where Unicode has one (NFC:
    `カ` and a combining voiced mark as `ガ`, `e` and a combining acute as `é`, as macOS and
    some publishing systems write them apart), full-width Latin letters, digits and signs as
    ASCII (`ＥＲＧ　２０２６年` as `ERG 2026年`: Japanese outlets write the same headline in
    either width) and half-width katakana as katakana (`ｶﾞﾘｳﾑ` as `ガリウム`, its voiced mark
    a character of its own, as old Japanese systems write it): to the rules, clustering and a
    reader one word either way. About 2.5 ns a character to check."""
    if max(text, default="") >= _WIDTH_FIRST and _OTHER_WIDTH.search(text):
        text = _OTHER_WIDTH.sub(lambda run: unicodedata.normalize("NFKC", run[0]), text)
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


# full-width ASCII (U+FF01 to U+FF5E), and half-width katakana and their signs (to U+FF9F)
_WIDTH_FIRST = "\uff01"
_OTHER_WIDTH = re.compile("[\uff01-\uff5e\uff61-\uff9f]+")


_C1 = re.compile("[\x80-\x9f]")


def _windows_1252(control: re.Match[str]) -> str:
    """A C1 control as the Windows-1252 character of its code (U+0092 as ’, U+0080 as €);
    one of the five it leaves undefined as it is."""
    return control.group().encode("latin-1").decode("cp1252", "ignore") or control.group()


# C0 and C1 controls and DEL that str.split does not take for white space
_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x9f]")
_C0_AND_DEL = bytes([*range(0x00, 0x09), *range(0x0E, 0x1C), 0x7F])
# characters that show as nothing and join what they stand in: soft hyphen, Mongolian vowel
# separator, zero-width space, word joiner and the invisible operators, zero-width no-break
# space (a byte order mark); and the bidi overrides (LRO, RLO), which show the characters
# after them reversed and so can disguise a headline. Zero-width (non-)joiners stay: they
# shape Persian and Indic letters and emoji. UTF-8 leads that may begin one: `_MAY_HIDE`.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b\u202d\u202e\u2060-\u2064\ufeff]")
_MAY_HIDE = (b"\xc2", b"\xe1\xa0", b"\xe2\x80", b"\xe2\x81", b"\xef\xbb")
_HIDDEN = re.compile(_CONTROL.pattern[:-1] + _INVISIBLE.pattern[1:])  # either


def _may_hide(text: str) -> bool:
    """Whether `text` may hold a character of `_CONTROL` or `_INVISIBLE`: its UTF-8 bytes
    checked in C, 1.5 us for a 2 KB summary where the regular expression takes 8 (C1
    controls are C2 80-9F); the expression looks only where such a lead byte is."""
    raw = text.encode("utf-8", "surrogatepass")
    if len(raw.translate(None, _C0_AND_DEL)) != len(raw):
        return True
    if raw.isascii():  # most text: no lead byte to look for
        return False
    c2, e1, e2_80, e2_81, ef = _MAY_HIDE  # spelt out: a generator over them cost a tenth
    if not (c2 in raw or e2_80 in raw or e2_81 in raw or ef in raw or e1 in raw):
        return False
    return _HIDDEN.search(text) is not None


CONTROL_CHARS = re.compile("[\x00-\x1f\x7f-\x9f]")  # C0 and C1 controls and DEL
# a UTF-16 surrogate alone: no text, which no UTF-8 encoder takes (PyYAML makes one of a
# "\\uD83D" escape, os.environ of a byte that is no UTF-8, aiohttp of a reason phrase's)
SURROGATE = re.compile("[\ud800-\udfff]")
# what a name or a config value must not hold: it goes into email headers, log lines and
# terminals (the controls, and the Unicode line and paragraph separators)
LINE_BREAKS_AND_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """`text` with its control characters shown as \\xNN: a server's error or reason phrase
    is shown as it came, and an escape sequence in it must not act on a terminal."""
    return text if text.isprintable() else CONTROL_CHARS.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def ascii_digits(text: str) -> bool:
    """Whether `text` is a number of ASCII digits, as HTTP headers and ports write one:
    str.isdigit also takes "²", which int() and float() refuse."""
    return text.isascii() and text.isdigit()


def without_controls(url: str) -> str:
    """A URL with its white space and the characters that print as nothing or act on what
    follows (controls, a bidi override that shows the rest of a link reversed, zero-width
    spaces) percent-encoded, as browsers send them."""
    return "".join(
        c if c.isprintable() and c != " " else quote(c, safe="", errors="replace") for c in url
    )


def story_id(feed: str, guid: str | None, link: str | None, title: str, published: str) -> str:
    """A stable id: feed + guid, else feed + link, else feed + a hash of title and date."""
    if guid:
        key = f"guid:{guid}"
    elif link:
        key = f"link:{link}"
    else:
        key = f"title:{title}\n{published}"
    return hashlib.sha256(f"{feed}\n{key}".encode()).hexdigest()[:24]
