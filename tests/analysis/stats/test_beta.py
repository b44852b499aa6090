"""The pure-Python beta distribution and t quantile against scipy (test-only dependency)."""

from __future__ import annotations

import pytest
from scipy import special, stats

from evalkit.analysis.stats._beta import beta_ppf, betainc, t_ppf

SHAPES = [(0.05, 0.5), (0.5, 0.5), (1.0, 1.0), (2.5, 40.0), (17.0, 3.2), (300.0, 1200.0)]


@pytest.mark.parametrize(("a", "b"), SHAPES)
@pytest.mark.parametrize("x", [0.0, 1e-6, 0.03, 0.2, 0.5, 0.81, 0.999, 1.0])
def test_betainc_matches_scipy(a: float, b: float, x: float) -> None:
    assert betainc(a, b, x) == pytest.approx(float(special.betainc(a, b, x)), abs=1e-11)


@pytest.mark.parametrize(("a", "b"), SHAPES)
@pytest.mark.parametrize("q", [0.0, 0.001, 0.025, 0.5, 0.975, 0.9999, 1.0])
def test_beta_ppf_matches_scipy(a: float, b: float, q: float) -> None:
    assert beta_ppf(q, a, b) == pytest.approx(float(stats.beta.ppf(q, a, b)), abs=1e-10)


@pytest.mark.parametrize("df", [1, 2, 4, 9, 29, 199, 5000])
@pytest.mark.parametrize("p", [0.6, 0.9, 0.975, 0.995])
def test_t_ppf_matches_scipy(df: int, p: float) -> None:
    assert t_ppf(p, df) == pytest.approx(float(stats.t.ppf(p, df)), rel=1e-9)


def test_t_ppf_refuses_the_lower_half() -> None:
    with pytest.raises(ValueError, match=r"0\.5 < p < 1"):
        t_ppf(0.4, 10)
