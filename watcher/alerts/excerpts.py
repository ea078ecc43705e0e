"""The words a rule matched, marked, and the stretches of a story's full text around them.

In: a story, and the hits of the rules it matched. Out: spans by field, text with its spans
marked, and excerpts of the full text (each with the spans inside it). Pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from watcher.models import Story
from watcher.rules.condition import Hit

EXCERPT_CHARS = 100  # of a story's full text shown on each side of a word matched there
EXCERPTS_MAX = 3


def marked(text: str, spans: list[tuple[int, int]], start: str, end: str, escape: Any) -> str:
    """The text, escaped, with each span (overlapping ones once) between `start` and `end`."""
    out, pos = [], 0
    for a, b in sorted(set(spans)):
        if a < pos:
            continue
        out += [escape(text[pos:a]), start, escape(text[a:b]), end]
        pos = b
    out.append(escape(text[pos:]))
    return "".join(out)


def hit_spans(hits: Iterable[Hit]) -> dict[str, list[tuple[int, int]]]:
    """The spans of matched words by field ('title', 'summary', 'body'), as `render` and
    `body_excerpts` take them."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for hit in hits:
        spans.setdefault(hit.field, []).append((hit.start, hit.end))
    return spans


Excerpt = tuple[str, list[tuple[int, int]]]  # a stretch of text and the spans in it


def excerpts(text: str, spans: list[tuple[int, int]]) -> list[Excerpt]:
    """The stretches of a story's full text around the words matched there (at most
    `EXCERPTS_MAX`, overlapping ones joined, cut at spaces, "…" where text is left out),
    each with the spans of those words within it."""
    found: list[list[int]] = []  # [start, end] of each stretch
    for a, b in sorted(set(spans)):
        start, end = max(0, a - EXCERPT_CHARS), min(len(text), b + EXCERPT_CHARS)
        if found and start <= found[-1][1]:
            found[-1][1] = max(found[-1][1], end)
        elif len(found) < EXCERPTS_MAX:
            found.append([start, end])
    out = []
    for start, end in found:
        start = text.find(" ", start) + 1 if start > 0 and " " in text[start:end] else start
        end = text.rfind(" ", start, end) if end < len(text) and " " in text[start:end] else end
        head = "…" if start > 0 else ""
        inside = [(a - start + len(head), b - start + len(head)) for a, b in spans
                  if start <= a and b <= end]  # fmt: skip
        out.append((head + text[start:end] + ("…" if end < len(text) else ""), inside))
    return out


def body_excerpts(story: Story, spans: dict[str, list[tuple[int, int]]]) -> list[Excerpt]:
    """Excerpts (see `excerpts`) of the story's full text around the words matched there
    and not in its title or summary, which are shown whole."""
    shown = {
        text[a:b].casefold()
        for text, field in ((story.title, "title"), (story.summary, "summary"))
        for a, b in spans.get(field, [])
    }
    only = [(a, b) for a, b in spans.get("body", []) if story.body[a:b].casefold() not in shown]
    return excerpts(story.body, only)
