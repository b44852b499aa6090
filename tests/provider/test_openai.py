"""The real AsyncOpenAI client against the scripted server, through evalkit's retry policy."""

from __future__ import annotations

import pytest

from evalkit.exceptions import AuthError
from evalkit.provider.base import TargetSpec
from evalkit.provider.openai import OpenAIProvider
from evalkit.provider.retry import RetryPolicy

from .conftest import FAST, KEY_ENV
from .test_anthropic import SCRIPT  # the same faults, served on the OpenAI wire


def _provider(url: str, **spec: object) -> OpenAIProvider:
    """Context headers on, as the scripted provider sends them, so rules match by case."""
    target = TargetSpec(
        provider="openai",
        model="gpt-test",
        base_url=url,
        api_key_env=KEY_ENV,
        timeout=0.3,
        **spec,  # type: ignore[arg-type]
    )
    return OpenAIProvider(target, send_context_headers=True)


@pytest.fixture
def server(serve, api_key):
    return serve(SCRIPT)


def test_normal_reply_with_usage(server, call):
    out = call(_provider(server.openai_base_url), "ok")
    assert out.error is None and out.attempts == 1
    assert out.completion.text == "hello"
    assert (out.completion.input_tokens, out.completion.output_tokens) == (12, 3)
    assert out.completion.finish_reason == "stop"
    assert out.completion.model == "gpt-test"
    assert server.requests[0].path == "/v1/chat/completions"


def test_request_shape(server, call):
    """Messages go through unchanged; params the SDK does not know travel in the body."""
    params = {"temperature": 0.2, "max_tokens": 50, "stop": ["END"], "repetition_penalty": 1.1}
    call(_provider(server.openai_base_url, params=params), "ok")
    body = server.requests[0].body
    assert body["messages"][0] == {"role": "system", "content": "You answer from policy."}
    assert (body["temperature"], body["max_tokens"], body["stop"]) == (0.2, 50, ["END"])
    assert body["repetition_penalty"] == 1.1


def test_local_server_needs_no_key(server, call, monkeypatch):
    """base_url without any key configured (vLLM, Ollama): a placeholder key is sent."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    spec = TargetSpec(provider="openai", model="local", base_url=server.openai_base_url)
    out = call(OpenAIProvider(spec, send_context_headers=True), "ok")
    assert out.completion.text == "hello"


def test_missing_key_without_base_url_is_an_auth_error(call, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    out = call(OpenAIProvider(TargetSpec(provider="openai", model="gpt")), "ok")
    assert isinstance(out.error, AuthError) and "OPENAI_API_KEY" in str(out.error)


def test_truncated_reply_reports_length(server, call):
    out = call(_provider(server.openai_base_url), "cut")
    assert (out.completion.text, out.completion.finish_reason) == ("partial", "length")


@pytest.mark.parametrize(("case", "wait"), [("rate-limited", 1.0), ("rate-limited-ms", 0.25)])
def test_rate_limit_honours_retry_after_then_succeeds(server, call, fake_sleep, case, wait):
    out = call(_provider(server.openai_base_url), case)
    assert out.completion.text == "after the wait"
    faults = 2 if case == "rate-limited" else 1
    assert out.attempts == faults + 1 and server.count(case=case) == faults + 1
    assert [r.status for r in server.requests] == [429] * faults + [200]
    assert fake_sleep.waits == [wait] * faults


@pytest.mark.parametrize(
    ("case", "kind", "status", "requests"),
    [
        ("server-error", "server", 500, FAST.max_attempts),
        ("overloaded", "overloaded", 529, FAST.max_attempts),
        ("malformed", "malformed", None, FAST.max_malformed_attempts),
        # openai's aiohttp transport calls this a ConnectTimeout; evalkit knows better
        ("drop", "connection", None, FAST.max_attempts),
        ("bad-request", "bad_request", 400, 1),
    ],
)
def test_faults_give_up_with_kind_and_attempts(server, call, api_key, case, kind, status, requests):
    out = call(_provider(server.openai_base_url), case)
    assert out.completion is None
    assert out.error.kind == kind and out.error.status == status
    assert out.attempts == requests and server.count(case=case) == requests
    assert api_key not in str(out.error)


def test_hang_past_timeout_is_a_retryable_timeout(server, call):
    out = call(_provider(server.openai_base_url), "hang", RetryPolicy(max_attempts=2, base_delay=0))
    assert (out.error.kind, out.error.retryable, out.attempts) == ("timeout", True, 2)
    assert server.count(case="hang") == 2

    policy = RetryPolicy(max_attempts=2, base_delay=0)
    out = call(_provider(server.openai_base_url), "hang-once", policy)
    assert out.completion.text == "second try" and server.count(case="hang-once") == 2


def test_connection_refused(call, closed_port, api_key):
    out = call(_provider(f"http://127.0.0.1:{closed_port}/v1"), "ok")
    assert (out.error.kind, out.error.retryable) == ("connection", True)
    assert out.attempts == FAST.max_attempts
    assert api_key not in str(out.error)


@pytest.mark.parametrize(("case", "status"), [("unauthorized", 401), ("forbidden", 403)])
def test_auth_failure_is_not_retried(server, call, api_key, case, status):
    out = call(_provider(server.openai_base_url), case)
    assert isinstance(out.error, AuthError)
    assert (out.error.kind, out.error.status, out.error.retryable) == ("auth", status, False)
    assert out.attempts == 1 and server.count(case=case) == 1
    assert api_key not in str(out.error) and api_key not in repr(server.requests)
