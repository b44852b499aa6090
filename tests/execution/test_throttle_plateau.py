"""The adaptive limiter's plateau and slow-start exit (evalkit.execution.throttle), driven
deterministically: requests one at a time or gated, and a fake clock (no timing asserts)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Coroutine
from typing import Any, TypeVar

from evalkit.base.exceptions import ProviderError
from evalkit.execution.throttle import (
    CONSERVATIVE,
    HOLD_MAX,
    HOLD_ROUNDS,
    SLOW_START,
    AdaptiveLimiter,
)

T = TypeVar("T")


def rate_limited() -> ProviderError:
    return ProviderError("429", kind="rate_limit", status=429, retryable=True)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


async def ok() -> str:
    return "ok"


async def refused_with(limiter: AdaptiveLimiter, in_flight: int) -> None:
    """One refusal that comes back with ``in_flight`` requests in flight (it included)."""
    release = asyncio.Event()

    async def held() -> str:
        await release.wait()
        return "ok"

    async def refused() -> str:
        raise rate_limited()

    holders = [asyncio.ensure_future(limiter.call(held)) for _ in range(in_flight - 1)]
    await asyncio.sleep(0)
    assert limiter.in_flight == in_flight - 1
    with contextlib.suppress(ProviderError):
        await limiter.call(refused)
    release.set()
    await asyncio.gather(*holders)


async def successes(limiter: AdaptiveLimiter, n: int) -> list[float]:
    """``n`` answers one after the other; the limit after each."""
    seen = []
    for _ in range(n):
        await limiter.call(ok)
        seen.append(limiter.limit)
    return seen


async def settle(point: int) -> AdaptiveLimiter:
    """A limiter that met one 429 with ``point`` in flight (out of slow start)."""
    limiter = AdaptiveLimiter(100)
    limiter.limit, limiter.slow_start = float(point), False
    await refused_with(limiter, point)
    return limiter


def settled(point: int) -> AdaptiveLimiter:
    return run(settle(point))


def test_grows_back_to_just_under_the_point_holds_there_then_probes() -> None:
    limiter = settled(21)
    assert limiter.w_max == 21 and limiter.plateau == 20
    # cut by a quarter from 21; the 20 held answers (sent before the cut) already grew it back
    assert limiter.lowest == 21 * 0.75 and limiter.limit == 20.0
    hold = HOLD_ROUNDS * 20  # answers in HOLD_ROUNDS round trips at 20 in flight
    seen = run(successes(limiter, hold + 25))
    # held at the plateau (where it is never refused) for HOLD_ROUNDS round trips, counted
    # from when it got there (while the held answers came back)
    flat = hold - 15  # 15 of the 20 held answers came back at the plateau
    assert seen[:flat] == [20.0] * flat and seen[flat + 2] > 20.0
    assert 21.0 < seen[-1] < 22.0  # then probes, about one slot per round trip (20 answers)
    assert limiter.current == 21 and limiter.w_max == 21


def test_a_probe_refused_at_the_same_point_doubles_the_hold() -> None:
    async def go() -> list[float]:
        limiter = AdaptiveLimiter(100)
        limiter.limit, limiter.slow_start = 21.0, False
        holds = []
        for _ in range(6):
            await refused_with(limiter, 21)
            holds.append(limiter.hold)
            # back to the plateau, through the hold, up to the point again
            while limiter.current < 21:
                await limiter.call(ok)
        return holds

    holds = run(go())
    assert holds[:5] == [HOLD_ROUNDS * 2**i for i in range(5)]
    assert holds[5] == HOLD_MAX


def test_a_refusal_below_the_plateau_forgets_the_point() -> None:
    async def go() -> AdaptiveLimiter:
        limiter = await settle(21)
        assert limiter.plateau == 20
        await refused_with(limiter, 12)  # the limit fell (or 21 was overcounted)
        return limiter

    limiter = run(go())
    # cut from 12 (the 11 held answers then grew it additively, about a slot)
    assert limiter.w_max is None and limiter.lowest == 12 * 0.75
    assert 10.0 < limiter.limit < 10.5
    # growth is additive until the next 429 says where the limit is now
    before = limiter.limit
    run(successes(limiter, 10))  # a round trip's answers: about one slot
    assert before + 0.85 < limiter.limit < before + 1.0


def test_a_probe_a_slot_past_the_point_unrefused_means_the_limit_rose() -> None:
    limiter = settled(21)
    seen = run(successes(limiter, HOLD_ROUNDS * 20 + 60))
    assert limiter.w_max is None  # forgotten: the limit rose
    assert seen[-1] > 22.0 and limiter.hold == HOLD_ROUNDS
    steps = [b - a for a, b in itertools.pairwise(seen) if b > a]
    assert max(steps) <= 1 / 20 + 1e-9  # growing additively: one slot per round trip


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def answer(self, latency: float) -> Any:
        async def fn() -> str:
            self.now += latency
            return "ok"

        return fn


def test_slow_start_slows_down_when_answers_start_queueing() -> None:
    async def go(latencies: list[float]) -> AdaptiveLimiter:
        clock = FakeClock()
        limiter = AdaptiveLimiter(100, clock=clock)
        for latency in latencies:
            await limiter.call(clock.answer(latency))
        return limiter

    # steady answers: slow start carries on (one slot per answer)
    steady = run(go([0.05] * 30))
    assert steady.slow_start and steady.limit == SLOW_START + 30
    # a round of 8 answers (begun at limit 8), then a round of 16 (begun at 16) whose fastest
    # answer is 40% slower than any before: queueing. The limit grew one slot per answer
    # until then, and a quarter of a slot per answer after (x1.25 per round trip)
    queued = run(go([0.05] * 8 + [0.07] * 16))
    assert queued.slow_start and queued.limit == 8 + 23 + CONSERVATIVE
    later = run(go([0.05] * 8 + [0.07] * 16 + [0.07] * 32))
    assert later.limit == 8 + 23 + 33 * CONSERVATIVE
    # a slower round must hold at least DELAY_SAMPLES answers to count
    short = run(go([0.05] * 8 + [0.5] * 7))
    assert short.slow_start


def test_the_point_of_a_slow_start_overshoot_is_approached_gently() -> None:
    # slow start's overshoot is where the client's count of requests in flight lags the
    # server's most (answers come back a round late, in bursts): its point is only a guess
    async def go() -> AdaptiveLimiter:
        limiter = AdaptiveLimiter(100)
        assert limiter.slow_start
        limiter.limit = 30.0
        await refused_with(limiter, 30)
        return limiter

    limiter = run(go())
    assert limiter.w_max == 30 and limiter.lowest == 15.0  # halved, as slow start ends
    # the 29 held answers grew it a quarter of a slot each, not one
    assert limiter.limit == 15.0 + 29 * CONSERVATIVE
    # out of slow start, the same 429 is trusted: one slot per answer straight back
    assert settled(30).limit == 29.0
