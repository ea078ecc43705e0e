"""The command line: the only package that prints and exits.

Each module adds its commands' parsers and handlers: `service` (run, once), `feeds` (feeds,
stories, ingest), `opml` (import-opml, export-opml), `clusters` (dedupe, clusters), `rules` (rules
check, rules test), `alerts` (alerts, alerts retry, send-test), `why`, `ops` (status,
backup, health).
Exit codes: 0 success, 1 a command failed (a feed or input could not be read, a store
error), 2 invalid usage, an invalid config file or invalid rules, 75 the database in use by
another `run` or `once` (try later), 130 interrupted by Ctrl-C (`run` stops cleanly on it,
with 0).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Sequence

from watcher import __version__, logs
from watcher.cli import alerts, clusters, feeds, opml, ops, rules, service, why
from watcher.cli.common import (
    EXIT_BUSY,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    UsageError,
    print_config_problems,
)
from watcher.config import LOG_FORMATS, load_config, resolve_config_path
from watcher.errors import ConfigError, DatabaseBusy, WatcherError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="watcher",
        description="Self-hosted news monitoring: polls RSS/Atom/RDF/JSON feeds, keeps every story "
        "in SQLite, folds reprints into story clusters and matches them against rules.",
    )
    parser.add_argument("--version", action="version", version=f"watcher {__version__}")
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="the YAML config file (default: $WATCHER_CONFIG, else ./watcher.yaml)",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="how much to log on stderr (default: INFO)",
    )
    parser.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        help="log lines as key=value or as JSON objects (default: the config's log_format:, "
        "else keyvalue)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (service, feeds, opml, clusters, rules, alerts, why, ops):
        module.add_parsers(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):  # a console in ASCII or Latin-1 (LC_ALL,
        # PYTHONIOENCODING) shows what it cannot encode as \u2014: a title raised there
        sys.stdout.reconfigure(errors="backslashreplace")
    logs.configure(args.log_level, args.log_format or "keyvalue")
    try:
        if not args.needs_config:
            return int(args.handler(args))
        config = load_config(resolve_config_path(args.config))
        logs.add_secrets(config.secrets())
        if args.log_format is None and config.log_format != "keyvalue":
            logs.configure(args.log_level, config.log_format)
        return int(args.handler(config, args))
    except ConfigError as exc:
        print_config_problems(exc)
        return EXIT_USAGE
    except UsageError as exc:
        print(f"watcher: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DatabaseBusy as exc:
        print(f"watcher: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except WatcherError as exc:
        print(f"watcher: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:  # Ctrl-C: what was written is committed, the rest rolled back
        print("watcher: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader stopped reading (`watcher stories | head`): no error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nor at exit's flush
        return 0
