"""Stories to and from JSON lines, for `ingest`, `stories` and `dedupe`.

In: a JSON-lines file of stories with `id`, `title`, `published` (ISO 8601) and optionally
`summary` (HTML allowed), `body` (the full text, HTML allowed), `link`, `source`, `feed`,
`guid`, `related` (links the entry lists as other coverage of its news); other fields are
ignored.
Out: `Story` objects normalised like fetched ones. Raises: `InputError` naming file and line.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from watcher.errors import InputError
from watcher.files import wide_encoding
from watcher.models import Story
from watcher.normalise import plain_text
from watcher.urls import canonical_url


def story_json(story: Story) -> dict[str, Any]:
    return {
        "id": story.id,
        "feed": story.feed,
        "source": story.source,
        "title": story.title,
        "summary": story.summary,
        "link": story.link,
        "published": story.published.isoformat(),
        "guid": story.guid,
        "fetched_at": story.fetched_at.isoformat(),
        "related": list(story.related),
        "body": story.body,
    }


MAX_LINE_BYTES = 16 * 1024 * 1024  # a story is far shorter; a longer line is no story file


def read_stories(path: Path) -> list[Story]:
    """Every story of a JSON-lines file, in file order; blank lines are skipped."""
    stories = []
    seen: set[str] = set()
    for number, line in _lines(path):
        if not line.strip():
            continue
        story = _story(line, str(path), number)
        if story.id in seen:
            raise InputError(f"id {_shown(story.id)} appears twice", path=str(path), line=number)
        seen.add(story.id)
        stories.append(story)
    return stories


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """Each line of `path` with its number, split at "\\n" alone: JSON may hold U+2028 and
    U+0085 unescaped, which `str.splitlines` would split at. A byte order mark is skipped,
    and one of UTF-16 or UTF-32 reads the file so (Windows PowerShell 5 writes `>` so); a
    line longer than MAX_LINE_BYTES, or not UTF-8, is that line's error (a file not in the
    UTF-16 or UTF-32 its mark names, the file's)."""
    try:
        with path.open("rb") as file:
            encoding = wide_encoding(file.peek(4)[:4])
            if encoding is None:
                yield from _utf8_lines(file, str(path))
            else:
                with io.TextIOWrapper(file, encoding, newline="\n") as text:
                    yield from _wide_lines(text, str(path))
    except OSError as exc:
        raise InputError(f"cannot read: {exc}", path=str(path)) from exc


def _utf8_lines(file: BinaryIO, path: str) -> Iterator[tuple[int, str]]:
    """The lines of a file in UTF-8 (a byte order mark skipped), each of at most
    MAX_LINE_BYTES bytes."""
    for number, raw in enumerate(iter(lambda: file.readline(MAX_LINE_BYTES + 1), b""), 1):
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            raise _too_long(path, number)
        try:
            yield number, raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            byte = f"its byte {exc.start + 1}, {raw[exc.start]:#04x}"
            raise InputError(
                f"not UTF-8 text: {byte}, cannot be read", path=path, line=number
            ) from exc


def _wide_lines(text: io.TextIOWrapper, path: str) -> Iterator[tuple[int, str]]:
    """The lines of a file in UTF-16 or UTF-32, each of at most MAX_LINE_BYTES characters."""
    try:
        for number, line in enumerate(iter(lambda: text.readline(MAX_LINE_BYTES + 1), ""), 1):
            if len(line) > MAX_LINE_BYTES and not line.endswith("\n"):
                raise _too_long(path, number)
            yield number, line
    except UnicodeDecodeError as exc:  # read ahead of the line: no line to name
        raise InputError(f"not {text.encoding.upper()} text: {exc.reason}", path=path) from exc


def _too_long(path: str, number: int) -> InputError:
    return InputError(f"line longer than {MAX_LINE_BYTES // 2**20} MB", path=path, line=number)


SHOWN_CHARS = 80  # of a value quoted in an error: a line may be 16 MB


def _shown(value: str) -> str:
    """`value` quoted for an error message, cut after `SHOWN_CHARS` characters."""
    return repr(value if len(value) <= SHOWN_CHARS else value[:SHOWN_CHARS] + "…")


def _unicode(value: Any) -> Any:
    """A string (or each of a list's) with its lone surrogates (`\\ud800` in the JSON) as
    U+FFFD: they are no text, and no UTF-8 encoder takes them."""
    if isinstance(value, list):
        return [_unicode(item) for item in value]
    if isinstance(value, str):
        return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return value


def _story(line: str, path: str, number: int) -> Story:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", path=path, line=number) from exc
    except RecursionError as exc:  # json recurses once a level: [[[[... raised it, untold
        raise InputError("invalid JSON: nested too deeply to read", path=path, line=number) from exc
    if not isinstance(data, dict):
        raise InputError("each line must be a JSON object", path=path, line=number)
    if "\\u" in line:  # an escape may be half of a surrogate pair: no character
        data = {key: _unicode(value) for key, value in data.items()}
    for key in ("id", "title", "published"):  # a title may be empty, as a stored one can be
        if not isinstance(data.get(key), str) or not (data[key] or key == "title"):
            raise InputError(f"field {key!r} is missing or not a string", path=path, line=number)
    try:
        published = datetime.fromisoformat(data["published"].replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError(
            f"published {_shown(data['published'])} is not ISO 8601", path=path, line=number
        ) from exc
    if published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    try:
        published = published.astimezone(UTC)
    except OverflowError as exc:  # 0001-01-01T00:00+14:00 is before year 1 in UTC
        raise InputError(
            f"published {_shown(data['published'])} is out of range in UTC",
            path=path,
            line=number,
        ) from exc
    guid = data.get("guid")
    if isinstance(guid, int) and not isinstance(guid, bool):  # an entry number, as exported
        guid = str(guid)
    if guid is not None and not isinstance(guid, str):  # fingerprints raised TypeError on it
        raise InputError("field 'guid' must be a string", path=path, line=number)
    related = data.get("related") or []
    if not isinstance(related, list) or not all(isinstance(r, str) and r for r in related):
        raise InputError("field 'related' must be a list of links", path=path, line=number)
    return Story(
        id=data["id"],
        feed=str(data.get("feed") or ""),
        guid=guid or None,
        source=str(data.get("source") or ""),
        title=plain_text(data["title"]),
        summary=plain_text(str(data.get("summary") or "")),
        link=canonical_url(str(data.get("link") or "")) if data.get("link") else "",
        published=published,
        fetched_at=published,
        related=tuple(filter(None, dict.fromkeys(map(canonical_url, related)))),
        body=plain_text(str(data.get("body") or "")),
    )
