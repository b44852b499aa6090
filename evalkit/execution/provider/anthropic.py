"""Anthropic Messages API through the official async SDK.

The SDK is imported on first use, not at module import, because ``import anthropic`` costs
seconds and ``evalkit --help`` must stay fast. SDK retries are off (evalkit's policy in
:mod:`evalkit.execution.provider.retry` owns them) and the timeout is explicit (the SDK default is
600 s).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from evalkit.base.exceptions import ProviderError
from evalkit.execution.provider import _common
from evalkit.execution.provider._sdk import SDKProvider, map_sdk_error
from evalkit.model.provider import Completion, Message, TargetSpec

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic

DEFAULT_KEY_ENV = "ANTHROPIC_API_KEY"
#: the Messages API requires max_tokens; used when params do not set it
DEFAULT_MAX_TOKENS = 1024


def make_client(spec: TargetSpec, *, api_key: str | None = None) -> AsyncAnthropic:
    """An ``AsyncAnthropic`` with retries off and the spec's timeout (judges reuse it).

    A local ``base_url`` (loopback or private address) or ``api_key: none`` needs no key.
    """
    import anthropic

    key = api_key or _common.resolve_key(spec, DEFAULT_KEY_ENV)
    more: dict[str, Any] = {}
    if _traces_go_nowhere(anthropic.AsyncAnthropic):
        more["open_telemetry"] = False
    return anthropic.AsyncAnthropic(
        api_key=key,
        base_url=spec.base_url,
        max_retries=0,
        timeout=spec.timeout,
        http_client=_common.aiohttp_client(anthropic, spec.timeout),
        **more,
    )


def _traces_go_nowhere(client_class: type) -> bool:
    """Whether to turn the SDK's OpenTelemetry spans off: yes when no tracer provider is set
    up (nor named by ``OTEL_*`` / ``ANTHROPIC_OPEN_TELEMETRY*`` variables, which stay the
    user's), since the SDK then still builds every request's span attributes for a no-op
    tracer, about 6% of its CPU per request. A provider set up before the run gets its spans.
    """
    if any(name.startswith(("OTEL_", "ANTHROPIC_OPEN_TELEMETRY")) for name in os.environ):
        return False
    if "open_telemetry" not in inspect.signature(client_class).parameters:
        return False  # an SDK from before the option
    try:
        from opentelemetry import trace
    except ImportError:
        return True
    return isinstance(
        trace.get_tracer_provider(), trace.ProxyTracerProvider | trace.NoOpTracerProvider
    )


def map_error(exc: BaseException, *, secret: str | None = None) -> ProviderError:
    """Turn whatever the SDK raised into a classified :class:`ProviderError`."""
    import anthropic

    return map_sdk_error(anthropic, exc, secret)


class AnthropicProvider(SDKProvider):
    """``provider: anthropic``: system messages go to ``system=``, the rest are the turns."""

    name = "anthropic"

    def _make_client(self) -> AsyncAnthropic:
        return make_client(self._spec, api_key=self._api_key)

    def _create(self, client: Any) -> Callable[..., Awaitable[Any]]:
        create: Callable[..., Awaitable[Any]] = client.messages.create
        return create

    def _fields(self, messages: list[Message]) -> dict[str, Any]:
        fields: dict[str, Any] = {"messages": anthropic_turns(messages)}
        system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
        if system:
            fields["system"] = system
        return fields

    def _tool_fields(self, tools: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "tools": [
                {
                    "name": t["name"],
                    "description": t["description"],
                    "input_schema": t["parameters"],
                }
                for t in tools
            ]
        }

    def _wire_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """max_tokens is required by the Messages API; ``stop`` is ``stop_sequences`` there."""
        wire = dict(params)
        wire.setdefault("max_tokens", DEFAULT_MAX_TOKENS)
        if "stop" in wire:
            stop = wire.pop("stop")
            wire["stop_sequences"] = [stop] if isinstance(stop, str) else stop
        return wire

    def _map_error(self, exc: BaseException, secret: str | None) -> ProviderError:
        return map_error(exc, secret=secret)

    def _completion(self, reply: Any) -> Completion:
        return _completion(reply)


def _completion(reply: Any) -> Completion:
    """A Messages API reply's JSON as a Completion: its text blocks joined, its tool_use blocks
    as tool calls."""
    content = reply.get("content") if isinstance(reply, dict) else None
    usage = reply.get("usage") if isinstance(reply, dict) else None
    blocks = content if isinstance(content, list) else []
    if (
        not isinstance(content, list)
        or not isinstance(usage, dict)
        or not all(isinstance(block, dict) for block in blocks)
    ):
        raise _malformed("response is not an Anthropic message")
    texts = [block.get("text") for block in blocks if block.get("type") == "text"]
    if not all(isinstance(text, str) for text in texts):
        raise _malformed("a text block of the response has no text")
    calls = [
        {"id": block.get("id"), "name": block.get("name"), "arguments": block.get("input")}
        for block in blocks
        if block.get("type") == "tool_use"
    ]
    tokens_in, tokens_out, read, write = _common.usage_counts(usage)
    return Completion(
        text="".join(texts),
        tool_calls=calls,
        input_tokens=tokens_in,
        output_tokens=tokens_out,
        model=reply.get("model") or "",
        finish_reason=reply.get("stop_reason"),
        cache_read_tokens=read,
        cache_write_tokens=write,
    )


def _malformed(message: str) -> ProviderError:
    return ProviderError(message, kind="malformed", retryable=True)


def anthropic_turns(messages: list[Any]) -> list[dict[str, Any]]:
    """Neutral turns as Messages API turns: tool calls become ``tool_use`` blocks of the
    assistant turn, and the tool turns answering them one user turn of ``tool_result`` blocks
    (the API wants every result of a turn in the next user message)."""
    out: list[dict[str, Any]] = []
    for m in messages:
        role = m["role"]
        if role == "system":
            continue
        if role == "tool":
            block: dict[str, Any] = {
                "type": "tool_result",
                "tool_use_id": m["tool_call_id"],
                "content": m["content"],
            }
            if m.get("is_error"):
                block["is_error"] = True
            last = out[-1] if out else None
            if last and last["role"] == "user" and isinstance(last["content"], list):
                last["content"].append(block)
            else:
                out.append({"role": "user", "content": [block]})
        elif role == "assistant" and m.get("tool_calls"):
            blocks: list[dict[str, Any]] = (
                [{"type": "text", "text": m["content"]}] if m["content"] else []
            )
            blocks += [
                {"type": "tool_use", "id": c["id"], "name": c["name"], "input": c["arguments"]}
                for c in m["tool_calls"]
            ]
            out.append({"role": "assistant", "content": blocks})
        else:
            out.append({"role": role, "content": m["content"]})
    return out
