"""The terminal form of a comparison: verdicts, Holm marks, no figures where no test is valid."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from evalkit.analysis.compare import Comparison, compare_runs
from evalkit.analysis.gate import evaluate_gate
from evalkit.analysis.synthetic import example_pair, random_records, write_run
from evalkit.model.gate import Gate
from evalkit.report.compare_terminal import render_comparison
from evalkit.storage.store import load_run


def _rows(comparison: Comparison) -> tuple[str, dict[str, str]]:
    console = Console(record=True, width=160)
    render_comparison(comparison, evaluate_gate(comparison, Gate()), console)
    text = console.export_text()
    return text, {line.split("│")[1].strip(): line for line in text.splitlines() if "│" in line}


def test_terminal_marks_holm_rows(tmp_path: Path) -> None:
    base = load_run(write_run(tmp_path, random_records(80, 2, pass_prob=0.9, seed=1), run_id="b"))
    head = load_run(write_run(tmp_path, random_records(80, 2, pass_prob=0.6, seed=2), run_id="h"))
    comparison = compare_runs(base, head)
    text, lines = _rows(comparison)
    assert "(Holm)" in lines["check check-0"] and "(Holm)" not in lines["overall"]
    o = comparison.overall
    assert o.ci_low is not None and o.ci_high is not None
    assert f"{100 * o.ci_low:+.1f} … {100 * o.ci_high:+.1f}" in lines["overall"]
    assert "one paired test per row" in text


def test_terminal_hides_invalid_figures(tmp_path: Path) -> None:
    b, h = example_pair(tmp_path)
    text, lines = _rows(compare_runs(load_run(b), load_run(h)))
    refunds = lines["tag refunds"]  # 5 paired cases: no interval, no p-value
    assert "insufficient data" in refunds and "…" not in refunds
    overall = lines["overall"]  # 10 paired cases, 3 changed: a verdict, no interval
    assert "underpowered (~236 cases)" in overall and "…" not in overall
    assert "warning: judge 'grounded' has different versions" in text
