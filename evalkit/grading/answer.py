"""Grade one answer: its checks, then the judges that apply to its case, into a record.

The run loop (:mod:`evalkit.api.run`) gets the answer (cache, provider or batch) and prices it;
what decides the outcome of that answer lives here, beside the checks and judges it runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from evalkit.execution.generate import Generated, as_sent
from evalkit.grading.check.base import CheckContext
from evalkit.grading.check.compose import case_outcome, evaluate_checks
from evalkit.grading.judge.judge import judge_applies
from evalkit.model.config import PreparedCase
from evalkit.model.golden import Case
from evalkit.model.provider import CallContext
from evalkit.model.record import CaseRecord, JudgeVerdict, Usage
from evalkit.model.trajectory import Trajectory
from evalkit.storage.store import now_iso


class Grader(Protocol):
    """A judge as the run loop sees it (implemented by :class:`evalkit.grading.judge.Judge`)."""

    name: str

    @property
    def version(self) -> str: ...

    async def prepare(self) -> None: ...

    async def grade(
        self,
        case: Case,
        output: str,
        ctx: CallContext | None = None,
        trajectory: Trajectory | None = None,
    ) -> JudgeVerdict: ...

    async def aclose(self) -> None: ...


async def grade_answer(
    pc: PreparedCase,
    repeat: int,
    generated: Generated,
    ctx: CallContext,
    *,
    cost: float | None,
    graders: Sequence[Grader],
    suite_judges: Sequence[str],
    min_score: float | None,
    base_dir: Path,
    trajectory: Trajectory | None,
) -> CaseRecord:
    """The record of one answer: check results, verdicts, the combined outcome and usage."""
    case = pc.case
    completion = generated.completion
    check_ctx = CheckContext(
        output=completion.text,
        case=case,
        latency_ms=generated.latency_ms,
        cost_usd=cost,
        input_tokens=completion.input_tokens,
        output_tokens=completion.output_tokens,
        base_dir=base_dir,
        trajectory=trajectory,
    )
    results = await evaluate_checks(pc.checks, check_ctx)
    applicable = [g for g in graders if judge_applies(g.name, case, suite_judges)]
    verdicts: list[JudgeVerdict] = []
    if applicable:  # most suites grade most cases with checks alone: no gather to schedule
        verdicts = list(
            await asyncio.gather(
                *(g.grade(case, completion.text, ctx, trajectory) for g in applicable)
            )
        )
    outcome, score = case_outcome(results, verdicts, min_score)
    return CaseRecord(
        case_id=case.id,
        repeat=repeat,
        tags=case.tags,
        vars=case.vars,
        **as_sent(pc),
        outcome=outcome,
        output=completion.text,
        checks=results,
        judges=verdicts,
        usage=Usage(
            input_tokens=completion.input_tokens,
            output_tokens=completion.output_tokens,
            cache_read_input_tokens=completion.cache_read_tokens,
            cache_creation_input_tokens=completion.cache_write_tokens,
        ),
        cost_usd=cost,
        finish_reason=completion.finish_reason,
        truncated=completion.truncated,
        latency_ms=generated.latency_ms,
        attempts=generated.attempts,
        cached=generated.cached,
        score=score,
        finished_at=now_iso(),
        trajectory=trajectory,
    )
