"""The plain data passed between the steps: feed > entry > story.

Frozen, keyword-only dataclasses; the steps take and return these, never rows or responses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

DateOrder = Literal["day", "month"]  # which comes first, in a date with the year last


@dataclass(frozen=True, kw_only=True)
class FeedConfig:
    """A feed as the operator configured it."""

    name: str
    url: str
    interval: float  # seconds between polls
    tags: tuple[str, ...] = ()
    source: str | None = None  # the outlet's name, when the feed does not say it well
    backfill: float | None = 24 * 3600.0  # on a first poll, how old a story may be and alert
    max_age: float | None = None  # on later polls, how old a dated story may be and alert
    silent_after: float | None = 7 * 24 * 3600.0  # no new story for this long: "silent"
    # sent with its requests to its own origin only; may hold secrets, so never printed
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    full_text: bool = False  # a new story's page read for its body (`full_text`)
    paused: bool = False  # not polled, and not told of, until the operator resumes it
    timezone: str | None = None  # IANA zone of the feed's dates that name none; None: UTC
    # first in its dates with the year last (07/12/2026); None: as each document's dates show
    date_order: DateOrder | None = None
    max_ttl: float = 0.0  # the longest what the feed asks puts its next poll off (`freshness`)


def named_in(names: tuple[str, ...], feed: str, tags: Iterable[str]) -> bool:
    """Whether `names` (a rule's `feeds:`, a subscriber's `feed_problems:`) name the feed
    called `feed`, or one of its `tags`."""
    return feed in names or any(t in names for t in tags)


def tags_by_feed(feeds: Iterable[FeedConfig]) -> dict[str, tuple[str, ...]]:
    """Each feed's tags, by its name: what a rule's `feeds:` may name besides feeds."""
    return {f.name: f.tags for f in feeds}


@dataclass(frozen=True, kw_only=True)
class FeedState:
    """What the database remembers about a feed between polls."""

    name: str
    url: str  # the URL polled now (updated by permanent redirects)
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None
    consecutive_failures: int = 0
    next_poll_at: datetime | None = None
    disabled: bool = False
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    last_status: int | None = None
    last_polled_at: datetime | None = None
    warning: str | None = None
    gaps: int = 0  # polls in a row that listed only new stories (`feed_state.gap`)
    gap_at: datetime | None = None  # the last such poll
    stories: int = 0  # stories kept (`feed_states` counts them)
    newest_story_at: datetime | None = None  # the newest kept story's first fetch (the same)
    paused: bool = False  # as the config says (`sync_feeds` copies it)
    # when its configured URL's body was first read well: None before, and when the URL
    # changed (the next good poll is its first: `feed_state.backlog`)
    first_read_at: datetime | None = None
    # the configured URL the state was read under: a poll's state is written only while the
    # config names it (`sync_feeds` resets a feed whose URL changes, even mid-poll)
    config_url: str = ""
    ttl: float | None = None  # seconds: the <ttl> of the last body read (`freshness`)
    # new stories in a row dated more than its `max_age` before they came, so alerting no
    # one (a story that may alert ends the run), and the date of the last of them
    old_dates: int = 0
    old_dated: datetime | None = None


FetchKind = Literal["ok", "not_modified", "unchanged"]


@dataclass(frozen=True, kw_only=True)
class FetchResult:
    """A successful fetch: a new body, a 304, or a 200 whose body hashes as before."""

    kind: FetchKind
    url: str  # the URL finally answered
    status: int
    permanent_url: str | None = None  # set when every redirect on the way was 301/308
    body: bytes = b""
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None
    elapsed_ms: float = 0.0
    fresh_for: float | None = None  # seconds the response stays fresh, as HTTP caches say


@dataclass(frozen=True, kw_only=True)
class Story:
    """One normalised entry of a feed."""

    id: str
    feed: str
    guid: str | None
    source: str
    title: str
    summary: str
    link: str
    published: datetime  # UTC
    fetched_at: datetime  # UTC
    # links of other outlets' stories of the same news, as the entry lists them (Google News)
    related: tuple[str, ...] = ()
    # the entry's full text where its feed gives more than the summary (content:encoded)
    body: str = ""


@dataclass(frozen=True, kw_only=True)
class ParsedFeed:
    """What the parser made of one body: its stories and any warning about its form."""

    title: str | None
    stories: tuple[Story, ...]
    warning: str | None = None  # set when the feed was malformed but still yielded entries
    ttl: float | None = None  # seconds: the channel's <ttl>, how long it may be cached


ClusterLevel = Literal["exact", "reprint", "same-event"]


@dataclass(frozen=True, kw_only=True)
class Assignment:
    """Where one story went: its cluster, how it got there, and clusters merged into it."""

    story: str
    cluster: int
    level: ClusterLevel | None  # None: the story starts a new cluster
    matched: str | None = None  # the story it was linked to most strongly
    reason: str = ""
    merged: tuple[int, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ClusteredStory:
    """A new story with the cluster it joined or started."""

    story: Story
    assignment: Assignment

    @property
    def starts_cluster(self) -> bool:
        return self.assignment.level is None

    @property
    def follows(self) -> str | None:
        """The story it read as the same event as, when it started a cluster for
        clustering.max_span (that story's news item began too long before)."""
        return self.assignment.matched if self.starts_cluster else None


@dataclass(frozen=True, kw_only=True)
class Cluster:
    """A news item: its lead (earliest) story and every story that reported it."""

    id: int
    lead: Story
    members: tuple[Story, ...]
    # a story of the earlier news item this one follows: its first story read as the same
    # event as that story, whose news item began more than clustering.max_span before
    follows: Story | None = None

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.source for s in self.members))


@dataclass(frozen=True, kw_only=True)
class Match:
    """A cluster matched a rule: recorded once per cluster and rule."""

    cluster: int
    rule: str
    story: str  # the story whose text matched
    terms: dict[str, list[str]]  # term list -> canonical names found
    clause: str
    ruleset_version: str
    matched_at: datetime
    quiet: bool = False  # made by a story kept from alerting: a later story's match alerts
    waiting: bool = False  # quiet until the news item has the rule's `min_sources` outlets


AlertStatus = Literal["pending", "sending", "sent", "dead", "dropped"]  # dropped: by hand
FeedProblem = Literal["failing", "gone", "silent", "dropping", "old_dates", "recovered"]


def problem_words(problem: FeedProblem) -> str:
    """A feed problem as words in a notice's rule and head: `old dates`."""
    return problem.replace("_", " ")


# what a digest alert waits for: the subscriber's digest time, the end of its quiet hours,
# or the next hour (over its hourly cap)
Waits = Literal["digest", "quiet", "cap"]


@dataclass(frozen=True, kw_only=True)
class FeedNotice:
    """A feed that came to fail, was gone or fell silent, or recovered from that: news an
    operator needs, or alerts go missing unseen. An alert carries those of one reading of
    the feeds' health in a cluster's place."""

    feed: str
    problem: FeedProblem
    url: str
    detail: str  # the last error, how long no story came, or the problem it recovered from
    since: datetime | None  # the feed's last success (failing, gone, silent), or None

    @property
    def about(self) -> str:
        return self.feed


DeliveryProblem = Literal["dead", "held", "resumed"]


@dataclass(frozen=True, kw_only=True)
class DeliveryNotice:
    """Alerts of one subscriber's channel that went to the dead-letter list since the last
    reading (a revoked Slack webhook, an address refused for good), or a delivery lane
    whose server keeps failing (its alerts wait), or that works again: news an operator
    needs, or alerts stay unsent unseen."""

    subscriber: str  # '' for a lane every subscriber shares (email, console)
    channel: str
    alerts: int = 0  # dead: how many went dead since the last reading
    error: str = ""  # the last error (dead, held)
    problem: DeliveryProblem = "dead"
    failures: int = 0  # held: the server's failures in a row

    @property
    def about(self) -> str:
        if not self.subscriber:
            return f"{self.channel} (every subscriber's)"
        return f"{self.subscriber} by {self.channel}"


@dataclass(frozen=True)
class Lanes:
    """What the sender knows of its lanes (channel, subscriber; '' for the email and console
    lanes every subscriber shares): those failing (a server failure, and no send since),
    with their failures in a row and last error; and those a send went through on since
    the process started."""

    failing: Mapping[tuple[str, str], tuple[int, str]]
    delivered: frozenset[tuple[str, str]]


@dataclass(frozen=True, kw_only=True)
class Alert:
    """One delivery of one cluster to one subscriber through one channel (the outbox row)."""

    id: int
    subscriber: str
    channel: str  # email | slack | webhook | console
    cluster: int
    rule: str
    story: str
    terms: dict[str, list[str]]
    status: AlertStatus
    attempts: int  # deliveries tried and failed, but for those on a server known to be down
    sends: int  # deliveries started: more than one means a crash repeated a send
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    digest: bool = False  # delivered with others in one digest message
    retry_to: tuple[str, ...] = ()  # an email's addresses refused for now; () for every one
    # not a news item (no cluster or story): the feeds whose health changed, or the
    # subscribers' channels whose alerts went dead (all of one kind)
    notices: tuple[FeedNotice, ...] | tuple[DeliveryNotice, ...] = ()
    waits: Waits | None = None  # what a digest alert waits for; None: nothing (or unknown)
    # the other rules its news item matched that its subscriber follows (read when sent)
    also_matched: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class AlertPlan:
    """An alert a new match makes: for whom, through what, when, and what it waits for (in a
    digest)."""

    subscriber: str
    channel: str
    due: datetime
    waits: Waits | None = None  # what it waits for, in a digest; None: due at once, alone
    cap: int | None = None  # at most this many immediate alerts an hour ...
    overflow_due: datetime | None = None  # ... the rest go in a digest at this time


PollStatus = Literal["new", "not_modified", "unchanged", "failed", "gone", "skipped", "held"]


@dataclass(frozen=True, kw_only=True)
class PollOutcome:
    """What one poll of one feed did."""

    feed: str
    url: str
    status: PollStatus
    http_status: int | None = None
    new_stories: tuple[Story, ...] = field(default_factory=tuple)
    clustered: tuple[ClusteredStory, ...] = field(default_factory=tuple)
    matches: tuple[Match, ...] = field(default_factory=tuple)
    error: str | None = None
    elapsed_ms: float = 0.0  # the whole poll: fetch, parse, store, cluster, match
    fetch_ms: float | None = None  # the HTTP exchange alone, when one took place
    gap: bool = False  # every story listed was new: some may have come and gone unseen
    pages: tuple[int, int] = (0, 0)  # a full_text feed's pages read, and not read
    wait: float | None = None  # seconds the feed asked to be left before its next poll
