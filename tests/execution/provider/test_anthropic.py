"""The real AsyncAnthropic client against the scripted server, through evalkit's retry policy."""

from __future__ import annotations

import pytest

from evalkit.base.exceptions import AuthError
from evalkit.execution.provider.anthropic import AnthropicProvider
from evalkit.model.provider import TargetSpec

from .conftest import FAST, KEY_ENV, SCRIPT


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


def test_server_error_recovers_on_retry(server, call, fake_sleep):
    out = call(_provider(server.url), "server-error-once")
    assert out.completion.text == "recovered"
    assert out.attempts == 2 and server.count(case="server-error-once") == 2
    assert len(fake_sleep.waits) == 1 and 0 <= fake_sleep.waits[0] <= FAST.base_delay


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
