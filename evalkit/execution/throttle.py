"""Adaptive concurrency: AIMD on rate limits, so the provider's limit, not 429s, sets the pace.

One :class:`AdaptiveLimiter` per endpoint and model (a :class:`LimiterPool` hands them out; a
judge on the target's model shares the target's, as it shares its rate limit) bounds the
requests in flight:

* it ramps up like TCP slow start (one more slot per success, doubling per round trip) from
  ``min(configured, 8)`` to the configured concurrency, so a run does not open with a burst of
  ``concurrency`` requests against a limit it has not seen yet (100 at once against a limit of
  20 would be 80 answers 429 before the first one could be acted on);
* a 429 (or 529 overloaded), or rate-limit headers saying less than
  :data:`NEARLY_SPENT` of the budget is left, cut the limit multiplicatively (by ``decrease``;
  by half when it ends slow start, which overshoots by up to twice the limit it found), at
  most once per round of requests: answers to requests sent before the cut are the same
  congestion event, not a new one;
* every success after that adds ``1/limit`` (one slot per round trip), up to the configured
  concurrency;
* a ``retry-after`` pauses every new request for that long (the server said when to come back).

The retry policy still decides whether and when the request that got the 429 is sent again.
A run puts its pool in :data:`RUN_LIMITERS` (a context variable, so the run's tasks and its
judges' calls see it without every layer passing it down); outside a run there is no limiter.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from evalkit.base.exceptions import ProviderError

T = TypeVar("T")

#: slow start begins here (or at the configured concurrency when lower)
SLOW_START = 8
#: rate-limit headers with less than this share of the budget left count as congestion
NEARLY_SPENT = 0.05
#: statuses that mean "too many requests" (429) or "overloaded" (Anthropic 529)
_CONGESTION_KINDS = frozenset({"rate_limit", "overloaded"})

#: (remaining, limit) header pairs of both providers
_BUDGET_HEADERS = [
    (f"anthropic-ratelimit-{what}-remaining", f"anthropic-ratelimit-{what}-limit")
    for what in ("requests", "tokens", "input-tokens", "output-tokens")
] + [
    (f"x-ratelimit-remaining-{what}", f"x-ratelimit-limit-{what}")
    for what in ("requests", "tokens")
]


def budget_left(headers: Mapping[str, str] | None) -> float | None:
    """The smallest share of a rate-limit budget left, from either provider's headers (None
    when the server sends none)."""
    if not headers:
        return None
    shares = []
    for remaining, limit in _BUDGET_HEADERS:
        try:
            left, cap = float(headers[remaining]), float(headers[limit])
        except (KeyError, ValueError):
            continue
        if cap > 0:
            shares.append(max(0.0, left) / cap)
    return min(shares) if shares else None


class AdaptiveLimiter:
    """Bounds requests in flight with AIMD (see the module docstring)."""

    def __init__(
        self,
        ceiling: int,
        *,
        decrease: float = 0.75,
        floor: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ceiling = max(1, ceiling)
        self.floor = max(1, min(floor, self.ceiling))
        self.decrease = decrease
        self.limit = float(min(self.ceiling, SLOW_START))
        self.slow_start = self.limit < self.ceiling
        self.in_flight = 0
        #: answers that said "too many requests" (429/529)
        self.rate_limited = 0
        #: the lowest limit a cut left (the ceiling until the first cut)
        self.lowest = float(self.ceiling)
        self._epoch = 0  # bumped by every cut; requests sent before it do not cut again
        self._paused_until = 0.0
        self._clock = clock
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._wake_handle: asyncio.TimerHandle | None = None

    @property
    def current(self) -> int:
        """Requests that may be in flight now."""
        return max(self.floor, math.floor(self.limit))

    async def call(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Await ``fn()`` in a slot, learning from how it ended."""
        await self._acquire()
        epoch = self._epoch
        try:
            result = await fn()
        except ProviderError as error:
            if error.kind in _CONGESTION_KINDS:
                self.rate_limited += 1
                self._congested(epoch, error.retry_after)
            raise
        finally:
            self.in_flight -= 1
            self._wake()
        self._succeeded(epoch, _budget_of(result))
        return result

    # -- the control law -----------------------------------------------------------------
    def _succeeded(self, epoch: int, left: float | None) -> None:
        if left is not None and left < NEARLY_SPENT:
            self._congested(epoch, None)
            return
        if self.slow_start:
            self.limit += 1.0
        else:
            self.limit += 1.0 / max(self.limit, 1.0)
        if self.limit >= self.ceiling:
            self.limit = float(self.ceiling)
            self.slow_start = False
        self._wake()

    def _congested(self, epoch: int, retry_after: float | None) -> None:
        if retry_after:
            self._paused_until = max(self._paused_until, self._clock() + retry_after)
        if epoch != self._epoch:
            return  # sent before the last cut: the same congestion event
        factor = 0.5 if self.slow_start else self.decrease
        self.slow_start = False
        self._epoch += 1
        self.limit = max(float(self.floor), self.limit * factor)
        self.lowest = min(self.lowest, self.limit)

    # -- slots ---------------------------------------------------------------------------
    def _free(self) -> bool:
        return self.in_flight < self.current and self._clock() >= self._paused_until

    async def _acquire(self) -> None:
        if not self._waiters and self._free():
            self.in_flight += 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(future)
        self._wake()
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.in_flight -= 1  # a slot was handed over as we were cancelled
                self._wake()
            else:
                self._waiters.remove(future)
            raise

    def _wake(self) -> None:
        """Hand free slots to waiters in arrival order; during a pause, come back after it."""
        while self._waiters and self._free():
            future = self._waiters.popleft()
            if not future.done():
                self.in_flight += 1
                future.set_result(None)
        wait = self._paused_until - self._clock()
        if self._waiters and wait > 0 and self._wake_handle is None:
            loop = asyncio.get_running_loop()
            self._wake_handle = loop.call_later(wait, self._after_pause)

    def _after_pause(self) -> None:
        self._wake_handle = None
        self._wake()


def _budget_of(result: Any) -> float | None:
    """The rate-limit budget a reply reported (providers put it in ``Completion.extra``)."""
    extra = getattr(result, "extra", None)
    if isinstance(extra, dict):
        value = extra.get("budget_left")
        return float(value) if isinstance(value, int | float) else None
    return None


class LimiterPool:
    """One limiter per endpoint and model for a run; all start from its concurrency."""

    def __init__(self, concurrency: int, **options: Any) -> None:
        self.concurrency = concurrency
        self._options = options
        self._limiters: dict[str, AdaptiveLimiter] = {}

    def get(self, key: str) -> AdaptiveLimiter:
        if key not in self._limiters:
            self._limiters[key] = AdaptiveLimiter(self.concurrency, **self._options)
        return self._limiters[key]

    @property
    def rate_limited(self) -> int:
        """429/529 answers over every endpoint."""
        return sum(limiter.rate_limited for limiter in self._limiters.values())

    def status(self, key: str) -> str:
        """``concurrency 17/100 · 429s 3`` for the progress line."""
        limiter = self._limiters.get(key)
        current = limiter.current if limiter else self.concurrency
        return f"concurrency {current}/{self.concurrency} · 429s {self.rate_limited}"


def limiter_key(provider: str, base_url: str | None, model: str) -> str:
    """Requests to the same endpoint and model share one rate limit, hence one limiter."""
    return f"{provider}|{base_url or ''}|{model}"


#: the running run's limiters (None outside a run): read by ``call_with_retries``
RUN_LIMITERS: contextvars.ContextVar[LimiterPool | None] = contextvars.ContextVar(
    "evalkit_run_limiters", default=None
)
