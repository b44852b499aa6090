"""The one pass-rate definition: per-case mean over graded repeats, errors set apart."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from evalkit.analysis.caserates import (
    CaseTable,
    counts_as_error,
    error_reason,
    grader_reasons,
    pass_at_k,
    rates,
)
from evalkit.analysis.compare import compare_runs
from evalkit.analysis.runtable import RunData
from evalkit.analysis.summary import summarize
from evalkit.analysis.synthetic import write_run
from evalkit.model.outcome import CheckResult, Outcome
from evalkit.model.record import CaseRecord, ErrorInfo, JudgeVerdict
from evalkit.storage.lazyrun import open_run
from evalkit.storage.store import iter_records, load_run

P, F, E = Outcome.PASS, Outcome.FAIL, Outcome.ERROR


def rec(case: str, repeat: int, outcome: Outcome, tags: list[str] | None = None) -> CaseRecord:
    error = ErrorInfo(kind="timeout", message="slow") if outcome is E else None
    return CaseRecord(case_id=case, repeat=repeat, outcome=outcome, error=error, tags=tags or [])


def repeated_run() -> list[CaseRecord]:
    """a: pass pass · b: pass fail · c: fail error · d: error error (3 repeats planned for none)"""
    return [
        rec("a", 0, P, ["x"]),
        rec("a", 1, P, ["x"]),
        rec("b", 0, P, ["x"]),
        rec("b", 1, F, ["x"]),
        rec("c", 0, F),
        rec("c", 1, E),
        rec("d", 0, E),
        rec("d", 1, E),
    ]


def test_pass_rate_is_the_mean_of_per_case_rates_not_the_pooled_share() -> None:
    r = rates(CaseTable(repeated_run()).overall)
    # per case 1, 1/2, 0 (d has no graded repeat): (1 + 0.5 + 0) / 3; pooling would say 3/5
    assert r["pass_rate"] == 0.5
    assert (r["n"], r["pass"], r["fail"], r["error"]) == (8, 3, 2, 3)
    assert (r["cases"], r["graded_cases"]) == (4, 3)
    assert r["error_rate"] == 3 / 8


def test_rates_over_a_subset_of_cases_and_with_no_graded_case() -> None:
    table = CaseTable(repeated_run())
    assert rates(table.overall, ["a", "b"])["pass_rate"] == 0.75
    none = rates(table.overall, ["d"])
    assert none["pass_rate"] is None and none["error_rate"] == 1.0
    assert table.tag_cases() == {"x": ["a", "b"]}
    a, b, c, d = table.case_rates()
    assert (a, b, c) == (1.0, 0.5, 0.0) and math.isnan(d)


def test_one_repeat_is_the_share_of_graded_cases_that_passed() -> None:
    records = [rec("a", 0, P), rec("b", 0, F), rec("c", 0, P), rec("d", 0, E)]
    assert rates(CaseTable(records).overall)["pass_rate"] == 2 / 3


def test_pass_k_reports_the_cases_it_left_out() -> None:
    records = [*repeated_run(), rec("e", 0, P)]  # e: only one of two repeats (run stopped)
    out = pass_at_k(CaseTable(records), 2)
    assert out["pass_k_cases"] == 2  # a and b
    assert out["pass_k_excluded"] == 3
    assert out["pass_k_excluded_by_reason"] == {"errored": 2, "incomplete": 1}
    assert (out["pass_all_k"], out["pass_any_k"], out["flaky_cases"]) == (0.5, 1.0, 1)


def test_pass_k_with_nothing_complete_says_so() -> None:
    out = pass_at_k(CaseTable([rec("d", 0, E), rec("d", 1, E)]), 2)
    assert out["pass_all_k"] is None and out["pass_k_excluded"] == 1


def test_an_errored_judge_gives_its_error_message_as_the_reason() -> None:
    judge = JudgeVerdict(
        name="grounded",
        version="j1",
        outcome=E,
        error=ErrorInfo(kind="unparseable", message="no verdict in reply"),
    )
    r = CaseRecord(
        case_id="a",
        outcome=E,
        output="x",
        checks=[CheckResult.passed("contains")],
        judges=[judge],
    )
    assert grader_reasons(r, E) == ["judge grounded: unparseable: no verdict in reply"]
    assert error_reason(r) == "judge grounded: unparseable: no verdict in reply"
    assert not counts_as_error(r)  # a judge error is reported loudly, not budgeted


def test_a_check_error_counts_like_a_provider_error_even_beside_a_fail() -> None:
    r = CaseRecord(
        case_id="a",
        outcome=F,
        output="x",
        checks=[
            CheckResult.failed("contains", "missing"),
            CheckResult.errored("python", "check raised KeyError: 'x'"),
        ],
    )
    assert counts_as_error(r)
    assert error_reason(r) == "check python: check raised KeyError: 'x'"
    assert counts_as_error(rec("b", 0, E)) and not counts_as_error(rec("c", 0, F))


def _graded(case: str, repeat: int, kind: str, tags: list[str]) -> CaseRecord:
    """One output: ``P``/``F`` graded by check ``c`` and judge ``j``; ``Ep`` a provider error,
    ``Ec`` check ``c`` could not grade it, ``Ej`` judge ``j`` could not."""
    if kind == "Ep":
        err = ErrorInfo(kind="timeout", message="slow")
        return CaseRecord(case_id=case, repeat=repeat, outcome=E, error=err, tags=tags)
    check = {
        "P": CheckResult.passed("c"),
        "F": CheckResult.failed("c", "no"),
        "Ec": CheckResult.errored("c", "raised"),
    }.get(kind, CheckResult.passed("c"))
    j_outcome = {"P": P, "F": P, "Ec": P, "Ej": E}[kind]
    j_error = ErrorInfo(kind="unparseable", message="?") if kind == "Ej" else None
    judge = JudgeVerdict(name="j", version="1", outcome=j_outcome, error=j_error)
    outcome = {"P": P, "F": F, "Ec": E, "Ej": E}[kind]
    return CaseRecord(
        case_id=case,
        repeat=repeat,
        outcome=outcome,
        output="x",
        checks=[check, CheckResult.passed("c")],  # two results under one name combine as one
        judges=[judge],
        tags=tags,
    )


def test_the_run_summary_and_compare_give_each_case_the_same_pass_rate(tmp_path: Path) -> None:
    """The run summary (CaseTable, fed record by record) and compare (RunData, from the records
    in memory or from the graded facts on disk) count each case alike: 3 repeats, provider,
    check and judge errors, a case short of repeats, and an errored line superseded by its
    retry. Expected rates by hand: passed / graded repeats, NaN where none was graded."""
    spec = {
        "a": (["P", "P", "P"], 1.0),
        "b": (["P", "F", "Ep"], 0.5),
        "c": (["F", "Ec", "F"], 0.0),
        "d": (["Ep", "P", "Ej"], 1.0),
        "e": (["Ej", "Ep", "Ec"], math.nan),
        "f": (["F", "P"], 0.5),
    }
    records = [
        _graded(case, r, kind, ["odd"] if case in "ace" else [])
        for case, (kinds, _) in spec.items()
        for r, kind in enumerate(kinds)
    ]
    # b's provider error was retried later (a resumed run): the retry, a fail, counts
    records.append(_graded("b", 2, "F", []))
    path = write_run(tmp_path / "runs", records, repeats=3)
    expected = [want for _, want in spec.values()]
    expected[1] = 1 / 3

    table = CaseTable(iter_records(path))  # what the summary of a run read back counts
    readers = {
        "summary": (table.case_ids, table.case_rates()),
        **{
            name: (data.case_ids, data.case_rates())
            for name, data in (
                ("compare, in memory", RunData(load_run(path))),
                ("compare, from disk", RunData(open_run(path))),
            )
        },
    }
    for name, (ids, got) in readers.items():
        assert ids == list(spec), name
        assert got == pytest.approx(expected, nan_ok=True), name

    # what each shows: the summary's figures and compare's per-case rows (a run against itself
    # lists every case that did not pass all its graded repeats, with its rate)
    summary = summarize(iter_records(path), repeats=3)
    comparison = compare_runs(load_run(path), open_run(path))
    shown = {c.case_id: c.base_rate for c in comparison.cases}
    assert shown == {
        cid: None if math.isnan(want) else want
        for cid, want in zip(spec, expected, strict=True)
        if want != 1.0
    }
    assert {c.case_id: c.base_counts for c in comparison.cases} == {
        "b": (1, 3),
        "c": (0, 2),
        "e": (0, 0),
        "f": (1, 2),
    }
    head = comparison.head
    assert summary["pass_rate"] == head.pass_rate == pytest.approx((1 + 1 / 3 + 0 + 1 + 0.5) / 5)
    assert summary["graded_cases"] == head.n_graded_cases == 5
    assert summary["error_rate"] == head.error_rate == pytest.approx(6 / 17)  # b's retry counts
    assert summary["tags"]["odd"]["pass_rate"] == head.tag_pass_rates["odd"] == pytest.approx(0.5)
    assert head.check_error_rates == {"c": pytest.approx(2 / 15)}  # e's provider error: no check
    assert head.judge_error_rates == {"j": pytest.approx(2 / 15)}
    for kind, rows in (("checks", head.check_error_rates), ("judges", head.judge_error_rates)):
        assert {k: v["error_rate"] for k, v in summary[kind].items()} == rows, kind
