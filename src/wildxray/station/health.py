"""Is the hot-folder watcher still taking files? What ``/healthz`` reports about it.

A watcher can stop without dying: before this, one file name that SQLite could not store made every
poll fail while ``/healthz`` said ok. The watcher now reports *progress* (a poll that listed the
folder, or a file claimed) and *failures* (a poll that could not list it); the station is unhealthy
when the watcher thread has died or has made no progress for ``stuck_after_s``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

#: Progress older than this means stuck. Far above any poll interval, and a long backlog cannot
#: trigger it, because every claimed file counts as progress.
DEFAULT_STUCK_AFTER_S = 5.0


@dataclass
class WatcherHealth:
    """Thread-safe record of the watcher's progress (times are ``time.monotonic()`` seconds)."""

    stuck_after_s: float = DEFAULT_STUCK_AFTER_S

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._last_progress = time.monotonic()
        self._failures = 0
        self._last_error: str | None = None
        self._thread: threading.Thread | None = None

    def attach(self, thread: threading.Thread) -> None:
        """The thread that does the watching (a dead thread is stuck whatever its last progress)."""
        self._thread = thread

    def progress(self) -> None:
        with self._lock:
            self._last_progress = time.monotonic()
            self._failures = 0

    def failed(self, error: BaseException) -> int:
        """Record a failed poll; returns how many have failed in a row."""
        with self._lock:
            self._failures += 1
            self._last_error = f"{type(error).__name__}: {error}"
            return self._failures

    def snapshot(self) -> dict[str, Any]:
        """``{"stuck", "alive", "seconds_since_progress", "failed_polls_in_a_row", "last_error"}``."""
        with self._lock:
            age = time.monotonic() - self._last_progress
            failures, error = self._failures, self._last_error
        alive = self._thread is None or self._thread.is_alive()
        return {"stuck": (not alive) or age > self.stuck_after_s, "alive": alive,
                "seconds_since_progress": round(age, 3), "failed_polls_in_a_row": failures,
                "last_error": error if failures else None}
