"""The end of ``evalkit ci``: compare the fresh run with the committed baseline, gate, write.

Kept as a library function so the CLI stays thin and tests (and other CI systems) can call it
directly. Outputs in ``out_dir``: ``summary.md`` (the PR comment), ``summary.json`` (machines),
``junit.xml`` (CI test tabs), ``summary.html`` (one self-contained page, a CI artifact). The
markdown is also appended to ``$GITHUB_STEP_SUMMARY`` when set.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from evalkit.analysis.compare import Comparison, RunSummary, compare_runs, summarize_run
from evalkit.analysis.gate import GateResult, evaluate_gate
from evalkit.base.console import make_console
from evalkit.base.files import write_atomic
from evalkit.base.format import pct
from evalkit.model.gate import Gate
from evalkit.report.compare_md import full_markdown, run_markdown
from evalkit.report.compare_terminal import render_comparison, render_run
from evalkit.report.html.compare import compare_html
from evalkit.report.html.run import run_html
from evalkit.report.junit import junit_xml
from evalkit.storage.baseline import baseline_run, get_baseline
from evalkit.storage.store import StoredRun, load_run

if TYPE_CHECKING:
    from evalkit.model.config import ProjectConfig

SUMMARY_MD = "summary.md"
SUMMARY_HTML = "summary.html"
SUMMARY_JSON = "summary.json"
JUNIT_XML = "junit.xml"


def _append_step_summary(markdown: str) -> None:
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if target:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(markdown + "\n")


def _summary(run: StoredRun) -> dict[str, Any]:
    """A run's summary.json as the run would have written it (a run killed before its end)."""
    from evalkit.analysis.summary import summarize

    return summarize(run.records, repeats=int(run.manifest.get("repeats", 1)), run_id=run.run_id)


def verdict_line(suite: str, gate: GateResult, seen: Comparison | RunSummary) -> str:
    """The first line ``evalkit ci`` prints: the verdict and why, readable in a CI log alone."""
    if isinstance(seen, Comparison):
        o = seen.overall
        what = (
            f"pass rate {pct(o.base_rate)} → {pct(o.head_rate)} against baseline "
            f"{seen.base.run_id} ({o.verdict})"
        )
    else:
        what = f"pass rate {pct(seen.pass_rate)}, no baseline"
    line = f"evalkit ci {suite}: gate {'PASSED' if gate.passed else 'FAILED'}: {what}"
    why = "; ".join(r.message for r in gate.failures)
    return f"{line}; failed: {why}" if why else line


def finish_ci(
    head_run_path: Path,
    *,
    project_root: Path,
    suite: str,
    gate: Gate | None,
    out_dir: Path,
    runs_dir: str | Path = "runs",
    cluster_key: str | None = None,
    console: Console | None = None,
) -> int:
    """Compare with the baseline (if any), apply ``gate``, write the outputs; return the exit
    code (0 passed, 1 gate failed). Without a baseline only the gate's thresholds apply."""
    gate = gate or Gate()
    head = load_run(Path(head_run_path))
    pointer = get_baseline(suite, project_root=project_root, runs_dir=runs_dir)
    payload: dict[str, Any] = {
        "suite": suite,
        "head_run": str(head_run_path),
        "baseline": pointer.model_dump() if pointer else None,
    }
    con = console or make_console()
    if pointer is not None:
        base = baseline_run(suite, pointer, project_root=project_root, runs_dir=runs_dir)
        comparison = compare_runs(base, head, cluster_key=cluster_key)
        result = evaluate_gate(comparison, gate)
        markdown = full_markdown(comparison, base, head, Path(project_root), gate=result)
        page = compare_html(comparison, base, head, result)
        payload["comparison"] = comparison.model_dump(mode="json")
        con.print(
            verdict_line(suite, result, comparison), markup=False, highlight=False, soft_wrap=True
        )
        render_comparison(comparison, result, con)
    else:
        comparison = None
        summary = summarize_run(head)
        result = evaluate_gate(summary, gate)
        markdown = run_markdown(summary, result)
        page = run_html(head.manifest, head.summary or _summary(head), head.records)
        payload["run"] = summary.model_dump(mode="json")
        con.print(
            verdict_line(suite, result, summary), markup=False, highlight=False, soft_wrap=True
        )
        render_run(summary, result, con)
    payload["gate"] = {"config": gate.model_dump(mode="json"), **result.model_dump(mode="json")}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / SUMMARY_MD, markdown)
    write_atomic(out / SUMMARY_HTML, page)
    write_atomic(out / SUMMARY_JSON, json.dumps(payload, indent=2, allow_nan=False) + "\n")
    write_atomic(out / JUNIT_XML, junit_xml(head, comparison))
    _append_step_summary(markdown)
    return result.exit_code


def run_ci(
    project: ProjectConfig,
    suite: str | None = None,
    *,
    out_dir: Path = Path("evalkit-out"),
    concurrency: int | None = None,
    use_cache: bool = True,
    stored: str | None = None,
) -> int:
    """``evalkit ci``: run the suite (cached), then :func:`finish_ci`; returns the exit code.
    With ``stored`` (a RUN, e.g. merged shards) that run is gated instead of a new one."""
    from evalkit.api.merge import gateable_run
    from evalkit.api.project import load_suite
    from evalkit.api.run import RunOptions, run_suite

    loaded = load_suite(project, suite)
    if stored is not None:
        path = gateable_run(stored, loaded.name, project.resolve(project.runs_dir))
    else:
        options = RunOptions(concurrency=concurrency, use_cache=use_cache, progress=False)
        path = run_suite(loaded, options).path
    return finish_ci(
        path,
        project_root=project.root,
        suite=loaded.name,
        gate=loaded.config.gate,
        out_dir=out_dir,
        runs_dir=project.runs_dir,
        cluster_key=loaded.config.cluster_key,
    )
