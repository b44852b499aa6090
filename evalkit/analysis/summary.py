"""Aggregate a run's records into ``summary.json``: rates per outcome, check, judge and tag.

Every pass rate here follows the one definition in :mod:`evalkit.analysis.caserates` (mean of
per-case
pass rates, errors set apart), the same one compare and the gate use.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from evalkit.analysis.caserates import (
    PASS_RATE_DEFINITION,
    CaseTable,
    grader_warnings,
    pass_at_k,
    rates,
)
from evalkit.model.outcome import GRADER_ERROR_WARNING, Outcome
from evalkit.model.pricing import CostTotal
from evalkit.model.record import CaseRecord

if TYPE_CHECKING:
    from evalkit.analysis.calibration import CalibrationRows
    from evalkit.grading.judge import JudgeStats


def summarize(
    records: Iterable[CaseRecord],
    *,
    repeats: int = 1,
    project_root: Path | None = None,
    run_id: str | None = None,
    grader_error_warning: float = GRADER_ERROR_WARNING,
    selection: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything ``summary.json`` holds (see :meth:`Summarizer.summary`), in one pass over
    ``records``: a generator streamed from disk is never held whole."""
    acc = Summarizer(calibration=project_root is not None)
    for rec in records:
        acc.add(rec)
    return acc.summary(
        repeats=repeats,
        project_root=project_root,
        run_id=run_id,
        grader_error_warning=grader_error_warning,
        selection=selection,
    )


class Summarizer:
    """The run summary, accumulated record by record: per-case tallies, sums and latencies,
    never the records themselves (a 100,000-case run is summarized in bounded memory).

    ``calibration`` keeps, per judge verdict, the little the calibration section needs (an
    output hash and case id); leave it off when no ``project_root`` will be given.
    """

    def __init__(self, *, calibration: bool = False) -> None:
        self.table = CaseTable(keep_records=False)
        self.records = 0
        self.cost, self.judge_cost = CostTotal(), CostTotal()
        self.truncated = self.cached = 0
        self.tokens = {k: 0 for k in _TOKENS}
        #: latencies of all records, and of those not answered from the cache
        self.measured, self.live = array("d"), array("d")
        self.error_kinds: dict[str, int] = defaultdict(int)
        self.judge_stats: JudgeStats | None = None  # made at the first judged record
        self.calibration: CalibrationRows | None = None
        if calibration:
            from evalkit.analysis.calibration import CalibrationRows

            self.calibration = CalibrationRows()

    def add(self, r: CaseRecord) -> None:
        self.table.add(r)
        self.records += 1
        self.cost.add(r.cost_usd)
        for j in r.judges:
            self.judge_cost.add(j.cost_usd)
        self.truncated += r.truncated
        self.cached += r.cached
        u, t = r.usage, self.tokens
        t["input_tokens"] += u.input_tokens
        t["output_tokens"] += u.output_tokens
        t["cache_read_input_tokens"] += u.cache_read_input_tokens
        t["cache_creation_input_tokens"] += u.cache_creation_input_tokens
        if r.latency_ms is not None:
            self.measured.append(r.latency_ms)
            if not r.cached:
                self.live.append(r.latency_ms)
        # why outputs could not be graded: provider error kinds, and ``check`` / ``judge`` for
        # graders that errored (an exception inside a check counts like a provider error)
        if r.error is not None:
            self.error_kinds[r.error.kind] += 1
        if any(c.outcome is Outcome.ERROR for c in r.checks):
            self.error_kinds["check"] += 1
        if r.judges:
            if any(j.outcome is Outcome.ERROR for j in r.judges):
                self.error_kinds["judge"] += 1
            if self.judge_stats is None:
                from evalkit.grading.judge import JudgeStats

                self.judge_stats = JudgeStats()
            self.judge_stats.add(r)
            if self.calibration is not None:
                self.calibration.add(r)

    def summary(
        self,
        *,
        repeats: int = 1,
        project_root: Path | None = None,
        run_id: str | None = None,
        grader_error_warning: float = GRADER_ERROR_WARNING,
        selection: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Everything ``summary.json`` holds. With ``project_root``, each judge's pass rate comes
        with its calibration status and, when calibrated, the bias-corrected estimate. A
        ``selection`` (the manifest's, for a subset, sample or shard) is kept beside the figures
        so every rendering says what they stand for."""
        from evalkit.analysis.stats.interval import case_mean_interval

        table, n = self.table, self.records
        overall = rates(table.overall)
        interval, method = case_mean_interval(table.case_rates(), repeats)
        checks = {name: rates(t) for name, t in sorted(table.checks.items())}
        judges = {name: rates(t) for name, t in sorted(table.judges.items())}
        tags = {tag: rates(table.overall, ids) for tag, ids in table.tag_cases().items()}
        # latency of calls made in this run; a fully cached run reports the latencies measured
        # when its cached answers were produced
        latencies = np.array(self.live or self.measured)
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
            "cost_usd": self.cost.value,
            "judge_cost_usd": self.judge_cost.value,
            "truncated": self.truncated,
            "truncated_rate": self.truncated / n if n else None,
            **{k: self.tokens[k] for k in _TOKENS},
            "latency_ms_p50": float(np.percentile(latencies, 50)) if latencies.size else None,
            "latency_ms_p95": float(np.percentile(latencies, 95)) if latencies.size else None,
            "cached": self.cached,
            "errors_by_kind": dict(sorted(self.error_kinds.items())),
        }
        if selection:
            summary["selection"] = selection
        if repeats > 1:
            summary.update(pass_at_k(table, repeats))
        if judges and self.judge_stats is not None:
            stats = self.judge_stats.result()
            for name, row in stats.items():  # one pass-rate definition in every table
                row.update(
                    {k: judges[name][k] for k in ("pass_rate", "error_rate") if name in judges}
                )
            summary["judge_stats"] = stats
            if project_root is not None:
                rows = self.calibration
                if rows is None:
                    raise ValueError("Summarizer(calibration=True) is needed for a project_root")
                summary["calibration"] = rows.section(project_root, run_id=run_id)
        return summary


_TOKENS = (
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "input_tokens",
    "output_tokens",
)
