"""Pass rates corrected for a judge's known error, from its calibration against human labels.

A judge with TPR 0.85 and TNR 0.8 reports 65.5% pass on outputs that truly pass 70% of the time:
its errors do not cancel. Two corrections, for two situations:

* :func:`rogan_gladen`: the run has N judged outputs and the judge has a calibration (human
  labels on *any* outputs, n_pos human passes and n_neg human fails). The Rogan–Gladen (1978)
  estimator θ = (p + TNR − 1)/(TPR + TNR − 1), clipped to [0, 1].

  Interval: MOVER (:mod:`evalkit.analysis.stats.mover`): Wilson limits of the three shares
  (the run's judge pass rate, TPR and the false-pass rate 1 − TNR), recombined square-and-add
  into an interval for f(θ₀) = p − θ₀·TPR − (1 − θ₀)·FPR, and θ₀ kept where that interval holds
  0 (Fieller's argument; MOVER-R, Newcombe 2016). It replaced Lang & Reiczigel's (2014)
  adjusted delta method, whose pseudo-counts (1 success of 2 on TPR and TNR) kept it valid but
  covered 98–99.6% at 20 labels per class; MOVER covers 94.2–98.4% over θ 0.05–0.95, three
  judges and 20–100 labels per class (2,000 runs each), with no cell below 93% beyond
  simulation error. The plain delta method fell to 78% and a parametric percentile bootstrap
  to 77% in the first study, when an estimated TPR or TNR sits at 1 with few labels (zero
  estimated variance); Wilson's limits never collapse so. Where no θ₀ in [0, 1] fits (the
  run's pass rate lies below the judge's false-pass rate, or above its TPR, by more than
  chance allows) there is no figure: the judge's error rates on this run are not the
  calibration's.

  Unstable (no number) when TPR + TNR − 1 < ``min_youden`` (0.2 by default) or when its own
  (MOVER) interval reaches 0 (Fieller's condition: the ratio's confidence set is then
  unbounded). Below 0.2 the correction multiplies every error in p by more than 5, and with
  30–60 labels per class the denominator's standard error (≈0.1) is half its size, so the
  ratio is dominated by noise. The default calibration gate (TPR, TNR ≥ 0.7) implies
  TPR + TNR − 1 ≥ 0.4 anyway.

  No figure below ``RG_MIN_PER_CLASS`` = 20 human labels in either class: at 10 per class the
  interval is mostly undefined (Fieller), and Wilson's limits are near-nominal only from about
  20 draws. From 20 per class it covers 94.6–99.3% over the grid of
  ``benchmarks/bench_coverage_correction.py`` (above 97% only with a near-perfect judge,
  TPR = TNR = 0.95, at a 50% pass rate and 20–30 labels per class). Labels drawn stratified by
  the judge's verdict (20 per verdict at least) give TPR and TNR as two-phase effective counts
  (:mod:`evalkit.analysis.calibration.weights`): 92.9–99.0% at 20 per verdict, 94.1–97.0% at
  100. With repeats, the run's counts are deflated by the cluster design effect
  (:func:`run_counts`): counted as independent records the interval covered 67–87% in the
  audit, 71–90% in the benchmark (93–95% clustered).

* :func:`evalkit.analysis.stats.ppi.ppi_mean` (PPI++) corrects a run from labels drawn from the run
  itself.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict

from evalkit.analysis.stats.agreement import CalibrationSummary
from evalkit.analysis.stats.design import effective_n
from evalkit.analysis.stats.interval import Interval, z_two_sided
from evalkit.analysis.stats.mover import rogan_gladen_limits, youden_lower

DEFAULT_MIN_YOUDEN = 0.2
#: labels per class below which no Rogan–Gladen figure is shown (see the module docstring)
RG_MIN_PER_CLASS = 20
INTERVAL_METHOD = "mover-wilson"


class CorrectedPassRate(BaseModel):
    """A Rogan–Gladen corrected pass rate, or the reason there is none."""

    model_config = ConfigDict(frozen=True)

    observed: float | None  # the judge's raw pass rate on the run
    estimate: float | None
    interval: Interval | None
    youden: float | None  # TPR + TNR − 1 from the calibration
    unstable: bool
    reason: str | None = None
    method: str = INTERVAL_METHOD


def _count(x: float) -> str:
    return f"{x:.0f}" if abs(x - round(x)) < 1e-9 else f"{x:.1f}"


def rogan_gladen_point(p: float, tpr: float, tnr: float) -> float | None:
    """(p + TNR − 1)/(TPR + TNR − 1) clipped to [0, 1]; ``None`` when TPR + TNR ≤ 1."""
    youden = tpr + tnr - 1.0
    if youden <= 0.0:
        return None
    return float(np.clip((p + tnr - 1.0) / youden, 0.0, 1.0))


def rogan_gladen(
    judge_passes: float,
    n_judged: float,
    tp: float,
    n_pos: float,
    tn: float,
    n_neg: float,
    *,
    confidence: float = 0.95,
    min_youden: float = DEFAULT_MIN_YOUDEN,
    min_per_class: float = RG_MIN_PER_CLASS,
    rates_correlation: float = 0.0,
    labels_per_class: tuple[int, int] | None = None,
    labels_per_verdict: tuple[int, int] | None = None,
) -> CorrectedPassRate:
    """Bias-corrected pass rate of a run from the judge's calibration counts.

    ``judge_passes`` of ``n_judged`` outputs passed by the judge in the run (errors excluded);
    calibration: the judge passed ``tp`` of ``n_pos`` human passes and failed ``tn`` of ``n_neg``
    human fails. Assumes the judge's TPR and TNR on this run equal those in the calibration (the
    estimator's one real assumption: recalibrate when the outputs change in kind), and three
    independent binomial samples. Counts may be *effective* counts
    (:mod:`evalkit.analysis.stats.design`):
    a run with repeats passes its design-effect-deflated counts, a stratified calibration its
    linearised ones, with ``rates_correlation`` the correlation of its TPR and TNR estimates
    (the delta method's covariance term; 0 for random labels). Fewer than ``min_per_class``
    labels in a class: no figure. The rule counts the labels actually collected
    (``labels_per_class``, human passes and fails; default ``n_pos``, ``n_neg``), never
    effective counts: those are estimates, and withholding the figure when they came out
    small would select the samples whose variance came out small, and undercover.
    Labels drawn stratified by the judge's verdict pass ``labels_per_verdict`` (labels the judge
    passed, labels it failed): the design fixes those, while the human classes' counts are then
    random and move with the rates themselves. Withholding the figure when a human class came
    out small showed it only in the calibrations that drew unusually many of that class, and
    those covered 78% (θ 0.3, 20 labels per verdict); the rule then counts labels per verdict.
    """
    for name, k, n in (("run", judge_passes, n_judged), ("TPR", tp, n_pos), ("TNR", tn, n_neg)):
        if n < 0 or not 0 <= k <= n:
            raise ValueError(f"{name}: count {k} outside 0..{n}")
    observed = judge_passes / n_judged if n_judged else None
    reason = None
    if n_pos == 0 or n_neg == 0:
        missing = "pass" if n_pos == 0 else "fail"
        reason = f"no human '{missing}' labels: the judge's error rates are unknown"
        return CorrectedPassRate(
            observed=observed, estimate=None, interval=None, youden=None, unstable=True,
            reason=reason,
        )  # fmt: skip
    first: float
    second: float
    if labels_per_verdict is not None:
        first, second = labels_per_verdict
        counted, rule = f"{first} the judge passed, {second} it failed", "per judge verdict"
    else:
        first, second = labels_per_class or (n_pos, n_neg)
        counted, rule = f"{_count(first)} pass, {_count(second)} fail", "per class"
    if min(first, second) < min_per_class:
        return CorrectedPassRate(
            observed=observed, estimate=None, interval=None, youden=None, unstable=False,
            reason=f"too few labels ({counted}; need {_count(min_per_class)} {rule})",
        )  # fmt: skip
    tpr, tnr = tp / n_pos, tn / n_neg
    youden = tpr + tnr - 1.0
    z = z_two_sided(confidence)
    if youden <= 0.0:
        reason = f"TPR + TNR − 1 = {youden:.2f} ≤ 0: the judge does no better than chance"
    elif youden < min_youden:
        reason = f"TPR + TNR − 1 = {youden:.2f} < {min_youden:.2f}: the judge barely separates"
    elif youden_lower(tp, n_pos, tn, n_neg, z, rates_correlation) <= 0.0:
        reason = "TPR + TNR − 1 is not clearly above 0 given the labels: more labels needed"
    if reason is not None:
        return CorrectedPassRate(
            observed=observed, estimate=None, interval=None, youden=youden, unstable=True,
            reason=reason,
        )  # fmt: skip
    if observed is None:
        return CorrectedPassRate(
            observed=None, estimate=None, interval=None, youden=youden, unstable=False,
            reason="no judged outputs in the run",
        )  # fmt: skip
    estimate = rogan_gladen_point(observed, tpr, tnr)
    assert estimate is not None  # youden >= min_youden > 0 here
    limits = rogan_gladen_limits(judge_passes, n_judged, tp, n_pos, tn, n_neg, z, rates_correlation)
    low, high = float(limits[0]), float(limits[1])
    if np.isnan(low):
        side, bound = ("below", 1.0 - tnr) if observed < 1.0 - tnr else ("above", tpr)
        what = "false-pass rate (1 − TNR)" if side == "below" else "TPR"
        return CorrectedPassRate(
            observed=observed, estimate=None, interval=None, youden=youden, unstable=False,
            reason=f"the judge passed {observed:.1%} of the run, {side} its {what} on the "
            f"labels ({bound:.1%}) by more than chance allows: its error rates on this run "
            "differ from the calibration's; recalibrate on outputs like these",
        )  # fmt: skip
    # the interval holds the clipped estimate by construction, bar rounding at its ends
    return CorrectedPassRate(
        observed=observed,
        estimate=estimate,
        interval=Interval(low=min(low, estimate), high=max(high, estimate), confidence=confidence),
        youden=youden,
        unstable=False,
    )


def run_counts(
    passed: Sequence[bool], case_ids: Sequence[Hashable] | None = None
) -> tuple[float, float]:
    """``(judge_passes, n_judged)`` of a run as *effective* counts for :func:`rogan_gladen`.

    With ``case_ids``, ``judge_passes / n_judged`` is the run's pass rate as evalkit defines it
    everywhere (:mod:`evalkit.analysis.caserates`): the mean over cases of each case's share of
    graded
    verdicts that passed, i.e. verdicts weighted by 1/(graded repeats of their case). The
    Rogan–Gladen correction is linear in that rate, so the corrected figure estimates the same
    per-case mean of the true pass rate. With repeats, outputs of one case are correlated and
    the binomial variance of the rate is too small (the audit's 67–87% coverage): ``n_judged``
    is the cluster-design effective size of that weighted mean
    (:func:`evalkit.analysis.stats.design.effective_n`, clusters = cases), never above the number of
    outputs. Every case with the same number of graded repeats gives the plain cluster-deflated
    counts; without ``case_ids`` they are the plain counts.
    """
    n = len(passed)
    k = float(sum(passed))
    if case_ids is None or n < 2 or len(set(case_ids)) == n:
        return k, float(n)
    per_case = Counter(case_ids)
    weights = np.array([1.0 / per_case[c] for c in case_ids])
    y = np.asarray(passed, dtype=float)
    rate = float(np.sum(weights * y) / np.sum(weights))
    n_eff = min(float(n), effective_n(y, weights=weights, clusters=case_ids))
    return rate * n_eff, n_eff


def corrected_pass_rate(
    passed: Sequence[bool],
    summary: CalibrationSummary,
    case_ids: Sequence[Hashable] | None = None,
    *,
    confidence: float = 0.95,
    min_youden: float = DEFAULT_MIN_YOUDEN,
) -> CorrectedPassRate:
    """:func:`rogan_gladen` of a run's judge verdicts (``case_ids`` cluster its repeats) with a
    calibration summary's TPR and TNR: their (effective) counts and correlation, the one
    definition every report uses."""
    k, n = run_counts(passed, case_ids)
    tpr, tnr = summary.tpr, summary.tnr
    # the estimate times the (effective) count: a stratified rate's rounded successes would
    # move it (3.44 of 4 is not 3 of 4)
    return rogan_gladen(
        k,
        n,
        tpr.estimate * tpr.n if tpr else 0,
        tpr.n if tpr else 0,
        tnr.estimate * tnr.n if tnr else 0,
        tnr.n if tnr else 0,
        confidence=confidence,
        min_youden=min_youden,
        rates_correlation=summary.rates_correlation or 0.0,
        labels_per_class=(summary.n_pass, summary.n_fail),
        labels_per_verdict=_per_verdict(summary),
    )


def _per_verdict(summary: CalibrationSummary) -> tuple[int, int] | None:
    """Labels the judge passed and failed, when they were drawn stratified by its verdict."""
    counts = summary.labels_per_verdict
    return None if counts is None else (counts["pass"], counts["fail"])
