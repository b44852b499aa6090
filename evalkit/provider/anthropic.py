"""Anthropic Messages API through the official async SDK.

The SDK is imported on first use, not at module import, because ``import anthropic`` costs
seconds and ``evalkit --help`` must stay fast. SDK retries are off (evalkit's policy in
:mod:`evalkit.provider.retry` owns them) and the timeout is explicit (the SDK default is 600 s).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from evalkit.exceptions import ProviderError
from evalkit.provider import _common
from evalkit.provider.base import CallContext, Completion, Message, TargetSpec

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic

DEFAULT_KEY_ENV = "ANTHROPIC_API_KEY"
#: the Messages API requires max_tokens; used when params do not set it
DEFAULT_MAX_TOKENS = 1024


def make_client(spec: TargetSpec, *, api_key: str | None = None) -> AsyncAnthropic:
    """An ``AsyncAnthropic`` with retries off and the spec's timeout (judges reuse it)."""
    import anthropic

    key = api_key or _common.api_key(spec.api_key_env or DEFAULT_KEY_ENV)
    return anthropic.AsyncAnthropic(
        api_key=key,
        base_url=spec.base_url,
        max_retries=0,
        timeout=spec.timeout,
        http_client=_common.aiohttp_client(anthropic, spec.timeout),
    )


def map_error(exc: BaseException, *, secret: str | None = None) -> ProviderError:
    """Turn whatever the SDK raised into a classified :class:`ProviderError`."""
    import anthropic

    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, anthropic.APITimeoutError) and _common.timed_out(exc):
        return ProviderError("request timed out", kind="timeout", retryable=True)
    if isinstance(exc, anthropic.APIConnectionError):
        cause = _common.scrub(str(exc.__cause__ or exc), secret)
        return ProviderError(f"connection failed: {cause}", kind="connection", retryable=True)
    if isinstance(exc, anthropic.APIResponseValidationError | json.JSONDecodeError):
        message = _common.scrub(f"unparseable response body: {exc}", secret)
        return ProviderError(message, kind="malformed", retryable=True)
    if isinstance(exc, anthropic.APIStatusError):
        headers = exc.response.headers
        return _common.status_error(exc.status_code, str(exc), headers, secret)
    message = _common.scrub(f"{type(exc).__name__}: {exc}", secret)
    return ProviderError(message, kind="other")


class AnthropicProvider:
    """``provider: anthropic``: system messages go to ``system=``, the rest are the turns."""

    name = "anthropic"

    def __init__(
        self,
        spec: TargetSpec,
        *,
        api_key: str | None = None,
        send_context_headers: bool = False,
    ) -> None:
        self._spec = spec
        self._api_key = api_key
        self._send_context = send_context_headers
        self._client: AsyncAnthropic | None = None
        self._known: frozenset[str] = frozenset()

    def _get_client(self) -> AsyncAnthropic:
        # created on first call, inside the running loop the aiohttp session will belong to
        if self._client is None:
            self._client = make_client(self._spec, api_key=self._api_key)
            self._known = _common.known_params(self._client.messages.create)
        return self._client

    async def prepare(self) -> None:
        """Import the SDK and build the client before the first timed call."""
        self._get_client()

    async def complete(
        self, messages: list[Message], params: dict[str, Any], ctx: CallContext
    ) -> Completion:
        """One request, no retries; errors come back as ProviderError with a kind."""
        client = self._get_client()
        merged = {**self._spec.params, **params}
        merged.setdefault("max_tokens", DEFAULT_MAX_TOKENS)
        if "stop" in merged:
            stop = merged.pop("stop")
            merged["stop_sequences"] = [stop] if isinstance(stop, str) else stop
        kwargs, extra_body = _common.split_params(self._known, merged)
        system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
        turns: list[Any] = [
            {"role": m["role"], "content": m["content"]} for m in messages if m["role"] != "system"
        ]
        if system:
            kwargs["system"] = system
        if extra_body:
            kwargs["extra_body"] = extra_body
        if self._send_context:
            kwargs["extra_headers"] = _common.context_headers(ctx)
        secret = client.api_key
        try:
            reply = await client.messages.create(model=self._spec.model, messages=turns, **kwargs)
        except Exception as exc:
            raise map_error(exc, secret=secret) from exc
        return _completion(reply)

    async def aclose(self) -> None:
        """Close the HTTP session (an unclosed one prints "Event loop is closed" at exit)."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()


def _completion(reply: Any) -> Completion:
    content = getattr(reply, "content", None)
    usage = getattr(reply, "usage", None)
    if not isinstance(content, list) or usage is None:
        raise ProviderError(
            "response is not an Anthropic message", kind="malformed", retryable=True
        )
    text = "".join(block.text for block in content if getattr(block, "type", None) == "text")
    return Completion(
        text=text,
        input_tokens=usage.input_tokens or 0,
        output_tokens=usage.output_tokens or 0,
        model=reply.model or "",
        finish_reason=reply.stop_reason,
    )
