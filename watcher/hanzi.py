"""Traditional Chinese characters as simplified ones: a Taiwanese or Hong Kong report and a
mainland one spell "gallium" 鎵 and 镓, and clustering and rules take them for one word.

In and out: strings of the same length (each character maps to one). Reads wordfreq's own
map of the characters (3,275 of them) once a process, when first needed.
"""

from __future__ import annotations

import gzip
from functools import lru_cache

import msgpack
from wordfreq.util import data_path


def simplified(text: str) -> str:
    """The text with traditional Chinese characters written simplified; others as they are."""
    return text.translate(simplified_table())


@lru_cache(maxsize=1)
def simplified_table() -> dict[int, str]:
    """wordfreq's map of traditional Chinese characters to simplified ones (its Chinese list
    is simplified), read from its data: its own reader imports jieba, which we do not need."""
    with gzip.open(data_path("_chinese_mapping.msgpack.gz")) as mapping:
        table: dict[int, str] = msgpack.load(mapping, raw=False, strict_map_key=False)
    return table
