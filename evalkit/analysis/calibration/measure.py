"""Measure a judge against its human labels: the figures, the verdict and the stored artefact.

:func:`measure` is pure (labels and the judge's verdicts in, a :class:`CalibrationResult` out) so
the figures can be tested without a model. :func:`calibrate` does the I/O: it loads the labels,
finds each labelled case in the project's golden sets (the judge sees the question and context),
grades every labelled output with the judge's *current* version (cached, so re-measuring an
unchanged judge makes no requests), and writes ``judges/<judge>.calibration.json``.

Choices, and why:

* One label per output: the latest label for an ``output_sha`` wins (a relabel replaces).
* A judge *error* on a labelled output is counted and excluded, never scored as pass or fail.
* Status and the pass-rate correction use **all** labels (the most precise estimate); the fixed
  dev/holdout split (:func:`~evalkit.analysis.stats.split.split_of`) is reported beside them, with a
  warning when holdout agreement is more than 5 points below dev *and* the interval for the gap
  excludes 0 (rubric overfitted to dev; labels clustered by case, so their effective number).
* Stratified labels are reweighted (:mod:`evalkit.analysis.calibration.weights`).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from evalkit.analysis.calibration.labels import (
    Label,
    LabelValue,
    Scale,
)
from evalkit.analysis.calibration.weights import (
    inclusion_weights,
    sampling_strata,
    sampling_weights,
    weighted_summary,
)
from evalkit.analysis.stats.agreement import CalibrationSummary, is_calibrated
from evalkit.analysis.stats.design import effective_n
from evalkit.analysis.stats.holdout import holdout_gap_warning
from evalkit.analysis.stats.split import split_of
from evalkit.base.files import write_atomic
from evalkit.model.outcome import Outcome
from evalkit.model.record import JudgeVerdict
from evalkit.storage.store import encode_model

if TYPE_CHECKING:
    from evalkit.model.config import ProjectConfig
    from evalkit.model.golden import Case

CALIBRATION_SUFFIX = ".calibration.json"
State = Literal["calibrated", "insufficient labels", "below thresholds"]


class Thresholds(BaseModel):
    """What a judge must reach to be called calibrated (defaults from the design)."""

    min_per_class: int = Field(default=30, ge=0)
    min_kappa: float = 0.6
    min_tpr: float = 0.7
    min_tnr: float = 0.7


class Disagreement(BaseModel):
    """A labelled output where the judge and the human differ: material for the next rubric."""

    case_id: str
    output_sha: str
    split: str
    human: LabelValue
    judge: LabelValue
    critique: str
    reasoning: str
    labeler: str = ""
    output: str = ""


class JudgeErrorItem(BaseModel):
    case_id: str
    output_sha: str
    message: str


class CalibrationResult(BaseModel):
    """``judges/<judge>.calibration.json``: tied to the judge version it measured."""

    format: int = 1
    judge: str
    judge_version: str
    #: the output mode its verdicts were obtained in; "" in files written before output modes
    #: existed (0.1.0), whose verdicts were all obtained in tools mode
    output_mode: str = ""
    scale: Scale
    pass_at: int | None = None
    created_at: str = ""
    labels_file: str = ""
    labels_sha: str = ""
    thresholds: Thresholds = Field(default_factory=Thresholds)
    n_labels: int = Field(description="distinct labelled outputs")
    n_used: int = Field(description="labels the judge graded (errors and unknown cases excluded)")
    n_judge_errors: int = 0
    judge_errors: list[JudgeErrorItem] = Field(default_factory=list)
    n_missing_case: int = 0
    sampling: dict[str, int] = Field(default_factory=dict)
    reweighted: bool = False
    overall: CalibrationSummary
    dev: CalibrationSummary
    holdout: CalibrationSummary
    state: State
    calibrated: bool
    reasons: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    disagreements: list[Disagreement] = Field(default_factory=list)
    requests: int = 0
    cached: int = 0


def judge_value(verdict: JudgeVerdict, scale: Scale) -> LabelValue:
    """The judge's verdict in the labels' vocabulary: pass/fail, or the 1–5 score."""
    if scale == "likert-5":
        v = verdict.verdict
        if isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 5:
            return v
        if verdict.score is not None:
            return round(verdict.score * 4 + 1)
        raise ValueError(f"likert verdict without a score: {verdict!r}")
    return "pass" if verdict.outcome is Outcome.PASS else "fail"


def _state(summary: CalibrationSummary, t: Thresholds) -> tuple[State, list[str]]:
    ok, reasons = is_calibrated(summary, t.min_per_class, t.min_kappa, t.min_tpr, t.min_tnr)
    if ok:
        return "calibrated", []
    few = summary.n_pass < t.min_per_class or summary.n_fail < t.min_per_class
    return ("insufficient labels" if few else "below thresholds"), reasons


def measure(
    labels: Sequence[Label],
    verdicts: Sequence[JudgeVerdict | None],
    *,
    judge: str,
    judge_version: str,
    scale: Scale,
    pass_at: int = 4,
    thresholds: Thresholds | None = None,
    n_boot: int = 2000,
    seed: int = 0,
) -> CalibrationResult:
    """The calibration of one judge from its verdicts on labelled outputs (aligned by position;
    ``None`` = the labelled case is not in any golden set, so the judge could not see it)."""
    t = thresholds or Thresholds()
    if len(labels) != len(verdicts):
        raise ValueError(f"{len(labels)} labels but {len(verdicts)} verdicts")
    used: list[tuple[Label, JudgeVerdict]] = []
    errors: list[JudgeErrorItem] = []
    missing = 0
    for label, verdict in zip(labels, verdicts, strict=True):
        if verdict is None:
            missing += 1
        elif verdict.outcome is Outcome.ERROR:
            why = verdict.error.message if verdict.error else verdict.reasoning
            errors.append(
                JudgeErrorItem(
                    case_id=label.case_id, output_sha=label.output_sha, message=why or "no verdict"
                )
            )
        else:
            used.append((label, verdict))
    weights, notes = sampling_weights([lab for lab, _ in used])
    strata = sampling_strata([lab for lab, _ in used])
    human = [lab.label for lab, _ in used]
    judged = [judge_value(v, scale) for _, v in used]
    splits = [split_of(lab.case_id) for lab, _ in used]

    def summary(part: str | None) -> CalibrationSummary:
        idx = [i for i, s in enumerate(splits) if part is None or s == part]
        return weighted_summary(
            [human[i] for i in idx],
            [judged[i] for i in idx],
            [weights[i] for i in idx],
            strata=[strata[i] for i in idx],
            # a split's labels each stand for more outputs than all the labels do
            inclusion=inclusion_weights([used[i][0] for i in idx]),
            scale=scale,
            pass_at=pass_at,
            n_boot=n_boot,
            seed=seed,
        )

    overall, dev, holdout = summary(None), summary("dev"), summary("holdout")
    state, reasons = _state(overall, t)
    agree = [
        _passes(h, scale, pass_at) == _passes(j, scale, pass_at)
        for h, j in zip(human, judged, strict=True)
    ]

    def agreement_n(part: str) -> float | None:
        """Effective labels behind a split's agreement: a case's outputs are clustered."""
        idx = [i for i, s in enumerate(splits) if s == part]
        if not idx:
            return None
        return effective_n(
            [agree[i] for i in idx],
            weights=[weights[i] for i in idx],
            strata=[strata[i] for i in idx],
            clusters=[used[i][0].case_id for i in idx],
        )

    gap = holdout_gap_warning(
        dev, holdout, n_dev=agreement_n("dev"), n_holdout=agreement_n("holdout")
    )
    warnings = [gap] if gap else []
    if errors:
        warnings.append(
            f"the judge could not grade {len(errors)} labelled output(s): excluded, not counted"
        )
    if missing:
        warnings.append(
            f"{missing} label(s) name a case that is in no golden set of the project: skipped"
        )
    modes = Counter(lab.sampling.mode for lab, _ in used)
    if modes.get("import") or modes.get("manual"):
        notes.append(
            f"{modes.get('import', 0) + modes.get('manual', 0)} label(s) with no recorded "
            "sampling (hand-written or imported) are taken as representative"
        )
    disagreements = [
        Disagreement(
            case_id=lab.case_id,
            output_sha=lab.output_sha,
            split=split,
            human=h,
            judge=j,
            critique=lab.critique,
            reasoning=v.reasoning,
            labeler=lab.labeler,
            output=lab.output,
        )
        for (lab, v), h, j, split in zip(used, human, judged, splits, strict=True)
        if h != j
    ]
    return CalibrationResult(
        judge=judge,
        judge_version=judge_version,
        scale=scale,
        pass_at=pass_at if scale == "likert-5" else None,
        thresholds=t,
        n_labels=len(labels),
        n_used=len(used),
        n_judge_errors=len(errors),
        judge_errors=errors,
        n_missing_case=missing,
        sampling=dict(sorted(modes.items())),
        reweighted=any(abs(w - 1.0) > 1e-9 for w in weights),
        overall=overall,
        dev=dev,
        holdout=holdout,
        state=state,
        calibrated=state == "calibrated",
        reasons=reasons,
        warnings=warnings,
        notes=notes,
        disagreements=disagreements,
        requests=sum(_requests(v) for _, v in used) + len(errors),
        cached=sum(bool(v.cached) for _, v in used),
    )


def _passes(value: LabelValue, scale: Scale, pass_at: int) -> bool:
    if scale == "likert-5":
        return isinstance(value, int) and value >= pass_at
    return value == "pass"


def _requests(v: JudgeVerdict) -> int:
    return v.requests or int(not v.cached)


def golden_cases(
    project: ProjectConfig, judge: str, *, skip: Path | None = None
) -> dict[str, Case]:
    """Every golden case of the project by id; suites that use ``judge`` take precedence.

    Each golden file is read once, even when several suites share it; ``skip`` is a file the
    caller has already read.
    """
    from evalkit.model.golden import load_golden

    suites = sorted(project.suites.values(), key=lambda s: judge not in s.judges)
    paths = dict.fromkeys(project.resolve(suite.goldens) for suite in suites)
    cases: dict[str, Case] = {}
    for path in paths:
        if path == skip:
            continue
        for case in load_golden(path).cases:
            cases.setdefault(case.id, case)
    return cases


def calibration_file(project_root: Path, judge: str) -> Path:
    return project_root / "judges" / f"{judge}{CALIBRATION_SUFFIX}"


def write_calibration(project_root: Path, result: CalibrationResult) -> Path:
    """Write ``result`` to its :func:`calibration_file` atomically and return the path.

    Losslessly: labelled outputs, critiques and judge reasoning are hostile text and may hold
    a lone surrogate, which pydantic's JSON encoder refuses
    (:func:`evalkit.storage.store.encode_model`).
    """
    path = calibration_file(project_root, result.judge)
    write_atomic(path, encode_model(result, indent=2) + "\n")
    return path


def file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.exists() else ""
