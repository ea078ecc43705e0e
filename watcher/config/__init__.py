"""Load and check the YAML config file.

In: a path to a YAML file (and the process environment, for ``${VAR}`` references).
Out: a frozen `Config`. Relative paths in the file are resolved against the file's folder.
Raises: `ConfigError` listing every problem, each with file, line and field.

`settings` holds the dataclasses, `reader` the typed YAML accessors, `feeds` reads the
feeds and the ages of stories that alert, `sections` every other section of the file.
"""

from __future__ import annotations

import os
from pathlib import Path

from watcher.config.reader import parse_duration
from watcher.config.sections import LOG_FORMATS, ConfigReader, default_rules, parse_listen
from watcher.config.settings import (
    CHANNELS,
    Config,
    DeliverySettings,
    PollSettings,
    SmtpSettings,
    Subscriber,
)
from watcher.errors import ConfigError, ConfigProblem
from watcher.files import read_capped

__all__ = [
    "CHANNELS", "LOG_FORMATS", "Config", "DeliverySettings", "PollSettings", "SmtpSettings",
    "Subscriber", "default_rules", "load_config", "load_optional_config", "parse_duration",
    "parse_listen", "resolve_config_path",
]  # fmt: skip

DEFAULT_PATH = "watcher.yaml"


def resolve_config_path(cli_value: str | None) -> Path:
    """The config path: --config, else $WATCHER_CONFIG, else ./watcher.yaml."""
    return Path(cli_value or os.environ.get("WATCHER_CONFIG") or DEFAULT_PATH)


def load_optional_config(cli_value: str | None) -> Config | None:
    """The config when one is named (--config, $WATCHER_CONFIG) or ./watcher.yaml exists."""
    path = resolve_config_path(cli_value)
    if cli_value is None and "WATCHER_CONFIG" not in os.environ and not path.exists():
        return None
    return load_config(path)


def load_config(path: Path, env: dict[str, str] | None = None) -> Config:
    """Read, expand and check the config file at `path`."""
    try:
        data = read_capped(path)
    except OSError as exc:
        problem = ConfigProblem(
            path=str(path), line=None, field="", message=exc.strerror or str(exc)
        )
        raise ConfigError([problem]) from exc
    reader = ConfigReader(path, os.environ if env is None else env)
    root = reader.load(data)
    config = reader.build(root)
    if reader.problems:  # in the order of their lines; the file's own first
        raise ConfigError(sorted(reader.problems, key=lambda problem: problem.line or 0))
    assert config is not None
    return config
