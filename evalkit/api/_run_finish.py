"""A run's end: its summary (fed record by record, or streamed back from ``results.jsonl``) and
the files it leaves, the manifest with its final status, ``summary.json`` and ``report.md``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from evalkit.api._run_loop import RunState
from evalkit.base.exceptions import StorageError
from evalkit.report.runfiles import write_summary_and_report
from evalkit.storage.store import iter_records, now_iso, write_manifest


def run_summary(state: RunState | None, path: Path, figures: dict[str, Any]) -> dict[str, Any]:
    """A fresh run's summary was fed as its records were written; a resumed run's (or one that
    stopped before its loop) is made from its latest records, streamed back from disk."""
    from evalkit.analysis.summary import summarize

    if state is not None and state.summarizer is not None:
        summary = state.summarizer.summary(**figures)
    else:
        summary = summarize(iter_records(path), **figures)
    summary["requests"] = state.requests if state else 0
    return summary


def write_run_files(
    path: Path,
    manifest: dict[str, Any],
    summary: dict[str, Any],
    status: str,
    state: RunState | None,
) -> None:
    """The manifest with the run's final status, then its summary and report. A storage error
    is a warning unless the run completed: the records are safe in results.jsonl, and the run
    shows as abandoned and resumes like any other once its lock is released."""
    manifest.update(status=status, finished_at=now_iso(), records=summary["n"])
    try:
        write_manifest(path, manifest)
        # a large run's records are streamed back from results.jsonl, once
        kept = state.kept if state is not None and state.summarizer is not None else None
        write_summary_and_report(path, manifest, summary, kept)
    except StorageError as exc:
        print(f"warning: {exc}", file=sys.stderr)
        if status == "complete":
            raise
