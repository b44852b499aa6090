"""What the HTTP providers share: error classification, retry-after, keys, headers, params.

Both SDKs raise the same families of errors (status, timeout, connection, bad body); the
mapping from an HTTP status to evalkit's error ``kind`` lives here once so the two providers
cannot drift apart. Nothing here imports an SDK.
"""

from __future__ import annotations

import asyncio
import email.utils
import inspect
import ipaddress
import os
import re
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from evalkit.base.exceptions import AuthError, ProviderError
from evalkit.base.redact import redact
from evalkit.model.provider import CallContext, TargetSpec

#: headers the scripted server reads to answer per case and prompt version
CONTEXT_HEADERS = {
    "case": "x-evalkit-case",
    "prompt_version": "x-evalkit-prompt-version",
    "prompt_label": "x-evalkit-prompt-label",
    "repeat": "x-evalkit-repeat",
    "purpose": "x-evalkit-purpose",
}

_RESERVED = frozenset(
    {"model", "messages", "system", "stream", "timeout"}
    | {"extra_headers", "extra_query", "extra_body"}
)


def scrub(text: str, secret: str | None) -> str:
    """Redact known key shapes and the exact key in use (it may come from any env var)."""
    if secret:
        text = text.replace(secret, "[REDACTED]")
    return redact(text)


def env_key(env_name: str) -> str | None:
    """The key in ``env_name``, or None when unset or blank."""
    return os.environ.get(env_name, "").strip() or None


def api_key(env_name: str) -> str:
    """The key from the environment, or an AuthError naming the variable to set."""
    value = env_key(env_name)
    if not value:
        raise AuthError(
            f"{env_name} is not set; export it or name another variable with target.api_key_env",
            kind="auth",
        )
    return value


#: what is sent where no key is needed (the SDKs insist on one)
LOCAL_PLACEHOLDER_KEY = "not-needed"


def is_local(base_url: str | None) -> bool:
    """Whether ``base_url`` points at this machine or a private network (a local server such
    as llama-server, Ollama or vLLM, which needs no API key)."""
    if not base_url:
        return False
    host = (urlsplit(base_url).hostname or "").lower()
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


def resolve_key(spec: TargetSpec, default_env: str) -> str:
    """The API key for ``spec``: from its env var; a placeholder for ``api_key: none`` or a
    local ``base_url`` without one; else an AuthError naming the variable to set."""
    env = spec.api_key_env or default_env
    if spec.no_api_key:
        return LOCAL_PLACEHOLDER_KEY
    value = env_key(env)
    if value:
        return value
    if is_local(spec.base_url):
        return LOCAL_PLACEHOLDER_KEY
    return api_key(env)


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date)."""
    if not headers:
        return None
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


#: what servers say when the prompt does not fit (OpenAI, Anthropic, llama-server, vLLM)
_CONTEXT_RE = re.compile(
    r"context[_ ]length|context (size|window)|maximum context|prompt is too long"
    r"|too many tokens|exceeds? the (available )?context",
    re.IGNORECASE,
)


def server_message(body: Any, fallback: str) -> str:
    """The server's own error message out of a JSON error body (either wire's envelope, or
    llama-server's ``{"error": {"code", "message", "type"}}``), else ``fallback``."""
    error = body.get("error", body) if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    if isinstance(error, str):
        return error
    return fallback


#: HTTP status -> (kind, retried by default); other 5xx are ``server`` errors, retried
_STATUS_KINDS: dict[int, tuple[str, bool]] = {
    429: ("rate_limit", True),
    529: ("overloaded", True),
    503: ("unavailable", True),
    408: ("timeout", True),
    404: ("not_found", False),
    413: ("too_large", False),
    422: ("unprocessable", False),
}


def status_error(
    status: int, message: str, headers: Mapping[str, str] | None, secret: str | None
) -> ProviderError:
    """Classify an HTTP error status; ``x-should-retry`` from the server overrides the default.

    Kinds real servers send, named in reports: ``context_length`` (a 400 whose message says
    the prompt does not fit), ``too_large`` (413), ``unprocessable`` (422), ``unavailable``
    (503, e.g. llama-server still loading its model; retried after its ``retry-after``).
    """
    text = scrub(message, secret)
    if status in (401, 403):
        return AuthError(text, kind="auth", status=status)
    if status == 400:
        kind = "context_length" if _CONTEXT_RE.search(message) else "bad_request"
        retryable = False
    elif status in _STATUS_KINDS:
        kind, retryable = _STATUS_KINDS[status]
    elif status >= 500:
        kind, retryable = "server", True
    else:
        kind, retryable = "other", status == 409
    hint = (headers or {}).get("x-should-retry")
    if hint in ("true", "false"):
        retryable = hint == "true"
    wait = retry_after(headers) if retryable else None
    return ProviderError(text, kind=kind, status=status, retryable=retryable, retry_after=wait)


def timed_out(exc: BaseException) -> bool:
    """Whether an SDK timeout error really was one.

    openai's vendored aiohttp transport reports a refused or dropped connection as
    ``APITimeoutError`` (``ConnectTimeout``); calling that a timeout would send users looking
    for a slow server instead of a dead one. A real timeout has a ``TimeoutError`` in its chain.
    """
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        if isinstance(link, TimeoutError | asyncio.TimeoutError):
            return True
        seen.add(id(link))
        link = link.__cause__ or link.__context__
    return False


def context_headers(ctx: CallContext) -> dict[str, str]:
    """CallContext as percent-encoded headers (case ids may hold any character)."""
    values = {
        "case": ctx.case_id,
        "prompt_version": ctx.prompt_version,
        "prompt_label": ctx.prompt_label,
        "repeat": str(ctx.repeat),
        "purpose": ctx.purpose,
    }
    return {
        CONTEXT_HEADERS[name]: quote(value, safe="")
        for name, value in values.items()
        if value is not None
    }


def known_params(create: Callable[..., Any]) -> frozenset[str]:
    """Keyword names an SDK method accepts, minus those evalkit sets itself (computed once)."""
    return frozenset(inspect.signature(create).parameters) - _RESERVED


def split_params(
    known: frozenset[str], params: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Params the SDK method names go in as keywords; the rest travel in ``extra_body``.

    Users write params once in ``evalkit.yaml``; an OpenAI-compatible server may accept fields
    the SDK does not know (``top_k``, ``repetition_penalty``), which must not be a TypeError.
    """
    kwargs = {k: v for k, v in params.items() if k in known}
    extra = {k: v for k, v in params.items() if k not in known}
    return kwargs, extra


def usage_counts(usage: Any) -> tuple[int, int, int, int]:
    """``(input, output, cache_read, cache_write)`` tokens of either wire's ``usage``, as JSON
    (a mapping) or as the SDK's object.

    Anthropic reports cached input apart from ``input_tokens`` (``cache_read_input_tokens``,
    ``cache_creation_input_tokens``): all three are input. OpenAI's ``prompt_tokens`` already
    include ``prompt_tokens_details.cached_tokens``. Local servers may omit usage: zeros.
    """
    if usage is None:
        return 0, 0, 0, 0

    def num(obj: Any, name: str) -> int:
        value = field_of(obj, name)
        return int(value) if isinstance(value, int | float) else 0

    if field_of(usage, "prompt_tokens") is not None:
        details = field_of(usage, "prompt_tokens_details")
        cached = num(details, "cached_tokens") if details is not None else 0
        return num(usage, "prompt_tokens"), num(usage, "completion_tokens"), cached, 0
    read = num(usage, "cache_read_input_tokens")
    write = num(usage, "cache_creation_input_tokens")
    return num(usage, "input_tokens") + read + write, num(usage, "output_tokens"), read, write


def field_of(obj: Any, name: str) -> Any:
    """``name`` of a reply part, as JSON (a mapping) or as the SDK's object; None if absent."""
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def reply_json(reply: Any) -> Any:
    """A reply as its JSON value: the SDK's object (a batch result) through its ``to_dict``,
    JSON as it is."""
    to_dict = getattr(reply, "to_dict", None)
    return to_dict() if callable(to_dict) else reply


def aiohttp_client(sdk: Any, timeout: float) -> Any | None:
    """The SDK's aiohttp transport when its extra is installed (faster at high concurrency)."""
    try:
        return sdk.DefaultAioHttpClient(timeout=timeout)
    except (AttributeError, ImportError, RuntimeError):
        return None
