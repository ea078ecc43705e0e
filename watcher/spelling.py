"""What a problem suggests for a name that is a known one mistyped: a key of the config or
a rule file, a rule or feed a subscriber names, a time zone.

In: the name written and the names known. Out: the suggestion, or ''. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from difflib import get_close_matches


def did_you_mean(key: str, known: Iterable[str]) -> str:
    """What a problem adds for a key or name that is a known one mistyped (`intervall`,
    `case_sensitve`, a rule `galium`), in any case: " (did you mean 'interval'?)"; else ''."""
    by_lower: dict[str, str] = {}
    for name in sorted(known):  # of names alike but for case, the first
        by_lower.setdefault(name.lower(), name)
    close = get_close_matches(str(key).lower(), sorted(by_lower), n=1, cutoff=0.75)
    return f" (did you mean {by_lower[close[0]]!r}?)" if close else ""
