"""Judge-vs-human agreement figures, checked against scikit-learn, scipy and statsmodels."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn.metrics import cohen_kappa_score
from sklearn.metrics import confusion_matrix as sk_confusion_matrix
from statsmodels.stats.proportion import proportion_confint

from evalkit.analysis.stats.agreement import (
    LIKERT_LEVELS,
    as_binary,
    calibration_summary,
    cohen_kappa,
    confusion_matrix,
    is_calibrated,
    kappa_bootstrap_interval,
    spearman_rho,
)
from evalkit.analysis.stats.interval import wilson_interval
from evalkit.model.outcome import Outcome


def _sk_kappa(a: list[int], b: list[int], **kw: object) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(cohen_kappa_score(a, b, **kw))


def _judge_like(rng: np.random.Generator, n: int, tpr: float, tnr: float, prev: float) -> tuple:
    human = rng.random(n) < prev
    judge = np.where(human, rng.random(n) < tpr, rng.random(n) >= tnr)
    return human, judge


pairs = st.lists(st.tuples(st.integers(1, 5), st.integers(1, 5)), min_size=1, max_size=150)
binary_pairs = st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=150)


@settings(max_examples=200, deadline=None)
@given(pairs)
def test_kappa_matches_sklearn(data: list[tuple[int, int]]) -> None:
    a, b = [x for x, _ in data], [y for _, y in data]
    for kw in ({}, {"weights": "quadratic"}, {"weights": "linear"}):
        for labels in (None, list(LIKERT_LEVELS)):
            ours = cohen_kappa(a, b, labels=labels, **kw)  # type: ignore[arg-type]
            theirs = _sk_kappa(a, b, labels=labels, **kw)
            if ours is None:
                assert math.isnan(theirs), (kw, labels)
            else:
                assert ours == pytest.approx(theirs, abs=1e-12), (kw, labels)


@settings(max_examples=200, deadline=None)
@given(binary_pairs)
def test_confusion_and_binary_kappa_match_sklearn(data: list[tuple[bool, bool]]) -> None:
    human, judge = [h for h, _ in data], [j for _, j in data]
    cm = confusion_matrix(human, judge)
    expected = sk_confusion_matrix(human, judge, labels=[False, True])
    np.testing.assert_array_equal(cm.as_array(), expected)
    s = calibration_summary(human, judge, n_boot=50)
    theirs = _sk_kappa(human, judge, labels=[False, True])
    assert (s.kappa is None and math.isnan(theirs)) or s.kappa == pytest.approx(theirs)
    assert s.agreement == pytest.approx(np.mean(np.array(human) == np.array(judge)))


def test_spearman_matches_scipy_with_ties() -> None:
    rng = np.random.default_rng(3)
    for n in (5, 40, 300):
        a = rng.integers(1, 6, n)
        b = np.clip(a + rng.integers(-2, 3, n), 1, 5)
        assert spearman_rho(list(a), list(b)) == pytest.approx(stats.spearmanr(a, b).statistic)
    assert spearman_rho([3, 3, 3], [1, 2, 3]) is None
    assert spearman_rho([1], [1]) is None


def test_wilson_matches_statsmodels() -> None:
    for n in (1, 2, 7, 30, 61, 263, 1000):
        for k in sorted({0, 1, n // 3, n // 2, n - 1, n}):
            ci = wilson_interval(k, n)
            assert ci is not None
            lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
            assert (ci.low, ci.high) == pytest.approx((lo, hi), abs=1e-12)
            ci90 = wilson_interval(k, n, confidence=0.9)
            assert ci90 is not None
            assert ci90.low == pytest.approx(proportion_confint(k, n, 0.1, "wilson")[0], abs=1e-12)


def test_wilson_worked_example() -> None:
    # 81 successes in 263 trials: Wilson 95% interval 0.2553–0.3662. By hand, with z = 1.95996:
    # centre (81 + z²/2)/(263 + z²) = 0.31075, half-width z·√(81·182/263 + z²/4)/(263 + z²)
    # = 0.05546.
    ci = wilson_interval(81, 263)
    assert ci is not None
    assert (round(ci.low, 4), round(ci.high, 4)) == (0.2553, 0.3662)
    assert wilson_interval(0, 0) is None
    with pytest.raises(ValueError):
        wilson_interval(5, 4)


def test_bootstrap_matches_a_plain_loop() -> None:
    """The vectorised bincount resampling equals sklearn's kappa on each resample."""
    rng = np.random.default_rng(11)
    a = list(rng.integers(1, 6, 60))
    b = [min(5, max(1, x + int(d))) for x, d in zip(a, rng.integers(-1, 2, 60), strict=True)]
    n_boot = 200
    ci = kappa_bootstrap_interval(a, b, weights="quadratic", labels=LIKERT_LEVELS, n_boot=n_boot)
    idx = np.random.default_rng(0).integers(0, 60, size=(n_boot, 60))
    arr_a, arr_b = np.array(a), np.array(b)
    loop = [
        _sk_kappa(arr_a[i], arr_b[i], weights="quadratic", labels=list(LIKERT_LEVELS)) for i in idx
    ]
    lo, hi = np.quantile(loop, [0.025, 0.975])
    assert ci is not None
    assert (ci.low, ci.high) == pytest.approx((lo, hi), abs=1e-12)


def test_bootstrap_contains_estimate_narrows_and_is_seeded() -> None:
    rng = np.random.default_rng(5)
    widths = []
    for n in (50, 200, 800):
        human, judge = _judge_like(rng, n, 0.85, 0.8, 0.6)
        k = cohen_kappa(list(human), list(judge))
        ci = kappa_bootstrap_interval(list(human), list(judge))
        assert k is not None and ci is not None
        assert ci.low <= k <= ci.high
        widths.append(ci.high - ci.low)
        again = kappa_bootstrap_interval(list(human), list(judge))
        assert again == ci
        assert kappa_bootstrap_interval(list(human), list(judge), seed=1) != ci
    assert widths[0] > widths[1] > widths[2]
    assert widths[0] / widths[2] == pytest.approx(4, rel=0.3)  # ∝ 1/√n


def test_evalgen_view_and_rates() -> None:
    human = [True] * 40 + [False] * 40
    judge = [True] * 34 + [False] * 6 + [False] * 30 + [True] * 10
    s = calibration_summary(human, judge)
    assert s.tpr is not None and s.tnr is not None
    assert s.tpr.estimate == pytest.approx(34 / 40)
    assert s.tnr.estimate == pytest.approx(30 / 40)
    assert s.coverage == s.tnr.estimate
    assert s.false_failure_rate == pytest.approx(6 / 40)
    assert s.alignment == pytest.approx(stats.hmean([0.85, 0.75]))
    assert s.prevalence == 0.5 and s.judge_pass_rate == pytest.approx(44 / 80)
    assert s.labels_per_class == {"pass": 40, "fail": 40}
    lo, hi = proportion_confint(34, 40, method="wilson")
    assert (s.tpr.interval.low, s.tpr.interval.high) == pytest.approx((lo, hi))
    ok, reasons = is_calibrated(s)
    assert ok, reasons
    assert is_calibrated(s, min_tnr=0.8) == (False, ["TNR 0.75 < 0.80"])
    ok, reasons = is_calibrated(s, min_per_class=50)
    assert not ok and len(reasons) == 2 and "only 40 human 'pass' labels" in reasons[0]


def test_likert_summary() -> None:
    rng = np.random.default_rng(8)
    human = list(rng.integers(1, 6, 120))
    judge = [int(np.clip(h + rng.integers(-1, 2), 1, 5)) for h in human]
    s = calibration_summary(human, judge, scale="likert-5", pass_at=4)
    assert s.weighted_kappa == pytest.approx(
        _sk_kappa(human, judge, weights="quadratic", labels=list(LIKERT_LEVELS))
    )
    assert s.spearman == pytest.approx(stats.spearmanr(human, judge).statistic)
    assert s.weighted_kappa_interval is not None
    assert s.weighted_kappa_interval.low <= s.weighted_kappa <= s.weighted_kappa_interval.high
    h, j = np.array(human) >= 4, np.array(judge) >= 4
    assert s.confusion == confusion_matrix(h, j)
    assert sum(s.labels_per_class[str(v)] for v in LIKERT_LEVELS) == 120
    with pytest.raises(ValueError, match="score 1–5"):
        calibration_summary([1, 6], [1, 2], scale="likert-5")


def _assert_json_clean(s: object) -> None:
    text = s.model_dump_json()  # type: ignore[attr-defined]
    assert "NaN" not in text and "Infinity" not in text
    json.loads(text)


def test_degenerate_inputs_give_reasons_not_crashes() -> None:
    empty = calibration_summary([], [])
    assert empty.n == 0 and empty.kappa is None and empty.tpr is None and empty.agreement is None
    assert empty.notes == ["no labels: nothing to measure"]
    _assert_json_clean(empty)
    ok, reasons = is_calibrated(empty)
    assert not ok and "kappa undefined" in reasons and "TPR undefined" in reasons

    all_pass = calibration_summary([True] * 10, [True] * 10)
    assert all_pass.kappa is None and all_pass.kappa_interval is None and all_pass.tnr is None
    assert any("kappa undefined" in n for n in all_pass.notes)
    assert any("no human fail labels" in n for n in all_pass.notes)
    assert all_pass.alignment is None and all_pass.false_failure_rate == 0.0
    _assert_json_clean(all_pass)

    # Human all pass, judge mixed: kappa is defined (0 here: no agreement beyond chance).
    mixed = calibration_summary([True] * 10, [True] * 7 + [False] * 3)
    assert mixed.kappa == pytest.approx(0.0) and mixed.tnr is None

    likert_flat = calibration_summary([3, 3, 3], [3, 3, 3], scale="likert-5")
    assert likert_flat.weighted_kappa is None and likert_flat.spearman is None
    assert len(likert_flat.notes) >= 2
    _assert_json_clean(likert_flat)


def test_input_validation() -> None:
    assert list(as_binary([Outcome.PASS, "fail", 1, 0, True, np.bool_(False)])) == [
        True, False, True, False, True, False,
    ]  # fmt: skip
    with pytest.raises(ValueError, match="pass or fail"):
        as_binary(["pass", "error"])
    with pytest.raises(ValueError):
        as_binary(np.array([0, 2]))
    with pytest.raises(ValueError, match="differ in length"):
        calibration_summary([True, False], [True])
    with pytest.raises(ValueError, match="not among the categories"):
        cohen_kappa([1, 2], [1, 7], labels=LIKERT_LEVELS)
