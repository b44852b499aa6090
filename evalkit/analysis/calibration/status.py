"""Is a judge's pass rate trustworthy? Calibration status and corrected pass rates for reports.

:func:`calibration_status` reads ``judges/<judge>.calibration.json`` and compares the version it
measured with the version that judged the run: a rubric (or model) edit changes the version and
makes the judge *stale*, i.e. uncalibrated until ``evalkit calibrate`` measures it again.

:func:`calibration_section` is the run-report post-step: per judge, the raw pass rate with its
status; for a binary judge with a current calibration the Rogan–Gladen corrected pass rate (or
why there is none); and, where labels were drawn *at random from this same run* (``run_id``
matches, ``sampling.mode`` is ``random``), the PPI++ estimate. Stratified labels are not used
for PPI: PPI needs a random sample of the run, and reweighting them is left to calibration.

The corrected rate is shown whether or not the judge passed the calibration thresholds. Showing
it only when the *same* labels had also passed the thresholds selects the calibrations whose
TPR/TNR came out high by chance, and the interval then undercovered (70% in the audit, 84% in
the worst scenario of ``benchmarks/bench_coverage_correction.py``, with a true TNR just under
the 0.7 threshold); shown unconditionally it covered 95–97% in the same scenarios.
The figures' own validity rules (enough labels per class, a judge clearly better than chance)
depend on label counts and on the denominator only. Outputs of one case (repeats) are clustered:
the run's counts enter as effective counts (:mod:`evalkit.analysis.stats.design`).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from evalkit.analysis.calibration.labels import labels_path, output_sha, read_labels
from evalkit.analysis.calibration.measure import CalibrationResult, calibration_file, file_sha
from evalkit.analysis.caserates import Tally, per_name, rates
from evalkit.analysis.stats.agreement import CalibrationSummary
from evalkit.analysis.stats.correction import corrected_pass_rate
from evalkit.analysis.stats.ppi import PPIEstimate, ppi_mean
from evalkit.base.exceptions import InputError
from evalkit.model.outcome import Outcome
from evalkit.model.record import CaseRecord

StateName = Literal[
    "calibrated", "uncalibrated", "stale", "insufficient labels", "below thresholds"
]


class CalibrationStatus(BaseModel):
    """Where a judge version stands against its human labels."""

    judge: str
    judge_version: str | None
    state: StateName
    detail: str
    calibrated_version: str | None = None
    calibrated_at: str | None = None
    scale: str | None = None
    n_labels: int = 0
    kappa: float | None = None
    tpr: float | None = None
    tnr: float | None = None
    reasons: list[str] = []
    notes: list[str] = []
    #: calibration counts behind the Rogan–Gladen correction (effective counts when reweighted)
    tp: int = 0
    n_pos: int = 0
    tn: int = 0
    n_neg: int = 0
    #: the measured figures themselves (not serialised): what the correction is computed from
    summary: CalibrationSummary | None = Field(default=None, exclude=True)

    @property
    def calibrated(self) -> bool:
        return self.state == "calibrated"


def load_calibration(project_root: Path, judge: str) -> CalibrationResult | None:
    """The stored calibration of ``judge``, or None; a corrupt file is an InputError."""
    path = calibration_file(project_root, judge)
    if not path.exists():
        return None
    try:
        return CalibrationResult.model_validate(json.loads(path.read_text("utf-8")))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise InputError(
            f"corrupt calibration file ({exc}); re-run `evalkit calibrate {judge}`", path=path
        ) from None


def _figures(result: CalibrationResult) -> str:
    s = result.overall
    kappa = s.weighted_kappa if s.scale == "likert-5" else s.kappa
    parts = [f"{result.n_used} labels"]
    if kappa is not None:
        parts.append(f"kappa {kappa:.2f}")
    if s.tpr is not None:
        parts.append(f"TPR {s.tpr.estimate:.2f}")
    if s.tnr is not None:
        parts.append(f"TNR {s.tnr.estimate:.2f}")
    return ", ".join(parts)


def _stale_detail(result: CalibrationResult, version: str, mode: str | None) -> str:
    """Why the calibration no longer applies, and what to run."""
    was = result.output_mode or "tools"  # 0.1.0 asked every verdict in tools mode
    if mode and mode != was:
        why = (
            f"the judge now answers in output mode {mode!r} and was calibrated in {was!r} "
            "(the mode is part of the judge version: `output: auto` moves off tools when the "
            "server ignores or rejects tool calls)"
        )
    else:
        why = "its rubric, model, settings or examples, or evalkit's judge prompt, changed"
    return (
        f"stale: calibrated version {result.judge_version}, this is {version}: {why}; re-run "
        f"`evalkit calibrate {result.judge}` to measure this version against the labels"
    )


def calibration_status(
    judge_name: str, judge_version: str | None, project_root: Path, mode: str | None = None
) -> CalibrationStatus:
    """Status of ``judge_name`` at ``judge_version`` (None: whatever was calibrated last);
    ``mode`` is the output mode of the verdicts at that version, to say why it is stale."""
    try:
        result = load_calibration(project_root, judge_name)
    except InputError as exc:
        return CalibrationStatus(
            judge=judge_name, judge_version=judge_version, state="uncalibrated", detail=str(exc)
        )
    if result is None:
        return CalibrationStatus(
            judge=judge_name,
            judge_version=judge_version,
            state="uncalibrated",
            detail=f"no calibration: run `evalkit calibrate {judge_name}`",
        )
    s = result.overall
    common: dict[str, Any] = {
        "judge": judge_name,
        "judge_version": judge_version,
        "calibrated_version": result.judge_version,
        "calibrated_at": result.created_at,
        "scale": result.scale,
        "n_labels": result.n_used,
        "kappa": s.weighted_kappa if s.scale == "likert-5" else s.kappa,
        "tpr": s.tpr.estimate if s.tpr else None,
        "tnr": s.tnr.estimate if s.tnr else None,
        "tp": s.tpr.successes if s.tpr else 0,
        "n_pos": s.tpr.n if s.tpr else 0,
        "tn": s.tnr.successes if s.tnr else 0,
        "n_neg": s.tnr.n if s.tnr else 0,
        "summary": s,
    }
    if judge_version is not None and judge_version != result.judge_version:
        return CalibrationStatus(
            **common,
            state="stale",
            detail=_stale_detail(result, judge_version, mode),
        )
    notes = []
    if result.labels_sha and result.labels_sha != file_sha(labels_path(project_root, judge_name)):
        notes.append("labels changed since the calibration: re-run `evalkit calibrate`")
    if result.state == "calibrated":
        detail = f"calibrated ({_figures(result)})"
    else:
        detail = f"{result.state}: " + "; ".join(result.reasons)
    return CalibrationStatus(
        **common, state=result.state, detail=detail, reasons=result.reasons, notes=notes
    )


def _ppi(
    project_root: Path, judge: str, run_id: str, graded: Sequence[tuple[str, bool, str]]
) -> PPIEstimate | None:
    """PPI++ from labels drawn at random from this run; None when there are none."""
    try:
        labels = read_labels(labels_path(project_root, judge), "binary")
    except InputError:
        return None
    human = {
        lab.output_sha: lab.label == "pass"
        for lab in labels
        if lab.run_id == run_id and lab.sampling.mode == "random"
    }
    if not human:
        return None
    y, f_lab, f_unl, c_lab, c_unl = [], [], [], [], []
    for sha, passed, case_id in graded:
        if sha in human:
            y.append(human[sha])
            f_lab.append(passed)
            c_lab.append(case_id)
        else:
            f_unl.append(passed)
            c_unl.append(case_id)
    if not y:
        return None
    return ppi_mean(y, f_lab, f_unl, clusters_labeled=c_lab, clusters_unlabeled=c_unl)


def calibration_section(
    records: Iterable[CaseRecord], project_root: Path, *, run_id: str | None = None
) -> dict[str, Any]:
    """Per judge of a run: pass rate, calibration status, corrected and PPI++ estimates.

    ``pass_rate`` is the one definition of :mod:`evalkit.analysis.caserates` (mean over graded cases
    of each case's share of graded repeats that passed), so it equals the Judges table's;
    ``n`` and ``errors`` count outputs. The Rogan–Gladen correction takes that same rate
    (:func:`~evalkit.analysis.stats.correction.run_counts` weights each verdict by 1/(graded
    repeats of
    its case); the correction is linear, so it estimates the per-case mean of the true pass
    rate) and ``corrected.observed`` equals ``pass_rate``. PPI++ stays an output-level mean:
    its labels are drawn at random among outputs, so it estimates the true pass rate pooled
    over outputs, which is the same quantity whenever every case has as many graded repeats.

    JSON-ready; store it as ``summary["calibration"]`` and the markdown report renders it.
    """
    rows = CalibrationRows()
    for rec in records:
        rows.add(rec)
    return rows.section(project_root, run_id=run_id)


class CalibrationRows:
    """What :func:`calibration_section` needs of a run, gathered record by record: per judge
    verdict a version, outcome, output hash and case id (never the output itself)."""

    def __init__(self) -> None:
        self.verdicts: dict[str, list[tuple[str, Outcome, str | None, str]]] = defaultdict(list)
        self.tallies: dict[str, Tally] = defaultdict(Tally)
        #: (judge, version) → the output mode of its verdicts
        self.modes: dict[tuple[str, str], str] = {}

    def add(self, rec: CaseRecord) -> None:
        if not rec.judges:
            return
        sha = output_sha(rec.output) if rec.output is not None else None
        versions_here: dict[str, str] = {}
        for j in rec.judges:
            versions_here.setdefault(j.name, j.version)
            self.modes.setdefault((j.name, j.version), j.output_mode)
        # several verdicts under one name on one output combine as in the Judges table
        for name, outcome in per_name((j.name, j.outcome) for j in rec.judges).items():
            self.verdicts[name].append((versions_here[name], outcome, sha, rec.case_id))
            self.tallies[name].add(rec.case_id, outcome)

    def section(self, project_root: Path, *, run_id: str | None = None) -> dict[str, Any]:
        """The section itself (see :func:`calibration_section`)."""
        return _section(self.verdicts, self.tallies, self.modes, project_root, run_id)


def _section(
    verdicts: dict[str, list[tuple[str, Outcome, str | None, str]]],
    tallies: dict[str, Tally],
    modes: dict[tuple[str, str], str],
    project_root: Path,
    run_id: str | None,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in sorted(verdicts):
        rows = verdicts[name]
        versions = Counter(v for v, _, _, _ in rows)
        version = versions.most_common(1)[0][0]
        graded = [
            (sha or "", o is Outcome.PASS, case_id)
            for _, o, sha, case_id in rows
            if o is not Outcome.ERROR
        ]
        counts = rates(tallies[name])
        status = calibration_status(name, version, project_root, modes.get((name, version)))
        entry: dict[str, Any] = {
            "judge_version": version,
            "status": status.state,
            "detail": status.detail,
            "pass_rate": counts["pass_rate"],
            "n": len(graded),
            "errors": counts["error"],
            "corrected": None,
            "ppi": None,
        }
        if len(versions) > 1:
            entry["detail"] += f" (run mixes {len(versions)} judge versions; using {version})"
        binary = status.scale in (None, "binary")
        if status.state not in ("uncalibrated", "stale") and status.scale == "binary":
            assert status.summary is not None  # a stored calibration exists in these states
            cases = [c for _, _, c in graded]
            fix = corrected_pass_rate([p for _, p, _ in graded], status.summary, cases)
            entry["corrected"] = fix.model_dump(mode="json")
        if binary and run_id:
            ppi = _ppi(project_root, name, run_id, graded)
            entry["ppi"] = ppi.model_dump(mode="json") if ppi else None
        out[name] = entry
    return out


def comparison_calibration(
    base: tuple[Iterable[CaseRecord], str],
    head: tuple[Iterable[CaseRecord], str],
    project_root: Path,
) -> dict[str, dict[str, Any]]:
    """``{"base": section, "head": section}`` for ``comparison_markdown(calibration=...)``;
    each side is ``(records, run_id)``."""
    return {
        "base": calibration_section(base[0], project_root, run_id=base[1]),
        "head": calibration_section(head[0], project_root, run_id=head[1]),
    }
