"""The check registry: one pydantic model per check type, negation and templating in one place.

A check is a pydantic model whose fields are its parameters (validated when the config loads,
so `evalkit validate` catches a bad regex before any model is called) and whose ``run`` method
grades one output. ``evaluate`` wraps ``run`` with what every check shares:

* string parameters containing ``{{ … }}`` are rendered per case (``{{ expected }}``),
* a ``threshold`` turns a score into pass/fail,
* ``not-<type>`` negates the outcome (pass <-> fail; error stays error) and the score,
* an exception inside ``run`` becomes an *error* outcome, never a crash or a silent pass.

Adding a check is one class decorated with ``@register("name")`` in a module listed in
``evalkit/check/__init__.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evalkit._template import is_template, render
from evalkit.exceptions import InputError, TemplateError
from evalkit.golden import Case
from evalkit.outcome import CheckResult, Outcome


@dataclass
class CheckContext:
    """What a check can look at: the output, its case and what producing it cost."""

    output: str
    case: Case
    latency_ms: float | None = None
    cost_usd: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    base_dir: Path = field(default_factory=Path.cwd)
    extra: dict[str, Any] = field(default_factory=dict)


class Check(BaseModel):
    """Base of every check. Subclasses add parameter fields and implement :meth:`run`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: registered name, set by :func:`register`
    type_name: ClassVar[str] = ""
    #: parameters that are never rendered as templates (e.g. regex patterns with braces)
    no_template: ClassVar[frozenset[str]] = frozenset()

    type: str
    negate: bool = Field(default=False, description="set by the `not-` prefix")
    weight: float = Field(default=1.0, ge=0, description="weight in a weighted case score")
    threshold: float | None = Field(
        default=None, ge=0, le=1, description="pass when score >= threshold (scored checks)"
    )
    label: str | None = Field(default=None, description="display name in reports")

    @property
    def display_name(self) -> str:
        if self.label:
            return self.label
        return ("not-" if self.negate else "") + self.type_name

    def run(self, ctx: CheckContext) -> CheckResult:  # pragma: no cover - abstract
        raise NotImplementedError

    def _rendered(self, ctx: CheckContext) -> Check:
        """A copy with templated string parameters rendered for ``ctx.case``."""
        updates: dict[str, Any] = {}
        variables: dict[str, Any] | None = None
        for name, value in self:
            if name in self.no_template or name in ("type", "label"):
                continue
            if isinstance(value, str) and is_template(value):
                variables = variables or {**ctx.case.template_vars(), "output": ctx.output}
                updates[name] = render(value, variables)
            elif isinstance(value, list) and any(isinstance(v, str) and is_template(v) for v in value):
                variables = variables or {**ctx.case.template_vars(), "output": ctx.output}
                updates[name] = [render(v, variables) if isinstance(v, str) else v for v in value]
        return self.model_copy(update=updates) if updates else self

    def evaluate(self, ctx: CheckContext) -> CheckResult:
        """Run the check with templating, threshold and negation applied; never raises."""
        name = self.display_name
        try:
            concrete = self._rendered(ctx)
            result = concrete.run(ctx)
        except TemplateError as exc:
            return CheckResult.errored(name, f"could not render check parameters: {exc.message}")
        except Exception as exc:  # a check that crashed could not grade: error, not fail
            return CheckResult.errored(name, f"check raised {type(exc).__name__}: {exc}")
        outcome, score, reason = result.outcome, result.score, result.reason
        if self.threshold is not None and score is not None and outcome is not Outcome.ERROR:
            ok = score >= self.threshold
            outcome = Outcome.PASS if ok else Outcome.FAIL
            reason = f"score {score:.3f} {'>=' if ok else '<'} threshold {self.threshold}; {reason}"
        if self.negate:
            outcome = outcome.negated()
            if score is not None:
                score = 1.0 - score
            reason = f"negated: {reason}"
        return CheckResult(
            name=name,
            outcome=outcome,
            score=score,
            reason=reason,
            weight=self.weight,
            details=result.details,
        )


C = TypeVar("C", bound=type[Check])

#: name -> check class. Built-ins register on import of :mod:`evalkit.check`.
REGISTRY: dict[str, type[Check]] = {}


def register(name: str) -> Callable[[C], C]:
    """Class decorator adding a check type to the registry under ``name``."""

    def deco(cls: C) -> C:
        if name.startswith("not-"):
            raise ValueError("check names may not start with 'not-' (negation is automatic)")
        if name in REGISTRY and REGISTRY[name] is not cls:
            raise ValueError(f"check type {name!r} is already registered")
        cls.type_name = name
        REGISTRY[name] = cls
        return cls

    return deco


def parse_check(
    raw: Any,
    *,
    path: str | Path | None = None,
    line: int | None = None,
    field_prefix: str = "checks",
) -> Check:
    """Validate one check mapping from config into a :class:`Check`; errors name file:line:field."""
    if not isinstance(raw, dict):
        raise InputError("a check must be a mapping with a `type`", path=path, line=line,
                         field=field_prefix)
    kind = raw.get("type")
    if not isinstance(kind, str) or not kind:
        raise InputError("check has no `type`", path=path, line=line, field=f"{field_prefix}.type")
    negate = kind.startswith("not-")
    base = kind[4:] if negate else kind
    cls = REGISTRY.get(base)
    if cls is None:
        known = ", ".join(sorted(REGISTRY))
        raise InputError(
            f"unknown check type {kind!r} (known: {known})",
            path=path,
            line=line,
            field=f"{field_prefix}.type",
        )
    data = {**raw, "type": base, "negate": negate or bool(raw.get("negate", False))}
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        msg = "unknown parameter" if err["type"] == "extra_forbidden" else err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        raise InputError(
            f"{msg} (check {kind!r})", path=path, line=line, field=f"{field_prefix}.{loc}"
        ) from None
