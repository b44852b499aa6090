"""The one pass-rate definition: per-case mean over graded repeats, errors set apart."""

from __future__ import annotations

import math

from evalkit.analysis.caserates import (
    CaseTable,
    counts_as_error,
    error_reason,
    grader_reasons,
    pass_at_k,
    rates,
)
from evalkit.model.outcome import CheckResult, Outcome
from evalkit.model.record import CaseRecord, ErrorInfo, JudgeVerdict

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
    assert math.isnan(table.overall.rate("d")) and table.overall.rate("b") == 0.5


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
