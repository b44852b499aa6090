"""The PR-comment markdown for a fixed pair of runs, compared with an expected file.

Regenerate after an intended change: ``EVALKIT_UPDATE_EXPECTED=1 pytest tests/report``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.weightstats import DescrStatsW

from evalkit.analysis.compare import compare_runs, summarize_run
from evalkit.analysis.gate import evaluate_gate
from evalkit.analysis.synthetic import example_pair, random_records, write_run
from evalkit.model.gate import Gate
from evalkit.report.compare_md import comparison_markdown, run_markdown
from evalkit.storage.store import load_run

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


def _independent_rows(base_dir: Path, head_dir: Path) -> dict[str, tuple[float, ...]]:
    """Each metric's Δ, interval and p from the raw results.jsonl, by statsmodels: the weighted
    t-test with Agresti–Min pseudo-pairs, Holm over checks + judges, each interval at its Holm
    step level (where Holm rejected it, or stopped)."""

    def per_case(path: Path) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for line in (path / "results.jsonl").read_text().splitlines():
            rec = json.loads(line)
            row = out.setdefault(rec["case_id"], {})
            if rec["outcome"] != "error":
                row["overall"] = float(rec["outcome"] == "pass")
            for kind, items in (("check", rec["checks"]), ("judge", rec["judges"])):
                for item in items:
                    if item["outcome"] != "error":
                        row[f"{kind} `{item['name']}`"] = float(item["outcome"] == "pass")
        return out

    b, h = per_case(base_dir), per_case(head_dir)
    shared = [c for c in b if c in h]
    tests = {}
    rows: dict[str, tuple[float, ...]] = {}
    for name in ("overall", "check `contains`", "check `max-length`", "judge `grounded`"):
        d = np.array([h[c][name] - b[c][name] for c in shared if name in b[c] and name in h[c]])
        if np.count_nonzero(d) < 5:  # too few changed cases: no interval, no p, no family
            rows["**overall**" if name == "overall" else name] = (d.mean(),)
            continue
        ref = DescrStatsW(np.r_[d, 1.0, -1.0, 0.0], weights=np.r_[np.ones(d.size), 0.5, 0.5, 1.0])
        tests[name] = (d.mean(), ref)
    if "overall" in tests:
        _, p0, _ = tests["overall"][1].ttest_mean(0)
        lo, hi = tests["overall"][1].tconfint_mean(0.05)
        rows["**overall**"] = (tests["overall"][0], lo, hi, p0)
    family = [k for k in tests if k != "overall"]
    if not family:
        return rows
    raw = np.array([tests[k][1].ttest_mean(0)[1] for k in family])
    reject, adjusted, _, _ = multipletests(raw, alpha=0.05, method="holm")
    stop = int(reject.sum()) + 1
    ranks = np.argsort(np.argsort(raw, kind="mergesort"), kind="mergesort") + 1
    for k, rank, p_adj in zip(family, ranks, adjusted, strict=True):
        level = 0.05 / (len(family) - min(rank, stop) + 1)
        lo, hi = tests[k][1].tconfint_mean(level)
        rows[k] = (tests[k][0], lo, hi, p_adj)
    return rows


def test_expected_file_figures_are_independently_computed(tmp_path: Path) -> None:
    """The snapshot's pass-rate table, row by row, against statsmodels on the raw results."""
    b, h = example_pair(tmp_path)
    rows = _independent_rows(b, h)
    table = [
        line.split("|")[1:-1]
        for line in EXPECTED.read_text(encoding="utf-8").splitlines()
        if line.startswith(("| **overall**", "| check `", "| judge `"))
    ]
    assert {cells[0].strip() for cells in table} == set(rows)
    for cells in table:
        row = rows[cells[0].strip()]
        assert cells[3].strip() == f"{100 * row[0]:+.1f}"
        if len(row) == 1:  # fewer than 5 changed cases, counted from the raw results
            assert cells[4].strip() == cells[5].strip() == "–"
            continue
        _, lo, hi, p = row
        interval = cells[4].strip().split(" (")[0]
        assert interval == f"{100 * lo:+.1f} … {100 * hi:+.1f}"
        assert cells[5].strip() == f"{p:.3f}"
