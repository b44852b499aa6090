"""The PR-comment markdown for a fixed pair of runs, compared with an expected file.

Regenerate after an intended change: ``EVALKIT_UPDATE_EXPECTED=1 pytest tests/report``.
"""

from __future__ import annotations

import os
from pathlib import Path

from evalkit._synthetic import example_pair, random_records, write_run
from evalkit.compare import compare_runs, summarize_run
from evalkit.gate import Gate, evaluate_gate
from evalkit.report.compare_md import comparison_markdown, run_markdown
from evalkit.store import load_run

EXPECTED = Path(__file__).resolve().parents[1] / "data" / "compare_expected.md"


def test_markdown_matches_expected_file(tmp_path: Path) -> None:
    b, h = example_pair(tmp_path)
    comparison = compare_runs(load_run(b), load_run(h))
    gate = evaluate_gate(comparison, Gate(min_pass_rate=0.85, fail_on="any-regression"))
    text = comparison_markdown(comparison, gate)
    if os.environ.get("EVALKIT_UPDATE_EXPECTED"):
        EXPECTED.write_text(text, encoding="utf-8")
    assert text == EXPECTED.read_text(encoding="utf-8")


def test_markdown_order_and_length(tmp_path: Path) -> None:
    b, h = example_pair(tmp_path)
    comparison = compare_runs(load_run(b), load_run(h))
    text = comparison_markdown(comparison, evaluate_gate(comparison, Gate()))
    lines = text.splitlines()
    assert lines[0].startswith("## ✅ evalkit · support: gate passed")
    assert text.index("Regressed cases") < text.index("### Pass rates")
    assert len(text) < 5000  # fits a PR comment comfortably


def test_markdown_truncates_long_case_lists(tmp_path: Path) -> None:
    b = load_run(write_run(tmp_path, random_records(300, 2, pass_prob=0.95, seed=1), run_id="b"))
    h = load_run(write_run(tmp_path, random_records(300, 2, pass_prob=0.6, seed=2), run_id="h"))
    text = comparison_markdown(compare_runs(b, h), max_cases=5)
    assert text.startswith("## evalkit · support: regressed")
    assert "more (see summary.json)" in text
    assert text.count("\n- `case-") <= 10


def test_run_markdown_without_baseline(tmp_path: Path) -> None:
    run = load_run(write_run(tmp_path, random_records(20, 1, pass_prob=0.5, seed=0)))
    summary = summarize_run(run)
    text = run_markdown(summary, evaluate_gate(summary, Gate(min_pass_rate=0.99)))
    assert text.startswith("## ❌ evalkit · support: gate failed (min_pass_rate)")
    assert "No baseline" in text and "evalkit baseline set RUN" in text
