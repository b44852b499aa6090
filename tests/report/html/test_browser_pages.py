"""The comparison and history pages in headless Chromium: the verdict first, one forest-plot
row per paired metric with the markdown's own figures, changed cases side by side with a
word-level diff, the history chart with the baseline marked; no request leaves either page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from evalkit.analysis.compare import Comparison, compare_runs
from evalkit.analysis.synthetic import example_pair, write_run
from evalkit.model.outcome import Outcome
from evalkit.model.record import CaseRecord
from evalkit.report.compare_md import metric_interval, pts
from evalkit.report.html.compare import compare_html
from evalkit.report.html.history import history_html
from evalkit.storage.store import load_run
from tests.report.html.conftest import Opened, conversation, only_the_file


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Comparison]:
    root = tmp_path_factory.mktemp("cmp")
    b, h = example_pair(root)
    base, head = load_run(b), load_run(h)
    comparison = compare_runs(base, head)
    page = root / "compare.html"
    page.write_text(compare_html(comparison, base, head), encoding="utf-8")
    history = root / "history.html"
    runs = [
        (
            base.manifest,
            {
                "pass_rate": 0.8,
                "pass_rate_interval": {"low": 0.5, "high": 0.9},
                "cases": 12,
                "error_rate": 0.0,
                "cost_usd": 0.01,
            },
        ),
        (
            head.manifest,
            {
                "pass_rate": 0.6,
                "pass_rate_interval": None,
                "cases": 12,
                "pass_rate_interval_note": "fewer than 5 graded cases",
            },
        ),
        ({"run_id": "run-x", "prompt_version": "p2", "started_at": "2030"}, {}),
    ]
    history.write_text(history_html("support", runs, "run-base"), encoding="utf-8")
    return page, history, comparison


def test_comparison_verdict_forest_and_side_by_side(
    open_page: Callable[..., Opened], pages: tuple[Path, Path, Comparison]
) -> None:
    page, _, c = pages
    o = open_page(page)
    first = o.page.evaluate("document.querySelector('main').firstElementChild.textContent")
    assert c.overall.verdict in first  # the verdict comes first
    rows = o.page.eval_on_selector_all(
        "tr[data-metric]", "rs => rs.map(r => [...r.cells].map(c => c.textContent))"
    )
    metrics = [*c.metrics(), *c.tags]
    assert len(rows) == len(metrics)
    for row, m in zip(rows, metrics, strict=True):
        assert row[3:5] == [pts(m.diff), metric_interval(m)], row
    # an interval bar where the markdown shows an interval, none where it shows "–"
    bars = o.page.eval_on_selector_all(
        "tr[data-metric]", "rs => rs.map(r => r.querySelectorAll('line.ci').length)"
    )
    assert bars == [3 if m.ci_low is not None else 0 for m in metrics]
    # a regressed case opens with both runs' outputs and judges' reasoning, and a word diff
    o.page.click('details[data-case="c08"] summary')  # the body is drawn on the toggle event
    o.page.wait_for_selector('details[data-case="c08"] .side')
    sides = o.page.eval_on_selector_all(
        'details[data-case="c08"] .side', "ss => ss.map(s => s.textContent)"
    )
    assert len(sides) == 2
    assert "supported by policy" in sides[0]
    assert "claims a 30-day window the policy does not state" in sides[1]
    o.page.click('details[data-case="c07"] summary')
    o.page.wait_for_selector('details[data-case="c07"] pre.diff')
    diff = o.page.eval_on_selector_all(
        'details[data-case="c07"] pre.diff', "ps => ps.map(p => p.textContent)"
    )
    assert diff == ["answer to c07"]  # same output on both sides: no ins/del
    o.page.select_option("#status", "fixed")
    assert o.page.eval_on_selector_all("details.case", "ds => ds.map(d => d.dataset.case)") == [
        x.case_id for x in c.cases if x.status == "fixed"
    ]
    only_the_file(o, page)


def test_word_diff_marks_inserted_and_deleted_words(
    open_page: Callable[..., Opened], pages: tuple[Path, Path, Comparison]
) -> None:
    page, _, _ = pages
    o = open_page(page)
    ops = o.page.evaluate(
        "wordDiff('the quick brown fox jumps', 'the slow brown fox leaps high')"
        ".filter(([op]) => op !== '=').map(([op, w]) => op + w)"
    )
    assert sorted(ops) == sorted(["-quick", "+slow", "-jumps", "+leaps", "+ ", "+high"])
    assert o.page.evaluate("wordDiff('a b', 'a b')") == [["=", "a"], ["=", " "], ["=", "b"]]
    # past the edit budget it says so instead of hanging
    assert o.page.evaluate("wordDiff('a '.repeat(3000), 'b '.repeat(3000), 50)") is None


def test_history_plots_each_run_with_its_interval_and_rings_the_baseline(
    open_page: Callable[..., Opened], pages: tuple[Path, Path, Comparison]
) -> None:
    _, history, _ = pages
    o = open_page(history)
    dots = o.page.eval_on_selector_all("circle[data-run]", "cs => cs.map(c => c.dataset.run)")
    assert dots == ["run-base", "run-head"]  # run-x has no pass rate: listed, not plotted
    assert o.page.locator("circle.baseline").count() == 1
    assert o.page.text_content("#baseline") == "baseline: run run-base"
    table = str(o.page.text_content("main"))
    assert "50.0%–90.0%" in table and "not shown (fewer than 5 graded cases)" in table
    only_the_file(o, history)


def test_both_pages_fit_a_phone_width(
    open_page: Callable[..., Opened], pages: tuple[Path, Path, Comparison]
) -> None:
    page, history, _ = pages
    for path in (page, history):
        o = open_page(path, width=390)
        assert o.page.evaluate("document.documentElement.scrollWidth") <= 390, path.name


def test_a_changed_conversation_case_shows_both_trajectories(
    open_page: Callable[..., Opened], tmp_path: Path
) -> None:
    def runs(outcome: Outcome, tool: str, run_id: str) -> Path:
        plain = [CaseRecord(case_id=f"p{i}", outcome=Outcome.PASS, output="ok") for i in range(3)]
        traj = conversation(tool, "order 7", "shipped")
        agent = CaseRecord(case_id="agent", outcome=outcome, output=traj.final, trajectory=traj)
        return write_run(tmp_path, [agent, *plain], run_id=run_id)

    base, head = (
        load_run(runs(Outcome.PASS, "lookup", "b")),
        load_run(runs(Outcome.FAIL, "<b>x", "h")),
    )
    page = tmp_path / "compare.html"
    page.write_text(compare_html(compare_runs(base, head), base, head), encoding="utf-8")
    o = open_page(page)  # an untagged suite: the page is drawn, without a Tags section
    assert "Tags" not in o.page.eval_on_selector_all("h2", "hs => hs.map(h => h.textContent)")
    o.page.click('details[data-case="agent"] summary')
    o.page.wait_for_selector('details[data-case="agent"] .side .traj')
    sides = o.page.locator('details[data-case="agent"] .side')
    assert [sides.nth(i).locator("code.tool").all_text_contents() for i in range(2)] == [
        ["lookup", "refund"],
        ["<b>x", "refund"],
    ]
    assert sides.nth(1).locator("pre.result").first.text_content() == '{"found": "shipped"}'
    only_the_file(o, page)
