"""The retry policy on its own: a fake sleep records the waits, so nothing here really waits."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evalkit.base.exceptions import AuthError, ProviderError
from evalkit.execution.provider._common import retry_after, status_error
from evalkit.execution.provider.retry import RetryPolicy, call_with_retries


class Flaky:
    """Raises the given errors in turn, then returns "ok"; counts calls."""

    def __init__(self, *errors: ProviderError) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def _server_error() -> ProviderError:
    return ProviderError("boom", kind="server", status=500, retryable=True)


def _run(fn, policy, sleep, seed=0):
    return asyncio.run(call_with_retries(fn, policy, sleep=sleep, rng=random.Random(seed)))


def test_success_after_failures_counts_attempts(fake_sleep):
    fn = Flaky(_server_error(), _server_error())
    assert _run(fn, RetryPolicy(), fake_sleep) == ("ok", 3)
    assert fn.calls == 3 and len(fake_sleep.waits) == 2


def test_first_try_success_does_not_sleep(fake_sleep):
    assert _run(Flaky(), RetryPolicy(), fake_sleep) == ("ok", 1)
    assert fake_sleep.waits == []


def test_gives_up_after_max_attempts_with_the_last_error(fake_sleep):
    errors = [_server_error() for _ in range(5)]
    fn = Flaky(*errors)
    with pytest.raises(ProviderError) as info:
        _run(fn, RetryPolicy(max_attempts=3), fake_sleep)
    assert info.value is errors[2]
    assert info.value.attempts == 3 and fn.calls == 3
    assert len(fake_sleep.waits) == 2  # no pointless wait after the last attempt


@given(
    base=st.floats(0.01, 2),
    cap=st.floats(0.01, 30),
    attempts=st.integers(2, 8),
    seed=st.integers(0, 2**32),
)
def test_backoff_is_full_jitter_within_exponential_bounds(base, cap, attempts, seed):
    sleep_waits: list[float] = []

    async def sleep(seconds: float) -> None:
        sleep_waits.append(seconds)

    policy = RetryPolicy(max_attempts=attempts, base_delay=base, max_delay=cap)
    with pytest.raises(ProviderError):
        _run(Flaky(*[_server_error() for _ in range(attempts)]), policy, sleep, seed)
    assert len(sleep_waits) == attempts - 1
    for n, wait in enumerate(sleep_waits, start=1):
        assert 0 <= wait <= min(cap, base * 2 ** (n - 1))


def test_backoff_grows_and_is_jittered():
    policy = RetryPolicy(base_delay=1, max_delay=100)
    rng = random.Random(1)
    waits = [[policy.delay(_server_error(), n, rng) for _ in range(200)] for n in (1, 4)]
    assert max(waits[0]) <= 1 < max(waits[1]) <= 8
    assert len(set(waits[0])) > 100  # spread out, not lockstep


def test_retry_after_is_honoured_exactly(fake_sleep):
    limited = ProviderError(
        "slow down", kind="rate_limit", status=429, retryable=True, retry_after=7
    )
    assert _run(Flaky(limited), RetryPolicy(), fake_sleep) == ("ok", 2)
    assert fake_sleep.waits == [7]


def test_retry_after_is_capped(fake_sleep):
    limited = ProviderError("quota", kind="rate_limit", status=429, retryable=True, retry_after=300)
    _run(Flaky(limited), RetryPolicy(max_retry_after=60), fake_sleep)
    assert fake_sleep.waits == [60]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_errors_are_never_retried(fake_sleep, status):
    error = status_error(status, "nope", {"retry-after": "1"}, None)
    fn = Flaky(error)
    with pytest.raises(ProviderError) as info:
        _run(fn, RetryPolicy(), fake_sleep)
    assert info.value.attempts == 1 and fn.calls == 1 and fake_sleep.waits == []
    assert isinstance(info.value, AuthError) == (status in (401, 403))


def test_malformed_body_is_retried_once_only(fake_sleep):
    fn = Flaky(*[ProviderError("bad json", kind="malformed", retryable=True) for _ in range(5)])
    with pytest.raises(ProviderError) as info:
        _run(fn, RetryPolicy(max_attempts=6), fake_sleep)
    assert info.value.attempts == 2 and fn.calls == 2


def test_other_exceptions_propagate_at_once(fake_sleep):
    async def broken() -> str:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        _run(broken, RetryPolicy(), fake_sleep)
    assert fake_sleep.waits == []


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after": "3"}, 3.0),
        ({"retry-after-ms": "100", "retry-after": "3"}, 0.1),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_headers(headers, expected):
    assert retry_after(headers) == expected


def test_retry_after_http_date():
    when = datetime.now(timezone.utc) + timedelta(seconds=30)
    wait = retry_after({"retry-after": format_datetime(when, usegmt=True)})
    assert wait is not None and 27 <= wait <= 30


@pytest.mark.parametrize(
    ("status", "kind", "retryable"),
    [
        (429, "rate_limit", True),
        (500, "server", True),
        (502, "server", True),
        (503, "unavailable", True),
        (529, "overloaded", True),
        (408, "timeout", True),
        (400, "bad_request", False),
        (422, "unprocessable", False),
        (413, "too_large", False),
        (404, "not_found", False),
        (401, "auth", False),
        (418, "other", False),
    ],
)
def test_status_classification(status, kind, retryable):
    error = status_error(status, "msg", {"retry-after": "2"}, None)
    assert (error.kind, error.status, error.retryable) == (kind, status, retryable)
    assert error.retry_after == (2.0 if retryable else None)


@pytest.mark.parametrize(
    "message",
    [
        "the request exceeds the available context size, try increasing it",  # llama-server
        "This model's maximum context length is 8192 tokens. However, you requested 9000",
        "prompt is too long: 210000 tokens > 200000 maximum",  # Anthropic
    ],
)
def test_a_400_about_the_context_is_context_length(message):
    error = status_error(400, message, None, None)
    assert (error.kind, error.retryable) == ("context_length", False)
    assert error.message == message


def test_server_can_veto_or_force_a_retry():
    assert not status_error(500, "m", {"x-should-retry": "false"}, None).retryable
    assert status_error(409, "m", {"x-should-retry": "true"}, None).retryable


def test_the_key_in_use_is_scrubbed_from_messages():
    error = status_error(
        400, "echoed key custom-secret-value-123 back", None, "custom-secret-value-123"
    )
    assert "custom-secret-value-123" not in str(error) and "[REDACTED]" in str(error)
