"""Rogan–Gladen interval candidates side by side, random calibration labels, in seconds.

Why evalkit's corrected pass rate uses MOVER (:mod:`evalkit.analysis.stats.mover`): for each
cell (true pass rate θ, judge TPR/TNR, labels per human class; 300 judged outputs) it simulates
``--sims`` runs and calibrations at once (vectorised) and prints the coverage of

* ``LR``: Lang & Reiczigel (2014), the adjusted delta method evalkit used before (pseudo-counts
  z²/2 of z² on p and 1 of 2 on TPR and TNR, plus a skew shift);
* ``LR/2``: the same with half the pseudo-counts on TPR and TNR (a less padded variant);
* ``MOVER``: Wilson limits of p, TPR and 1 − TNR recombined and Fieller-inverted (evalkit's).

All three are shown under evalkit's rules (20 labels per class, TPR + TNR − 1 ≥ 0.2 and its own
lower limit above 0; MOVER withholds the figure where no θ in [0, 1] fits). Flags as in
``bench_coverage_correction.py``: LOW / high when the Monte Carlo 95% interval of the coverage
lies outside 93–97%. On 2026-12-03 at 2,000 runs per cell: LR 94.7–99.1% (high in 13 of 105
cells, all at 20–40 labels per class), LR/2 90.9–98.8% (LOW at 20 per class with a weak-TPR
judge near θ 0.05), MOVER 94.2–98.4% (high in 2 cells: 20 per class, TPR = TNR = 0.95, θ 0.5
and 0.7).

    nice -n 19 python benchmarks/bench_rg_interval_candidates.py [--sims 2000]
"""

from __future__ import annotations

import argparse
import itertools
from statistics import NormalDist

import numpy as np
from numpy.typing import NDArray

from evalkit.analysis.stats.correction import DEFAULT_MIN_YOUDEN, RG_MIN_PER_CLASS
from evalkit.analysis.stats.mover import rogan_gladen_limits, youden_lower

Z = NormalDist().inv_cdf(0.975)
JUDGES = ((0.95, 0.95), (0.85, 0.8), (0.75, 0.9))
_F = NDArray[np.float64]
_Limits = tuple[NDArray[np.bool_], _F, _F]


def _lang_reiczigel(
    k: _F, n: float, tp: _F, tn: _F, m: float, pseudo: float, est: _F, youden: _F
) -> _Limits:
    """Lang–Reiczigel with ``pseudo`` successes of 2·pseudo on TPR and TNR."""
    n_p = n + Z * Z
    p_a = (k + Z * Z / 2) / n_p
    n_r = m + 2 * pseudo
    se_a, sp_a = (tp + pseudo) / n_r, (tn + pseudo) / n_r
    var_se, var_sp = se_a * (1 - se_a) / n_r, sp_a * (1 - sp_a) / n_r
    youden_a = se_a + sp_a - 1
    shown = (youden >= DEFAULT_MIN_YOUDEN) & (youden_a - Z * np.sqrt(var_se + var_sp) > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        th = (p_a + sp_a - 1) / youden_a
    var = p_a * (1 - p_a) / n_p + th**2 * var_se + (1 - th) ** 2 * var_sp
    sd = np.sqrt(np.maximum(var, 0)) / youden_a
    shift = 2 * Z * Z * (th * var_se - (1 - th) * var_sp)
    low = np.fmin(np.clip(th + shift - Z * sd, 0, 1), est)
    high = np.fmax(np.clip(th + shift + Z * sd, 0, 1), est)
    return shown, low, high


def _mover(k: _F, n: float, tp: _F, tn: _F, m: float, est: _F, youden: _F) -> _Limits:
    low, high = rogan_gladen_limits(k, n, tp, m, tn, m, Z)
    shown = (youden >= DEFAULT_MIN_YOUDEN) & (youden_lower(tp, m, tn, m, Z) > 0)
    shown &= np.isfinite(low)
    return shown, np.fmin(low, est), np.fmax(high, est)


def _text(theta: float, limits: _Limits) -> str:
    shown, low, high = limits
    n = int(shown.sum())
    if not n:
        return "not shown"
    cov = float(np.mean((low[shown] <= theta) & (theta <= high[shown])))
    half = 1.96 * np.sqrt(cov * (1 - cov) / n)
    flag = "LOW " if cov + half < 0.93 else "high" if cov - half > 0.97 else "    "
    return f"{cov:6.1%} w={float(np.mean(high[shown] - low[shown])):.3f} {flag}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sims", type=int, default=2000)
    sims = ap.parse_args().sims
    n = 300.0
    print(f"{sims} runs per cell, {n:.0f} judged outputs; coverage, mean width, flag")
    print(f"{'cell':38s} {'LR':22s} {'LR/2':22s} MOVER")
    for m, theta, (tpr, tnr) in itertools.product(
        (RG_MIN_PER_CLASS, 30, 40, 60, 100), (0.05, 0.1, 0.3, 0.5, 0.7, 0.9, 0.95), JUDGES
    ):
        rng = np.random.default_rng(11)
        k = rng.binomial(int(n), theta * tpr + (1 - theta) * (1 - tnr), sims).astype(float)
        tp = rng.binomial(m, tpr, sims).astype(float)
        tn = rng.binomial(m, tnr, sims).astype(float)
        youden = tp / m + tn / m - 1
        with np.errstate(divide="ignore", invalid="ignore"):
            est = np.clip((k / n + tn / m - 1) / np.where(youden > 0, youden, np.nan), 0, 1)
        cells = (
            _lang_reiczigel(k, n, tp, tn, m, 1.0, est, youden),
            _lang_reiczigel(k, n, tp, tn, m, 0.5, est, youden),
            _mover(k, n, tp, tn, m, est, youden),
        )
        label = f"{m:3d}/class θ={theta:.2f} TPR={tpr:.2f} TNR={tnr:.2f}"
        print(f"{label:38s} " + " ".join(f"{_text(theta, c):22s}" for c in cells))


if __name__ == "__main__":
    main()
