"""OpenAI Chat Completions through the official async SDK; with ``base_url`` this also covers
every OpenAI-compatible server (vLLM, Ollama, llama.cpp).

The SDK is imported on first use (``import openai`` costs seconds). SDK retries are off
(evalkit's policy owns them) and the timeout is explicit.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, cast

from evalkit.exceptions import ProviderError
from evalkit.provider import _common
from evalkit.provider.base import CallContext, Completion, Message, TargetSpec

if TYPE_CHECKING:
    from openai import AsyncOpenAI

DEFAULT_KEY_ENV = "OPENAI_API_KEY"
#: local OpenAI-compatible servers usually ignore the key, but the SDK insists on one
LOCAL_PLACEHOLDER_KEY = "not-needed"


def make_client(spec: TargetSpec, *, api_key: str | None = None) -> AsyncOpenAI:
    """An ``AsyncOpenAI`` with retries off and the spec's timeout (judges reuse it).

    With a ``base_url`` and no key in the environment a placeholder key is used, since local
    servers need none; against api.openai.com a missing key is an AuthError up front.
    """
    import openai

    env = spec.api_key_env or DEFAULT_KEY_ENV
    if api_key is None and spec.base_url and not spec.api_key_env:
        api_key = _env_key(env) or LOCAL_PLACEHOLDER_KEY
    key = api_key or _common.api_key(env)
    return openai.AsyncOpenAI(
        api_key=key,
        base_url=spec.base_url,
        max_retries=0,
        timeout=spec.timeout,
        http_client=_common.aiohttp_client(openai, spec.timeout),
    )


def _env_key(name: str) -> str | None:
    return os.environ.get(name, "").strip() or None


def map_error(exc: BaseException, *, secret: str | None = None) -> ProviderError:
    """Turn whatever the SDK raised into a classified :class:`ProviderError`."""
    import openai

    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, openai.APITimeoutError) and _common.timed_out(exc):
        return ProviderError("request timed out", kind="timeout", retryable=True)
    if isinstance(exc, openai.APIConnectionError):
        cause = _common.scrub(str(exc.__cause__ or exc), secret)
        return ProviderError(f"connection failed: {cause}", kind="connection", retryable=True)
    if isinstance(exc, openai.APIResponseValidationError | json.JSONDecodeError):
        message = _common.scrub(f"unparseable response body: {exc}", secret)
        return ProviderError(message, kind="malformed", retryable=True)
    if isinstance(exc, openai.APIStatusError):
        headers = exc.response.headers
        return _common.status_error(exc.status_code, str(exc), headers, secret)
    message = _common.scrub(f"{type(exc).__name__}: {exc}", secret)
    return ProviderError(message, kind="other")


class OpenAIProvider:
    """``provider: openai``: messages go through unchanged, params as SDK keywords."""

    name = "openai"

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
        self._client: AsyncOpenAI | None = None
        self._known: frozenset[str] = frozenset()

    def _get_client(self) -> AsyncOpenAI:
        # created on first call, inside the running loop the aiohttp session will belong to
        if self._client is None:
            self._client = make_client(self._spec, api_key=self._api_key)
            self._known = _common.known_params(self._client.chat.completions.create)
        return self._client

    async def prepare(self) -> None:
        """Import the SDK and build the client before the first timed call."""
        self._get_client()

    async def complete(
        self, messages: list[Message], params: dict[str, Any], ctx: CallContext
    ) -> Completion:
        """One request, no retries; errors come back as ProviderError with a kind."""
        client = self._get_client()
        kwargs, extra_body = _common.split_params(self._known, {**self._spec.params, **params})
        if extra_body:
            kwargs["extra_body"] = extra_body
        if self._send_context:
            kwargs["extra_headers"] = _common.context_headers(ctx)
        secret = client.api_key
        try:
            reply = await client.chat.completions.create(
                model=self._spec.model, messages=cast(Any, messages), **kwargs
            )
        except Exception as exc:
            raise map_error(exc, secret=secret) from exc
        return _completion(reply)

    async def aclose(self) -> None:
        """Close the HTTP session (an unclosed one prints "Event loop is closed" at exit)."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()


def _completion(reply: Any) -> Completion:
    choices = getattr(reply, "choices", None)
    if not isinstance(choices, list) or not choices or getattr(choices[0], "message", None) is None:
        raise ProviderError("response has no choices", kind="malformed", retryable=True)
    choice = choices[0]
    usage = getattr(reply, "usage", None)  # local servers may omit it
    return Completion(
        text=choice.message.content or "",
        input_tokens=(usage.prompt_tokens or 0) if usage else 0,
        output_tokens=(usage.completion_tokens or 0) if usage else 0,
        model=getattr(reply, "model", "") or "",
        finish_reason=choice.finish_reason,
    )
