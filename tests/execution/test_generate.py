"""One answer per case × repeat: from the cache, else a retried call; failures become records."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evalkit.base.exceptions import AuthError, ProviderError
from evalkit.execution.cache import ResponseCache
from evalkit.execution.generate import Generated, generate, generation_key
from evalkit.model.config import PreparedCase
from evalkit.model.golden import Case
from evalkit.model.outcome import Outcome
from evalkit.model.provider import CallContext, Completion, Message, TargetSpec
from evalkit.model.record import CaseRecord
from evalkit.model.retry import RetryPolicy

KEY = "sk-ant-api03-generate-test-secret-0123456789"
POLICY = RetryPolicy(max_attempts=3, base_delay=0.0, max_delay=0.0)
CASE = PreparedCase(
    case=Case(id="c1", vars={"q": "hi"}), messages=[{"role": "user", "content": "hi"}], checks=[]
)


class _Provider:
    """A provider answering from a list: a Completion, or an exception to raise."""

    def __init__(self, *answers: Completion | ProviderError) -> None:
        self.answers = list(answers)
        self.calls = 0

    async def prepare(self) -> None:
        return None

    async def complete(
        self, messages: list[Message], params: dict[str, Any], ctx: CallContext | None = None
    ) -> Completion:
        self.calls += 1
        answer = self.answers.pop(0)
        if isinstance(answer, ProviderError):
            raise answer
        return answer

    async def aclose(self) -> None:
        return None


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[ResponseCache]:
    c = ResponseCache(tmp_path / "cache")
    yield c
    c.close()


def _generate(provider: _Provider, cache: ResponseCache, **kw: Any) -> Generated | CaseRecord:
    return asyncio.run(
        generate(provider, POLICY, cache, "k1", CASE, 0, CallContext(case_id="c1"), **kw)
    )


def test_an_answer_is_retried_then_cached_with_its_latency(cache: ResponseCache) -> None:
    flaky = ProviderError("503", kind="unavailable", status=503, retryable=True)
    provider = _Provider(flaky, Completion(text="hello", input_tokens=3, output_tokens=1))
    got = _generate(provider, cache)
    assert isinstance(got, Generated)
    assert (got.completion.text, got.attempts, got.requests, got.cached) == ("hello", 2, 2, False)
    assert got.latency_ms is not None and got.latency_ms >= 0
    stored = cache.get("k1")
    assert stored is not None and stored.text == "hello"
    assert stored.extra["latency_ms"] == got.latency_ms


def test_a_cached_answer_sends_no_request(cache: ResponseCache) -> None:
    hit = Completion(text="from cache", extra={"latency_ms": 12.5})
    provider = _Provider()
    got = _generate(provider, cache, cached=hit)
    assert isinstance(got, Generated)
    assert (got.cached, got.requests, got.latency_ms, provider.calls) == (True, 0, 12.5, 0)


def test_a_provider_failure_is_an_error_record_without_the_key(cache: ResponseCache) -> None:
    bad = ProviderError(f"400 bad request for key {KEY}", kind="bad_request", status=400)
    got = _generate(_Provider(bad), cache)
    assert isinstance(got, CaseRecord)
    assert got.outcome is Outcome.ERROR and got.error is not None
    assert (got.error.kind, got.error.status, got.attempts) == ("bad_request", 400, 1)
    assert KEY not in got.error.message
    assert cache.get("k1") is None


def test_an_auth_failure_stops_the_run_with_advice(cache: ResponseCache) -> None:
    refused = AuthError("401 invalid x-api-key", kind="auth", status=401)
    provider = _Provider(refused, Completion(text="never asked for"))
    with pytest.raises(AuthError, match="check the API key") as raised:
        _generate(provider, cache)
    assert raised.value.status == 401 and provider.calls == 1  # not retried


def test_the_key_changes_with_the_input_and_the_repeat() -> None:
    target = TargetSpec(provider="scripted", model="m")
    other = PreparedCase(case=CASE.case, messages=[{"role": "user", "content": "other"}], checks=[])
    keys = {
        generation_key(target, CASE, 0),
        generation_key(target, CASE, 1),
        generation_key(target, other, 0),
    }
    assert len(keys) == 3
    assert generation_key(target, CASE, 0) == generation_key(target, CASE, 0)
