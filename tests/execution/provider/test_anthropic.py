"""The real AsyncAnthropic client against the scripted server, through evalkit's retry policy."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from evalkit.base.exceptions import AuthError, ProviderError
from evalkit.execution.provider.anthropic import (
    AnthropicProvider,
    _completion,
    _traces_go_nowhere,
)
from evalkit.model.provider import Completion, TargetSpec

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


LOCAL = "http://127.0.0.1:9"


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


# -- the reply's JSON, read without the SDK's reply models ------------------------------------
_TEXT = {"type": "text", "text": "Refundable after 7 days."}
_TOOL = {"type": "tool_use", "id": "tu_1", "name": "lookup", "input": {"order": 42, "q": ["a"]}}
_USAGE = {"input_tokens": 12, "output_tokens": 30}
_CACHED = {**_USAGE, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 8}


def _message(content: list[dict[str, Any]], usage: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-x",
            "content": content, "stop_reason": "end_turn", "stop_sequence": None,
            "usage": usage, **more}  # fmt: skip


def _as_before(reply: Any) -> Completion:
    """The oracle: how a reply read before, attribute by attribute from the SDK's model."""
    calls = [
        {"id": b.id, "name": b.name, "arguments": b.input} for b in reply.content
        if b.type == "tool_use"
    ]  # fmt: skip
    u = reply.usage
    read, write = u.cache_read_input_tokens or 0, u.cache_creation_input_tokens or 0
    return Completion(
        text="".join(b.text for b in reply.content if b.type == "text"),
        tool_calls=calls,
        input_tokens=u.input_tokens + read + write,
        output_tokens=u.output_tokens,
        model=reply.model,
        finish_reason=reply.stop_reason,
        cache_read_tokens=read,
        cache_write_tokens=write,
    )


@pytest.mark.parametrize(
    "body",
    [
        _message([_TEXT], _USAGE),
        _message([_TEXT, _TEXT], _CACHED, stop_reason="max_tokens"),
        _message([{"type": "text", "text": "Looking."}, _TOOL], _USAGE, stop_reason="tool_use"),
        _message([], _USAGE),
        _message([{"type": "text", "text": "\ud800 lone \u2028 <b>"}], _USAGE),
    ],
    ids=["text", "cached-truncated", "tool-use", "empty", "hostile-text"],
)
def test_a_reply_reads_as_the_sdk_model_read(body: dict[str, Any]) -> None:
    import anthropic

    expected = _as_before(anthropic.types.Message.model_validate(body))
    assert _completion(json.loads(json.dumps(body))) == expected


@pytest.mark.parametrize(
    "body",
    [
        [],
        "text",
        {"type": "error", "error": {"type": "overloaded_error"}},
        _message("not a list", _USAGE),  # type: ignore[arg-type]
        _message([_TEXT], None),  # type: ignore[arg-type]
        _message(["a string block"], _USAGE),  # type: ignore[list-item]
        _message([{"type": "text"}], _USAGE),
    ],
    ids=["list", "string", "error-object", "content", "no-usage", "block", "text-missing"],
)
def test_a_reply_that_is_not_a_message_is_malformed(body: Any) -> None:
    with pytest.raises(ProviderError) as caught:
        _completion(body)
    assert caught.value.kind == "malformed" and caught.value.retryable


def test_a_batch_result_object_reads_as_its_json() -> None:
    import anthropic

    body = _message([_TEXT, _TOOL], _CACHED, stop_reason="tool_use")
    provider = AnthropicProvider(TargetSpec(provider="anthropic", model="m", base_url=LOCAL))
    from_object = provider.completion_of(anthropic.types.Message.model_validate(body))
    assert from_object == _completion(body)
    assert from_object.tool_calls[0]["arguments"] == {"order": 42, "q": ["a"]}


# -- OpenTelemetry spans: off only where they would go nowhere ---------------------------------
@pytest.fixture
def no_otel_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith(("OTEL_", "ANTHROPIC_OPEN_TELEMETRY")):
            monkeypatch.delenv(name)
    return monkeypatch


def test_spans_are_off_without_a_tracer_provider(no_otel_env: pytest.MonkeyPatch) -> None:
    import anthropic

    assert _traces_go_nowhere(anthropic.AsyncAnthropic)


@pytest.mark.parametrize(
    "name", ["OTEL_PYTHON_TRACER_PROVIDER", "ANTHROPIC_OPEN_TELEMETRY", "OTEL_TRACES_EXPORTER"]
)
def test_the_users_telemetry_variables_are_left_to_the_sdk(
    no_otel_env: pytest.MonkeyPatch, name: str
) -> None:
    import anthropic

    no_otel_env.setenv(name, "x")
    assert not _traces_go_nowhere(anthropic.AsyncAnthropic)


def test_a_tracer_provider_that_is_set_up_gets_its_spans(no_otel_env: pytest.MonkeyPatch) -> None:
    import anthropic
    from opentelemetry import trace

    class Recording(trace.TracerProvider):
        def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
            return trace.NoOpTracer()

    no_otel_env.setattr(trace, "get_tracer_provider", Recording)
    assert not _traces_go_nowhere(anthropic.AsyncAnthropic)


def test_an_sdk_without_the_option_is_given_none(no_otel_env: pytest.MonkeyPatch) -> None:
    class OldClient:
        def __init__(self, api_key: str) -> None: ...

    assert not _traces_go_nowhere(OldClient)
