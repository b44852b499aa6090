"""Published formulas computed by hand (plain arithmetic, no evalkit), for tests to compare
evalkit's figures with an independent value."""

from __future__ import annotations

import math
from statistics import NormalDist

Z = NormalDist().inv_cdf(0.975)


def lang_reiczigel(
    k: int, n: int, tp: int, n_pos: int, tn: int, n_neg: int, rho: float = 0.0
) -> tuple[float, float, float]:
    """Lang & Reiczigel (2014) by hand, step by step as in the authors' R script
    (CI4TruePrevalence, 2013): adjusted shares, the adjusted estimate, its delta-method standard
    error and the shift; returns (low, high, shift), not clipped. ``rho``: correlation of the
    TPR and TNR estimates, the delta method's cross term 2·(∂θ/∂Se)(∂θ/∂Sp)·Cov with
    ∂θ/∂Se = −θ/J and ∂θ/∂Sp = (1 − θ)/J."""
    p = (k + Z**2 / 2) / (n + Z**2)
    se = (tp + 1) / (n_pos + 2)
    sp = (tn + 1) / (n_neg + 2)
    youden = se + sp - 1
    est = (p + sp - 1) / youden
    var_p = p * (1 - p) / (n + Z**2)
    var_se = se * (1 - se) / (n_pos + 2)
    var_sp = sp * (1 - sp) / (n_neg + 2)
    cross = -2 * est * (1 - est) * rho * math.sqrt(var_se * var_sp)
    sd = math.sqrt(var_p + est**2 * var_se + (1 - est) ** 2 * var_sp + cross) / abs(youden)
    shift = 2 * Z**2 * (est * var_se - (1 - est) * var_sp)
    return est + shift - Z * sd, est + shift + Z * sd, shift
