"""Per-run aggregation shared by compare, gate and reports: one pass over a run's records.

Repeats are averaged per case (a case's pass rate); a case whose every repeat errored has no rate
(``NaN``), so errors never count as passes or fails.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from evalkit.outcome import Outcome
from evalkit.record import CaseRecord
from evalkit.store import StoredRun

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
_MAX_REASONS = 5
_RANK = {Outcome.PASS: 0, Outcome.ERROR: 1, Outcome.FAIL: 2}


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
    pass_rate: float | None = Field(description="mean per-case pass rate over graded cases")
    error_rate: float = Field(description="share of records whose outcome is error")
    tag_pass_rates: dict[str, float | None] = Field(default_factory=dict)
    tag_cases: dict[str, int] = Field(default_factory=dict)
    judge_error_rates: dict[str, float] = Field(
        default_factory=dict, description="per judge: share of its verdicts that are errors"
    )
    cost_usd: float
    judge_cost_usd: float
    input_tokens: int
    output_tokens: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None


class Tally:
    """Per-case pass and graded counts of one metric in one run (errors are neither)."""

    def __init__(self) -> None:
        self.counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])

    def add(self, case_id: str, outcome: Outcome) -> None:
        if outcome is not Outcome.ERROR:
            c = self.counts[case_id]
            c[0] += outcome is Outcome.PASS
            c[1] += 1

    def passed_graded(self, case_id: str) -> tuple[int, int]:
        """``(passed, graded)`` repeats of a case (``(0, 0)`` when none was graded)."""
        c = self.counts.get(case_id)
        return (c[0], c[1]) if c else (0, 0)

    def rate(self, case_id: str) -> float:
        c = self.counts.get(case_id)
        return c[0] / c[1] if c else math.nan


class RunData:
    """One pass over a run's records: tallies per metric, tags, and the head-side reasons."""

    def __init__(self, run: StoredRun) -> None:
        self.run = run
        self.case_ids: list[str] = []
        self.tags: dict[str, list[str]] = {}
        self.records: dict[str, list[CaseRecord]] = defaultdict(list)
        self.overall = Tally()
        self.checks: dict[str, Tally] = defaultdict(Tally)
        self.judges: dict[str, Tally] = defaultdict(Tally)
        for rec in run.records:
            if rec.case_id not in self.tags:
                self.case_ids.append(rec.case_id)
                self.tags[rec.case_id] = list(rec.tags)
            self.records[rec.case_id].append(rec)
            self.overall.add(rec.case_id, rec.outcome)
            for name, outcome in _per_name((c.name, c.outcome) for c in rec.checks).items():
                self.checks[name].add(rec.case_id, outcome)
            for name, outcome in _per_name((j.name, j.outcome) for j in rec.judges).items():
                self.judges[name].add(rec.case_id, outcome)


def _per_name(items: Iterable[tuple[str, Outcome]]) -> dict[str, Outcome]:
    """Several results under one name on one output combine as one (any fail fails)."""
    out: dict[str, Outcome] = {}
    for name, outcome in items:
        prev = out.get(name)
        if prev is None or _RANK[outcome] > _RANK[prev]:
            out[name] = outcome
    return out


def num(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def _mean_graded(rates: list[float]) -> float | None:
    """Mean of the per-case rates that are not NaN (cases with a grade), or None."""
    graded = [r for r in rates if not math.isnan(r)]
    return float(np.mean(graded)) if graded else None


def _percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def summarize(data: RunData) -> RunSummary:
    run, m = data.run, data.run.manifest
    rates = np.array([data.overall.rate(c) for c in data.case_ids], dtype=np.float64)
    graded = rates[~np.isnan(rates)]
    by_tag: dict[str, list[float]] = defaultdict(list)
    for cid, rate in zip(data.case_ids, rates, strict=True):
        for tag in data.tags[cid]:
            by_tag[tag].append(float(rate))
    tag_rates = {tag: _mean_graded(vals) for tag, vals in sorted(by_tag.items())}
    records = run.records
    live = [r.latency_ms for r in records if r.latency_ms is not None and not r.cached]
    if not live:
        live = [r.latency_ms for r in records if r.latency_ms is not None]
    target = m.get("target") or {}
    return RunSummary(
        run_id=run.run_id,
        path=str(run.path),
        suite=run.suite,
        prompt_version=str(m.get("prompt_version", "")),
        prompt_label=m.get("prompt_label"),
        model=str(target.get("model", "")) if isinstance(target, dict) else "",
        n_cases=len(data.case_ids),
        n_records=len(records),
        pass_rate=float(graded.mean()) if graded.size else None,
        error_rate=(
            sum(r.outcome is Outcome.ERROR for r in records) / len(records) if records else 0.0
        ),
        tag_pass_rates=tag_rates,
        tag_cases={t: len(v) for t, v in sorted(by_tag.items())},
        judge_error_rates=_judge_error_rates(records),
        cost_usd=sum(r.cost_usd for r in records),
        judge_cost_usd=sum(j.cost_usd for r in records for j in r.judges),
        input_tokens=sum(r.usage.input_tokens for r in records),
        output_tokens=sum(r.usage.output_tokens for r in records),
        latency_p50_ms=_percentile(live, 50),
        latency_p95_ms=_percentile(live, 95),
    )


def _judge_error_rates(records: list[CaseRecord]) -> dict[str, float]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for rec in records:
        for j in rec.judges:
            counts[j.name][0] += j.outcome is Outcome.ERROR
            counts[j.name][1] += 1
    return {name: errors / n for name, (errors, n) in sorted(counts.items())}


def summarize_run(run: StoredRun) -> RunSummary:
    """Pass rate, error rate, per-tag pass rates, cost, tokens and latency of one run."""
    return summarize(RunData(run))


def cluster_of(record: CaseRecord, key: str) -> str | None:
    """The cluster a case belongs to under ``key`` (see the module docstring), or None."""
    if key.startswith("tag:"):
        prefix = key[4:]
        return next((t[len(prefix) :] for t in record.tags if t.startswith(prefix)), None)
    value: Any = record.model_dump()
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return None if value is None else str(value)


def failure_reasons(records: list[CaseRecord]) -> list[str]:
    out: list[str] = []
    for rec in records:
        if rec.error is not None:
            out.append(f"error {rec.error.kind}: {rec.error.message}")
        for c in rec.checks:
            if c.outcome is not Outcome.PASS:
                out.append(f"{c.name} {c.outcome.value}" + (f": {c.reason}" if c.reason else ""))
        for j in rec.judges:
            if j.outcome is not Outcome.PASS:
                why = j.error.message if j.error else j.reasoning
                out.append(f"judge {j.name} {j.outcome.value}" + (f": {why}" if why else ""))
    unique = list(dict.fromkeys(" ".join(r.split())[:300] for r in out))
    return unique[:_MAX_REASONS]


def case_status(base: float, head: float) -> CaseStatus:
    if math.isnan(base):
        if math.isnan(head):
            return "still erroring"
        # error -> pass is a recovery; error -> fail (even partly) is not
        return "recovered" if head == 1.0 else "now failing"
    if math.isnan(head):
        return "newly erroring"
    if head < base:
        return "regressed"
    if head > base:
        return "fixed"
    return "unchanged" if head == 1.0 else "still failing"
