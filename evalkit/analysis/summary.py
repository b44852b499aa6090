"""Aggregate a run's records into ``summary.json``: rates per outcome, check, judge and tag.

Every pass rate here follows the one definition in :mod:`evalkit.analysis.caserates` (mean of
per-case
pass rates, errors set apart), the same one compare and the gate use.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from evalkit.analysis.caserates import (
    PASS_RATE_DEFINITION,
    CaseTable,
    grader_warnings,
    pass_at_k,
    rates,
)
from evalkit.model.outcome import GRADER_ERROR_WARNING, Outcome
from evalkit.model.pricing import total_cost
from evalkit.model.record import CaseRecord


def summarize(
    records: Iterable[CaseRecord],
    *,
    repeats: int = 1,
    project_root: Path | None = None,
    run_id: str | None = None,
    grader_error_warning: float = GRADER_ERROR_WARNING,
    selection: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything ``summary.json`` holds. With ``project_root``, each judge's pass rate comes
    with its calibration status and, when calibrated, the bias-corrected estimate. A
    ``selection`` (the manifest's, for a subset, sample or shard) is kept beside the figures so
    every rendering says what they stand for."""
    from evalkit.analysis.stats.interval import case_mean_interval

    recs = list(records)
    table = CaseTable(recs)
    overall = rates(table.overall)
    interval, method = case_mean_interval(table.case_rates(), repeats)
    checks = {name: rates(t) for name, t in sorted(table.checks.items())}
    judges = {name: rates(t) for name, t in sorted(table.judges.items())}
    tags = {tag: rates(table.overall, ids) for tag, ids in table.tag_cases().items()}
    # latency of calls made in this run; a fully cached run reports the latencies measured when
    # its cached answers were produced
    measured = [r.latency_ms for r in recs if r.latency_ms is not None]
    live = [r.latency_ms for r in recs if r.latency_ms is not None and not r.cached]
    latencies = np.array(live or measured)
    summary: dict[str, Any] = {
        **overall,
        "pass_rate_definition": PASS_RATE_DEFINITION,
        "pass_rate_interval": None if interval is None else interval.model_dump(),
        # the method when an interval is shown, otherwise why it is not
        "pass_rate_interval_note": method,
        "repeats": repeats,
        "checks": checks,
        "judges": judges,
        "tags": tags,
        "grader_error_warning": grader_error_warning,
        "warnings": grader_warnings(overall, checks, judges, grader_error_warning),
        "cost_usd": total_cost([r.cost_usd for r in recs]),
        "judge_cost_usd": total_cost([j.cost_usd for r in recs for j in r.judges]),
        "truncated": sum(r.truncated for r in recs),
        "truncated_rate": sum(r.truncated for r in recs) / len(recs) if recs else None,
        "cache_read_input_tokens": sum(r.usage.cache_read_input_tokens for r in recs),
        "cache_creation_input_tokens": sum(r.usage.cache_creation_input_tokens for r in recs),
        "input_tokens": sum(r.usage.input_tokens for r in recs),
        "output_tokens": sum(r.usage.output_tokens for r in recs),
        "latency_ms_p50": float(np.percentile(latencies, 50)) if latencies.size else None,
        "latency_ms_p95": float(np.percentile(latencies, 95)) if latencies.size else None,
        "cached": sum(r.cached for r in recs),
        "errors_by_kind": _error_kinds(recs),
    }
    if selection:
        summary["selection"] = selection
    if repeats > 1:
        summary.update(pass_at_k(table, repeats))
    if judges:
        from evalkit.grading.judge import judge_stats

        stats = judge_stats(recs)
        for name, row in stats.items():  # one pass-rate definition in every table
            row.update({k: judges[name][k] for k in ("pass_rate", "error_rate") if name in judges})
        summary["judge_stats"] = stats
        if project_root is not None:
            from evalkit.analysis.calibration import calibration_section

            summary["calibration"] = calibration_section(recs, project_root, run_id=run_id)
    return summary


def _error_kinds(records: list[CaseRecord]) -> dict[str, int]:
    """Why outputs could not be graded: provider error kinds, and ``check`` / ``judge`` for
    graders that errored (an exception inside a check counts like a provider error)."""
    kinds: dict[str, int] = defaultdict(int)
    for r in records:
        if r.error is not None:
            kinds[r.error.kind] += 1
        if any(c.outcome is Outcome.ERROR for c in r.checks):
            kinds["check"] += 1
        if any(j.outcome is Outcome.ERROR for j in r.judges):
            kinds["judge"] += 1
    return dict(sorted(kinds.items()))
