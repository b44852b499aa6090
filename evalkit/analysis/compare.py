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

The result types are in :mod:`~evalkit.analysis.comparison`, each metric's test, power, verdict
and Holm family in :mod:`~evalkit.analysis.compare_metric`, and the warnings in
:mod:`~evalkit.analysis.compare_warnings`; this module pairs the cases and puts them together.
"""

from __future__ import annotations

import math

import numpy as np

from evalkit.analysis.compare_metric import MetricTest, family
from evalkit.analysis.compare_warnings import data_warnings, run_warnings
from evalkit.analysis.comparison import (
    CaseChange,
    Comparison,
    MetricComparison,
    MetricKind,
    ResourceDelta,
    Unit,
)
from evalkit.analysis.rundata import (
    STATUSES,
    CaseStatus,
    RunSummary,
    case_statuses,
    cluster_of,
    num,
    summarize,
    summarize_run,
    tag_cluster,
)
from evalkit.analysis.runtable import Counts, RunData
from evalkit.analysis.stats import paired
from evalkit.base.gc import gc_paused
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

_IMPROVED = ("fixed", "recovered")


def _resources(b: RunSummary, h: RunSummary) -> list[ResourceDelta]:
    def per_case(total: float | None, s: RunSummary) -> float | None:
        return total / s.n_records if s.n_records and total is not None else None

    rows: list[tuple[str, Unit, float | None, float | None]] = [
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


def _changes(
    bd: RunData,
    hd: RunData,
    matched: list[str],
    ob: np.ndarray,
    oh: np.ndarray,
    tags_of: list[list[str]],
) -> tuple[dict[str, int], list[CaseChange]]:
    """How many matched cases have each status, and each case that is not passing in both."""
    codes = case_statuses(ob, oh)
    counts = dict(zip(STATUSES, np.bincount(codes, minlength=len(STATUSES)).tolist(), strict=True))
    changes: list[CaseChange] = []
    unchanged = STATUSES.index("unchanged")
    for i in np.flatnonzero(codes != unchanged).tolist():
        c, b_rate, h_rate, status = matched[i], float(ob[i]), float(oh[i]), STATUSES[codes[i]]
        changes.append(
            CaseChange(
                case_id=c,
                status=status,
                base_rate=num(b_rate),
                head_rate=num(h_rate),
                base_counts=bd.passed_graded(c),
                head_counts=hd.passed_graded(c),
                tags=tags_of[i],
                reasons=[] if status in _IMPROVED else hd.reasons(c),
            )
        )
    return counts, changes


def compare_data(
    bd: RunData,
    hd: RunData,
    *,
    cluster_key: str | None = None,
    alpha: float = paired.ALPHA,
) -> Comparison:
    """:func:`compare_runs` of two runs already read."""
    with gc_paused():  # thousands of case changes and their reasons, no cycles
        return _compare(bd, hd, cluster_key, alpha)


def _compare(bd: RunData, hd: RunData, cluster_key: str | None, alpha: float) -> Comparison:
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

    def test(kind: MetricKind, name: str, b: np.ndarray, h: np.ndarray) -> MetricTest:
        t = paired.paired_test(b, h, clusters=clusters)
        return kind, name, t, paired.discordance(b, h)

    ob, oh = col(bd.overall, hd.overall)
    graded: list[MetricTest] = []
    for kind, bt, ht in (("check", bd.checks, hd.checks), ("judge", bd.judges, hd.judges)):
        for name in sorted(set(bt) | set(ht)):
            graded.append(test(kind, name, *col(bt.get(name), ht.get(name))))  # type: ignore[arg-type]
    tags_of = [hd.tags[c] or bd.tags[c] for c in matched]
    with_tag: dict[str, list[int]] = {}
    for i, tags in enumerate(tags_of):
        for tag in tags:
            with_tag.setdefault(tag, []).append(i)
    tag_tests: list[MetricTest] = []
    for tag in sorted(with_tag):
        mask = np.zeros(len(matched), dtype=bool)
        mask[with_tag[tag]] = True
        tag_tests.append(test("tag", tag, np.where(mask, ob, np.nan), np.where(mask, oh, np.nan)))
    (overall,) = family([test("overall", "overall", ob, oh)], alpha)
    graded_metrics = family(graded, alpha)
    tags = family(tag_tests, alpha)

    counts, changes = _changes(bd, hd, matched, ob, oh, tags_of)
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
        warnings=run_warnings(base, head)
        + data_warnings(bd, hd, (b_idx, h_idx), overall, n_clusters),
        cluster_key=cluster_key,
        n_clusters=n_clusters if n_clusters is not None else len(matched),
        min_pairs=paired.MIN_PAIRS,
        alpha=alpha,
    )
