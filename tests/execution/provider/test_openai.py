"""The real AsyncOpenAI client against the scripted server, through evalkit's retry policy."""

from __future__ import annotations

import pytest

from evalkit.base.exceptions import AuthError
from evalkit.execution.provider.openai import OpenAIProvider
from evalkit.model.provider import TargetSpec

from .conftest import KEY_ENV, SCRIPT


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
