"""OpenAI Chat Completions through the official async SDK; with ``base_url`` this also covers
every OpenAI-compatible server (vLLM, Ollama, llama.cpp).

The SDK is imported on first use (``import openai`` costs seconds). SDK retries are off
(evalkit's policy owns them) and the timeout is explicit.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from evalkit.base.exceptions import ProviderError
from evalkit.execution.provider import _common
from evalkit.execution.provider._sdk import SDKProvider, map_sdk_error
from evalkit.model.provider import Completion, Message, TargetSpec

if TYPE_CHECKING:
    from openai import AsyncOpenAI

DEFAULT_KEY_ENV = "OPENAI_API_KEY"
#: local OpenAI-compatible servers usually ignore the key, but the SDK insists on one
LOCAL_PLACEHOLDER_KEY = _common.LOCAL_PLACEHOLDER_KEY


def make_client(spec: TargetSpec, *, api_key: str | None = None) -> AsyncOpenAI:
    """An ``AsyncOpenAI`` with retries off and the spec's timeout (judges reuse it).

    With a ``base_url`` and no key in the environment a placeholder key is used, since
    OpenAI-compatible servers usually need none (and a local one or ``api_key: none`` never
    does); against api.openai.com a missing key is an AuthError up front.
    """
    import openai

    env = spec.api_key_env or DEFAULT_KEY_ENV
    if api_key is None and spec.base_url and not spec.api_key_env:
        api_key = _common.env_key(env) or LOCAL_PLACEHOLDER_KEY
    key = api_key or _common.resolve_key(spec, DEFAULT_KEY_ENV)
    return openai.AsyncOpenAI(
        api_key=key,
        base_url=spec.base_url,
        max_retries=0,
        timeout=spec.timeout,
        http_client=_common.aiohttp_client(openai, spec.timeout),
    )


def map_error(exc: BaseException, *, secret: str | None = None) -> ProviderError:
    """Turn whatever the SDK raised into a classified :class:`ProviderError`."""
    import openai

    return map_sdk_error(openai, exc, secret)


class OpenAIProvider(SDKProvider):
    """``provider: openai``: messages go through unchanged, params as SDK keywords."""

    name = "openai"

    def _make_client(self) -> AsyncOpenAI:
        return make_client(self._spec, api_key=self._api_key)

    def _create(self, client: Any) -> Callable[..., Awaitable[Any]]:
        create: Callable[..., Awaitable[Any]] = client.chat.completions.create
        return create

    def _fields(self, messages: list[Message]) -> dict[str, Any]:
        return {"messages": [_openai_turn(m) for m in messages]}

    def _tool_fields(self, tools: list[dict[str, Any]]) -> dict[str, Any]:
        return {"tools": [{"type": "function", "function": dict(t)} for t in tools]}

    def _map_error(self, exc: BaseException, secret: str | None) -> ProviderError:
        return map_error(exc, secret=secret)

    def _completion(self, reply: Any) -> Completion:
        return _completion(reply)


def _completion(reply: Any) -> Completion:
    """A Chat Completions reply's JSON as a Completion: the first choice's message."""
    choices = reply.get("choices") if isinstance(reply, dict) else None
    choice = choices[0] if isinstance(choices, list) and choices else None
    message = choice.get("message") if isinstance(choice, dict) else None
    if not isinstance(choice, dict) or not isinstance(message, dict):
        raise ProviderError("response has no choices", kind="malformed", retryable=True)
    tokens_in, tokens_out, read, write = _common.usage_counts(reply.get("usage"))
    calls = [
        {
            "id": call.get("id"),
            "name": function.get("name"),
            "arguments": _arguments(function.get("arguments")),
        }
        for call in message.get("tool_calls") or []
        if isinstance(call, dict) and isinstance(function := call.get("function"), dict)
    ]
    return Completion(
        text=message.get("content") or "",
        tool_calls=calls,
        input_tokens=tokens_in,
        output_tokens=tokens_out,
        model=reply.get("model") or "",
        finish_reason=choice.get("finish_reason"),
        cache_read_tokens=read,
        cache_write_tokens=write,
    )


def _arguments(raw: Any) -> Any:
    """Parsed tool-call arguments; the raw text when the model sent something not JSON (the
    tool checks then fail the call, naming it, instead of the case erroring)."""
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _openai_turn(m: Any) -> dict[str, Any]:
    """A neutral turn on the Chat Completions wire (tool calls carry JSON-string arguments)."""
    if m["role"] == "tool":
        return {"role": "tool", "tool_call_id": m["tool_call_id"], "content": m["content"]}
    if m["role"] == "assistant" and m.get("tool_calls"):
        return {
            "role": "assistant",
            "content": m["content"] or None,
            "tool_calls": [
                {
                    "id": c["id"],
                    "type": "function",
                    "function": {
                        "name": c["name"],
                        "arguments": c["arguments"]
                        if isinstance(c["arguments"], str)
                        else json.dumps(c["arguments"]),
                    },
                }
                for c in m["tool_calls"]
            ],
        }
    return {"role": m["role"], "content": m["content"]}
