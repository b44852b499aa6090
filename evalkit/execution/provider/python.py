"""``provider: python``: the system under test is a Python callable named ``module:function``.

Calling convention (chosen so the simplest function works and richer ones opt in by name):

* ``def answer(messages, params)``: the default, called positionally with the rendered chat
  messages (``[{"role", "content"}]``) and the params dict;
* a function whose parameters are all named among ``messages``, ``params``, ``vars``,
  ``ctx`` and ``tools`` gets exactly those, by keyword: ``vars`` is the case's template
  variables (for a pipeline that wants the raw question, not a rendered prompt), ``ctx`` the
  :class:`~evalkit.model.provider.CallContext` (case id, prompt version, repeat), ``tools``
  the case's tool definitions (``[{name, description, parameters}]``) in a conversation case.

It may be sync (run in a worker thread so it cannot stall the event loop) or async, and
returns either a ``str`` or a dict ``{"text", "input_tokens", "output_tokens"}`` (optionally
``model`` and ``finish_reason``). In a conversation case the dict may hold ``tool_calls``:
``[{"name", "arguments"}]`` asks evalkit to run those tools and call again with their results
(the turns in ``messages`` then include them); a call that carries a ``result`` was run by the
system itself (an agent with its own loop returning its trajectory) and is only recorded.
An exception it raises becomes a non-retryable ``ProviderError(kind="callable")``: it is a
bug in the callable, and retrying would repeat it.
A callable that raises :class:`ProviderError` itself decides its own kind and retryability.
A timeout is not retried either: a sync function's thread cannot be stopped, so retrying would
pile up threads.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evalkit.base.exceptions import InputError, ProviderError
from evalkit.base.imports import import_object
from evalkit.base.redact import redact
from evalkit.model.provider import CallContext, Completion, Message, TargetSpec

_NAMED = frozenset({"messages", "params", "vars", "ctx", "tools"})


def load_callable(target: str, base_dir: str | Path | None = None) -> Callable[..., Any]:
    """Import ``module:function`` with the project directory importable, or raise InputError."""
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise InputError(f"expected 'module:function', got {target!r}", field="target.callable")
    try:
        obj = import_object(target, Path(base_dir) if base_dir else Path.cwd())
    except ValueError as exc:
        raise InputError(str(exc), field="target.callable") from None
    if not callable(obj):
        raise InputError(f"{target!r} is not callable", field="target.callable")
    return obj  # type: ignore[no-any-return]


def _named_parameters(fn: Callable[..., Any], target: str) -> tuple[str, ...] | None:
    """Keyword names to pass, or None for the positional ``(messages, params)`` convention."""
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):  # builtins without a signature: assume the default
        return None
    plain = [p for p in parameters if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    names = {p.name for p in plain}
    if plain and names <= _NAMED:
        return tuple(p.name for p in plain)
    positional = [p for p in plain if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    takes_varargs = any(p.kind == p.VAR_POSITIONAL for p in parameters)
    required = [p for p in plain if p.default is p.empty]
    if (len(positional) >= 2 or takes_varargs) and len(required) <= 2:
        return None
    raise InputError(
        f"{target!r} must accept (messages, params) or parameters named among "
        "messages, params, vars, ctx, tools",
        field="target.callable",
    )


class PythonProvider:
    """Calls a user function in-process; see the module docstring for the convention."""

    name = "python"

    def __init__(self, spec: TargetSpec) -> None:
        if not spec.callable:
            raise InputError("provider 'python' needs 'callable: module:function'", field="target")
        self._spec = spec
        self._fn = load_callable(spec.callable, spec.project_dir)
        self._named = _named_parameters(self._fn, spec.callable)
        call = getattr(self._fn, "__call__", None)  # noqa: B004 (async callable objects)
        self._is_async = inspect.iscoroutinefunction(self._fn) or inspect.iscoroutinefunction(call)

    async def prepare(self) -> None:
        """Nothing to warm up: the callable was imported when the provider was built."""

    async def complete(
        self, messages: list[Message], params: dict[str, Any], ctx: CallContext
    ) -> Completion:
        """Run the callable once under the target's timeout."""
        return await self._call(list(messages), None, params, ctx)

    async def complete_tools(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        params: dict[str, Any],
        ctx: CallContext,
    ) -> Completion:
        """One turn of a conversation: the callable sees the turns so far and the tools."""
        return await self._call(messages, tools, params, ctx)

    async def _call(
        self,
        messages: list[Any],
        tools: list[dict[str, Any]] | None,
        params: dict[str, Any],
        ctx: CallContext,
    ) -> Completion:
        merged = {**self._spec.params, **params}
        if self._named is None:
            args: tuple[Any, ...] = (messages, merged)
            kwargs: dict[str, Any] = {}
        else:
            available = {
                "messages": messages,
                "params": merged,
                "vars": ctx.variables,
                "ctx": ctx,
                "tools": tools or [],
            }
            args, kwargs = (), {name: available[name] for name in self._named}
        try:
            if self._is_async:
                result = await asyncio.wait_for(self._fn(*args, **kwargs), self._spec.timeout)
            else:
                call = asyncio.to_thread(self._fn, *args, **kwargs)
                result = await asyncio.wait_for(call, self._spec.timeout)
        except ProviderError:
            raise
        except asyncio.TimeoutError:
            raise ProviderError(
                f"callable did not return within {self._spec.timeout:g} s", kind="timeout"
            ) from None
        except Exception as exc:
            raise ProviderError(redact(f"{type(exc).__name__}: {exc}"), kind="callable") from exc
        return _completion(result, self._spec.model)

    async def aclose(self) -> None:
        """Nothing to release: the callable owns its own resources."""


def _completion(result: Any, model: str) -> Completion:
    if isinstance(result, str):
        return Completion(text=result, model=model)
    if isinstance(result, dict) and isinstance(result.get("text"), str):
        try:
            return Completion(
                text=result["text"],
                input_tokens=int(result.get("input_tokens") or 0),
                output_tokens=int(result.get("output_tokens") or 0),
                model=str(result.get("model") or model),
                finish_reason=result.get("finish_reason"),
                tool_calls=_tool_calls(result.get("tool_calls")),
            )
        except (TypeError, ValueError):
            pass
    raise ProviderError(
        "callable must return a str or a dict with a str 'text', integer token counts and "
        f"'tool_calls' as [{{name, arguments}}], got {_shape(result)}",
        kind="callable",
    )


def _shape(result: Any) -> str:
    if isinstance(result, dict):
        return "a dict with keys " + ", ".join(sorted(map(str, result)))
    return type(result).__name__


def _tool_calls(raw: Any) -> list[dict[str, Any]]:
    """``tool_calls`` of a callable's reply, each with an id; a ValueError when malformed."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValueError("tool_calls must be a list")
    calls: list[dict[str, Any]] = []
    for index, call in enumerate(raw):
        if not isinstance(call, dict) or not isinstance(call.get("name"), str):
            raise ValueError("each tool call needs a str 'name'")
        out = {
            "id": str(call.get("id") or f"py_{index}"),
            "name": call["name"],
            "arguments": call.get("arguments", {}),
        }
        if "result" in call:
            out["result"] = call["result"]
            out["is_error"] = bool(call.get("is_error", False))
        calls.append(out)
    return calls
