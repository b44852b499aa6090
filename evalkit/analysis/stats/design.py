"""Variance of a share under the way its data were really drawn: weights, strata and clusters.

Two figures need more than the binomial p(1 − p)/n:

* a run with ``repeats > 1`` holds several outputs per case, and outputs of one case pass or
  fail together more often than outputs of different cases: the binomial variance is too small
  (Rogan–Gladen intervals covered 67–87% in the audit's simulation);
* labels drawn *stratified by the judge's verdict* estimate TPR and TNR far more precisely than
  their number suggests, because the run's verdict counts are known exactly; Kish's effective
  sample size ignores that and gave intervals about twice too wide.

:func:`ratio_variance` is the standard Taylor-linearised variance of a ratio estimator
R = Σ w·y / Σ w·x under stratified sampling of clusters with replacement (Wolter 2007,
*Introduction to Variance Estimation*, ch. 6; what R's ``survey::svyratio`` computes):
z_i = w_i (y_i − R x_i) / Σ w x, summed per cluster, and
V = Σ_h m_h/(m_h − 1) Σ_c (z_hc − z̄_h)² over the m_h clusters of stratum h. With no weights,
strata or clusters it is the sample variance of the mean, s²/n.

:func:`effective_n` turns it into the sample size a simple random sample would need for the same
variance, R(1 − R)/V (scaled so a plain sample gets exactly its own size back), which the
binomial intervals then take in place of the raw count.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray


def _codes(keys: Sequence[Hashable], n: int) -> NDArray[np.int64]:
    if len(keys) != n:
        raise ValueError(f"{len(keys)} keys for {n} values")
    index: dict[Hashable, int] = {}
    return np.array([index.setdefault(k, len(index)) for k in keys], dtype=np.int64)


def _linearised(
    y: ArrayLike, x: ArrayLike | None, weights: ArrayLike | None
) -> tuple[float, NDArray[np.float64]]:
    """The ratio and each unit's linearised contribution z_i = w_i (y_i − R x_i) / Σ w x."""
    yv = np.asarray(y, dtype=float).ravel()
    n = yv.size
    xv = np.ones(n) if x is None else np.asarray(x, dtype=float).ravel()
    wv = np.ones(n) if weights is None else np.asarray(weights, dtype=float).ravel()
    if xv.size != n or wv.size != n:
        raise ValueError(f"y, x and weights differ in length: {n}, {xv.size}, {wv.size}")
    den = float(np.sum(wv * xv))
    if den <= 0:
        raise ValueError("the ratio's denominator is 0")
    r = float(np.sum(wv * yv)) / den
    return r, wv * (yv - r * xv) / den


def _design_cov(
    z1: NDArray[np.float64],
    z2: NDArray[np.float64],
    strata: Sequence[Hashable] | None,
    clusters: Sequence[Hashable] | None,
) -> float:
    """Σ_h m_h/(m_h − 1) Σ_c (z1_hc − z̄1_h)(z2_hc − z̄2_h) over cluster totals."""
    n = z1.size
    stratum = np.zeros(n, dtype=np.int64) if strata is None else _codes(strata, n)
    if clusters is None:
        cluster = np.arange(n, dtype=np.int64)
    else:
        cluster = _codes(list(zip(stratum.tolist(), clusters, strict=True)), n)
    cluster_stratum = np.zeros(int(cluster.max(initial=-1)) + 1, dtype=np.int64)
    cluster_stratum[cluster] = stratum  # clusters are nested in strata by construction
    m = np.bincount(cluster_stratum)[cluster_stratum]
    factor = np.where(m > 1, m / np.maximum(m - 1, 1), 1.0)
    dev = []
    for z in (z1, z2):
        totals = np.bincount(cluster, weights=z, minlength=cluster_stratum.size)
        sums = np.bincount(cluster_stratum, weights=totals)
        centre = np.where(m > 1, sums[cluster_stratum] / np.maximum(m, 1), totals.mean())
        dev.append(totals - centre)
    return float(np.sum(factor * dev[0] * dev[1]))


def ratio_variance(
    y: ArrayLike,
    x: ArrayLike | None = None,
    *,
    weights: ArrayLike | None = None,
    strata: Sequence[Hashable] | None = None,
    clusters: Sequence[Hashable] | None = None,
) -> tuple[float, float]:
    """``(R, V)``: the ratio Σwy/Σwx (x = 1: the weighted mean of y) and its linearised variance.

    Clusters are nested in strata (a cluster key seen in two strata is two clusters). A stratum
    with a single cluster is centred on the mean over all clusters (R ``survey``'s "adjust").
    Raises ``ValueError`` when Σwx is 0 (the ratio is undefined).
    """
    r, z = _linearised(y, x, weights)
    return r, _design_cov(z, z, strata, clusters)


def ratio_covariance(
    first: tuple[ArrayLike, ArrayLike | None],
    second: tuple[ArrayLike, ArrayLike | None],
    *,
    weights: ArrayLike | None = None,
    strata: Sequence[Hashable] | None = None,
) -> float:
    """Linearised covariance of two ratios ``(y, x)`` estimated from the same labels (TPR and
    TNR from one stratified sample move together: both depend on every stratum's shares)."""
    _, z1 = _linearised(*first, weights)
    _, z2 = _linearised(*second, weights)
    return _design_cov(z1, z2, strata, None)


def cluster_design_effect(z: ArrayLike, clusters: Sequence[Hashable]) -> float:
    """Var(Σz) with units grouped in ``clusters`` over Var(Σz) with independent units, for
    centred influence values ``z`` (1 when the latter is 0): what clustering does to a
    variance computed as if every unit stood alone."""
    zv = np.asarray(z, dtype=float).ravel()
    alone = _design_cov(zv, zv, None, None)
    return _design_cov(zv, zv, None, clusters) / alone if alone > 0 else 1.0


def effective_n(
    y: ArrayLike,
    x: ArrayLike | None = None,
    *,
    weights: ArrayLike | None = None,
    strata: Sequence[Hashable] | None = None,
    clusters: Sequence[Hashable] | None = None,
) -> float:
    """How many independent 0/1 draws would estimate the share R with the variance V that the
    design gives: R(1 − R)/V · n/(n − 1), with n the number of units (so a simple random sample
    of n_x units with x = 1 gets exactly n_x). When V is 0 (R is 0 or 1) the number of units
    with x = 1 is returned: nothing better is known, and the intervals' pseudo-counts take over.
    """
    yv = np.asarray(y, dtype=float).ravel()
    xv = np.ones(yv.size) if x is None else np.asarray(x, dtype=float).ravel()
    r, var = ratio_variance(yv, xv, weights=weights, strata=strata, clusters=clusters)
    n = yv.size
    n_x = float(np.sum(xv != 0))
    if var <= 0.0 or n < 2:
        return n_x
    return r * (1.0 - r) / var * n / (n - 1)


def satterthwaite_df(
    y: ArrayLike,
    x: ArrayLike | None = None,
    *,
    weights: ArrayLike | None = None,
    strata: Sequence[Hashable] | None = None,
) -> float:
    """Degrees of freedom of :func:`ratio_variance`'s estimate (units, no clusters), by
    Satterthwaite's approximation: (Σ_h V_h)² / Σ_h V_h²/(m_h − 1) over the strata's
    contributions V_h. A variance that rests mostly on one stratum has about that stratum's
    m_h − 1, not the n − H of all the units (R ``survey``'s ``degf`` is n − H; this is the
    sharper, smaller figure where strata contribute unevenly). n − H when the variance is 0."""
    _, z = _linearised(y, x, weights)
    n = z.size
    stratum = np.zeros(n, dtype=np.int64) if strata is None else _codes(strata, n)
    m = np.bincount(stratum).astype(float)
    sums = np.bincount(stratum, weights=z)
    centred = z - (sums / np.maximum(m, 1))[stratum]
    v = np.bincount(stratum, weights=centred * centred) * np.where(
        m > 1, m / np.maximum(m - 1, 1), 0
    )
    keep = m > 1
    denom = float(np.sum(v[keep] ** 2 / (m[keep] - 1)))
    if denom <= 0.0:
        return float(n - m.size)
    return float(np.sum(v[keep]) ** 2 / denom)
