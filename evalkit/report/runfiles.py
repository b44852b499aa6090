"""A run's derived files: ``summary.json`` and the ``report.md`` and ``report.html`` rendered
from it.

Rendering lives here, above storage: the run directory (:mod:`evalkit.storage.rundir`) only
stores what it is given.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evalkit.model.record import CaseRecord
from evalkit.report.html.run import run_html
from evalkit.report.markdown import run_report
from evalkit.storage.store import REPORT_HTML, REPORT_MD, SUMMARY, write_run_file


def write_summary_and_report(
    path: Path, manifest: dict[str, Any], summary: dict[str, Any], records: list[CaseRecord]
) -> str:
    """Write ``summary.json``, ``report.md`` and ``report.html``; returns the markdown."""
    report = run_report(manifest, summary, records)
    write_run_file(path / SUMMARY, json.dumps(summary, indent=2, sort_keys=True) + "\n")
    write_run_file(path / REPORT_MD, report)
    write_run_file(path / REPORT_HTML, run_html(manifest, summary, records))
    return report
