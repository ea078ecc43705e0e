from __future__ import annotations

import codecs
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from watcher.alerts.digest import next_digest, quiet_until
from watcher.alerts.render import UTC_ZONE
from watcher.config import default_rules, load_config, parse_duration, resolve_config_path
from watcher.errors import ConfigError, ConfigProblem
from watcher.files import MAX_FILE_BYTES

GOOD = """\
state: state/test.db
rules: my-rules/
poll:
  interval: 5m
  max_ttl: 1h
feeds:
  - name: Wire
    url: https://wire.test/rss.xml
    interval: 2m
    tags: [wire, asia]
    timezone: Asia/Tokyo
    max_ttl: 0s
  - name: Local
    url: file:feeds/local.xml
smtp:
  host: smtp.test
  password: ${SMTP_PASSWORD}
  from: watcher@test
subscribers:
  - name: analyst
    follow: ["*"]
    email: analyst@test
    slack: ${SLACK_URL:-https://hooks.test/default}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "watcher.yaml"
    path.write_text(text)
    return path


def problems(path: Path) -> list[ConfigProblem]:
    """The problems of the config at `path`, which must have some."""
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    return caught.value.problems


def test_good_config(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD), env={"SMTP_PASSWORD": "s3cret"})
    assert config.state == tmp_path / "state/test.db"
    assert config.rules == tmp_path / "my-rules"
    wire, local = config.feeds
    assert (wire.name, wire.interval, wire.tags) == ("Wire", 120.0, ("wire", "asia"))
    assert (wire.timezone, local.timezone) == ("Asia/Tokyo", None)
    assert local.interval == 300.0  # poll default
    assert config.poll.max_ttl == local.max_ttl == 3600.0 and wire.max_ttl == 0  # its own
    assert local.url == (tmp_path / "feeds/local.xml").as_uri()
    assert config.smtp is not None and config.smtp.password == "s3cret"
    assert config.smtp.port == 587 and config.smtp.security == "starttls"
    assert config.subscribers[0].slack == "https://hooks.test/default"


def test_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "feeds: []\n"), env={})
    assert config.state == tmp_path / "state/watcher.db"
    assert config.rules == default_rules()  # no rules/ beside the config: the shipped rules
    assert {p.name for p in config.rules.glob("*.yaml")} >= {"minerals.yaml", "firms.yaml"}
    assert config.poll.interval == 600 and config.poll.max_bytes == 10 * 1024 * 1024
    assert config.poll.max_ttl == 0  # what a feed asks changes nothing
    assert config.retention_days == 30 and config.alert_retention_days == 365
    assert config.listen == ("127.0.0.1", 8080) and config.log_format == "keyvalue"
    (tmp_path / "rules").mkdir()
    assert load_config(tmp_path / "watcher.yaml", env={}).rules == tmp_path / "rules"


@pytest.mark.parametrize(
    ("written", "span"),
    [("", 72 * 3600.0), ("  max_span: 5d\n", 5 * 86400.0), ("  max_span: off\n", None)],
)
def test_clustering_max_span(tmp_path: Path, written: str, span: float | None) -> None:
    config = load_config(write(tmp_path, f"clustering:\n  window: 24h\n{written}"), env={})
    assert config.clustering.max_span == span and config.clustering.window == 24 * 3600


def test_listen_and_log_format(tmp_path: Path) -> None:
    text = "feeds: []\nlisten: 0.0.0.0:9100\nlog_format: json\n"
    config = load_config(write(tmp_path, text), env={})
    assert config.listen == ("0.0.0.0", 9100) and config.log_format == "json"
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, "feeds: []\nlisten: here\nlog_format: xml\n"), env={})
    assert [str(p) for p in caught.value.problems] == [
        f"{tmp_path / 'watcher.yaml'}:2: listen: 'here' is not HOST:PORT, such as 127.0.0.1:8080",
        f"{tmp_path / 'watcher.yaml'}:3: log_format: 'xml' is not one of keyvalue, json",
    ]
    with pytest.raises(ConfigError) as caught:  # "²" passes str.isdigit, not int()
        load_config(write(tmp_path, "feeds: []\nlisten: '127.0.0.1:²'\n"), env={})
    assert [p.message for p in caught.value.problems] == [
        "'127.0.0.1:²' is not HOST:PORT, such as 127.0.0.1:8080"
    ]


def test_an_smtp_host_is_a_name_or_an_address(tmp_path: Path) -> None:
    for written, host in [("'[::1]'", "::1"), ("'::1'", "::1"), ("10.0.0.5", "10.0.0.5")]:
        config = load_config(write(tmp_path, f"smtp:\n  host: {written}\nfeeds: []\n"), env={})
        assert config.smtp is not None and config.smtp.host == host


def test_the_smtp_password_keeps_its_spaces_as_written(tmp_path: Path) -> None:
    """Every other value is stripped; a password that ends in a space lost it, and the
    server refused every login."""
    text = "smtp:\n  host: ' smtp.test '\n  username: ' ana '\n  password: ${PW}\n"
    text += "  from: Watcher <watcher@bücher.test>\n"
    config = load_config(write(tmp_path, text + "feeds: []\n"), env={"PW": " pa ss "})
    assert config.smtp is not None and config.smtp.password == " pa ss "
    assert (config.smtp.host, config.smtp.username) == ("smtp.test", "ana")
    assert config.smtp.sender == "Watcher <watcher@bücher.test>"  # a name, an IDN: one address
    quoted = load_config(write(tmp_path, "smtp:\n  host: h\n  password: 'x1 '\nfeeds: []\n"))
    assert quoted.smtp is not None and quoted.smtp.password == "x1 "
    from_a_file = load_config(write(tmp_path, text + "feeds: []\n"), env={"PW": "s3 \r\n"})
    assert from_a_file.smtp is not None and from_a_file.smtp.password == "s3 "
    with pytest.raises(ConfigError, match=r":4: smtp.password: must be one line"):
        load_config(write(tmp_path, text + "feeds: []\n"), env={"PW": "s3\ncret"})


def test_a_text_value_that_yaml_reads_as_a_number_is_taken_as_written(tmp_path: Path) -> None:
    """YAML 1.1 reads 0123 as the octal 83, 1:30 as 90 and 1.10 as 1.1: a password of
    digits came out another, and every login failed."""
    text = "smtp:\n  host: h\n  username: 1:30\n  password: 0123\n"
    text += "feeds:\n  - name: 1.10\n    url: https://a.test/\n    source: 0x1F\n"
    config = load_config(write(tmp_path, text), env={})
    assert config.smtp is not None
    assert (config.smtp.username, config.smtp.password) == ("1:30", "0123")
    assert (config.feeds[0].name, config.feeds[0].source) == ("1.10", "0x1F")


def test_ca_files_are_checked_when_the_config_is_read(tmp_path: Path) -> None:
    """A missing file, or one that holds no certificate, failed every poll or every email
    later (smtp.ca_file: "FileNotFoundError" on each send); it is a problem at its line.
    PEM and DER are both taken."""
    import ssl

    import trustme

    from watcher.files import trust_ca

    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    der = ssl.PEM_cert_to_DER_cert(ca.cert_pem.bytes().decode())
    (tmp_path / "ca.der").write_bytes(der)
    (tmp_path / "notes.txt").write_text("not a certificate\n")
    bundle = "# Főtanúsítvány (a bundle's comment, not ASCII)\n" + ca.cert_pem.bytes().decode()
    (tmp_path / "bundle.pem").write_text(bundle + "\n" + trustme.CA().cert_pem.bytes().decode())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    trust_ca(context, tmp_path / "bundle.pem")
    assert context.cert_store_stats()["x509_ca"] == 2
    for name in ("ca.pem", "ca.der", "bundle.pem"):
        text = f"poll:\n  ca_file: {name}\nsmtp:\n  host: h\n  ca_file: {name}\nfeeds: []\n"
        config = load_config(write(tmp_path, text), env={})
        assert config.poll.ca_file == config.smtp.ca_file == tmp_path / name  # type: ignore[union-attr]
    text = "poll:\n  ca_file: gone.pem\nsmtp:\n  host: h\n  ca_file: notes.txt\nfeeds: []\n"
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text), env={})
    assert [str(p).removeprefix(str(tmp_path / "watcher.yaml")) for p in caught.value.problems] == [
        f":2: poll.ca_file: cannot read {tmp_path / 'gone.pem'}: No such file or directory",
        f":5: smtp.ca_file: {tmp_path / 'notes.txt'} holds no CA certificate (PEM, or one in DER)",
    ]


def test_dollar_dollar_brace_is_a_literal_dollar_brace(tmp_path: Path) -> None:
    """As in Docker Compose, but for `$${` alone: a `$$` elsewhere (a password) stays."""
    from watcher.config.reader import literal

    text = "feeds:\n  - name: 'A $${B} pa$$word $${D:-e} ${F}'\n    url: https://a.test/\n"
    (feed,) = load_config(write(tmp_path, text), env={"B": "no", "F": "f"}).feeds
    assert feed.name == "A ${B} pa$$word ${D:-e} f"
    for name in ("${B}", "$${B}", "$$", "${", "$"):  # what `literal` writes reads back as it was
        written = f"feeds:\n  - name: '{literal(name)}'\n    url: https://a.test/\n"
        assert load_config(write(tmp_path, written), env={"B": "no"}).feeds[0].name == name


def test_a_feed_configured_twice_is_found(tmp_path: Path) -> None:
    """Two names for one URL (an OPML import pasted over feeds already there) poll it twice
    and store its stories twice: a warning at start and on reload names both. Other
    headers (another account's token) make another feed."""
    from watcher.config.feeds import same_urls

    text = (
        "feeds:\n  - {name: A, url: 'https://a.test/feed'}\n"
        "  - {name: B, url: 'HTTPS://A.test:443/feed'}\n"
        "  - {name: C, url: 'https://a.test/feed', headers: {X-Key: k2}}\n"
        "  - {name: D, url: 'https://a.test/feed?page=2'}\n"
        "  - {name: E, url: 'https://u:p@a.test/feed'}\n"
        "  - {name: F, url: 'https://пример.рф/%d0%bb%d0%b5%d0%bd%d1%82%d0%b0'}\n"
        "  - {name: G, url: 'https://xn--e1afmkfd.xn--p1ai/лента'}\n"  # F, written otherwise
    )
    feeds = load_config(write(tmp_path, text), env={}).feeds
    assert same_urls(feeds) == [
        "feeds 'A' and 'B' have one URL: it is polled twice",
        "feeds 'F' and 'G' have one URL: it is polled twice",
    ]


def test_secrets_are_the_password_and_webhook_urls(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD), env={"SMTP_PASSWORD": "s3cret"})
    assert set(config.secrets()) >= {"s3cret", "https://hooks.test/default"}


def test_feed_headers_are_read_and_their_credentials_kept_from_the_log(tmp_path: Path) -> None:
    text = (
        "feeds:\n  - name: A\n    url: https://a.test/\n    headers:\n"
        "      Authorization: Bearer ${TOKEN}\n      User-Agent: Mozilla/5.0 (watcher)\n"
        "      X-Api-Key: k-123456\n"
    )
    config = load_config(write(tmp_path, text), env={"TOKEN": "t0ken-abcdef"})
    (feed,) = config.feeds
    assert feed.headers == (
        ("Authorization", "Bearer t0ken-abcdef"), ("User-Agent", "Mozilla/5.0 (watcher)"),
        ("X-Api-Key", "k-123456"),
    )  # fmt: skip
    assert "t0ken" not in repr(feed)
    secrets = set(config.secrets())
    assert {"Bearer t0ken-abcdef", "t0ken-abcdef", "k-123456"} <= secrets
    assert not any("Mozilla" in secret for secret in secrets)


def test_merge_keys_share_settings_between_feeds(tmp_path: Path) -> None:
    """`<<: *anchor`, as Docker Compose files use it, with anchors under a top-level `x-`
    key: a feed's own keys win, then the first mapping of a list; `<<` was refused as
    "no valid !!merge", and `x-japan` as an unknown key."""
    text = """\
x-japan: &japan {timezone: Asia/Tokyo, tags: [japan], interval: 5m}
x-private: &private
  headers: {X-Api-Key: k-1}
  interval: 9m
  source: Private Wire
feeds:
  - name: A
    url: https://a.test/rss
    <<: *japan
  - <<: [*japan, *private]
    name: B
    url: https://b.test/rss
    tags: [own]
  - {name: C, url: https://c.test/rss}
"""
    a, b, c = load_config(write(tmp_path, text), env={}).feeds
    assert (a.timezone, a.tags, a.interval, a.headers) == ("Asia/Tokyo", ("japan",), 300.0, ())
    assert (b.timezone, b.tags, b.interval) == ("Asia/Tokyo", ("own",), 300.0)
    assert (b.headers, b.source) == ((("X-Api-Key", "k-1"),), "Private Wire")
    assert (c.timezone, c.interval) == (None, 600.0)
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    start = readme.index("```yaml\nx-japan") + 8
    nikkei, kyodo = load_config(write(tmp_path, readme[start : readme.index("```", start)])).feeds
    assert (nikkei.interval, kyodo.interval, kyodo.timezone) == (300.0, 120.0, "Asia/Tokyo")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "x-a: &a 5m\nfeeds:\n  - <<: *a\n    name: A\n    url: https://a.test/\n",
            ":1: invalid YAML: a merge key (<<) takes a mapping or a list of mappings",
            id="merge-a-scalar",
        ),
        pytest.param(
            "x-a: &a {interval: 5m, <<: *a}\n",
            ":1: invalid YAML: a merge key (<<) merges the mapping that holds it",
            id="merge-itself",
        ),
        pytest.param(  # a merged mapping's problem is at its own line
            "x-a: &a {intervall: 5m}\nfeeds:\n  - <<: *a\n    name: A\n    url: https://a.test/\n",
            ":1: feeds[0].intervall: unknown key",
            id="merged-unknown-key",
        ),
        pytest.param(  # a key that is no scalar, merged: a problem, not a TypeError
            "x-a: &a {? [k] : 1}\nfeeds:\n  - <<: *a\n    name: A\n    url: https://a.test/\n",
            ":1: feeds[0]: a key must be a single word, not a list or mapping",
            id="merged-complex-key",
        ),
        pytest.param(  # `x-` keys are skipped at the top only
            "poll:\n  x-a: 1\n",
            ":2: poll.x-a: unknown key",
            id="extension-below-the-top",
        ),
    ],
)
def test_merge_key_problems_name_their_line(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text), env={})
    assert expected in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "feeds:\n  - name: A\n    url: https://a.test/\n    intervall: 5m\n",
            ":4: feeds[0].intervall: unknown key",
            id="unknown-key",
        ),
        pytest.param(
            "feeds:\n  - name: A\n    url: https://a.test/\n    interval: 10s\n",
            ":4: feeds[0].interval: must be at least 60",
            id="short-interval",
        ),
        pytest.param(
            "feeds:\n  - name: A\n    url: https://a.test/\n    timezone: Asia/Edo\n",
            ":4: feeds[0].timezone: 'Asia/Edo' is not an IANA time zone such as Europe/Berlin",
            id="feed-zone",
        ),
        pytest.param(
            "feeds:\n  - name: A\n    url: https://a.test/\n    interval: 10\n",
            ":4: feeds[0].interval: must be at least 60 seconds (got 10: a number alone is "
            "seconds; give its unit, 10m or 10h)",
            id="interval-without-unit",
        ),
        pytest.param(
            "feeds:\n  - name: A\n    url: https://a.test/\n    timezone: asia/tokyo\n",
            ":4: feeds[0].timezone: 'asia/tokyo' is not an IANA time zone such as Europe/Berlin "
            "(did you mean 'Asia/Tokyo'?)",
            id="feed-zone-case",
        ),
        pytest.param(
            "subscribers:\n  - name: a\n    email: 'a@example.org; b@example.org'\n",
            ":3: subscribers[0].email: 'a@example.org; b@example.org' is not an email address (or "
            "a list of them): separate addresses with commas, not semicolons",
            id="email-semicolons",
        ),
        pytest.param(
            "feeds:\n  - name: A\n    url: www.mining.com/feed/\n",
            ":3: feeds[0].url: 'www.mining.com/feed/' is not an http(s):// or file: URL (did "
            "you mean 'https://www.mining.com/feed/'?)",
            id="url-without-scheme",
        ),
        pytest.param(
            "feeds:\n  - name: A\n    url: kyodo.xml\n",
            ":3: feeds[0].url: 'kyodo.xml' is not an http(s):// or file: URL (did you mean "
            "'file:kyodo.xml'?)",
            id="url-a-file-name",
        ),
        pytest.param(
            "listen: http://127.0.0.1:8080\n",
            ":1: listen: 'http://127.0.0.1:8080' is a URL, not HOST:PORT: write 127.0.0.1:8080",
            id="listen-url",
        ),
        pytest.param(
            "feeds:\n  - name: A\n    url: https://a.test/\n    timezone: UTC+2\n",
            ":4: feeds[0].timezone: 'UTC+2' is not an IANA time zone: write the zone of the "
            "place, such as Europe/Berlin, which keeps its summer time, or for a fixed UTC+2 "
            "Etc/GMT-2 (IANA reverses the sign)",
            id="feed-zone-offset",
        ),
        pytest.param(
            "feeds:\n  - name: A\n    url: https://a.test/\n    timezone: America/Argentina\n",
            ":4: feeds[0].timezone: 'America/Argentina' is not an IANA time zone",
            id="feed-zone-region",
        ),
        pytest.param(
            "clustering:\n  max_span: 30m\n",
            ":2: clustering.max_span: must be at least 3600",
            id="short-max-span",
        ),
        pytest.param(
            "feeds:\n  - name: A\n    url: https://a.test/\n    interval: soon\n",
            ":4: feeds[0].interval: 'soon' is not a duration",
            id="bad-duration",
        ),
        pytest.param(
            "poll:\n  interval: .nan\n",
            ":2: poll.interval: '.nan' is not a duration",  # not "nan is longer than ..."
            id="nan-duration",
        ),
        pytest.param(
            "poll:\n  max_ttl: -1h\n",
            ":2: poll.max_ttl: '-1h' is not a duration",
            id="negative-max-ttl",
        ),
        pytest.param(
            "poll:\n  jitter: [30s]\n",
            ":2: poll.jitter: must be a duration such as 90s",  # not "SequenceNode(tag=..."
            id="list-duration",
        ),
        pytest.param(
            "delivery:\n  retry_max:\n",
            ":2: delivery.retry_max: must be a duration such as 90s",  # not "None is not ..."
            id="empty-duration",
        ),
        pytest.param(
            "feeds:\n  - name: A\n    url: ftp://a.test/\n",
            ":3: feeds[0].url: 'ftp://a.test/' is not",
            id="bad-scheme",
        ),
        pytest.param(
            "feeds:\n  - name: A\n    url: https://a.test:port/\n",
            ":3: feeds[0].url: 'https://a.test:port/' is not a valid URL",
            id="bad-port",
        ),
        pytest.param(
            "feeds:\n  - name: A\n    url: 'http://[::1/'\n",
            ":3: feeds[0].url: 'http://[::1/' is not a valid URL",
            id="bad-ipv6",
        ),
        pytest.param(
            "feeds:\n  - name: A\n    url: https://a.test:70000/\n",
            ":3: feeds[0].url: 'https://a.test:70000/' is not a valid URL: Port out of range",
            id="port-out-of-range",
        ),
        pytest.param(  # every poll raised IDNAError as an unexpected error
            "feeds:\n  - name: A\n    url: https://xn--zz.a.test/\n",
            ":3: feeds[0].url: 'https://xn--zz.a.test/' is not a valid URL: Invalid A-label",
            id="punycode-that-is-none",
        ),
        pytest.param(
            "feeds:\n  - name: A\n    url: https://a.test:0/\n",
            ":3: feeds[0].url: 'https://a.test:0/' is not a valid URL: port 0 is no port",
            id="port-zero",
        ),
        pytest.param(
            "feeds:\n  - name: A\n    url: 'http://:8080/feed'\n",
            ":3: feeds[0].url: 'http://:8080/feed' is not a valid URL: it names no host",
            id="no-host",
        ),
        pytest.param(  # getaddrinfo raised UnicodeError out of every poll
            "feeds:\n  - name: A\n    url: 'http://news..example.org/feed'\n",
            ":3: feeds[0].url: 'http://news..example.org/feed' is not a valid URL: in its host "
            "name, a part between dots is empty or longer than 63 characters",
            id="empty-label",
        ),
        pytest.param(  # each failed every email with "Name or service not known"
            "smtp:\n  host: 'smtp.test:587'\nfeeds: []\n",
            ":2: smtp.host: 'smtp.test:587' is no host name: give the port as smtp.port: 587",
            id="smtp-host-with-port",
        ),
        pytest.param(
            "smtp:\n  host: 'smtps://smtp.test'\nfeeds: []\n",
            ":2: smtp.host: 'smtps://smtp.test' is no host name: give the host alone, not a URL",
            id="smtp-host-url",
        ),
        pytest.param(
            "smtp:\n  host: smtp\ufffd.example.org\nfeeds: []\n",
            ":2: smtp.host: 'smtp\ufffd.example.org' is no host name: the resolver cannot "
            "encode it (Invalid character '\ufffd')",
            id="smtp-host-bad-character",
        ),
        pytest.param(
            "smtp:\n  host: smtp..example.org\nfeeds: []\n",
            ":2: smtp.host: 'smtp..example.org' is no host name: a part between dots is empty",
            id="smtp-host-empty-label",
        ),
        pytest.param(
            "feeds:\n  - name: A\n    url: 'http://a test/feed'\n",
            ":3: feeds[0].url: 'http://a test/feed' is not a valid URL: white space",
            id="space-in-host",
        ),
        pytest.param(
            "feeds:\n  - url: https://a.test/\n", "feeds[0].name: is required", id="missing-name"
        ),
        pytest.param(
            "feeds:\n  - name: A\n    url: https://a.test/\n  - name: A\n    url: https://b.test/\n",
            ":4: feeds[1].name: another feed is already named 'A'",
            id="duplicate-name",
        ),
        pytest.param(
            "smtp:\n  host: h\n  password: ${NOPE}\n",
            ":3: smtp.password: environment variable NOPE is not set",
            id="missing-env",
        ),
        pytest.param(
            "smtp:\n  host: h\n  security: ssl\n",
            ":3: smtp.security: must be none, starttls or tls",
            id="bad-security",
        ),
        pytest.param(
            "feeds:\n  - name: A\n    url: https://a.test/\n    headers:\n      Bad Name: x\n",
            ":5: feeds[0].headers.Bad Name: is not an HTTP header name",
            id="header-name",
        ),
        pytest.param(
            "feeds:\n  - name: A\n    url: https://a.test/\n    headers:\n"
            "      Accept-Encoding: br\n",
            ":5: feeds[0].headers.Accept-Encoding: is set by watcher for every poll",
            id="header-of-watcher",
        ),
        pytest.param(
            "feeds:\n  - name: A\n    url: https://a.test/\n    headers:\n"
            '      X-Key: "a\\r\\nInjected: 1"\n',
            ":5: feeds[0].headers.X-Key: must be one line",
            id="header-value-lines",
        ),
        pytest.param(  # httpx sends header values as ASCII: every poll raised
            "feeds:\n  - name: A\n    url: https://a.test/\n    headers:\n      X-Key: tökén\n",
            ":5: feeds[0].headers.X-Key: must be ASCII text",
            id="header-value-not-ascii",
        ),
        pytest.param(
            "poll:\n  user_agent: wätcher/1\n",
            ":2: poll.user_agent: must be ASCII text",
            id="user-agent-not-ascii",
        ),
        pytest.param(
            "feeds:\n  - name: A\n    url: https://a.test/\n    headers:\n"
            "      x-key: a\n      X-Key: b\n",
            ":6: feeds[0].headers.X-Key: given twice",
            id="header-twice",
        ),
        pytest.param(
            "feeds:\n  - name: A\n    url: https://a.test/\n    headers: [X-Key]\n",
            ":4: feeds[0].headers: must be a mapping of HTTP header names to values",
            id="headers-not-a-mapping",
        ),
        pytest.param(
            'subscribers:\n  - name: a\n    email: "a@b.test\\nBcc: c@d.test"\n',
            ":3: subscribers[0].email: must be one line of text, without control characters",
            id="email-header-injection",
        ),
        pytest.param(
            "subscribers:\n  - name: a\n    email: analyst\n",
            ":3: subscribers[0].email: 'analyst' is not an email address",
            id="email-no-at",
        ),
        pytest.param(
            "subscribers:\n  - name: a\n    email: '@example.org'\n",
            ":3: subscribers[0].email: '@example.org' is not an email address",
            id="email-no-local-part",
        ),
        pytest.param(
            "subscribers:\n  - name: a\n    email: []\n",
            ":3: subscribers[0].email: lists no address (leave it out for no email)",
            id="email-empty-list",
        ),
        pytest.param(
            "subscribers:\n  - name: a\n    email: [a@b.test, [c@d.test]]\n",
            ":3: subscribers[0].email[1]: must be a string, not a list",
            id="email-list-in-list",
        ),
        pytest.param(  # went out as MAIL FROM:<not>
            "smtp:\n  host: h\n  from: not an address\nfeeds: []\n",
            ":3: smtp.from: 'not an address' is not one email address",
            id="from-no-address",
        ),
        pytest.param(  # went out as the null sender, MAIL FROM:<>
            "smtp:\n  host: h\n  from: a@b@c.test\nfeeds: []\n",
            ":3: smtp.from: 'a@b@c.test' is not one email address",
            id="from-two-at-signs",
        ),
        pytest.param(
            "smtp:\n  host: h\n  from: 'a@b.test, c@d.test'\nfeeds: []\n",
            ":3: smtp.from: 'a@b.test, c@d.test' is not one email address",
            id="from-two-addresses",
        ),
        pytest.param(
            "subscribers:\n  - name: a\n    slack: 'https://[::1/services/T0/B0/secret'\n",
            ":3: subscribers[0].slack: is not a valid URL: Invalid IPv6 URL",
            id="slack-bad-ipv6",
        ),
        pytest.param(
            "subscribers:\n  - name: a\n    webhook: https://hooks.test:70000/secret\n",
            ":3: subscribers[0].webhook: is not a valid URL: Port out of range",
            id="webhook-port-range",
        ),
        pytest.param(
            "subscribers:\n  - name: a\n    webhook: ftp://hooks.test/secret\n",
            ":3: subscribers[0].webhook: must be an http(s) URL",
            id="webhook-scheme",
        ),
        pytest.param(
            'feeds:\n  - name: "Wire\\e[2J"\n    url: https://a.test/\n',
            ":2: feeds[0].name: must be one line of text, without control characters",
            id="name-with-escape",
        ),
        pytest.param(
            'smtp:\n  host: h\n  from: "w@test\\u2028Bcc: x@test"\n',
            ":3: smtp.from: must be one line of text, without control characters",
            id="sender-line-separator",
        ),
        pytest.param(
            "state: ~no-such-user-here/watcher.db\n",
            ":1: state: '~no-such-user-here/watcher.db': '~no-such-user-here' names no user",
            id="state-unknown-home",
        ),
        pytest.param(
            "rules: ~no-such-user-here/rules\n",
            ":1: rules: '~no-such-user-here/rules': '~no-such-user-here' names no user",
            id="rules-unknown-home",
        ),
        pytest.param("feeds: [\n", "invalid YAML", id="yaml-syntax"),
        pytest.param(
            "poll:\n\tinterval: 10m\n",
            ":2: invalid YAML: found character '\\t' that cannot start any token: YAML indents "
            "with spaces, not tabs",
            id="yaml-tab",
        ),
        pytest.param(
            "poll:\n  user_agent: watcher: ops team\n",
            ":2: invalid YAML: mapping values are not allowed here: a value that holds ': ' is "
            "written in quotes: 'watcher: ops team'",
            id="yaml-colon-in-value",
        ),
        pytest.param(
            "feeds:\n  - name: A\n    url: !!python/object:os.system https://a.test/\n",
            ":3: invalid YAML: the tag 'tag:yaml.org,2002:python/object:os.system' is not read",
            id="yaml-python-tag",
        ),
        pytest.param(  # PyYAML raised KeyError, ValueError or AttributeError out of the reader
            "poll:\n  concurrency: !!bool maybe\n",
            ":2: invalid YAML: 'maybe' is no valid !!bool",
            id="yaml-tag-refuses-bool",
        ),
        pytest.param(
            "retention_days: !!timestamp 2026-99-99\n",
            ":1: invalid YAML: '2026-99-99' is no valid !!timestamp",
            id="yaml-tag-refuses-timestamp",
        ),
        pytest.param(  # a date YAML finds in plain text, with no tag written
            "feeds:\n  - name: 2026-99-99\n    url: https://a.test/\n",
            ":2: invalid YAML: '2026-99-99' is no valid !!timestamp (quote it if it is text)",
            id="yaml-plain-date-out-of-range",
        ),
        pytest.param(
            "poll:\n  concurrency: .inf\n",
            ":2: poll.concurrency: must be a number of at least 1",
            id="infinite-number",
        ),
        pytest.param(
            "poll:\n  per_host: .nan\n",
            ":2: poll.per_host: must be a number of at least 1",
            id="nan-number",
        ),
        pytest.param(
            "retention_days: 1.0e+300\n",
            ":1: retention_days: must be at most 36500",
            id="huge-retention",
        ),
        pytest.param(  # math.isfinite raised OverflowError out of the reader
            f"poll:\n  concurrency: {'9' * 400}\n",
            ":2: poll.concurrency: must be at most 1e+09",
            id="integer-too-large-for-a-float",
        ),
        pytest.param(
            f"smtp:\n  host: h\n  port: 0x{'f' * 300}\n",
            ":3: smtp.port: must be at most 65535",
            id="hexadecimal-too-large-for-a-float",
        ),
        pytest.param(
            f"clustering:\n  same_event_dice: -{'9' * 400}\n",
            ":2: clustering.same_event_dice: must be a number of at least 0",
            id="negative-integer-too-large-for-a-float",
        ),
        pytest.param(
            "alert_retention_days: 0\n",
            ":1: alert_retention_days: must be a number of at least 1",
            id="no-alert-history",
        ),
        pytest.param(
            "poll:\n  interval: 99999999d\n",
            ":2: poll.interval: '99999999d' is longer than watcher takes (at most 3650d)",
            id="huge-duration",
        ),
        pytest.param(
            "poll:\n  interval: .inf\n",
            ":2: poll.interval: inf is longer than watcher takes (at most 3650d)",
            id="infinite-duration",
        ),
        pytest.param(
            "smtp:\n  host: h\n  port: 99999\n",
            ":3: smtp.port: must be at most 65535",
            id="port-range",
        ),
        pytest.param(
            "subscribers:\n  - name: a\n    console: true\n    min_priority: 9\n",
            ":4: subscribers[0].min_priority: must be at most 5",
            id="min-priority-range",
        ),
        pytest.param("feeds: 3\n", ":1: feeds: must be a list of feeds", id="wrong-type"),
        pytest.param(
            "subscribers: {name: a}\n",
            ":1: subscribers: must be a list of subscribers",
            id="subscribers-not-a-list",
        ),
    ],
)
def test_invalid_config_names_line_and_field(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert expected in str(caught.value)
    assert str(path) in str(caught.value)
    assert "secret" not in str(caught.value)  # a webhook URL is never echoed


def test_a_config_file_larger_than_any_config_is_not_read_whole(tmp_path: Path) -> None:
    """`--config` naming the database or a log by mistake read it all into memory."""
    path = tmp_path / "watcher.yaml"
    path.write_bytes(b"feeds: []\n" + b"#" * MAX_FILE_BYTES)
    with pytest.raises(ConfigError, match="larger than 16 MB, more than any config"):
        load_config(path, env={})


def test_every_problem_is_reported(tmp_path: Path) -> None:
    text = (
        "feeds:\n  - name: A\n    url: nope\n"
        "  - name: B\n    url: https://b.test/\n    interval: 1s\nbogus: 1\n"
    )
    found = problems(write(tmp_path, text))
    assert len(found) == 3


def test_each_mistake_is_one_problem_and_hides_no_other(tmp_path: Path) -> None:
    """A feed written as a list was "must be a mapping", then "name: is required" and "url:
    is required" (without a line); a feed without a good url had its other fields left
    unread, their problems shown only once the url was fixed; an email written as a mapping
    was "must be a string", then "has no channel"."""
    text = (
        "feeds:\n  - [A, https://a.test/]\n"
        "  - name: B\n    url: [https://b.test/]\n    tags: [[x]]\n    interval: 1s\n"
        "subscribers:\n  - name: s\n    email: {to: a@b.test}\n  - [x]\n"
    )
    path = write(tmp_path, text)
    found = problems(path)
    assert [str(problem).removeprefix(f"{path}") for problem in found] == [
        ":2: feeds[0]: must be a mapping with a name and a url, not a list",
        ":4: feeds[1].url: must be a string, not a list",
        ":5: feeds[1].tags[0]: must be a string, not a list",
        ":6: feeds[1].interval: must be at least 60 seconds (got 1)",
        ":9: subscribers[0].email: must be an address, or a list of them, not a mapping",
        ":10: subscribers[1]: must be a mapping with a name and a channel, not a list",
    ]


def test_a_section_written_as_a_list_or_a_bad_feed_hides_nothing_else(tmp_path: Path) -> None:
    """`smtp: [x]` was also "smtp.host: is required" (without a line); a feed whose URL was
    wrong took no name, so a second feed of that name was not found."""
    text = (
        "smtp: [x]\nfeeds:\n  - name: A\n    url: feed://a.test/rss\n"
        "  - name: A\n    url: https://a.test/rss\n"
    )
    path = write(tmp_path, text)
    found = problems(path)
    assert [(p.line, p.field) for p in found] == [
        (1, "smtp"),
        (4, "feeds[0].url"),
        (5, "feeds[1].name"),
    ]
    assert found[2].message == "another feed is already named 'A'"
    missing = write(tmp_path, "smtp:\n  port: 25\n")
    found = problems(missing)
    assert [str(p) for p in found] == [f"{missing}:2: smtp.host: is required"]


def test_a_required_value_missing_is_placed_at_the_line_of_what_lacks_it(
    tmp_path: Path,
) -> None:
    text = "feeds:\n  - name: A\n    url: https://a.test/\n  - name: B\n"
    text += "subscribers:\n  - console: true\n"
    path = write(tmp_path, text)
    found = problems(path)
    assert [str(problem) for problem in found] == [
        f"{path}:4: feeds[1].url: is required",
        f"{path}:6: subscribers[0].name: is required",
    ]


def test_a_subscriber_whose_channel_is_empty_or_off_has_none(tmp_path: Path) -> None:
    text = "subscribers:\n  - name: s\n    email: ' '\n  - name: t\n    console: false\n"
    found = problems(write(tmp_path, text))
    assert [problem.message for problem in found] == [
        "has no channel: give email, slack, teams, webhook or console: true"
    ] * 2


@pytest.mark.parametrize("levels", [250, 600])
@pytest.mark.parametrize("style", ["flow", "block"])
def test_a_config_nested_too_deep_is_a_problem_at_its_line(
    tmp_path: Path, style: str, levels: int
) -> None:
    """PyYAML's composer recurses once a level: 600 levels raised RecursionError, a traceback.
    Past 200 levels is a problem, whether the composer could follow or not."""
    if style == "flow":
        text = "feeds: " + "[" * levels + "]" * levels + "\n"
    else:
        text = "clustering:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, levels))
    found = problems(write(tmp_path, text))
    (problem,) = found
    assert problem.line == (1 if style == "flow" else 201)
    assert problem.message == "invalid YAML: lists and mappings nested more than 200 deep"


def test_an_unknown_key_close_to_a_known_one_is_asked_about(tmp_path: Path) -> None:
    text = (
        "pol: {interval: 5m}\nfeeds:\n  - name: A\n    url: https://a.test/\n"
        "    intervall: 5m\nsubscribers:\n  - name: s\n    console: true\n    rules: [x]\n"
    )
    found = problems(write(tmp_path, text))
    found = [(p.field, p.message.partition(";")[0]) for p in found]
    assert found == [
        ("pol", "unknown key (did you mean 'poll'?)"),
        ("feeds[0].intervall", "unknown key (did you mean 'interval'?)"),
        ("subscribers[0].rules", "unknown key"),  # like no key: no guess
    ]


def test_a_subscribers_email_may_be_a_list_of_addresses(tmp_path: Path) -> None:
    """`email: [a@x, b@x]` is how YAML lists: it was "must be a string, not a list"."""
    path = tmp_path / "watcher.yaml"
    path.write_text(
        "state: w.db\nsmtp:\n  host: h\n  from: w@test.org\nsubscribers:\n  - name: a\n"
        "    email: [ana@test.org, 'Bo Li <bo@test.org>']\n    follow: ['*']\n"
    )
    (subscriber,) = load_config(path, env={}).subscribers
    assert subscriber.email == "ana@test.org, Bo Li <bo@test.org>"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="No such file"):
        load_config(tmp_path / "absent.yaml", env={})


def test_a_file_that_is_not_utf8_is_a_problem_at_its_line(tmp_path: Path) -> None:
    """A config saved in Latin-1 (an editor's default) is a problem at the line of its
    first foreign byte, not a traceback."""
    path = tmp_path / "watcher.yaml"
    path.write_bytes("state: w.db\n# Zürich desk\nfeeds: []\n".encode("latin-1"))
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    (problem,) = caught.value.problems
    assert (problem.line, problem.message) == (2, "not UTF-8 text: byte 0xfc cannot be read")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32", "utf-8-sig"])
def test_a_file_with_a_byte_order_mark_is_read_in_its_encoding(
    tmp_path: Path, encoding: str
) -> None:
    """Windows PowerShell 5 writes UTF-16 with a byte-order mark (`>`, `Out-File`): such a
    config was "not UTF-8 text: byte 0xff", though YAML reads UTF-16 and UTF-32 so."""
    path = tmp_path / "watcher.yaml"
    text = "state: w.db\r\nfeeds:\r\n  - name: Zürich desk\r\n    url: https://z.test/rss\r\n"
    bom = codecs.BOM_UTF16_BE if encoding == "utf-16-be" else b""
    path.write_bytes(bom + text.encode(encoding))
    config = load_config(path, env={})
    assert [(feed.name, feed.url) for feed in config.feeds] == [
        ("Zürich desk", "https://z.test/rss")
    ]


def test_a_file_with_a_byte_order_mark_not_in_its_encoding_is_a_problem_at_its_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "watcher.yaml"
    path.write_bytes("state: w.db\n# desk\n".encode("utf-16") + b"\x00\xd8" + b"x\x00")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    (problem,) = caught.value.problems
    assert (problem.line, problem.message) == (3, "not UTF-16 text: illegal UTF-16 surrogate")


@pytest.mark.parametrize(("text", "code"), [
    ("state: w.db\r\n# Zürich\r\nfeeds: [\x00]\r\n", "0000"),
    ("state: w.db\nsmtp:\n  host: mail\x1b[0m\n", "001B"),
])  # fmt: skip
def test_a_control_character_is_a_problem_at_its_line(tmp_path: Path, text: str, code: str) -> None:
    """Not PyYAML's "position 30", counted from the file's start, on a second line."""
    path = tmp_path / "watcher.yaml"
    path.write_bytes(text.encode())
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    (problem,) = caught.value.problems
    assert (problem.line, problem.message) == (
        3,
        f"invalid YAML: the control character U+{code} is not allowed in a YAML file",
    )


def test_an_escaped_surrogate_is_a_problem_not_text_the_database_refuses(tmp_path: Path) -> None:
    """JSON's way of writing 😀 ("\\ud83d\\ude00"): PyYAML made two halves of it, and the
    feed's name, stored, failed every command with UnicodeEncodeError."""
    text = 'state: w.db\nfeeds:\n  - name: "Wire \\ud83d\\ude00"\n    url: https://a.test/\n'
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text), env={})
    (problem,) = caught.value.problems
    assert problem.line == 3
    assert problem.message.startswith("invalid YAML: the escape \\uD83D is half of a UTF-16")
    fixed = text.replace("\\ud83d\\ude00", "\\U0001F600")
    assert load_config(write(tmp_path, fixed), env={}).feeds[0].name == "Wire \U0001f600"


def test_an_environment_variable_that_is_not_utf8_is_a_problem(tmp_path: Path) -> None:
    """os.environ holds a byte that is no UTF-8 as a surrogate (0xff as U+DCFF)."""
    text = "smtp:\n  host: mail\n  password: ${SMTP_PASSWORD}\n"
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text), env={"SMTP_PASSWORD": "s3\udcffcret"})
    (problem,) = caught.value.problems
    assert (problem.line, problem.field, problem.message) == (
        3,
        "smtp.password",
        "environment variable SMTP_PASSWORD is not UTF-8 text",
    )


def test_a_secret_is_read_from_the_file_a_config_value_names(tmp_path: Path) -> None:
    """Docker and Kubernetes give secrets as files (`/run/secrets/NAME`): `${file:PATH}`
    reads one (relative to the config's folder, without the line break that ends it), and
    the logs mask its value as any secret's."""
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "smtp_password").write_bytes(b" pa$$ word \n")
    (secrets / "slack").write_text("https://hooks.slack.test/T1/B2/xyz\r\n")
    text = (
        "smtp:\n  host: mail\n  password: ${file:secrets/smtp_password}\n"
        f"subscribers:\n  - name: a\n    slack: '${{file:{secrets / 'slack'}}}'\n"
        "feeds: []\n"
    )
    config = load_config(write(tmp_path, text), env={})
    assert config.smtp is not None and config.smtp.password == " pa$$ word "
    assert config.subscribers[0].slack == "https://hooks.slack.test/T1/B2/xyz"
    assert set(config.secrets()) == {" pa$$ word ", "https://hooks.slack.test/T1/B2/xyz"}
    (secrets / "slack").write_bytes(b"\xff\xfe")
    text = text.replace("feeds: []\n", "  - name: b\n    webhook: ${file:secrets/none}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text), env={})
    assert [(p.line, p.field, p.message) for p in caught.value.problems] == [
        (6, "subscribers[0].slack", f"the secret file {secrets / 'slack'} is not UTF-8 text"),
        (8, "subscribers[1].webhook",
         f"cannot read the secret file {secrets / 'none'}: No such file or directory"),
    ]  # fmt: skip


def test_config_path_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATCHER_CONFIG", raising=False)
    assert resolve_config_path(None) == Path("watcher.yaml")
    monkeypatch.setenv("WATCHER_CONFIG", "/etc/w.yaml")
    assert resolve_config_path(None) == Path("/etc/w.yaml")
    assert resolve_config_path("mine.yaml") == Path("mine.yaml")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90), ("10m", 600), ("6h", 21600), ("2d", 172800), (45, 45), ("45", 45),
        ("1.5h", 5400), ("10 min", 600), ("10mins", 600), ("2 days", 172800), ("1 week", 604800),
        ("30 seconds", 30), ("1h30m", 5400), ("1 hour 30 minutes", 5400), ("2hrs", 7200),
    ],
)  # fmt: skip
def test_parse_duration(text: str | int, seconds: float) -> None:
    """A unit's word (`10 min`, as people write it) and parts (`1h30m`, as Go and
    Prometheus write it) were "not a duration"."""
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text",
    ["99999999d", "3651d", float("inf"), float("nan"), "soon", True, "10M", "PT10M", "1h30", "h"],
)
def test_parse_duration_refuses_what_is_no_duration_or_overflows_a_date(text: object) -> None:
    with pytest.raises(ValueError, match=r"not a duration|longer than watcher takes"):
        parse_duration(text)
    assert parse_duration("3650d") == 3650 * 86400


def test_a_since_past_any_date_is_a_usage_error(tmp_path: Path) -> None:
    from tests.test_cli import watcher

    config = write(tmp_path, "state: w.db\nfeeds: []\n")
    result = watcher("--config", str(config), "stories", "--since", "99999999d")
    assert result.returncode == 2
    assert result.stderr == (
        "watcher: --since: '99999999d' is longer than watcher takes (at most 3650d)\n"
    )


def test_shipped_configs_are_valid() -> None:
    root = Path(__file__).resolve().parent.parent
    for name in ("watcher.yaml", "demo.yaml"):
        config = load_config(root / name, env={})
        assert config.feeds, name
    (console,) = load_config(root / "watcher.yaml", env={}).subscribers
    assert console.console and console.feed_problems and console.delivery_problems


def test_the_readmes_example_config_loads(tmp_path: Path) -> None:
    """Every key the README's example shows is one the config takes, with the value shown."""
    import trustme

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme[readme.index("## Configuration") :]
    start = section.index("```yaml\n") + 8
    example = section[start : section.index("```\n", start)]
    trustme.CA().cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    example = re.sub(r"/etc/ssl/[\w-]+\.pem", "ca.pem", example)
    (tmp_path / "rules").mkdir()
    (tmp_path / "watcher.yaml").write_text(example)
    slack = "https://hooks.slack.com/services/T0/B0/x"
    secret = "whsec_" + "a" * 24  # 18 bytes
    env = {
        "FEED_TOKEN": "t",
        "SMTP_PASSWORD": "p",
        "SLACK_WEBHOOK_URL": slack,
        "TEAMS_WEBHOOK_URL": "https://example.test/workflows/x",
        "WEBHOOK_SECRET": secret,
    }
    config = load_config(tmp_path / "watcher.yaml", env=env)
    (analyst,) = config.subscribers
    assert (analyst.settle, analyst.quiet_hours, analyst.max_per_hour) == (300.0, "22:00-07:00", 20)
    assert analyst.webhook_secret == secret
    assert analyst.channels() == ("email", "slack", "teams", "webhook")
    assert [f.name for f in config.feeds] == ["Kyodo News"]


def test_names_on_one_line_with_commas_are_a_list(tmp_path: Path) -> None:
    """`tags: wire, asia` was one tag, "wire, asia", and `follow: gallium, tin` one rule's
    name, which no rule has."""
    text = (
        "feeds:\n  - {name: A, url: https://a.test/, tags: 'wire, asia'}\n"
        "subscribers:\n  - {name: a, console: true, follow: 'gallium, tin'}\n"
    )
    config = load_config(write(tmp_path, text), env={})
    assert (config.feeds[0].tags, config.subscribers[0].follow) == (
        ("wire", "asia"),
        ("gallium", "tin"),
    )


def test_a_schedule_and_quiet_hours_are_read_as_people_write_them(tmp_path: Path) -> None:
    """`digest: Weekly Monday 08:00` (as README's "mon or monday" reads) and `HOURLY` were
    "not a digest schedule", and `quiet_hours: 22:00–07:00` with the en dash a word
    processor writes was "not quiet hours"."""
    subscribers = (
        "subscribers:\n"
        "  - {name: a, console: true, mode: digest, digest: Weekly  Monday 08:00}\n"
        "  - {name: b, console: true, mode: digest, digest: HOURLY}\n"
        "  - {name: c, console: true, quiet_hours: 22:00–07:00}\n"
    )
    a, b, c = load_config(write(tmp_path, subscribers), env={}).subscribers
    assert (a.digest, b.digest) == ("weekly monday 08:00", "hourly")
    berlin = ZoneInfo("Europe/Berlin")
    friday = datetime(2026, 12, 4, 12, tzinfo=UTC)
    assert next_digest(a.digest, berlin, friday) == datetime(2026, 12, 7, 7, tzinfo=UTC)
    assert quiet_until(c.quiet_hours or "", UTC_ZONE, datetime(2026, 12, 4, 23, tzinfo=UTC)) == (
        datetime(2026, 12, 5, 7, tzinfo=UTC)
    )


@pytest.mark.parametrize(
    ("url", "meant"),
    [
        ("feed://example.org/rss", "write 'https://example.org/rss' (or 'http://example.org/rss')"),
        ("feed:https://example.org/rss", "write 'https://example.org/rss')"),
        ("feed:http://example.org/rss", "write 'http://example.org/rss')"),
    ],
)
def test_a_browsers_feed_link_is_refused_with_the_url_to_write(
    tmp_path: Path, url: str, meant: str
) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(f"feeds:\n  - name: A\n    url: {url}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert f"feeds[0].url: '{url}' is not an http(s):// or file: URL" in str(caught.value)
    assert meant in str(caught.value)
