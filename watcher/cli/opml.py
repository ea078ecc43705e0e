"""`watcher import-opml` and `watcher export-opml`: feeds from and for other readers."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from watcher.cli.common import EXIT_FAILED, utc_now, write_output
from watcher.config import Config
from watcher.config.reader import literal
from watcher.files import read_capped
from watcher.logs import MASK, redact
from watcher.opml import OpmlFeed, read_opml, write_opml


def add_parsers(commands: Any) -> None:
    opml = commands.add_parser(
        "import-opml",
        help="print the feeds of an OPML file as the config's feeds: section",
        description="Read the subscriptions another reader exported as OPML (Feedly, "
        "Inoreader, Miniflux, NetNewsWire, rss2email) and print them as YAML for the "
        "config's feeds: section: one entry per feed URL (its xmlUrl; a browser's feed: link "
        "read as the http(s) URL it names; URLs the config takes for one feed once, the first "
        "written), named by its title, its folders as tags (each name once, the outermost "
        "20). An outline whose URL is not http(s), or is no valid URL (white space or a "
        "control character in it, no host or a malformed one, a port not from 1 to 65535), "
        "or that stands for a feed with no xmlUrl (of type rss or atom, or with a url or "
        "htmlUrl, which it names), is skipped with a line on stderr. A bare & (in an "
        "exported URL's query) is read as &amp;. Writes no file; needs no config file.",
    )
    opml.add_argument("opml_file", metavar="FILE", help="the OPML file")
    opml.set_defaults(handler=cmd_import_opml, needs_config=False)
    export = commands.add_parser(
        "export-opml",
        help="print the config's feeds as an OPML file, for another reader",
        description="Write the config's feeds as OPML 2.0, as feed readers import it: each "
        "feed by its name and configured URL, each tag a folder holding its feeds (a feed "
        "without tags at the top). Secrets in a URL (a password, a token= or key= "
        "parameter) are masked as *** as in the logs, and a feed's headers: are not "
        "written, nor a feed whose URL is not http(s) (a file: URL): each feed so changed "
        "or left out is named on stderr. import-opml reads the file back as the same feeds.",
    )
    export.add_argument(
        "--output", metavar="FILE", help="write the file there (default: standard output)"
    )
    export.set_defaults(handler=cmd_export_opml, needs_config=True)


def cmd_import_opml(args: argparse.Namespace) -> int:
    path = Path(args.opml_file)
    try:
        data = read_capped(path)
    except OSError as exc:
        print(f"watcher: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    found = read_opml(data, str(path))  # InputError: reported by main, exit 1
    for line in found.skipped:
        print(f"watcher: {path}: skipped {line}", file=sys.stderr)
    entries = [  # as the config reads them back: a ${ in them is no variable
        {
            "name": literal(f.name),
            "url": literal(f.url),
            **({"tags": [literal(t) for t in f.tags]} if f.tags else {}),
        }
        for f in found.feeds
    ]
    print(f"# {len(entries)} feeds from {path.name}")
    print(yaml.safe_dump({"feeds": entries}, sort_keys=False, allow_unicode=True), end="")
    return 0


def cmd_export_opml(config: Config, args: argparse.Namespace) -> int:
    feeds = []
    for feed in config.feeds:
        if (scheme := urlsplit(feed.url).scheme) not in ("http", "https"):
            print(f"watcher: feed {feed.name!r}: not written: other readers cannot poll a "
                  f"{scheme}: URL", file=sys.stderr)  # fmt: skip
            continue
        url = redact(feed.url)
        if url != feed.url:
            print(f"watcher: feed {feed.name!r}: secrets in its URL written as {MASK}",
                  file=sys.stderr)  # fmt: skip
        if feed.headers:
            print(f"watcher: feed {feed.name!r}: its headers: are not in OPML", file=sys.stderr)
        feeds.append(OpmlFeed(feed.name, url, feed.tags))
    data = write_opml(feeds, "watcher feeds", utc_now())
    if args.output is None:
        sys.stdout.buffer.write(data)
        return 0
    path = Path(args.output)
    if problem := write_output(path, data):
        print(f"watcher: {problem}", file=sys.stderr)
        return EXIT_FAILED
    print(f"watcher: {len(feeds)} feeds written to {path}", file=sys.stderr)
    return 0
