"""The scripted server's concurrency limit (``rate_limit:`` in a script): 429 above N in flight.

Real providers limit requests and tokens per minute; a limit on requests *in flight* produces
the same pressure on a client at loopback speed, and is what the adaptive-concurrency benchmark
and tests need: a client that keeps more than N requests open gets 429s, one that adapts does
not.
"""

from __future__ import annotations

import threading

from evalkit.scripted.script import RateLimit

#: the (remaining, limit) header names of each wire
_HEADERS = {
    "anthropic": ("anthropic-ratelimit-requests-remaining", "anthropic-ratelimit-requests-limit"),
    "openai": ("x-ratelimit-remaining-requests", "x-ratelimit-limit-requests"),
}


class InFlight:
    """Counts requests in flight against a :class:`RateLimit` (thread-safe)."""

    def __init__(self, limit: RateLimit | None) -> None:
        self.limit = limit
        self._count = 0
        self._lock = threading.Lock()

    def enter(self) -> int | None:
        """Admit one request: the free slots left, or None when it must be answered 429 (it is
        then not counted as in flight). Always admitted without a limit."""
        with self._lock:
            if self.limit is not None and self._count >= self.limit.max_in_flight:
                return None
            self._count += 1
            return self.limit.max_in_flight - self._count if self.limit else 0

    def leave(self) -> None:
        with self._lock:
            self._count -= 1

    def headers(self, wire: str, remaining: int) -> dict[str, str]:
        """Rate-limit headers for an answer (429 ones too), when the script asks for them."""
        out: dict[str, str] = {}
        if self.limit is None:
            return out
        if self.limit.budget_headers:
            left, cap = _HEADERS[wire]
            out[left], out[cap] = str(max(0, remaining)), str(self.limit.max_in_flight)
        return out

    def refusal_headers(self, wire: str) -> dict[str, str]:
        out = self.headers(wire, 0)
        if self.limit is not None and self.limit.retry_after_ms is not None:
            out["retry-after-ms"] = f"{self.limit.retry_after_ms:g}"
        return out
