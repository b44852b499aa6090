"""Paired statistics for comparing two runs on the same golden cases.

Why paired: both runs answer the same cases, so case difficulty cancels out and a 3-point drop on
80 cases can be told apart from noise far better than by comparing two independent pass rates.

Inputs are per-case pass rates in ``[0, 1]`` (repeats averaged per case first) with ``NaN`` for a
case that could not be graded (every repeat an error). A pair with an error on either side is
excluded pairwise and counted separately: errors are never folded into pass or fail.

* :func:`paired_difference`: mean difference, its standard error and a t interval (identical to
  ``scipy.stats.ttest_rel``).
* :func:`mcnemar_exact`: exact McNemar test on the discordant pairs (binomial, identical to
  statsmodels ``mcnemar(exact=True)``). With repeats, a case counts as discordant in the direction
  its averaged rate moved: the exact sign test, which reduces to McNemar for single samples.
* :func:`bootstrap_means`/:func:`paired_bootstrap`: percentile intervals from paired resamples,
  vectorised (a weight matrix times the data, never a Python loop per resample), resampling whole
  clusters when cases share something (a document, a conversation) and so are not independent.
* :func:`holm`: Holm's step-down correction (identical to statsmodels ``multipletests('holm')``).
* :func:`minimum_detectable_effect` / :func:`cases_needed`: power at alpha 0.05 and power 0.8.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

ALPHA = 0.05
POWER = 0.8
#: discordance rate assumed when too few discordant pairs were seen to estimate it (conservative:
#: larger than typical prompt-change churn, so the minimum detectable effect is not understated)
DEFAULT_DISCORDANCE = 0.2
#: fewer discordant pairs than this and the observed discordance rate is not trusted alone
_MIN_DISCORDANT = 5
#: resamples per block of the bootstrap weight matrix (bounds memory at 10,000+ cases)
_BLOCK = 256

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class PairedDifference:
    """Head minus base over the pairs graded on both sides."""

    n: int
    n_excluded: int
    base_mean: float
    head_mean: float
    diff: float
    se: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class McNemar:
    """Discordant pairs: ``b`` where base was better, ``c`` where head was better."""

    b: int
    c: int
    p_value: float


def _pairs(base: ArrayLike, head: ArrayLike) -> tuple[FloatArray, FloatArray, int]:
    b = np.asarray(base, dtype=np.float64)
    h = np.asarray(head, dtype=np.float64)
    if b.shape != h.shape or b.ndim != 1:
        raise ValueError("base and head must be 1-d arrays of the same length")
    keep = ~(np.isnan(b) | np.isnan(h))
    return b[keep], h[keep], int((~keep).sum())


def paired_difference(
    base: ArrayLike, head: ArrayLike, *, alpha: float = ALPHA
) -> PairedDifference:
    """Mean paired difference with a t interval; ``NaN`` pairs are excluded and counted."""
    b, h, excluded = _pairs(base, head)
    n = b.size
    if n == 0:
        nan = math.nan
        return PairedDifference(0, excluded, nan, nan, nan, nan, nan, nan)
    d = h - b
    diff = float(d.mean())
    if n < 2:
        return PairedDifference(
            n, excluded, float(b.mean()), float(h.mean()), diff, math.nan, math.nan, math.nan
        )
    se = float(d.std(ddof=1) / math.sqrt(n))
    half = float(stats.t.ppf(1 - alpha / 2, n - 1)) * se
    return PairedDifference(
        n, excluded, float(b.mean()), float(h.mean()), diff, se, diff - half, diff + half
    )


def mcnemar_exact(base: ArrayLike, head: ArrayLike) -> McNemar:
    """Exact two-sided McNemar (sign) test on the discordant pairs."""
    b_arr, h_arr, _ = _pairs(base, head)
    b = int((b_arr > h_arr).sum())
    c = int((h_arr > b_arr).sum())
    return McNemar(b, c, mcnemar_p(b, c))


def mcnemar_p(b: int, c: int) -> float:
    """Two-sided exact binomial p-value for ``b`` vs ``c`` discordant pairs."""
    if b + c == 0:
        return 1.0
    return float(min(1.0, 2.0 * stats.binom.cdf(min(b, c), b + c, 0.5)))


def _cluster_codes(clusters: Sequence[object] | None, n: int) -> tuple[NDArray[np.intp], int]:
    if clusters is None:
        return np.arange(n, dtype=np.intp), n
    if len(clusters) != n:
        raise ValueError("clusters must have one entry per case")
    _, codes = np.unique(np.asarray([str(c) for c in clusters], dtype=object), return_inverse=True)
    codes = np.asarray(codes, dtype=np.intp).ravel()
    return codes, int(codes.max()) + 1 if n else 0


def bootstrap_means(
    diffs: ArrayLike,
    *,
    clusters: Sequence[object] | None = None,
    n_boot: int = 2000,
    seed: int = 0,
) -> FloatArray:
    """Bootstrap distribution of the mean of each column of ``diffs`` (cases × metrics).

    ``NaN`` entries are excluded (pairs with an error). All columns share the same resamples, so
    metrics stay paired with each other too. Resamples whole clusters when ``clusters`` is given:
    per-cluster sums and counts are multiplied by a matrix of resample counts, which is exact for
    the cluster bootstrap and needs no loop per resample. Returns an ``(n_boot, metrics)`` array.
    """
    d = np.asarray(diffs, dtype=np.float64)
    if d.ndim == 1:
        d = d[:, None]
    n, m = d.shape
    out = np.full((n_boot, m), np.nan)
    if n == 0 or n_boot <= 0:
        return out
    valid = ~np.isnan(d)
    codes, g = _cluster_codes(clusters, n)
    sums = np.zeros((g, m))
    counts = np.zeros((g, m))
    np.add.at(sums, codes, np.where(valid, d, 0.0))
    np.add.at(counts, codes, valid.astype(np.float64))
    rng = np.random.default_rng(seed)
    for start in range(0, n_boot, _BLOCK):
        rows = min(_BLOCK, n_boot - start)
        picks = rng.integers(0, g, size=(rows, g))
        flat = (picks + (np.arange(rows) * g)[:, None]).ravel()
        weights = np.bincount(flat, minlength=rows * g).reshape(rows, g).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start : start + rows] = (weights @ sums) / (weights @ counts)
    return out


def percentile_interval(samples: ArrayLike, *, alpha: float = ALPHA) -> tuple[float, float]:
    """Percentile interval of bootstrap samples (``NaN`` resamples ignored)."""
    s = np.asarray(samples, dtype=np.float64)
    s = s[~np.isnan(s)]
    if s.size == 0:
        return math.nan, math.nan
    lo, hi = np.quantile(s, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def paired_bootstrap(
    base: ArrayLike,
    head: ArrayLike,
    *,
    clusters: Sequence[object] | None = None,
    n_boot: int = 2000,
    seed: int = 0,
    alpha: float = ALPHA,
) -> tuple[float, float]:
    """Paired (cluster) bootstrap percentile interval for the mean of ``head - base``."""
    d = np.asarray(head, dtype=np.float64) - np.asarray(base, dtype=np.float64)
    boot = bootstrap_means(d, clusters=clusters, n_boot=n_boot, seed=seed)
    return percentile_interval(boot[:, 0], alpha=alpha)


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
    return float(stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power))


def minimum_detectable_effect(
    n: int,
    *,
    discordance_rate: float = DEFAULT_DISCORDANCE,
    alpha: float = ALPHA,
    power: float = POWER,
) -> float:
    """Smallest pass-rate difference that ``n`` paired cases detect with the given power.

    Normal approximation for a paired difference of proportions: the variance of one paired
    difference is at most the discordance rate, so ``MDE = (z_{1-a/2} + z_power) * sqrt(p_d / n)``.
    """
    if n <= 0:
        return math.inf
    return _z_total(alpha, power) * math.sqrt(max(discordance_rate, 0.0) / n)


def cases_needed(
    effect: float,
    *,
    discordance_rate: float = DEFAULT_DISCORDANCE,
    alpha: float = ALPHA,
    power: float = POWER,
) -> int | None:
    """Paired cases needed to detect ``effect`` (inverse of :func:`minimum_detectable_effect`);
    ``None`` when the effect is zero (no number of cases detects nothing)."""
    effect = abs(effect)
    if effect == 0 or math.isnan(effect):
        return None
    return math.ceil((_z_total(alpha, power) / effect) ** 2 * max(discordance_rate, 0.0))
