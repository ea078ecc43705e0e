"""Digests: when they go out ('hourly', 'daily HH:MM', 'weekdays HH:MM' or 'weekly DAY
HH:MM' in the subscriber's time zone) and what one says.

Pure functions of the schedule, the zone and a time (all times in and out UTC-aware), and
of the alerts a digest holds.
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection, Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from watcher.alerts.excerpts import Excerpt, body_excerpts, excerpts, marked
from watcher.alerts.render import (
    BLOCKS_MAX,
    FOLLOWS,
    HEADER_MAX,
    IN_FULL_TEXT,
    SECTION_MAX,
    UTC_ZONE,
    Message,
    also_matched,
    also_matched_mrkdwn,
    cut,
    cut_mrkdwn,
    earlier_html,
    earlier_mrkdwn,
    earlier_text,
    follows,
    html_link,
    json_of,
    local_time,
    other_coverage,
    outlets_html,
    outlets_mrkdwn,
    slack_escape,
    slack_link,
    terms_found,
)
from watcher.models import Alert, Cluster, Story
from watcher.normalise import headline
from watcher.rules.model import DEFAULT_PRIORITY

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY = "|".join(rf"{day[:3]}(?:{day[3:]})?" for day in _WEEKDAYS)  # mon or monday
_TIMED = re.compile(rf"^(daily|weekdays|weekly\s+(?:{_DAY}))\s+([01]?\d|2[0-3]):([0-5]\d)$")


def schedule_of(written: str) -> str:
    """A digest schedule as written (`Weekly Monday 08:00`) as it is read: lower case, one
    blank between its words."""
    return " ".join(written.lower().split())


def check_schedule(spec: str) -> str | None:
    """None when `spec` is a digest schedule, in any case; else what is wrong with it."""
    read = schedule_of(spec)
    if read == "hourly" or _TIMED.match(read):
        return None
    return (
        f"{spec!r} is not a digest schedule: write hourly, daily HH:MM, weekdays HH:MM "
        "(Monday to Friday) or weekly DAY HH:MM (weekly mon 08:00; 24-hour clock)"
    )


def longest_wait(spec: str) -> timedelta:
    """The longest an alert waits for a digest of `spec`: an hour, a day, three days
    (Friday's to Monday's) or a week."""
    match = _TIMED.match(spec)
    if match is None:  # hourly
        return timedelta(hours=1)
    return timedelta(days={"daily": 1, "weekdays": 3}.get(match.group(1), 7))


def _days(which: str) -> range | tuple[int]:
    """The days of the week (Monday 0) a timed schedule's digest goes on."""
    if which == "daily":
        return range(7)
    if which == "weekdays":
        return range(5)
    day = day_of_week(which.split()[1])  # weekly DAY
    assert day is not None, which
    return (day,)


_QUIET = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)\s*[-–—]\s*([01]?\d|2[0-3]):([0-5]\d)$")


def check_quiet_hours(spec: str) -> str | None:
    """None when `spec` is quiet hours (HH:MM-HH:MM, not empty); else what is wrong."""
    bounds = _quiet_bounds(spec)
    if bounds is None:
        return f"{spec!r} is not quiet hours: write HH:MM-HH:MM (24-hour clock), e.g. 22:00-07:00"
    if bounds[0] == bounds[1]:
        return f"{spec!r} ends when it starts: quiet hours need a length"
    return None


def _quiet_bounds(spec: str) -> tuple[int, int] | None:
    """Quiet hours' start and end, in minutes of the day."""
    match = _QUIET.match(spec)
    if match is None:
        return None
    start, end = (int(match.group(i)) * 60 + int(match.group(i + 1)) for i in (1, 3))
    return start, end


def day_of_week(name: str) -> int | None:
    """Monday 0 to Sunday 6 for a day's name or its first three letters (any case)."""
    name = name.strip().lower()
    return next((n for n, day in enumerate(_WEEKDAYS) if name in (day, day[:3])), None)


QUIET_STEPS = 16  # a week of quiet days and the quiet hours around them take at most 9


def quiet_until(
    spec: str | None, zone: ZoneInfo, now: datetime, days: Collection[int] = ()
) -> datetime | None:
    """When the quiet time that `now` falls in ends: quiet hours `spec` (HH:MM-HH:MM on
    the zone's clock, past midnight when the end comes first) and quiet `days` (Monday 0;
    whole days on that clock), one after the other as one; None when `now` is outside
    them."""
    end = now
    for _ in range(QUIET_STEPS):
        local = end.astimezone(zone)
        if local.weekday() in days:
            end = _next_midnight(local)
        elif spec and (hours_end := _quiet_hours_end(spec, zone, local)) is not None:
            end = hours_end
        else:
            break
    return None if end == now else end


def _quiet_hours_end(spec: str, zone: ZoneInfo, local: datetime) -> datetime | None:
    """When the quiet hours `spec` that `local` falls in end; None when it is outside them."""
    bounds = _quiet_bounds(spec)
    assert bounds is not None, spec
    start, end = bounds
    minute = local.hour * 60 + local.minute
    inside = start <= minute < end if start < end else (minute >= start or minute < end)
    if not inside:
        return None
    return _next_on_clock(local, time(end // 60, end % 60), range(7), once=False)


def _next_midnight(local: datetime) -> datetime:
    """The start of the next day on `local`'s clock (in UTC): its first moment, where a
    change of clocks skips midnight."""
    start = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=local.tzinfo)
    return start.astimezone(UTC)


def next_digest(spec: str, zone: ZoneInfo, after: datetime) -> datetime:
    """The first digest time strictly after `after`."""
    if spec == "hourly":
        return next_hour(zone, after)
    match = _TIMED.match(spec)
    assert match is not None, spec
    at = time(int(match.group(2)), int(match.group(3)))
    return _next_on_clock(after.astimezone(zone), at, _days(match.group(1)), once=True)


def _next_on_clock(local: datetime, at: time, days: Collection[int], *, once: bool) -> datetime:
    """The first moment strictly after `local` at which its zone's clock shows `at` on one
    of `days`. Where clocks go back and `at` comes twice, `once` takes only its first
    coming (a digest's time: its second came an hour after the digest, so an alert made in
    the repeated hour went out before one made an hour earlier, in a second digest);
    without, either (the end of quiet hours, which the clock shows twice as well)."""
    moment = local.replace(
        hour=at.hour, minute=at.minute, second=0, microsecond=0, fold=0 if once else local.fold
    )
    while (moment.astimezone(UTC) <= local if once else moment <= local) or (
        moment.weekday() not in days
    ):
        moment = (moment + timedelta(days=1)).replace(hour=at.hour, minute=at.minute)
    return moment.astimezone(UTC)


def next_hour(zone: ZoneInfo, after: datetime) -> datetime:
    """The next top of the hour on the subscriber's clock: the first quarter of an hour of
    UTC after `after` at which that clock shows minute 0 (zones are whole quarters of an
    hour from UTC). Adding an hour to the local time skipped one when clocks went back."""
    moment = after.astimezone(UTC)
    quarter = timedelta(minutes=15)
    top = moment.replace(minute=moment.minute // 15 * 15, second=0, microsecond=0) + quarter
    for _ in range(8):
        if top.astimezone(zone).minute == 0:
            return top
        top += quarter
    local = after.astimezone(zone)  # a zone of another offset (before 1970): its wall clock
    return (local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)).astimezone(UTC)


# -- what a digest says ----------------------------------------------------------------------

Spans = dict[str, list[tuple[int, int]]]  # as `render.render` takes them
DigestItem = tuple[Alert, Story, Cluster | None, Spans]
SNIPPET_CHARS = 300  # of a summary, shown whole in a digest; a longer one is cut


def snippet(story: Story, spans: Spans) -> tuple[str, Excerpt]:
    """What a digest shows of a story's text, with a label: the summary (around its first
    matched word when it is long), else an excerpt of the full text around a word matched
    only there (labelled "In the full text:"), else the summary's beginning."""
    summary, inside = story.summary, spans.get("summary", [])
    if inside and len(summary) <= SNIPPET_CHARS:
        return "", (summary, inside)
    if inside:
        return "", excerpts(summary, inside)[0]
    if parts := body_excerpts(story, spans):
        return IN_FULL_TEXT, parts[0]
    if len(summary) <= SNIPPET_CHARS:
        return "", (summary, [])
    end = summary.rfind(" ", 0, SNIPPET_CHARS)
    return "", (summary[: end if end > 0 else SNIPPET_CHARS] + "…", [])


def render_digest(
    subscriber: str,
    items: list[DigestItem],
    zone: ZoneInfo = UTC_ZONE,
    priority: Mapping[str, int] | None = None,
) -> Message:
    """One message for many alerts, grouped by rule, the rules by `priority` (highest
    first; a rule not in it of the default priority), then name; oldest first in a rule."""
    rank = priority or {}

    def order(item: DigestItem) -> tuple[int, str, datetime]:
        rule = item[0].rule
        return -rank.get(rule, DEFAULT_PRIORITY), rule, item[1].published

    by_rule: dict[str, list[DigestItem]] = {}
    for item in sorted(items, key=order):
        by_rule.setdefault(item[0].rule, []).append(item)
    noun = "news item" if len(items) == 1 else "news items"
    subject = f"[watcher] digest for {subscriber}: {len(items)} {noun}"
    text, body, blocks = [subject, ""], [f"<h2>{html.escape(subject)}</h2>"], []
    for rule, group in by_rule.items():
        text.append(f"== {rule} ({len(group)}) ==")
        body.append(f"<h3>{html.escape(rule)}</h3><ul>")
        blocks.append(
            {"type": "header", "text": {"type": "plain_text", "text": cut(rule, HEADER_MAX)}}
        )
        for item in group:
            item_text, item_html, item_mrkdwn = _item(item, zone)
            text += item_text
            body.append(item_html)
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": item_mrkdwn}})
        text.append("")
        body.append("</ul>")
    return Message(
        subject=subject,
        text="\n".join(text) + "\n",
        html=f"<html><body>{''.join(body)}</body></html>",
        slack=_slack_parts(subject, blocks),
        json={
            "subscriber": subscriber,
            "alerts": [
                json_of(a, s, other_coverage(s, c), body_excerpts(s, spans), follows(c))
                for a, s, c, spans in items
            ],
        },
    )


def _item(item: DigestItem, zone: ZoneInfo) -> tuple[list[str], str, str]:
    """One news item of a digest: its plain-text lines, HTML list item and Slack mrkdwn.
    The headline with its outlet, time and other outlets; a snippet with the matched words
    marked; the terms found; the link."""
    alert, story, cluster, spans = item
    others = other_coverage(story, cluster)
    extra = f" - also reported by {', '.join(s.source for s in others)}" if others else ""
    when, terms = local_time(story.published, zone), terms_found(alert)
    label, (part, inside) = snippet(story, spans)
    label += " " if label else ""
    title = headline(story.title, story.source)
    text = [f"- {title} ({story.source}, {when}){extra}"]
    text += [f"  {label}{marked(part, inside, '*', '*', str)}"] if part else []
    text += [f"  Matched: {terms}"] if terms else []
    text += [f"  {also_matched(alert)}"] if alert.also_matched else []
    earlier = follows(cluster)
    text += [f"  {FOLLOWS} {earlier_text(earlier, zone)}"] if earlier else []
    text += [f"  {story.link}"] if story.link else []  # a story may have none
    item_html = (
        f"<li>{html_link(story.link, html.escape(title))} ({html.escape(story.source)}, {when})"
    )
    item_html += f" - also reported by {outlets_html(others)}" if others else ""
    if part:
        item_html += f"<br>{html.escape(label)}"
        item_html += marked(part, inside, "<mark>", "</mark>", html.escape)
    item_html += f"<br>Matched: {html.escape(terms)}" if terms else ""
    item_html += f"<br>{html.escape(also_matched(alert))}" if alert.also_matched else ""
    item_html += (f"<br>{FOLLOWS} {earlier_html(earlier, zone)}" if earlier else "") + "</li>"
    mrkdwn = f"{slack_link(story.link, slack_escape(title))} · "
    mrkdwn += slack_escape(story.source)
    mrkdwn += f" - also reported by {outlets_mrkdwn(others)}" if others else ""
    mrkdwn += f" · {slack_escape(terms)}" if terms else ""
    mrkdwn += f" · {also_matched_mrkdwn(alert)}" if alert.also_matched else ""
    if part:
        mrkdwn += f"\n{slack_escape(label)}{marked(part, inside, '*', '*', slack_escape)}"
    if earlier:
        mrkdwn += f"\n{FOLLOWS} {earlier_mrkdwn(earlier, zone)}"
    return text, item_html, cut_mrkdwn(mrkdwn, SECTION_MAX)


def _slack_parts(subject: str, blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The digest's blocks as Slack messages of at most `BLOCKS_MAX` blocks each."""
    parts = range(0, len(blocks), BLOCKS_MAX)
    return [
        {
            "text": f"{subject} (part {n + 1} of {len(parts)})" if len(parts) > 1 else subject,
            "blocks": blocks[start : start + BLOCKS_MAX],
        }
        for n, start in enumerate(parts)
    ]
