"""What the Anthropic and OpenAI providers share: the client's life cycle, error mapping, params.

Both official SDKs are generated from the same toolkit and raise the same exception classes, so
one mapping serves both; each provider supplies only what differs (how a request and a reply
look on its wire).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import Any

from evalkit.base.exceptions import ProviderError
from evalkit.execution.budget import budget_extra, read_budget
from evalkit.execution.provider import _common
from evalkit.model.provider import CallContext, Completion, Message, TargetSpec


def map_sdk_error(sdk: ModuleType, exc: BaseException, secret: str | None) -> ProviderError:
    """Turn whatever ``sdk`` (the anthropic or openai module) raised into a ProviderError."""
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, sdk.APITimeoutError) and _common.timed_out(exc):
        return ProviderError("request timed out", kind="timeout", retryable=True)
    if isinstance(exc, sdk.APIConnectionError):
        cause = _common.scrub(str(exc.__cause__ or exc), secret)
        return ProviderError(f"connection failed: {cause}", kind="connection", retryable=True)
    if isinstance(exc, sdk.APIResponseValidationError | json.JSONDecodeError):
        message = _common.scrub(f"unparseable response body: {exc}", secret)
        return ProviderError(message, kind="malformed", retryable=True)
    if isinstance(exc, sdk.APIStatusError):
        headers = exc.response.headers
        said = _common.server_message(getattr(exc, "body", None), str(exc))
        message = f"HTTP {exc.status_code}: {said}"
        return _common.status_error(exc.status_code, message, headers, secret)
    message = _common.scrub(f"{type(exc).__name__}: {exc}", secret)
    return ProviderError(message, kind="other")


#: keyword arguments of an SDK call that are transport, not part of the request's JSON body
_TRANSPORT = ("extra_headers", "extra_query", "timeout")


def body_of(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The JSON body an SDK call with ``kwargs`` sends: ``extra_body`` merged in, transport
    keywords (headers, query, timeout) left out; a batch request carries just this."""
    body = {k: v for k, v in kwargs.items() if k not in _TRANSPORT and k != "extra_body"}
    return {**body, **(kwargs.get("extra_body") or {})}


def _raw(create: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """The ``with_raw_response`` twin of an SDK method: the same call, with the reply's headers
    (both SDKs offer it on every resource)."""
    raw: Callable[..., Awaitable[Any]] = getattr(
        create.__self__.with_raw_response,  # type: ignore[attr-defined]
        create.__name__,
    )
    return raw


class SDKProvider:
    """Base of the SDK-backed providers. Subclasses implement the four wire-specific hooks."""

    name = ""

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
        self._client: Any = None
        self._known: frozenset[str] = frozenset()

    # -- wire-specific hooks -------------------------------------------------------------
    def _make_client(self) -> Any:
        raise NotImplementedError

    def _create(self, client: Any) -> Callable[..., Awaitable[Any]]:
        """The SDK method that sends one chat request."""
        raise NotImplementedError

    def _fields(self, messages: list[Message]) -> dict[str, Any]:
        """The messages as this wire's keyword arguments (``messages``, ``system``, ...);
        conversation turns (tool calls, tool results) arrive in the neutral shape of
        :mod:`evalkit.model.conversation`."""
        raise NotImplementedError

    def _tool_fields(self, tools: list[dict[str, Any]]) -> dict[str, Any]:
        """``{name, description, parameters}`` tool definitions as this wire's ``tools``."""
        raise NotImplementedError

    def _wire_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """Params in this wire's terms (defaults, renamed keys); as given by default."""
        return params

    def _map_error(self, exc: BaseException, secret: str | None) -> ProviderError:
        raise NotImplementedError

    def _completion(self, reply: Any) -> Completion:
        """The reply's JSON value (as the server sent it) as a Completion; a reply that is not
        this wire's answer raises a ``malformed`` ProviderError."""
        raise NotImplementedError

    # -- shared ---------------------------------------------------------------------------
    def _get_client(self) -> Any:
        # created on first use, inside the running loop the aiohttp session will belong to
        if self._client is None:
            self._client = self._make_client()
            self._known = _common.known_params(self._create(self._client))
        return self._client

    async def prepare(self) -> None:
        """Import the SDK and build the client before the first timed call."""
        self._get_client()

    def client(self) -> Any:
        """The SDK client (retries off, explicit timeout), created on first use; judges wrap
        it with instructor."""
        return self._get_client()

    def request_kwargs(self, params: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        """Everything but the messages for one request: the spec's params with ``params`` over
        them, in this wire's terms; keywords the SDK does not know go in ``extra_body``; the
        call context as headers when this provider sends them."""
        self._get_client()  # the known keywords come from the client's signature
        wire_params = self._wire_params({**self._spec.params, **params})
        kwargs, extra_body = _common.split_params(self._known, wire_params)
        if extra_body:
            kwargs["extra_body"] = extra_body
        if self._send_context:
            kwargs["extra_headers"] = _common.context_headers(ctx)
        return kwargs

    async def complete(
        self, messages: list[Message], params: dict[str, Any], ctx: CallContext
    ) -> Completion:
        """One request, no retries; errors come back as ProviderError with a kind."""
        return await self._send(messages, params, ctx, {})

    async def complete_tools(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        params: dict[str, Any],
        ctx: CallContext,
    ) -> Completion:
        """One turn of a conversation with tools; the reply's ``tool_calls`` are parsed."""
        return await self._send(messages, params, ctx, self._tool_fields(tools) if tools else {})

    async def _send(
        self, messages: list[Any], params: dict[str, Any], ctx: CallContext, extra: dict[str, Any]
    ) -> Completion:
        client = self._get_client()
        kwargs = {**self.request_kwargs(params, ctx), **self._fields(messages), **extra}
        secret = client.api_key
        try:
            raw = await _raw(self._create(client))(model=self._spec.model, **kwargs)
            # the reply's JSON read as it came, not built into the SDK's pydantic reply models:
            # that build was about a sixth of the client's CPU per request
            reply = json.loads(raw.http_response.content)
        except Exception as exc:
            raise self._map_error(exc, secret) from exc
        completion = self._completion(reply)
        # what the rate-limit headers say is left, for the adaptive limiter
        budget = read_budget(raw.headers)
        if budget is not None:
            completion.extra.update(budget_extra(budget))
        return completion

    # -- for batch APIs (evalkit.execution.batch) ------------------------------------------
    def request_body(self, messages: list[Message]) -> dict[str, Any]:
        """One request's JSON body as :meth:`complete` sends it (no context headers)."""
        kwargs = self.request_kwargs({}, CallContext(case_id=""))
        return body_of({"model": self._spec.model, **kwargs, **self._fields(messages)})

    def create_method(self) -> Callable[..., Awaitable[Any]]:
        """The SDK method that sends one chat request (what instructor wraps for judges)."""
        return self._create(self._get_client())

    def completion_of(self, reply: Any) -> Completion:
        """A reply object of this wire (as a batch result holds it) as a Completion."""
        return self._completion(_common.reply_json(reply))

    def error_of(self, exc: BaseException) -> ProviderError:
        """What an SDK exception means, as :meth:`complete` would raise it."""
        client = self._client
        return self._map_error(exc, client.api_key if client is not None else None)

    async def aclose(self) -> None:
        """Close the HTTP session (an unclosed one prints "Event loop is closed" at exit)."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()
