"""Aggregate a run's records into ``summary.json``: rates per outcome, check, judge and tag."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from evalkit.outcome import Outcome
from evalkit.record import CaseRecord


def _rates(outcomes: list[Outcome]) -> dict[str, Any]:
    n = len(outcomes)
    passed = sum(o is Outcome.PASS for o in outcomes)
    failed = sum(o is Outcome.FAIL for o in outcomes)
    errored = n - passed - failed
    graded = passed + failed
    return {
        "n": n,
        "pass": passed,
        "fail": failed,
        "error": errored,
        # pass rate among graded outputs: an error is never counted as pass or fail
        "pass_rate": passed / graded if graded else None,
        "error_rate": errored / n if n else None,
    }


def summarize(
    records: Iterable[CaseRecord],
    *,
    repeats: int = 1,
    project_root: Path | None = None,
    run_id: str | None = None,
) -> dict[str, Any]:
    """Everything ``summary.json`` holds. With ``project_root``, each judge's pass rate comes
    with its calibration status and, when calibrated, the bias-corrected estimate."""
    recs = list(records)
    overall = _rates([r.outcome for r in recs])
    checks: dict[str, list[Outcome]] = defaultdict(list)
    judges: dict[str, list[Outcome]] = defaultdict(list)
    tags: dict[str, list[Outcome]] = defaultdict(list)
    for r in recs:
        for c in r.checks:
            checks[c.name].append(c.outcome)
        for j in r.judges:
            judges[j.name].append(j.outcome)
        for t in r.tags:
            tags[t].append(r.outcome)
    # latency of calls made in this run; a fully cached run reports the latencies measured when
    # its cached answers were produced
    measured = [r.latency_ms for r in recs if r.latency_ms is not None]
    live = [r.latency_ms for r in recs if r.latency_ms is not None and not r.cached]
    latencies = np.array(live or measured)
    summary: dict[str, Any] = {
        **overall,
        "cases": len({r.case_id for r in recs}),
        "repeats": repeats,
        "checks": {name: _rates(v) for name, v in sorted(checks.items())},
        "judges": {name: _rates(v) for name, v in sorted(judges.items())},
        "tags": {name: _rates(v) for name, v in sorted(tags.items())},
        "cost_usd": round(sum(r.cost_usd for r in recs), 6),
        "judge_cost_usd": round(sum(j.cost_usd for r in recs for j in r.judges), 6),
        "input_tokens": sum(r.usage.input_tokens for r in recs),
        "output_tokens": sum(r.usage.output_tokens for r in recs),
        "latency_ms_p50": float(np.percentile(latencies, 50)) if latencies.size else None,
        "latency_ms_p95": float(np.percentile(latencies, 95)) if latencies.size else None,
        "cached": sum(r.cached for r in recs),
        "errors_by_kind": _error_kinds(recs),
    }
    if repeats > 1:
        summary.update(_pass_at_k(recs, repeats))
    if judges:
        from evalkit.judge import judge_stats

        summary["judge_stats"] = judge_stats(recs)
        if project_root is not None:
            from evalkit.calibration import calibration_section

            summary["calibration"] = calibration_section(recs, project_root, run_id=run_id)
    return summary


def _error_kinds(records: list[CaseRecord]) -> dict[str, int]:
    kinds: dict[str, int] = defaultdict(int)
    for r in records:
        if r.error is not None:
            kinds[r.error.kind] += 1
    return dict(sorted(kinds.items()))


def _pass_at_k(records: list[CaseRecord], k: int) -> dict[str, Any]:
    """pass^k (every sample passes: reliability) and pass@k (any sample passes), per case."""
    by_case: dict[str, list[Outcome]] = defaultdict(list)
    for r in records:
        by_case[r.case_id].append(r.outcome)
    complete = [v for v in by_case.values() if len(v) == k and Outcome.ERROR not in v]
    if not complete:
        return {"pass_all_k": None, "pass_any_k": None, "flaky_cases": 0}
    all_pass = sum(all(o is Outcome.PASS for o in v) for v in complete)
    any_pass = sum(any(o is Outcome.PASS for o in v) for v in complete)
    return {
        "pass_all_k": all_pass / len(complete),
        "pass_any_k": any_pass / len(complete),
        "flaky_cases": any_pass - all_pass,
    }
