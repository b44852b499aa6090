"""Every report renderer given the whole hostile corpus (lone surrogates included) in memory.

The end-to-end test (tests/cli/test_hostile_outputs.py) goes through the server, the SDKs and the
run store; this one feeds the renderers directly, so it also covers text a run cannot store yet
and error outcomes (provider messages, check errors).
"""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from evalkit.analysis.compare import compare_runs
from evalkit.analysis.gate import evaluate_gate
from evalkit.analysis.summary import summarize
from evalkit.model.gate import Gate
from evalkit.model.outcome import CheckResult, Outcome
from evalkit.model.record import CaseRecord, ErrorInfo, JudgeVerdict
from evalkit.report.compare_md import comparison_markdown
from evalkit.report.compare_terminal import render_comparison
from evalkit.report.junit import junit_xml
from evalkit.report.markdown import run_report
from evalkit.storage.store import StoredRun
from tests.hostile import (
    HOSTILE,
    assert_markdown_safe,
    assert_not_whole,
    assert_terminal_safe,
    assert_xml_safe,
)


def _record(name: str, text: str, *, failing: bool) -> CaseRecord:
    outcome = Outcome.FAIL if failing else Outcome.PASS
    if name == "controls" and failing:  # an ungradeable case: a provider error message
        return CaseRecord(
            case_id=f"{name} {text[:20]}",
            outcome=Outcome.ERROR,
            error=ErrorInfo(kind="server", message=text),
            tags=[text[:30]],
        )
    return CaseRecord(
        case_id=f"{name} {text[:20]}",
        tags=[text[:30]],
        outcome=outcome,
        output=text if failing else "ok",
        checks=[CheckResult(name="contains", outcome=outcome, reason=f"no 'ok' in {text!r}")],
        judges=[JudgeVerdict(name="tone", version="j1", outcome=outcome, reasoning=text)],
    )


def _run(tmp_path: Path, run_id: str, failing: bool) -> StoredRun:
    manifest = {"run_id": run_id, "suite": "demo [/INST] <b>", "prompt_version": run_id}
    records = [_record(n, t, failing=failing) for n, t in HOSTILE.items()]
    return StoredRun(path=tmp_path / run_id, manifest=manifest, records=records)


def test_every_renderer_is_inert_on_the_corpus(tmp_path: Path) -> None:
    base, head = _run(tmp_path, "base", False), _run(tmp_path, "head", True)
    comparison = compare_runs(base, head)
    gate = evaluate_gate(comparison, Gate(min_pass_rate=0.9, fail_on="any-regression"))
    assert comparison.status_counts.get("regressed")

    summary = summarize(head.records)
    report = run_report(head.manifest, summary, head.records)
    assert_markdown_safe(report, "report.md")
    assert_not_whole(report, "report.md")

    md = comparison_markdown(comparison, gate)
    assert_markdown_safe(md, "compare markdown")
    assert_not_whole(md, "compare markdown")

    console = Console(file=io.StringIO(), width=160, color_system=None)
    render_comparison(comparison, gate, console)
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert_terminal_safe(shown, "compare terminal")
    assert_not_whole(shown, "compare terminal")
    assert "[/INST]" in shown and "\\ud800" in shown  # shown, made visible, not dropped

    data = junit_xml(head, comparison).encode("utf-8")  # a lone surrogate would fail here
    root = assert_xml_safe(data, "junit")
    assert len(root.findall(".//testcase")) == len(HOSTILE)
    assert (
        len(root.findall(".//error")) == 1 and len(root.findall(".//failure")) == len(HOSTILE) - 1
    )
    assert_not_whole(data.decode("utf-8"), "junit")
