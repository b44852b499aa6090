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
from evalkit.storage.store import (
    MANIFEST,
    StoredRun,
    iter_records,
    read_manifest,
    resolve_run,
)


@dataclass
class RewrittenReport:
    #: the run's path and manifest; its records are streamed, not loaded (``records`` is empty:
    #: :func:`evalkit.storage.store.iter_records` reads them)
    run: StoredRun
    #: the markdown report written to the run's ``report.md``
    markdown: str


def rewrite_report(
    run: str | Path, *, runs_dir: str | Path = "runs", project_root: Path | None = None
) -> RewrittenReport:
    """Re-summarize ``run`` (a directory, a run id or prefix, ``latest``) and re-write its
    summary and report; ``project_root`` lets the report read the judges' calibrations."""
    path = Path(run)
    if not (path / MANIFEST).exists():
        path = resolve_run(str(run), Path(runs_dir))
    # the run's records are streamed from results.jsonl (twice: the summary, then the reports)
    stored = StoredRun(path=path, manifest=read_manifest(path))
    summary = {
        **(stored.summary or {}),  # keeps what only the run itself knew: requests, timings
        **summarize(
            iter_records(path),
            repeats=int(stored.manifest.get("repeats", 1)),
            project_root=project_root,
            run_id=stored.run_id,
            grader_error_warning=(stored.summary or {}).get(
                "grader_error_warning", GRADER_ERROR_WARNING
            ),
        ),
    }
    markdown = write_summary_and_report(stored.path, stored.manifest, summary)
    return RewrittenReport(stored, markdown)
