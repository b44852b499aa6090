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


def test_selection_line_says_what_the_figures_stand_for() -> None:
    from evalkit.report.headline import selection_line

    assert selection_line({}) is None
    sample = {
        "flags": {"sample": 50, "seed": 7},
        "selected": 50,
        "total": 1000,
        "population": 1000,
    }
    line = selection_line({"selection": sample})
    assert line == (
        "sample of 50 of 1000 cases (stratified by tag, seed 7; --sample 50 --seed 7): these "
        "figures estimate the full suite, they are not its measured values"
    )
    tagged = {**sample, "flags": {"tag": ["a"], "sample": 5, "seed": 0}, "population": 80}
    assert "estimate the 80 cases selected" in (selection_line({"selection": tagged}) or "")
    shard = {"flags": {"shard": "2/4"}, "selected": 240, "total": 1000}
    assert selection_line({"selection": shard}) == (
        "subset: 240 of 1000 cases (--shard 2/4): these figures describe these cases only"
    )
    # a shard of a sample is a subset of the sample, not an estimate of the suite
    both = {**sample, "flags": {"sample": 50, "seed": 7, "shard": "1/2"}, "selected": 26}
    assert (selection_line({"selection": both}) or "").startswith("subset: 26 of 1000")


def test_the_html_page_shows_the_selection_beside_the_headline() -> None:
    from evalkit.report.html.run import run_page_data

    summary = {
        "pass_rate": 0.5,
        "n": 2,
        "pass": 1,
        "fail": 1,
        "error": 0,
        "error_rate": 0.0,
        "cases": 2,
        "selection": {"flags": {"tag": ["x"]}, "selected": 2, "total": 9},
    }
    data = run_page_data({"run_id": "r", "suite": "s"}, summary, [])
    assert any("subset: 2 of 9 cases (--tag x)" in w for w in data["warnings"])
