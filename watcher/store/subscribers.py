"""The subscriber_channels table: what each configured subscriber's channels reach, as
digests, and the renames that give a subscriber's alerts its new name.

In and out: plain dicts and pairs of names. Raises: `StoreError`.
"""

from __future__ import annotations

from collections.abc import Sequence

from watcher.store.base import Tables, translated


class SubscriberTables(Tables):
    """What subscribers reach, by name and channel."""

    def subscriber_channels(self) -> dict[str, dict[str, str]]:
        """Each subscriber ever recorded, with what its channels reached when last configured."""
        with translated("reading the subscribers' channels"):
            rows = self.db.execute(
                "SELECT subscriber, channel, reaches FROM subscriber_channels"
            ).fetchall()
        recorded: dict[str, dict[str, str]] = {}
        for name, channel, reaches in rows:
            recorded.setdefault(name, {})[channel] = reaches
        return recorded

    def rename_subscribers(
        self, renames: Sequence[tuple[str, str]], configured: dict[str, dict[str, str]]
    ) -> dict[tuple[str, str], int]:
        """Give the alerts of each (old, new) name the new one (unless the new name has alerts
        of its own), and record the configured subscribers' channels, in one transaction;
        the old names' records go, those of subscribers no longer configured stay. Returns
        how many alerts each rename moved."""
        moved: dict[tuple[str, str], int] = {}
        with translated("recording the subscribers' channels"), self._atomic():
            for old, new in renames:
                if self.db.execute("SELECT 1 FROM alerts WHERE subscriber = ?", [new]).fetchone():
                    continue
                moved[old, new] = self.db.execute(
                    "UPDATE alerts SET subscriber = ? WHERE subscriber = ?", [new, old]
                ).rowcount
                self.db.execute("DELETE FROM subscriber_channels WHERE subscriber = ?", [old])
            for name, channels in configured.items():
                self.db.execute("DELETE FROM subscriber_channels WHERE subscriber = ?", [name])
                self.db.conn.executemany(
                    "INSERT INTO subscriber_channels (subscriber, channel, reaches) "
                    "VALUES (?, ?, ?)",
                    [(name, channel, reaches) for channel, reaches in channels.items()],
                )
        return moved
