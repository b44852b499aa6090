"""Design-based variances, against statsmodels' cluster-robust mean and a hand delta method."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm

from evalkit.analysis.stats.design import effective_n, ratio_variance, satterthwaite_df


def test_plain_sample_is_the_variance_of_the_mean() -> None:
    y = np.array([1, 0, 1, 1, 0, 1, 1, 1, 0, 1], dtype=float)
    r, v = ratio_variance(y)
    assert r == pytest.approx(0.7)
    assert v == pytest.approx(np.var(y, ddof=1) / y.size)
    assert effective_n(y) == pytest.approx(10)  # a simple random sample gets its own size


def test_clusters_match_statsmodels_cluster_robust_mean() -> None:
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(40), 3)
    p = np.repeat(rng.beta(1, 1, 40), 3)
    y = (rng.random(120) < p).astype(float)
    fit = sm.OLS(y, np.ones(120)).fit(cov_type="cluster", cov_kwds={"groups": groups})
    # statsmodels scales by G/(G-1)·(N-1)/(N-K), which is G/(G-1) for the one coefficient
    expected = float(fit.bse[0] ** 2)
    r, v = ratio_variance(y, clusters=groups.tolist())
    assert r == pytest.approx(y.mean())
    assert v == pytest.approx(expected, rel=1e-10)
    # correlated repeats: fewer effective outputs than outputs
    n_eff = effective_n(y, clusters=groups.tolist())
    assert n_eff == pytest.approx(r * (1 - r) / v * 120 / 119)
    assert n_eff < 100


def test_stratified_ratio_matches_the_hand_delta_method() -> None:
    """TPR from labels drawn per judge verdict: TPR = N_P·a_P / (N_P·a_P + N_F·a_F), with
    a_s the human-pass share of stratum s; Var(a_s) = a_s(1 − a_s)/(n_s − 1) (sample variance)
    and the delta method give the variance without any survey machinery."""
    n_p, n_f, big_p, big_f = 50, 40, 780, 220  # labels and stratum sizes
    k_p, k_f = 46, 15  # human passes among the labels of each stratum
    human = np.array([1] * k_p + [0] * (n_p - k_p) + [1] * k_f + [0] * (n_f - k_f), dtype=bool)
    judge = np.array([True] * n_p + [False] * n_f)
    w = np.where(judge, big_p / n_p, big_f / n_f)
    strata = ["P" if j else "F" for j in judge]
    r, v = ratio_variance(human & judge, human, weights=w, strata=strata)
    a_p, a_f = k_p / n_p, k_f / n_f
    d = big_p * a_p + big_f * a_f
    assert r == pytest.approx(big_p * a_p / d)
    grad_p, grad_f = big_p * big_f * a_f / d**2, -big_p * a_p * big_f / d**2
    var_p, var_f = a_p * (1 - a_p) / (n_p - 1), a_f * (1 - a_f) / (n_f - 1)
    assert v == pytest.approx(grad_p**2 * var_p + grad_f**2 * var_f, rel=1e-10)
    # the same labels without the strata (one weighted sample) claim far more variance
    assert ratio_variance(human & judge, human, weights=w)[1] > 2 * v


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="denominator"):
        ratio_variance([1.0], [0.0])
    with pytest.raises(ValueError, match="differ in length"):
        ratio_variance([1.0, 0.0], [1.0])
    with pytest.raises(ValueError, match="keys"):
        ratio_variance([1.0, 0.0], strata=["a"])


def test_satterthwaite_df_by_hand() -> None:
    """(Σ V_h)² / Σ V_h²/(m_h − 1) over the strata's parts of the linearised variance of a
    weighted mean; one stratum gives m − 1, and a variance resting on one stratum its m_h − 1."""
    rng = np.random.default_rng(4)
    y = rng.random(30)
    w = np.where(np.arange(30) < 12, 3.0, 1.0)
    strata = ["a"] * 12 + ["b"] * 18
    r = float(np.sum(w * y) / np.sum(w))
    z = w * (y - r) / np.sum(w)
    parts = []
    for idx in (slice(0, 12), slice(12, 30)):
        zz = z[idx]
        m = zz.size
        parts.append((m / (m - 1) * float(np.sum((zz - zz.mean()) ** 2)), m))
    expected = sum(v for v, _ in parts) ** 2 / sum(v * v / (m - 1) for v, m in parts)
    assert satterthwaite_df(y, weights=w, strata=strata) == pytest.approx(expected)
    assert 11 < expected < 28
    assert satterthwaite_df(y) == pytest.approx(29)
    flat = np.r_[np.full(12, 0.5), y[12:]]  # stratum a contributes nothing
    assert satterthwaite_df(flat, weights=w, strata=strata) == pytest.approx(17)
