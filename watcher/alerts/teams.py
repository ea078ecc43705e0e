"""An alert's or a digest's message as posts to a Microsoft Teams workflow's webhook.

In: a rendered `Message`. Out: Adaptive Card posts, each within a Teams message's size. Pure.
"""

from __future__ import annotations

import json
from typing import Any

from watcher.alerts.render import LINK_MAX, Message, cut

TEAMS_CARD_BYTES = 20_000  # of blocks in one card, as JSON: a Teams message holds about 28 KB
TEAMS_LINE_CHARS = 4_000  # a longer line is cut (its UTF-8 fits a card)


def teams_cards(message: Message) -> list[dict[str, Any]]:
    """The message as posts to a Teams workflow's webhook ("When a Teams webhook request is
    received"): an Adaptive Card each, its subject in bold, then its plain text a line a
    block, in as many cards as `TEAMS_CARD_BYTES` take (a long digest, several). Text
    runs, not TextBlocks: Teams reads no markdown in them, so a feed's text cannot make a
    link. An alert's card has a button that opens its story."""
    parts: list[list[dict[str, Any]]] = [[]]
    size, gap = 0, False
    for line in message.text.splitlines():
        if not line.strip():
            gap = True
            continue
        run = {"type": "TextRun", "text": cut(line, TEAMS_LINE_CHARS)}
        block: dict[str, Any] = {"type": "RichTextBlock", "inlines": [run]}
        if gap and parts[-1]:
            block["spacing"] = "Medium"
        cost = len(json.dumps(block, ensure_ascii=False).encode())
        if parts[-1] and size + cost > TEAMS_CARD_BYTES:
            parts.append([])
            block.pop("spacing", None)
            size = 0
        parts[-1].append(block)
        size, gap = size + cost, False
    link = message.json.get("link")
    return [
        _teams_card(message.subject, number, len(parts), blocks, link if number == 1 else None)
        for number, blocks in enumerate(parts, 1)
    ]


def _teams_card(
    subject: str, number: int, count: int, blocks: list[dict[str, Any]], link: Any
) -> dict[str, Any]:
    title = subject if count == 1 else f"{subject} ({number}/{count})"
    heading = {"type": "TextRun", "text": title, "weight": "Bolder", "size": "Medium"}
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard", "version": "1.4",
        "body": [{"type": "RichTextBlock", "inlines": [heading]}, *blocks],
    }  # fmt: skip
    if isinstance(link, str) and link.startswith(("http://", "https://")) and len(link) <= LINK_MAX:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open the story", "url": link}]
    attachment = {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
    return {"type": "message", "attachments": [attachment]}
