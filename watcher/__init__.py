"""watcher: a self-hosted news-monitoring alert service."""

from __future__ import annotations

__version__ = "0.1.0"
