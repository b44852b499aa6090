"""Adaptive concurrency (evalkit.execution.throttle): the AIMD control law and its slots."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from evalkit.base.exceptions import ProviderError
from evalkit.execution.provider.retry import RetryPolicy, call_with_retries
from evalkit.execution.throttle import (
    RUN_LIMITERS,
    SLOW_START,
    AdaptiveLimiter,
    LimiterPool,
    budget_left,
    limiter_key,
)
from evalkit.model.provider import Completion

T = TypeVar("T")


def rate_limited(retry_after: float | None = None) -> ProviderError:
    return ProviderError(
        "429", kind="rate_limit", status=429, retryable=True, retry_after=retry_after
    )


async def ok() -> str:
    return "ok"


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def test_slow_start_then_capped_at_the_configured_concurrency() -> None:
    async def go() -> list[int]:
        limiter = AdaptiveLimiter(20)
        seen = [limiter.current]
        for _ in range(15):
            await limiter.call(ok)
            seen.append(limiter.current)
        return seen

    seen = run(go())
    assert seen[0] == SLOW_START == 8
    assert seen[:4] == [8, 9, 10, 11]  # one slot per success: doubling per round trip
    assert seen[-1] == 20 and max(seen) == 20
    assert AdaptiveLimiter(3).current == 3  # never starts above the configured concurrency


def test_a_burst_of_429s_is_one_event_that_finds_the_point() -> None:
    async def go() -> AdaptiveLimiter:
        limiter = AdaptiveLimiter(100, decrease=0.5)
        limiter.limit, limiter.slow_start = 40.0, False
        release = asyncio.Event()

        async def held() -> str:
            await release.wait()
            return "ok"

        async def refused() -> str:
            await asyncio.sleep(0)
            raise rate_limited()

        # 15 in flight: the server holds 10 and refuses the other 5 at once
        holders = [asyncio.ensure_future(limiter.call(held)) for _ in range(10)]
        await asyncio.sleep(0)
        results = await asyncio.gather(
            *(limiter.call(refused) for _ in range(5)), return_exceptions=True
        )
        assert all(isinstance(r, ProviderError) for r in results)
        # one cut, from where the first refusal came back (15 in flight) by half; the later
        # refusals of the burst pin the point down to 11 (10 held + the refused one)
        assert limiter.rate_limited == 5 and limiter.lowest == 7.5
        assert limiter.w_max == 11 and limiter.plateau == 10 and limiter.limit == 7.5
        release.set()
        await asyncio.gather(*holders)
        return limiter

    limiter = run(go())
    # the answers of the held requests grow it straight back to just under the point
    assert limiter.limit == 10.0 and not limiter.slow_start


def test_in_flight_never_exceeds_the_current_limit() -> None:
    async def go() -> tuple[int, int]:
        limiter = AdaptiveLimiter(30, decrease=0.5)
        state = {"now": 0, "max": 0, "over": 0}

        async def work() -> str:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
            # a slot is only handed out below the limit (a cut may leave more still finishing)
            state["over"] += limiter.in_flight > max(limiter.current, state["now"])
            await asyncio.sleep(0.001)
            state["now"] -= 1
            if state["now"] >= 12:
                raise rate_limited()
            return "ok"

        async def one() -> None:
            with contextlib.suppress(ProviderError):
                await limiter.call(work)

        await asyncio.gather(*(one() for _ in range(300)))
        assert limiter.in_flight == 0
        return state["max"], state["over"]

    peak, over = run(go())
    assert peak <= 30 and over == 0
    assert peak > SLOW_START  # it did grow


def test_retry_after_pauses_every_new_request() -> None:
    async def go() -> float:
        limiter = AdaptiveLimiter(4)

        async def refused() -> str:
            raise rate_limited(retry_after=0.3)

        with pytest.raises(ProviderError):
            await limiter.call(refused)
        started = time.monotonic()
        await asyncio.gather(*(limiter.call(ok) for _ in range(3)))
        return time.monotonic() - started

    assert run(go()) >= 0.28


def test_nearly_spent_budget_cuts_without_a_429() -> None:
    async def go() -> AdaptiveLimiter:
        limiter = AdaptiveLimiter(50, decrease=0.5)
        limiter.limit, limiter.slow_start = 40.0, False

        async def low() -> Completion:
            return Completion(text="x", extra={"budget_left": 0.01})

        async def plenty() -> Completion:
            return Completion(text="x", extra={"budget_left": 0.5})

        await limiter.call(plenty)
        assert limiter.limit > 40.0
        await limiter.call(low)
        return limiter

    limiter = run(go())
    assert limiter.current == 20 and limiter.rate_limited == 0


def test_a_cancelled_waiter_leaks_no_slot() -> None:
    async def go() -> AdaptiveLimiter:
        limiter = AdaptiveLimiter(1)
        release = asyncio.Event()

        async def hold() -> str:
            await release.wait()
            return "ok"

        holder = asyncio.ensure_future(limiter.call(hold))
        await asyncio.sleep(0)
        waiter = asyncio.ensure_future(limiter.call(ok))
        await asyncio.sleep(0)
        waiter.cancel()
        release.set()
        await holder
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert await limiter.call(ok) == "ok"
        return limiter

    assert run(go()).in_flight == 0


def test_budget_left_reads_both_providers_headers() -> None:
    assert budget_left(None) is None and budget_left({"server": "x"}) is None
    anthropic = {
        "anthropic-ratelimit-requests-remaining": "40",
        "anthropic-ratelimit-requests-limit": "50",
        "anthropic-ratelimit-tokens-remaining": "1000",
        "anthropic-ratelimit-tokens-limit": "100000",
    }
    assert budget_left(anthropic) == pytest.approx(0.01)
    openai = {"x-ratelimit-remaining-requests": "9", "x-ratelimit-limit-requests": "10"}
    assert budget_left(openai) == pytest.approx(0.9)
    assert (
        budget_left({"x-ratelimit-remaining-requests": "?", "x-ratelimit-limit-requests": "0"})
        is None
    )


def test_retries_go_through_the_endpoints_limiter() -> None:
    async def go() -> LimiterPool:
        pool = LimiterPool(10)
        policy = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.002)
        key = limiter_key("anthropic", "http://x", "m")
        assert await call_with_retries(ok, policy, key=key) == ("ok", 1)  # outside a run
        assert pool.status(key) == "concurrency 10/10 · 429s 0"  # no limiter was made
        RUN_LIMITERS.set(pool)  # what a run does
        calls = {"n": 0}

        async def flaky() -> str:
            calls["n"] += 1
            if calls["n"] == 1:
                raise rate_limited()
            return "ok"

        assert await call_with_retries(flaky, policy, key=key) == ("ok", 2)
        assert await call_with_retries(ok, policy) == ("ok", 1)  # no key: no limiter
        return pool

    pool = run(go())
    assert pool.rate_limited == 1
    # refused with 1 in flight: 2 is too many, so it holds at 1
    assert pool.status(limiter_key("anthropic", "http://x", "m")) == "concurrency 1/10 · 429s 1"
