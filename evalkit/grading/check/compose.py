"""Composition: ``all`` / ``any`` groups and the case score, so a case can pass on a weighted
score instead of all-or-nothing.

:func:`score_case` is the one place the weighted rule lives; the engine uses it for a case's
checks and the ``all`` group uses it for its children (with the group's ``threshold`` as the
minimum score).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from pydantic import Field, ValidationInfo, field_validator

from evalkit.grading.check.base import Check, CheckContext, parse_nested, register
from evalkit.model.outcome import CheckResult, Outcome, combine
from evalkit.model.record import JudgeVerdict


def _score(result: CheckResult) -> float:
    if result.score is not None:
        return result.score
    return 1.0 if result.outcome is Outcome.PASS else 0.0


async def evaluate_checks(checks: Sequence[Check], ctx: CheckContext) -> list[CheckResult]:
    """Every check on one output, in order. Checks are synchronous and run on the event loop;
    after an error (a regex past its time limit, a crash) they yield to it, so a cancelled run
    (Ctrl-C) stops there instead of waiting for every slow check of the case."""
    results: list[CheckResult] = []
    for check in checks:
        result = check.evaluate(ctx)
        results.append(result)
        if result.outcome is Outcome.ERROR:
            await asyncio.sleep(0)
    return results


def score_case(
    results: Sequence[CheckResult], min_score: float | None = None
) -> tuple[Outcome, float | None]:
    """The outcome and weighted score of several check results on one output.

    The score is the weight-averaged score of the results that did not error (``None`` when
    there are none). Without ``min_score``: any fail → fail, else any error → error, else pass.
    With ``min_score``: pass when the score reaches it, else fail; error when every result
    errored. Errored results never count as a pass or a fail.
    """
    graded = [r for r in results if r.outcome is not Outcome.ERROR]
    total = sum(r.weight for r in graded)
    score = sum(r.weight * _score(r) for r in graded) / total if total > 0 else None
    if min_score is None:
        return combine(r.outcome for r in results), score
    if not results:
        return Outcome.PASS, None
    if not graded:
        return Outcome.ERROR, None
    if score is None:  # every graded result has weight 0: nothing to weigh, fall back
        return combine(r.outcome for r in graded), None
    return (Outcome.PASS if score >= min_score else Outcome.FAIL), score


class _Group(Check):
    checks: list[Check] = Field(min_length=1, description="the checks in the group")

    @field_validator("checks", mode="before")
    @classmethod
    def _parse_children(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, list):
            raise ValueError("`checks` must be a list of checks")
        return [
            item if isinstance(item, Check) else parse_nested(item, info, f"checks[{index}]")
            for index, item in enumerate(value)
        ]

    def nested(self) -> list[Check]:
        return list(self.checks)

    def _children(self, ctx: CheckContext) -> list[CheckResult]:
        return [child.evaluate(ctx) for child in self.checks]

    @staticmethod
    def _summary(results: list[CheckResult]) -> str:
        passed = sum(r.outcome is Outcome.PASS for r in results)
        others = [
            f"{r.name} {r.outcome.value}: {r.reason}"
            for r in results
            if r.outcome is not Outcome.PASS
        ]
        return f"{passed}/{len(results)} passed" + ("; " + "; ".join(others) if others else "")

    @staticmethod
    def _details(results: list[CheckResult]) -> dict[str, Any]:
        return {"checks": [r.model_dump(mode="json") for r in results]}


@register("all")
class AllOf(_Group):
    """Every nested check passes; or, with ``threshold``, their weighted score reaches it.

    The score is the weight-averaged score of the nested checks that did not error.
    """

    example = (
        "- type: all\n"
        "  threshold: 0.7\n"
        "  checks:\n"
        "    - {type: json-valid, weight: 2}\n"
        "    - {type: contains, value: refund}\n"
        "    - {type: length, max: 80, unit: words}"
    )

    def run(self, ctx: CheckContext) -> CheckResult:
        results = self._children(ctx)
        outcome, score = score_case(results, self.threshold)
        return CheckResult(
            name=self.type_name,
            outcome=outcome,
            score=score,
            reason=self._summary(results),
            details=self._details(results),
        )


@register("any")
class AnyOf(_Group):
    """At least one nested check passes; the score is the best nested score.

    When none passes and one errored, the group errors (that one might have passed).
    """

    example = (
        "- type: any\n  checks:\n    - {type: refusal}\n    - {type: citations, require: true}"
    )

    def run(self, ctx: CheckContext) -> CheckResult:
        results = self._children(ctx)
        outcomes = {r.outcome for r in results}
        if Outcome.PASS in outcomes:
            outcome = Outcome.PASS
        elif Outcome.ERROR in outcomes:
            outcome = Outcome.ERROR
        else:
            outcome = Outcome.FAIL
        scores = [_score(r) for r in results if r.outcome is not Outcome.ERROR]
        return CheckResult(
            name=self.type_name,
            outcome=outcome,
            score=max(scores) if scores else None,
            reason=self._summary(results),
            details=self._details(results),
        )


def case_outcome(
    checks: list[CheckResult], verdicts: Sequence[JudgeVerdict], min_score: float | None = None
) -> tuple[Outcome, float | None]:
    """A case's outcome: its checks scored by :func:`score_case`, combined with its judges'
    verdicts (any fail fails it; otherwise any error makes it an error)."""
    outcome, score = score_case(checks, min_score)
    return combine([outcome, *(v.outcome for v in verdicts)]), score
