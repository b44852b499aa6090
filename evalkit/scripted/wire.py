"""The two wire formats the scripted server speaks: request parsing and reply/error bodies.

Shapes follow what the real APIs return (see ``reference/README.md``), closely enough that the
official SDKs and instructor parse them: Anthropic ``tool_use`` blocks for forced tool use,
OpenAI ``tool_calls`` with JSON-string arguments, and each API's error envelope.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal

Wire = Literal["anthropic", "openai"]

_ANTHROPIC_ERRORS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    503: "api_error",
    529: "overloaded_error",
}
_OPENAI_ERRORS = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "permission_denied"),
    404: ("invalid_request_error", "not_found"),
    429: ("requests", "rate_limit_exceeded"),
}


@dataclass(frozen=True)
class ParsedRequest:
    """The parts of a request body the script cares about."""

    model: str
    user_text: str
    input_chars: int
    #: "tool" (forced/offered tool use) or "json" (response_format) or None (plain text)
    structured: Literal["tool", "json"] | None = None
    tool_name: str | None = None
    #: ``tool_choice`` was the object form (a named tool), which llama-server ignores
    tool_choice_object: bool = False
    #: ``max_tokens`` (or ``max_completion_tokens``) of the request, if any
    max_tokens: int | None = None
    #: the system prompt's text (a prompt cache keys on it)
    system_text: str = ""
    #: assistant turns in the request + 1 (which turn of a conversation this is)
    turn: int = 1


def parse_request(wire: Wire, body: dict[str, Any]) -> ParsedRequest:
    """Model, user text (for ``contains``), input size (for default usage) and tool wishes."""
    messages = body.get("messages")
    messages = messages if isinstance(messages, list) else []
    texts = [_text_of(m.get("content")) for m in messages if isinstance(m, dict)]
    users = [
        _text_of(m.get("content"))
        for m in messages
        if isinstance(m, dict) and m.get("role") == "user"
    ]
    input_chars = sum(map(len, texts)) + len(_text_of(body.get("system")))
    model = str(body.get("model") or "")
    tools = body.get("tools")
    structured: Literal["tool", "json"] | None = None
    name: str | None = None
    if isinstance(tools, list) and tools:
        structured = "tool"
        name = _tool_name(wire, tools, body.get("tool_choice"))
    elif wire == "openai":
        fmt = body.get("response_format")
        if isinstance(fmt, dict) and fmt.get("type") in ("json_schema", "json_object"):
            structured = "json"
    limit = body.get("max_tokens", body.get("max_completion_tokens"))
    system = _text_of(body.get("system")) + "".join(
        _text_of(m.get("content"))
        for m in messages
        if isinstance(m, dict) and m.get("role") == "system"
    )
    return ParsedRequest(
        model,
        "\n".join(users),
        input_chars,
        structured,
        name,
        tool_choice_object=isinstance(body.get("tool_choice"), dict),
        max_tokens=limit if isinstance(limit, int) and not isinstance(limit, bool) else None,
        system_text=system,
        turn=1 + sum(1 for m in messages if isinstance(m, dict) and m.get("role") == "assistant"),
    )


def _text_of(content: Any) -> str:
    """Plain text of a message content: a string, or text/tool_result blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(_text_of(block) for block in content)
    if isinstance(content, dict):
        if isinstance(content.get("text"), str):
            return str(content["text"])
        return _text_of(content.get("content"))
    return ""


def _tool_name(wire: Wire, tools: list[Any], choice: Any) -> str:
    if wire == "anthropic":
        if isinstance(choice, dict) and choice.get("type") == "tool" and choice.get("name"):
            return str(choice["name"])
        first = tools[0] if isinstance(tools[0], dict) else {}
        return str(first.get("name") or "tool")
    if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        return str(choice["function"].get("name") or "tool")
    first = tools[0] if isinstance(tools[0], dict) else {}
    function = first.get("function")
    name = function.get("name") if isinstance(function, dict) else None
    return str(name or "tool")


def reply_body(
    wire: Wire,
    req: ParsedRequest,
    *,
    text: str | None,
    obj: Any,
    usage: tuple[int, int],
    truncated: bool,
    cache: tuple[int, int] = (0, 0),
    as_tool: bool | None = None,
    tool_calls: list[tuple[str, Any]] | None = None,
) -> dict[str, Any]:
    """A success body: ``obj`` becomes a tool call when the request asked for one (unless
    ``as_tool`` says otherwise); ``tool_calls`` ((name, arguments) pairs) are the model calling
    tools, beside ``text`` if any. ``usage`` is (uncached input, output) tokens and ``cache``
    (read, written) input tokens, reported the way each wire does."""
    if tool_calls:
        return _tool_calls_body(wire, req, text, tool_calls, usage, truncated)
    if as_tool is None:
        as_tool = req.structured == "tool"
    as_tool = as_tool and obj is not None
    content = json.dumps(obj, ensure_ascii=False) if text is None else text
    model = req.model or "scripted"
    input_tokens, output_tokens = usage
    cache_read, cache_write = cache
    if wire == "anthropic":
        block: dict[str, Any] = (
            {"type": "tool_use", "id": _id("toolu_"), "name": req.tool_name, "input": obj}
            if as_tool
            else {"type": "text", "text": content}
        )
        stop = "max_tokens" if truncated else "tool_use" if as_tool else "end_turn"
        anthropic_usage: dict[str, Any] = {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
        }
        if cache_read or cache_write:
            anthropic_usage["cache_read_input_tokens"] = cache_read
            anthropic_usage["cache_creation_input_tokens"] = cache_write
        return {
            "id": _id("msg_"),
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [block],
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": anthropic_usage,
        }
    message: dict[str, Any] = {"role": "assistant", "content": None if as_tool else content}
    if as_tool:
        message["tool_calls"] = [
            {
                "id": _id("call_"),
                "type": "function",
                "function": {"name": req.tool_name, "arguments": content},
            }
        ]
    finish = "length" if truncated else "tool_calls" if as_tool else "stop"
    prompt_tokens = input_tokens + cache_read + cache_write  # OpenAI counts cached input in it
    openai_usage: dict[str, Any] = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": output_tokens,
        "total_tokens": prompt_tokens + output_tokens,
    }
    if cache_read:
        openai_usage["prompt_tokens_details"] = {"cached_tokens": cache_read}
    return {
        "id": _id("chatcmpl-"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": openai_usage,
    }


def _tool_calls_body(
    wire: Wire,
    req: ParsedRequest,
    text: str | None,
    calls: list[tuple[str, Any]],
    usage: tuple[int, int],
    truncated: bool,
) -> dict[str, Any]:
    """The model calling tools: Anthropic ``tool_use`` blocks / OpenAI ``tool_calls``."""
    model = req.model or "scripted"
    tokens_in, tokens_out = usage
    if wire == "anthropic":
        blocks: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
        blocks += [
            {"type": "tool_use", "id": _id("toolu_"), "name": name, "input": args}
            for name, args in calls
        ]
        return {
            "id": _id("msg_"),
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": blocks,
            "stop_reason": "max_tokens" if truncated else "tool_use",
            "stop_sequence": None,
            "usage": {"input_tokens": tokens_in, "output_tokens": tokens_out},
        }
    message = {
        "role": "assistant",
        "content": text or None,
        "tool_calls": [
            {
                "id": _id("call_"),
                "type": "function",
                "function": {
                    "name": name,
                    "arguments": args if isinstance(args, str) else json.dumps(args),
                },
            }
            for name, args in calls
        ],
    }
    choice = {
        "index": 0,
        "message": message,
        "finish_reason": "length" if truncated else "tool_calls",
        "logprobs": None,
    }
    return {
        "id": _id("chatcmpl-"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [choice],
        "usage": {
            "prompt_tokens": tokens_in,
            "completion_tokens": tokens_out,
            "total_tokens": tokens_in + tokens_out,
        },
    }


def error_body(wire: Wire, status: int, message: str) -> dict[str, Any]:
    """An error envelope in the wire's real shape, so the SDK raises its usual exception."""
    if wire == "anthropic":
        kind = _ANTHROPIC_ERRORS.get(status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": message}}
    kind, code = _OPENAI_ERRORS.get(status, ("server_error", None))
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def malformed_body(wire: Wire) -> bytes:
    """A 200 body cut off mid-way, as a broken proxy or a dropped stream would leave it."""
    head = '{"id": "msg_broken", "type": "message", "content": [{"type": "text", "te'
    if wire == "openai":
        head = '{"id": "chatcmpl-broken", "object": "chat.completion", "choices": [{"mess'
    return head.encode()


def _id(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:24]
