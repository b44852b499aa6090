"""``report.md`` for one run: headline, per-check/judge/tag tables, failing and erroring cases."""

from __future__ import annotations

from typing import Any

from evalkit._format import pct as _pct
from evalkit.outcome import Outcome
from evalkit.record import CaseRecord

_MAX_LISTED = 50


def _table(title: str, rows: dict[str, dict[str, Any]]) -> list[str]:
    if not rows:
        return []
    out = [
        f"### {title}",
        "",
        "| name | pass rate | pass | fail | error | error rate |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in rows.items():
        out.append(
            f"| {name} | {_pct(r['pass_rate'])} | {r['pass']} | {r['fail']} | "
            f"{r['error']} | {_pct(r['error_rate'])} |"
        )
    return [*out, ""]


def _judges_table(stats: dict[str, dict[str, Any]]) -> list[str]:
    """Judges with what makes them trustworthy and what they cost, beside their pass rates."""
    if not stats:
        return []
    out = [
        "### Judges",
        "",
        "| judge | pass rate | pass | fail | error | error rate | flip rate | requests | "
        "tokens | cost |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in stats.items():
        out.append(
            f"| {name} | {_pct(r['pass_rate'])} | {r['pass']} | {r['fail']} | {r['error']} | "
            f"{_pct(r['error_rate'])} | {_pct(r['flip_rate'])} | {r['requests']} | "
            f"{r['tokens']} | ${r['cost_usd']:.4f} |"
        )
    return [*out, ""]


def _cell(text: str, limit: int = 160) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def run_report(manifest: dict[str, Any], summary: dict[str, Any], records: list[CaseRecord]) -> str:
    target = manifest.get("target", {})
    label = f" ({manifest['prompt_label']})" if manifest.get("prompt_label") else ""
    lines = [
        f"# evalkit run `{manifest.get('run_id')}`: suite `{manifest.get('suite')}`",
        "",
        f"**Pass rate {_pct(summary['pass_rate'])}** ({summary['pass']} pass, {summary['fail']} "
        f"fail, {summary['error']} error of {summary['n']}; error rate "
        f"{_pct(summary['error_rate'])})",
        "",
        f"- prompt version `{manifest.get('prompt_version')}`{label}",
        f"- target: {target.get('provider')} `{target.get('model') or target.get('callable')}` "
        f"params {target.get('params')}",
        f"- golden set `{manifest.get('golden_path')}` (sha `{manifest.get('golden_sha')}`), "
        f"{summary['cases']} cases × {summary['repeats']} repeat(s)",
        f"- status: {manifest.get('status')}; cost ${summary['cost_usd']:.4f}; tokens "
        f"{summary['input_tokens']} in / {summary['output_tokens']} out; latency p50 "
        f"{_ms(summary['latency_ms_p50'])}, p95 {_ms(summary['latency_ms_p95'])}",
    ]
    if summary.get("pass_all_k") is not None:
        lines.append(
            f"- pass^{summary['repeats']} {_pct(summary['pass_all_k'])}, "
            f"pass@{summary['repeats']} {_pct(summary['pass_any_k'])}, "
            f"flaky cases {summary['flaky_cases']}"
        )
    lines.append("")
    lines += _table("Checks", summary["checks"])
    lines += _judges_table(summary.get("judge_stats") or {}) or _table("Judges", summary["judges"])
    if summary.get("calibration"):
        from evalkit.calibration.report import section_markdown

        lines += section_markdown(summary["calibration"])
    lines += _table("Tags", summary["tags"])
    failing = [r for r in records if r.outcome is Outcome.FAIL]
    if failing:
        lines += ["### Failing cases", "", "| case | repeat | why |", "|---|---:|---|"]
        for r in failing[:_MAX_LISTED]:
            reasons = [f"{c.name}: {c.reason}" for c in r.checks if c.outcome is Outcome.FAIL]
            reasons += [f"{j.name}: {j.reasoning}" for j in r.judges if j.outcome is Outcome.FAIL]
            lines.append(f"| {r.case_id} | {r.repeat} | {_cell('; '.join(reasons))} |")
        if len(failing) > _MAX_LISTED:
            lines.append(f"| … | | {len(failing) - _MAX_LISTED} more |")
        lines.append("")
    errored = [r for r in records if r.outcome is Outcome.ERROR]
    if errored:
        lines += [
            "### Cases that could not be graded",
            "",
            "| case | repeat | error |",
            "|---|---:|---|",
        ]
        for r in errored[:_MAX_LISTED]:
            if r.error is not None:
                why = f"{r.error.kind}: {r.error.message}"
            else:
                why = "; ".join(
                    f"{c.name}: {c.reason}" for c in [*r.checks] if c.outcome is Outcome.ERROR
                )
                why += "; ".join(
                    f"{j.name}: {j.reasoning}" for j in r.judges if j.outcome is Outcome.ERROR
                )
            lines.append(f"| {r.case_id} | {r.repeat} | {_cell(why)} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} ms"
