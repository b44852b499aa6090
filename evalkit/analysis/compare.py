"""Compare two stored runs of the same suite case by case, with paired statistics.

Cases are matched by id. Repeats are averaged per case first (a case's pass rate), pairs with an
error on either side are excluded and counted, and every metric (overall, each check, each judge,
each tag) gets one paired test (:func:`evalkit.analysis.stats.paired.paired_test`) whose direction,
interval, p-value and verdict come from the same statistic and so can never disagree, and a
minimum-detectable-effect check at the same level, so that a small, noisy difference is called
"inconclusive, underpowered" instead of a regression. Holm's correction runs across the family of
checks and judges (and separately across tags); each of their intervals is shown at its Holm
level, so it excludes 0 exactly when the Holm-adjusted p-value is below alpha. The overall result
is the primary endpoint and is not corrected. Below :data:`~evalkit.analysis.stats.paired.MIN_PAIRS`
paired cases there is no test: the verdict is "insufficient data" and no interval is shown. With
fewer than :data:`~evalkit.analysis.stats.paired.MIN_CHANGED` changed cases no interval or p-value
is shown either (``ci_note`` says why) and the metric leaves its Holm family; its verdict is
"unchanged", "inconclusive, underpowered" or "no significant change", never significant.

Cluster key (``cluster_key``): cases that share something (a source document, a conversation)
are not independent, so the test's standard error is cluster-robust (changing the p-value as well
as the interval), with a small-sample correction and a warning below
:data:`~evalkit.analysis.stats.paired.FEW_CLUSTERS` clusters. A key is either ``tag:<prefix>`` (the
cluster is the rest of the first tag starting with the prefix, e.g. ``tag:doc:`` makes
``doc:policy-3`` the cluster ``policy-3``) or a dotted path into the stored record's fields
(``vars.document``, ``metadata.thread``). A case without a value is its own cluster.
"""

from __future__ import annotations

import math
from typing import Literal, get_args

import numpy as np
from pydantic import BaseModel, Field

from evalkit.analysis.rundata import (
    CaseStatus,
    RunSummary,
    case_status,
    cluster_of,
    num,
    summarize,
    summarize_run,
    tag_cluster,
)
from evalkit.analysis.runtable import Counts, RunData
from evalkit.analysis.stats import paired
from evalkit.storage.lazyrun import records_of
from evalkit.storage.store import StoredRun

__all__ = [
    "CaseChange",
    "CaseStatus",
    "Comparison",
    "MetricComparison",
    "ResourceDelta",
    "RunSummary",
    "cluster_of",
    "compare_runs",
    "summarize_run",
]

Verdict = Literal[
    "improved",
    "regressed",
    "unchanged",
    "no significant change",
    "inconclusive, underpowered",
    "insufficient data",
    "no data",
]
MetricKind = Literal["overall", "check", "judge", "tag"]
_Unit = Literal["rate", "usd", "tokens", "ms"]
_IMPROVED = ("fixed", "recovered")
#: a metric's kind, name, paired test and discordance rate (for power)
_Test = tuple[MetricKind, str, paired.PairedTest, float]


class MetricComparison(BaseModel):
    """One metric's pass rates in both runs over the paired cases, and the one paired test."""

    kind: MetricKind
    name: str
    n: int = Field(description="pairs graded on both sides")
    n_excluded: int = Field(description="pairs with an error (or no result) on either side")
    base_rate: float | None
    head_rate: float | None
    diff: float | None = Field(description="mean per-case difference, head minus base")
    se: float | None
    ci_low: float | None
    ci_high: float | None
    ci_level: float | None = Field(
        description="confidence of the interval: 1 - alpha, or 1 - the row's Holm step level "
        "when adjusted (at least 1 - alpha; not a simultaneous band for the family)"
    )
    adjusted: bool = Field(description="p_adjusted and the interval are Holm-adjusted")
    base_better: int = Field(description="cases where base passed more often")
    head_better: int = Field(description="cases where head passed more often")
    p_value: float | None = Field(description="unadjusted; None when no test is valid")
    p_adjusted: float | None = Field(description="Holm-adjusted within its family")
    mde: float | None = Field(description="minimum detectable effect at the interval's level")
    cases_needed: int | None = Field(description="paired cases needed to detect |diff|")
    significant: bool
    verdict: Verdict
    ci_note: str | None = Field(
        default=None, description="why no interval or p-value is shown (None when one is)"
    )

    @property
    def p(self) -> float | None:
        """The p-value the verdict rests on (adjusted where the metric is in a family)."""
        return self.p_adjusted if self.adjusted else self.p_value


class CaseChange(BaseModel):
    """A matched case whose status is anything but passing in both runs."""

    case_id: str
    status: CaseStatus
    base_rate: float | None
    head_rate: float | None
    base_counts: tuple[int, int] = Field(description="(passed, graded) repeats in base")
    head_counts: tuple[int, int] = Field(description="(passed, graded) repeats in head")
    tags: list[str] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list, description="why head failed or errored")


class ResourceDelta(BaseModel):
    """Head minus base of a run-level figure (cost, tokens, latency, error rate)."""

    name: str
    unit: _Unit
    base: float | None
    head: float | None
    diff: float | None


class Comparison(BaseModel):
    """Everything ``evalkit compare`` knows; ``model_dump()`` is the JSON output."""

    base: RunSummary
    head: RunSummary
    n_matched: int
    added: list[str]
    removed: list[str]
    status_counts: dict[str, int]
    cases: list[CaseChange]
    overall: MetricComparison
    checks: list[MetricComparison]
    judges: list[MetricComparison]
    tags: list[MetricComparison]
    resources: list[ResourceDelta]
    warnings: list[str]
    cluster_key: str | None
    n_clusters: int
    min_pairs: int
    alpha: float

    @property
    def regressed(self) -> list[CaseChange]:
        return [c for c in self.cases if c.status == "regressed"]

    def metrics(self) -> list[MetricComparison]:
        return [self.overall, *self.checks, *self.judges]


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


def _family(tests: list[_Test], alpha: float) -> list[MetricComparison]:
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


def _run_warnings(base: StoredRun, head: StoredRun) -> list[str]:
    """What makes the two runs not comparable like with like."""
    out: list[str] = []
    bm, hm = base.manifest, head.manifest
    rejudge = f"re-judge the base with `evalkit judge {base.run_id}` to compare like with like"
    if base.path.resolve() == head.path.resolve():
        out.append("base and head are the same run")
    if bm.get("suite") != hm.get("suite"):
        out.append(f"different suites: base {bm.get('suite')!r}, head {hm.get('suite')!r}")
    bj, hj = bm.get("judge_versions") or {}, hm.get("judge_versions") or {}
    for name in sorted(set(bj) & set(hj)):
        if bj[name] != hj[name]:
            out.append(
                f"judge {name!r} has different versions (base {bj[name]}, head "
                f"{hj[name]}): its verdicts are not comparable; {rejudge}"
            )
    for name in sorted(set(bj) ^ set(hj)):
        side = "base" if name in bj else "head"
        out.append(f"judge {name!r} judged only the {side} run")
    if bm.get("golden_sha") != hm.get("golden_sha"):
        out.append(
            f"golden sets differ (base {bm.get('golden_sha')}, head "
            f"{hm.get('golden_sha')}): expected answers may have changed under the same "
            f"case ids; {rejudge}"
        )
    return out


def _data_warnings(
    bd: RunData, hd: RunData, matched: list[str], overall: MetricComparison, n_clusters: int | None
) -> list[str]:
    """What makes the comparison too thin to trust: few shared cases, a judge that mostly
    errored, too few clusters."""
    out: list[str] = []
    k, nb, nh = len(matched), len(bd.case_ids), len(hd.case_ids)
    if k == 0:
        return ["no case ids in common: nothing to compare"]
    if 2 * k < max(nb, nh):
        out.append(f"the runs share only {k} cases (base has {nb}, head {nh})")
    if overall.n < paired.MIN_PAIRS:
        out.append(
            f"only {overall.n} paired cases graded in both runs: at least {paired.MIN_PAIRS} "
            "are needed for a verdict (insufficient data)"
        )
    for side, data in (("base", bd), ("head", hd)):
        idx = np.fromiter((data.index[c] for c in matched), dtype=np.int64, count=k)
        for name, counts in sorted(data.judges.items()):
            missing = int(np.isnan(counts.rates()[idx]).sum())
            if 2 * missing > k:
                out.append(
                    f"judge {name!r} has no verdict on {missing} of {k} shared cases in the "
                    f"{side} run (errors): its comparison rests on the rest"
                )
    if n_clusters is not None and n_clusters < paired.MIN_CLUSTERS:
        out.append(
            f"only {n_clusters} clusters: a cluster-robust test needs at least "
            f"{paired.MIN_CLUSTERS}, so no verdict is given"
        )
    elif n_clusters is not None and n_clusters < paired.FEW_CLUSTERS:
        out.append(
            f"only {n_clusters} clusters: the test uses a small-sample correction (CR2, t with "
            f"{n_clusters - 1} degrees of freedom) but may still be somewhat anti-conservative "
            f"below {paired.FEW_CLUSTERS} clusters"
        )
    return out


def _resources(b: RunSummary, h: RunSummary) -> list[ResourceDelta]:
    def per_case(total: float | None, s: RunSummary) -> float | None:
        return total / s.n_records if s.n_records and total is not None else None

    rows: list[tuple[str, _Unit, float | None, float | None]] = [
        ("error rate", "rate", b.error_rate, h.error_rate),
        ("cost", "usd", b.cost_usd, h.cost_usd),
        ("cost per record", "usd", per_case(b.cost_usd, b), per_case(h.cost_usd, h)),
        ("judge cost", "usd", b.judge_cost_usd, h.judge_cost_usd),
        ("input tokens", "tokens", b.input_tokens, h.input_tokens),
        ("output tokens", "tokens", b.output_tokens, h.output_tokens),
        ("latency p50", "ms", b.latency_p50_ms, h.latency_p50_ms),
        ("latency p95", "ms", b.latency_p95_ms, h.latency_p95_ms),
    ]
    return [
        ResourceDelta(
            name=n, unit=u, base=x, head=y, diff=None if x is None or y is None else y - x
        )
        for n, u, x, y in rows
    ]


def compare_runs(
    base: StoredRun,
    head: StoredRun,
    *,
    cluster_key: str | None = None,
    alpha: float = paired.ALPHA,
) -> Comparison:
    """Compare ``head`` against ``base`` on the cases they share (see the module docstring)."""
    return compare_data(RunData(base), RunData(head), cluster_key=cluster_key, alpha=alpha)


def _clusters(hd: RunData, matched: list[str], key: str) -> list[str]:
    """Each matched case's cluster under ``key``, from its first record in HEAD."""
    if key.startswith("tag:"):
        values = [tag_cluster(hd.tags[c], key) for c in matched]
    else:
        records = records_of(hd.run, matched)
        values = [cluster_of(records[c][0], key) for c in matched]
    return [
        f"cluster:{value}" if value is not None else f"case:{c}"
        for c, value in zip(matched, values, strict=True)
    ]


def compare_data(
    bd: RunData,
    hd: RunData,
    *,
    cluster_key: str | None = None,
    alpha: float = paired.ALPHA,
) -> Comparison:
    """:func:`compare_runs` of two runs already read."""
    base, head = bd.run, hd.run
    matched = [c for c in bd.case_ids if c in hd.index]
    added = [c for c in hd.case_ids if c not in bd.index]
    removed = [c for c in bd.case_ids if c not in hd.index]
    b_idx = np.fromiter((bd.index[c] for c in matched), dtype=np.int64, count=len(matched))
    h_idx = np.fromiter((hd.index[c] for c in matched), dtype=np.int64, count=len(matched))
    missing = np.full(len(matched), math.nan)

    def col(b: Counts | None, h: Counts | None) -> tuple[np.ndarray, np.ndarray]:
        return (
            b.rates()[b_idx] if b else missing,
            h.rates()[h_idx] if h else missing,
        )

    clusters = _clusters(hd, matched, cluster_key) if cluster_key else None

    def test(kind: MetricKind, name: str, b: np.ndarray, h: np.ndarray) -> _Test:
        t = paired.paired_test(b, h, clusters=clusters)
        return kind, name, t, paired.discordance(b, h)

    ob, oh = col(bd.overall, hd.overall)
    graded: list[_Test] = []
    for kind, bt, ht in (("check", bd.checks, hd.checks), ("judge", bd.judges, hd.judges)):
        for name in sorted(set(bt) | set(ht)):
            graded.append(test(kind, name, *col(bt.get(name), ht.get(name))))  # type: ignore[arg-type]
    tags_of = [hd.tags[c] or bd.tags[c] for c in matched]
    with_tag: dict[str, list[int]] = {}
    for i, tags in enumerate(tags_of):
        for tag in tags:
            with_tag.setdefault(tag, []).append(i)
    tag_tests: list[_Test] = []
    for tag in sorted(with_tag):
        mask = np.zeros(len(matched), dtype=bool)
        mask[with_tag[tag]] = True
        tag_tests.append(test("tag", tag, np.where(mask, ob, np.nan), np.where(mask, oh, np.nan)))
    (overall,) = _family([test("overall", "overall", ob, oh)], alpha)
    graded_metrics = _family(graded, alpha)
    tags = _family(tag_tests, alpha)

    counts: dict[str, int] = dict.fromkeys(get_args(CaseStatus), 0)
    changes: list[CaseChange] = []
    for c, b_rate, h_rate, tags_here in zip(
        matched, ob.tolist(), oh.tolist(), tags_of, strict=True
    ):
        status = case_status(b_rate, h_rate)
        counts[status] += 1
        if status != "unchanged":
            changes.append(
                CaseChange(
                    case_id=c,
                    status=status,
                    base_rate=num(b_rate),
                    head_rate=num(h_rate),
                    base_counts=bd.passed_graded(c),
                    head_counts=hd.passed_graded(c),
                    tags=tags_here,
                    reasons=[] if status in _IMPROVED else hd.reasons(c),
                )
            )
    bs, hs = summarize(bd), summarize(hd)
    n_clusters = len(set(clusters)) if clusters else None
    return Comparison(
        base=bs,
        head=hs,
        n_matched=len(matched),
        added=added,
        removed=removed,
        status_counts=counts,
        cases=changes,
        overall=overall,
        checks=[m for m in graded_metrics if m.kind == "check"],
        judges=[m for m in graded_metrics if m.kind == "judge"],
        tags=tags,
        resources=_resources(bs, hs),
        warnings=_run_warnings(base, head) + _data_warnings(bd, hd, matched, overall, n_clusters),
        cluster_key=cluster_key,
        n_clusters=n_clusters if n_clusters is not None else len(matched),
        min_pairs=paired.MIN_PAIRS,
        alpha=alpha,
    )
