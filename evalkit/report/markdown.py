"""``report.md`` for one run: headline, per-check/judge/tag tables, failing and erroring cases."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from evalkit.analysis.caserates import error_reason, grader_reasons
from evalkit.base.escape import markdown, markdown_code, truncate
from evalkit.base.format import pct as _pct
from evalkit.base.format import usd
from evalkit.model.outcome import Outcome
from evalkit.model.record import CaseRecord
from evalkit.report.headline import headline
from evalkit.report.trajectory_md import TRAJECTORIES_LISTED, trajectory_section

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
            f"| {markdown(name)} | {_pct(r['pass_rate'])} | {r['pass']} | {r['fail']} | "
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
            f"| {markdown(name)} | {_pct(r['pass_rate'])} | {r['pass']} | {r['fail']} | "
            f"{r['error']} | {_pct(r['error_rate'])} | {_pct(r['flip_rate'])} | {r['requests']} | "
            f"{r['tokens']} | {usd(r['cost_usd'])} |"
        )
    return [*out, ""]


def _cell(text: str, limit: int = 160) -> str:
    """Hostile text (outputs, reasons) as one literal table cell, cut to ``limit`` characters."""
    return markdown(truncate(" ".join(text.split()), limit))


def _code(value: Any) -> str:
    return markdown_code(str(value))


def run_report(
    manifest: dict[str, Any], summary: dict[str, Any], records: Iterable[CaseRecord]
) -> str:
    """The markdown report; ``records`` are read once (a stream from disk will do) and only the
    listed failures and errors are kept."""
    return render_report(manifest, summary, Listed.of(records))


class Listed:
    """The records report.md lists (the first failures, errors and trajectories) and how many
    there were, gathered in one pass; :meth:`watch` gathers them from a stream another
    renderer (report.html) is reading, so both reports take one pass over the run."""

    def __init__(self) -> None:
        self.failing = _Capped(_MAX_LISTED)
        self.errored = _Capped(_MAX_LISTED)
        self.conversations = _Capped(TRAJECTORIES_LISTED)

    @classmethod
    def of(cls, records: Iterable[CaseRecord]) -> Listed:
        listed = cls()
        for r in records:
            listed.add(r)
        return listed

    def add(self, r: CaseRecord) -> None:
        if r.outcome is Outcome.FAIL:
            self.failing.add(r)
        # outputs that could not be (fully) graded, including a grader error beside a fail
        if r.outcome is Outcome.ERROR or _grader_errored(r):
            self.errored.add(r)
        if r.trajectory is not None and r.outcome is not Outcome.PASS:
            self.conversations.add(r)

    def watch(self, records: Iterable[CaseRecord]) -> Iterator[CaseRecord]:
        for r in records:
            self.add(r)
            yield r


def render_report(manifest: dict[str, Any], summary: dict[str, Any], listed: Listed) -> str:
    """report.md from the summary and the records it lists."""
    target = manifest.get("target", {})
    label = f" ({markdown(manifest['prompt_label'])})" if manifest.get("prompt_label") else ""
    first, *rest = headline(summary, graders=False)
    lines = [
        f"# evalkit run {_code(manifest.get('run_id'))}: suite {_code(manifest.get('suite'))}",
        "",
        f"**{first[0].upper()}{first[1:]}**",
        "",
        *[
            part
            for line in rest
            for part in (f"> **{line}**" if line.startswith("WARNING") else line, "")
        ],
        f"- prompt version {_code(manifest.get('prompt_version'))}{label}",
        f"- target: {markdown(str(target.get('provider')))} "
        f"{_code(target.get('model') or target.get('callable'))} "
        f"params {markdown(str(target.get('params')))}",
        f"- golden set {_code(manifest.get('golden_path'))} "
        f"(sha {_code(manifest.get('golden_sha'))}), "
        f"{summary['cases']} cases × {summary['repeats']} repeat(s)",
        f"- status: {markdown(str(manifest.get('status')))}; cost {usd(summary['cost_usd'])}; "
        f"tokens {summary['input_tokens']} in / {summary['output_tokens']} out; latency p50 "
        f"{_ms(summary['latency_ms_p50'])}, p95 {_ms(summary['latency_ms_p95'])}",
    ]
    if summary.get("repeats", 1) > 1 and "pass_all_k" in summary:
        lines.append(_pass_k_line(summary))
    if summary.get("truncated"):
        lines.append(
            f"- **truncated: {summary['truncated']} output(s) ({_pct(summary['truncated_rate'])})"
            "** cut off at the token limit (finish reason length / max_tokens); raise "
            "`params.max_tokens` or gate on `max_truncated_rate`"
        )
    lines += [
        "",
        "Pass rates are the mean over graded cases of each case's share of graded repeats that "
        "passed; pass, fail and error count outputs (case × repeat).",
        "",
    ]
    lines += _table("Checks", summary["checks"])
    lines += _judges_table(summary.get("judge_stats") or {}) or _table("Judges", summary["judges"])
    if summary.get("calibration"):
        from evalkit.report.calibration import section_markdown

        lines += section_markdown(summary["calibration"])
    lines += _table("Tags", summary["tags"])
    failing, errored, conversations = listed.failing, listed.errored, listed.conversations
    if failing.total:
        lines += ["### Failing cases", "", "| case | repeat | why |", "|---|---:|---|"]
        for r in failing.first:
            reasons = grader_reasons(r, Outcome.FAIL)
            if r.truncated:
                reasons = ["output truncated at the token limit", *reasons]
            why = "; ".join(reasons)
            lines.append(f"| {_cell(r.case_id)} | {r.repeat} | {_cell(why)} |")
        if failing.more:
            lines.append(f"| … | | {failing.more} more |")
        lines.append("")
    if errored.total:
        lines += [
            "### Outputs that could not be graded",
            "",
            "| case | repeat | outcome | error |",
            "|---|---:|---|---|",
        ]
        for r in errored.first:
            why = _cell(error_reason(r))
            lines.append(f"| {_cell(r.case_id)} | {r.repeat} | {r.outcome.value} | {why} |")
        if errored.more:
            lines.append(f"| … | | | {errored.more} more |")
        lines.append("")
    lines += trajectory_section(conversations.first, conversations.total)
    return "\n".join(lines).rstrip() + "\n"


class _Capped:
    """The first ``cap`` records of a kind, and how many there were: a 100,000-case report lists
    its failures without holding them all."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.first: list[CaseRecord] = []
        self.total = 0

    def add(self, rec: CaseRecord) -> None:
        self.total += 1
        if len(self.first) < self.cap:
            self.first.append(rec)

    @property
    def more(self) -> int:
        return self.total - len(self.first)


def _grader_errored(rec: CaseRecord) -> bool:
    graders = [c.outcome for c in rec.checks] + [j.outcome for j in rec.judges]
    return Outcome.ERROR in graders


def _pass_k_line(summary: dict[str, Any]) -> str:
    """pass^k and pass@k over the cases with k graded repeats, saying how many were left out."""
    k = summary["repeats"]
    excluded = summary.get("pass_k_excluded", 0)
    reasons = summary.get("pass_k_excluded_by_reason") or {}
    why = ", ".join(f"{n} {r}" for r, n in reasons.items() if n)
    left_out = f"; {excluded} case(s) left out ({why})" if excluded else ""
    return (
        f"- pass^{k} {_pct(summary['pass_all_k'])}, pass@{k} {_pct(summary['pass_any_k'])}, "
        f"flaky cases {summary['flaky_cases']}, over {summary.get('pass_k_cases', '?')} cases "
        f"with {k} graded repeats{left_out}"
    )


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} ms"
