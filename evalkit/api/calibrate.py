"""The calibrate job: grade every human-labelled output with the judge's current version and
measure agreement (:func:`evalkit.analysis.calibration.measure.measure`, the pure part)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evalkit.analysis.calibration.labels import (
    Label,
    check_known_cases,
    labels_path,
    latest_by_output,
    read_labels,
)
from evalkit.analysis.calibration.measure import (
    CalibrationResult,
    Thresholds,
    file_sha,
    golden_cases,
    measure,
    write_calibration,
)
from evalkit.base.aio import run_sync
from evalkit.base.exceptions import InputError
from evalkit.grading.judge.definition import JudgeDef
from evalkit.model.config import ProjectConfig
from evalkit.model.golden import Case
from evalkit.model.provider import TargetSpec
from evalkit.model.record import JudgeVerdict


async def _grade_all(
    judge: Any, items: list[tuple[Label, Case | None]], concurrency: int
) -> list[JudgeVerdict | None]:
    from evalkit.model.provider import CallContext

    gate = asyncio.Semaphore(concurrency)

    async def one(label: Label, case: Case | None) -> JudgeVerdict | None:
        if case is None:
            return None
        # no prompt label: calibration grades stored text, not a prompt version's fresh output
        ctx = CallContext(case_id=label.case_id, purpose=f"judge:{judge.name}")
        async with gate:
            verdict: JudgeVerdict = await judge.grade(case, label.output, ctx)
            return verdict

    try:
        return list(await asyncio.gather(*(one(lab, case) for lab, case in items)))
    finally:
        await judge.aclose()


def calibrate(
    project: ProjectConfig,
    name: str,
    *,
    thresholds: Thresholds | None = None,
    judge_script: Path | None = None,
    target_override: TargetSpec | None = None,
    use_cache: bool = True,
    concurrency: int = 8,
    n_boot: int = 2000,
    seed: int = 0,
    write: bool = True,
) -> CalibrationResult:
    """Grade every labelled output with the judge's current version and measure agreement.

    ``judge_script`` routes the judge through the scripted provider with that script (as
    :func:`evalkit.grading.judge.judge.scripted_override`, so the judge version matches a demo
    run on the same script); ``target_override`` replaces its target outright (e.g. a running
    scripted server).
    Without ``thresholds``, those of the project's ``calibration:`` (judge, then project)
    apply, as for ``evalkit calibrate``.
    Writes ``judges/<name>.calibration.json`` unless ``write=False``.
    """
    from evalkit.grading.judge import build_judges, load_judges
    from evalkit.grading.judge.judge import judge_runtime, scripted_override
    from evalkit.storage.store import now_iso

    (definition,) = load_judges(project, [name])
    scale = definition.scale
    if scale not in ("binary", "likert-5"):
        raise InputError(
            f"judge {name!r} has scale {scale!r}: only binary and likert-5 judges are calibrated "
            "against labels",
            path=definition.path,
            field="scale",
        )
    path = labels_path(project.root, name)
    labels = list(latest_by_output(read_labels(path, scale)).values())  # type: ignore[arg-type]
    if not labels:
        raise InputError(
            f"no labels for judge {name!r}: label outputs with `evalkit label RUN --judge {name}` "
            f"or import a CSV with `evalkit label --import-csv FILE --judge {name}`",
            path=path,
        )
    cases = golden_cases(project, name)
    check_known_cases(labels, cases, path)
    override: Callable[[JudgeDef], TargetSpec] | None = None
    if target_override is not None:
        fixed = target_override
        override = lambda _definition: fixed  # noqa: E731
    elif judge_script is not None:
        override = scripted_override(judge_script)
    cache, prices, policy = judge_runtime(project, use_cache=use_cache)
    try:
        (judge,) = build_judges(
            [definition],
            project=project,
            cache=cache,
            prices=prices,
            policy=policy,
            target_override=override,
        )
        items = [(lab, cases.get(lab.case_id)) for lab in labels]
        verdicts = run_sync(_grade_all(judge, items, concurrency))
    finally:
        cache.close()
    threshold = definition.pass_threshold
    result = measure(
        labels,
        verdicts,
        judge=name,
        judge_version=judge.version,
        scale=scale,  # type: ignore[arg-type]
        pass_at=math.ceil(threshold) if threshold is not None else 4,
        thresholds=thresholds or Thresholds(**project.calibration.thresholds_for(name)),
        n_boot=n_boot,
        seed=seed,
    )
    result.created_at = now_iso()
    modes = (v.output_mode for v in verdicts if v is not None and v.version == result.judge_version)
    result.output_mode = next((m for m in modes if m), "")  # what a stale status compares with
    result.labels_file = (
        str(path.relative_to(project.root)) if path.is_relative_to(project.root) else str(path)
    )
    result.labels_sha = file_sha(path)
    if write:
        write_calibration(project.root, result)
    return result
