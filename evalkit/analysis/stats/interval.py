"""Confidence intervals for proportions: the Wilson score interval, and the models that carry
intervals through calibration reports."""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np
from pydantic import BaseModel, ConfigDict

from evalkit.analysis.stats._beta import beta_ppf, t_ppf


class Interval(BaseModel):
    """A two-sided confidence interval."""

    model_config = ConfigDict(frozen=True)

    low: float
    high: float
    confidence: float = 0.95


class Proportion(BaseModel):
    """``successes / n`` with its Wilson score interval."""

    model_config = ConfigDict(frozen=True)

    successes: int
    n: int
    estimate: float
    interval: Interval


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> Interval | None:
    """Wilson score interval for a binomial proportion; ``None`` when ``n == 0``."""
    if n <= 0:
        return None
    if not 0 <= successes <= n:
        raise ValueError(f"successes={successes} outside 0..n={n}")
    return _wilson_float(successes / n, n, confidence)


def proportion(successes: int, n: int, confidence: float = 0.95) -> Proportion | None:
    """``successes / n`` with its Wilson interval; ``None`` when there is nothing to divide."""
    interval = wilson_interval(successes, n, confidence)
    if interval is None:
        return None
    return Proportion(successes=successes, n=n, estimate=successes / n, interval=interval)


#: fewer graded cases than this and a run's pass-rate interval is not shown: the spread of the
#: per-case means, which the interval rests on when there are repeats, is not yet estimable
#: (coverage over a grid: benchmarks/bench_coverage_run.py)
MIN_CASES_FOR_INTERVAL = 5
#: with repeats, fewer cases than this on the minority side (not all-pass when most pass, not
#: all-fail when most fail) and the interval claims no more information than the cases alone
_MIN_MINORITY = 10


def case_mean_interval(
    case_rates: Sequence[float], repeats: int, confidence: float = 0.95
) -> tuple[Interval | None, str]:
    """Interval for a run's pass rate (the mean of per-case pass rates), or why none is shown.

    Repeats of one case are correlated, so the outputs are not independent draws and a binomial
    interval on them would be too narrow. With one repeat per case the graded cases are
    Bernoulli draws: the Clopper-Pearson interval on cases. With repeats, the Korn-Graubard
    interval for clustered proportions: Clopper-Pearson at the effective sample size
    ``p(1-p) / var(mean)`` (the variance taken from the spread of the per-case means, capped at
    the number of outputs) shrunk by ``(z / t[n-1])^2`` for estimating that variance from n
    cases; at most n when fewer than 10 cases sit away from the extreme the pass rate is near.
    Returns ``(interval, method)`` or ``(None, reason it is not shown)``.
    """
    rates = np.array([r for r in case_rates if not math.isnan(r)], dtype=np.float64)
    n = int(rates.size)
    if n < MIN_CASES_FOR_INTERVAL:
        return None, f"fewer than {MIN_CASES_FOR_INTERVAL} graded cases"
    p = float(rates.mean())
    if repeats <= 1:
        return _clopper_pearson(p * n, n, confidence), "Clopper-Pearson on cases"
    var_mean = float(rates.var(ddof=1)) / n
    if var_mean <= 0:
        # every case alike: all pass or all fail (nothing beyond the cases is known), or all
        # at the same share of repeats (the outputs carry the information)
        n_eff = float(n if p in (0.0, 1.0) else n * repeats)
    else:
        n_eff = min(p * (1 - p) / var_mean, float(n * repeats))
    if min(int((rates < 1).sum()), int((rates > 0).sum())) < _MIN_MINORITY:
        # a pass rate near 0 or 1 whose spread rests on a handful of cases: that spread is
        # easily underestimated (simulated coverage fell to 91%). Claim no more than n cases:
        # per-case means in [0, 1] vary at most as Bernoulli draws do
        n_eff = min(n_eff, float(n))
    n_eff = korn_graubard(n_eff, n - 1, confidence)
    return _clopper_pearson(p * n_eff, n_eff, confidence), "Korn-Graubard on per-case means"


def z_two_sided(confidence: float) -> float:
    """The normal quantile of a two-sided interval at ``confidence`` (stdlib: keeps scipy out of
    the imports)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def korn_graubard(n_eff: float, df: float, confidence: float) -> float:
    """An effective sample size shrunk by ``(z / t_df)^2`` (Korn and Graubard, 1998): a variance
    that rests on ``df`` degrees of freedom is itself uncertain, so it claims fewer cases."""
    return n_eff * (z_two_sided(confidence) / t_ppf(0.5 + confidence / 2, df)) ** 2


def _clopper_pearson(successes: float, n: float, confidence: float) -> Interval:
    """Clopper-Pearson (exact binomial) interval; fractional counts for effective sizes."""
    x, q = successes, (1 - confidence) / 2
    low = 0.0 if x <= 0 else beta_ppf(q, x, n - x + 1)
    high = 1.0 if x >= n else beta_ppf(1 - q, x + 1, n - x)
    return Interval(low=low, high=high, confidence=confidence)


def _wilson_float(p: float, n: float, confidence: float) -> Interval:
    """Wilson score interval for proportion ``p`` at sample size ``n``."""
    z = z_two_sided(confidence)
    denom = 1 + z * z / n
    center = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return Interval(
        low=max(0.0, center - half), high=min(1.0, center + half), confidence=confidence
    )
