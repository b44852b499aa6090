"""The real AsyncAnthropic client against the scripted server, through evalkit's retry policy."""

from __future__ import annotations

import pytest

from evalkit.exceptions import AuthError
from evalkit.provider.anthropic import AnthropicProvider
from evalkit.provider.base import TargetSpec
from evalkit.provider.retry import RetryPolicy

from .conftest import FAST, KEY_ENV

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


def _provider(url: str, **spec: object) -> AnthropicProvider:
    """Context headers on, as the scripted provider sends them, so rules match by case."""
    target = TargetSpec(
        provider="anthropic",
        model="claude-test",
        base_url=url,
        api_key_env=KEY_ENV,
        timeout=0.3,
        **spec,  # type: ignore[arg-type]
    )
    return AnthropicProvider(target, send_context_headers=True)


@pytest.fixture
def server(serve, api_key):
    return serve(SCRIPT)


def test_normal_reply_with_usage(server, call):
    out = call(_provider(server.url), "ok")
    assert out.error is None and out.attempts == 1
    assert out.completion.text == "hello"
    assert (out.completion.input_tokens, out.completion.output_tokens) == (12, 3)
    assert out.completion.finish_reason == "end_turn"
    assert out.completion.model == "claude-test"
    assert server.count(case="ok") == 1


def test_request_shape(server, call):
    """System messages go to system=, max_tokens defaults, stop becomes stop_sequences."""
    provider = _provider(server.url, params={"temperature": 0, "stop": "END", "top_k": 5})
    call(provider, "ok")
    body = server.requests[0].body
    assert body["system"] == "You answer from policy."
    assert body["messages"] == [{"role": "user", "content": "question for ok"}]
    assert body["max_tokens"] == 1024
    assert body["stop_sequences"] == ["END"]
    assert (body["temperature"], body["top_k"]) == (0, 5)


def test_truncated_reply_reports_max_tokens(server, call):
    out = call(_provider(server.url), "cut")
    assert out.completion.text == "partial"
    assert out.completion.finish_reason == "max_tokens"


@pytest.mark.parametrize(("case", "wait"), [("rate-limited", 1.0), ("rate-limited-ms", 0.25)])
def test_rate_limit_honours_retry_after_then_succeeds(server, call, fake_sleep, case, wait):
    out = call(_provider(server.url), case)
    assert out.error is None
    assert out.completion.text == "after the wait"
    faults = 2 if case == "rate-limited" else 1
    assert out.attempts == faults + 1
    assert server.count(case=case) == faults + 1
    assert [r.status for r in server.requests] == [429] * faults + [200]
    assert fake_sleep.waits == [wait] * faults


@pytest.mark.parametrize(
    ("case", "kind", "status", "requests"),
    [
        ("server-error", "server", 500, FAST.max_attempts),
        ("overloaded", "overloaded", 529, FAST.max_attempts),
        ("malformed", "malformed", None, FAST.max_malformed_attempts),
        ("drop", "connection", None, FAST.max_attempts),
        ("bad-request", "bad_request", 400, 1),
    ],
)
def test_faults_give_up_with_kind_and_attempts(server, call, api_key, case, kind, status, requests):
    out = call(_provider(server.url), case)
    assert out.completion is None
    assert out.error.kind == kind
    assert out.error.status == status
    assert out.attempts == requests
    assert server.count(case=case) == requests
    assert api_key not in str(out.error)


def test_server_error_recovers_on_retry(server, call, fake_sleep):
    out = call(_provider(server.url), "server-error-once")
    assert out.completion.text == "recovered"
    assert out.attempts == 2 and server.count(case="server-error-once") == 2
    assert len(fake_sleep.waits) == 1 and 0 <= fake_sleep.waits[0] <= FAST.base_delay


def test_hang_past_timeout_is_a_retryable_timeout(server, call):
    out = call(_provider(server.url), "hang", RetryPolicy(max_attempts=2, base_delay=0))
    assert out.error.kind == "timeout" and out.error.retryable
    assert out.attempts == 2 and server.count(case="hang") == 2

    out = call(_provider(server.url), "hang-once", RetryPolicy(max_attempts=2, base_delay=0))
    assert out.completion.text == "second try"
    assert server.count(case="hang-once") == 2


def test_connection_refused(call, closed_port, api_key):
    out = call(_provider(f"http://127.0.0.1:{closed_port}"), "ok")
    assert out.error.kind == "connection" and out.error.retryable
    assert out.attempts == FAST.max_attempts
    assert api_key not in str(out.error)


@pytest.mark.parametrize(("case", "status"), [("unauthorized", 401), ("forbidden", 403)])
def test_auth_failure_is_not_retried(server, call, api_key, case, status):
    out = call(_provider(server.url), case)
    assert isinstance(out.error, AuthError)
    assert (out.error.kind, out.error.status, out.error.retryable) == ("auth", status, False)
    assert out.attempts == 1 and server.count(case=case) == 1
    assert api_key not in str(out.error) and api_key not in repr(server.requests)


def test_missing_key_is_an_auth_error_naming_the_variable(call, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    provider = AnthropicProvider(TargetSpec(provider="anthropic", model="m"))
    out = call(provider, "ok")
    assert isinstance(out.error, AuthError)
    assert "ANTHROPIC_API_KEY" in str(out.error) and out.attempts == 1


def test_context_headers_are_sent_only_when_asked(server, call):
    spec = TargetSpec(provider="anthropic", model="m", base_url=server.url, api_key_env=KEY_ENV)
    out = call(AnthropicProvider(spec), "ok")
    assert server.requests[0].context == {}
    assert out.error.kind == "not_found"  # no rule matches without the case header

    call(_provider(server.url), "ok", prompt_version="ab12", prompt_label="v2 ü", repeat=2)
    assert server.requests[1].context == {
        "case": "ok",
        "prompt_version": "ab12",
        "prompt_label": "v2 ü",
        "repeat": "2",
        "purpose": "target",
    }
