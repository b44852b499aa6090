"""Self-contained HTML reports: one file each, inline CSS/JS, data embedded as JSON."""

from __future__ import annotations

from evalkit.report.html.compare import compare_html
from evalkit.report.html.history import history_html
from evalkit.report.html.run import run_html

__all__ = ["compare_html", "history_html", "run_html"]
