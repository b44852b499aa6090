"""Pass rates corrected for a judge's known error, from its calibration against human labels.

A judge with TPR 0.85 and TNR 0.8 reports 65.5% pass on outputs that truly pass 70% of the time:
its errors do not cancel. Two corrections, for two situations:

* :func:`rogan_gladen`: the run has N judged outputs and the judge has a calibration (human
  labels on *any* outputs, n_pos human passes and n_neg human fails). The Rogan–Gladen (1978)
  estimator θ = (p + TNR − 1)/(TPR + TNR − 1), clipped to [0, 1].

  Interval: Lang & Reiczigel (2014, Prev. Vet. Med. 113:13–22), an adjusted delta method that
  propagates all three binomial samples (run, human passes, human fails): Agresti–Coull-style
  pseudo-counts on p, TPR and TNR plus a shift for the ratio's skew. Chosen by simulation over 486
  scenarios (θ 0.05–0.98, TPR and TNR 0.7–0.95, n 100–3000, 30–200 labels per class, 2,000
  runs each): its coverage never fell below 94.2% (median 95.9%). The plain delta method fell to
  78% and a parametric percentile bootstrap to 77%, both when an estimated TPR or TNR sits at 1
  with few labels (zero estimated variance); at θ=0.7, TPR=0.85, TNR=0.8, n=500, 60+60 labels
  all three covered 94–96%.

  Unstable (no number) when TPR + TNR − 1 < ``min_youden`` (0.2 by default) or when its own
  interval reaches 0 (Fieller's condition: the ratio's confidence set is then unbounded). Below
  0.2 the correction multiplies every error in p by more than 5, and with 30–60 labels per class
  the denominator's standard error (≈0.1) is half its size, so the ratio is dominated by noise.
  The default calibration gate (TPR, TNR ≥ 0.7) implies TPR + TNR − 1 ≥ 0.4 anyway.

* :func:`ppi_mean`: some outputs *of this run*, drawn at random, carry a human label as well as
  the judge's verdict. Prediction-powered inference with power tuning (PPI++, Angelopoulos, Duchi
  & Zrnic 2023, arXiv:2311.01453): θ = λ·mean(judge on unlabelled) + mean(human − λ·judge on
  labelled), λ chosen to minimise the variance and clipped to [0, 1] (λ = 0 is the human-only
  estimate, so a useless judge costs nothing asymptotically), with its CLT interval.
"""

from __future__ import annotations

from collections.abc import Iterable
from statistics import NormalDist

import numpy as np
from pydantic import BaseModel, ConfigDict

from evalkit.stats.agreement import BinaryLike, CalibrationSummary, as_binary
from evalkit.stats.interval import Interval

DEFAULT_MIN_YOUDEN = 0.2
INTERVAL_METHOD = "lang-reiczigel-2014"


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


class PPIEstimate(BaseModel):
    """A prediction-powered (PPI++) pass rate with its CLT interval."""

    model_config = ConfigDict(frozen=True)

    estimate: float | None
    interval: Interval | None
    se: float | None
    lam: float | None
    n_labeled: int
    n_unlabeled: int
    reason: str | None = None


def _z(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return NormalDist().inv_cdf(0.5 + confidence / 2)  # stdlib: keeps scipy out of imports


def rogan_gladen_point(p: float, tpr: float, tnr: float) -> float | None:
    """(p + TNR − 1)/(TPR + TNR − 1) clipped to [0, 1]; ``None`` when TPR + TNR ≤ 1."""
    youden = tpr + tnr - 1.0
    if youden <= 0.0:
        return None
    return float(np.clip((p + tnr - 1.0) / youden, 0.0, 1.0))


def rogan_gladen(
    judge_passes: int,
    n_judged: int,
    tp: int,
    n_pos: int,
    tn: int,
    n_neg: int,
    *,
    confidence: float = 0.95,
    min_youden: float = DEFAULT_MIN_YOUDEN,
) -> CorrectedPassRate:
    """Bias-corrected pass rate of a run from the judge's calibration counts.

    ``judge_passes`` of ``n_judged`` outputs passed by the judge in the run (errors excluded);
    calibration: the judge passed ``tp`` of ``n_pos`` human passes and failed ``tn`` of ``n_neg``
    human fails. Assumes the judge's TPR and TNR on this run equal those in the calibration (the
    estimator's one real assumption: recalibrate when the outputs change in kind), and three
    independent binomial samples: with repeats > 1 the run's outputs are clustered by case and
    the interval is somewhat too narrow.
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
    tpr, tnr = tp / n_pos, tn / n_neg
    youden = tpr + tnr - 1.0
    z = _z(confidence)
    # Lang & Reiczigel (2014): pseudo-counts z²/2 of z² on p, 1 of 2 on TPR and TNR.
    n_p = n_judged + z * z
    p_a = (judge_passes + z * z / 2) / n_p
    n_se, n_sp = n_pos + 2, n_neg + 2
    se_a, sp_a = (tp + 1) / n_se, (tn + 1) / n_sp
    var_se, var_sp = se_a * (1 - se_a) / n_se, sp_a * (1 - sp_a) / n_sp
    youden_a = se_a + sp_a - 1.0
    if youden <= 0.0:
        reason = f"TPR + TNR − 1 = {youden:.2f} ≤ 0: the judge does no better than chance"
    elif youden < min_youden:
        reason = f"TPR + TNR − 1 = {youden:.2f} < {min_youden:.2f}: the judge barely separates"
    elif youden_a - z * np.sqrt(var_se + var_sp) <= 0.0:
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
    theta_a = (p_a + sp_a - 1.0) / youden_a
    sd = (
        np.sqrt(p_a * (1 - p_a) / n_p + theta_a**2 * var_se + (1 - theta_a) ** 2 * var_sp)
        / youden_a
    )
    shift = 2 * z * z * (theta_a * var_se - (1 - theta_a) * var_sp)
    # The adjusted centre can miss the plain estimate with a handful of labels (1 label, 1 output):
    # widen to include it rather than report an interval that excludes its own point.
    low = min(float(np.clip(theta_a + shift - z * sd, 0.0, 1.0)), estimate)
    high = max(float(np.clip(theta_a + shift + z * sd, 0.0, 1.0)), estimate)
    return CorrectedPassRate(
        observed=observed,
        estimate=estimate,
        interval=Interval(low=low, high=high, confidence=confidence),
        youden=youden,
        unstable=False,
    )


def corrected_pass_rate(
    judge_passes: int,
    n_judged: int,
    summary: CalibrationSummary,
    *,
    confidence: float = 0.95,
    min_youden: float = DEFAULT_MIN_YOUDEN,
) -> CorrectedPassRate:
    """:func:`rogan_gladen` with the calibration counts taken from a calibration summary."""
    cm = summary.confusion
    return rogan_gladen(
        judge_passes,
        n_judged,
        cm.tp,
        cm.tp + cm.fn,
        cm.tn,
        cm.tn + cm.fp,
        confidence=confidence,
        min_youden=min_youden,
    )


def ppi_mean(
    human: Iterable[BinaryLike],
    judge_labeled: Iterable[BinaryLike],
    judge_unlabeled: Iterable[BinaryLike],
    *,
    confidence: float = 0.95,
    lam: float | None = None,
) -> PPIEstimate:
    """PPI++ estimate of the run's true pass rate.

    ``human``/``judge_labeled``: label and verdict on the n outputs drawn *at random from this
    run* for labelling; ``judge_unlabeled``: verdicts on the N other outputs of the run (errors
    excluded throughout). ``lam=None`` tunes λ = Cov(human, judge)/((1 + n/N)·Var(judge)),
    clipped to [0, 1] as in the reference implementation (ppi_py); ``lam=0`` gives the
    human-only CLT interval, ``lam=1`` plain PPI.
    """
    y = as_binary(human, "human").astype(float)
    f = as_binary(judge_labeled, "judge_labeled").astype(float)
    fu = as_binary(judge_unlabeled, "judge_unlabeled").astype(float)
    n, big_n = y.size, fu.size
    if f.size != n:
        raise ValueError(f"human and judge_labeled differ in length: {n} vs {f.size}")
    if n < 2:
        return PPIEstimate(
            estimate=None, interval=None, se=None, lam=None, n_labeled=n, n_unlabeled=big_n,
            reason="fewer than 2 outputs with a human label",
        )  # fmt: skip
    if lam is None:
        var_f = float(np.var(np.concatenate([f, fu]), ddof=1))
        if big_n == 0 or var_f == 0.0:
            lam = 0.0
        else:
            cov = float(np.cov(y, f, ddof=1)[0, 1])
            lam = float(np.clip(cov / ((1 + n / big_n) * var_f), 0.0, 1.0))
    elif big_n == 0 and lam != 0.0:
        raise ValueError("lam must be 0 when there are no unlabelled outputs")
    rectifier = y - lam * f
    imputed = lam * float(fu.mean()) if big_n else 0.0
    theta = imputed + float(rectifier.mean())
    var = float(np.var(rectifier, ddof=1)) / n
    if big_n > 1:
        var += lam * lam * float(np.var(fu, ddof=1)) / big_n
    se = float(np.sqrt(var))
    z = _z(confidence)
    reason = None if se > 0 else "zero estimated variance: every label and verdict agreed"
    return PPIEstimate(
        estimate=float(np.clip(theta, 0.0, 1.0)),
        interval=Interval(
            low=float(np.clip(theta - z * se, 0.0, 1.0)),
            high=float(np.clip(theta + z * se, 0.0, 1.0)),
            confidence=confidence,
        ),
        se=se,
        lam=lam,
        n_labeled=n,
        n_unlabeled=big_n,
        reason=reason,
    )
