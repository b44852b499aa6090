"""A run's derived files: ``summary.json`` and the ``report.md`` and ``report.html`` rendered
from it.

Rendering lives here, above storage: the run directory (:mod:`evalkit.storage.rundir`) only
stores what it is given. The records are read once for both reports, by default streamed from
``results.jsonl`` (:func:`evalkit.storage.store.iter_records`): a 100,000-case run is never held
in memory, and report.html is written piece by piece.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from evalkit.model.record import CaseRecord
from evalkit.report.html.run import run_html_chunks
from evalkit.report.markdown import Listed, render_report
from evalkit.storage.store import REPORT_HTML, REPORT_MD, SUMMARY, iter_records, write_run_file


def write_summary_and_report(
    path: Path,
    manifest: dict[str, Any],
    summary: dict[str, Any],
    records: Iterable[CaseRecord] | None = None,
) -> str:
    """Write ``summary.json``, ``report.html`` and ``report.md``; returns the markdown.

    ``records`` (None: the run's own, streamed from its results.jsonl) are read once: the page
    is written as they come while report.md gathers the few it lists."""
    write_run_file(path / SUMMARY, json.dumps(summary, indent=2, sort_keys=True) + "\n")
    listed = Listed()
    source = iter_records(path) if records is None else records
    write_run_file(path / REPORT_HTML, run_html_chunks(manifest, summary, listed.watch(source)))
    report = render_report(manifest, summary, listed)
    write_run_file(path / REPORT_MD, report)
    return report
