"""Operational checks: what producing the output cost (latency, money, tokens).

A missing measurement is an *error*, not a pass: a budget check that silently passes when the
provider reported nothing would hide exactly the regressions it exists to catch.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from evalkit.grading.check.base import CannotGrade, Check, CheckContext, register, verdict
from evalkit.model.outcome import CheckResult


def _measured(value: float | None, what: str) -> float:
    if value is None:
        raise CannotGrade(f"no {what} was recorded for this output")
    return value


@register("latency")
class Latency(Check):
    """The call that produced the output took at most ``max_ms`` milliseconds."""

    example = "- {type: latency, max_ms: 3000}"
    max_ms: float = Field(gt=0, description="largest allowed latency in milliseconds")

    def run(self, ctx: CheckContext) -> CheckResult:
        ms = _measured(ctx.latency_ms, "latency")
        ok = ms <= self.max_ms
        return verdict(self.type_name, ok, f"{ms:.0f} ms {'<=' if ok else '>'} {self.max_ms:g} ms")


@register("cost")
class Cost(Check):
    """The call that produced the output cost at most ``max_usd`` US dollars."""

    example = "- {type: cost, max_usd: 0.002}"
    max_usd: float = Field(ge=0, description="largest allowed cost in USD")

    def run(self, ctx: CheckContext) -> CheckResult:
        usd = _measured(ctx.cost_usd, "cost")
        ok = usd <= self.max_usd
        return verdict(self.type_name, ok, f"${usd:.6f} {'<=' if ok else '>'} ${self.max_usd:g}")


@register("tokens")
class Tokens(Check):
    """The output (and optionally the input) stayed within a token budget."""

    example = "- {type: tokens, max_output: 400}"
    max_output: int | None = Field(default=None, ge=0, description="largest output token count")
    max_input: int | None = Field(default=None, ge=0, description="largest input token count")

    @model_validator(mode="after")
    def _some_limit(self) -> Tokens:
        if self.max_output is None and self.max_input is None:
            raise ValueError("give `max_output`, `max_input` or both")
        return self

    def run(self, ctx: CheckContext) -> CheckResult:
        problems: list[str] = []
        seen: list[str] = []
        for limit, value, what in (
            (self.max_output, ctx.output_tokens, "output"),
            (self.max_input, ctx.input_tokens, "input"),
        ):
            if limit is None:
                continue
            count = int(_measured(value, f"{what} token count"))
            seen.append(f"{count} {what} tokens")
            if count > limit:
                problems.append(f"{count} {what} tokens > {limit}")
        if problems:
            return CheckResult.failed(self.type_name, "; ".join(problems))
        return CheckResult.passed(self.type_name, ", ".join(seen))
