"""The real AsyncOpenAI client against the scripted server, through evalkit's retry policy."""

from __future__ import annotations

import json
from typing import Any

import pytest

from evalkit.base.exceptions import AuthError, ProviderError
from evalkit.execution.provider.openai import OpenAIProvider, _completion
from evalkit.model.provider import Completion, TargetSpec

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


LOCAL = "http://127.0.0.1:9/v1"


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


# -- the reply's JSON, read without the SDK's reply models ------------------------------------
_USAGE = {"prompt_tokens": 40, "completion_tokens": 9, "total_tokens": 49}
_CACHED = {**_USAGE, "prompt_tokens_details": {"cached_tokens": 32}}
_CALL = {"id": "call_1", "type": "function",
         "function": {"name": "lookup", "arguments": '{"order": 42}'}}  # fmt: skip
_BAD_ARGS = {"id": "call_2", "type": "function",
             "function": {"name": "lookup", "arguments": "{order: 42"}}  # fmt: skip


def _reply(message: dict[str, Any], usage: dict[str, Any] | None = _USAGE, **more: Any) -> Any:
    choice = {"index": 0, "message": {"role": "assistant", **message},
              "finish_reason": more.pop("finish_reason", "stop"), "logprobs": None}  # fmt: skip
    body = {"id": "c1", "object": "chat.completion", "created": 1, "model": "gpt-x",
            "choices": [choice], **more}  # fmt: skip
    if usage is not None:
        body["usage"] = usage
    return body


def _as_before(reply: Any) -> Completion:
    """The oracle: how a reply read before, attribute by attribute from the SDK's model."""
    message, usage = reply.choices[0].message, reply.usage
    details = usage.prompt_tokens_details if usage is not None else None
    calls = []
    for call in message.tool_calls or []:
        try:
            arguments = json.loads(call.function.arguments)
        except ValueError:
            arguments = call.function.arguments
        calls.append({"id": call.id, "name": call.function.name, "arguments": arguments})
    return Completion(
        text=message.content or "",
        tool_calls=calls,
        input_tokens=usage.prompt_tokens if usage else 0,
        output_tokens=usage.completion_tokens if usage else 0,
        model=reply.model,
        finish_reason=reply.choices[0].finish_reason,
        cache_read_tokens=details.cached_tokens or 0 if details else 0,
    )


@pytest.mark.parametrize(
    "body",
    [
        _reply({"content": "Refundable."}),
        _reply({"content": "Refund"}, _CACHED, finish_reason="length"),
        _reply({"content": None, "tool_calls": [_CALL, _BAD_ARGS]}, finish_reason="tool_calls"),
        _reply({"content": "a local server"}, usage=None),
        _reply({"content": "\ud800 lone \u2028 <b>"}),
    ],
    ids=["text", "cached-truncated", "tool-calls", "no-usage", "hostile-text"],
)
def test_a_reply_reads_as_the_sdk_model_read(body: dict[str, Any]) -> None:
    import openai

    expected = _as_before(openai.types.chat.ChatCompletion.model_validate(body))
    assert _completion(json.loads(json.dumps(body))) == expected


@pytest.mark.parametrize(
    "body",
    [[], "text", {"error": {"message": "busy"}}, {"choices": []}, {"choices": ["x"]},
     {"choices": [{"index": 0, "finish_reason": "stop"}]}],
    ids=["list", "string", "error-object", "no-choices", "choice", "no-message"],
)  # fmt: skip
def test_a_reply_without_a_choice_is_malformed(body: Any) -> None:
    with pytest.raises(ProviderError) as caught:
        _completion(body)
    assert caught.value.kind == "malformed" and caught.value.retryable


def test_a_batch_result_object_reads_as_its_json() -> None:
    import openai

    body = _reply({"content": None, "tool_calls": [_CALL]}, _CACHED, finish_reason="tool_calls")
    provider = OpenAIProvider(TargetSpec(provider="openai", model="m", base_url=LOCAL))
    from_object = provider.completion_of(openai.types.chat.ChatCompletion.model_validate(body))
    assert from_object == _completion(body)
    assert from_object.tool_calls[0]["arguments"] == {"order": 42}
