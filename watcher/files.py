"""Reading the files an operator names (the config, rule files, an OPML file) with a cap on
their size: a wrong path (`/dev/zero`, the database, a log) must not fill the memory."""

from __future__ import annotations

import codecs
import errno
import re
import ssl
from pathlib import Path

MAX_FILE_BYTES = 16 * 1024 * 1024  # a config or rule file is kilobytes; 10,000 feeds' OPML, 2 MB


def read_capped(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of `path`; OSError (EFBIG, its strerror says why) when it holds more than
    `limit`."""
    with path.open("rb") as file:
        data = file.read(limit + 1)
    if len(data) > limit:
        limit_text = f"{limit // 2**20} MB"
        raise OSError(
            errno.EFBIG, f"larger than {limit_text}, more than any config, rule or OPML file"
        )
    return data


class NotUtf8(ValueError):
    """Bytes that are not text in their encoding (UTF-8, or the UTF-16 or UTF-32 their
    byte-order mark names): where the first bad byte is, and a message naming it."""

    def __init__(self, line: int, column: int, what: str, encoding: str = "UTF-8") -> None:
        super().__init__(f"not {encoding} text: {what}")
        self.line, self.column = line, column


def utf8_text(data: bytes) -> str:
    """`data` as text: UTF-8, or UTF-16 or UTF-32 where it begins with their byte-order
    mark, as YAML reads a file (Windows PowerShell 5 writes UTF-16 so, with `>` or
    `Out-File`). NotUtf8 at the line and column (counted in bytes, in UTF-8; in characters
    otherwise) of its first byte that cannot be read."""
    encoding = wide_encoding(data) or "utf-8"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        if encoding != "utf-8":
            read = data[: exc.start].decode(encoding, errors="replace")
            line_start = read.rfind("\n") + 1
            line, column = read.count("\n") + 1, len(read) - line_start + 1
            raise NotUtf8(line, column, str(exc.reason), encoding.upper()) from exc
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        what = f"byte {data[exc.start]:#04x} cannot be read"
        raise NotUtf8(line, exc.start - line_start + 1, what) from exc


def wide_encoding(head: bytes) -> str | None:
    """`utf-16` or `utf-32` where `head`, a file's first bytes, begins with their byte-order
    mark (the codec reads the mark, and the byte order it names), else None."""
    return next((name for bom, name in _WIDE_BOMS if head.startswith(bom)), None)


# UTF-32's marks first: UTF-32LE's begins as UTF-16LE's does
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)  # fmt: skip


def trust_ca(context: ssl.SSLContext, path: Path) -> None:
    """Trust the CA certificates in `path` too: PEM (one or more, with whatever text between
    them: some bundles name each CA in a comment not in ASCII, which `ssl` refuses), or one
    in DER. OSError when the file cannot be read, ssl.SSLError or ValueError when it holds
    no certificate."""
    data = read_capped(path)
    blocks = _PEM_BLOCK.findall(data)
    context.load_verify_locations(cadata=b"\n".join(blocks).decode("ascii") if blocks else data)


_PEM_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]*-----END CERTIFICATE-----")
