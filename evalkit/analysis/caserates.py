"""The one definition of a pass rate, used by every output (summary.json, report.md, ``runs``,
the run headline, JUnit, compare and the gate).

A case's pass rate is the share of its *graded* repeats that passed (an error is neither a pass
nor a fail); a run's (or a check's, judge's or tag's) pass rate is the **mean of its cases' pass
rates** over the cases with at least one graded repeat. With one repeat per case this is the
share of graded cases that passed. Pooling records instead would weigh a case by how many of its
repeats happened to be graded.

An error rate is the share of outputs (case × repeat) that could not be graded.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from evalkit.model.outcome import Outcome
from evalkit.model.record import CaseRecord

PASS_RATE_DEFINITION = "mean over graded cases of each case's share of graded repeats that passed"
_RANK = {Outcome.PASS: 0, Outcome.ERROR: 1, Outcome.FAIL: 2}
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


class Tally:
    """Per case: passes, fails and errors of one metric in one run.

    Three dicts of ints rather than a list per case: a run of 10,000 cases × 10 checks would
    otherwise allocate 100,000 lists, and the garbage collector's passes over them cost more
    than the counting.
    """

    def __init__(self) -> None:
        self.passed: dict[str, int] = {}
        self.failed: dict[str, int] = {}
        self.errored: dict[str, int] = {}
        #: case ids in the order first seen
        self.cases: dict[str, None] = {}

    def add(self, case_id: str, outcome: Outcome) -> None:
        # identity tests: hashing a str-Enum member runs Python code
        if outcome is Outcome.PASS:
            d = self.passed
        elif outcome is Outcome.FAIL:
            d = self.failed
        else:
            d = self.errored
        d[case_id] = d.get(case_id, 0) + 1
        self.cases[case_id] = None

    def counts(self, cases: Sequence[str]) -> tuple[IntArray, IntArray, IntArray]:
        """Passed, failed and errored outputs of each of ``cases``, in that order: what
        :func:`case_rates` and :func:`count_rates` take, as compare's per-case arrays are."""

        def column(d: dict[str, int]) -> IntArray:
            return np.fromiter((d.get(c, 0) for c in cases), dtype=np.int64, count=len(cases))

        return column(self.passed), column(self.failed), column(self.errored)


def per_name(items: Iterable[tuple[str, Outcome]]) -> dict[str, Outcome]:
    """Several results under one name on one output combine as one (any fail fails)."""
    out: dict[str, Outcome] = {}
    for name, outcome in items:
        prev = out.get(name)
        if prev is None or (prev is not outcome and _RANK[outcome] > _RANK[prev]):
            out[name] = outcome
    return out


class CaseTable:
    """One pass over a run's records: per-case tallies for the run, each check and each judge.

    Fed whole (``CaseTable(records)``) or record by record (:meth:`add`); with
    ``keep_records=False`` it holds only the tallies, never the records (the streaming summary of
    a 100,000-case run).
    """

    def __init__(self, records: Iterable[CaseRecord] = (), *, keep_records: bool = True) -> None:
        self.case_ids: list[str] = []
        self.tags: dict[str, list[str]] = {}
        self.records: dict[str, list[CaseRecord]] = defaultdict(list)
        self.overall = Tally()
        self.checks: dict[str, Tally] = defaultdict(Tally)
        self.judges: dict[str, Tally] = defaultdict(Tally)
        self._keep = keep_records
        for rec in records:
            self.add(rec)

    def add(self, rec: CaseRecord) -> None:
        if rec.case_id not in self.tags:
            self.case_ids.append(rec.case_id)
            self.tags[rec.case_id] = list(rec.tags)
        if self._keep:
            self.records[rec.case_id].append(rec)
        self.overall.add(rec.case_id, rec.outcome)
        for name, outcome in per_name((c.name, c.outcome) for c in rec.checks).items():
            self.checks[name].add(rec.case_id, outcome)
        for name, outcome in per_name((j.name, j.outcome) for j in rec.judges).items():
            self.judges[name].add(rec.case_id, outcome)

    def case_rates(self) -> list[float]:
        """Per-case overall pass rates (NaN where nothing was graded), in case order."""
        passed, failed, _ = self.overall.counts(self.case_ids)
        out: list[float] = case_rates(passed, failed).tolist()
        return out

    def tag_cases(self) -> dict[str, list[str]]:
        by_tag: dict[str, list[str]] = defaultdict(list)
        for cid in self.case_ids:
            for tag in self.tags[cid]:
                by_tag[tag].append(cid)
        return dict(sorted(by_tag.items()))


def mean_rate(rates: Sequence[float] | FloatArray) -> float | None:
    """Mean of the per-case rates that are not NaN (the graded cases), or None."""
    values = np.asarray(rates, dtype=np.float64)
    graded = values[~np.isnan(values)]
    # fsum: exactly rounded, so the figure does not depend on the order of the cases
    return math.fsum(graded.tolist()) / len(graded) if len(graded) else None


def case_rates(passed: IntArray, failed: IntArray) -> FloatArray:
    """Each case's pass rate: passed over graded repeats, NaN where none was graded."""
    graded = passed + failed
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(graded > 0, passed / np.where(graded > 0, graded, 1), np.nan)


def count_rates(passed: IntArray, failed: IntArray, errored: IntArray) -> dict[str, Any]:
    """Counts (outputs) and rates of one metric over the cases whose counts are given:
    ``pass_rate`` per the module docstring, ``error_rate`` the share of outputs that could not
    be graded."""
    p, f, e = int(passed.sum()), int(failed.sum()), int(errored.sum())
    per_case = case_rates(passed, failed)
    n = p + f + e
    return {
        "n": n,
        "pass": p,
        "fail": f,
        "error": e,
        "cases": len(per_case),
        "graded_cases": int((~np.isnan(per_case)).sum()),
        "pass_rate": mean_rate(per_case),
        "error_rate": e / n if n else None,
    }


def rates(tally: Tally, cases: Iterable[str] | None = None) -> dict[str, Any]:
    """:func:`count_rates` of a tally, over ``cases`` (those it has a result for) or all."""
    ids = list(tally.cases) if cases is None else [c for c in cases if c in tally.cases]
    return count_rates(*tally.counts(ids))


def pass_at_k(table: CaseTable, k: int) -> dict[str, Any]:
    """pass^k (every one of k samples passes: reliability) and pass@k (any passes), per case.

    Only cases with k graded repeats have a pass^k; the others (a repeat errored, or the run
    stopped early) are counted in ``pass_k_excluded`` with the reason, never silently dropped.
    """
    errored = incomplete = complete = all_pass = any_pass = 0
    tally = table.overall  # a case's outcomes, counted: enough for both figures
    for cid in table.case_ids:
        p, f = tally.passed.get(cid, 0), tally.failed.get(cid, 0)
        if tally.errored.get(cid, 0):
            errored += 1
        elif p + f < k:
            incomplete += 1
        else:
            complete += 1
            all_pass += f == 0
            any_pass += p > 0
    excluded = {"errored": errored, "incomplete": incomplete}
    base: dict[str, Any] = {
        "pass_k_cases": complete,
        "pass_k_excluded": errored + incomplete,
        "pass_k_excluded_by_reason": excluded,
    }
    if not complete:
        return {**base, "pass_all_k": None, "pass_any_k": None, "flaky_cases": 0}
    return {
        **base,
        "pass_all_k": all_pass / complete,
        "pass_any_k": any_pass / complete,
        "flaky_cases": any_pass - all_pass,
    }


def grader_reasons(rec: CaseRecord, outcome: Outcome) -> list[str]:
    """``check NAME: reason`` / ``judge NAME: reason`` for each grader with ``outcome`` on this
    output; an errored judge gives its error message (its reasoning is empty then)."""
    out = [f"check {c.name}: {c.reason}" for c in rec.checks if c.outcome is outcome]
    for j in rec.judges:
        if j.outcome is outcome:
            why = j.error.message if outcome is Outcome.ERROR and j.error else j.reasoning
            if outcome is Outcome.ERROR and j.error and j.error.kind:
                why = f"{j.error.kind}: {why}"
            out.append(f"judge {j.name}: {why or 'no reason given'}")
    return out


def counts_as_error(rec: CaseRecord) -> bool:
    """An output that counts against the error budget: the provider failed, or a check could
    not grade it (an exception inside a check is an error like a provider's)."""
    return rec.error is not None or any(c.outcome is Outcome.ERROR for c in rec.checks)


def error_source(rec: CaseRecord) -> str | None:
    """Why an output counts in the error rate (its outcome is error), or None when it does not:
    ``provider`` (no output), else ``check`` or ``judge`` (a grader could not grade it and no
    other grader failed it). The headline's error rate and the gate's ``max_error_rate`` both
    count exactly these outputs; a grader error beside a fail counts in that grader's own error
    rate instead (``max_check_error_rate`` / ``max_judge_error_rate``)."""
    return source_of_error(
        rec.outcome is Outcome.ERROR,
        rec.error is not None,
        any(c.outcome is Outcome.ERROR for c in rec.checks),
    )


def source_of_error(errored: bool, provider_failed: bool, check_errored: bool) -> str | None:
    """:func:`error_source` from an output's facts: its outcome is error, the provider failed,
    one of its checks could not grade it."""
    if not errored:
        return None
    if provider_failed:
        return "provider"
    return "check" if check_errored else "judge"


def error_sources(records: Iterable[CaseRecord]) -> dict[str, int]:
    """How many errored outputs each source (see :func:`error_source`) accounts for."""
    out: dict[str, int] = {}
    for rec in records:
        if (source := error_source(rec)) is not None:
            out[source] = out.get(source, 0) + 1
    return dict(sorted(out.items()))


def error_reason(rec: CaseRecord) -> str:
    """Why ``rec`` could not be (fully) graded, in one line."""
    if rec.error is not None:
        return f"{rec.error.kind}: {rec.error.message}"
    return "; ".join(grader_reasons(rec, Outcome.ERROR)) or "could not be graded"


def grader_warnings(
    overall: dict[str, Any],
    checks: dict[str, dict[str, Any]],
    judges: dict[str, dict[str, Any]],
    threshold: float,
) -> list[str]:
    """Loud notes for the headline: a grader that errored on more than ``threshold`` of its
    outputs, and a pass rate whose outputs mostly could not be graded."""
    out: list[str] = []
    for kind, rows in (("check", checks), ("judge", judges)):
        for name, r in rows.items():
            if r["error_rate"] is not None and r["error_rate"] > threshold:
                out.append(
                    f"{kind} {name!r} could not grade {r['error']} of {r['n']} outputs "
                    f"({r['error_rate']:.1%}, above {threshold:.0%}): the pass rate leaves "
                    "those outputs out"
                )
    if overall["n"] and overall["error"] * 2 > overall["n"]:
        out.append(
            f"most outputs could not be graded ({overall['error']} of {overall['n']}): the pass "
            f"rate rests on {overall['graded_cases']} of {overall['cases']} cases"
        )
    return out
