"""One pass over a run's records into per-case counts: what compare, the gate and a run's summary
count, held as numpy arrays over the run's cases.

A :class:`~evalkit.storage.lazyrun.LazyRun` not yet loaded is read as
:mod:`~evalkit.storage.facts` (the graded fields of each line, not prompts and outputs), which
is what lets ``evalkit compare`` read two 100,000-case runs in seconds; a run in memory is read
from its records, through the same projection. Rates follow the one definition of
:mod:`evalkit.analysis.caserates`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import numpy as np

from evalkit.analysis.caserates import (
    FloatArray,
    IntArray,
    case_rates,
    count_rates,
    per_name,
    source_of_error,
)
from evalkit.base.gc import gc_paused
from evalkit.model.outcome import Outcome
from evalkit.storage.facts import RecordFacts, facts_of
from evalkit.storage.lazyrun import LazyRun
from evalkit.storage.store import StoredRun

_MAX_REASONS = 5
_OUTCOMES = ("pass", "fail", "error")
#: a metric's output rows by outcome
_Rows = dict[str, IntArray]
#: the graders' results on one output, as (name, outcome) pairs in the record's order
_Pattern = tuple[tuple[str, str], ...]
_NO_ROWS: IntArray = np.zeros(0, dtype=np.int64)


class Counts:
    """One metric in one run: passed, failed and errored outputs of each case (arrays over the
    run's cases, in case order)."""

    def __init__(self, passed: IntArray, failed: IntArray, errored: IntArray) -> None:
        self.passed, self.failed, self.errored = passed, failed, errored

    def rates(self) -> FloatArray:
        """Each case's pass rate, NaN where none of its repeats was graded (or it has none)."""
        return case_rates(self.passed, self.failed)

    def summary(self, cases: IntArray | None = None) -> dict[str, Any]:
        """:func:`~evalkit.analysis.caserates.count_rates` over the cases (indices; default
        all) that have a result of this metric."""
        p, f, e = self.passed, self.failed, self.errored
        if cases is not None:
            p, f, e = p[cases], f[cases], e[cases]
        has = (p + f + e) > 0
        return count_rates(p[has], f[has], e[has])


class _Patterns:
    """The graders' results of each output, interned as patterns: ten checks on 100,000 outputs
    show a few hundred distinct (name, outcome) patterns, so an output costs one tuple and one
    lookup while reading, and the rows of each metric and outcome are gathered per pattern."""

    def __init__(self) -> None:
        self.codes: dict[_Pattern, int] = {}
        self.flawed: list[bool] = []  # by code: a result in the pattern is not a pass
        self.rows: list[int] = []
        self.row_codes: list[int] = []

    def add(self, row: int, results: list[Any]) -> bool:
        """Note the results of output ``row``; True when one of them is not a pass."""
        pattern = tuple([(r["name"], r["outcome"]) for r in results])
        code = self.codes.get(pattern)
        if code is None:
            code = self.codes[pattern] = len(self.codes)
            self.flawed.append(any(outcome != "pass" for _, outcome in pattern))
        self.rows.append(row)
        self.row_codes.append(code)
        return self.flawed[code]

    def by_metric(self) -> dict[str, _Rows]:
        """Each metric's rows by outcome; several results under one name on one output
        combine as one (see per_name). Metrics in the order they first appear."""
        rows = np.asarray(self.rows, dtype=np.int64)
        codes = np.asarray(self.row_codes, dtype=np.int64)
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(self.codes) + 1))
        parts: dict[str, dict[str, list[IntArray]]] = {}
        for pattern, code in self.codes.items():
            these = rows[order[bounds[code] : bounds[code + 1]]]
            for name, outcome in per_name((n, Outcome(o)) for n, o in pattern).items():
                if name not in parts:
                    parts[name] = {o: [] for o in _OUTCOMES}
                parts[name][outcome.value].append(these)
        return {
            name: {o: np.concatenate(p) if p else _NO_ROWS for o, p in by.items()}
            for name, by in parts.items()
        }


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


class _Reading:
    """What one pass over the records gathers, by output row (superseded rows included)."""

    def __init__(self) -> None:
        self.latest: dict[tuple[str, int], int] = {}
        self.superseded: list[int] = []
        self.seen: dict[str, int] = {}  # case id -> its index in reading order
        self.row_seen: list[int] = []
        self.tags: list[list[str]] = []
        self.outcome: list[str] = []
        self.checks = _Patterns()
        self.judges = _Patterns()
        self.judge_costs: dict[int, list[float | None]] = {}
        #: per row: cost, latency (NaN: none), cached, truncated, input and output tokens
        self.figures: list[tuple[float | None, float, bool, bool, int, int]] = []
        self.sources: dict[int, str] = {}
        self.reasons: dict[int, list[str]] = {}

    def read(self, source: Iterable[RecordFacts]) -> None:
        latest, seen, checks, judges = self.latest, self.seen, self.checks, self.judges
        row_seen, tags, outcomes = self.row_seen.append, self.tags.append, self.outcome.append
        figures, nan = self.figures.append, math.nan
        for row, f in enumerate(source):
            case_id = f["case_id"]
            key = (case_id, f.get("repeat", 0))
            if (prev := latest.get(key)) is not None:
                self.superseded.append(prev)
            latest[key] = row
            if (index := seen.get(case_id)) is None:
                index = seen[case_id] = len(seen)
            row_seen(index)
            tags(f.get("tags", []))
            outcome = f["outcome"]
            outcomes(outcome)
            error = f.get("error")
            flawed = outcome != "pass" or error is not None
            checks_here = f.get("checks")
            if checks_here:
                flawed = checks.add(row, checks_here) or flawed
            judges_here = f.get("judges")
            if judges_here:
                flawed = judges.add(row, judges_here) or flawed
                self.judge_costs[row] = [j.get("cost_usd", 0.0) for j in judges_here]
            usage = f.get("usage") or {}
            ms = f.get("latency_ms")
            figures(
                (
                    f.get("cost_usd", 0.0),
                    nan if ms is None else ms,
                    f.get("cached", False),
                    f.get("truncated", False),
                    usage.get("input_tokens", 0),
                    usage.get("output_tokens", 0),
                )
            )
            if flawed:  # a stored record need not be consistent: any non-pass gives a reason
                if why := _reasons(f):
                    self.reasons[row] = why
                if outcome == "error":
                    check_error = any(c["outcome"] == "error" for c in checks_here or ())
                    src = source_of_error(True, error is not None, check_error)
                    self.sources[row] = src or ""


class RunData:
    """One pass over a stored run's records: per-case counts for the run, each check and each
    judge, the run-level sums of its summary and why each case failed.

    Where a (case, repeat) has several lines, the latest counts (the rule of
    :func:`~evalkit.storage.store.latest_records`), and cases are in the order of their first
    counted record, as ``read_records`` lists them.
    """

    def __init__(self, run: StoredRun) -> None:
        self.run = run
        source: Iterable[RecordFacts]
        if isinstance(run, LazyRun) and not run.loaded:
            source = run.scan_facts()
        else:
            source = (facts_of(r) for r in run.records)
        reading = _Reading()
        with gc_paused():
            reading.read(source)
            self._count(reading)
            self._sum(reading)
        self._reasons = reading.reasons
        self._reasons_by_case: dict[int, list[str]] | None = None

    def _count(self, reading: _Reading) -> None:
        """Drop superseded rows, number the cases in the order of their first counted record
        (a superseded line can move a case later), and count per case."""
        alive = np.ones(len(reading.row_seen), dtype=bool)
        alive[np.asarray(reading.superseded, dtype=np.int64)] = False
        rows = np.flatnonzero(alive)
        seen_of_row = np.asarray(reading.row_seen, dtype=np.int64)[rows]
        firsts, first_at = np.unique(seen_of_row, return_index=True)
        by_place = np.argsort(first_at, kind="stable")
        order, first_rows = firsts[by_place], rows[first_at[by_place]]
        place = np.empty(len(reading.seen), dtype=np.int64)
        place[order] = np.arange(len(order))
        row_case = np.full(len(reading.row_seen), -1, dtype=np.int64)
        row_case[rows] = place[seen_of_row]
        ids = list(reading.seen)
        self.case_ids: list[str] = [ids[i] for i in order.tolist()]
        self.index = {c: i for i, c in enumerate(self.case_ids)}
        self.tags = {
            c: list(reading.tags[r])
            for c, r in zip(self.case_ids, first_rows.tolist(), strict=True)
        }
        self.rows, self._row_case, n = rows, row_case, len(order)
        self.n_records = len(rows)
        self.max_repeats = int(np.bincount(row_case[rows]).max()) if n else 0

        def counts(by_outcome: _Rows) -> Counts:
            def count(of: IntArray) -> IntArray:
                cases = row_case[of]
                return np.bincount(cases[cases >= 0], minlength=n).astype(np.int64)

            return Counts(*(count(by_outcome[o]) for o in _OUTCOMES))

        codes = np.asarray([_OUTCOMES.index(o) for o in reading.outcome], dtype=np.int64)
        overall = {o: np.flatnonzero(codes == i) for i, o in enumerate(_OUTCOMES)}
        self.overall = counts(overall)
        self.checks = {name: counts(r) for name, r in reading.checks.by_metric().items()}
        self.judges = {name: counts(r) for name, r in reading.judges.by_metric().items()}

    def _sum(self, reading: _Reading) -> None:
        """The run-level figures of a summary, over the counted rows in order."""
        live = self.rows.tolist()
        figures = [reading.figures[r] for r in live]
        self.costs = [f[0] for f in figures]
        self.judge_costs = [c for r in live for c in reading.judge_costs.get(r, ())]
        lat = np.fromiter((f[1] for f in figures), dtype=np.float64, count=len(figures))
        fresh = ~np.fromiter((f[2] for f in figures), dtype=bool, count=len(figures))
        self.latencies = lat[~np.isnan(lat)]
        self.live_latencies = lat[fresh & ~np.isnan(lat)]
        self.n_truncated = sum(f[3] for f in figures)
        self.input_tokens = sum(f[4] for f in figures)
        self.output_tokens = sum(f[5] for f in figures)
        n_errors: dict[str, int] = {}
        for r in live:
            if src := reading.sources.get(r):
                n_errors[src] = n_errors.get(src, 0) + 1
        self.n_errors = dict(sorted(n_errors.items()))

    def reasons(self, case_id: str) -> list[str]:
        """Why the case failed or errored in this run: up to five distinct reasons, whitespace
        collapsed and cut to 300 characters, from its records in order."""
        if self._reasons_by_case is None:
            by_case: dict[int, list[str]] = defaultdict(list)
            row_case = self._row_case
            for row in sorted(self._reasons):  # in the order of the lines
                if (case := int(row_case[row])) >= 0:
                    by_case[case] += self._reasons[row]
            self._reasons_by_case = by_case
        out = self._reasons_by_case.get(self.index[case_id], [])
        unique = list(dict.fromkeys(" ".join(r.split())[:300] for r in out))
        return unique[:_MAX_REASONS]

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
