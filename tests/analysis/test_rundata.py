"""RunSummary (what compare, the gate and ``ci`` read): the same warnings as the run headline."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from evalkit.analysis.compare import summarize_run
from evalkit.analysis.gate import evaluate_gate
from evalkit.analysis.rundata import STATUSES, case_statuses
from evalkit.analysis.summary import summarize
from evalkit.analysis.synthetic import write_run
from evalkit.model.gate import Gate
from evalkit.model.outcome import Outcome
from evalkit.report.compare_md import run_markdown
from evalkit.storage.store import SUMMARY, load_run
from tests.analysis.test_summary import judge_down, judged


def test_run_summary_carries_the_grader_warnings(tmp_path: Path) -> None:
    records = judge_down()
    run = summarize_run(load_run(write_run(tmp_path, records)))
    assert run.warnings == summarize(records)["warnings"] and len(run.warnings) == 2
    assert run.n_graded_cases == 3 and run.judge_error_rates == {"grounded": 1.0}
    text = run_markdown(run, evaluate_gate(run, Gate()))
    assert "> ⚠️ judge 'grounded' could not grade 20 of 20 outputs" in text


def test_run_summary_uses_the_threshold_the_run_recorded(tmp_path: Path) -> None:
    # 3 of 20 outputs (15%) not judged: under the default 20%, over a suite's 10%
    records = [
        judged(f"c{i:02d}", True, Outcome.ERROR if i < 3 else Outcome.PASS) for i in range(20)
    ]
    path = write_run(tmp_path, records)
    assert summarize_run(load_run(path)).warnings == []
    stored = summarize(records, grader_error_warning=0.1)
    (path / SUMMARY).write_text(json.dumps(stored))
    assert summarize_run(load_run(path)).warnings == stored["warnings"] != []


def test_each_pair_of_pass_rates_gets_the_status_the_readme_defines() -> None:
    nan = math.nan
    table = {  # (base rate, head rate) -> status; NaN: every repeat errored
        (1.0, 1.0): "unchanged",
        (1.0, 0.5): "regressed",
        (0.5, 0.0): "regressed",
        (0.0, 0.5): "fixed",
        (0.5, 1.0): "fixed",
        (0.5, 0.5): "still failing",
        (0.0, 0.0): "still failing",
        (1.0, nan): "newly erroring",
        (0.0, nan): "newly erroring",
        (nan, nan): "still erroring",
        (nan, 1.0): "recovered",
        (nan, 0.5): "now failing",
        (nan, 0.0): "now failing",
    }
    base = np.array([b for b, _ in table])
    head = np.array([h for _, h in table])
    assert [STATUSES[i] for i in case_statuses(base, head)] == list(table.values())
    assert set(table.values()) == set(STATUSES)
