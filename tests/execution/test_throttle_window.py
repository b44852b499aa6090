"""The adaptive limiter (evalkit.execution.throttle) against a per-window budget: reset headers
pause new requests until the budget resets, and the requests budget is counted down per
request sent. On a fake clock: a request that must wait is seen not to start."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from evalkit.execution.budget import Budget, budget_extra
from evalkit.execution.throttle import AdaptiveLimiter
from evalkit.model.provider import Completion


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def answer(budget: Budget | None = None) -> Callable[[], Awaitable[Completion]]:
    async def fn() -> Completion:
        return Completion(text="x", extra=budget_extra(budget) if budget else {})

    return fn


async def starts(limiter: AdaptiveLimiter) -> bool:
    """Whether a request gets a slot now (it is withdrawn when it must wait)."""
    try:
        await asyncio.wait_for(limiter.call(answer()), timeout=0.05)
    except TimeoutError:
        return False
    return True


def limiter_on(clock: Clock, ceiling: int = 10) -> AdaptiveLimiter:
    limiter = AdaptiveLimiter(ceiling, clock=clock)
    limiter.slow_start = False
    return limiter


def test_the_requests_budget_is_counted_down_to_its_reset() -> None:
    async def go() -> None:
        clock = Clock()
        limiter = limiter_on(clock)
        # plenty of share left (no 5% rule): only the count holds requests back
        await limiter.call(answer(Budget(3 / 4, requests=3, requests_reset=2.0)))
        assert [await starts(limiter) for _ in range(4)] == [True, True, True, False]
        clock.now += 1.9
        assert not await starts(limiter)  # the window has not reset yet
        clock.now += 0.2
        assert await starts(limiter) and await starts(limiter)  # a new window: not counted
        assert limiter.rate_limited == 0

    asyncio.run(go())


def test_requests_sent_after_the_answered_one_spend_its_remaining() -> None:
    async def go() -> None:
        clock = Clock()
        limiter = limiter_on(clock)
        release = asyncio.Event()

        async def held() -> Completion:
            await release.wait()
            return Completion(text="x")

        first = asyncio.ensure_future(limiter.call(answer_later(release, Budget(0.5, 3, 5.0))))
        await asyncio.sleep(0)
        others = [asyncio.ensure_future(limiter.call(held)) for _ in range(3)]
        await asyncio.sleep(0)
        release.set()
        await asyncio.gather(first, *others)
        # request 0 was told 3 were left; requests 1-3 were sent after it: none is left
        assert not await starts(limiter)
        clock.now += 5.1
        assert await starts(limiter)

    asyncio.run(go())


def answer_later(release: asyncio.Event, budget: Budget) -> Callable[[], Awaitable[Any]]:
    async def fn() -> Completion:
        await release.wait()
        return Completion(text="x", extra=budget_extra(budget))

    return fn


def test_an_older_answer_does_not_reset_the_count() -> None:
    async def go() -> None:
        clock = Clock()
        limiter = limiter_on(clock)
        release = asyncio.Event()
        old = asyncio.ensure_future(limiter.call(answer_later(release, Budget(0.9, 9, 2.0))))
        await asyncio.sleep(0)
        await limiter.call(answer(Budget(0.5, requests=1, requests_reset=2.0)))  # request 1
        release.set()
        await old  # request 0's answer comes back late, from before request 1 was admitted
        assert await starts(limiter) and not await starts(limiter)

    asyncio.run(go())


def test_a_nearly_spent_budget_pauses_until_its_reset_and_cuts() -> None:
    async def go() -> None:
        clock = Clock()
        limiter = limiter_on(clock, ceiling=40)
        limiter.limit = 40.0
        # the tokens nearly spent (no requests budget): no count, a pause and the cut
        await limiter.call(answer(Budget(0.01, spent_reset=3.0)))
        assert limiter.current == 30 and not await starts(limiter)
        clock.now += 3.01
        assert await starts(limiter)

    asyncio.run(go())


@pytest.mark.parametrize(
    "budget",
    [
        Budget(0.01),  # nearly spent, no usable reset (absent, garbled, past or too far)
        Budget(0.5, requests=5),  # a count without a reset: no window to wait for
        Budget(0.5, requests=5, requests_reset=2.0),  # budget left
    ],
)
def test_no_usable_reset_no_pause(budget: Budget) -> None:
    async def go() -> None:
        limiter = limiter_on(Clock())
        await limiter.call(answer(budget))
        assert await starts(limiter) and await starts(limiter)

    asyncio.run(go())


def test_a_spent_window_holds_requests_already_waiting_then_lets_them_go() -> None:
    async def go() -> float:
        limiter = AdaptiveLimiter(10)  # the real clock: the pause's timer wakes the waiters
        limiter.slow_start = False
        loop = asyncio.get_running_loop()
        started = loop.time()
        await limiter.call(answer(Budget(0.0, requests=0, requests_reset=0.2)))
        await asyncio.gather(*(limiter.call(answer()) for _ in range(5)))
        return loop.time() - started

    assert asyncio.run(go()) >= 0.19
