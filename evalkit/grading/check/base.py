"""The check registry: one pydantic model per check type, negation and templating in one place.

A check is a pydantic model whose fields are its parameters (validated when the config loads,
so `evalkit validate` catches a bad regex before any model is called) and whose ``run`` method
grades one output. ``evaluate`` wraps ``run`` with what every check shares:

* string parameters containing ``{{ … }}`` are rendered per case (``{{ expected }}``),
* a ``threshold`` turns a score into pass/fail,
* ``not-<type>`` negates the outcome (pass <-> fail; error stays error) and the score,
* an exception inside ``run`` becomes an *error* outcome, never a crash or a silent pass.

Adding a check is one class decorated with ``@register("name")`` in a module listed in
``evalkit/grading/check/__init__.py``; its docstring, fields and ``example`` become its entry in the
generated reference (``docs/checks.md``).

Parameters that need files or imports (a JSON Schema path, a ``module:function``) are resolved
*when the config is parsed*, relative to the project directory: :func:`parse_check` passes
``base_dir`` (default: the current directory) to validators through pydantic's validation
context, read with :func:`context_base_dir`. Regex and JSON-path parameters are compiled at load
by annotating them with :data:`REGEX` / :data:`JSON_PATH`, so an invalid one names its field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from jinja2.defaults import DEFAULT_NAMESPACE
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
)

from evalkit.base.exceptions import InputError, TemplateError
from evalkit.base.template import compile_template, is_template, render, template_variables
from evalkit.grading.check._jsonpath import compile_path
from evalkit.grading.check._regex import RegexTimeout, compile_regex
from evalkit.model.golden import Case
from evalkit.model.outcome import CheckResult, Outcome
from evalkit.model.trajectory import Trajectory


class CannotGrade(Exception):
    """Raised inside ``run`` when the check itself cannot grade (no reference, no measurement).

    :meth:`Check.evaluate` turns it into an *error* outcome with just this message; a fault of
    the output should instead be a *fail* with a reason.
    """


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
    #: a conversation case's turns and tool calls (evalkit.grading.check.tools reads them)
    trajectory: Trajectory | None = None


class Check(BaseModel):
    """Base of every check. Subclasses add parameter fields and implement :meth:`run`."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    #: registered name, set by :func:`register`
    type_name: ClassVar[str] = ""
    #: parameters that are never rendered as templates (e.g. regex patterns with braces); list
    #: every parameter compiled into private state at load, which rendering would not update
    no_template: ClassVar[frozenset[str]] = frozenset()
    #: a YAML example for the generated reference (and a test that it parses)
    example: ClassVar[str] = ""

    type: str
    negate: bool = Field(default=False, description="set by the `not-` prefix")
    weight: float = Field(default=1.0, ge=0, description="weight in a weighted case score")
    threshold: float | None = Field(
        default=None, ge=0, le=1, description="pass when score >= threshold (scored checks)"
    )
    label: str | None = Field(default=None, description="display name in reports")

    #: names of parameters holding templates, found once per instance (not per output)
    _templated: tuple[str, ...] | None = PrivateAttr(default=None)

    if not TYPE_CHECKING:

        def __getattr__(self, item: str) -> Any:
            """Private state (compiled patterns, paths) read straight from pydantic's private
            dict: pydantic's own lookup probes each for ``__get__`` through a raised
            AttributeError, about 3 us a read and tens of reads per graded output."""
            if item != "__pydantic_private__":
                private = self.__pydantic_private__
                if private is not None and item in private:
                    return private[item]
            return super().__getattr__(item)

    @property
    def display_name(self) -> str:
        if self.label:
            return self.label
        return ("not-" if self.negate else "") + self.type_name

    def run(self, ctx: CheckContext) -> CheckResult:  # pragma: no cover - abstract
        raise NotImplementedError

    def _template_names(self) -> tuple[str, ...]:
        """Parameters holding templates, found once per instance (not per output)."""
        names = self._templated
        if names is None:
            names = self._templated = tuple(
                name
                for name, value in self
                if name not in self.no_template
                and name not in ("type", "label")
                and (
                    (isinstance(value, str) and is_template(value))
                    or (
                        isinstance(value, list)
                        and any(isinstance(v, str) and is_template(v) for v in value)
                    )
                )
            )
        return names

    def _templates(self) -> list[tuple[str, str]]:
        """(parameter, template source) of every templated string parameter."""
        out: list[tuple[str, str]] = []
        for name in self._template_names():
            value = getattr(self, name)
            for item in [value] if isinstance(value, str) else value:
                if isinstance(item, str) and is_template(item):
                    out.append((name, item))
        return out

    def nested(self) -> list[Check]:
        """Checks evaluated inside this one (groups override), so validation reaches them."""
        return []

    def check_templates(self, case: Case) -> None:
        """Refuse templated parameters that cannot render for ``case`` whatever the output.

        A variable the case lacks raises :class:`TemplateError` naming it, so ``evalkit
        validate`` and ``evalkit run`` refuse the case before any model call instead of turning
        every output of it into an error. A template that does not read ``output`` is rendered
        as the run would render it; one that does is only checked for its variables, since
        what it does with the output (``output.split()[0]``) is for the run to grade.
        """
        variables = {**case.template_vars(), "output": ""}
        for _name, source in self._templates():
            names = template_variables(source)
            missing = sorted(names - variables.keys() - DEFAULT_NAMESPACE.keys())
            if missing:
                raise TemplateError(f"missing template variable: {missing[0]!r} is undefined")
            if "output" in names:
                continue
            try:
                render(source, variables)
            except TemplateError:
                raise
            except Exception as exc:  # the same for every output of the case: refuse it now
                raise TemplateError(f"template failed: {type(exc).__name__}: {exc}") from None
        for child in self.nested():
            child.check_templates(case)

    def _rendered(self, ctx: CheckContext) -> Check:
        """A copy with templated string parameters rendered for ``ctx.case``."""
        names = self._template_names()
        if not names:
            return self
        variables = {**ctx.case.template_vars(), "output": ctx.output}
        updates: dict[str, Any] = {}
        for name in names:
            value = getattr(self, name)
            if isinstance(value, str):
                updates[name] = render(value, variables)
            else:
                updates[name] = [render(v, variables) if isinstance(v, str) else v for v in value]
        return self.model_copy(update=updates)

    def evaluate(self, ctx: CheckContext) -> CheckResult:
        """Run the check with templating, threshold and negation applied; never raises."""
        name = self.display_name
        if not isinstance(ctx.output, str):
            kind = type(ctx.output).__name__
            return CheckResult.errored(name, f"no text output to grade (got {kind})")
        try:
            concrete = self._rendered(ctx)
            result = concrete.run(ctx)
        except TemplateError as exc:
            return CheckResult.errored(name, f"could not render check parameters: {exc.message}")
        except (CannotGrade, RegexTimeout) as exc:
            return CheckResult.errored(name, str(exc))
        except Exception as exc:  # a check that crashed could not grade: error, not fail
            return CheckResult.errored(name, f"check raised {type(exc).__name__}: {exc}")
        if (
            self.threshold is None
            and not self.negate
            and result.name == name
            and result.weight == self.weight
        ):
            return result  # already what the record holds (most checks, most outputs)
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


def verdict(name: str, ok: bool, reason: str, score: float | None = None) -> CheckResult:
    """A pass or fail result; the score defaults to 1.0 / 0.0."""
    return CheckResult(
        name=name,
        outcome=Outcome.PASS if ok else Outcome.FAIL,
        score=float(ok) if score is None else score,
        reason=reason,
    )


def reference(value: Any, ctx: CheckContext) -> Any:
    """``value`` if given, else the case's ``expected``; :class:`CannotGrade` when neither is."""
    if value is not None:
        return value
    if ctx.case.expected is None:
        raise CannotGrade(f"case {ctx.case.id!r} has no `expected` and the check has no `value`")
    return ctx.case.expected


C = TypeVar("C", bound=type[Check])

#: name -> check class. Built-ins register on import of :mod:`evalkit.grading.check`.
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


def _compiles(compile_one: Callable[[str], object]) -> AfterValidator:
    """A field validator compiling a parameter (a string, each string of a list, or ``None``)."""

    def validate(value: Any) -> Any:
        for item in [value] if isinstance(value, str) else value or ():
            compile_one(item)
        return value

    return AfterValidator(validate)


#: ``Annotated[str | list[str] | None, REGEX]``: a regex parameter, compiled (and named by its
#: error) at config load; the compiled form is cached, so ``compile_regex`` in a model
#: validator costs nothing more
REGEX = _compiles(compile_regex)
#: the same for a JSON-path parameter
JSON_PATH = _compiles(compile_path)


def _context(info: ValidationInfo) -> dict[str, Any]:
    """What :func:`parse_check` put in the validation context (empty outside it)."""
    return info.context if isinstance(info.context, dict) else {}


def context_base_dir(info: ValidationInfo) -> Path:
    """The project directory given to :func:`parse_check` (relative paths resolve against it)."""
    base = _context(info).get("base_dir")
    return Path(base) if base is not None else Path.cwd()


def parse_nested(raw: Any, info: ValidationInfo, field_name: str) -> Check:
    """Parse a check nested in the one being validated, at the outer check's file and line."""
    where = _context(info)
    return parse_check(
        raw,
        path=where.get("path"),
        line=where.get("line"),
        field_prefix=f"{where.get('field_prefix', 'checks')}.{field_name}",
        base_dir=where.get("base_dir"),
    )


def parse_check(
    raw: Any,
    *,
    path: str | Path | None = None,
    line: int | None = None,
    field_prefix: str = "checks",
    base_dir: str | Path | None = None,
) -> Check:
    """Validate one check mapping from config into a :class:`Check`; errors name file:line:field.

    ``base_dir`` is the project directory that relative schema paths and ``module:function``
    imports resolve against (default: the current directory). Nested checks (``all``/``any``)
    are parsed with the same location so their errors point at the nested field.
    """
    if not isinstance(raw, dict):
        raise InputError(
            "a check must be a mapping with a `type`", path=path, line=line, field=field_prefix
        )
    kind = raw.get("type")
    if not isinstance(kind, str) or not kind:
        raise InputError("check has no `type`", path=path, line=line, field=f"{field_prefix}.type")
    negate = kind.startswith("not-")
    base = kind[4:] if negate else kind
    cls = REGISTRY.get(base)
    if cls is None:
        known = ", ".join(sorted(REGISTRY))
        raise InputError(
            f"unknown check type {kind!r} (known: {known}; a custom @check type needs its"
            " module listed under `plugins:` in evalkit.yaml)",
            path=path,
            line=line,
            field=f"{field_prefix}.type",
        )
    data = {**raw, "type": base, "negate": negate or bool(raw.get("negate", False))}
    try:
        check = cls.model_validate(
            data,
            context={
                "base_dir": Path(base_dir) if base_dir is not None else Path.cwd(),
                "path": path,
                "line": line,
                "field_prefix": field_prefix,
            },
        )
    except ValidationError as exc:
        errors = exc.errors()
        # an unknown parameter is usually a typo that also causes "Field required": report it
        err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        where = field_prefix
        for part in err["loc"]:  # list indices as [i], like the config's own field names
            where += f"[{part}]" if isinstance(part, int) else f".{part}"
        if err["type"] == "extra_forbidden":
            names = sorted(
                (f.alias or name) for name, f in cls.model_fields.items() if name != "type"
            )
            msg = f"unknown parameter (parameters of {base!r}: {', '.join(names)})"
        else:
            msg = str(err["msg"])
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        raise InputError(f"{msg} (check {kind!r})", path=path, line=line, field=where) from None
    for name, source in check._templates():  # a syntax error is the check's, not a case's
        try:
            compile_template(source)
        except TemplateError as exc:
            field = f"{field_prefix}.{cls.model_fields[name].alias or name}"
            raise InputError(
                f"{exc.message} (check {kind!r})", path=path, line=line, field=field
            ) from None
    return check
