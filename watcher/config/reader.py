"""Reading a YAML config file: values with their line numbers, durations, ${VAR} references.

In: the file's text and an environment. Out: typed values; each problem is noted as a
`ConfigProblem` (file, line, field) and a default returned, so one run reports them all.
"""

from __future__ import annotations

import errno
import math
import re
import ssl
from pathlib import Path
from typing import Any

import yaml

from watcher.dates import zone_problem
from watcher.errors import ConfigProblem
from watcher.files import read_capped, trust_ca
from watcher.normalise import LINE_BREAKS_AND_CONTROLS, SURROGATE
from watcher.rules.nodes import EXTENSION_PREFIX, as_written, kind_of, names_in_line, yaml_tree
from watcher.spelling import did_you_mean

# ${VAR} or ${VAR:-default}, or ${file:PATH}; $${ is a literal ${ (as in Docker Compose, for
# $ before { only)
_ENV_REF = re.compile(r"\$(\$\{)|\$\{file:([^}]*)\}|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
SECRET_FILE_BYTES = 64 * 1024  # a password, a token or a URL; more is no secret file
_UNIT_WORDS = {
    "s": ("s", "sec", "secs", "second", "seconds"), "m": ("m", "min", "mins", "minute", "minutes"),
    "h": ("h", "hr", "hrs", "hour", "hours"), "d": ("d", "day", "days"),
    "w": ("w", "wk", "wks", "week", "weeks"),
}  # fmt: skip
_UNITS = {word: {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[unit]
          for unit, words in _UNIT_WORDS.items() for word in words}  # fmt: skip
_UNIT = "|".join(sorted(_UNITS, key=len, reverse=True))
_PART = rf"(\d+(?:\.\d+)?)\s*({_UNIT})"
# a number of seconds, or parts each with its unit: 90s, 10m, 10 min, 1h30m, 2 days
_DURATION = re.compile(rf"\s*(?:\d+(?:\.\d+)?|(?:{_PART}\s*)+)\s*")
_PARTS = re.compile(_PART)


MAX_DURATION = 3650 * 86400.0  # ten years: longer is a typo, and overflows a date


def parse_duration(value: object) -> float:
    """Seconds in '90s', '10m', '6h', '2d', '1w' (or the unit's word, `10 min`, `2 days`,
    and parts, `1h30m`) or a bare number of seconds, up to `MAX_DURATION`."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, int | float):
        seconds = float(value)
    elif _DURATION.fullmatch(str(value)):
        parts = _PARTS.findall(str(value))
        seconds = sum(float(n) * _UNITS[unit] for n, unit in parts) if parts else float(str(value))
    else:
        raise ValueError(f"{value!r} is not a duration such as 90s, 10m, 6h or 2d")
    if not seconds <= MAX_DURATION:  # also NaN
        raise ValueError(f"{value!r} is longer than watcher takes (at most 3650d)")
    return seconds


def literal(text: str) -> str:
    """`text` as a config value that reads back as `text`: each ${ written $${."""
    return text.replace("${", "$${")


def is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null")


class Reader:
    """Walks the YAML node tree, keeping line numbers for messages: typed accessors that note a
    problem and return a default, so every problem of a file is reported at once."""

    def __init__(self, path: Path, env: Any) -> None:
        self.path = path
        self.base = path.resolve().parent
        self.env = env
        self.problems: list[ConfigProblem] = []
        self.constructor = yaml.SafeLoader("")  # one for every value: a loader is costly to make

    def problem(self, node: yaml.Node | None, field_name: str, message: str) -> None:
        line = node.start_mark.line + 1 if node is not None else None
        self.problems.append(
            ConfigProblem(path=str(self.path), line=line, field=field_name, message=message)
        )

    def load(self, data: bytes) -> yaml.Node | None:
        root, fault = yaml_tree(data)
        if fault is not None:
            self.problems.append(
                ConfigProblem(path=str(self.path), line=fault.line, field="", message=fault.message)
            )
        return root

    # -- typed accessors -------------------------------------------------------------------

    def mapping(self, node: yaml.Node | None, name: str, known: set[str]) -> dict[str, yaml.Node]:
        """The mapping's values by key; at the top (no `name`), a key beginning with `x-`
        (anchors to merge) is skipped."""
        if node is None:
            return {}
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, name, f"must be a mapping of keys to values, not {kind_of(node)}")
            return {}
        out: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.problem(key_node, name, "a key must be a single word, not a list or mapping")
                continue
            key = str(key_node.value)
            where = f"{name}.{key}" if name else key
            if not name and key.startswith(EXTENSION_PREFIX):
                continue
            if key not in known:
                hint = ", ".join(sorted(known))
                self.problem(key_node, where, f"unknown key{did_you_mean(key, known)}; "
                             f"expected one of: {hint}")  # fmt: skip
            elif key in out:
                self.problem(key_node, where, "given twice")
            else:
                out[key] = value_node
        return out

    def scalar(self, node: yaml.Node, name: str) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            return node
        value = self.constructor.construct_object(node)  # type: ignore[no-untyped-call]
        return self.expand(value, node, name) if isinstance(value, str) else value

    def flag(self, node: yaml.Node | None, name: str) -> bool:
        """true or false (absent: false); anything else is a problem, not taken as true."""
        if node is None:
            return False
        value = self.scalar(node, name)
        if not isinstance(value, bool):
            self.problem(node, name, "must be true or false")
            return False
        return value

    def expand(self, value: str, node: yaml.Node, name: str) -> str:
        def replace(match: re.Match[str]) -> str:
            escaped, secret_file, var, default = match.groups()
            if escaped:
                return escaped
            if secret_file is not None:
                return self.secret_file(secret_file, node, name)
            if var in self.env and SURROGATE.search(str(self.env[var])):
                # a byte that is no UTF-8, as os.environ keeps it (surrogateescape)
                self.problem(node, name, f"environment variable {var} is not UTF-8 text")
                return ""
            if var in self.env:
                return str(self.env[var])
            if default is not None:
                return default
            self.problem(
                node, name, f"environment variable {var} is not set (referenced as ${{{var}}})"
            )
            return ""

        return _ENV_REF.sub(replace, value)

    def secret_file(self, written: str, node: yaml.Node, name: str) -> str:
        """The text of the file `${file:PATH}` names (a Docker or Kubernetes secret, as
        `/run/secrets/smtp_password`), relative to the config's folder, without the line
        breaks that end it; '' and a problem when it cannot be read."""
        path = self.base / Path(written.strip()).expanduser()
        try:
            data = read_capped(path, SECRET_FILE_BYTES)
        except OSError as exc:
            why = "larger than 64 KB" if exc.errno == errno.EFBIG else exc.strerror or str(exc)
            self.problem(node, name, f"cannot read the secret file {path}: {why}")
            return ""
        try:
            return data.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            self.problem(node, name, f"the secret file {path} is not UTF-8 text")
            return ""

    def string(
        self, node: yaml.Node | None, name: str, *, required: bool = False, exact: bool = False,
        at: yaml.Node | None = None,
    ) -> str | None:  # fmt: skip
        """A one-line text value, stripped of surrounding white space; if `exact` (a
        password, which may begin or end with a space), of line breaks only (as a secret
        file's last line ends, read into a variable). A `required` one missing is a problem
        at the line of `at`, the mapping that lacks it."""
        if node is None or is_null(node):
            if required:
                self.problem(node or at, name, "is required")
            return None
        value = as_written(node, self.scalar(node, name))
        if not isinstance(value, str):
            self.problem(node, name, f"must be a string, not {kind_of(node)}")
            return None
        text = str(value).strip("\r\n") if exact else str(value).strip()
        if required and not text:
            self.problem(node, name, "must not be empty")
            return None
        if LINE_BREAKS_AND_CONTROLS.search(text):  # into a header, a log line, a terminal
            self.problem(node, name, "must be one line of text, without control characters")
            return None
        return text or None

    def number(
        self, node: yaml.Node | None, name: str, default: float, minimum: float,
        maximum: float = 1e9,
    ) -> float:  # fmt: skip
        if node is None:
            return default
        value = self.scalar(node, name)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (isinstance(value, float) and not math.isfinite(value))  # an int overflows it
            or value < minimum
        ):
            self.problem(node, name, f"must be a number of at least {minimum:g}")
            return default
        if value > maximum:
            self.problem(node, name, f"must be at most {maximum:g}")
            return default
        return float(value)

    def duration(self, node: yaml.Node | None, name: str, default: float, minimum: float) -> float:
        if node is None:
            return default
        value = self.scalar(node, name)
        if isinstance(value, bool) or not isinstance(value, str | int | float):  # null, a list
            self.problem(node, name, "must be a duration such as 90s, 10m, 6h or 2d")
            return default
        if isinstance(value, int) or value != value:  # YAML reads 0123 as 83, 1:30 as 90
            value = node.value  # as written; and .nan is no duration
        try:
            seconds = parse_duration(value)
        except ValueError as exc:
            self.problem(node, name, str(exc))
            return default
        if seconds < minimum:
            # `interval: 10` meant minutes, as a reader's "every 10" does
            written = str(value)
            alone = written.replace(".", "", 1).isdigit()
            unit = f": a number alone is seconds; give its unit, {written}m or {written}h"
            unit = unit if alone else ""
            self.problem(
                node, name, f"must be at least {minimum:g} seconds (got {seconds:g}{unit})"
            )
            return default
        return seconds

    def items(self, node: yaml.Node | None, name: str, what: str) -> list[yaml.Node]:
        """A list's items: none for a missing or null value, a problem for a non-list."""
        if node is None or is_null(node):
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, name, f"must be a list of {what}")
            return []
        return list(node.value)

    def string_list(self, node: yaml.Node | None, name: str) -> tuple[str, ...]:
        """A list of strings, or one line of them with commas between (`tags: wire, asia`:
        as one name, "wire, asia" was a tag no one follows)."""
        if node is None:
            return ()
        if isinstance(node, yaml.ScalarNode):
            value = self.string(node, name)
            return names_in_line(value or "")
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, name, "must be a list of strings")
            return ()
        items = (self.string(item, f"{name}[{i}]") for i, item in enumerate(node.value))
        return tuple(item for item in items if item)

    def zone(self, node: yaml.Node | None, name: str) -> str | None:
        """An IANA time zone's name (`Europe/Berlin`), None where none is given or it is
        wrong (a problem)."""
        zone = self.string(node, name)
        if zone is not None and (problem := zone_problem(zone)) is not None:
            self.problem(node, name, problem)
            return None
        return zone

    def ca_file(self, node: yaml.Node | None, name: str) -> Path | None:
        """A file of CA certificates to trust as well, checked by loading it."""
        if node is None or is_null(node):
            return None
        path = self.file_path(node, name, "")
        try:
            trust_ca(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), path)
        except (ssl.SSLError, ValueError):  # before OSError, SSLError's base
            self.problem(node, name, f"{path} holds no CA certificate (PEM, or one in DER)")
            return None
        except OSError as exc:
            self.problem(node, name, f"cannot read {path}: {exc.strerror or exc}")
            return None
        return path

    def file_path(self, node: yaml.Node | None, name: str, default: str) -> Path:
        text = self.string(node, name) or default
        try:
            path = Path(text).expanduser()
        except RuntimeError:  # ~user of no such user, or ~ with neither $HOME nor a passwd entry
            home = text.split("/")[0]
            self.problem(node, name, f"{text!r}: {home!r} names no user with a home directory")
            path = Path(text)
        return path if path.is_absolute() else self.base / path
