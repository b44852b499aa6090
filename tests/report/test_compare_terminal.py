"""The terminal form of a comparison: verdicts, Holm marks, no figures where no test is valid."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from evalkit.analysis.compare import compare_runs
from evalkit.analysis.gate import evaluate_gate
from evalkit.analysis.synthetic import example_pair
from evalkit.model.gate import Gate
from evalkit.report.compare_terminal import render_comparison
from evalkit.storage.store import load_run


def test_terminal_marks_holm_rows_and_hides_invalid_figures(tmp_path: Path) -> None:
    b, h = example_pair(tmp_path)
    comparison = compare_runs(load_run(b), load_run(h))
    console = Console(record=True, width=160)
    render_comparison(comparison, evaluate_gate(comparison, Gate()), console)
    text = console.export_text()
    lines = {line.split("│")[1].strip(): line for line in text.splitlines() if "│" in line}
    assert "(Holm)" in lines["check contains"] and "(Holm)" not in lines["overall"]
    o = comparison.overall
    assert f"{100 * o.ci_low:+.1f} … {100 * o.ci_high:+.1f}" in lines["overall"]
    refunds = lines["tag refunds"]  # 5 paired cases: no interval, no p-value
    assert "insufficient data" in refunds and "…" not in refunds
    assert "warning: judge 'grounded' has different versions" in text
    assert "one paired test per row" in text
