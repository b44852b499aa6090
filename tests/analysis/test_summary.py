"""summary.json: one pass-rate definition, grader error rates and the warnings they raise."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evalkit.analysis.compare import summarize_run
from evalkit.analysis.summary import summarize
from evalkit.analysis.synthetic import write_run
from evalkit.model.outcome import CheckResult, Outcome
from evalkit.model.record import CaseRecord, ErrorInfo, JudgeVerdict
from evalkit.storage.store import load_run


def judged(case: str, check_ok: bool, judge: Outcome, repeat: int = 0) -> CaseRecord:
    """One output graded by a ``contains`` check and a ``grounded`` judge."""
    error = ErrorInfo(kind="unparseable", message="judge reply had no verdict")
    verdict = JudgeVerdict(
        name="grounded",
        version="j1",
        outcome=judge,
        reasoning="" if judge is Outcome.ERROR else "ok",
        error=error if judge is Outcome.ERROR else None,
    )
    check = CheckResult.passed("contains") if check_ok else CheckResult.failed("contains", "no")
    outcome = Outcome.FAIL if not check_ok or judge is Outcome.FAIL else judge
    return CaseRecord(
        case_id=case, repeat=repeat, outcome=outcome, output="x", checks=[check], judges=[verdict]
    )


def judge_down() -> list[CaseRecord]:
    """The issue's run: a judge erroring on all 20 cases; the check passed 17 and failed 3."""
    return [judged(f"c{i:02d}", i >= 3, Outcome.ERROR) for i in range(20)]


def test_a_judge_that_errored_everywhere_is_called_out_and_the_checks_still_show() -> None:
    s = summarize(judge_down())
    assert (s["pass"], s["fail"], s["error"]) == (0, 3, 17)
    assert s["pass_rate"] == 0.0 and s["graded_cases"] == 3
    assert s["checks"]["contains"]["pass_rate"] == 0.85
    assert s["judges"]["grounded"]["error_rate"] == 1.0
    assert s["judges"]["grounded"]["pass_rate"] is None
    assert len(s["warnings"]) == 2
    assert s["warnings"][0].startswith("judge 'grounded' could not grade 20 of 20 outputs")
    assert s["warnings"][1].startswith("most outputs could not be graded (17 of 20)")
    assert s["errors_by_kind"] == {"judge": 20}


def test_the_grader_error_warning_share_is_configurable() -> None:
    # 3 of 20 outputs (15%) could not be judged
    records = [
        judged(f"c{i:02d}", True, Outcome.ERROR if i < 3 else Outcome.PASS) for i in range(20)
    ]
    assert summarize(records)["warnings"] == []  # default 20%
    low = summarize(records, grader_error_warning=0.1)
    assert low["grader_error_warning"] == 0.1
    assert low["warnings"] == [
        "judge 'grounded' could not grade 3 of 20 outputs (15.0%, above 10%): the pass rate "
        "leaves those outputs out"
    ]


def test_check_errors_are_counted_by_kind_and_in_the_check_error_rate() -> None:
    bad = CheckResult.errored("python", "check raised KeyError: 'x'")
    records = [
        CaseRecord(case_id="a", outcome=Outcome.FAIL, checks=[CheckResult.failed("c", "n"), bad]),
        CaseRecord(case_id="b", outcome=Outcome.PASS, checks=[CheckResult.passed("python")]),
    ]
    s = summarize(records)
    assert s["errors_by_kind"] == {"check": 1}
    assert s["checks"]["python"]["error_rate"] == 0.5


@pytest.mark.parametrize("repeats", [1, 3])
def test_summary_json_and_compare_share_one_pass_rate(tmp_path: Path, repeats: int) -> None:
    outcomes = [Outcome.PASS, Outcome.FAIL, Outcome.PASS, Outcome.ERROR]
    records = [
        judged(f"c{i}", True, outcomes[(i * repeats + r) % 4], repeat=r)
        for i in range(12)
        for r in range(repeats)
    ]
    s = summarize(records, repeats=repeats)
    run = summarize_run(load_run(write_run(tmp_path, records, repeats=repeats)))
    # the definition computed independently: pandas, graded outputs, mean per case, then mean
    df = pd.DataFrame([(r.case_id, r.outcome.value) for r in records], columns=["case", "o"])
    graded = df[df.o != "error"].assign(ok=lambda d: d.o == "pass")
    expected = graded.groupby("case").ok.mean().mean()
    assert s["pass_rate"] == pytest.approx(expected, abs=1e-12)
    assert s["error_rate"] == pytest.approx((df.o == "error").mean(), abs=1e-12)
    assert s["pass_rate"] == pytest.approx(run.pass_rate, abs=1e-15)
    assert s["error_rate"] == pytest.approx(run.error_rate, abs=1e-15)
    assert s["judges"]["grounded"]["error_rate"] == run.judge_error_rates["grounded"]
    assert s["pass_rate_interval"] == (
        run.pass_rate_interval.model_dump() if run.pass_rate_interval else None
    )
    assert s["pass_rate_interval_note"] == run.pass_rate_interval_note


def test_pass_rate_with_repeats_is_hand_computable() -> None:
    # a: 2 of 2 pass; b: 1 of its 2 graded pass (one error); c: 0 of 3: (1 + 1/2 + 0) / 3 = 1/2
    # (pooling the outputs would say 3 of 7)
    spec = {"a": "PP", "b": "PFE", "c": "FFF"}
    o = {"P": Outcome.PASS, "F": Outcome.FAIL, "E": Outcome.ERROR}
    records = [judged(c, True, o[x], repeat=r) for c, xs in spec.items() for r, x in enumerate(xs)]
    s = summarize(records, repeats=3)
    assert s["pass_rate"] == pytest.approx(1 / 2)
    assert s["judges"]["grounded"]["pass_rate"] == pytest.approx(1 / 2)
    assert s["judge_stats"]["grounded"]["pass_rate"] == pytest.approx(1 / 2)
    assert s["pass_rate_interval"] is None
    assert s["pass_rate_interval_note"] == "fewer than 5 graded cases"
    assert (s["pass_k_cases"], s["pass_k_excluded"]) == (1, 2)  # a is short, b errored
