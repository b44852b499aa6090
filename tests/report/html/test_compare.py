"""The comparison page's data: the markdown's own figures, what broke first, both runs'
records for each changed case, the gate when there is one."""

from __future__ import annotations

from pathlib import Path

from evalkit.analysis.compare import compare_runs
from evalkit.analysis.gate import Gate, evaluate_gate
from evalkit.analysis.synthetic import example_pair
from evalkit.report.compare_md import (
    comparison_markdown,
    fmt_p,
    metric_interval,
    overall_figures,
    pct,
    pts,
)
from evalkit.report.html.compare import compare_page_data
from evalkit.storage.store import load_run


def test_figures_order_and_records_of_changed_cases(tmp_path: Path) -> None:
    b, h = example_pair(tmp_path)
    base, head = load_run(b), load_run(h)
    c = compare_runs(base, head)
    data = compare_page_data(c, base, head)
    assert data["verdict"] == c.overall.verdict
    markdown = comparison_markdown(c)
    # the page's summary sentence carries the markdown's own figures
    assert f"{pct(c.overall.base_rate)} → {pct(c.overall.head_rate)}" in data["summary"]
    figures = overall_figures(c.overall)
    assert figures in markdown and data["summary"].endswith(figures)
    assert f"({pts(c.overall.diff)} pts)" in data["summary"]
    for row, m in zip(data["metrics"], c.metrics(), strict=True):
        assert row["texts"][2:5] == [pts(m.diff), metric_interval(m), fmt_p(m.p)]
        assert (row["lo"], row["hi"]) == (m.ci_low, m.ci_high)
    assert len(data["tags"]) == len(c.tags)
    statuses = [x["status"] for x in data["cases"]]
    assert statuses[: statuses.count("regressed")] == ["regressed"] * statuses.count("regressed")
    assert sorted(x["id"] for x in data["cases"]) == sorted(x.case_id for x in c.cases)
    c08 = next(x for x in data["cases"] if x["id"] == "c08")
    assert c08["base"][0]["jd"][0]["reasoning"] == "supported by policy"
    assert c08["head"][0]["jd"][0]["o"] == "fail"
    assert data["gate"] is None
    assert data["tone"] == {"regressed": "bad", "improved": "good"}.get(
        c.overall.verdict, "neutral"
    )


def test_a_failed_gate_leads_the_page(tmp_path: Path) -> None:
    b, h = example_pair(tmp_path)
    base, head = load_run(b), load_run(h)
    c = compare_runs(base, head)
    gate = evaluate_gate(c, Gate(min_pass_rate=0.99))
    data = compare_page_data(c, base, head, gate)
    assert data["tone"] == "bad" and data["verdict"].startswith("gate failed (")
    assert ["min_pass_rate", "FAIL"] in [row[:2] for row in data["gate"]]


def test_the_pairwise_judges_figures_are_the_terminals(tmp_path: Path) -> None:
    from evalkit.grading.judge.pairwise import PairwiseResult
    from evalkit.report.pairwise import pairwise_summary_lines

    b, h = example_pair(tmp_path)
    base, head = load_run(b), load_run(h)
    pairwise = PairwiseResult(
        judge="preference",
        judge_version="p1",
        base_run="run-base",
        head_run="run-head",
        base_label="v1",
        head_label="v2",
        n_matched=11,
        n_judged=10,
        n_errors=1,
        head_wins=6,
        head_losses=3,
        ties=1,
        head_win_rate=0.6,
        head_loss_rate=0.3,
        tie_rate=0.1,
        position_consistency=0.9,
        first_position_preference=0.55,
    )
    data = compare_page_data(compare_runs(base, head), base, head, pairwise=pairwise)
    assert data["pairwise"] == pairwise_summary_lines(pairwise)
    assert "head wins 60.0% (6)" in data["pairwise"][1]
    assert compare_page_data(compare_runs(base, head), base, head)["pairwise"] is None


def test_the_head_runs_grader_warnings_lead_the_page(tmp_path: Path) -> None:
    """As in the terminal and summary.md: a judge that mostly errored in the head run."""
    from evalkit.analysis.synthetic import write_run
    from tests.api.test_ci import judged_records

    base = load_run(write_run(tmp_path, judged_records(12, 0), run_id="b"))
    head = load_run(write_run(tmp_path, judged_records(12, 9), run_id="h"))
    c = compare_runs(base, head)
    data = compare_page_data(c, base, head)
    assert data["warnings"][:2] == [f"head run: {w}" for w in c.head.warnings]
    assert "judge 'grounded' could not grade 9 of 12 outputs" in data["warnings"][0]
