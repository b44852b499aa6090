"""Confidence intervals for proportions: the Wilson score interval, and the models that carry
intervals through calibration reports."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
from pydantic import BaseModel, ConfigDict


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
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / n
    denom = 1 + z * z / n
    center = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return Interval(
        low=max(0.0, float(center - half)),
        high=min(1.0, float(center + half)),
        confidence=confidence,
    )


def proportion(successes: int, n: int, confidence: float = 0.95) -> Proportion | None:
    """``successes / n`` with its Wilson interval; ``None`` when there is nothing to divide."""
    interval = wilson_interval(successes, n, confidence)
    if interval is None:
        return None
    return Proportion(successes=successes, n=n, estimate=successes / n, interval=interval)
