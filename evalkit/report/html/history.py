"""The data of a suite's history page: pass rate per run over time, grouped by prompt version,
with each run's interval from its ``summary.json`` and the committed baseline marked."""

from __future__ import annotations

from typing import Any

from evalkit.base.format import pct, usd
from evalkit.report.html.page import gc_paused, render_page, shown


def _row(manifest: dict[str, Any], summary: dict[str, Any], baseline: str | None) -> dict[str, Any]:
    interval = summary.get("pass_rate_interval") or None
    label = manifest.get("prompt_label")
    return {
        "run": str(manifest.get("run_id")),
        "started": str(manifest.get("started_at") or ""),
        "version": str(manifest.get("prompt_version")),
        "label": label or "",
        "model": str((manifest.get("target") or {}).get("model") or "-"),
        "status": str(manifest.get("status")),
        "cases": summary.get("cases"),
        "rate": summary.get("pass_rate"),
        "lo": interval["low"] if interval else None,
        "hi": interval["high"] if interval else None,
        "texts": [
            pct(summary.get("pass_rate")),
            f"{pct(interval['low'])}–{pct(interval['high'])}"
            if interval
            else f"not shown ({summary.get('pass_rate_interval_note') or 'no summary'})",
            pct(summary.get("error_rate")),
            usd(summary.get("cost_usd")) if summary else "n/a",
        ],
        "baseline": manifest.get("run_id") == baseline,
    }


def history_page_data(
    suite: str, runs: list[tuple[dict[str, Any], dict[str, Any]]], baseline: str | None
) -> dict[str, Any]:
    """Runs of ``suite`` oldest first; ``baseline`` is the run id the committed pointer names."""
    rows = sorted((_row(m, s, baseline) for m, s in runs), key=lambda r: (r["started"], r["run"]))
    versions: dict[str, str] = {}
    for r in rows:
        versions.setdefault(r["version"], r["label"])
    return {
        "title": f"evalkit history · suite {suite}",
        "suite": suite,
        "runs": rows,
        "versions": [[v, label] for v, label in versions.items()],
        "baseline": baseline,
        "baseline_found": any(r["baseline"] for r in rows),
    }


def history_html(
    suite: str, runs: list[tuple[dict[str, Any], dict[str, Any]]], baseline: str | None
) -> str:
    """The history of one suite as one self-contained HTML file."""
    with gc_paused():
        data = shown(history_page_data(suite, runs, baseline))
        return render_page("history", data["title"], data)
