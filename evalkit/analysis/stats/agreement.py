"""Agreement between an LLM judge and human labels: the figures ``evalkit calibrate`` reports.

A judge is only worth trusting as far as it agrees with the people who know what good looks like.
Binary verdicts use *pass = positive*: TPR is the share of human passes the judge also passes, TNR
the share of human fails it also fails.

* :func:`confusion_matrix`, raw agreement, prevalence (human pass share).
* :func:`cohen_kappa`: Cohen (1960), optionally quadratic-weighted (Cohen 1968) for 1–5 likert
  labels; identical to ``sklearn.metrics.cohen_kappa_score``. :func:`kappa_bootstrap_interval`:
  percentile bootstrap over labelled outputs (Efron & Tibshirani 1993), vectorised and seeded.
* TPR and TNR come with the Wilson (1927) score interval (:mod:`evalkit.analysis.stats.interval`),
good
  coverage at the small counts a calibration has (the Wald interval is not; Brown, Cai &
  DasGupta 2001).
* The EvalGen view (Shankar et al. 2024, "Who Validates the Validators?"): coverage = TNR (bad
  outputs caught), false failure rate = 1 − TPR, alignment = harmonic mean of TNR and TPR.
* :func:`spearman_rho` for likert judges (``scipy.stats.spearmanr``).
* :func:`calibration_summary` gathers all of it; :func:`is_calibrated` applies the thresholds.

Undefined figures (a class with no labels, kappa when chance agreement is 1) are ``None`` with a
reason in ``notes``, never NaN and never a ZeroDivisionError, so summaries serialise to JSON.
Errors (ungradable verdicts) must be dropped by the caller: they are neither pass nor fail.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import partial
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict

from evalkit.analysis.stats.interval import Interval, Proportion, proportion

Scale = Literal["binary", "likert-5"]
Weights = Literal["linear", "quadratic"] | None
BinaryLike = bool | int | str | np.bool_ | np.integer
LIKERT_LEVELS: tuple[int, ...] = (1, 2, 3, 4, 5)
#: resampled index entries generated per block of the bootstrap (bounds memory for big label sets)
_BOOT_BLOCK_ELEMENTS = 2_000_000


class ConfusionMatrix(BaseModel):
    """Human label (rows) against judge verdict (columns), pass = positive."""

    model_config = ConfigDict(frozen=True)

    tp: int  # human pass, judge pass
    fn: int  # human pass, judge fail
    fp: int  # human fail, judge pass
    tn: int  # human fail, judge fail

    @property
    def n(self) -> int:
        return self.tp + self.fn + self.fp + self.tn

    def as_array(self) -> NDArray[np.int64]:
        """``[[tn, fp], [fn, tp]]``: sklearn's layout for labels ``[fail, pass]``."""
        return np.array([[self.tn, self.fp], [self.fn, self.tp]], dtype=np.int64)


def as_binary(values: Iterable[BinaryLike], name: str = "labels") -> NDArray[np.bool_]:
    """Coerce verdicts to booleans: ``True``/``1``/``"pass"`` is a pass, ``False``/``0``/``"fail"``
    a fail (an ``Outcome`` works too). ``"error"`` is refused: drop ungradable outputs first."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "biu":  # fast path, no loop
        if values.dtype.kind != "b" and not np.isin(values, (0, 1)).all():
            raise ValueError(f"{name}: expected 0/1 verdicts")
        return values.astype(bool).ravel()
    out: list[bool] = []
    for i, v in enumerate(values):
        if isinstance(v, str):
            s = v.strip().lower()
            if s not in ("pass", "fail"):
                raise ValueError(f"{name}[{i}]: expected pass or fail, got {v!r}")
            out.append(s == "pass")
        elif isinstance(v, bool | np.bool_) or v in (0, 1):
            out.append(bool(v))
        else:
            raise ValueError(f"{name}[{i}]: expected a binary verdict, got {v!r}")
    return np.array(out, dtype=bool)


def _pair(
    human: Iterable[BinaryLike], judge: Iterable[BinaryLike]
) -> tuple[NDArray[np.bool_], ...]:
    h, j = as_binary(human, "human"), as_binary(judge, "judge")
    if h.shape != j.shape:
        raise ValueError(f"human and judge differ in length: {h.size} vs {j.size}")
    return h, j


def confusion_matrix(human: Iterable[BinaryLike], judge: Iterable[BinaryLike]) -> ConfusionMatrix:
    """The 2×2 table of human label against judge verdict."""
    h, j = _pair(human, judge)
    return ConfusionMatrix(
        tp=int(np.sum(h & j)),
        fn=int(np.sum(h & ~j)),
        fp=int(np.sum(~h & j)),
        tn=int(np.sum(~h & ~j)),
    )


def _weight_matrix(k: int, weights: Weights) -> NDArray[np.int64]:
    """Disagreement weights over category *positions* (as sklearn): 0/1, |i−j| or (i−j)²."""
    d = np.subtract.outer(np.arange(k), np.arange(k))
    table = {None: d != 0, "linear": np.abs(d), "quadratic": d * d}
    if weights not in table:
        raise ValueError(f"unknown weights {weights!r}")
    return np.asarray(table[weights], dtype=np.int64)


def _kappa_from_tables(tables: NDArray[np.int64], w: NDArray[np.int64]) -> NDArray[np.float64]:
    """κ = 1 − n·Σw·O / Σw·(row⊗col) for a stack of K×K count tables; NaN where undefined.

    Integer arithmetic up to the last division, so "expected disagreement is zero" is tested
    exactly rather than against a float tolerance.
    """
    n = tables.sum(axis=(-2, -1))
    rows, cols = tables.sum(axis=-1), tables.sum(axis=-2)
    observed = (w * tables).sum(axis=(-2, -1))
    expected = np.einsum("...i,ij,...j->...", rows, w, cols)
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = 1.0 - n * observed / expected
    return np.where(expected > 0, kappa, np.nan)


def _codes(
    a_in: Iterable[object], b_in: Iterable[object], labels: Sequence[object] | None
) -> tuple[NDArray[np.int64], int]:
    """Pair codes ``index(a)·K + index(b)`` over the category list (sorted union by default)."""
    a, b = list(a_in), list(b_in)
    if len(a) != len(b):
        raise ValueError(f"the two raters differ in length: {len(a)} vs {len(b)}")
    cats = list(labels) if labels is not None else sorted(set(a) | set(b))  # type: ignore[type-var]
    index = {c: i for i, c in enumerate(cats)}
    unknown = [x for x in (*a, *b) if x not in index]
    if unknown:
        raise ValueError(f"label {unknown[0]!r} is not among the categories {cats!r}")
    k = len(cats)
    codes = np.array([index[x] * k + index[y] for x, y in zip(a, b, strict=True)], dtype=np.int64)
    return codes, k


def cohen_kappa(
    a: Iterable[object],
    b: Iterable[object],
    *,
    weights: Weights = None,
    labels: Sequence[object] | None = None,
) -> float | None:
    """Cohen's kappa between two raters; ``None`` when undefined (no labels, or both raters used
    one and the same category so chance agreement is already perfect).

    Pass ``labels=LIKERT_LEVELS`` with ``weights="quadratic"`` for 1–5 scores: quadratic weights
    then use the scale's own spacing even when a level is never used.
    """
    codes, k = _codes(a, b, labels)
    if codes.size == 0 or k == 0:
        return None
    table = np.bincount(codes, minlength=k * k).reshape(k, k)
    value = float(_kappa_from_tables(table, _weight_matrix(k, weights)))
    return None if np.isnan(value) else value


def kappa_bootstrap_interval(
    a: Iterable[object],
    b: Iterable[object],
    *,
    weights: Weights = None,
    labels: Sequence[object] | None = None,
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Interval | None:
    """Percentile bootstrap interval for kappa, resampling labelled outputs with replacement.

    Each resample's table comes from one ``bincount`` over a block of resamples (no Python loop
    per resample). Resamples where kappa is undefined are dropped; ``None`` when more than half
    are (too few labels to say anything).
    """
    codes, k = _codes(a, b, labels)
    n = codes.size
    if n == 0:
        return None
    w = _weight_matrix(k, weights)
    rng = np.random.default_rng(seed)
    block = max(1, _BOOT_BLOCK_ELEMENTS // n)
    kappas: list[NDArray[np.float64]] = []
    for start in range(0, n_boot, block):
        size = min(block, n_boot - start)
        idx = rng.integers(0, n, size=(size, n))
        flat = (codes[idx] + (np.arange(size) * k * k)[:, None]).ravel()
        tables = np.bincount(flat, minlength=size * k * k).reshape(size, k, k)
        kappas.append(_kappa_from_tables(tables, w))
    values = np.concatenate(kappas)
    values = values[np.isfinite(values)]
    if values.size * 2 < n_boot:
        return None
    alpha = 1.0 - confidence
    low, high = np.quantile(values, [alpha / 2, 1 - alpha / 2])
    return Interval(low=float(low), high=float(high), confidence=confidence)


def harmonic_mean(x: float | None, y: float | None) -> float | None:
    """``2xy/(x+y)``; 0 when both are 0, ``None`` when either is unknown."""
    if x is None or y is None:
        return None
    return 0.0 if x + y == 0 else 2 * x * y / (x + y)


def spearman_rho(a: Iterable[float], b: Iterable[float]) -> float | None:
    """Spearman's rank correlation; ``None`` with fewer than 2 pairs or a constant rater."""
    x, y = np.asarray(list(a), dtype=float), np.asarray(list(b), dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"the two raters differ in length: {x.size} vs {y.size}")
    if x.size < 2 or np.all(x == x[0]) or np.all(y == y[0]):
        return None
    from scipy import stats  # lazy: scipy.stats costs ~1 s to import, only likert judges need it

    return float(stats.spearmanr(x, y).statistic)


class CalibrationSummary(BaseModel):
    """Everything ``evalkit calibrate`` reports about one judge on one set of human labels.

    Binary figures (confusion, TPR, TNR, kappa, EvalGen view) are on pass/fail; for a likert
    judge a score ``>= pass_at`` is a pass, and the ordinal figures (quadratic-weighted kappa,
    Spearman) are on the 1–5 scores. ``None`` means undefined; ``notes`` says why.
    """

    scale: Scale
    n: int
    labels_per_class: dict[str, int]
    pass_at: int | None = None
    confusion: ConfusionMatrix
    prevalence: float | None
    judge_pass_rate: float | None
    agreement: float | None
    kappa: float | None
    kappa_interval: Interval | None
    weighted_kappa: float | None = None
    weighted_kappa_interval: Interval | None = None
    spearman: float | None = None
    tpr: Proportion | None
    tnr: Proportion | None
    #: correlation of the TPR and TNR estimates (stratified labels: both depend on every
    #: stratum's shares); None = independent, as for labels drawn at random
    rates_correlation: float | None = None
    #: the labels were drawn stratified by the judge's verdict (the corrected pass rate's
    #: minimum then counts labels per verdict, which that design fixes)
    stratified_by_verdict: bool = False
    coverage: float | None
    false_failure_rate: float | None
    alignment: float | None
    notes: list[str]

    @property
    def n_pass(self) -> int:
        return self.confusion.tp + self.confusion.fn

    @property
    def n_fail(self) -> int:
        return self.confusion.fp + self.confusion.tn

    @property
    def labels_per_verdict(self) -> dict[str, int] | None:
        """Labels the judge passed and failed, when they were drawn stratified by its verdict
        (keyed like ``labels_per_class``)."""
        if not self.stratified_by_verdict:
            return None
        c = self.confusion
        return {"pass": c.tp + c.fp, "fail": c.fn + c.tn}


def _likert(values: Iterable[object], name: str) -> list[int]:
    out = []
    for i, v in enumerate(values):
        if isinstance(v, bool) or v not in LIKERT_LEVELS:
            raise ValueError(f"{name}[{i}]: expected a score 1–5, got {v!r}")
        out.append(int(v))
    return out


def calibration_summary(
    human: Iterable[BinaryLike],
    judge: Iterable[BinaryLike],
    *,
    scale: Scale = "binary",
    pass_at: int = 4,
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> CalibrationSummary:
    """Agreement figures of ``judge`` against ``human``, aligned by position (errors removed)."""
    boot = partial(kappa_bootstrap_interval, n_boot=n_boot, confidence=confidence, seed=seed)
    notes: list[str] = []
    per_class: dict[str, int] = {}
    wk: float | None = None
    wk_ci: Interval | None = None
    rho: float | None = None
    if scale == "likert-5":
        hs, js = _likert(human, "human"), _likert(judge, "judge")
        if len(hs) != len(js):
            raise ValueError(f"human and judge differ in length: {len(hs)} vs {len(js)}")
        per_class = {str(v): hs.count(v) for v in LIKERT_LEVELS}
        wk = cohen_kappa(hs, js, weights="quadratic", labels=LIKERT_LEVELS)
        if wk is not None:
            wk_ci = boot(hs, js, weights="quadratic", labels=LIKERT_LEVELS)
        elif hs:
            notes.append("weighted kappa undefined: both raters gave every output one same score")
        rho = spearman_rho(hs, js)
        if rho is None and len(hs) >= 2:
            notes.append("Spearman's rho undefined: a rater gave every output the same score")
        h, j = np.array(hs) >= pass_at, np.array(js) >= pass_at
    elif scale == "binary":
        h, j = _pair(human, judge)
    else:
        raise ValueError(f"unknown scale {scale!r}")

    cm = confusion_matrix(h, j)
    n = cm.n
    per_class = {"pass": cm.tp + cm.fn, "fail": cm.fp + cm.tn, **per_class}
    if n == 0:
        notes.append("no labels: nothing to measure")
    kappa = cohen_kappa(list(h), list(j), labels=[False, True])
    kappa_ci = None
    if kappa is not None:
        kappa_ci = boot(list(h), list(j), labels=[False, True])
        if kappa_ci is None:
            notes.append("kappa interval omitted: most bootstrap resamples were degenerate")
    elif n:
        verdict = "pass" if h[0] else "fail"
        notes.append(f"kappa undefined: human and judge both gave every output {verdict}")
    tpr = proportion(cm.tp, cm.tp + cm.fn, confidence)
    tnr = proportion(cm.tn, cm.tn + cm.fp, confidence)
    if n and tpr is None:
        notes.append("no human pass labels: TPR (and false failure rate) undefined")
    if n and tnr is None:
        notes.append("no human fail labels: TNR (coverage) undefined")
    tpr_v = tpr.estimate if tpr else None
    tnr_v = tnr.estimate if tnr else None
    return CalibrationSummary(
        scale=scale,
        n=n,
        labels_per_class=per_class,
        pass_at=pass_at if scale == "likert-5" else None,
        confusion=cm,
        prevalence=per_class["pass"] / n if n else None,
        judge_pass_rate=(cm.tp + cm.fp) / n if n else None,
        agreement=(cm.tp + cm.tn) / n if n else None,
        kappa=kappa,
        kappa_interval=kappa_ci,
        weighted_kappa=wk,
        weighted_kappa_interval=wk_ci,
        spearman=rho,
        tpr=tpr,
        tnr=tnr,
        coverage=tnr_v,
        false_failure_rate=None if tpr_v is None else 1.0 - tpr_v,
        alignment=harmonic_mean(tnr_v, tpr_v),
        notes=notes,
    )


def is_calibrated(
    summary: CalibrationSummary,
    min_per_class: int = 30,
    min_kappa: float = 0.6,
    min_tpr: float = 0.7,
    min_tnr: float = 0.7,
) -> tuple[bool, list[str]]:
    """Whether the judge meets the thresholds, with every reason it does not.

    Point estimates are compared (the intervals are reported beside them). Likert judges are held
    to the quadratic-weighted kappa, and the class counts are of pass/fail after ``pass_at``.
    """
    reasons: list[str] = []
    for cls, count in (("pass", summary.n_pass), ("fail", summary.n_fail)):
        if count < min_per_class:
            reasons.append(f"only {count} human '{cls}' labels (need {min_per_class})")
    name, kappa = (
        ("weighted kappa", summary.weighted_kappa)
        if summary.scale == "likert-5"
        else ("kappa", summary.kappa)
    )
    if kappa is None:
        reasons.append(f"{name} undefined")
    elif kappa < min_kappa:
        reasons.append(f"{name} {kappa:.2f} < {min_kappa:.2f}")
    for label, rate, floor in (("TPR", summary.tpr, min_tpr), ("TNR", summary.tnr, min_tnr)):
        if rate is None:
            reasons.append(f"{label} undefined")
        elif rate.estimate < floor:
            reasons.append(f"{label} {rate.estimate:.2f} < {floor:.2f}")
    return not reasons, reasons
