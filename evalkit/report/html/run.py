"""The data of a run's ``report.html``: headline, rates per check/judge/tag, every record.

Figures come from ``summary.json`` (the same dict report.md is written from) and are formatted
here with :mod:`evalkit.base.format`, so the page shows the very strings the markdown does.
Records are compacted (the system prompt shared by every case is stored once) so that 10,000
cases stay well under 15 MB.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from evalkit.base.format import pct, usd
from evalkit.model.record import CaseRecord, JudgeVerdict
from evalkit.report.case_view import message_text
from evalkit.report.headline import headline
from evalkit.report.html.page import Streamed, gc_paused, page_chunks, shown
from evalkit.report.html.trajectory import trajectory_data


class Texts:
    """Interns long strings repeated across records (prompt messages) into one table."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self._index: dict[str, int] = {}

    def ref(self, text: str) -> int:
        i = self._index.get(text)
        if i is None:
            i = self._index[text] = len(self.items)
            self.items.append(text)
        return i


def _rate_rows(rows: dict[str, dict[str, Any]]) -> list[list[Any]]:
    """[name, pass rate, pass, fail, error, error rate, raw pass rate] per metric."""
    return [
        [
            name,
            pct(r.get("pass_rate")),
            r["pass"],
            r["fail"],
            r["error"],
            pct(r.get("error_rate")),
            r.get("pass_rate"),
        ]
        for name, r in rows.items()
    ]


def _judge(j: JudgeVerdict) -> dict[str, Any]:
    out: dict[str, Any] = {"name": j.name, "o": j.outcome, "reasoning": j.reasoning}
    if j.score is not None:
        out["score"] = j.score
    if j.verdict is not None:
        out["verdict"] = j.verdict
    if j.error is not None:
        out["err"] = f"{j.error.kind}: {j.error.message}"
    if j.flip:
        out["flip"] = True
    out["cost"] = usd(j.cost_usd)
    out["tok"] = [j.usage.input_tokens, j.usage.output_tokens]
    return out


def record_data(r: CaseRecord, texts: Texts) -> dict[str, Any]:
    """One record, compact: short keys, absent fields left out."""
    # an Outcome is a str: JSON writes it as its value (cheaper than .value on 10,000 records)
    out: dict[str, Any] = {"id": r.case_id, "r": r.repeat, "o": r.outcome}
    if r.tags:
        out["tags"] = r.tags
    if r.vars:
        out["vars"] = r.vars
    if r.prompt is not None:
        out["prompt"] = [[str(m.get("role", "?")), texts.ref(message_text(m))] for m in r.prompt]
    if r.output is not None:
        out["out"] = r.output
    if r.trajectory is not None:  # conversation cases only: plain runs keep their size
        out["traj"] = trajectory_data(r.trajectory)
    if r.expected is not None:
        out["exp"] = r.expected
    if r.error is not None:
        status = f" (HTTP {r.error.status})" if r.error.status else ""
        out["err"] = f"{r.error.kind}{status}: {r.error.message}"
    if r.checks:
        out["ch"] = [[c.name, c.outcome, c.reason, c.score] for c in r.checks]
    if r.judges:
        out["jd"] = [_judge(j) for j in r.judges]
    u = r.usage
    out["tok"] = [
        u.input_tokens,
        u.output_tokens,
        u.cache_read_input_tokens,
        u.cache_creation_input_tokens,
    ]
    out["cost"] = r.cost_usd
    if r.latency_ms is not None:
        out["lat"] = round(r.latency_ms, 1)
    if r.finish_reason is not None:
        out["fin"] = r.finish_reason
    if r.truncated:
        out["trunc"] = True
    out["att"] = r.attempts
    if r.cached:
        out["cached"] = True
    if r.score is not None:
        out["score"] = r.score
    return out


def _meta(manifest: dict[str, Any], summary: dict[str, Any]) -> list[list[str]]:
    """Label/value pairs under the headline (the same facts report.md lists)."""
    target = manifest.get("target") or {}
    label = manifest.get("prompt_label")
    lat50, lat95 = summary.get("latency_ms_p50"), summary.get("latency_ms_p95")
    git = manifest.get("git") or {}
    rows = [
        ["prompt version", str(manifest.get("prompt_version")) + (f" ({label})" if label else "")],
        ["target", f"{target.get('provider')} {target.get('model') or target.get('callable')}"],
        ["params", json.dumps(target.get("params"), ensure_ascii=False, default=str)],
        ["golden set", f"{manifest.get('golden_path')} (sha {manifest.get('golden_sha')})"],
        ["cases", f"{summary.get('cases')} × {summary.get('repeats', 1)} repeat(s)"],
        ["status", str(manifest.get("status"))],
        ["cost", f"{usd(summary.get('cost_usd'))} (judges {usd(summary.get('judge_cost_usd'))})"],
        ["tokens", f"{summary.get('input_tokens')} in / {summary.get('output_tokens')} out"],
        ["latency", f"p50 {_ms(lat50)}, p95 {_ms(lat95)}"],
        ["started", f"{manifest.get('started_at')} → {manifest.get('finished_at')}"],
        ["git", f"{git.get('commit') or 'unknown'}{' (dirty)' if git.get('dirty') else ''}"],
    ]
    if summary.get("truncated"):
        rows.append(["truncated", f"{summary['truncated']} ({pct(summary.get('truncated_rate'))})"])
    if summary.get("repeats", 1) > 1 and "pass_all_k" in summary:
        k = summary["repeats"]
        rows.append(
            [
                f"pass^{k} / pass@{k}",
                f"{pct(summary['pass_all_k'])} / {pct(summary['pass_any_k'])}"
                f" over {summary.get('pass_k_cases')} cases; flaky {summary.get('flaky_cases')}",
            ]
        )
    return rows


def _interval(interval: dict[str, Any] | None) -> list[str] | None:
    if not interval:
        return None
    return [pct(interval["low"]), pct(interval["high"]), f"{interval.get('confidence', 0.95):.0%}"]


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} ms"


def _page_head(manifest: dict[str, Any], summary: dict[str, Any]) -> dict[str, Any]:
    """The run page's data except its records (and the texts they refer to)."""
    first, *rest = headline(summary, graders=False)
    interval = summary.get("pass_rate_interval")
    return {
        "title": f"evalkit run {manifest.get('run_id')} · suite {manifest.get('suite')}",
        "headline": first,
        "warnings": [line.removeprefix("WARNING: ") for line in rest],
        "figures": {
            "pass_rate": pct(summary.get("pass_rate")),
            "interval": _interval(interval),
            "interval_note": summary.get("pass_rate_interval_note") or "",
            "error_rate": pct(summary.get("error_rate")),
            "counts": [summary.get("pass", 0), summary.get("fail", 0), summary.get("error", 0)],
        },
        "meta": _meta(manifest, summary),
        "definition": summary.get("pass_rate_definition", ""),
        "checks": _rate_rows(summary.get("checks") or {}),
        "judges": _rate_rows(summary.get("judges") or {}),
        "tags": _rate_rows(summary.get("tags") or {}),
    }


def run_page_data(
    manifest: dict[str, Any], summary: dict[str, Any], records: list[CaseRecord]
) -> dict[str, Any]:
    """Everything the run page shows, already made safe (see :func:`shown`)."""
    texts = Texts()
    data = _page_head(manifest, summary)
    data["records"] = [record_data(r, texts) for r in records]
    data["texts"] = texts.items
    return data


def run_html(manifest: dict[str, Any], summary: dict[str, Any], records: list[CaseRecord]) -> str:
    """``report.html`` of one run."""
    return "".join(run_html_chunks(manifest, summary, records))


def run_html_chunks(
    manifest: dict[str, Any], summary: dict[str, Any], records: Iterable[CaseRecord]
) -> Iterator[str]:
    """``report.html`` of one run piece by piece, ``records`` read once (a stream from disk will
    do): every record is on the page, yet the page is never held whole in memory."""
    texts = Texts()
    data = shown(_page_head(manifest, summary))
    items = (shown(record_data(r, texts)) for r in records)
    streamed = Streamed("records", items, lambda: {"texts": shown(texts.items)})
    with gc_paused():
        yield from page_chunks("run", data["title"], data, streamed)
