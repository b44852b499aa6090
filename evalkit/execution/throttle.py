"""Adaptive concurrency: the provider's rate limit, not 429s, sets the pace.

One :class:`AdaptiveLimiter` per endpoint and model (a :class:`LimiterPool` hands them out; a
judge on the target's model shares the target's, as it shares its rate limit) bounds the
requests in flight, like TCP CUBIC bounds a congestion window:

* it ramps up like TCP slow start (one more slot per success, doubling per round trip) from
  ``min(configured, 8)`` to the configured concurrency, so a run does not open with a burst of
  ``concurrency`` requests against a limit it has not seen yet (100 at once against a limit of
  20 would be 80 answers 429 before the first one could be acted on). Like HyStart++ (RFC
  9406) it slows to :data:`CONSERVATIVE` of a slot per success (x1.25 per round trip) when a
  round's fastest answer is :data:`DELAY_RISE` slower than the fastest before: requests are
  queueing somewhere (in the client, the network or the server), so doubling would mostly
  lengthen the queue, yet the limit may still be far off;
* a 429 (or 529 overloaded) is a congestion event. The limiter remembers *where* it
  happened: ``w_max``, its requests in flight (the refused one included) when the event's
  first refusal came back, at least one more than the server allowed; the rest of a burst of
  refusals, each coming back with one fewer in flight, pin it down. It cuts the limit
  multiplicatively from there (by ``decrease``; by half when it ends slow start), at most once
  per round of requests: answers to requests sent before the cut are the same event;
* after a cut it grows back fast (one slot per success) to just under the congestion point,
  ``w_max - 1``, and holds there: a server that limits requests in flight is then never
  refused. Only after holding :data:`HOLD_ROUNDS` round trips does it probe above (one slot
  per round trip); a probe refused at the same point doubles the next hold (up to
  :data:`HOLD_MAX`), so a run settles on the limit instead of sawtoothing under it. A probe
  that gets a whole slot past ``w_max`` unrefused means the limit rose (real providers raise
  them), and a refusal below the plateau means it fell (or ``w_max`` was overcounted): either
  way the point is forgotten, growth is additive (one slot per round trip, up to the
  configured concurrency) and the next 429 says where the limit is now;
* rate-limit headers saying less than :data:`NEARLY_SPENT` of the budget is left cut the
  limit too (once per round), before the server has to refuse, but set no point: the budget
  may be per minute, with no fixed point in flight;
* a ``retry-after`` pauses every new request for that long (the server said when to come back);
* so do rate-limit headers saying when a budget resets (:mod:`evalkit.execution.budget`): a
  budget nearly spent pauses new requests until its reset, and the requests budget is counted
  down as requests are sent (the answer to request *k* said *r* were left: each request sent
  after *k* spends one), so a client spending a per-minute budget in seconds holds the rest of
  its requests until the window resets instead of sending them into 429s. Cutting concurrency
  alone does not do that: a fast client spends the window's budget at any concurrency. Both
  providers' budgets are token buckets whose reset is when the bucket is full again: waiting
  for it is conservative (a burst of the budget, then a pause: the budget's rate on average).
  A request sent before the answered one but reaching the server after it is not counted (the
  client cannot tell); a few 429s remain where the client queues requests before sending.

A per-minute request or token limit has no fixed point in flight either; there the cuts shed
load, a refusal under the plateau drops it, and ``retry-after`` says when to resume.

Why the count of requests in flight can overshoot the server's: the limiter counts a request
from the moment it has a slot, including the client's own CPU work before the request is on
the wire and after its answer is back. On a CPU-starved client (the openai SDK spends about
1.5x the anthropic SDK's CPU per request) requests queue inside the client, the server sees
fewer than the limiter counts, and answers come back in bursts; slow start then grows far
past the server's limit before the first 429 arrives, and the next burst of sends overshoots
it. The slow-start exit on queueing, ``w_max`` (learnt from refusals, not from the limit) and
the plateau keep that from repeating once it has been seen.

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
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from evalkit.base.exceptions import ProviderError
from evalkit.execution.budget import NEARLY_SPENT as NEARLY_SPENT
from evalkit.execution.budget import Budget, budget_of_extra
from evalkit.execution.budget import budget_left as budget_left

T = TypeVar("T")

#: slow start begins here (or at the configured concurrency when lower)
SLOW_START = 8
#: slow start ends when a round's fastest answer is this share slower than any before it
DELAY_RISE = 0.25
#: ... and at least this many seconds slower (timer jitter against a fast local server)
DELAY_FLOOR = 0.004
#: slots per success in slow start once answers queue (RFC 9406's conservative slow start)
CONSERVATIVE = 0.25
#: a round judges latency only with at least this many answers (RFC 9406's N_RTT_SAMPLE)
DELAY_SAMPLES = 8
#: round trips held just under a congestion point before probing above it
HOLD_ROUNDS = 4
#: the longest hold (a probe refused at the same point doubles the hold)
HOLD_MAX = 64
#: statuses that mean "too many requests" (429) or "overloaded" (Anthropic 529)
_CONGESTION_KINDS = frozenset({"rate_limit", "overloaded"})


class AdaptiveLimiter:
    """Bounds requests in flight (see the module docstring)."""

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
        #: requests in flight at the last congestion event (None before one, or once outgrown)
        self.w_max: int | None = None
        #: round trips to hold just under ``w_max`` before probing above it
        self.hold = float(HOLD_ROUNDS)
        self._held = 0.0  # round trips held so far
        self._epoch = 0  # bumped by every cut; requests sent before it do not cut again
        self._paused_until = 0.0
        self._clock = clock
        self._sent = 0  # slots handed out so far: each request's number
        self._allowance: float | None = None  # requests the budget still admits (None: unknown)
        self._budget_from = -1  # the request whose answer said what the budget is
        self._reset_at = 0.0  # when that budget resets (on the limiter's clock)
        self._rounds = _Rounds()
        self._step = 1.0  # slots per success in slow start
        self._trusted = False  # w_max was found out of slow start (not in its overshoot)
        self._waiters: deque[asyncio.Future[int]] = deque()
        self._wake_handle: asyncio.TimerHandle | None = None

    @property
    def current(self) -> int:
        """Requests that may be in flight now."""
        return max(self.floor, math.floor(self.limit))

    @property
    def plateau(self) -> int | None:
        """Where the limit holds after a congestion event: just under ``w_max``."""
        return None if self.w_max is None else max(self.floor, self.w_max - 1)

    async def call(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Await ``fn()`` in a slot, learning from how it ended."""
        sent = await self._acquire()
        epoch, started = self._epoch, self._clock()
        try:
            result = await fn()
        except ProviderError as error:
            if error.kind in _CONGESTION_KINDS:
                self.rate_limited += 1
                self._congested(epoch, self.in_flight, error.retry_after)
            raise
        finally:
            self.in_flight -= 1
            self._wake()
        budget = _budget_of(result)
        if budget is not None:
            self._budgeted(sent, budget)
        self._succeeded(epoch, None if budget is None else budget.left, self._clock() - started)
        return result

    # -- the budget's window -------------------------------------------------------------
    def _budgeted(self, sent: int, budget: Budget) -> None:
        """What the answer to request number ``sent`` said of the budget: pause until the
        reset of a budget nearly spent; count the requests budget down from it."""
        now = self._clock()
        if budget.left < NEARLY_SPENT and budget.spent_reset is not None:
            self._pause(now + budget.spent_reset)
        if budget.requests is None or budget.requests_reset is None or sent < self._budget_from:
            return  # an older answer than the one the count started from
        self._budget_from, self._reset_at = sent, now + budget.requests_reset
        # every request sent after this one spends one more (it was admitted before them)
        self._allowance = budget.requests - (self._sent - 1 - sent)
        if self._allowance <= 0:
            self._pause(self._reset_at)

    def _spend(self) -> int:
        """Hand out a slot: the request's number. When the count says the budget is spent
        by the requests sent, the next ones wait for its reset."""
        self.in_flight += 1
        self._sent += 1
        if self._allowance is not None:
            if self._clock() >= self._reset_at:
                self._allowance = None  # a new window: unknown until an answer says
            else:
                self._allowance -= 1
                if self._allowance <= 0:
                    self._pause(self._reset_at)
        return self._sent - 1

    def _pause(self, until: float) -> None:
        self._paused_until = max(self._paused_until, until)

    # -- the control law -----------------------------------------------------------------
    def _succeeded(self, epoch: int, left: float | None, latency: float = 0.0) -> None:
        if left is not None and left < NEARLY_SPENT:
            # a cut, but no point in flight: the budget may be per minute, and the client's
            # count of requests in flight overcounts the server's (a 429 pins it down)
            if epoch == self._epoch:
                self._cut(self.limit)
            return
        if self.slow_start and self._rounds.slower(latency, self.current):
            self._step = CONSERVATIVE  # queueing: grow gently from here
        self.limit = min(float(self.ceiling), self.limit + self._growth())
        if self.limit >= self.ceiling:
            self.slow_start = False
        self._wake()

    def _growth(self) -> float:
        """Slots one success adds: one in slow start and on the way back to the plateau (not
        past it), none while holding the plateau, one per round trip when probing."""
        per_round = 1.0 / max(self.limit, 1.0)
        plateau = self.plateau
        if self.slow_start or plateau is None:
            return self._step if self.slow_start else per_round
        if self.limit < plateau:
            return min(1.0 if self._trusted else CONSERVATIVE, plateau - self.limit)
        if self._held < self.hold:
            self._held += per_round
            return 0.0
        if self.w_max is not None and self.limit + per_round >= self.w_max + 1:
            self.w_max = None  # a slot past the old point, unrefused: the limit rose
            self.hold = float(HOLD_ROUNDS)
        return per_round

    def _congested(self, epoch: int, in_flight: int, retry_after: float | None) -> None:
        """A 429 that came back with ``in_flight`` requests in flight (it included)."""
        if retry_after:
            self._pause(self._clock() + retry_after)
        point = max(self.floor + 1, in_flight)
        if epoch != self._epoch:
            # sent before the last cut: the same congestion event, not a new one; when it was
            # the last one's, its refusals pin the point down (each one already answered
            # is one fewer in flight: the last of a burst tells the most)
            if epoch == self._epoch - 1 and self.w_max is not None and point < self.w_max:
                self.w_max = point
                self.limit = min(self.limit, float(max(self.floor, point - 1)))
            return
        if self.w_max is None:
            self.w_max, self.hold = point, float(HOLD_ROUNDS)
        elif point >= self.w_max:
            self.w_max = point
            self.hold = min(float(HOLD_MAX), self.hold * 2)  # probed the same point again
        else:
            # refused below the point it held under: the limit fell, or the point was
            # overcounted (requests queued in the client count as in flight); the next event
            # (after additive growth from the cut) says where the limit is now
            self.w_max, self.hold = None, float(HOLD_ROUNDS)
        self._held, self._trusted = 0.0, not self.slow_start
        self._cut(min(self.limit, float(point)))

    def _cut(self, start: float) -> None:
        """Cut the limit from ``start`` (by half when it ends slow start): a new round."""
        factor = 0.5 if self.slow_start else self.decrease
        self.slow_start = False
        self._epoch += 1
        self.limit = max(float(self.floor), start * factor)
        self.lowest = min(self.lowest, self.limit)

    # -- slots ---------------------------------------------------------------------------
    def _free(self) -> bool:
        return self.in_flight < self.current and self._clock() >= self._paused_until

    async def _acquire(self) -> int:
        """Wait for a slot: the request's number."""
        if not self._waiters and self._free():
            return self._spend()
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiters.append(future)
        self._wake()
        try:
            return await future
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
                future.set_result(self._spend())
        wait = self._paused_until - self._clock()
        if self._waiters and wait > 0 and self._wake_handle is None:
            loop = asyncio.get_running_loop()
            self._wake_handle = loop.call_later(wait, self._after_pause)

    def _after_pause(self) -> None:
        self._wake_handle = None
        self._wake()


class _Rounds:
    """The fastest answer of each round of requests (a round: as many answers as the limit
    allowed in flight when it began), against the fastest of all earlier rounds."""

    def __init__(self) -> None:
        self.base = math.inf  # the fastest answer of the rounds before this one
        self._fastest = math.inf
        self._answers = 0
        self._size = 0  # answers in this round (0: not begun)

    def slower(self, latency: float, limit: int) -> bool:
        """Count one answer; True when it ends a round clearly slower than any before it."""
        if not self._size:
            self._size = max(limit, DELAY_SAMPLES)
        self._fastest = min(self._fastest, latency)
        self._answers += 1
        if self._answers < self._size:
            return False
        fastest, base = self._fastest, self.base
        self.base, self._fastest, self._answers, self._size = min(base, fastest), math.inf, 0, 0
        return fastest >= base + max(DELAY_FLOOR, base * DELAY_RISE)


def _budget_of(result: Any) -> Budget | None:
    """The rate-limit budget a reply reported (providers put it in ``Completion.extra``)."""
    extra = getattr(result, "extra", None)
    return budget_of_extra(extra) if isinstance(extra, dict) else None


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
