"""The dev/holdout gap warning, and Newcombe's interval against statsmodels."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import confint_proportions_2indep

from evalkit.analysis.stats.agreement import CalibrationSummary, calibration_summary
from evalkit.analysis.stats.holdout import difference_interval, holdout_gap_warning


def test_holdout_gap_warning_needs_a_gap_clear_of_noise() -> None:
    def summary(n: int, agree: int) -> CalibrationSummary:
        return calibration_summary([True] * n, [True] * agree + [False] * (n - agree), n_boot=10)

    dev = summary(40, 39)  # 97.5%
    assert holdout_gap_warning(dev, summary(40, 38)) is None  # 2.5 points: under the 5
    # 10 points from 40 labels a side: 97.5% vs 87.5% is within noise (interval reaches below 0)
    assert holdout_gap_warning(dev, summary(40, 35)) is None
    # 30 points: the interval for the gap lies above 0
    warning = holdout_gap_warning(dev, summary(40, 27))
    assert warning is not None and "30.0 points below dev" in warning
    assert "interval for the gap" in warning
    # effective sample sizes (a case's outputs are clustered) can remove the warning
    assert holdout_gap_warning(dev, summary(40, 27), n_dev=8, n_holdout=8) is None


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 200), st.integers(1, 200), st.data())
def test_difference_interval_is_newcombes(n1: int, n2: int, data: st.DataObject) -> None:
    k1, k2 = data.draw(st.integers(0, n1)), data.draw(st.integers(0, n2))
    ours = difference_interval(k1 / n1, n1, k2 / n2, n2)
    low, high = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff")
    assert ours is not None
    assert (ours.low, ours.high) == pytest.approx((low, high), abs=1e-9)
