"""report.md: the headline, grader errors with their reasons, pass^k with what it left out."""

from __future__ import annotations

from evalkit.analysis.summary import summarize
from evalkit.analysis.synthetic import manifest
from evalkit.model.outcome import CheckResult, Outcome
from evalkit.model.record import CaseRecord
from evalkit.report.markdown import run_report
from tests.analysis.test_summary import judge_down, judged


def test_report_shows_the_judge_error_reason_and_the_warnings() -> None:
    records = judge_down()
    text = run_report(manifest("support", "p1", "r1"), summarize(records), records)
    assert "**Pass rate 0.0% over 3 of 20 cases (17 could not be graded)" in text
    assert "> **WARNING: judge 'grounded' could not grade 20 of 20 outputs" in text
    assert "| c05 | 0 | error | judge grounded: unparseable: judge reply had no verdict |" in text
    # the three that failed their check still show the judge could not grade them
    assert "| c00 | 0 | fail | judge grounded: unparseable: judge reply had no verdict |" in text


def test_report_lists_a_check_error_hidden_behind_a_fail() -> None:
    records = [
        CaseRecord(
            case_id="a",
            outcome=Outcome.FAIL,
            output="x",
            checks=[
                CheckResult.failed("contains", "missing 'ok'"),
                CheckResult.errored("python", "check raised KeyError: 'x'"),
            ],
        )
    ]
    text = run_report(manifest("support", "p1", "r1"), summarize(records), records)
    assert "| a | 0 | check contains: missing 'ok' |" in text
    assert "| a | 0 | fail | check python: check raised KeyError: 'x' |" in text


def test_pass_k_line_says_how_many_cases_were_left_out() -> None:
    o = {"P": Outcome.PASS, "F": Outcome.FAIL, "E": Outcome.ERROR}
    spec = {"a": "PP", "b": "PF", "c": "EP", "d": "P"}
    records = [judged(c, True, o[x], repeat=r) for c, xs in spec.items() for r, x in enumerate(xs)]
    text = run_report(manifest("support", "p1", "r1"), summarize(records, repeats=2), records)
    assert (
        "- pass^2 50.0%, pass@2 100.0%, flaky cases 1, over 2 cases with 2 graded repeats; "
        "2 case(s) left out (1 errored, 1 incomplete)"
    ) in text


def test_a_large_run_lists_its_first_50_failures_and_counts_the_rest_in_one_pass() -> None:
    """The report reads its records once (a stream from disk) and keeps only what it lists."""
    records = [judged(f"c{i:03d}", i % 2 == 0, Outcome.PASS) for i in range(200)]
    records += [judged(f"e{i:03d}", True, Outcome.ERROR) for i in range(60)]
    m, summary = manifest("support", "p1", "r1"), summarize(records)
    once = iter(records)
    text = run_report(m, summary, once)
    assert next(once, None) is None  # consumed, a single pass
    assert text == run_report(m, summary, records)
    failing = [line for line in text.splitlines() if line.startswith("| c") and "no |" in line]
    assert len(failing) == 50 and failing[0].startswith("| c001 |")
    assert "| … | | 50 more |" in text  # 100 failed
    assert "| … | | | 10 more |" in text  # 60 could not be graded
