"""The words of an alert: subject, plain text, HTML, Slack Block Kit and JSON.

In: the alert, its cluster (lead story and other outlets) and the matched spans of the story.
Out: a `Message`. Pure; Slack's limits (header 150 characters, section 3,000, 50 blocks) are
kept and &, < and > escaped in mrkdwn; HTML is escaped.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from watcher.models import Alert, Cluster, Story

HEADER_MAX = 150
SECTION_MAX = 3000


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str
    slack: dict[str, Any]
    json: dict[str, Any]


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _marked(text: str, spans: list[tuple[int, int]], start: str, end: str, escape: Any) -> str:
    out, pos = [], 0
    for a, b in sorted(set(spans)):
        if a < pos:
            continue
        out += [escape(text[pos:a]), start, escape(text[a:b]), end]
        pos = b
    out.append(escape(text[pos:]))
    return "".join(out)


def render(
    alert: Alert, story: Story, cluster: Cluster | None, spans: dict[str, list[tuple[int, int]]]
) -> Message:
    """`spans` maps 'title'/'summary' to the character spans of the matched words."""
    others = [s for s in (cluster.members if cluster else ()) if s.id != story.id]
    also = list(dict.fromkeys(s.source for s in others if s.source != story.source))
    published = story.published.strftime("%Y-%m-%d %H:%M UTC")
    terms = "; ".join(f"{k}: {', '.join(v)}" for k, v in alert.terms.items())
    subject = _cut(f"[watcher] {alert.rule}: {story.title}", 200)
    text_lines = [
        story.title,
        f"{story.source}, {published}",
        "",
        _marked(story.summary, spans.get("summary", []), "*", "*", str),
        "",
        story.link,
        f"Rule: {alert.rule}" + (f" ({terms})" if terms else ""),
    ]
    if also:
        text_lines.append(f"Also reported by: {', '.join(also)}")
    title_html = _marked(story.title, spans.get("title", []), "<mark>", "</mark>", html.escape)
    summary_html = _marked(
        story.summary, spans.get("summary", []), "<mark>", "</mark>", html.escape
    )
    body_html = (
        f"<h2>{title_html}</h2>"
        f"<p>{html.escape(story.source)}, {published}</p>"
        f"<p>{summary_html}</p>"
        f'<p><a href="{html.escape(story.link, quote=True)}">{html.escape(story.link)}</a></p>'
        f"<p>Rule: {html.escape(alert.rule)}{html.escape(f' ({terms})' if terms else '')}</p>"
        + (f"<p>Also reported by: {html.escape(', '.join(also))}</p>" if also else "")
    )
    return Message(
        subject=subject,
        text="\n".join(text_lines) + "\n",
        html=f"<html><body>{body_html}</body></html>",
        slack=_slack(alert, story, also, terms, spans),
        json=_json(alert, story, also),
    )


def _slack(
    alert: Alert, story: Story, also: list[str], terms: str, spans: dict[str, list[tuple[int, int]]]
) -> dict[str, Any]:
    link = (
        f"<{slack_escape(story.link)}|{slack_escape(story.title)}>"
        if story.link
        else slack_escape(story.title)
    )
    summary = _marked(story.summary, spans.get("summary", []), "*", "*", slack_escape)
    context = f"{slack_escape(story.source)} · rule {slack_escape(alert.rule)}"
    if terms:
        context += f" · {slack_escape(terms)}"
    if also:
        context += f" · also reported by {slack_escape(', '.join(also))}"
    return {
        "text": _cut(f"{alert.rule}: {story.title} {story.link}", SECTION_MAX),
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": _cut(story.title, HEADER_MAX)},
            },
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _cut(f"{link}\n{summary}", SECTION_MAX)},
            },
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": _cut(context, SECTION_MAX)}],
            },
        ],
    }


def _json(alert: Alert, story: Story, also: list[str]) -> dict[str, Any]:
    return {
        "alert": alert.id, "subscriber": alert.subscriber, "rule": alert.rule,
        "cluster": alert.cluster, "terms": alert.terms, "title": story.title,
        "summary": story.summary, "link": story.link, "source": story.source,
        "published": story.published.isoformat(), "also_reported_by": also,
    }  # fmt: skip
