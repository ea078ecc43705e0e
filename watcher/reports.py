"""What the running service reports: its heartbeat, its health checks, its endpoint's pages.

In: the service's state (a part of `schedule.Service`, which it is mixed into). Out: the
heartbeat's values written to the store (what `watcher status` reads from another
process), the health checks, and the /healthz, /metrics and /status responses.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime
from typing import Any

from watcher import __version__
from watcher.endpoint import Response
from watcher.errors import StoreError
from watcher.health import Check, check_health, silent_after_of, status_document
from watcher.logs import event
from watcher.metrics import CONTENT_TYPE
from watcher.service_parts import ServiceParts
from watcher.store.base import SERVERS_HELD

log = logging.getLogger("watcher.schedule")


class Reports(ServiceParts):
    """The heartbeat, the health checks and the endpoint's pages of `schedule.Service`."""

    started_at: datetime
    last_poll_at: datetime | None
    _held_recorded: list[dict[str, Any]]  # the held lanes `watcher status` has
    _servers_recorded: set[str]  # and the servers held

    def heartbeat(self, *, stopped: bool = False) -> None:
        """Record what `watcher status` shows from another process (and a clean stop)."""
        try:
            self.record_heartbeat(stopped=stopped)
        except StoreError as exc:
            event(log, logging.ERROR, "heartbeat not recorded", error=str(exc))

    def record_heartbeat(self, *, stopped: bool = False) -> None:
        """`heartbeat`, raising `StoreError` when the database cannot take it: the health
        checks' proof that it is writable."""
        rules = self.pipeline.rules
        values = {
            "version": __version__,
            "pid": str(os.getpid()),
            "started_at": self.started_at.isoformat(),
            "heartbeat": self.clock().isoformat(),
            "last_poll_at": self.last_poll_at.isoformat() if self.last_poll_at else "",
            "stopped_at": self.clock().isoformat() if stopped else "",
        }
        held = self.sender.held_now() if self.sender is not None and not stopped else []
        values["delivery_held"] = json.dumps(held)
        # kept when stopped: the next start holds them again (`resume_holds`)
        servers = self.pipeline.fetcher.held_servers()
        values[SERVERS_HELD] = json.dumps(servers)
        if rules is not None:
            values["rules_version"] = rules.version
            values["rules_summary"] = rules.matcher.ruleset.summary()
            problems = rules.last_error.problems if rules.last_error else []
            values["rules_error"] = "; ".join(str(p) for p in problems)
        self.store.check_in_place()
        self.store.put_service_values(values, self.clock())
        self._held_recorded = held
        self._servers_recorded = {h["server"] for h in servers}

    def _holds_changed(self) -> bool:
        """Whether the servers held are others than the heartbeat last recorded."""
        held = {h["server"] for h in self.pipeline.fetcher.held_servers()}
        return held != self._servers_recorded

    def _channels(self) -> set[str]:
        return {c for s in self.config.subscribers for c in s.channels()}

    def _silent_after(self) -> dict[str, float | None]:
        return silent_after_of(self.config.feeds)

    def checks(self) -> list[Check]:
        intervals = [f.interval for f in self.config.feeds if not f.paused]
        return check_health(
            record_heartbeat=self.record_heartbeat, now=self.clock(),
            scheduler_running=self.scheduler.running,
            started_at=self.started_at, last_poll_at=self.last_poll_at,
            interval=min(intervals) if intervals else None,
        )  # fmt: skip

    def healthz(self) -> Response:
        checks = self.checks()
        healthy = all(c.ok for c in checks)
        lines = [f"{c.name}: {'ok' if c.ok else 'FAIL'} ({c.detail})" for c in checks]
        body = ("ok\n" if healthy else "unhealthy\n") + "\n".join(lines) + "\n"
        return Response(200 if healthy else 503, body.encode())

    def metrics_page(self) -> Response:
        return Response(200, self.metrics.exposition(), CONTENT_TYPE)

    def status_page(self) -> Response:
        try:
            document = status_document(
                self.store, self.clock(), self._silent_after(), self.checks()
            )
        except StoreError as exc:
            return Response(503, json.dumps({"error": str(exc)}).encode(), "application/json")
        body = json.dumps(document, indent=2, ensure_ascii=False).encode()
        return Response(200, body, "application/json")
