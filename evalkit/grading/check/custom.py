"""Custom checks in the user's own Python: ``{type: python, function: mod:fn}`` and ``@check``.

One calling convention for both: ``fn(output, case, **params)``, where ``output`` is the model's
text, ``case`` the golden :class:`~evalkit.model.golden.Case` (``case.expected``, ``case.context``,
``case.vars``) and ``params`` the check's extra parameters from the config. A function that also
declares a parameter named ``ctx`` receives the full :class:`CheckContext` (latency, cost,
tokens) as that keyword.

It may return ``bool``; a score ``float`` in [0, 1] (pass when >= 0.5, or set ``threshold``);
a ``(bool | float, reason)`` tuple; or a :class:`~evalkit.model.outcome.CheckResult`. Raising is an
*error* outcome (the check could not grade), never a fail.

The function is imported and its parameters checked against the config when it loads, so a
typo in a name or parameter is a file:line error. User modules holding ``@check`` functions are
imported with :func:`load_plugins` (from the ``plugins:`` list of evalkit.yaml).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, overload

from pydantic import (
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from evalkit.base.imports import import_module, import_object
from evalkit.grading.check.base import (
    REGISTRY,
    CannotGrade,
    Check,
    CheckContext,
    context_base_dir,
    register,
    verdict,
)
from evalkit.model.outcome import CheckResult

CheckFn = Callable[..., Any]
_RESERVED = frozenset(Check.model_fields) | {"ctx", "function"}


def to_result(name: str, value: Any) -> CheckResult:
    """Normalise whatever a user function returned into a :class:`CheckResult`."""
    reason = ""
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], str):
        value, reason = value
    if isinstance(value, CheckResult):
        return value.model_copy(update={"name": name})
    if isinstance(value, bool):
        return verdict(name, value, reason or ("returned True" if value else "returned False"))
    if isinstance(value, (int, float)):
        score = float(value)
        if not 0.0 <= score <= 1.0:
            raise CannotGrade(f"returned score {score} outside [0, 1]")
        return verdict(name, score >= 0.5, reason or f"returned score {score:.3f}", score=score)
    if inspect.isawaitable(value):
        close = getattr(value, "close", None)
        if callable(close):
            close()
        raise CannotGrade("check functions must be synchronous (returned an awaitable)")
    raise CannotGrade(
        f"returned {type(value).__name__}; expected bool, float, (bool, reason) or CheckResult"
    )


def _wants_ctx(fn: CheckFn) -> bool:
    try:
        return "ctx" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _call(fn: CheckFn, wants_ctx: bool, ctx: CheckContext, params: dict[str, Any]) -> Any:
    if wants_ctx:
        return fn(ctx.output, ctx.case, ctx=ctx, **params)
    return fn(ctx.output, ctx.case, **params)


@register("python")
class PythonCheck(Check):
    """Grade with your own function: ``fn(output, case, **params)``; other keys become params.

    See :mod:`evalkit.grading.check.custom` for what the function may return.
    """

    model_config = ConfigDict(extra="allow")
    example = (
        '- {type: python, function: "support_checks:mentions_order_id"}\n'
        '- {type: python, function: "support_checks:max_sentences", limit: 4}'
    )
    no_template = frozenset({"function"})
    function: str = Field(description="the function, as `module:function`")
    _fn: CheckFn = PrivateAttr()
    _ctx: bool = PrivateAttr(default=False)

    @field_validator("function")
    @classmethod
    def _importable(cls, value: str, info: ValidationInfo) -> str:
        if not callable(import_object(value, context_base_dir(info))):
            raise ValueError(f"{value!r} is not callable")
        return value

    @model_validator(mode="after")
    def _bind(self, info: ValidationInfo) -> PythonCheck:
        self._fn = import_object(self.function, context_base_dir(info))
        self._ctx = _wants_ctx(self._fn)
        params = dict(self.model_extra or {})
        try:
            extra = {"ctx": None} if self._ctx else {}
            inspect.signature(self._fn).bind("output", None, **extra, **params)
        except TypeError as exc:
            raise ValueError(f"{self.function} does not accept these parameters: {exc}") from None
        except ValueError:
            pass  # builtins without a signature: checked when called
        return self

    def run(self, ctx: CheckContext) -> CheckResult:
        value = _call(self._fn, self._ctx, ctx, dict(self.model_extra or {}))
        return to_result(self.display_name, value)


class _FunctionCheck(Check):
    """Base of checks made by :func:`check`: the fields are the function's keyword params."""

    function: typing.ClassVar[CheckFn]
    wants_ctx: typing.ClassVar[bool] = False
    param_names: typing.ClassVar[tuple[str, ...]] = ()

    def run(self, ctx: CheckContext) -> CheckResult:
        params = {name: getattr(self, name) for name in self.param_names}
        params.update(self.model_extra or {})
        value = _call(type(self).function, self.wants_ctx, ctx, params)
        return to_result(self.display_name, value)


class _FunctionCheckExtra(_FunctionCheck):
    model_config = ConfigDict(extra="allow")


@overload
def check(fn: CheckFn, /) -> CheckFn: ...
@overload
def check(name: str | None = None, /) -> Callable[[CheckFn], CheckFn]: ...


def check(arg: CheckFn | str | None = None, /) -> CheckFn | Callable[[CheckFn], CheckFn]:
    """Register ``fn(output, case, **params)`` as a check type usable by name in evalkit.yaml.

    ``@check`` names it after the function (underscores become dashes); ``@check("name")``
    names it explicitly. Keyword parameters become validated check parameters (their
    annotations and defaults apply; no default = required); a ``**kwargs`` accepts any extra.
    The function itself is returned unchanged, so it stays callable in tests.
    """
    if callable(arg):
        return _register_function(arg, None)

    def deco(fn: CheckFn) -> CheckFn:
        return _register_function(fn, arg)

    return deco


def _register_function(fn: CheckFn, name: str | None) -> CheckFn:
    type_name = name or fn.__name__.replace("_", "-")
    signature = inspect.signature(fn)
    params = list(signature.parameters.values())
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) < 2:
        raise TypeError(f"check function {fn.__qualname__} must take (output, case, ...)")
    hints = typing.get_type_hints(fn)
    fields: dict[str, Any] = {}
    extra = False
    for param in params[2:]:
        if param.kind is param.VAR_KEYWORD:
            extra = True
            continue
        if param.name == "ctx":
            continue
        if param.kind is param.VAR_POSITIONAL:
            continue
        if param.name in _RESERVED:
            raise TypeError(f"check parameter name {param.name!r} is reserved by evalkit")
        default = ... if param.default is param.empty else param.default
        fields[param.name] = (hints.get(param.name, Any), default)
    existing = REGISTRY.get(type_name)
    if existing is not None and issubclass(existing, _FunctionCheck):
        same = existing.function
        if (same.__module__, same.__qualname__) == (fn.__module__, fn.__qualname__):
            del REGISTRY[type_name]  # the same function re-imported (reload, tests)
    model = create_model(
        "".join(part.title() for part in type_name.replace("_", "-").split("-")) + "Check",
        __base__=_FunctionCheckExtra if extra else _FunctionCheck,
        __module__=fn.__module__,
        __doc__=inspect.getdoc(fn) or f"Custom check {fn.__qualname__}.",
        **fields,
    )
    model.function = staticmethod(fn)
    model.wants_ctx = "ctx" in signature.parameters
    model.param_names = tuple(fields)
    register(type_name)(model)
    return fn


def load_plugins(modules: list[str], base_dir: Path | None = None) -> list[str]:
    """Import modules holding ``@check`` functions; returns the check types they added.

    ``ValueError`` (with a readable reason) when a module cannot be imported.
    """
    before = set(REGISTRY)
    for module in modules:
        import_module(module, base_dir or Path.cwd())
    return sorted(set(REGISTRY) - before)


__all__ = ["PythonCheck", "check", "load_plugins", "to_result"]
