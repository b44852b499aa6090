"""Paired statistics for comparing two runs on the same golden cases.

Why paired: both runs answer the same cases, so case difficulty cancels out and a 3-point drop on
80 cases can be told apart from noise far better than by comparing two independent pass rates.

Inputs are per-case pass rates in ``[0, 1]`` (repeats averaged per case first) with ``NaN`` for a
case that could not be graded (every repeat an error). A pair with an error on either side is
excluded pairwise and counted separately: errors are never folded into pass or fail.

One test gives the direction, the interval, the p-value and so the verdict
(:func:`paired_test`): a t statistic on the per-case differences ``head - base``, made valid at
small counts by Agresti & Min's (2005) pseudo-pairs (half a discordant pair each way and one
concordant pair), so an interval never has zero width ([0, 0] with no discordant pair, [1, 1]
when every case flipped). Without repeats and clusters this is Agresti–Min's adjusted Wald
interval for matched proportions, with a t quantile on ``n + 1`` degrees of freedom (the
weighted t-test of statsmodels ``DescrStatsW`` on the data plus the pseudo-pairs). With a
cluster key the standard error is cluster-robust (CR2, the Bell–McCaffrey bias-reduced sandwich,
which for a mean needs only each cluster's residual sum) with ``G - 1`` degrees of freedom, never
smaller than the independent-case error. The p-value is the inverse of the interval: the
interval at level ``1 - a`` excludes 0 exactly when ``p < a``, so figures and verdicts can never
disagree.

* :func:`holm` and :func:`holm_levels`: Holm's step-down adjusted p-values (identical to
  statsmodels ``multipletests('holm')``) and the level of each metric's adjusted interval.
* :func:`minimum_detectable_effect` / :func:`cases_needed`: power at a given level, 0.8 power.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

# scipy.special, not scipy.stats: the same functions (t.sf is stdtr, t.ppf stdtrit, norm.ppf
# ndtri), without the seconds scipy.stats takes to import on every `evalkit compare`
from scipy import special

ALPHA = 0.05
POWER = 0.8
#: fewer paired cases than this and no verdict is given ("insufficient data"): the exact sign
#: test cannot reach p < 0.05 below 6 pairs, and the interval's coverage was checked from 10 up
#: (benchmarks/bench_coverage_compare.py)
MIN_PAIRS = 10
#: fewer cases whose pass rate changed (either way) than this and no interval or p-value is
#: shown: the t interval then rests on a handful of changes (a Poisson-like count whose spread it
#: underestimates; 77% coverage with fewer than 5 changes out of 300 cases at a 95% pass rate,
#: benchmarks/bench_coverage_compare.py), and even the exact sign test cannot reach p < 0.05 on
#: fewer than 6 changes, so no verdict is lost
MIN_CHANGED = 5
#: fewer clusters than this: the small-sample correction is applied and the user is warned
FEW_CLUSTERS = 20
#: a cluster-robust test needs at least this many clusters (degrees of freedom G - 1)
MIN_CLUSTERS = 5
#: discordance rate assumed when too few discordant pairs were seen to estimate it (conservative:
#: larger than typical prompt-change churn, so the minimum detectable effect is not understated)
DEFAULT_DISCORDANCE = 0.2
#: fewer discordant pairs than this and the observed discordance rate is not trusted alone
_MIN_DISCORDANT = 5

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class PairedTest:
    """Head minus base over the pairs graded on both sides, and the one test on it.

    ``diff`` is the plain mean difference (what is reported); ``estimate`` is the centre of the
    interval (the Agresti–Min adjusted mean, shrunk towards 0 by ``n / (n + 2)``).
    """

    n: int
    n_excluded: int
    n_clusters: int
    base_mean: float
    head_mean: float
    diff: float
    base_better: int
    head_better: int
    estimate: float
    se: float
    se_independent: float
    df: float
    p_value: float

    @property
    def valid(self) -> bool:
        """Whether the test could be computed (enough pairs and clusters for a variance)."""
        return math.isfinite(self.p_value)

    @property
    def changed(self) -> int:
        """Pairs whose pass rate differs between the runs (either way)."""
        return self.base_better + self.head_better

    @property
    def shown(self) -> bool:
        """Whether compare shows this test's interval and p-value: a valid test on at least
        :data:`MIN_PAIRS` pairs of which at least :data:`MIN_CHANGED` changed."""
        return self.valid and self.n >= MIN_PAIRS and self.changed >= MIN_CHANGED

    @property
    def design_effect(self) -> float:
        """Variance inflation from clustering (1 without clusters)."""
        if not (self.se_independent > 0 and math.isfinite(self.se)):
            return 1.0
        return max(1.0, (self.se / self.se_independent) ** 2)

    def interval(self, alpha: float = ALPHA) -> tuple[float, float]:
        """The ``1 - alpha`` interval; excludes 0 exactly when ``p_value < alpha``."""
        if not self.valid:
            return math.nan, math.nan
        half = float(special.stdtrit(self.df, 1 - alpha / 2)) * self.se
        return max(-1.0, self.estimate - half), min(1.0, self.estimate + half)


def _pairs(base: ArrayLike, head: ArrayLike) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    b = np.asarray(base, dtype=np.float64)
    h = np.asarray(head, dtype=np.float64)
    if b.shape != h.shape or b.ndim != 1:
        raise ValueError("base and head must be 1-d arrays of the same length")
    keep = ~(np.isnan(b) | np.isnan(h))
    return b[keep], h[keep], keep


def _cluster_codes(clusters: Sequence[object], keep: NDArray[np.bool_]) -> NDArray[np.intp]:
    if len(clusters) != keep.size:
        raise ValueError("clusters must have one entry per case")
    labels = np.asarray([str(c) for c in clusters], dtype=object)[keep]
    return np.unique(labels, return_inverse=True)[1].ravel()


def cluster_robust_se(d: ArrayLike, codes: ArrayLike) -> float:
    """CR2 standard error of the mean of ``d`` with clusters ``codes`` (``NaN`` below 2 clusters).

    For an intercept-only model the bias-reduced sandwich needs only each cluster's residual sum
    ``S_g`` and share ``n_g / n``: ``Var = sum_g S_g^2 / (1 - n_g / n) / n^2``; with equal clusters
    it equals the usual CR1 (``G / (G - 1)``) correction.
    """
    x = np.asarray(d, dtype=np.float64)
    _, g, sizes = np.unique(np.asarray(codes), return_inverse=True, return_counts=True)
    if sizes.size < 2:
        return math.nan
    n = x.size
    sums = np.bincount(g.ravel(), weights=x - x.mean())
    return float(math.sqrt(np.sum(sums**2 / (1 - sizes / n))) / n)


def paired_test(
    base: ArrayLike, head: ArrayLike, *, clusters: Sequence[object] | None = None
) -> PairedTest:
    """The paired test of ``head - base`` (see the module docstring); ``NaN`` pairs excluded."""
    b, h, keep = _pairs(base, head)
    n = b.size
    d = h - b
    codes = _cluster_codes(clusters, keep) if clusters is not None else np.arange(n)
    g = int(np.unique(codes).size) if clusters is not None else n  # each pair its own cluster
    nan = math.nan
    if n == 0:
        return PairedTest(0, int((~keep).sum()), 0, nan, nan, nan, 0, 0, nan, nan, nan, nan, nan)
    # Agresti–Min pseudo-pairs: +1 and -1 with weight 1/2 each, 0 with weight 1
    # (the weighted t-test of statsmodels' DescrStatsW on the data plus these weights)
    n_adj = n + 2
    estimate = float(d.sum() / n_adj)
    var_pair = float((np.sum(d * d) + 1.0) / n_adj - estimate**2)
    se_ind = math.sqrt(var_pair / (n_adj - 1))
    se, df = se_ind, float(n_adj - 1)
    if clusters is not None:
        se_cl = cluster_robust_se(d, codes) if g >= MIN_CLUSTERS else nan
        se, df = max(se_cl, se_ind), float(g - 1)
        if math.isnan(se_cl):
            se = nan
    p = nan
    if n >= 2 and math.isfinite(se):
        p = float(2 * special.stdtr(df, -abs(estimate) / se))  # t.sf of |t| <= 1/2: p <= 1
    return PairedTest(
        n=n,
        n_excluded=int((~keep).sum()),
        n_clusters=g,
        base_mean=float(b.mean()),
        head_mean=float(h.mean()),
        diff=float(d.mean()),
        base_better=int((d < 0).sum()),
        head_better=int((d > 0).sum()),
        estimate=estimate,
        se=se,
        se_independent=se_ind,
        df=df,
        p_value=p,
    )


def holm(p_values: ArrayLike) -> FloatArray:
    """Holm step-down adjusted p-values; ``NaN`` entries stay ``NaN`` and leave the family."""
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    vals = p[ok]
    m = vals.size
    if m == 0:
        return out
    order = np.argsort(vals, kind="mergesort")
    adjusted = np.maximum.accumulate(vals[order] * np.arange(m, 0, -1))
    result = np.empty(m)
    result[order] = np.minimum(adjusted, 1.0)
    out[ok] = result
    return out


def holm_levels(p_values: ArrayLike, *, alpha: float = ALPHA) -> FloatArray:
    """The level ``a_i`` of each metric's Holm-adjusted interval (``NaN`` where ``p`` is).

    ``a_i = alpha / (m - k + 1)`` where ``k`` is the metric's rank, or the rank at which Holm's
    procedure stopped if that came first. Then the interval at ``1 - a_i`` excludes 0 exactly when
    the Holm-adjusted p-value is below ``alpha``: the step-down's own critical value for a
    rejected metric, and one its p-value already exceeds for a retained one.
    """
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return out
    adjusted = holm(p[ok])
    rank = np.empty(m, dtype=np.intp)
    rank[np.argsort(p[ok], kind="mergesort")] = np.arange(1, m + 1)
    stop = int((adjusted < alpha).sum()) + 1  # first rank Holm did not reject
    out[ok] = alpha / (m - np.minimum(rank, stop) + 1)
    return out


def discordance(base: ArrayLike, head: ArrayLike) -> float:
    """Discordance rate used for power: mean squared paired difference, trusted only with enough
    discordant pairs, otherwise raised to :data:`DEFAULT_DISCORDANCE` (conservative)."""
    b, h, _ = _pairs(base, head)
    if b.size == 0:
        return DEFAULT_DISCORDANCE
    d = h - b
    observed = float(np.mean(d * d))
    if int((d != 0).sum()) < _MIN_DISCORDANT:
        return max(observed, DEFAULT_DISCORDANCE)
    return observed


def _z_total(alpha: float, power: float) -> float:
    return float(special.ndtri(1 - alpha / 2) + special.ndtri(power))


def minimum_detectable_effect(
    n: int,
    *,
    discordance_rate: float = DEFAULT_DISCORDANCE,
    alpha: float = ALPHA,
    power: float = POWER,
    design_effect: float = 1.0,
) -> float:
    """Smallest pass-rate difference that ``n`` paired cases detect with the given power at
    level ``alpha`` (use the metric's Holm level where it is adjusted).

    Normal approximation for a paired difference of proportions: the variance of one paired
    difference is at most the discordance rate, times the design effect of clustering, so
    ``MDE = (z_{1-a/2} + z_power) * sqrt(p_d * deff / n)``.
    """
    if n <= 0:
        return math.inf
    return _z_total(alpha, power) * math.sqrt(max(discordance_rate, 0.0) * design_effect / n)


def cases_needed(
    effect: float,
    *,
    discordance_rate: float = DEFAULT_DISCORDANCE,
    alpha: float = ALPHA,
    power: float = POWER,
    design_effect: float = 1.0,
) -> int | None:
    """Paired cases needed to detect ``effect`` (inverse of :func:`minimum_detectable_effect`);
    ``None`` when the effect is zero (no number of cases detects nothing)."""
    effect = abs(effect)
    if effect == 0 or math.isnan(effect):
        return None
    deff = max(discordance_rate, 0.0) * design_effect
    return math.ceil((_z_total(alpha, power) / effect) ** 2 * deff)
