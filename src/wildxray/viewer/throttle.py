"""Failed-login throttling: at most ``max_failures`` failed logins per client in ``window_s``.

Tokens carry 256 bits, so guessing one is hopeless; the throttle is there so that a flood of guesses
is slow, visible (one ``login_throttled`` audit row when a client is locked out) and cannot fill
the audit log at network speed (before, 200 wrong logins took 0.9 s). A locked-out client is refused
even with the right token until its oldest failure leaves the window. Logins carry no inspector name
(a token alone identifies one), so there is no name to throttle by: the client address is the key.
In memory, per viewer process: a restart clears it.
"""

from __future__ import annotations

import threading
import time
from collections import deque

DEFAULT_MAX_FAILURES = 10
DEFAULT_WINDOW_S = 300.0
MAX_CLIENTS = 10_000  # forget the stalest clients beyond this, so spoofed addresses cannot grow memory


class LoginThrottle:
    """Thread-safe sliding window of failed logins per client key (an IP address)."""

    def __init__(self, max_failures: int = DEFAULT_MAX_FAILURES, window_s: float = DEFAULT_WINDOW_S) -> None:
        self.max_failures = int(max_failures)
        self.window_s = float(window_s)
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        q = self._failures.get(client, deque())
        while q and q[0] <= now - self.window_s:
            q.popleft()
        return q

    def retry_after(self, client: str) -> float | None:
        """Seconds until ``client`` may try again, or None if it may now."""
        now = time.monotonic()
        with self._lock:
            q = self._recent(client, now)
            if len(q) < self.max_failures:
                return None
            return max(0.001, q[0] + self.window_s - now)

    def failed(self, client: str) -> bool:
        """Record a failed login; True when this failure locks the client out."""
        now = time.monotonic()
        with self._lock:
            q = self._recent(client, now)
            q.append(now)
            self._failures[client] = q
            if len(self._failures) > MAX_CLIENTS:
                stalest = min(self._failures, key=lambda c: self._failures[c][-1] if self._failures[c] else 0.0)
                del self._failures[stalest]
            return len(q) == self.max_failures

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)
