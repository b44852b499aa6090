"""Issue 10 point 1: one pass rate in every output. A run whose pooled share of passing outputs
(2 of 4 = 50%) differs from the mean of its cases' pass rates ((1 + 1/2 + 1/2) / 3 = 66.7%) must
show 66.7% in summary.json, report.md, ``evalkit runs``, JUnit, compare and the gate."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from evalkit.analysis.compare import summarize_run
from evalkit.analysis.gate import evaluate_gate
from evalkit.analysis.summary import summarize
from evalkit.analysis.synthetic import write_run
from evalkit.cli import cli
from evalkit.model.gate import Gate
from evalkit.model.outcome import CheckResult, Outcome
from evalkit.model.record import CaseRecord
from evalkit.report.junit import junit_xml
from evalkit.report.runfiles import write_summary_and_report
from evalkit.storage.store import load_run


def _records() -> list[CaseRecord]:
    """a passes once (its second repeat is missing), b and c pass one of two."""
    spec = {"a": [True], "b": [True, False], "c": [False, True]}
    return [
        CaseRecord(
            case_id=case,
            repeat=r,
            outcome=Outcome.PASS if ok else Outcome.FAIL,
            output="x",
            checks=[CheckResult.passed("c") if ok else CheckResult.failed("c", "no")],
        )
        for case, oks in spec.items()
        for r, ok in enumerate(oks)
    ]


@pytest.fixture
def run_path(tmp_path: Path) -> Path:
    (tmp_path / "evalkit.yaml").write_text("suites: {}\n")
    records = _records()
    path = write_run(tmp_path / "runs", records, repeats=2)
    run = load_run(path)
    write_summary_and_report(path, run.manifest, summarize(records, repeats=2), records)
    return path


def test_every_output_shows_the_same_pass_rate(run_path: Path) -> None:
    summary = json.loads((run_path / "summary.json").read_text())
    assert summary["pass_rate"] == pytest.approx(2 / 3)
    assert (summary["pass"], summary["fail"]) == (3, 2)  # pooled would be 3/5 = 60%
    assert "**Pass rate 66.7% over 3 cases" in (run_path / "report.md").read_text()

    run = load_run(run_path)
    assert summarize_run(run).pass_rate == pytest.approx(2 / 3)
    gate = evaluate_gate(run, Gate(min_pass_rate=0.9))
    assert gate.rules[0].message.startswith("pass rate 66.7% over 3 graded cases")
    props = {p.get("name"): p.get("value") for p in ET.fromstring(junit_xml(run)).iter("property")}
    assert props["pass_rate"] == "0.6667" and props["graded_cases"] == "3"

    root = run_path.parents[3]
    out = CliRunner().invoke(cli, ["runs", "-c", str(root / "evalkit.yaml")], terminal_width=200)
    assert out.exit_code == 0, out.output
    assert "66.7%" in out.output and "60.0%" not in out.output


def test_runs_recomputes_a_summary_written_before_the_one_definition(run_path: Path) -> None:
    # an older evalkit pooled records into summary.json's pass rate and had no definition key
    old = {"n": 5, "pass": 3, "fail": 2, "error": 0, "pass_rate": 0.6, "cost_usd": 0.0}
    (run_path / "summary.json").write_text(json.dumps(old))
    root = run_path.parents[3]
    out = CliRunner().invoke(cli, ["runs", "-c", str(root / "evalkit.yaml")], terminal_width=200)
    assert out.exit_code == 0, out.output
    assert "66.7%" in out.output and "60.0%" not in out.output
