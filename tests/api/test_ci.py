"""``evalkit ci`` against a baseline: the head run's grader warnings are printed as ``run``
prints them, in the terminal and in summary.md (not only compare's own warnings)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from evalkit.analysis.gate import Gate
from evalkit.analysis.synthetic import write_run
from evalkit.api.ci import finish_ci
from evalkit.model.outcome import CheckResult, Outcome
from evalkit.model.record import CaseRecord, ErrorInfo, JudgeVerdict
from evalkit.storage.baseline import set_baseline
from evalkit.storage.store import load_run


def judged_records(n: int, judge_errors: int) -> list[CaseRecord]:
    """``n`` outputs whose check passes; the judge errors on the first ``judge_errors``."""
    out = []
    for i in range(n):
        errored = i < judge_errors
        verdict = JudgeVerdict(
            name="grounded",
            version="j",
            outcome=Outcome.ERROR if errored else Outcome.PASS,
            error=ErrorInfo(kind="parse", message="no verdict tag") if errored else None,
        )
        out.append(
            CaseRecord(
                case_id=f"c{i:02d}",
                outcome=Outcome.ERROR if errored else Outcome.PASS,
                output="x",
                checks=[CheckResult.passed("contains")],
                judges=[verdict],
            )
        )
    return out


def test_ci_prints_the_head_runs_grader_warnings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    runs = tmp_path / "runs"
    base = write_run(runs, judged_records(12, 0), run_id="base")
    head = write_run(runs, judged_records(12, 9), run_id="head")
    set_baseline(load_run(base), project_root=tmp_path)
    console = Console(record=True, width=200)
    out = tmp_path / "out"
    finish_ci(
        head, project_root=tmp_path, suite="support", gate=Gate(), out_dir=out, console=console
    )
    judge_warning = "judge 'grounded' could not grade 9 of 12 outputs (75.0%, above 20%)"
    most = "most outputs could not be graded (9 of 12)"
    text = console.export_text()
    assert f"WARNING: head run: {judge_warning}" in text
    assert f"WARNING: head run: {most}" in text
    md = (out / "summary.md").read_text()
    assert f"> ⚠️ **head run:** {judge_warning}" in md
    assert f"> ⚠️ **head run:** {most}" in md
    # the base's judge never errored: nothing is said about it
    finish_ci(base, project_root=tmp_path, suite="support", gate=Gate(), out_dir=out)
    assert "head run:" not in (out / "summary.md").read_text()
