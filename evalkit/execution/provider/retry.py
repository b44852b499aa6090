"""The one retry policy: every model call (targets and judges) goes through it.

SDK-level retries are switched off (``max_retries=0``) so attempts are never multiplied; this
module alone decides whether and when to try again:

* only errors whose ``retryable`` flag is set are retried (rate limits, 5xx, 529, timeouts,
  dropped connections); 400/401/403/404 and callable errors fail at once;
* a malformed 200 body is retried, but at most ``max_malformed_attempts`` times in all: a
  truncated reply from a flaky proxy is worth one more try, while a ``base_url`` pointing at
  something that is not an LLM API would answer garbage forever;
* the wait is the server's ``retry-after`` / ``retry-after-ms`` when given (capped at
  ``max_retry_after``), else exponential backoff with *full jitter*
  (``uniform(0, min(max_delay, base_delay * 2**n))``), which spreads a burst of concurrent
  rate-limited calls instead of having them retry in lockstep;
* inside a run (:data:`~evalkit.execution.throttle.RUN_LIMITERS` set), every attempt waits for
  a slot of its endpoint's adaptive limiter, which learns from 429s and rate-limit headers
  (``key`` names the endpoint and model, :func:`~evalkit.execution.throttle.limiter_key`).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from evalkit.base.exceptions import ProviderError
from evalkit.execution.throttle import RUN_LIMITERS
from evalkit.model.retry import RetryPolicy

T = TypeVar("T")


async def call_with_retries(
    fn: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    rng: random.Random | None = None,
    key: str | None = None,
) -> tuple[T, int]:
    """Await ``fn()`` until it succeeds or the policy gives up; return ``(result, attempts)``.

    On giving up, the last :class:`ProviderError` is re-raised with ``attempts`` set. Any other
    exception (a bug, or cancellation) propagates at once: retrying cannot fix it.
    """
    pool = RUN_LIMITERS.get() if key else None
    limiter = pool.get(key) if pool is not None and key else None
    attempt = 0
    while True:
        attempt += 1
        try:
            return (await fn() if limiter is None else await limiter.call(fn)), attempt
        except ProviderError as error:
            error.attempts = attempt
            if not policy.should_retry(error, attempt):
                raise
            if rng is None:  # seeded from the OS only when a retry needs jitter (13 us)
                rng = random.Random()
            await sleep(policy.delay(error, attempt, rng))


__all__ = ["RetryPolicy", "call_with_retries"]
