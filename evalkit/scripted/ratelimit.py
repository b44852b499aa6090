"""The scripted server's rate limit (``rate_limit:`` in a script): 429 above N requests in
flight, above N requests per window, or both.

Real providers limit requests and tokens per minute. A limit on requests *in flight* produces
the same pressure on a client at loopback speed, and is what the adaptive-concurrency benchmark
and tests need: a client that keeps more than N requests open gets 429s, one that adapts does
not. A budget *per window* (``per_window`` requests every ``window_s`` seconds, fixed windows
from the server's start) is the providers' own shape, shrunk to test speed: a client that
spends it early is refused until the window ends, whatever its concurrency. Its answers carry
the wire's remaining / limit / reset headers in the wire's own names and formats (see
:func:`reset_header`), its 429s a ``retry-after`` in whole seconds, rounded up, as providers
send it.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from evalkit.scripted.script import RateLimit

#: the (remaining, limit, reset) request-budget header names of each wire
_HEADERS = {
    "anthropic": (
        "anthropic-ratelimit-requests-remaining",
        "anthropic-ratelimit-requests-limit",
        "anthropic-ratelimit-requests-reset",
    ),
    "openai": (
        "x-ratelimit-remaining-requests",
        "x-ratelimit-limit-requests",
        "x-ratelimit-reset-requests",
    ),
}


@dataclass(frozen=True)
class Admission:
    """Whether a request is served, the rate-limit headers its answer carries, and why not."""

    admitted: bool
    headers: dict[str, str] = field(default_factory=dict)
    reason: str = ""


def reset_header(wire: str, seconds: float, now_wall: float) -> str:
    """When a budget resets, as the wire says it: Anthropic an RFC 3339 timestamp (here with
    milliseconds, as windows are shorter than a second), OpenAI a duration such as ``20ms``,
    ``1.5s`` or ``6m0s``; both rounded up to the millisecond (a client that waits for the
    reset must not arrive before it)."""
    if wire == "anthropic":  # rounded up to the millisecond: never before the window ends
        at = datetime.fromtimestamp(math.ceil((now_wall + seconds) * 1000) / 1000, tz=UTC)
        return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
    ms = max(0, math.ceil(seconds * 1000))
    if ms < 1000:
        return f"{ms}ms"
    minutes, rest = divmod(ms, 60_000)
    secs = f"{rest / 1000:.3f}".rstrip("0").rstrip(".")
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


class InFlight:
    """Admits requests against a :class:`RateLimit` (thread-safe): counts those in flight and
    those of the current window."""

    def __init__(self, limit: RateLimit | None) -> None:
        self.limit = limit
        self._count = 0
        self._lock = threading.Lock()
        self._start = time.monotonic()  # window 0 begins as the server does
        self._window = 0  # index of the current window
        self._spent = 0  # requests admitted in it

    def admit(self, wire: str) -> Admission:
        """Admit one request (then counted in flight until :meth:`leave`), or refuse it (not
        counted). Always admitted without a limit."""
        limit = self.limit
        if limit is None:
            return Admission(True)
        with self._lock:
            if limit.max_in_flight is not None and self._count >= limit.max_in_flight:
                return Admission(False, self._refusal(wire, 0), "too many requests in flight")
            if limit.per_window is not None:
                return self._admit_in_window(wire, limit.per_window, limit.window_s)
            self._count += 1
            assert limit.max_in_flight is not None  # one of the two is set (script validates)
            return Admission(True, self._headers(wire, limit.max_in_flight - self._count))

    def leave(self) -> None:
        with self._lock:
            self._count -= 1

    def _admit_in_window(self, wire: str, budget: int, window_s: float) -> Admission:
        now = time.monotonic()
        index = math.floor((now - self._start) / window_s)
        if index != self._window:
            self._window, self._spent = index, 0
        to_reset = self._start + (index + 1) * window_s - now
        if self._spent >= budget:
            headers = self._refusal(wire, 0, budget, to_reset)
            headers.setdefault("retry-after", str(max(1, math.ceil(to_reset))))
            return Admission(False, headers, "request budget of this window spent")
        self._spent += 1
        self._count += 1
        return Admission(True, self._headers(wire, budget - self._spent, budget, to_reset))

    def _headers(
        self, wire: str, remaining: int, cap: int | None = None, reset_s: float | None = None
    ) -> dict[str, str]:
        """Rate-limit headers for an answer (429 ones too), when the script asks for them:
        the window's budget, else free slots in flight as a stand-in budget."""
        assert self.limit is not None
        if not self.limit.budget_headers:
            return {}
        left, limit, reset = _HEADERS[wire]
        out = {left: str(max(0, remaining)), limit: str(cap or self.limit.max_in_flight)}
        if reset_s is not None:
            out[reset] = reset_header(wire, reset_s, time.time())
        return out

    def _refusal(
        self, wire: str, remaining: int, cap: int | None = None, reset_s: float | None = None
    ) -> dict[str, str]:
        out = self._headers(wire, remaining, cap, reset_s)
        if self.limit is not None and self.limit.retry_after_ms is not None:
            out["retry-after-ms"] = f"{self.limit.retry_after_ms:g}"
        return out
