"""The paired test against statsmodels/scipy and hand formulas, and its coverage by simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.linalg import sqrtm
from statsmodels.regression.linear_model import OLS
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import TTestPower
from statsmodels.stats.weightstats import DescrStatsW

from evalkit.analysis.stats import paired
from evalkit.analysis.stats._coverage import Scenario, coverage, holm_coverage


def _binary_pair(rng: np.random.Generator, n: int, p_base: float, p_head: float):
    base = (rng.random(n) < p_base).astype(float)
    head = (rng.random(n) < p_head).astype(float)
    return base, head


def _descr(d: np.ndarray) -> DescrStatsW:
    """The data plus Agresti–Min's pseudo-pairs, as statsmodels' weighted statistics."""
    return DescrStatsW(np.r_[d, 1.0, -1.0, 0.0], weights=np.r_[np.ones(d.size), 0.5, 0.5, 1.0])


@pytest.mark.parametrize("seed", range(6))
def test_matches_statsmodels_weighted_t_test(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(10, 200))
    base = rng.integers(0, 4, n) / 3  # repeats averaged: 0, 1/3, 2/3, 1
    head = rng.integers(0, 4, n) / 3
    base[:3] = np.nan  # errored pairs are excluded pairwise
    t = paired.paired_test(base, head)
    d = (head - base)[3:]
    ref = _descr(d)
    _, p_ref, df = ref.ttest_mean(0)
    assert (t.n, t.n_excluded) == (n - 3, 3)
    assert t.diff == pytest.approx(d.mean())
    assert t.estimate == pytest.approx(ref.mean)
    assert t.df == df and t.p_value == pytest.approx(p_ref, rel=1e-9)
    for alpha in (0.05, 0.01):
        assert t.interval(alpha) == pytest.approx(ref.tconfint_mean(alpha))


@pytest.mark.parametrize(("b", "c", "n"), [(0, 0, 30), (2, 1, 10), (0, 7, 40), (12, 2, 80)])
def test_binary_is_agresti_min_from_counts(b: int, c: int, n: int) -> None:
    """Without repeats: Agresti & Min (2005) from the 2x2 counts, 0.5 added to every cell."""
    base = np.array([1.0] * b + [0.0] * c + [1.0] * (n - b - c))
    head = np.array([0.0] * b + [1.0] * c + [1.0] * (n - b - c))
    t = paired.paired_test(base, head)
    ns, bs, cs = n + 2, b + 0.5, c + 0.5
    centre = (cs - bs) / ns
    se = math.sqrt(((bs + cs) / ns - centre**2) / (ns - 1))
    q = stats.t.ppf(0.975, ns - 1)
    assert (t.base_better, t.head_better) == (b, c)
    assert t.interval() == pytest.approx((centre - q * se, centre + q * se))


def test_large_samples_agree_with_ttest_rel() -> None:
    rng = np.random.default_rng(1)
    base, head = _binary_pair(rng, 3000, 0.8, 0.77)
    t = paired.paired_test(base, head)
    ref = stats.ttest_rel(head, base)
    assert t.p_value == pytest.approx(ref.pvalue, rel=0.02)


def test_interval_and_p_value_never_disagree() -> None:
    rng = np.random.default_rng(7)
    for _ in range(200):
        n = int(rng.integers(10, 60))
        base, head = _binary_pair(rng, n, rng.random(), rng.random())
        clusters = list(rng.integers(0, 8, n)) if rng.random() < 0.5 else None
        t = paired.paired_test(base, head, clusters=clusters)
        for alpha in (0.05, 0.0125):
            lo, hi = t.interval(alpha)
            assert (lo > 0 or hi < 0) == (t.p_value < alpha)
            assert lo < t.estimate < hi
            if t.diff != 0 and (lo > 0 or hi < 0):
                assert math.copysign(1, t.diff) == math.copysign(1, lo)


@pytest.mark.parametrize(
    ("base", "head"),
    [([1.0] * 30, [1.0] * 30), ([0.0] * 12, [1.0] * 12), ([1.0] * 12, [0.0] * 12)],
)
def test_no_zero_width_interval_at_small_counts(base: list[float], head: list[float]) -> None:
    lo, hi = paired.paired_test(base, head).interval()
    assert hi - lo > 0.05
    assert -1 <= lo < hi <= 1


def test_tiny_and_empty() -> None:
    empty = paired.paired_test([math.nan], [1.0])
    assert (empty.n, empty.n_excluded, empty.n_clusters) == (0, 1, 0) and not empty.valid
    assert (empty.base_better, empty.head_better) == (0, 0)
    floats = (empty.base_mean, empty.head_mean, empty.diff, empty.estimate, empty.se)
    assert all(math.isnan(x) for x in (*floats, empty.se_independent, empty.df, empty.p_value))
    one = paired.paired_test([1.0], [0.0])
    assert one.n == 1 and not one.valid and math.isnan(one.interval()[0])
    two = paired.paired_test([1.0, 1.0], [0.0, 1.0])  # the smallest sample with a test
    ref = DescrStatsW(np.r_[-1.0, 0.0, 1.0, -1.0, 0.0], weights=[1, 1, 0.5, 0.5, 1])
    assert two.valid and two.p_value == pytest.approx(ref.ttest_mean(0)[1])
    assert (two.base_mean, two.head_mean) == (1.0, 0.5)


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="1-d arrays of the same length"):
        paired.paired_test([1.0, 0.0], [1.0])
    with pytest.raises(ValueError, match="1-d arrays of the same length"):
        paired.paired_test([[1.0, 0.0]], [[1.0, 0.0]])
    with pytest.raises(ValueError, match="one entry per case"):
        paired.paired_test([1.0, 0.0], [1.0, 1.0], clusters=["a"])


def test_cluster_robust_se_matches_statsmodels_when_balanced() -> None:
    rng = np.random.default_rng(3)
    d = rng.integers(-1, 2, 120).astype(float)
    groups = np.repeat(np.arange(12), 10)
    fit = OLS(d, np.ones(120)).fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    assert paired.cluster_robust_se(d, groups) == pytest.approx(float(fit.bse[0]), rel=1e-10)


def _cr2_matrix_form(d: np.ndarray, groups: np.ndarray) -> float:
    """sum_g X_g' A_g e_g e_g' A_g X_g with A_g = (I - H_gg)^(-1/2), X = 1, over n^2."""
    n, e, meat = d.size, d - d.mean(), 0.0
    for g in np.unique(groups):
        idx = groups == g
        a = np.real(sqrtm(np.linalg.inv(np.eye(idx.sum()) - np.full((idx.sum(),) * 2, 1 / n))))
        meat += float(np.ones(idx.sum()) @ a @ e[idx]) ** 2
    return math.sqrt(meat) / n


@pytest.mark.parametrize(("clusters", "scale"), [(7, 1), (2, 1), (7, 3)])
def test_cluster_robust_se_is_cr2_when_unbalanced(clusters: int, scale: int) -> None:
    rng = np.random.default_rng(4)
    groups = rng.integers(0, clusters, 60) * scale  # scale: cluster codes need not be 0..G-1
    d = rng.normal(size=60)
    assert paired.cluster_robust_se(d, groups) == pytest.approx(_cr2_matrix_form(d, groups))
    assert math.isnan(paired.cluster_robust_se(d, np.zeros(60)))


def test_clusters_change_the_p_value_and_need_enough_clusters() -> None:
    rng = np.random.default_rng(5)
    clusters = np.repeat(np.arange(20), 15)  # 20 documents, 15 questions each
    effect = rng.normal(0, 0.35, 20)[clusters]  # documents move together
    base = (rng.random(300) < 0.75).astype(float)
    head = (rng.random(300) < np.clip(0.75 + effect, 0, 1)).astype(float)
    naive = paired.paired_test(base, head)
    clustered = paired.paired_test(base, head, clusters=list(clusters))
    assert clustered.n_clusters == 20 and clustered.df == 19
    assert clustered.se > 1.3 * naive.se and clustered.p_value > naive.p_value
    assert clustered.design_effect == pytest.approx((clustered.se / naive.se) ** 2)
    few = paired.paired_test(base, head, clusters=list(clusters % 4))
    assert not few.valid  # 4 clusters: below MIN_CLUSTERS, no test
    five = paired.paired_test(base, head, clusters=list(clusters % 5))
    assert five.valid and five.df == 4


def test_clustered_se_never_below_independent() -> None:
    """Clusters that are anti-correlated cannot make a test more confident than independence."""
    d_base = np.array([1.0, 0.0] * 20)
    d_head = np.array([0.0, 1.0] * 20)
    clusters = list(np.repeat(np.arange(20), 2))  # each cluster's two differences cancel
    t = paired.paired_test(d_base, d_head, clusters=clusters)
    assert t.se == pytest.approx(t.se_independent)


@pytest.mark.parametrize("seed", range(5))
def test_holm_matches_statsmodels(seed: int) -> None:
    p = np.random.default_rng(seed).random(12) ** 3
    ref = multipletests(p, method="holm")[1]
    np.testing.assert_allclose(paired.holm(p), ref)


def test_holm_single_and_empty() -> None:
    np.testing.assert_allclose(paired.holm([0.03]), [0.03])
    assert paired.holm([]).size == 0 and paired.holm_levels([]).size == 0


def test_holm_ignores_nan() -> None:
    p = np.array([0.01, np.nan, 0.04, 0.03])
    out = paired.holm(p)
    assert math.isnan(out[1])
    np.testing.assert_allclose(out[[0, 2, 3]], multipletests([0.01, 0.04, 0.03], method="holm")[1])


@pytest.mark.parametrize("seed", range(20))
def test_holm_levels_reject_exactly_what_holm_rejects(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = rng.random(int(rng.integers(1, 8))) ** 4
    reject = multipletests(p, alpha=0.05, method="holm")[0]
    levels = paired.holm_levels(p)
    np.testing.assert_array_equal(p < levels, reject)
    assert np.all((levels >= 0.05 / p.size - 1e-15) & (levels <= 0.05))


def test_holm_levels_step_down_stop() -> None:
    # Holm stops at rank 1 (0.03 > 0.05 / 2): 0.04 < 0.05 / 1 is still not rejected
    np.testing.assert_allclose(paired.holm_levels([0.03, 0.04]), [0.025, 0.025])
    np.testing.assert_allclose(paired.holm_levels([0.001, 0.04]), [0.025, 0.05])
    # adjusted p exactly 0.05 is not a rejection: Holm stops at rank 1
    np.testing.assert_allclose(paired.holm_levels([0.025, 0.5]), [0.025, 0.025])
    levels = paired.holm_levels([0.001, np.nan, 0.2])
    assert math.isnan(levels[1]) and levels[0] == 0.025


def test_power_round_trip_and_statsmodels() -> None:
    mde = paired.minimum_detectable_effect(200, discordance_rate=0.2)
    assert paired.cases_needed(mde, discordance_rate=0.2) in (200, 201)
    # z-approximation of the paired t-test power: within a couple of cases of statsmodels
    for alpha in (0.05, 0.0125):
        n_ref = TTestPower().solve_power(effect_size=0.05 / math.sqrt(0.2), alpha=alpha, power=0.8)
        n_ours = paired.cases_needed(0.05, discordance_rate=0.2, alpha=alpha)
        assert n_ours is not None and abs(n_ours - n_ref) <= 3
    assert paired.cases_needed(0.0) is None
    assert paired.minimum_detectable_effect(0) == math.inf
    assert paired.minimum_detectable_effect(1, discordance_rate=0.25) == pytest.approx(
        (stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * 0.5
    )
    n1 = paired.cases_needed(0.05, discordance_rate=0.2)
    n4 = paired.cases_needed(0.05, discordance_rate=0.2, design_effect=4.0)
    assert n1 is not None and n4 is not None and abs(n4 - 4 * n1) <= 4
    # clustering inflates the variance: the design effect scales the cases needed
    assert paired.minimum_detectable_effect(100, design_effect=4.0) == pytest.approx(
        2 * paired.minimum_detectable_effect(100)
    )


def test_discordance_conservative_with_few_discordant_pairs() -> None:
    assert paired.discordance([1, 1, 1, 1], [1, 1, 1, 1]) == paired.DEFAULT_DISCORDANCE
    base = np.array([1.0] * 50 + [0.0] * 50)
    head = np.array([0.0] * 30 + [1.0] * 20 + [1.0] * 10 + [0.0] * 40)
    assert paired.discordance(base, head) == pytest.approx(0.4)
    assert paired.discordance([1.0], [0.0]) == 1.0  # one discordant pair: observed is larger
    # 5 discordant cases (repeats: 1/3 each) are enough to trust the observed rate
    few = paired.discordance([2 / 3] * 5 + [1.0], [1.0] * 6)
    assert few == pytest.approx(5 / 9 / 6)
    assert paired.discordance([2 / 3] * 4 + [1.0] * 2, [1.0] * 6) == paired.DEFAULT_DISCORDANCE


@pytest.mark.parametrize(
    "scenario",
    [
        Scenario(30, 0.9, 0.3),  # few discordant pairs
        Scenario(100, 0.5, 0.3, repeats=3),
        Scenario(100, 0.8, 0.3, clusters=12),  # few clusters: small-sample correction
        Scenario(200, 0.5, 0.3, clusters=8),  # the null with few clusters
    ],
)
def test_coverage_by_simulation(scenario: Scenario) -> None:
    """Loose bounds (300 data sets): a broken method (a naive se, no cluster correction)
    falls below 0.9; the full grid is benchmarks/bench_coverage_compare.py."""
    assert 0.9 <= coverage(scenario, reps=300, seed=11) <= 0.995


def test_holm_intervals_cover_family_wise() -> None:
    family = [Scenario(60, 0.8, 0.3), Scenario(60, 0.5, 0.3), Scenario(60, 0.9, 0.1)]
    family_wise, each = holm_coverage(family, reps=300, seed=3)
    assert min(each) >= 0.93 and family_wise >= 0.85
