"""One metric's comparison from its paired test: the interval at its (Holm) level, the power
and the verdict, and Holm's correction across a family of metrics (see
:mod:`evalkit.analysis.compare` for the rules)."""

from __future__ import annotations

import math

import numpy as np

from evalkit.analysis.comparison import MetricComparison, MetricKind
from evalkit.analysis.rundata import num
from evalkit.analysis.stats import paired

#: a metric's kind, name, paired test and discordance rate (for power)
MetricTest = tuple[MetricKind, str, paired.PairedTest, float]


def _metric(
    kind: MetricKind, name: str, t: paired.PairedTest, level: float, adjusted: bool
) -> MetricComparison:
    """One metric from its test, with the interval and power at ``level`` (NaN: no test)."""
    shown = t.shown
    lo, hi = t.interval(level) if shown else (math.nan, math.nan)
    return MetricComparison(
        kind=kind,
        name=name,
        n=t.n,
        n_excluded=t.n_excluded,
        base_rate=num(t.base_mean),
        head_rate=num(t.head_mean),
        diff=num(t.diff),
        se=num(t.se) if shown else None,
        ci_low=num(lo),
        ci_high=num(hi),
        ci_level=1 - level if shown else None,
        adjusted=adjusted,
        base_better=t.base_better,
        head_better=t.head_better,
        p_value=num(t.p_value) if shown else None,
        p_adjusted=None,
        mde=None,
        cases_needed=None,
        significant=False,
        verdict="no data" if t.n == 0 else "insufficient data",
        ci_note=None if shown else _why_no_interval(t),
    )


def _why_no_interval(t: paired.PairedTest) -> str:
    if t.n < paired.MIN_PAIRS:
        return f"fewer than {paired.MIN_PAIRS} paired cases"
    if not t.valid:
        return f"fewer than {paired.MIN_CLUSTERS} clusters"
    return (
        f"only {t.changed} of {t.n} cases changed: an interval needs {paired.MIN_CHANGED}; on "
        "fewer it understates the uncertainty, and no test could call the change significant"
    )


def _decide(m: MetricComparison, t: paired.PairedTest, disc: float, level: float) -> None:
    """Verdict from the interval (equivalently the p-value at ``level``) and the power; with
    too few changed cases for an interval, never significant (no test could say so)."""
    if m.diff is None or not (t.valid and t.n >= paired.MIN_PAIRS):
        return  # "no data" / "insufficient data" set by _metric
    deff = t.design_effect
    power = {"discordance_rate": disc, "alpha": level, "design_effect": deff}
    m.mde = min(1.0, paired.minimum_detectable_effect(m.n, **power))
    m.cases_needed = paired.cases_needed(m.diff, **power)
    lo, hi = m.ci_low, m.ci_high
    m.significant = lo is not None and hi is not None and (lo > 0 or hi < 0)
    if m.significant:
        m.verdict = "regressed" if m.diff < 0 else "improved"
    elif m.base_better == m.head_better == 0:
        m.verdict = "unchanged"
    elif m.diff != 0 and abs(m.diff) < m.mde:
        m.verdict = "inconclusive, underpowered"
    else:
        m.verdict = "no significant change"  # includes churn that cancels out


def family(tests: list[MetricTest], alpha: float) -> list[MetricComparison]:
    """Holm across a family: adjusted p-values and each interval at its Holm level."""
    adjusted = len(tests) > 1 or any(k != "overall" for k, *_ in tests)
    p_raw = [t.p_value if t.shown else math.nan for _, _, t, _ in tests]
    p_adj = paired.holm(p_raw) if adjusted else np.asarray(p_raw)
    levels = paired.holm_levels(p_raw, alpha=alpha) if adjusted else np.full(len(tests), alpha)
    out = []
    for (kind, name, t, disc), p, level in zip(tests, p_adj, levels, strict=True):
        a = float(level) if math.isfinite(level) else alpha
        m = _metric(kind, name, t, a, adjusted)
        if adjusted:
            m.p_adjusted = num(float(p))
        _decide(m, t, disc, a)
        out.append(m)
    return out
