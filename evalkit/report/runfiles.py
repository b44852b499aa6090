"""A run's derived files: ``summary.json`` and the ``report.md`` rendered from it.

Rendering lives here, above storage: the run directory (:mod:`evalkit.storage.rundir`) only
stores what it is given.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evalkit.model.record import CaseRecord
from evalkit.report.markdown import run_report
from evalkit.storage.store import REPORT_MD, SUMMARY, write_run_file


def write_summary_and_report(
    path: Path, manifest: dict[str, Any], summary: dict[str, Any], records: list[CaseRecord]
) -> str:
    """Write ``summary.json`` and ``report.md``; returns the report's markdown."""
    report = run_report(manifest, summary, records)
    write_run_file(path / SUMMARY, json.dumps(summary, indent=2, sort_keys=True) + "\n")
    write_run_file(path / REPORT_MD, report)
    return report
