"""The words of an alert: subject, plain text, HTML, Slack Block Kit and JSON.

In: the alert, its cluster (lead story and other outlets) and the matched spans of the story.
Out: a `Message` (`teams` makes Teams cards of it). Pure; Slack's limits (header 150
characters, section 3,000, 50 blocks) are kept and &, < and > escaped in mrkdwn; HTML is
escaped; the matched words are marked (`excerpts`).
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from watcher.alerts.excerpts import Excerpt, body_excerpts, marked
from watcher.models import (
    Alert,
    Cluster,
    Story,
)
from watcher.normalise import headline

UTC_ZONE = ZoneInfo("UTC")

HEADER_MAX = 150
SECTION_MAX = 3000
BLOCKS_MAX = 50
UNTITLED = "(untitled)"
IN_FULL_TEXT = "In the full text:"
ALSO_MATCHED = "Also matched:"  # the other rules a news item matched that its subscriber follows
FOLLOWS = "Follows earlier news:"  # a news item begun beyond max_span of a linked one


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str
    slack: list[dict[str, Any]]  # one Slack message each; a long digest is split
    json: dict[str, Any]


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cut_mrkdwn(text: str, limit: int) -> str:
    """`cut` for Slack's mrkdwn: never within a link (`<url|title>`, which Slack would show
    as its raw beginning) or an escape (`&amp;`)."""
    if len(text) <= limit:
        return text
    kept = text[: limit - 1]
    if kept.rfind("<") > kept.rfind(">"):
        kept = kept[: kept.rfind("<")]
    if (amp := kept.rfind("&")) > kept.rfind(";") and len(kept) - amp < len("&amp;"):
        kept = kept[:amp]
    return kept + "…"


def slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# a longer link is not made of a title in Slack, nor a button in Teams: it would take the
# most of a Slack section's 3,000 characters (one past them was cut to its raw beginning,
# the title and summary lost), and a Teams card past its 28 KB is refused
LINK_MAX = SECTION_MAX // 2


def slack_link(url: str, text: str) -> str:
    """`text` (mrkdwn, escaped) as a Slack link to `url`, alone where there is no URL or a
    URL longer than `LINK_MAX`; a `|` in the URL, where Slack would end it, is
    percent-encoded."""
    if not url or len(url) > LINK_MAX:
        return text
    return f"<{slack_escape(url).replace('|', '%7C')}|{text}>"


def html_link(url: str, text: str) -> str:
    """`text` (HTML, escaped) as a link to `url`, alone where there is no URL (a story may
    have none: a link home, one its feed gives every entry)."""
    return f'<a href="{html.escape(url, quote=True)}">{text}</a>' if url else text


def render(
    alert: Alert,
    story: Story,
    cluster: Cluster | None,
    spans: dict[str, list[tuple[int, int]]],
    zone: ZoneInfo = UTC_ZONE,
) -> Message:
    """`spans` maps 'title', 'summary' and 'body' to the character spans of the matched
    words; words matched in the body, which no alert shows whole, are shown in excerpts."""
    parts = body_excerpts(story, spans)
    others = other_coverage(story, cluster)
    also = [other.source for other in others]
    published = local_time(story.published, zone)
    terms = terms_found(alert)
    title = headline(story.title, story.source)  # its outlet is shown beside it
    title_spans = [(a, b) for a, b in spans.get("title", []) if b <= len(title)]
    subject = cut(f"[watcher] {alert.rule}: {title}", 200)
    text_lines = [
        title,
        f"{story.source}, {published}",
        "",
        marked(story.summary, spans.get("summary", []), "*", "*", str),
        *(f"{IN_FULL_TEXT} {marked(part, inside, '*', '*', str)}" for part, inside in parts),
        "",
        *([story.link] if story.link else []),  # a story may have none (What a story is)
        f"Rule: {alert.rule}" + (f" ({terms})" if terms else ""),
    ]
    if alert.also_matched:
        text_lines.append(also_matched(alert))
    if also:
        text_lines.append(f"Also reported by: {', '.join(also)}")
    earlier = follows(cluster)
    if earlier:
        text_lines.append(f"{FOLLOWS} {earlier_text(earlier, zone)} {earlier.link}".rstrip())
    title_html = marked(title, title_spans, "<mark>", "</mark>", html.escape)
    summary_html = marked(story.summary, spans.get("summary", []), "<mark>", "</mark>", html.escape)
    body_html = (
        f"<h2>{title_html}</h2>"
        f"<p>{html.escape(story.source)}, {published}</p>"
        f"<p>{summary_html}</p>"
        + "".join(
            f"<p>{IN_FULL_TEXT} {marked(part, inside, '<mark>', '</mark>', html.escape)}</p>"
            for part, inside in parts
        )
        + (f"<p>{html_link(story.link, html.escape(story.link))}</p>" if story.link else "")
        + f"<p>Rule: {html.escape(alert.rule)}{html.escape(f' ({terms})' if terms else '')}</p>"
        + (f"<p>{html.escape(also_matched(alert))}</p>" if alert.also_matched else "")
        + (f"<p>Also reported by: {outlets_html(others)}</p>" if others else "")
        + (f"<p>{FOLLOWS} {earlier_html(earlier, zone)}</p>" if earlier else "")
    )
    return Message(
        subject=subject,
        text="\n".join(text_lines) + "\n",
        html=f"<html><body>{body_html}</body></html>",
        slack=[_slack(alert, story, others, terms, spans, parts, earlier, zone)],
        json=json_of(alert, story, others, parts, earlier),
    )


def _slack(
    alert: Alert, story: Story, others: list[Story], terms: str,
    spans: dict[str, list[tuple[int, int]]], parts: list[Excerpt], earlier: Story | None,
    zone: ZoneInfo,
) -> dict[str, Any]:  # fmt: skip
    title = headline(story.title, story.source)
    link = slack_link(story.link, slack_escape(title))
    summary = marked(story.summary, spans.get("summary", []), "*", "*", slack_escape)
    for part, inside in parts:
        summary += f"\n{IN_FULL_TEXT} {marked(part, inside, '*', '*', slack_escape)}"
    context = f"{slack_escape(story.source)} · rule {slack_escape(alert.rule)}"
    if terms:
        context += f" · {slack_escape(terms)}"
    if alert.also_matched:
        context += f" · {also_matched_mrkdwn(alert)}"
    if others:
        context += f" · also reported by {outlets_mrkdwn(others)}"
    if earlier:
        context += f" · {FOLLOWS.lower()} {earlier_mrkdwn(earlier, zone)}"
    return {
        # the notification's text: mrkdwn, where a title's <!channel> would ping a channel
        "text": cut_mrkdwn(slack_escape(f"{alert.rule}: {title} {story.link}"), SECTION_MAX),
        "blocks": [
            {
                "type": "header",
                # Slack refuses an empty header: a story with no title, text or link
                "text": {"type": "plain_text", "text": cut(title or UNTITLED, HEADER_MAX)},
            },
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": cut_mrkdwn(f"{link}\n{summary}", SECTION_MAX)},
            },
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": cut_mrkdwn(context, SECTION_MAX)}],
            },
        ],
    }


def json_of(
    alert: Alert, story: Story, others: list[Story], parts: list[Excerpt],
    earlier: Story | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The alert as a webhook's JSON; `others`: the other outlets' stories of its news item,
    `parts`: the full text's excerpts the alert shows, `earlier`: the story of an earlier
    news item that it follows (`Cluster.follows`)."""
    return {
        "alert": alert.id, "subscriber": alert.subscriber, "rule": alert.rule,
        "also_matched": list(alert.also_matched), "cluster": alert.cluster, "terms": alert.terms,
        "title": headline(story.title, story.source), "summary": story.summary,
        "link": story.link, "source": story.source,
        "published": story.published.isoformat(),
        "also_reported_by": [other.source for other in others],
        "coverage": [
            {"source": s.source, "title": headline(s.title, s.source), "link": s.link}
            for s in others
        ],
        "full_text_excerpts": [part for part, _ in parts],
        "follows": earlier and {
            "source": earlier.source, "title": headline(earlier.title, earlier.source),
            "link": earlier.link, "published": earlier.published.isoformat(),
        },
    }  # fmt: skip


def local_time(moment: datetime, zone: ZoneInfo) -> str:
    """A time on `zone`'s clock, as alerts show it: 2026-11-24 13:00 CET."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def other_coverage(story: Story, cluster: Cluster | None) -> list[Story]:
    """The first story of each of the cluster's other outlets, in the cluster's order."""
    first: dict[str, Story] = {}
    for member in cluster.members if cluster else ():
        if member.source != story.source:
            first.setdefault(member.source, member)
    return list(first.values())


def follows(cluster: Cluster | None) -> Story | None:
    return cluster.follows if cluster else None


def earlier_text(story: Story, zone: ZoneInfo) -> str:
    """An earlier news item's story, as a line of plain text names it."""
    when = local_time(story.published, zone)
    return f"{headline(story.title, story.source)} ({story.source}, {when})"


def earlier_html(story: Story, zone: ZoneInfo) -> str:
    title = html_link(story.link, html.escape(headline(story.title, story.source)))
    return f"{title} ({html.escape(story.source)}, {local_time(story.published, zone)})"


def earlier_mrkdwn(story: Story, zone: ZoneInfo) -> str:
    title = slack_link(story.link, slack_escape(headline(story.title, story.source)))
    return f"{title} ({slack_escape(story.source)}, {local_time(story.published, zone)})"


def outlets_html(stories: Iterable[Story]) -> str:
    """The stories' outlets, each a link to its story (where it has a link)."""
    return ", ".join(html_link(s.link, html.escape(s.source)) for s in stories)


def outlets_mrkdwn(stories: Iterable[Story]) -> str:
    """The stories' outlets in Slack's mrkdwn, each a link to its story where it has one."""
    return ", ".join(slack_link(s.link, slack_escape(s.source)) for s in stories)


def also_matched(alert: Alert) -> str:
    """The other rules the alert's news item matched: "Also matched: a, b"."""
    return f"{ALSO_MATCHED} {', '.join(alert.also_matched)}"


def also_matched_mrkdwn(alert: Alert) -> str:
    """The other rules matched, in Slack's mrkdwn: "also matched a, b"."""
    return f"also matched {slack_escape(', '.join(alert.also_matched))}"


def terms_found(alert: Alert) -> str:
    """The alert's terms by kind: "minerals: gallium; firms: Sojitz"."""
    return "; ".join(f"{kind}: {', '.join(terms)}" for kind, terms in alert.terms.items())
