"""Each gate rule on its own: pass, fail, the margin, and the exit code."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from evalkit.analysis.compare import Comparison, compare_runs, summarize_run
from evalkit.analysis.gate import GateResult, RuleResult, evaluate_gate
from evalkit.analysis.synthetic import example_pair, random_records, write_run
from evalkit.base.exceptions import GateFailed
from evalkit.model.gate import Gate
from evalkit.model.record import CaseRecord
from evalkit.storage.store import load_run


@pytest.fixture
def comparison(tmp_path: Path) -> Comparison:
    b, h = example_pair(tmp_path)
    return compare_runs(load_run(b), load_run(h))


def _rule(result: GateResult, name: str) -> RuleResult:
    return next(r for r in result.rules if r.rule == name)


def test_empty_gate_passes_with_regression_rule_only(comparison: Comparison) -> None:
    result = evaluate_gate(comparison, Gate())
    assert result.passed and result.exit_code == 0
    assert [r.rule for r in result.rules] == ["fail_on: significant-regression"]


def test_min_pass_rate(comparison: Comparison) -> None:
    head_rate = comparison.head.pass_rate  # 8 of 11 graded cases
    assert head_rate == pytest.approx(8 / 11)
    ok = _rule(evaluate_gate(comparison, Gate(min_pass_rate=0.7, fail_on="none")), "min_pass_rate")
    assert ok.passed and ok.margin == pytest.approx(8 / 11 - 0.7)
    bad = evaluate_gate(comparison, Gate(min_pass_rate=0.85, fail_on="none"))
    rule = _rule(bad, "min_pass_rate")
    assert not bad.passed and bad.exit_code == 1
    assert (
        rule.message == "pass rate 72.7% over 11 graded cases is 12.3 pts below the minimum 85.0%"
    )
    assert rule.margin == pytest.approx(8 / 11 - 0.85)
    assert "12.3 pts below the minimum 85.0%" in rule.message
    with pytest.raises(GateFailed, match="below the minimum"):
        bad.raise_if_failed()


def test_max_error_rate(comparison: Comparison) -> None:
    bad = _rule(evaluate_gate(comparison, Gate(max_error_rate=0.05)), "max_error_rate")
    assert not bad.passed and bad.actual == pytest.approx(1 / 12)
    assert "over the maximum 5.0%" in bad.message
    assert _rule(evaluate_gate(comparison, Gate(max_error_rate=0.1)), "max_error_rate").passed


def test_min_tag_pass_rate(comparison: Comparison) -> None:
    gate = Gate(min_tag_pass_rate={"refunds": 0.75, "shipping": 0.75, "nope": 0.5}, fail_on="none")
    result = evaluate_gate(comparison, gate)
    assert _rule(result, "min_tag_pass_rate.refunds").passed  # 4 of 5 graded: 80%
    shipping = _rule(result, "min_tag_pass_rate.shipping")
    assert not shipping.passed and shipping.actual == pytest.approx(4 / 6)
    missing = _rule(result, "min_tag_pass_rate.nope")
    assert not missing.passed and "no graded cases" in missing.message
    assert not result.passed


def test_any_regression(comparison: Comparison) -> None:
    result = evaluate_gate(comparison, Gate(fail_on="any-regression"))
    rule = _rule(result, "fail_on: any-regression")
    assert not result.passed and rule.actual == 2
    assert "2 case(s) passed less often than in the base: c07 (pass → fail), c08 (pass → fail)" in (
        rule.message
    )


def test_any_regression_lists_at_most_five_cases(tmp_path: Path) -> None:
    from evalkit.model.outcome import Outcome
    from evalkit.model.record import CaseRecord

    def rec(cid: str, ok: bool) -> CaseRecord:
        return CaseRecord(case_id=cid, outcome=Outcome.PASS if ok else Outcome.FAIL)

    base = [rec(f"c{i}", True) for i in range(20)]
    b = load_run(write_run(tmp_path, base, run_id="b"))
    h = load_run(write_run(tmp_path, [rec(f"c{i}", i >= 7) for i in range(20)], run_id="h"))
    rule = _rule(
        evaluate_gate(compare_runs(b, h), Gate(fail_on="any-regression")), "fail_on: any-regression"
    )
    shown = ", ".join(f"c{i} (pass → fail)" for i in range(5))
    assert rule.message == f"7 case(s) passed less often than in the base: {shown} …"
    assert (rule.actual, rule.threshold, rule.margin) == (7.0, 0.0, -7.0)
    h5 = load_run(write_run(tmp_path, [rec(f"c{i}", i >= 5) for i in range(20)], run_id="h5"))
    rule = _rule(
        evaluate_gate(compare_runs(b, h5), Gate(fail_on="any-regression")),
        "fail_on: any-regression",
    )
    assert rule.message.endswith("c4 (pass → fail)")  # exactly five: no ellipsis
    same = _rule(
        evaluate_gate(compare_runs(b, b), Gate(fail_on="any-regression")), "fail_on: any-regression"
    )
    assert same.passed and same.message == "no case regressed"


def test_any_regression_message_with_repeats(tmp_path: Path) -> None:
    from evalkit.model.outcome import Outcome
    from evalkit.model.record import CaseRecord

    def rec(cid: str, repeat: int, ok: bool) -> CaseRecord:
        return CaseRecord(case_id=cid, repeat=repeat, outcome=Outcome.PASS if ok else Outcome.FAIL)

    base = [rec(f"c{i}", r, True) for i in range(12) for r in range(3)]
    head = [rec(f"c{i}", r, not (i == 4 and r == 1)) for i in range(12) for r in range(3)]
    b = load_run(write_run(tmp_path, base, run_id="b"))
    h = load_run(write_run(tmp_path, head, run_id="h"))
    rule = _rule(
        evaluate_gate(compare_runs(b, h), Gate(fail_on="any-regression")), "fail_on: any-regression"
    )
    assert not rule.passed and rule.message == (
        "1 case(s) passed less often than in the base: c4 (3/3 → 2/3 passed)"
    )


def test_significant_regression(tmp_path: Path) -> None:
    b = load_run(write_run(tmp_path, random_records(400, 3, pass_prob=0.9, seed=1), run_id="b"))
    h = load_run(write_run(tmp_path, random_records(400, 3, pass_prob=0.75, seed=2), run_id="h"))
    comparison = compare_runs(b, h)
    result = evaluate_gate(comparison, Gate())
    rule = _rule(result, "fail_on: significant-regression")
    o = comparison.overall
    assert o.diff is not None and o.p_value is not None and o.diff < 0
    assert not result.passed and rule.message.startswith(
        f"significant regression: overall pass rate down {100 * -o.diff:.1f} pts "
        f"({100 * o.base_rate:.1f}% → {100 * o.head_rate:.1f}%, p = {o.p_value:.3g}); "
    )
    check = comparison.checks[0]
    assert check.verdict == "regressed" and check.diff is not None and check.p_adjusted
    assert (
        f"check 'check-0' down {100 * -check.diff:.1f} pts ({100 * check.base_rate:.1f}% → "
        f"{100 * check.head_rate:.1f}%, Holm-adjusted p = {check.p_adjusted:.3g})"
    ) in rule.message
    assert (rule.actual, rule.threshold, rule.margin) == (o.diff, 0.0, o.diff)
    assert evaluate_gate(compare_runs(b, h), Gate(fail_on="none")).passed
    # no regression the other way round
    assert evaluate_gate(compare_runs(h, b), Gate()).passed


def test_underpowered_difference_does_not_fail_significant_gate(comparison: Comparison) -> None:
    assert comparison.overall.verdict == "inconclusive, underpowered"
    assert evaluate_gate(comparison, Gate(fail_on="significant-regression")).passed


def test_a_suite_that_did_not_regress_passes(tmp_path: Path) -> None:
    """Many cases slip 3/3 → 2/3 while a few go 0/3 → 3/3: the mean is flat, so no significant
    regression (a sign test on the direction of each case would have failed the gate)."""
    from evalkit.model.outcome import Outcome
    from evalkit.model.record import CaseRecord

    def rec(cid: str, repeat: int, ok: bool) -> CaseRecord:
        return CaseRecord(case_id=cid, repeat=repeat, outcome=Outcome.PASS if ok else Outcome.FAIL)

    base = [rec(f"c{i}", r, i < 25) for i in range(33) for r in range(3)]
    head = [rec(f"c{i}", r, not (i < 25 and r == 0)) for i in range(33) for r in range(3)]
    b = load_run(write_run(tmp_path, base, run_id="b"))
    h = load_run(write_run(tmp_path, head, run_id="h"))
    comparison = compare_runs(b, h)
    assert comparison.overall.base_better == 25 and comparison.overall.head_better == 8
    assert evaluate_gate(comparison, Gate()).passed


def test_insufficient_data_does_not_fail_the_significant_gate(tmp_path: Path) -> None:
    b = load_run(write_run(tmp_path, random_records(6, 1, pass_prob=1.0, seed=1), run_id="b"))
    h = load_run(write_run(tmp_path, random_records(6, 1, pass_prob=0.0, seed=2), run_id="h"))
    comparison = compare_runs(b, h)
    assert comparison.overall.verdict == "insufficient data"
    assert evaluate_gate(comparison, Gate()).passed
    assert not evaluate_gate(comparison, Gate(fail_on="any-regression")).passed


def test_without_baseline_only_thresholds(tmp_path: Path) -> None:
    run = load_run(write_run(tmp_path, random_records(100, 2, pass_prob=0.5, seed=4)))
    result = evaluate_gate(run, Gate(min_pass_rate=0.9))
    assert not result.passed
    assert _rule(result, "fail_on: significant-regression").passed
    assert evaluate_gate(summarize_run(run), Gate(min_pass_rate=0.1)).passed


def test_gate_validation() -> None:
    with pytest.raises(ValidationError):
        Gate.model_validate({"min_pass_rate": 1.5})
    with pytest.raises(ValidationError):
        Gate.model_validate({"fail_on": "sometimes"})
    with pytest.raises(ValidationError):
        Gate.model_validate({"min_tag_pass_rate": {"a": -0.1}})
    with pytest.raises(ValidationError):
        Gate.model_validate({"min_pas_rate": 0.5})


def test_max_judge_error_rate_fails_on_a_judge_that_could_not_judge(tmp_path: Path) -> None:
    from evalkit.model.outcome import Outcome
    from evalkit.model.record import CaseRecord, ErrorInfo, JudgeVerdict

    def verdict(name: str, ok: bool) -> JudgeVerdict:
        if ok:
            return JudgeVerdict(name=name, version="v", outcome=Outcome.PASS)
        error = ErrorInfo(kind="unparseable", message="no tool call")
        return JudgeVerdict(name=name, version="v", outcome=Outcome.ERROR, error=error)

    records = [
        CaseRecord(
            case_id=f"c{i}",
            outcome=Outcome.PASS if i >= 3 else Outcome.ERROR,
            output="x",
            judges=[verdict("grounded", i >= 3), verdict("helpful", True)],
        )
        for i in range(20)
    ]
    run = load_run(write_run(tmp_path, records))
    assert summarize_run(run).judge_error_rates == {"grounded": 0.15, "helpful": 0.0}
    result = evaluate_gate(run, Gate(max_judge_error_rate=0.1))
    failed = _rule(result, "max_judge_error_rate.grounded")
    assert not result.passed and not failed.passed
    assert failed.margin == pytest.approx(-0.05)
    assert "judge 'grounded' error rate 15.0% is 5.0 pts over the maximum 10.0%" in failed.message
    assert _rule(result, "max_judge_error_rate.helpful").passed
    assert evaluate_gate(run, Gate(max_judge_error_rate=0.2)).passed


def test_a_run_without_cases_never_passes(tmp_path: Path) -> None:
    empty = summarize_run(load_run(write_run(tmp_path, [])))
    assert empty.n_cases == 0
    for gate in (Gate(), Gate(fail_on="none"), Gate(min_pass_rate=0.0, max_error_rate=1.0)):
        result = evaluate_gate(empty, gate)
        assert not result.passed and result.exit_code == 1
        assert _rule(result, "cases").message.startswith("the run has no cases")
    populated = evaluate_gate(
        summarize_run(load_run(write_run(tmp_path, random_records(3, 1), run_id="r2"))), Gate()
    )
    assert populated.passed and "cases" not in [r.rule for r in populated.rules]


def test_max_check_error_rate_counts_a_check_that_raised_even_beside_a_fail(
    tmp_path: Path,
) -> None:
    from evalkit.model.outcome import CheckResult, Outcome
    from evalkit.model.record import CaseRecord

    raised = CheckResult.errored("python", "check raised KeyError: 'x'")
    records = [
        CaseRecord(
            case_id=f"c{i}",
            # the other check failed c0, so the output's outcome is fail, not error
            outcome=[Outcome.FAIL, Outcome.ERROR][i] if i < 2 else Outcome.PASS,
            output="x",
            checks=[
                CheckResult.failed("contains", "no") if i == 0 else CheckResult.passed("contains"),
                raised if i < 2 else CheckResult.passed("python"),
            ],
        )
        for i in range(10)
    ]
    run = load_run(write_run(tmp_path, records))
    summary = summarize_run(run)
    assert summary.check_error_rates == {"contains": 0.0, "python": 0.2}
    assert summary.error_rate == 0.1  # only c1's outcome is error
    result = evaluate_gate(run, Gate(max_check_error_rate=0.0, fail_on="none"))
    failed = _rule(result, "max_check_error_rate.python")
    assert not result.passed and result.exit_code == 1 and not failed.passed
    assert "check 'python' error rate 20.0% is 20.0 pts over the maximum 0.0%" in failed.message
    assert _rule(result, "max_check_error_rate.contains").passed


def _mixed_error_records() -> list[CaseRecord]:
    """10 outputs: 1 provider error, 2 judge errors and 1 check error that decide the outcome,
    and a check error and a judge error that sit beside a failing check (the output fails)."""
    from evalkit.model.outcome import CheckResult, Outcome, combine
    from evalkit.model.record import ErrorInfo, JudgeVerdict

    def rec(i: int, checks: list[Outcome], judge: Outcome) -> CaseRecord:
        results = [CheckResult(name=f"k{j}", outcome=o, reason="x") for j, o in enumerate(checks)]
        verdict = JudgeVerdict(name="g", version="j", outcome=judge)
        return CaseRecord(
            case_id=f"c{i}",
            outcome=combine([*checks, judge]),
            output="x",
            checks=results,
            judges=[verdict],
        )

    p, f, e = Outcome.PASS, Outcome.FAIL, Outcome.ERROR
    return [
        CaseRecord(case_id="c0", outcome=e, error=ErrorInfo(kind="timeout", message="slow")),
        rec(1, [p, p], e),
        rec(2, [p, p], e),
        rec(3, [e, p], p),
        rec(4, [e, f], p),
        rec(5, [p, f], e),
        *(rec(i, [p, p], p) for i in range(6, 10)),
    ]


def test_max_error_rate_counts_grader_errors_as_the_headline_does(tmp_path: Path) -> None:
    from evalkit.analysis.summary import summarize
    from evalkit.report.headline import pass_rate_line

    records = _mixed_error_records()
    head_run = load_run(write_run(tmp_path, records, run_id="head"))
    head = summarize_run(head_run)
    written = summarize(records)  # what summary.json and the run headline say
    # by hand: c0 (provider), c1, c2 (judge), c3 (check); c4 and c5 are fails
    assert written["error"] == 4 and written["error_rate"] == 0.4 == head.error_rate
    assert "10 outputs: 4 pass, 2 fail, 4 error (error rate 40.0%)" in pass_rate_line(written)
    assert head.n_errors == {"check": 1, "judge": 2, "provider": 1}
    rule = _rule(evaluate_gate(head, Gate(max_error_rate=0.3, fail_on="none")), "max_error_rate")
    assert not rule.passed and rule.actual == 0.4
    assert rule.message == (
        "error rate 40.0% (4 of 10 outputs could not be graded: 1 check, 2 judge, 1 provider) "
        "is 10.0 pts over the maximum 30.0%"
    )
    # the same figure through a comparison (ci with a baseline)
    base = load_run(write_run(tmp_path, random_records(10, 1, seed=1), run_id="base"))
    compared = compare_runs(base, head_run)
    assert _rule(evaluate_gate(compared, Gate(max_error_rate=0.3)), "max_error_rate") == rule
    # the grader errors beside a fail count in that grader's own rate, as in the headline
    assert head.check_error_rates["k0"] == pytest.approx(written["checks"]["k0"]["error_rate"])
    assert head.check_error_rates["k0"] == 2 / 9 and head.judge_error_rates["g"] == 3 / 9
