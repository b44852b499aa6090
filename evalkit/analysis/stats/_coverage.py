"""Coverage simulation of the intervals ``evalkit compare`` shows (for the benchmark and tests).

Why here: the benchmark (``benchmarks/bench_coverage_compare.py``, the full grid) and the test
suite (a few hundred replications with loose bounds) must simulate the same data the same way.

A scenario: ``n`` paired cases, base pass probability ``prevalence``; each case's head result
flips relative to base with probability ``discordance`` (per case, or per cluster around that
mean when clustered), so the true difference is ``discordance * (1 - 2 * prevalence)``. With
repeats each case has its own pass probability (Beta with mean ``prevalence``) sampled
``repeats`` times, and the per-case means are compared, exactly as compare does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from evalkit.analysis.stats import paired


@dataclass(frozen=True)
class Scenario:
    n: int
    prevalence: float
    discordance: float
    repeats: int = 1
    clusters: int | None = None

    @property
    def truth(self) -> float:
        return self.discordance * (1 - 2 * self.prevalence)


def simulate(
    s: Scenario, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, list[int] | None]:
    """One data set: per-case base and head pass rates, and the cluster of each case."""
    clusters: list[int] | None = None
    prevalence = np.full(s.n, s.prevalence)
    flip_p = np.full(s.n, s.discordance)
    if s.clusters:
        codes = rng.integers(0, s.clusters, s.n)  # unequal cluster sizes
        codes[: s.clusters] = np.arange(min(s.clusters, s.n))
        clusters = codes.tolist()
        # clusters differ in pass rate (Beta, concentration 4) and in how often results flip
        # (uniform on [0, 2 * discordance]), so a cluster's cases move together
        drawn = rng.beta(4 * s.prevalence, 4 * (1 - s.prevalence), s.clusters)
        prevalence = np.clip(drawn, 1e-3, 1 - 1e-3)[codes]
        flip_p = (2 * s.discordance * rng.random(s.clusters))[codes]
    # with repeats cases differ in difficulty; concentration 2 keeps many near 0 or 1
    q_base = prevalence if s.repeats == 1 else rng.beta(2 * prevalence, 2 * (1 - prevalence))
    base_draw = rng.random(s.n) < q_base
    flips = rng.random(s.n) < flip_p
    if s.repeats == 1:
        base = base_draw.astype(float)
        head = np.where(flips, 1 - base, base)
        return base, head, clusters
    q_head = np.where(flips, 1 - q_base, q_base)
    base = rng.binomial(s.repeats, q_base) / s.repeats
    head = rng.binomial(s.repeats, q_head) / s.repeats
    return base, head, clusters


def coverage(s: Scenario, *, reps: int, seed: int = 0, alpha: float = paired.ALPHA) -> float:
    """Share of ``reps`` data sets whose ``1 - alpha`` interval covers the true difference
    among the data sets where compare shows it (``NaN`` when it does in at most half of them:
    too few pairs, clusters or changed cases)."""
    rng = np.random.default_rng(seed)
    covered = shown = 0
    for _ in range(reps):
        base, head, clusters = simulate(s, rng)
        t = paired.paired_test(base, head, clusters=clusters)
        if not t.shown:
            continue
        lo, hi = t.interval(alpha)
        shown += 1
        covered += lo <= s.truth <= hi
    return covered / shown if shown > reps / 2 else math.nan


def holm_coverage(
    scenarios: list[Scenario], *, reps: int, seed: int = 0, alpha: float = paired.ALPHA
) -> tuple[float, list[float]]:
    """Family-wise coverage of the Holm-level intervals of a family of metrics (independent data
    per metric), and each metric's own coverage, as compare shows them: a metric whose interval
    is not shown (too few changed cases) leaves the family and claims nothing."""
    rng = np.random.default_rng(seed)
    all_cover = 0
    each = np.zeros(len(scenarios))
    shown = np.zeros(len(scenarios))
    for _ in range(reps):
        tests = [paired.paired_test(*simulate(s, rng)[:2]) for s in scenarios]
        p_raw = [t.p_value if t.shown else np.nan for t in tests]
        levels = paired.holm_levels(p_raw, alpha=alpha)
        hits = [
            not t.shown or t.interval(float(a))[0] <= s.truth <= t.interval(float(a))[1]
            for t, s, a in zip(tests, scenarios, levels, strict=True)
        ]
        all_cover += all(hits)
        each += [h and t.shown for h, t in zip(hits, tests, strict=True)]
        shown += [t.shown for t in tests]
    return all_cover / reps, [float(x) for x in each / np.maximum(shown, 1)]
