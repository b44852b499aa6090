"""PPI++ (evalkit/analysis/stats/ppi.py): against the paper's formulas by hand, unbiasedness,
coverage by simulation, and the figures it withholds."""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from evalkit.analysis.stats.ppi import PPI_MIN_DISAGREEMENTS, PPI_MIN_LABELS, ppi_mean

SIMS = 1000


def _ppi_data(
    theta: float, tpr: float, tnr: float, n: int, big_n: int, sims: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.random((sims, n + big_n)) < theta
    f = np.where(y, rng.random(y.shape) < tpr, rng.random(y.shape) >= tnr)
    return y, f


def test_ppi_coverage_bias_and_width_by_simulation() -> None:
    theta, n, big_n = 0.7, 200, 2000
    y, f = _ppi_data(theta, 0.85, 0.8, n, big_n, SIMS, seed=0)
    est, se, covered, width, width_human = [], [], 0, [], []
    for yi, fi in zip(y, f, strict=True):
        r = ppi_mean(yi[:n], fi[:n], fi[n:])
        h = ppi_mean(yi[:n], fi[:n], fi[n:], lam=0.0)  # human labels only
        assert r.interval is not None and h.interval is not None and r.se is not None
        assert r.estimate is not None and r.lam is not None and 0.0 <= r.lam <= 1.0
        covered += r.interval.low <= theta <= r.interval.high
        est.append(r.estimate)
        se.append(r.se)
        width.append(r.interval.high - r.interval.low)
        width_human.append(h.interval.high - h.interval.low)
    assert 0.93 <= covered / SIMS <= 0.97, covered / SIMS
    # Tuned λ is fitted on the same labels, so unbiased only asymptotically: the bias must be
    # negligible next to the estimator's own standard error.
    assert abs(np.mean(est) - theta) < 0.1 * np.mean(se)
    # A good judge buys precision: narrower than the human-only interval, every time on average.
    assert np.mean(width) < 0.9 * np.mean(width_human)


@pytest.mark.parametrize("lam", [0.0, 0.5, 1.0])
def test_ppi_is_unbiased_for_a_fixed_lambda(lam: float) -> None:
    """With λ fixed in advance the estimator is exactly unbiased (mean of unbiased parts)."""
    theta, n, big_n, sims = 0.7, 100, 1000, 4000
    y, f = _ppi_data(theta, 0.85, 0.8, n, big_n, sims, seed=3)
    est = [ppi_mean(yi[:n], fi[:n], fi[n:], lam=lam).estimate for yi, fi in zip(y, f, strict=True)]
    mean, mc_se = np.mean(est), np.std(est) / np.sqrt(sims)  # type: ignore[arg-type]
    assert abs(mean - theta) < 4 * mc_se


def _ppi_by_hand(
    y: list[int], f: list[int], fu: list[int], lam: float | None = None
) -> tuple[float, float, float]:
    """PPI++ for a mean (Angelopoulos, Duchi & Zrnic 2023, Example 6.1, as ppi_py computes it)
    with plain sums: λ = Cov(Y, f)/((1 + n/N)·Var(f)) clipped to [0, 1] (covariance over n,
    variance over all n + N predictions, ddof 1); θ = λ·mean(fu) + mean(Y − λf);
    se² = s²(Y − λf)/n + λ²·s²(fu)/N. Returns (λ, θ, se)."""
    n, big_n = len(y), len(fu)
    my, mf = sum(y) / n, sum(f) / n
    if lam is None:
        cov = sum((a - my) * (b - mf) for a, b in zip(y, f, strict=True)) / n
        every = f + fu
        m = sum(every) / len(every)
        var = sum((x - m) ** 2 for x in every) / (len(every) - 1)
        lam = min(1.0, max(0.0, cov / ((1 + n / big_n) * var)))
    rect = [a - lam * b for a, b in zip(y, f, strict=True)]
    mr, mu = sum(rect) / n, sum(fu) / big_n
    s2_rect = sum((r - mr) ** 2 for r in rect) / (n - 1)
    s2_fu = sum((x - mu) ** 2 for x in fu) / (big_n - 1)
    return lam, lam * mu + mr, math.sqrt(s2_rect / n + lam * lam * s2_fu / big_n)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ppi_matches_the_papers_formulas_by_hand(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = (rng.random(120) < 0.6).astype(int)
    f = np.where(rng.random(120) < 0.8, y, 1 - y)
    fu = (rng.random(400) < 0.55).astype(int)
    lam, theta, se = _ppi_by_hand(y.tolist(), f.tolist(), fu.tolist())
    assert 0.05 < lam < 0.95  # tuned, not clipped: a wrong factor in λ would show
    r = ppi_mean(y, f, fu)
    assert r.lam == pytest.approx(lam, abs=1e-12)
    assert r.estimate == pytest.approx(theta, abs=1e-12)
    assert r.se == pytest.approx(se, abs=1e-12)
    # the interval: Wilson's score interval at the effective size θ(1 − θ)/se²
    n_star = theta * (1 - theta) / se**2
    low, high = proportion_confint(theta * n_star, n_star, method="wilson")
    assert r.interval is not None
    assert (r.interval.low, r.interval.high) == pytest.approx((low, high), abs=1e-9)
    fixed = ppi_mean(y, f, fu, lam=0.5)
    assert (fixed.estimate, fixed.se) == pytest.approx(_ppi_by_hand(y, f, fu, 0.5)[1:])  # type: ignore[arg-type]


def test_ppi_human_only_is_wilson_at_its_sample_variance() -> None:
    rng = np.random.default_rng(2)
    y = rng.random(120) < 0.6
    f = rng.random(120) < 0.5
    r = ppi_mean(y, f, rng.random(500) < 0.5, lam=0.0)
    p = float(y.mean())
    # with λ = 0, se² = s²/n = p(1 − p)/(n − 1): Wilson's interval on n − 1 outputs
    assert r.estimate == pytest.approx(p) and r.se == pytest.approx(math.sqrt(p * (1 - p) / 119))
    low, high = proportion_confint(p * 119, 119, method="wilson")
    assert r.interval is not None
    assert (r.interval.low, r.interval.high) == pytest.approx((low, high))


def test_ppi_needs_five_labels_that_disagree_with_the_judge() -> None:
    """The rectifier's variance rests on the disagreements: with 4 of 100, no figure."""
    rng = np.random.default_rng(5)
    fu = rng.random(400) < 0.1
    y = np.array([True] * 10 + [False] * 90)
    for disagree, shown in ((4, False), (5, True)):
        f = y.copy()
        f[:disagree] = ~f[:disagree]  # missed passes
        r = ppi_mean(y, f, fu)
        assert (r.interval is not None) is shown, r
        if not shown:
            assert r.estimate is None and r.reason == (
                f"too few labels that disagree with the judge ({disagree} of 100, need "
                f"{PPI_MIN_DISAGREEMENTS}): the judge's error cannot be estimated from them"
            )
    # with λ = 0 the judge plays no part: the human-only interval is shown
    assert ppi_mean(y, y, fu, lam=0.0).interval is not None


def test_ppi_tuning_and_degenerate_inputs() -> None:
    rng = np.random.default_rng(4)
    y = rng.random(100) < 0.7
    perfect = ppi_mean(y, y, rng.random(5000) < 0.7)
    assert perfect.lam == pytest.approx(1.0, abs=0.05)  # a perfect judge is trusted fully
    noise = ppi_mean(y, rng.random(100) < 0.5, rng.random(5000) < 0.5)
    assert noise.lam is not None and noise.lam < 0.3  # an unrelated one is (nearly) ignored
    constant = ppi_mean(y, np.ones(100, bool), np.ones(50, bool))
    assert constant.lam == 0.0 and constant.estimate == pytest.approx(y.mean())
    assert ppi_mean(y, y, []).lam == 0.0  # no unlabelled outputs: human-only
    with pytest.raises(ValueError, match="differ in length"):
        ppi_mean([True, False], [True], [True])


def test_ppi_withholds_figures_it_cannot_support() -> None:
    few = ppi_mean([True, False] * 10, [True, False] * 10, [True] * 100)
    assert few.estimate is None and few.interval is None
    assert few.reason == f"too few labels (20, need {PPI_MIN_LABELS})"
    assert ppi_mean([True], [True], [True], min_labels=0).reason == "too few labels (1, need 2)"
    # every label agrees with its verdict and every verdict is a pass: no zero-width interval
    flat = ppi_mean([True] * 120, [True] * 120, [True] * 60)
    assert flat.estimate is None and flat.interval is None and flat.se == 0.0
    assert "zero estimated variance" in (flat.reason or "")


def test_ppi_clusters_widen_the_interval_for_correlated_repeats() -> None:
    rng = np.random.default_rng(5)
    cases = np.repeat(np.arange(300), 3)
    truth = np.repeat(rng.random(300) < 0.6, 3)
    f = np.where(rng.random(900) < 0.85, truth, ~truth)
    lab = np.zeros(900, bool)
    lab[rng.choice(900, 100, replace=False)] = True
    plain = ppi_mean(truth[lab], f[lab], f[~lab])
    clustered = ppi_mean(
        truth[lab],
        f[lab],
        f[~lab],
        clusters_labeled=cases[lab].tolist(),
        clusters_unlabeled=cases[~lab].tolist(),
    )
    assert clustered.estimate == plain.estimate and clustered.lam == plain.lam
    assert clustered.se is not None and plain.se is not None and clustered.se > 1.05 * plain.se
