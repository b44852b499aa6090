"""The report job: summarize a stored run again and re-write its ``summary.json`` and report.

Useful after an upgrade of evalkit (new figures), or to print a run's report; ``evalkit report``
is a thin layer over :func:`rewrite_report`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from evalkit.analysis.summary import summarize
from evalkit.model.outcome import GRADER_ERROR_WARNING
from evalkit.report.runfiles import write_summary_and_report
from evalkit.storage.store import StoredRun, load_run


@dataclass
class RewrittenReport:
    run: StoredRun
    #: the markdown report written to the run's ``report.md``
    markdown: str


def rewrite_report(
    run: str | Path, *, runs_dir: str | Path = "runs", project_root: Path | None = None
) -> RewrittenReport:
    """Re-summarize ``run`` (a directory, a run id or prefix, ``latest``) and re-write its
    summary and report; ``project_root`` lets the report read the judges' calibrations."""
    stored = load_run(run, runs_dir=runs_dir)
    summary = {
        **(stored.summary or {}),  # keeps what only the run itself knew: requests, timings
        **summarize(
            stored.records,
            repeats=int(stored.manifest.get("repeats", 1)),
            project_root=project_root,
            run_id=stored.run_id,
            grader_error_warning=(stored.summary or {}).get(
                "grader_error_warning", GRADER_ERROR_WARNING
            ),
        ),
    }
    markdown = write_summary_and_report(stored.path, stored.manifest, summary, stored.records)
    return RewrittenReport(stored, markdown)
