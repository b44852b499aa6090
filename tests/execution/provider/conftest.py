"""Fixtures for provider tests: a scripted server per test and a retry loop that never sleeps."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from evalkit.base.exceptions import ProviderError
from evalkit.execution.provider.retry import RetryPolicy, call_with_retries
from evalkit.model.provider import CallContext, Completion, Message, Provider

#: looks like a real key so that evalkit's redaction patterns would also catch it
KEY = "sk-ant-api03-evalkit-test-key-0123456789"
KEY_ENV = "EVALKIT_TEST_API_KEY"


@pytest.fixture
def api_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(KEY_ENV, KEY)
    return KEY


class RecordingSleep:
    """Stands in for asyncio.sleep: records the waits the policy asked for, returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def fake_sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: small delays so fault tests stay fast; the fake sleep records them anyway
FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05)


@dataclass
class Outcome:
    completion: Completion | None
    error: ProviderError | None
    attempts: int


@pytest.fixture
def call(fake_sleep: RecordingSleep) -> Callable[..., Outcome]:
    """Run one logical call through the retry policy (as the engine does), then close."""

    def run(provider: Provider, case: str, policy: RetryPolicy = FAST, **ctx: Any) -> Outcome:
        messages: list[Message] = [
            {"role": "system", "content": "You answer from policy."},
            {"role": "user", "content": f"question for {case}"},
        ]

        async def go() -> Outcome:
            try:
                completion, attempts = await call_with_retries(
                    lambda: provider.complete(messages, {}, CallContext(case_id=case, **ctx)),
                    policy,
                    sleep=fake_sleep,
                )
                return Outcome(completion, None, attempts)
            except ProviderError as exc:
                return Outcome(None, exc, exc.attempts)
            finally:
                await provider.aclose()

        return asyncio.run(go())

    return run


#: one script of replies and faults, served on either wire by the provider tests
SCRIPT = {
    "responses": [
        {
            "when": {"case": "ok"},
            "text": "hello",
            "usage": {"input_tokens": 12, "output_tokens": 3},
        },
        {"when": {"case": "cut"}, "text": "partial", "finish_reason": "length"},
        {
            "when": {"case": "rate-limited"},
            "text": "after the wait",
            "fault": {"status": 429, "retry_after": 1, "times": 2},
        },
        {
            "when": {"case": "rate-limited-ms"},
            "text": "after the wait",
            "fault": {"status": 429, "retry_after_ms": 250, "times": 1},
        },
        {"when": {"case": "server-error"}, "fault": {"status": 500}},
        {
            "when": {"case": "server-error-once"},
            "text": "recovered",
            "fault": {"status": 500, "times": 1},
        },
        {"when": {"case": "overloaded"}, "fault": {"status": 529}},
        {"when": {"case": "hang"}, "text": "too late", "fault": {"hang": 10}},
        {"when": {"case": "hang-once"}, "text": "second try", "fault": {"hang": 10, "times": 1}},
        {"when": {"case": "malformed"}, "fault": {"malformed": True}},
        {"when": {"case": "drop"}, "fault": {"drop": True}},
        {"when": {"case": "unauthorized"}, "fault": {"status": 401}},
        {"when": {"case": "forbidden"}, "fault": {"status": 403}},
        {"when": {"case": "bad-request"}, "fault": {"status": 400}},
    ]
}
