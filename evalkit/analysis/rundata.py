"""Per-run aggregation shared by compare, gate and reports: one pass over a run's records.

Pass rates follow the one definition in :mod:`evalkit.analysis.caserates` (repeats averaged per
case); a
case whose every repeat errored has no rate (``NaN``), so errors never count as passes or fails.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Literal, cast

import numpy as np
from pydantic import BaseModel, Field

from evalkit.analysis.caserates import (
    FloatArray,
    IntArray,
    case_rates,
    count_rates,
    grader_warnings,
    per_name,
    source_of_error,
)
from evalkit.analysis.stats.interval import Interval, case_mean_interval
from evalkit.base.gc import gc_paused
from evalkit.model.outcome import GRADER_ERROR_WARNING, Outcome
from evalkit.model.pricing import total_cost
from evalkit.model.record import CaseRecord
from evalkit.storage.facts import RecordFacts, facts_of, scan_facts
from evalkit.storage.lazyrun import LazyRun
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
_MAX_REASONS = 5


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


class Counts:
    """One metric in one run: passed, failed and errored outputs of each case (arrays over the
    run's cases, in case order)."""

    def __init__(self, passed: IntArray, failed: IntArray, errored: IntArray) -> None:
        self.passed, self.failed, self.errored = passed, failed, errored

    def rates(self) -> FloatArray:
        """Each case's pass rate, NaN where none of its repeats was graded (or it has none)."""
        return case_rates(self.passed, self.failed)

    def summary(self, cases: IntArray | None = None) -> dict[str, Any]:
        """:func:`~evalkit.analysis.caserates.count_rates` over ``cases`` (indices; default
        all) that have a result of this metric."""
        p, f, e = self.passed, self.failed, self.errored
        if cases is not None:
            p, f, e = p[cases], f[cases], e[cases]
        has = (p + f + e) > 0
        return count_rates(p[has], f[has], e[has])


_OUTCOMES = ("pass", "fail", "error")


class _Rows:
    """Outcomes of one metric by output row, gathered while reading (appends are cheap)."""

    __slots__ = ("rows",)

    def __init__(self) -> None:
        self.rows: dict[str, list[int]] = {o: [] for o in _OUTCOMES}

    def counts(self, row_case: IntArray, n_cases: int) -> Counts:
        def count(rows: list[int]) -> IntArray:
            cases = row_case[np.asarray(rows, dtype=np.int64)]
            return np.bincount(cases[cases >= 0], minlength=n_cases).astype(np.int64)

        return Counts(*(count(self.rows[o]) for o in _OUTCOMES))


def _add_named(metrics: dict[str, _Rows], row: int, results: list[Any]) -> None:
    """Each named result of one output; several under one name combine (see per_name)."""
    names = [r["name"] for r in results]
    if len(set(names)) == len(names):
        for r in results:
            rows = metrics.get(r["name"])
            if rows is None:
                rows = metrics[r["name"]] = _Rows()
            rows.rows[r["outcome"]].append(row)
        return
    for name, outcome in per_name((r["name"], Outcome(r["outcome"])) for r in results).items():
        metrics.setdefault(name, _Rows()).rows[outcome.value].append(row)


def _reasons(f: RecordFacts) -> list[str]:
    """Why one output failed or errored: its error, each grader that did not pass it."""
    out: list[str] = []
    if (error := f.get("error")) is not None:
        out.append(f"error {error['kind']}: {error['message']}")
    for c in f.get("checks", ()):
        if c["outcome"] != "pass":
            reason = c.get("reason", "")
            out.append(f"{c['name']} {c['outcome']}" + (f": {reason}" if reason else ""))
    for j in f.get("judges", ()):
        if j["outcome"] != "pass":
            j_error = j.get("error")
            why = j_error["message"] if j_error else j.get("reasoning", "")
            out.append(f"judge {j['name']} {j['outcome']}" + (f": {why}" if why else ""))
    return out


class RunData:
    """One pass over a stored run's records: per-case counts for the run, each check and each
    judge, the run-level sums of its summary and why each case failed.

    A :class:`~evalkit.storage.lazyrun.LazyRun` not yet loaded is read as
    :mod:`~evalkit.storage.facts` (the fields counted, not prompts and outputs); a run in
    memory is read from its records. Where a (case, repeat) has several lines, the latest
    counts (:func:`~evalkit.storage.store.latest_records`' rule) and cases are in the order
    of their first counted record, as ``read_records`` lists them.
    """

    def __init__(self, run: StoredRun) -> None:
        self.run = run
        source: Iterable[RecordFacts]
        if isinstance(run, LazyRun) and not run.loaded:
            source = (facts for _, facts in scan_facts(run.path))
        else:
            source = (facts_of(r) for r in run.records)
        with gc_paused():
            self._read(source)

    def _read(self, source: Iterable[RecordFacts]) -> None:
        latest: dict[tuple[str, int], int] = {}
        superseded: list[int] = []
        seen: dict[str, int] = {}  # case id -> its index in reading order
        row_seen: list[int] = []
        tags: list[list[str]] = []
        outcome: list[str] = []
        checks: dict[str, _Rows] = {}
        judges: dict[str, _Rows] = {}
        costs: list[float | None] = []
        judge_costs: list[list[float | None]] = []
        latency: list[float] = []
        cached: list[bool] = []
        truncated: list[bool] = []
        tokens: list[tuple[int, int]] = []
        sources: list[str | None] = []
        reasons: dict[int, list[str]] = {}
        nan = math.nan
        for row, f in enumerate(source):
            case_id = f["case_id"]
            key = (case_id, f.get("repeat", 0))
            if (prev := latest.get(key)) is not None:
                superseded.append(prev)
            latest[key] = row
            if (index := seen.get(case_id)) is None:
                index = seen[case_id] = len(seen)
            row_seen.append(index)
            tags.append(f.get("tags", []))
            result = f["outcome"]
            outcome.append(result)
            checks_here = f.get("checks", [])
            if checks_here:
                _add_named(checks, row, checks_here)
            judges_here = f.get("judges", [])
            if judges_here:
                _add_named(judges, row, judges_here)
                judge_costs.append([j.get("cost_usd", 0.0) for j in judges_here])
            else:
                judge_costs.append([])
            costs.append(f.get("cost_usd", 0.0))
            ms = f.get("latency_ms")
            latency.append(nan if ms is None else ms)
            cached.append(f.get("cached", False))
            truncated.append(f.get("truncated", False))
            usage = f.get("usage", {})
            tokens.append((usage.get("input_tokens", 0), usage.get("output_tokens", 0)))
            # a stored record need not be consistent: a "pass" is read for reasons all the same
            if why := _reasons(f):
                reasons[row] = why
            sources.append(
                None
                if result != "error"
                else source_of_error(
                    True,
                    f.get("error") is not None,
                    any(c["outcome"] == "error" for c in checks_here),
                )
            )
        self._row_reasons = reasons
        self._rows_by_case: dict[int, list[int]] | None = None
        self._finish(seen, row_seen, superseded, tags, outcome, checks, judges)
        live = self.rows.tolist()
        self.costs = [costs[r] for r in live]
        self.judge_costs = [c for r in live for c in judge_costs[r]]
        lat = np.asarray(latency, dtype=np.float64)[self.rows]
        fresh = ~np.asarray(cached, dtype=bool)[self.rows]
        self.latencies = lat[~np.isnan(lat)]
        self.live_latencies = lat[fresh & ~np.isnan(lat)]
        self.n_truncated = int(np.asarray(truncated, dtype=bool)[self.rows].sum())
        tok = np.asarray(tokens, dtype=np.int64).reshape(-1, 2)[self.rows]
        self.input_tokens, self.output_tokens = (int(x) for x in tok.sum(axis=0))
        n_errors: dict[str, int] = {}
        for r in live:
            if (src := sources[r]) is not None:
                n_errors[src] = n_errors.get(src, 0) + 1
        self.n_errors = dict(sorted(n_errors.items()))

    def _finish(
        self,
        seen: dict[str, int],
        row_seen: list[int],
        superseded: list[int],
        tags: list[list[str]],
        outcome: list[str],
        checks: dict[str, _Rows],
        judges: dict[str, _Rows],
    ) -> None:
        """Drop superseded rows, number the cases in the order of their first counted record
        (a superseded line can move a case later), and count per case."""
        alive = np.ones(len(row_seen), dtype=bool)
        alive[np.asarray(superseded, dtype=np.int64)] = False
        rows = np.flatnonzero(alive)
        seen_of_row = np.asarray(row_seen, dtype=np.int64)[rows]
        firsts, first_at = np.unique(seen_of_row, return_index=True)
        by_place = np.argsort(first_at, kind="stable")
        order, first_rows = firsts[by_place], rows[first_at[by_place]]
        place = np.empty(len(seen), dtype=np.int64)
        place[order] = np.arange(len(order))
        n = len(order)
        row_case = np.full(len(row_seen), -1, dtype=np.int64)
        row_case[rows] = place[seen_of_row]
        ids = list(seen)
        self.case_ids = [ids[i] for i in order.tolist()]
        self.index = {c: i for i, c in enumerate(self.case_ids)}
        self.tags = {
            c: list(tags[r]) for c, r in zip(self.case_ids, first_rows.tolist(), strict=True)
        }
        self.rows = rows
        self.n_records = len(rows)
        self.max_repeats = int(np.bincount(row_case[rows]).max()) if n else 0
        codes = np.asarray([_OUTCOMES.index(o) for o in outcome], dtype=np.int64)
        overall = _Rows()
        for code, name in enumerate(_OUTCOMES):
            overall.rows[name] = np.flatnonzero(codes == code).tolist()
        self.overall = overall.counts(row_case, n)
        self.checks = {name: r.counts(row_case, n) for name, r in checks.items()}
        self.judges = {name: r.counts(row_case, n) for name, r in judges.items()}
        self._row_case = row_case

    def reasons(self, case_id: str) -> list[str]:
        """Why the case failed or errored in this run: up to five distinct reasons, whitespace
        collapsed and cut to 300 characters, from its records in order."""
        out = [r for row in self._case_rows(case_id) for r in self._row_reasons.get(row, ())]
        unique = list(dict.fromkeys(" ".join(r.split())[:300] for r in out))
        return unique[:_MAX_REASONS]

    def _case_rows(self, case_id: str) -> list[int]:
        if self._rows_by_case is None:
            by_case: dict[int, list[int]] = defaultdict(list)
            for row, case in zip(
                self.rows.tolist(), self._row_case[self.rows].tolist(), strict=True
            ):
                by_case[case].append(row)
            self._rows_by_case = by_case
        return self._rows_by_case.get(self.index[case_id], [])

    def passed_graded(self, case_id: str) -> tuple[int, int]:
        """``(passed, graded)`` repeats of a case overall (``(0, 0)`` when none was graded)."""
        i = self.index[case_id]
        p = int(self.overall.passed[i])
        return p, p + int(self.overall.failed[i])

    def case_rates(self) -> list[float]:
        """Per-case overall pass rates (NaN where nothing was graded), in case order."""
        rates: list[float] = self.overall.rates().tolist()
        return rates

    def tag_cases(self) -> dict[str, list[int]]:
        """The indices of each tag's cases, tags sorted."""
        by_tag: dict[str, list[int]] = defaultdict(list)
        for i, cid in enumerate(self.case_ids):
            for tag in self.tags[cid]:
                by_tag[tag].append(i)
        return dict(sorted(by_tag.items()))


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
