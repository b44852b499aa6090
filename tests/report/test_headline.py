"""The run headline: pass rate with its cases and interval, grader rates, loud warnings."""

from __future__ import annotations

from evalkit.analysis.summary import summarize
from evalkit.model.outcome import Outcome
from evalkit.report.headline import headline
from tests.analysis.test_summary import judge_down, judged


def test_the_issue_run_says_the_judge_errored_and_what_the_pass_rate_rests_on() -> None:
    lines = headline(summarize(judge_down()))
    assert lines[0] == (
        "pass rate 0.0% over 3 of 20 cases (17 could not be graded), interval not shown "
        "(fewer than 5 graded cases); 20 outputs: 0 pass, 3 fail, 17 error (error rate 85.0%)"
    )
    assert lines[1].startswith("WARNING: judge 'grounded' could not grade 20 of 20 outputs")
    assert lines[2].startswith("WARNING: most outputs could not be graded")
    assert lines[3:] == [
        "graders:",
        "  check contains  pass  85.0%  error   0.0%",
        "  judge grounded  pass    n/a  error 100.0%",
    ]
    assert headline(summarize(judge_down()), graders=False) == lines[:3]


def test_a_clean_run_shows_its_interval_and_no_warning() -> None:
    records = [judged(f"c{i:02d}", i >= 2, Outcome.PASS) for i in range(20)]
    lines = headline(summarize(records))
    assert lines[0] == (
        "pass rate 90.0% over 20 cases, 95% CI 68.3%–98.8% (Clopper-Pearson on cases); "
        "20 outputs: 18 pass, 2 fail, 0 error (error rate 0.0%)"
    )
    assert not any(line.startswith("WARNING") for line in lines)
