"""A run's summary for compare and the gate, from one pass over its records
(:class:`~evalkit.analysis.runtable.RunData`), and how a case's status changes between runs.

Pass rates follow the one definition in :mod:`evalkit.analysis.caserates` (repeats averaged per
case); a case whose every repeat errored has no rate (``NaN``), so errors never count as passes
or fails.
"""

from __future__ import annotations

import math
from typing import Any, Literal, cast, get_args

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, Field

from evalkit.analysis.caserates import FloatArray, IntArray, grader_warnings
from evalkit.analysis.runtable import RunData
from evalkit.analysis.stats.interval import Interval, case_mean_interval
from evalkit.model.outcome import GRADER_ERROR_WARNING
from evalkit.model.pricing import total_cost
from evalkit.model.record import CaseRecord
from evalkit.storage.store import StoredRun

CaseStatus = Literal[
    "regressed",
    "fixed",
    "still failing",
    "unchanged",
    "newly erroring",
    "still erroring",
    "recovered",
    "now failing",
]


BoolArray = NDArray[np.bool_]


class RunSummary(BaseModel):
    """One run on its own: what thresholds gate on when there is no baseline."""

    run_id: str
    path: str
    suite: str
    prompt_version: str
    prompt_label: str | None = None
    model: str = ""
    n_cases: int
    n_records: int
    n_graded_cases: int = Field(default=0, description="cases with at least one graded repeat")
    pass_rate: float | None = Field(description="mean per-case pass rate over graded cases")
    pass_rate_interval: Interval | None = None
    pass_rate_interval_note: str = Field(
        default="", description="the interval's method, or why no interval is shown"
    )
    error_rate: float = Field(description="share of outputs (case x repeat) that errored")
    n_errors: dict[str, int] = Field(
        default_factory=dict,
        description="errored outputs by source: provider, check or judge (the error rate's)",
    )
    tag_pass_rates: dict[str, float | None] = Field(default_factory=dict)
    tag_cases: dict[str, int] = Field(default_factory=dict)
    warnings: list[str] = Field(
        default_factory=list,
        description="graders that mostly errored, a pass rate resting on few graded outputs",
    )
    check_error_rates: dict[str, float] = Field(
        default_factory=dict, description="per check: share of its outputs it could not grade"
    )
    judge_error_rates: dict[str, float] = Field(
        default_factory=dict, description="per judge: share of its verdicts that are errors"
    )
    truncated_rate: float = Field(
        default=0.0, description="share of records cut off at the token limit"
    )
    cost_usd: float | None = Field(description="None (unknown) when a model had no price")
    judge_cost_usd: float | None
    input_tokens: int
    output_tokens: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None


def num(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def _percentile(values: FloatArray, q: float) -> float | None:
    return float(np.percentile(values, q)) if len(values) else None


def summarize(data: RunData) -> RunSummary:
    run, m = data.run, data.run.manifest
    overall = data.overall.summary()
    repeats = int(m.get("repeats") or max(data.max_repeats, 1))
    interval, note = case_mean_interval(data.case_rates(), repeats)
    tags = {
        tag: data.overall.summary(np.asarray(ids, dtype=np.int64))
        for tag, ids in data.tag_cases().items()
    }
    checks = {name: c.summary() for name, c in sorted(data.checks.items())}
    judges = {name: c.summary() for name, c in sorted(data.judges.items())}
    # the suite's threshold as the run recorded it in summary.json
    stored = run.summary or {}
    threshold = float(stored.get("grader_error_warning", GRADER_ERROR_WARNING))
    live = data.live_latencies if len(data.live_latencies) else data.latencies
    target = m.get("target") or {}
    return RunSummary(
        run_id=run.run_id,
        path=str(run.path),
        suite=run.suite,
        prompt_version=str(m.get("prompt_version", "")),
        prompt_label=m.get("prompt_label"),
        model=str(target.get("model", "")) if isinstance(target, dict) else "",
        n_cases=len(data.case_ids),
        n_records=data.n_records,
        n_graded_cases=overall["graded_cases"],
        pass_rate=overall["pass_rate"],
        pass_rate_interval=interval,
        pass_rate_interval_note=note,
        error_rate=overall["error_rate"] or 0.0,
        n_errors=data.n_errors,
        tag_pass_rates={t: r["pass_rate"] for t, r in tags.items()},
        tag_cases={t: r["cases"] for t, r in tags.items()},
        warnings=grader_warnings(overall, checks, judges, threshold),
        check_error_rates=_error_rates(checks),
        judge_error_rates=_error_rates(judges),
        truncated_rate=data.n_truncated / data.n_records if data.n_records else 0.0,
        cost_usd=total_cost(data.costs),
        judge_cost_usd=total_cost(data.judge_costs),
        input_tokens=data.input_tokens,
        output_tokens=data.output_tokens,
        latency_p50_ms=_percentile(live, 50),
        latency_p95_ms=_percentile(live, 95),
    )


def _error_rates(graders: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Per grader: the share of its outputs it could not grade."""
    return {name: r["error_rate"] for name, r in graders.items() if r["error_rate"] is not None}


def summarize_run(run: StoredRun) -> RunSummary:
    """Pass rate, error rate, per-tag pass rates, cost, tokens and latency of one run."""
    return summarize(RunData(run))


def cluster_of(record: CaseRecord, key: str) -> str | None:
    """The cluster a case belongs to under ``key`` (see the module docstring), or None."""
    value: Any = tag_cluster(record.tags, key)
    if value is not None or key.startswith("tag:"):
        return cast("str | None", value)
    value = record.model_dump()
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return None if value is None else str(value)


def tag_cluster(tags: list[str], key: str) -> str | None:
    """The cluster under a ``tag:<prefix>`` key: the rest of the first tag with the prefix."""
    if not key.startswith("tag:"):
        return None
    prefix = key[4:]
    return next((t[len(prefix) :] for t in tags if t.startswith(prefix)), None)


#: every status, in the order of ``status_counts``
STATUSES: tuple[CaseStatus, ...] = get_args(CaseStatus)


def case_statuses(base: FloatArray, head: FloatArray) -> IntArray:
    """Each matched case's status from its pass rates (NaN: every repeat errored), as indices
    into :data:`STATUSES`: all cases at once, not a call per case."""
    b_err, h_err = np.isnan(base), np.isnan(head)
    rules: list[tuple[BoolArray, CaseStatus]] = [
        (b_err & h_err, "still erroring"),
        # error -> pass is a recovery; error -> fail (even partly) is not
        (b_err & (head == 1.0), "recovered"),
        (b_err, "now failing"),
        (h_err, "newly erroring"),
        (head < base, "regressed"),
        (head > base, "fixed"),
        (head == 1.0, "unchanged"),
    ]
    codes = [STATUSES.index(status) for _, status in rules]
    default = STATUSES.index("still failing")
    return np.select([when for when, _ in rules], codes, default).astype(np.int64)
