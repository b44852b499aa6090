"""The regularised incomplete beta function, its inverse and the Student t quantile in pure
Python: a run's summary needs them once per run, and ``scipy.stats`` costs about a second to
import (the run-path modules keep scipy out; tests check these against scipy).
"""

from __future__ import annotations

import math

_EPS = 1e-15
_TINY = 1e-300


def _continued_fraction(a: float, b: float, x: float) -> float:
    """Lentz's evaluation of the continued fraction for I_x(a, b) (Numerical Recipes, 6.4)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, 1000):
        m2 = 2 * m
        for aa in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + aa / c
            c = c if abs(c) > _TINY else _TINY
            h *= d * c
        if abs(d * c - 1.0) < _EPS:
            break
    return h


def _log_front(a: float, b: float, x: float) -> float:
    """log of x^a (1-x)^b / B(a, b)."""
    return (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )


def betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta I_x(a, b): the beta(a, b) distribution function at x."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(_log_front(a, b, x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _continued_fraction(a, b, x) / a
    return 1.0 - front * _continued_fraction(b, a, 1.0 - x) / b


def beta_ppf(q: float, a: float, b: float) -> float:
    """The x with I_x(a, b) = q: Newton steps kept inside a shrinking bisection bracket."""
    if q <= 0.0:
        return 0.0
    if q >= 1.0:
        return 1.0
    lo, hi, x = 0.0, 1.0, a / (a + b)
    log_norm = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    for _ in range(200):
        diff = betainc(a, b, x) - q
        if diff > 0:
            hi = x
        else:
            lo = x
        if abs(diff) < 1e-14 or hi - lo < 1e-15:
            break
        pdf = math.exp(log_norm + (a - 1.0) * math.log(x) + (b - 1.0) * math.log1p(-x))
        step = x - diff / pdf if pdf > 0 else math.nan
        x = step if lo < step < hi else (lo + hi) / 2.0
    return x


def t_ppf(p: float, df: float) -> float:
    """Quantile of Student's t with ``df`` degrees of freedom, for ``p`` in (0.5, 1)."""
    if not 0.5 < p < 1.0:
        raise ValueError(f"t_ppf needs 0.5 < p < 1, got {p}")
    # P(T > t) = I_{df / (df + t^2)}(df / 2, 1 / 2) / 2
    x = beta_ppf(2.0 * (1.0 - p), df / 2.0, 0.5)
    return math.sqrt(df * (1.0 - x) / x)
