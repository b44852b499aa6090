"""The Rogan–Gladen interval by MOVER: Wilson limits of the three shares, recombined.

θ = (p − FPR)/(TPR − FPR) is a ratio of two differences of independently estimated shares
(the run's judge pass rate p, and the judge's TPR and false-pass rate FPR = 1 − TNR from the
labels). For a candidate θ₀, f(θ₀) = p − θ₀·TPR − (1 − θ₀)·FPR is a *linear* combination of
the three shares, and θ₀ belongs to the interval when the confidence interval of f(θ₀) holds 0
(Fieller's argument). That interval of f(θ₀) is MOVER's (the "method of variance estimates
recovery": Newcombe 1998, Stat. Med. 17:873–890, square-and-add of Wilson limits; Zou & Donner
2008, Stat. Med. 27:1693–1702, with a correlation term), so each share keeps its own skewed
Wilson limits instead of a symmetric standard error; setting its lower and upper limits to 0
gives two quadratics in θ₀, as in MOVER-R for a ratio (Newcombe 2016, Stat. Methods Med. Res.
25:1774–1778). Only θ₀ in [0, 1] is considered: a pass rate outside it is not a pass rate.

Wilson's interval is near-nominal from about 20 draws, and MOVER inherits that: with random
labels the interval covers 94.2–98.4% from 20 labels per class, where Lang & Reiczigel's
adjusted delta method (used before, with pseudo-counts of 1 in 2 on TPR and TNR) covered
94.7–99.1%, above 97% in 13 of 105 cells (``benchmarks/bench_rg_interval_candidates.py``,
2,000 runs per cell; ``bench_coverage_correction.py`` has every design).

Vectorised over arrays so the coverage benchmark runs the very code the reports use.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

_F = NDArray[np.float64]


def wilson_limits(k: ArrayLike, n: ArrayLike, z: float) -> tuple[_F, _F]:
    """Wilson score limits of k successes in n draws (n may be an effective, fractional count;
    n > 0)."""
    kv, nv = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    p = kv / nv
    denom = 1.0 + z * z / nv
    centre = (p + z * z / (2 * nv)) / denom
    half = z * np.sqrt(np.maximum(p * (1 - p) / nv + z * z / (4 * nv * nv), 0.0)) / denom
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def _roots(a2: _F, a1: _F, a0: _F) -> tuple[_F, _F]:
    """Real roots of a2·x² + a1·x + a0 (NaN where there are none)."""
    disc = a1 * a1 - 4 * a2 * a0
    sq = np.sqrt(np.where(disc >= 0, disc, np.nan))
    linear = np.abs(a2) < 1e-14
    with np.errstate(divide="ignore", invalid="ignore"):
        first = np.where(linear, -a0 / a1, (-a1 - sq) / (2 * a2))
        second = np.where(linear, np.nan, (-a1 + sq) / (2 * a2))
    return first, second


def youden_lower(
    tp: ArrayLike, n_pos: ArrayLike, tn: ArrayLike, n_neg: ArrayLike, z: float, rho: ArrayLike = 0.0
) -> _F:
    """MOVER lower limit of TPR + TNR − 1 (Newcombe's difference TPR − FPR, with ``rho`` the
    correlation of the TPR and TNR estimates). At or below 0 the ratio's confidence set is
    unbounded (Fieller): θ is not identified by these labels."""
    tpr = np.asarray(tp, float) / np.asarray(n_pos, float)
    tnr = np.asarray(tn, float) / np.asarray(n_neg, float)
    low_t, _ = wilson_limits(tp, n_pos, z)
    low_s, _ = wilson_limits(tn, n_neg, z)
    w_t, w_s = tpr - low_t, tnr - low_s
    r = np.asarray(rho, dtype=float)
    # corr(TPR, FPR) = −rho, and MOVER subtracts 2·corr·w·w for a difference
    spread = np.sqrt(np.maximum(w_t**2 + w_s**2 + 2 * r * w_t * w_s, 0.0))
    return np.asarray(tpr + tnr - 1.0 - spread, dtype=float)


def rogan_gladen_limits(
    k: ArrayLike,
    n: ArrayLike,
    tp: ArrayLike,
    n_pos: ArrayLike,
    tn: ArrayLike,
    n_neg: ArrayLike,
    z: float,
    rho: ArrayLike = 0.0,
) -> tuple[_F, _F]:
    """``(low, high)``: the set of θ₀ in [0, 1] whose f(θ₀) has a MOVER interval holding 0
    (its hull, should it ever split), NaN where no θ₀ in [0, 1] qualifies (the run's pass rate
    lies beyond what the judge's error rates allow). Counts may be effective counts; ``rho`` is
    the correlation of the TPR and TNR estimates. Assumes TPR + TNR > 1."""
    p = np.asarray(k, float) / np.asarray(n, float)
    tpr = np.asarray(tp, float) / np.asarray(n_pos, float)
    fpr = 1.0 - np.asarray(tn, float) / np.asarray(n_neg, float)
    low_p, high_p = wilson_limits(k, n, z)
    low_t, high_t = wilson_limits(tp, n_pos, z)
    low_s, high_s = wilson_limits(tn, n_neg, z)
    low_f, high_f = 1.0 - high_s, 1.0 - low_s
    r = np.asarray(rho, dtype=float)
    a, b = p - fpr, tpr - fpr  # f(θ₀) = a − b·θ₀
    # f's lower limit moves p down, TPR and FPR up; its upper limit the other way. With
    # widths (w_p, w_t, w_f) the squared distance is w_p² + θ₀²w_t² + (1 − θ₀)²w_f²
    # − 2·rho·θ₀(1 − θ₀)·w_t·w_f (coefficients −θ₀ and −(1 − θ₀); corr(TPR, FPR) = −rho).
    sides = (
        (p - low_p, high_t - tpr, high_f - fpr),  # lower limit of f
        (high_p - p, tpr - low_t, fpr - low_f),  # upper limit of f
    )
    coef = []
    points = [np.zeros_like(p), np.ones_like(p)]
    for w_p, w_t, w_f in sides:
        sq_p, sq_t, sq_f, cross = w_p**2, w_t**2, w_f**2, r * w_t * w_f
        coef.append((sq_p, sq_t, sq_f, cross))
        # (a − bθ)² = sq_p + sq_f + θ(−2 sq_f − 2 cross) + θ²(sq_t + sq_f + 2 cross)
        points += _roots(
            b * b - sq_t - sq_f - 2 * cross, -2 * a * b + 2 * sq_f + 2 * cross, a * a - sq_p - sq_f
        )
    pts = np.stack(np.broadcast_arrays(*points), axis=-1)
    pts = np.sort(np.where((pts >= 0.0) & (pts <= 1.0), pts, np.nan), axis=-1)  # NaN last
    left, right = pts[..., :-1], pts[..., 1:]
    mid = (left + right) / 2
    centre = a[..., None] - b[..., None] * mid

    def _dist(c: tuple[_F, _F, _F, _F]) -> _F:
        sq_p, sq_t, sq_f, cross = (x[..., None] for x in np.broadcast_arrays(*c))
        spread = sq_p + mid**2 * sq_t + (1 - mid) ** 2 * sq_f - 2 * mid * (1 - mid) * cross
        return np.asarray(np.sqrt(np.maximum(spread, 0.0)), dtype=float)

    member = (centre - _dist(coef[0]) <= 0.0) & (centre + _dist(coef[1]) >= 0.0)
    member &= np.isfinite(mid)
    low = np.where(member, left, np.inf).min(axis=-1)
    high = np.where(member, right, -np.inf).max(axis=-1)
    empty = ~member.any(axis=-1)
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)
