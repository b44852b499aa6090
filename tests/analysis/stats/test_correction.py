"""Corrected pass rates (Rogan–Gladen with its interval, PPI++): against hand computations of
the published formulas, and coverage measured by simulation."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from evalkit.analysis.stats.agreement import calibration_summary
from evalkit.analysis.stats.correction import (
    corrected_pass_rate,
    rogan_gladen,
    rogan_gladen_point,
    run_counts,
)
from evalkit.analysis.stats.mover import wilson_limits, youden_lower
from tests.hand import mover_rogan_gladen

SIMS = 1000


def test_rogan_gladen_worked_example() -> None:
    # Judge passes 328 of 500; it passed 51 of 60 human passes (TPR 0.85) and failed 48 of 60
    # human fails (TNR 0.8): θ = (0.656 + 0.8 − 1)/(0.85 + 0.8 − 1) = 0.456/0.65 = 0.70154.
    r = rogan_gladen(328, 500, 51, 60, 48, 60)
    assert not r.unstable and r.reason is None
    assert r.observed == pytest.approx(0.656)
    assert r.youden == pytest.approx(0.65)
    assert r.estimate == pytest.approx(0.456 / 0.65)
    assert r.interval is not None and r.method == "mover-wilson"
    assert (r.interval.low, r.interval.high) == pytest.approx(
        mover_rogan_gladen(328, 500, 51, 60, 48, 60), abs=1e-9
    )
    # skewed like the data: TPR's and TNR's Wilson limits lean towards 1/2
    assert r.interval.low == pytest.approx(0.58387, abs=5e-5)
    assert r.interval.high == pytest.approx(0.86245, abs=5e-5)


@pytest.mark.parametrize(
    ("tp", "n_pos", "tn", "n_neg"), [(17, 20, 14, 20), (51, 60, 48, 60), (20, 20, 3, 25)]
)
def test_youden_lower_is_newcombes_difference(tp: int, n_pos: int, tn: int, n_neg: int) -> None:
    """TPR + TNR − 1 = TPR − FPR: its lower limit is Newcombe's hybrid score interval for a
    difference of two independent proportions (statsmodels' "newcomb")."""
    expected = confint_proportions_2indep(
        tp, n_pos, n_neg - tn, n_neg, method="newcomb", compare="diff"
    )[0]
    assert float(youden_lower(tp, n_pos, tn, n_neg, 1.959963984540054)) == pytest.approx(
        float(expected), abs=1e-12
    )


@pytest.mark.parametrize(("k", "n"), [(0, 20), (1, 20), (19, 20), (20, 20), (7.5, 13.2)])
def test_wilson_limits_match_statsmodels(k: float, n: float) -> None:
    low, high = wilson_limits(k, n, 1.959963984540054)
    expected = proportion_confint(k, n, alpha=0.05, method="wilson")
    assert (float(low), float(high)) == pytest.approx(expected, abs=1e-12)


def test_correlated_rates_narrow_the_interval() -> None:
    """Stratified labels make the TPR and TNR estimates move together; their positive
    correlation partly cancels in θ = (p + TNR − 1)/(TPR + TNR − 1)."""
    r = rogan_gladen(328, 500, 51, 60, 48, 60, rates_correlation=0.6)
    by_hand = mover_rogan_gladen(328, 500, 51, 60, 48, 60, rho=0.6)
    assert r.interval is not None and by_hand is not None
    low, high = by_hand
    assert (r.interval.low, r.interval.high) == pytest.approx((low, high), abs=1e-9)
    plain = rogan_gladen(328, 500, 51, 60, 48, 60)
    assert plain.interval is not None
    assert high - low < plain.interval.high - plain.interval.low - 0.01


def test_clipping() -> None:
    assert rogan_gladen_point(0.1, 0.85, 0.8) == 0.0  # below the judge's false-pass rate
    assert rogan_gladen_point(0.95, 0.85, 0.8) == 1.0  # above its TPR
    assert rogan_gladen_point(0.5, 0.4, 0.5) is None  # worse than a coin
    r = rogan_gladen(90, 500, 51, 60, 48, 60)  # 18% passed, false-pass rate 20%
    assert r.estimate == 0.0 and r.interval is not None and r.interval.low == 0.0
    assert r.interval.high > 0.05
    # 4% passed: far below a false-pass rate of 20% [12%, 32%]: the calibration does not fit
    r = rogan_gladen(20, 500, 51, 60, 48, 60)
    assert r.estimate is None and r.interval is None and not r.unstable
    assert "4.0% of the run, below its false-pass rate (1 − TNR) on the labels (20.0%)" in (
        r.reason or ""
    )
    r = rogan_gladen(495, 500, 51, 60, 48, 60)  # 99% passed, TPR 85%
    assert r.estimate is None and "above its TPR on the labels (85.0%)" in (r.reason or "")


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 3000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    st.integers(20, 300).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    st.integers(20, 300).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
)
def test_interval_is_mover_by_hand(
    run: tuple[int, int], pos: tuple[int, int], neg: tuple[int, int]
) -> None:
    """Wherever a figure is shown it is the MOVER interval found by scanning [0, 1] (widened
    only to take in the plain estimate), and where no θ in [0, 1] fits the figure is withheld."""
    r = rogan_gladen(*run, *pos, *neg)
    by_hand = mover_rogan_gladen(*run, *pos, *neg)
    if r.interval is None:
        assert r.estimate is None and r.reason
        if r.youden is not None and not r.unstable:
            assert by_hand is None and "by more than chance allows" in r.reason
        return
    assert r.estimate == pytest.approx(
        min(1.0, max(0.0, (run[0] / run[1] + neg[0] / neg[1] - 1) / r.youden))  # type: ignore[operator]
    )
    assert by_hand is not None
    assert r.interval.low == pytest.approx(min(by_hand[0], r.estimate), abs=1e-9)
    assert r.interval.high == pytest.approx(max(by_hand[1], r.estimate), abs=1e-9)


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
    # Youden 0.3 ≥ 0.2 but 20 + 20 labels cannot show it is above 0 (Fieller's condition).
    r = rogan_gladen(300, 500, 12, 20, 14, 20)
    assert r.unstable and "more labels needed" in (r.reason or "")
    r = rogan_gladen(300, 500, 17, 19, 40, 45)
    assert not r.unstable and r.estimate is None
    assert r.reason == "too few labels (19 pass, 45 fail; need 20 per class)"
    assert rogan_gladen(300, 500, 17, 19, 40, 45, min_per_class=10).estimate is not None
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
    r = corrected_pass_rate([True] * 328 + [False] * 172, summary)
    assert r.estimate == pytest.approx(0.456 / 0.65)  # the worked example's counts
    assert r.interval is not None
    assert (r.interval.low, r.interval.high) == pytest.approx(
        mover_rogan_gladen(328, 500, 51, 60, 48, 60), abs=1e-9
    )


def test_run_counts_deflate_repeats_by_the_cluster_design_effect() -> None:
    # 4 cases × 3 repeats; each case's repeats agree: 12 outputs carry 4 cases' information
    passed = [True] * 3 + [False] * 3 + [True] * 3 + [True] * 3
    cases = [c for c in "abcd" for _ in range(3)]
    k, n = run_counts(passed, cases)
    # cluster-robust variance of the pass rate: 4/3 · Σ_c ((x_c − 3p)/12)² with p = 3/4
    p = 0.75
    var = 4 / 3 * sum(((x - 3 * p) / 12) ** 2 for x in (3, 0, 3, 3))
    assert n == pytest.approx(p * (1 - p) / var * 12 / 11)
    assert k == pytest.approx(p * n) and n < 12
    assert run_counts(passed, None) == (9.0, 12.0)
    assert run_counts(passed, [str(i) for i in range(12)]) == (9.0, 12.0)


def test_run_counts_take_the_per_case_mean_when_graded_repeats_differ() -> None:
    """evalkit's pass rate is the mean of case rates; pooled here it would be 5/8."""
    passed = [True, True, True, False, False, True, False, True]  # cases a a a a b c c d
    cases = ["a"] * 4 + ["b"] + ["c"] * 2 + ["d"]
    case_means = [0.75, 0.0, 0.5, 1.0]
    p = float(np.mean(case_means))  # 0.5625
    k, n = run_counts(passed, cases)
    assert k / n == pytest.approx(p)
    # the mean of C case means has the variance s²/C of those means; as effective draws:
    var = float(np.var(case_means, ddof=1)) / len(case_means)
    assert n == pytest.approx(min(8.0, p * (1 - p) / var * 8 / 7))


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
    delta method covered 79% here in our simulations; Wilson's limits never collapse so."""
    coverage, _ = _rg_coverage(theta, tpr, tnr, n, per_class, seed=7)
    assert coverage >= 0.93, coverage


def _bench() -> ModuleType:
    """The coverage benchmark, loaded from its file (benchmarks/ is not a package)."""
    path = Path(__file__).parents[3] / "benchmarks" / "bench_coverage_correction.py"
    spec = importlib.util.spec_from_file_location("bench_coverage_correction", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_coverage_benchmark_small_grid() -> None:
    """A small, fast run of ``benchmarks/bench_coverage_correction.py``: loose bounds (300
    simulations: ±2.5 points of Monte Carlo error) that a broken method still fails."""
    bench = _bench()
    sims = 300
    for cell in (
        bench.rg_random(0.5, 0.85, 0.8, 30, 3, sims, seed=1),  # repeats: clustered counts
        bench.rg_random(0.1, 0.95, 0.95, 20, 1, sims, seed=1),
        bench.rg_stratified(0.5, 0.85, 0.8, 200, sims, seed=2),
        bench.ppi(0.5, 0.85, 0.8, 100, 3, sims, seed=3),
        bench.ppi(0.1, 0.75, 0.9, 100, 1, sims, seed=3),
    ):
        assert cell.shown >= 0.98 * sims  # PPI++: a rare run with < 5 disagreements
        assert 0.9 <= cell.coverage <= 0.99, cell
    # random labels, 20 per class, a near-perfect judge at a 10% pass rate: Lang–Reiczigel's
    # pseudo-counts covered 99.0% (2,000 runs); MOVER 95.5% [94.7%, 96.2%] at 3,000 runs
    small = bench.rg_random(0.1, 0.95, 0.95, 20, 1, 3000, seed=1)
    assert small.shown == 3000 and 0.93 <= small.coverage <= 0.975, small
    # stratified labels near a 10% pass rate: 86% when the design's effective counts were
    # credited in full, 99.3% capped at the labels collected (1,000 runs), in band with the
    # calibration run counted as a sample of the judge's outputs (two phases)
    edge = bench.rg_stratified(0.1, 0.95, 0.95, 60, 600, seed=2)
    assert edge.shown > 0.95 * 600 and 0.93 <= edge.coverage <= 0.985, edge
    # 20 labels per verdict at a 30% pass rate: with the minimum counted per human class the
    # figure showed in 1% of calibrations and those covered 78%; per verdict, nearly always
    few = bench.rg_stratified(0.3, 0.85, 0.8, 40, sims, seed=7)
    assert few.shown > 0.95 * sims and few.coverage >= 0.94, few
    # a 5% pass rate and a near-perfect judge: about half the runs have too few disagreements
    rare = bench.ppi(0.05, 0.95, 0.95, 100, 1, 600, seed=3)
    assert 0.3 * 600 < rare.shown < 0.8 * 600 and rare.coverage >= 0.94, rare
    assert bench.rg_random(0.5, 0.85, 0.8, 10, 1, 50, seed=1).shown == 0  # too few labels
    assert bench.ppi(0.5, 0.85, 0.8, 50, 1, 50, seed=1).shown == 0
    # the old rules, still in the benchmark for comparison, fail where the audit said they did
    naive = bench.rg_random(0.5, 0.95, 0.95, 300, 10, sims, seed=6, n_cases=50, clustered=False)
    assert naive.coverage < 0.85  # repeats counted as independent outputs
    # shown only when the same labels passed the thresholds: 87.7% [83.9%, 90.6%]; always, 94.8%
    scen = (0.1, 0.9, 0.66, 100, 1, 2000)
    gated = bench.rg_random(*scen, seed=4, n_cases=3000, gate=True)
    assert gated.shown > 200 and gated.coverage < 0.91, gated
    always = bench.rg_random(*scen, seed=4, n_cases=3000)
    assert always.coverage >= 0.93, always
    old, new = bench.gap_alarms(0.85, 0.85, 40, 2000, seed=5)
    assert old > 0.1 and new < 0.04  # no real gap: the interval rule stays quiet
