"""Published formulas computed by hand (plain arithmetic, no evalkit), for tests to compare
evalkit's figures with an independent value."""

from __future__ import annotations

import math


def mover_rogan_gladen(
    k: float, n: float, tp: float, n_pos: float, tn: float, n_neg: float, rho: float = 0.0
) -> tuple[float, float] | None:
    """The Rogan–Gladen interval by MOVER, the slow way: scan θ₀ over [0, 1] and keep those
    where the MOVER interval of f(θ₀) = p − θ₀·TPR − (1 − θ₀)·FPR holds 0, with the general
    square-and-add formula for a linear combination Σcᵢπᵢ (Zou & Donner 2008; limits
    min/max(cᵢlᵢ, cᵢuᵢ)) over statsmodels' Wilson limits, the correlated pair (TPR, FPR)
    getting the cross term 2·corr·dₜ·d_f with corr(TPR, FPR) = −rho; then bisect each end.
    ``None`` where no θ₀ qualifies. Not clipped to the point estimate."""
    from statsmodels.stats.proportion import proportion_confint

    shares = [(k, n), (tp, n_pos), (n_neg - tn, n_neg)]  # p, TPR, FPR
    est = [x / m for x, m in shares]
    lims = [tuple(float(v) for v in proportion_confint(x, m, method="wilson")) for x, m in shares]

    def holds_zero(theta: float) -> bool:
        c = [1.0, -theta, -(1.0 - theta)]
        value = sum(ci * e for ci, e in zip(c, est, strict=True))
        down = [
            ci * e - min(ci * lo, ci * hi) for ci, e, (lo, hi) in zip(c, est, lims, strict=True)
        ]
        up = [max(ci * lo, ci * hi) - ci * e for ci, e, (lo, hi) in zip(c, est, lims, strict=True)]
        low = value - math.sqrt(max(sum(d * d for d in down) - 2 * rho * down[1] * down[2], 0))
        high = value + math.sqrt(max(sum(u * u for u in up) - 2 * rho * up[1] * up[2], 0))
        return low <= 0.0 <= high

    grid = [i / 2000 for i in range(2001)]
    inside = [t for t in grid if holds_zero(t)]
    if not inside:
        return None

    def edge(out: float, into: float) -> float:
        for _ in range(60):
            mid = (out + into) / 2
            out, into = (out, mid) if holds_zero(mid) else (mid, into)
        return into

    low, high = inside[0], inside[-1]
    low = low if low == 0.0 else edge(low - 1 / 2000, low)
    high = high if high == 1.0 else edge(high + 1 / 2000, high)
    return low, high
