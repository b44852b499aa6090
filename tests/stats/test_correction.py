"""Corrected pass rates (Rogan–Gladen with its interval, PPI++), coverage measured by simulation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from evalkit.stats.agreement import calibration_summary
from evalkit.stats.correction import (
    corrected_pass_rate,
    ppi_mean,
    rogan_gladen,
    rogan_gladen_point,
)

SIMS = 1000


def test_rogan_gladen_worked_example() -> None:
    # Judge passes 328 of 500; it passed 51 of 60 human passes (TPR 0.85) and failed 48 of 60
    # human fails (TNR 0.8): θ = (0.656 + 0.8 − 1)/(0.85 + 0.8 − 1) = 0.456/0.65 = 0.70154.
    r = rogan_gladen(328, 500, 51, 60, 48, 60)
    assert not r.unstable and r.reason is None
    assert r.observed == pytest.approx(0.656)
    assert r.youden == pytest.approx(0.65)
    assert r.estimate == pytest.approx(0.456 / 0.65)
    assert r.interval is not None
    assert r.interval.low < r.estimate < r.interval.high
    assert 0.2 < r.interval.high - r.interval.low < 0.3  # ±1.96·0.064 by the delta method


def test_clipping() -> None:
    assert rogan_gladen_point(0.1, 0.85, 0.8) == 0.0  # below the judge's false-pass rate
    assert rogan_gladen_point(0.95, 0.85, 0.8) == 1.0  # above its TPR
    assert rogan_gladen_point(0.5, 0.4, 0.5) is None  # worse than a coin
    r = rogan_gladen(20, 500, 51, 60, 48, 60)
    assert r.estimate == 0.0 and r.interval is not None and r.interval.low == 0.0


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 3000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    st.integers(1, 300).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    st.integers(1, 300).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
)
def test_estimate_lies_in_its_interval_inside_unit_range(
    run: tuple[int, int], pos: tuple[int, int], neg: tuple[int, int]
) -> None:
    r = rogan_gladen(*run, *pos, *neg)
    if r.unstable:
        assert r.estimate is None and r.interval is None and r.reason
    else:
        assert r.interval is not None and r.estimate is not None
        assert 0.0 <= r.interval.low <= r.estimate <= r.interval.high <= 1.0


def test_more_labels_narrow_the_interval() -> None:
    widths = []
    for per_class in (30, 120, 480):
        r = rogan_gladen(
            655, 1000, int(0.85 * per_class), per_class, int(0.8 * per_class), per_class
        )
        assert r.interval is not None
        widths.append(r.interval.high - r.interval.low)
    assert widths[0] > widths[1] > widths[2]


def test_unstable_when_the_judge_barely_separates() -> None:
    r = rogan_gladen(300, 500, 33, 60, 36, 60)  # TPR 0.55, TNR 0.6: Youden 0.15
    assert r.unstable and r.estimate is None and r.interval is None
    assert r.youden == pytest.approx(0.15) and "0.15 < 0.20" in (r.reason or "")
    r = rogan_gladen(300, 500, 550, 1000, 600, 1000, min_youden=0.1)  # configurable
    assert not r.unstable and r.estimate is not None
    # Youden 0.3 ≥ 0.2 but 10 + 10 labels cannot show it is above 0 (Fieller's condition).
    r = rogan_gladen(300, 500, 6, 10, 7, 10)
    assert r.unstable and "more labels needed" in (r.reason or "")
    r = rogan_gladen(300, 500, 0, 0, 50, 60)
    assert r.unstable and "no human 'pass' labels" in (r.reason or "")
    r = rogan_gladen(0, 0, 51, 60, 48, 60)
    assert not r.unstable and r.estimate is None and r.reason == "no judged outputs in the run"
    with pytest.raises(ValueError):
        rogan_gladen(600, 500, 51, 60, 48, 60)


def test_from_calibration_summary() -> None:
    human = [True] * 60 + [False] * 60
    judge = [True] * 51 + [False] * 9 + [False] * 48 + [True] * 12
    summary = calibration_summary(human, judge, n_boot=10)
    assert corrected_pass_rate(328, 500, summary) == rogan_gladen(328, 500, 51, 60, 48, 60)


def _rg_coverage(
    theta: float, tpr: float, tnr: float, n: int, per_class: int, seed: int
) -> tuple[float, int]:
    """Share of simulated runs whose interval covers θ (over the stable ones), and #unstable."""
    rng = np.random.default_rng(seed)
    p = theta * tpr + (1 - theta) * (1 - tnr)
    k = rng.binomial(n, p, SIMS)
    tp = rng.binomial(per_class, tpr, SIMS)
    tn = rng.binomial(per_class, tnr, SIMS)
    covered = unstable = 0
    for ki, tpi, tni in zip(k.tolist(), tp.tolist(), tn.tolist(), strict=True):
        r = rogan_gladen(ki, n, tpi, per_class, tni, per_class)
        if r.interval is None:
            unstable += 1
        else:
            covered += r.interval.low <= theta <= r.interval.high
    return covered / (SIMS - unstable), unstable


def test_rogan_gladen_coverage_by_simulation() -> None:
    """θ=0.7, TPR=0.85, TNR=0.8, 500 judged outputs, 60 + 60 calibration labels."""
    coverage, unstable = _rg_coverage(0.7, 0.85, 0.8, 500, 60, seed=0)
    assert unstable == 0
    assert 0.93 <= coverage <= 0.97, coverage


@pytest.mark.parametrize(
    ("theta", "tpr", "tnr", "n", "per_class"),
    [(0.05, 0.85, 0.95, 500, 30), (0.9, 0.95, 0.7, 300, 40)],
)
def test_rogan_gladen_coverage_where_the_delta_method_fails(
    theta: float, tpr: float, tnr: float, n: int, per_class: int
) -> None:
    """An estimated TNR (or TPR) of 1 from few labels has zero estimated variance: the plain
    delta method covered 79% here in our simulations, Lang–Reiczigel stays at or above 95%."""
    coverage, _ = _rg_coverage(theta, tpr, tnr, n, per_class, seed=7)
    assert coverage >= 0.93, coverage


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


def test_ppi_human_only_is_the_classical_interval() -> None:
    rng = np.random.default_rng(2)
    y = rng.random(80) < 0.6
    f = rng.random(80) < 0.5
    r = ppi_mean(y, f, rng.random(500) < 0.5, lam=0.0)
    sd = np.std(y.astype(float), ddof=1) / np.sqrt(80)
    z = stats.norm.ppf(0.975)
    assert r.estimate == pytest.approx(y.mean())
    assert r.interval is not None
    assert (r.interval.low, r.interval.high) == pytest.approx(
        (y.mean() - z * sd, y.mean() + z * sd)
    )


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
    one = ppi_mean([True], [True], [True, False])
    assert one.estimate is None and one.interval is None and "fewer than 2" in (one.reason or "")
    flat = ppi_mean([True] * 5, [True] * 5, [True] * 5)
    assert (
        flat.estimate == 1.0 and flat.se == 0.0 and "zero estimated variance" in (flat.reason or "")
    )
    with pytest.raises(ValueError, match="differ in length"):
        ppi_mean([True, False], [True], [True])
