"""Compare two stored runs of the same suite case by case, with paired statistics.

Cases are matched by id. Repeats are averaged per case first (a case's pass rate), pairs with an
error on either side are excluded and counted, and every metric (overall, each check, each judge,
each tag) gets the paired difference, the exact McNemar test, a paired bootstrap interval sharing
one set of resamples, and a minimum-detectable-effect check so that a small, noisy difference is
called "inconclusive, underpowered" instead of a regression. Holm's correction runs across the
family of checks and judges (and separately across tags); the overall result is the primary
endpoint and is not corrected.

Cluster key (``cluster_key``): cases that share something (a source document, a conversation)
are not independent, so the bootstrap resamples whole clusters. A key is either
``tag:<prefix>`` (the cluster is the rest of the first tag starting with the prefix, e.g.
``tag:doc:`` makes ``doc:policy-3`` the cluster ``policy-3``) or a dotted path into the stored
record's fields (``vars.document``, ``metadata.thread``). A case without a value is its own
cluster. With a cluster key, a difference is only called significant when the cluster bootstrap
interval also excludes zero (McNemar assumes independent cases).
"""

from __future__ import annotations

import math
from typing import Literal, get_args

import numpy as np
from pydantic import BaseModel, Field

from evalkit._rundata import (
    CaseStatus,
    RunData,
    RunSummary,
    Tally,
    case_status,
    cluster_of,
    failure_reasons,
    num,
    summarize,
    summarize_run,
)
from evalkit.stats import paired
from evalkit.store import StoredRun

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
    "no data",
]
MetricKind = Literal["overall", "check", "judge", "tag"]
_Unit = Literal["rate", "usd", "tokens", "ms"]
_IMPROVED = ("fixed", "recovered")


class MetricComparison(BaseModel):
    """One metric's pass rates in both runs over the paired cases, and the statistics."""

    kind: MetricKind
    name: str
    n: int = Field(description="pairs graded on both sides")
    n_excluded: int = Field(description="pairs with an error (or no result) on either side")
    base_rate: float | None
    head_rate: float | None
    diff: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    boot_low: float | None
    boot_high: float | None
    base_better: int = Field(description="discordant pairs where base passed more often")
    head_better: int = Field(description="discordant pairs where head passed more often")
    p_value: float
    p_adjusted: float | None = Field(description="Holm-adjusted within its family")
    mde: float = Field(description="minimum detectable effect at alpha 0.05, power 0.8")
    cases_needed: int | None = Field(description="paired cases needed to detect |diff|")
    significant: bool
    verdict: Verdict


class CaseChange(BaseModel):
    """A matched case whose status is anything but passing in both runs."""

    case_id: str
    status: CaseStatus
    base_rate: float | None
    head_rate: float | None
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
    n_boot: int
    seed: int
    alpha: float

    @property
    def regressed(self) -> list[CaseChange]:
        return [c for c in self.cases if c.status == "regressed"]

    def metrics(self) -> list[MetricComparison]:
        return [self.overall, *self.checks, *self.judges]


def _metric(
    kind: MetricKind,
    name: str,
    base: np.ndarray,
    head: np.ndarray,
    boot: np.ndarray,
    alpha: float,
) -> MetricComparison:
    pd_ = paired.paired_difference(base, head, alpha=alpha)
    mc = paired.mcnemar_exact(base, head)
    lo, hi = paired.percentile_interval(boot, alpha=alpha)
    disc = paired.discordance(base, head)
    mde = paired.minimum_detectable_effect(pd_.n, discordance_rate=disc, alpha=alpha)
    return MetricComparison(
        kind=kind,
        name=name,
        n=pd_.n,
        n_excluded=pd_.n_excluded,
        base_rate=num(pd_.base_mean),
        head_rate=num(pd_.head_mean),
        diff=num(pd_.diff),
        se=num(pd_.se),
        ci_low=num(pd_.ci_low),
        ci_high=num(pd_.ci_high),
        boot_low=num(lo),
        boot_high=num(hi),
        base_better=mc.b,
        head_better=mc.c,
        p_value=mc.p_value,
        p_adjusted=None,
        mde=mde if math.isfinite(mde) else 1.0,
        cases_needed=paired.cases_needed(pd_.diff, discordance_rate=disc, alpha=alpha)
        if pd_.n
        else None,
        significant=False,
        verdict="no data",
    )


def _decide(m: MetricComparison, p: float, alpha: float, clustered: bool) -> None:
    """Set ``significant`` and ``verdict`` from the (adjusted) p-value and the power."""
    if m.n == 0 or m.diff is None:
        m.verdict = "no data"
        return
    boot_excludes_zero = (
        m.boot_low is not None and m.boot_high is not None and (m.boot_low > 0 or m.boot_high < 0)
    )
    m.significant = p < alpha and m.diff != 0 and (boot_excludes_zero or not clustered)
    if m.significant:
        m.verdict = "regressed" if m.diff < 0 else "improved"
    elif m.diff == 0 and m.base_better == m.head_better == 0:
        m.verdict = "unchanged"
    elif m.diff == 0:
        m.verdict = "no significant change"  # churn that cancels out
    elif abs(m.diff) < m.mde:
        m.verdict = "inconclusive, underpowered"
    else:
        m.verdict = "no significant change"


def _family(metrics: list[MetricComparison], alpha: float, clustered: bool) -> None:
    adjusted = paired.holm([m.p_value if m.n else math.nan for m in metrics])
    for m, p in zip(metrics, adjusted, strict=True):
        m.p_adjusted = num(float(p))
        _decide(m, m.p_adjusted if m.p_adjusted is not None else 1.0, alpha, clustered)


def _warnings(base: StoredRun, head: StoredRun, n_matched: int) -> list[str]:
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
    if n_matched == 0:
        out.append("no case ids in common: nothing to compare")
    return out


def _resources(b: RunSummary, h: RunSummary) -> list[ResourceDelta]:
    def per_case(total: float, s: RunSummary) -> float | None:
        return total / s.n_records if s.n_records else None

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
    n_boot: int = 2000,
    seed: int = 0,
    alpha: float = paired.ALPHA,
) -> Comparison:
    """Compare ``head`` against ``base`` on the cases they share (see the module docstring)."""
    bd, hd = RunData(base), RunData(head)
    head_ids = set(hd.case_ids)
    base_ids = set(bd.case_ids)
    matched = [c for c in bd.case_ids if c in head_ids]
    added = [c for c in hd.case_ids if c not in base_ids]
    removed = [c for c in bd.case_ids if c not in head_ids]

    def col(b: Tally | None, h: Tally | None) -> tuple[np.ndarray, np.ndarray]:
        return (
            np.array([b.rate(c) if b else math.nan for c in matched], dtype=np.float64),
            np.array([h.rate(c) if h else math.nan for c in matched], dtype=np.float64),
        )

    ob, oh = col(bd.overall, hd.overall)
    columns: list[tuple[MetricKind, str, np.ndarray, np.ndarray]] = [("overall", "overall", ob, oh)]
    graded_tallies: tuple[tuple[MetricKind, dict[str, Tally], dict[str, Tally]], ...] = (
        ("check", bd.checks, hd.checks),
        ("judge", bd.judges, hd.judges),
    )
    for kind, bt, ht in graded_tallies:
        for name in sorted(set(bt) | set(ht)):
            columns.append((kind, name, *col(bt.get(name), ht.get(name))))
    tags_of = {c: hd.tags[c] or bd.tags[c] for c in matched}
    for tag in sorted({t for tags in tags_of.values() for t in tags}):
        mask = np.array([tag in tags_of[c] for c in matched], dtype=bool)
        columns.append(("tag", tag, np.where(mask, ob, np.nan), np.where(mask, oh, np.nan)))

    clusters: list[str] | None = None
    if cluster_key:
        clusters = []
        for c in matched:
            value = cluster_of(hd.records[c][0], cluster_key)
            clusters.append(f"cluster:{value}" if value is not None else f"case:{c}")
    # one set of resamples for every metric (zero rows when nothing matched: all NaN)
    diffs = np.column_stack([h - b for _, _, b, h in columns])
    boot = paired.bootstrap_means(diffs, clusters=clusters, n_boot=n_boot, seed=seed)
    metrics = [_metric(k, n, b, h, boot[:, i], alpha) for i, (k, n, b, h) in enumerate(columns)]
    clustered = clusters is not None
    overall = metrics[0]
    _decide(overall, overall.p_value, alpha, clustered)
    graded = [m for m in metrics if m.kind in ("check", "judge")]
    tags = [m for m in metrics if m.kind == "tag"]
    _family(graded, alpha, clustered)
    _family(tags, alpha, clustered)

    counts: dict[str, int] = dict.fromkeys(get_args(CaseStatus), 0)
    changes: list[CaseChange] = []
    for c, b_rate, h_rate in zip(matched, ob, oh, strict=True):
        status = case_status(float(b_rate), float(h_rate))
        counts[status] += 1
        if status != "unchanged":
            changes.append(
                CaseChange(
                    case_id=c,
                    status=status,
                    base_rate=num(float(b_rate)),
                    head_rate=num(float(h_rate)),
                    tags=tags_of[c],
                    reasons=[] if status in _IMPROVED else failure_reasons(hd.records[c]),
                )
            )
    bs, hs = summarize(bd), summarize(hd)
    return Comparison(
        base=bs,
        head=hs,
        n_matched=len(matched),
        added=added,
        removed=removed,
        status_counts=counts,
        cases=changes,
        overall=overall,
        checks=[m for m in graded if m.kind == "check"],
        judges=[m for m in graded if m.kind == "judge"],
        tags=tags,
        resources=_resources(bs, hs),
        warnings=_warnings(base, head, len(matched)),
        cluster_key=cluster_key,
        n_clusters=len(set(clusters)) if clusters else len(matched),
        n_boot=n_boot,
        seed=seed,
        alpha=alpha,
    )
