"""Paired statistics against statsmodels/scipy, and the bootstrap by simulation."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import TTestPower

from evalkit.stats import paired


def _binary_pair(rng: np.random.Generator, n: int, p_base: float, p_head: float):
    base = (rng.random(n) < p_base).astype(float)
    head = (rng.random(n) < p_head).astype(float)
    return base, head


@pytest.mark.parametrize("seed", range(8))
def test_mcnemar_matches_statsmodels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    base, head = _binary_pair(rng, int(rng.integers(5, 200)), 0.8, 0.7)
    ours = paired.mcnemar_exact(base, head)
    table = [
        [np.sum((base == 1) & (head == 1)), np.sum((base == 1) & (head == 0))],
        [np.sum((base == 0) & (head == 1)), np.sum((base == 0) & (head == 0))],
    ]
    ref = mcnemar(table, exact=True)
    assert (ours.b, ours.c) == (table[0][1], table[1][0])
    assert ours.p_value == pytest.approx(ref.pvalue, rel=1e-12)


@pytest.mark.parametrize(("b", "c"), [(0, 0), (3, 3), (0, 7), (12, 2), (40, 61)])
def test_mcnemar_p_edge_cases(b: int, c: int) -> None:
    ref = mcnemar([[10, b], [c, 10]], exact=True).pvalue
    assert paired.mcnemar_p(b, c) == pytest.approx(ref)
    if b + c:
        assert paired.mcnemar_p(b, c) == pytest.approx(stats.binomtest(b, b + c).pvalue)


def test_paired_difference_matches_ttest_rel() -> None:
    rng = np.random.default_rng(1)
    base = rng.integers(0, 3, 60) / 2  # repeats averaged: 0, 0.5, 1
    head = rng.integers(0, 3, 60) / 2
    base[[3, 17]] = np.nan  # errored pairs are excluded pairwise
    head[[17, 40]] = np.nan
    ours = paired.paired_difference(base, head)
    keep = ~(np.isnan(base) | np.isnan(head))
    ref = stats.ttest_rel(head[keep], base[keep])
    ci = ref.confidence_interval(0.95)
    assert ours.n == 57 and ours.n_excluded == 3
    assert ours.diff == pytest.approx(np.mean(head[keep] - base[keep]))
    assert ours.diff / ours.se == pytest.approx(ref.statistic)
    assert (ours.ci_low, ours.ci_high) == pytest.approx((ci.low, ci.high))


def test_paired_difference_degenerate() -> None:
    empty = paired.paired_difference([math.nan], [1.0])
    assert empty.n == 0 and empty.n_excluded == 1 and math.isnan(empty.diff)
    same = paired.paired_difference([1, 0, 1], [1, 0, 1])
    assert same.diff == 0 and same.se == 0


@pytest.mark.parametrize("seed", range(5))
def test_holm_matches_statsmodels(seed: int) -> None:
    p = np.random.default_rng(seed).random(12) ** 3
    ref = multipletests(p, method="holm")[1]
    np.testing.assert_allclose(paired.holm(p), ref)


def test_holm_ignores_nan() -> None:
    p = np.array([0.01, np.nan, 0.04, 0.03])
    out = paired.holm(p)
    assert math.isnan(out[1])
    np.testing.assert_allclose(out[[0, 2, 3]], multipletests([0.01, 0.04, 0.03], method="holm")[1])


def test_power_round_trip_and_statsmodels() -> None:
    mde = paired.minimum_detectable_effect(200, discordance_rate=0.2)
    assert paired.cases_needed(mde, discordance_rate=0.2) in (200, 201)
    # z-approximation of the paired t-test power: within a couple of cases of statsmodels
    n_ref = TTestPower().solve_power(effect_size=0.05 / math.sqrt(0.2), alpha=0.05, power=0.8)
    assert abs(paired.cases_needed(0.05, discordance_rate=0.2) - n_ref) <= 3
    assert paired.cases_needed(0.0) is None


def test_discordance_conservative_with_few_discordant_pairs() -> None:
    assert paired.discordance([1, 1, 1, 1], [1, 1, 1, 1]) == paired.DEFAULT_DISCORDANCE
    base = np.array([1.0] * 50 + [0.0] * 50)
    head = np.array([0.0] * 30 + [1.0] * 20 + [1.0] * 10 + [0.0] * 40)
    assert paired.discordance(base, head) == pytest.approx(0.4)


def test_bootstrap_reproducible_and_vectorised() -> None:
    rng = np.random.default_rng(3)
    base, head = _binary_pair(rng, 300, 0.8, 0.75)
    a = paired.paired_bootstrap(base, head, seed=7)
    b = paired.paired_bootstrap(base, head, seed=7)
    assert a == b
    d = head - base
    assert a[0] < d.mean() < a[1]


def test_bootstrap_coverage_by_simulation() -> None:
    """95% interval covers the true difference 91–98% of the time over 300 datasets."""
    rng = np.random.default_rng(2024)
    n, p_base, p_head, covered = 150, 0.8, 0.72, 0
    start = time.perf_counter()
    for i in range(300):
        base, head = _binary_pair(rng, n, p_base, p_head)
        lo, hi = paired.paired_bootstrap(base, head, n_boot=1000, seed=i)
        covered += lo <= p_head - p_base <= hi
    assert 0.91 <= covered / 300 <= 0.98
    assert time.perf_counter() - start < 10


def test_cluster_bootstrap_wider_on_clustered_data() -> None:
    rng = np.random.default_rng(5)
    clusters = np.repeat(np.arange(20), 15)  # 20 documents, 15 questions each
    effect = rng.normal(0, 0.35, 20)[clusters]  # documents move together
    base = (rng.random(300) < 0.75).astype(float)
    head = (rng.random(300) < np.clip(0.75 + effect, 0, 1)).astype(float)
    naive = paired.paired_bootstrap(base, head, seed=1)
    clustered = paired.paired_bootstrap(base, head, clusters=list(clusters), seed=1)
    assert clustered[1] - clustered[0] > 1.3 * (naive[1] - naive[0])


def test_bootstrap_means_shares_resamples_and_skips_nan() -> None:
    d = np.array([[1.0, np.nan], [0.0, 1.0], [-1.0, 0.0], [0.0, np.nan]])
    boot = paired.bootstrap_means(d, n_boot=500, seed=0)
    assert boot.shape == (500, 2)
    finite = boot[~np.isnan(boot[:, 1]), 1]
    assert set(np.unique(finite)) <= {0.0, 0.5, 1.0, 1 / 3, 2 / 3, 0.25, 0.75}
