"""The words of a notice: a feed that fails, is gone, falls silent, drops stories, is
dated too old or recovers; alerts undelivered, held or flowing again.

In: the notice's alert and its notices. Out: a `Message` in every channel's form, within
Slack's limits, as `render` makes an alert's.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from watcher.alerts.render import (
    BLOCKS_MAX,
    HEADER_MAX,
    SECTION_MAX,
    UTC_ZONE,
    Message,
    cut,
    cut_mrkdwn,
    local_time,
    slack_escape,
)
from watcher.models import (
    Alert,
    DeliveryNotice,
    DeliveryProblem,
    FeedNotice,
    FeedProblem,
    problem_words,
)

NOTICE_HEADS: dict[FeedProblem, str] = {
    "failing": "Feed failing",
    "gone": "Feed gone",
    "silent": "Feed silent",
    "dropping": "Feed dropping stories",
    "old_dates": "Feed dated too old",
    "recovered": "Feed recovered",
}
NOTICE_NEXT: dict[FeedProblem, str] = {
    "failing": "Its polls go on, with backoff; you hear again when it recovers.",
    "gone": "It is no longer polled: mend or remove its url: in the config.",
    "silent": "Its polls go on; you hear again when a new story comes.",
    "dropping": "Shorten its interval: in the config, or use a feed of it that lists more "
    "stories (watcher run polls it up to 4 times as often meanwhile); you hear again when a "
    "poll lists a story seen before.",
    "old_dates": "Its new stories are stored and matched but alert no one: if its dates are "
    "wrong, set max_age: off for it in the config; you hear again when a story dated within "
    "max_age comes.",
    "recovered": "It is polled well again.",
}


def render_notice(
    alert: Alert, notices: Sequence[FeedNotice | DeliveryNotice], zone: ZoneInfo = UTC_ZONE
) -> Message:
    """Feed notices' words: for each feed, what is wrong with it (or that it recovered),
    since when it last polled well and its URL (its secrets masked); then what happens next.
    Several feeds (a network outage fails them all at once) are one message, counted by
    problem in its head. Delivery notices' words: `render_undelivered`."""
    undelivered = [n for n in notices if isinstance(n, DeliveryNotice)]
    if undelivered:
        return render_undelivered(alert, undelivered)
    feeds = [n for n in notices if isinstance(n, FeedNotice)]
    if len(feeds) == 1:
        head = f"{NOTICE_HEADS[feeds[0].problem]}: {feeds[0].feed}"
    else:
        counts = Counter(n.problem for n in feeds)
        head = "Feed problems: " + ", ".join(
            f"{counts[problem]} {problem_words(problem)}"
            for problem in NOTICE_HEADS
            if counts[problem]
        )
    blocks = [_notice_lines(n, zone) for n in feeds]
    if len(feeds) == 1:
        blocks = [blocks[0][1:]]  # its head says it
    after = [NOTICE_NEXT[p] for p in NOTICE_HEADS if any(n.problem == p for n in feeds)]
    value = {
        "notice": alert.id, "subscriber": alert.subscriber,
        "feeds": [
            {"feed": n.feed, "problem": n.problem, "detail": n.detail, "url": n.url,
             "last_success": n.since.isoformat() if n.since else None}
            for n in feeds
        ],
    }  # fmt: skip
    return _notice_message(head, blocks, after, value, "feeds: `watcher feeds` lists them")


DELIVERY_HEADS: dict[DeliveryProblem, str] = {
    "dead": "Alerts undelivered",
    "held": "Alerts held",
    "resumed": "Alerts flowing again",
}


def render_undelivered(alert: Alert, notices: Sequence[DeliveryNotice]) -> Message:
    """Delivery notices' words: for each subscriber's channel, how many alerts went to the
    dead-letter list, the last error, and the command that sends them again once mended;
    for each lane held, its server's failures and last error (its alerts wait); for each
    lane that works again, that its alerts go."""
    kinds = {n.problem for n in notices}
    if len(notices) == 1:
        head = f"{DELIVERY_HEADS[notices[0].problem]}: {notices[0].about}"
    elif len(kinds) == 1:
        head = f"{DELIVERY_HEADS[kinds.pop()]}: {len(notices)} subscribers' channels"
    else:
        counts = Counter(n.problem for n in notices)
        head = "Delivery problems: " + ", ".join(
            f"{counts[kind]} {DELIVERY_HEADS[kind].removeprefix('Alerts ')}"
            for kind in DELIVERY_HEADS
            if counts[kind]
        )
    blocks = [_delivery_lines(n) for n in notices]
    after = [
        DELIVERY_NEXT[kind] for kind in DELIVERY_HEADS if any(n.problem == kind for n in notices)
    ]
    value = {
        "notice": alert.id, "subscriber": alert.subscriber,
        "undelivered": [
            {"subscriber": n.subscriber, "channel": n.channel, "problem": n.problem,
             "alerts": n.alerts, "failures": n.failures, "error": n.error}
            for n in notices
        ],
    }  # fmt: skip
    return _notice_message(head, blocks, after, value, "channels: `watcher status` lists them")


DELIVERY_NEXT: dict[DeliveryProblem, str] = {
    "dead": "Alerts in the dead-letter list are not sent until retried: `watcher alerts "
    "--failed` lists them. A revoked Slack, Teams or webhook URL, or an address refused for "
    "good, needs a fix in the config first.",
    "held": "The alerts of a held lane wait, untried, and go when its server answers again "
    "(it is tried at least every 5 minutes); you hear when it does.",
    "resumed": "The alerts that waited go now.",
}


def _delivery_lines(notice: DeliveryNotice) -> list[str]:
    if notice.problem == "held":
        return [
            f"{notice.about}: its server failed {notice.failures} times in a row; its alerts wait.",
            f"Last error: {notice.error}",
        ]
    if notice.problem == "resumed":
        return [f"{notice.about}: a send went through again."]
    alerts = "alert" if notice.alerts == 1 else "alerts"
    return [
        f"{notice.about}: {notice.alerts} {alerts} in the dead-letter list.",
        f"Last error: {notice.error}",
        f"Once mended: watcher alerts retry --all --subscriber {notice.subscriber} "
        f"--channel {notice.channel}",
    ]


def _notice_message(
    head: str, blocks: list[list[str]], after: list[str], value: dict[str, Any], more: str
) -> Message:
    """A notice's message in every channel's form, from its head, a block of lines each
    feed or channel, and what happens next; `more` names what Slack leaves out."""
    text = [head, ""] + [line for block in blocks for line in [*block, ""]] + after
    html_blocks = "".join(
        "<p>" + "<br>".join(html.escape(line) for line in block) + "</p>" for block in blocks
    )
    return Message(
        subject=cut(f"[watcher] {head}", 200),
        text="\n".join(text) + "\n",
        html=f"<html><body><h2>{html.escape(head)}</h2>{html_blocks}"
        + "".join(f"<p>{html.escape(line)}</p>" for line in after) + "</body></html>",
        slack=[_notice_slack(head, blocks, after, more)],
        json=value,
    )  # fmt: skip


def _notice_slack(
    head: str, blocks: list[list[str]], after: list[str], more: str
) -> dict[str, Any]:
    """A header, a section a feed or channel (as many as Slack's 50 blocks hold), and what
    is next."""
    shown = blocks[: BLOCKS_MAX - 2]  # the header, and the closing section
    if len(shown) < len(blocks):
        after = [f"And {len(blocks) - len(shown)} more {more}.", *after]
    sections = [
        cut_mrkdwn("\n".join(slack_escape(line) for line in lines), SECTION_MAX)
        for lines in [*shown, after]
    ]
    return {
        "text": cut_mrkdwn(slack_escape(head), SECTION_MAX),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": cut(head, HEADER_MAX)}},
            *({"type": "section", "text": {"type": "mrkdwn", "text": section}}
              for section in sections),
        ],
    }  # fmt: skip


def _notice_lines(notice: FeedNotice, zone: ZoneInfo) -> list[str]:
    """One feed's notice: its head, what is wrong, when it last polled well, its URL."""
    lines = [f"{NOTICE_HEADS[notice.problem]}: {notice.feed}"]
    lines.append(notice.detail[:1].upper() + notice.detail[1:] + ".")
    if notice.problem != "recovered":
        since = local_time(notice.since, zone) if notice.since else "never"
        lines.append(f"Last polled well: {since}.")
    return [*lines, f"URL: {notice.url}"]
