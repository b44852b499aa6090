"""Markdown for a comparison, short enough for a pull-request comment.

Order matters on a PR: the verdict first, then what broke (regressed cases with the failing
check names and reasons), then the tables. Secondary tables fold into ``<details>``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.analysis.compare import Comparison, MetricComparison, RunSummary
from evalkit.analysis.gate import GateResult
from evalkit.analysis.stats.paired import MIN_CHANGED, MIN_PAIRS
from evalkit.base.escape import markdown, markdown_code, truncate
from evalkit.base.format import pct as format_pct

if TYPE_CHECKING:
    from evalkit.grading.judge import PairwiseResult
    from evalkit.storage.store import StoredRun

_NOTE_P = (
    "One paired test per row (t on per-case pass rates with Agresti–Min pseudo-pairs{clustered}): "
    "its interval excludes 0 exactly when p < 0.05. Checks and judges (and, separately, tags) "
    "are Holm-adjusted (marked Holm): p is the adjusted p-value and the interval is at the row's "
    "Holm step level, so it is never narrower than 95% and excludes 0 exactly when the adjusted "
    "p < 0.05 (not a simultaneous band for the family). No test below {min_pairs} paired cases, "
    "nor below {min_changed} cases that changed (such a row leaves its Holm family)."
)


# Figure formats shared with the terminal report (evalkit.report.compare_terminal).


def pct(x: float | None) -> str:
    """A rate as a percentage, ``–`` when unknown."""
    return format_pct(x, "–")


def pts(x: float | None) -> str:
    """A rate difference in signed percentage points, ``–`` when unknown."""
    return "–" if x is None else f"{100 * x:+.1f}"


def interval(lo: float | None, hi: float | None) -> str:
    """An interval of differences in points, ``–`` when either end is unknown."""
    return "–" if lo is None or hi is None else f"{pts(lo)} … {pts(hi)}"


def metric_interval(m: MetricComparison) -> str:
    """The metric's interval in points, marked ``(Holm)`` where Holm-adjusted; ``–`` where no
    interval is valid."""
    text = interval(m.ci_low, m.ci_high)
    return f"{text} (Holm)" if m.adjusted and text != "–" else text


def fmt_p(x: float | None) -> str:
    """A p-value to three places (``<0.001`` below that), ``–`` when unknown."""
    if x is None:
        return "–"
    return "<0.001" if x < 0.001 else f"{x:.3f}"


def _esc(text: str, limit: int = 300) -> str:
    """Hostile text (reasons, messages, ids) as literal inline markdown, cut to ``limit``."""
    return markdown(truncate(text, limit))


def _run_label(s: RunSummary) -> str:
    label = f' "{_esc(s.prompt_label)}"' if s.prompt_label else ""
    return f"{markdown_code(s.run_id)} (prompt {_esc(s.prompt_version)}{label})"


_TABLE_HEAD = "| | Base | Head | Δ pts | 95% CI | p | n | Verdict |"


def metric_figures(m: MetricComparison) -> list[str]:
    """Base, head, difference, interval, p and n of one metric, as every medium shows them."""
    return [
        pct(m.base_rate),
        pct(m.head_rate),
        pts(m.diff),
        metric_interval(m),
        fmt_p(m.p),
        str(m.n),
    ]


def verdict_text(m: MetricComparison) -> str:
    """A metric's verdict, with the cases needed when it is underpowered (every medium)."""
    if m.verdict == "inconclusive, underpowered" and m.cases_needed:
        return f"inconclusive, underpowered (~{m.cases_needed} cases needed)"
    return m.verdict


def _headline(suite: str, gate: GateResult | None, verdict: str) -> str:
    if gate is None:
        return f"## evalkit · {_esc(suite)}: {verdict}"
    if gate.passed:
        return f"## ✅ evalkit · {_esc(suite)}: gate passed ({verdict})"
    return f"## ❌ evalkit · {_esc(suite)}: gate failed ({gate.failures[0].rule})"


def _gate_lines(gate: GateResult | None) -> list[str]:
    if gate is None or not gate.rules:
        return []
    out = ["### Gate", "", "| Rule | Result | Detail |", "|---|---|---|"]
    for r in gate.rules:
        out.append(f"| {r.rule} | {'pass' if r.passed else '**FAIL**'} | {_esc(r.message)} |")
    return [*out, ""]


def _metric_row(m: MetricComparison) -> str:
    name = "**overall**" if m.kind == "overall" else f"{m.kind} {markdown_code(m.name)}"
    if m.kind == "tag":
        name = markdown_code(m.name)
    return (
        f"| {name} | {pct(m.base_rate)} | {pct(m.head_rate)} | {pts(m.diff)} "
        f"| {metric_interval(m)} | {fmt_p(m.p)} | {m.n} | {verdict_text(m)} |"
    )


def overall_figures(o: MetricComparison) -> str:
    """The overall interval, p-value and smallest detectable change, in words."""
    if o.ci_low is None or o.mde is None:
        why = o.ci_note or f"fewer than {MIN_PAIRS} paired cases"
        return f": {verdict_text(o)}, no interval or test ({why})"
    return (
        f"; 95% CI {pts(o.ci_low)} to {pts(o.ci_high)} pts, p = {fmt_p(o.p_value)}; smallest "
        f"detectable change at this size {100 * o.mde:.1f} pts"
    )


def _case_lines(c: Comparison, status: str, title: str, max_cases: int) -> list[str]:
    cases = [x for x in c.cases if x.status == status]
    if not cases:
        return []
    out = [f"### {title} ({len(cases)})", ""]
    for case in cases[:max_cases]:
        tags = f" [{_esc(', '.join(case.tags))}]" if case.tags else ""
        why = "; ".join(case.reasons) or "no reason recorded"
        out.append(f"- {markdown_code(truncate(case.case_id, 200))}{tags}: {_esc(why)}")
    if len(cases) > max_cases:
        out.append(f"- … and {len(cases) - max_cases} more (see summary.json)")
    return [*out, ""]


def comparison_markdown(
    c: Comparison,
    gate: GateResult | None = None,
    *,
    max_cases: int = 10,
    calibration: dict[str, dict[str, Any]] | None = None,
) -> str:
    """The PR-comment form of a comparison (and of the gate, when one was applied).

    ``calibration`` (from :func:`evalkit.analysis.calibration.comparison_calibration`) adds each
    judge's
    calibration status and corrected pass rate for both runs.
    """
    o = c.overall
    out = [_headline(c.head.suite, gate, o.verdict), ""]
    out.append(
        f"**Pass rate {pct(o.base_rate)} → {pct(o.head_rate)} ({pts(o.diff)} pts)** on the "
        f"{o.n} cases graded in both runs" + overall_figures(o) + "."
    )
    out.append(
        f"Head alone: {pct(c.head.pass_rate)} over all its graded cases; base alone: "
        f"{pct(c.base.pass_rate)}."
    )
    out += ["", f"Base {_run_label(c.base)} → head {_run_label(c.head)}.", ""]
    if gate is not None and not gate.passed:
        out += [f"- **{r.rule}**: {_esc(r.message)}" for r in gate.failures] + [""]
    # the head run's grader warnings first, as `evalkit run` printed them
    shown = [f"**head run:** {_esc(w)}" for w in c.head.warnings]
    shown += [markdown(truncate(w, 500), code_spans=True) for w in c.warnings]
    out += [f"> ⚠️ {w}" for w in shown] + ([""] if shown else [])
    out += _case_lines(c, "regressed", "Regressed cases", max_cases)
    out += _case_lines(c, "newly erroring", "Newly erroring cases", max_cases)
    out += _case_lines(c, "now failing", "Erroring in base, failing in head", max_cases)
    out += [
        "### Pass rates",
        "",
        _TABLE_HEAD,
        "|---|---|---|---|---|---|---|---|",
        *[_metric_row(m) for m in c.metrics()],
        "",
    ]
    counts = " · ".join(f"{k} {v}" for k, v in c.status_counts.items() if v)
    clustered = (
        f", cluster-robust by {markdown_code(c.cluster_key or '')}, {c.n_clusters} clusters"
        * bool(c.cluster_key)
    )
    out += [
        f"Cases: {counts or 'none'} · added {len(c.added)} · removed {len(c.removed)}. "
        + _NOTE_P.format(clustered=clustered, min_pairs=c.min_pairs, min_changed=MIN_CHANGED),
        "",
    ]
    out += _gate_lines(gate)
    if calibration:
        from evalkit.report.calibration import comparison_section_markdown

        out += comparison_section_markdown(calibration)
    out += ["<details><summary>Tags, cost and latency</summary>", ""]
    if c.tags:
        out += [_TABLE_HEAD.replace("| |", "| Tag |", 1), "|---|---|---|---|---|---|---|---|"]
        out += [_metric_row(m) for m in c.tags]
        out.append("")
    out += ["| | Base | Head | Δ |", "|---|---|---|---|"]
    out += [
        f"| {r.name} | {resource(r.base, r.unit)} | {resource(r.head, r.unit)} "
        f"| {resource(r.diff, r.unit, sign=True)} |"
        for r in c.resources
    ]
    out += ["", "</details>", ""]
    return "\n".join(out)


def full_markdown(
    comparison: Comparison,
    base: StoredRun,
    head: StoredRun,
    project_root: Path | None,
    pairwise: PairwiseResult | None = None,
    gate: GateResult | None = None,
) -> str:
    """The PR-comment markdown of ``evalkit compare`` and ``evalkit ci``: the comparison (and
    gate), the judges' calibration for both runs (with a project), the pairwise verdicts."""
    calibration = None
    # without a judge in either run there is nothing to calibrate: no record need be read
    if project_root is not None and comparison.judges:
        from evalkit.analysis.calibration import comparison_calibration

        calibration = comparison_calibration(
            (base.records, base.run_id), (head.records, head.run_id), project_root
        )
    markdown = comparison_markdown(comparison, gate, calibration=calibration)
    if pairwise is not None:
        from evalkit.report.pairwise import pairwise_markdown

        markdown = markdown.rstrip("\n") + "\n\n" + pairwise_markdown(pairwise)
    return markdown


def resource(value: float | None, unit: str, *, sign: bool = False) -> str:
    """A cost/token/latency/error-rate figure in its unit (also used by the terminal report)."""
    if value is None:
        return "unknown" if unit == "usd" else "–"  # a missing price is not $0
    plus = "+" if sign else ""
    if unit == "rate":
        return f"{100 * value:{plus}.1f}" + (" pts" if sign else "%")
    if unit == "usd":
        return f"{'-' if value < 0 else plus if value > 0 else ''}${abs(value):,.4f}"
    if unit == "ms":
        return f"{value:{plus},.0f} ms"
    return f"{value:{plus},.0f}"


def run_markdown(s: RunSummary, gate: GateResult | None = None) -> str:
    """The form used when there is no baseline to compare with: the run and the thresholds."""
    out = [_headline(s.suite, gate, "no baseline"), ""]
    out.append(
        f"**Pass rate {pct(s.pass_rate)}**, error rate {pct(s.error_rate)} over "
        f"{s.n_cases} cases ({s.n_records} records) of {_run_label(s)}."
    )
    out += ["", *(f"> ⚠️ {_esc(w)}" for w in s.warnings)] if s.warnings else []
    out += [
        "",
        "No baseline to compare with: set one with `evalkit baseline set RUN` and commit "
        "`runs/baselines/`.",
        "",
    ]
    if gate is not None and not gate.passed:
        out += [f"- **{r.rule}**: {_esc(r.message)}" for r in gate.failures] + [""]
    out += _gate_lines(gate)
    if s.tag_pass_rates:
        out += ["| Tag | Pass rate | Cases |", "|---|---|---|"]
        out += [
            f"| {markdown_code(t)} | {pct(r)} | {s.tag_cases.get(t, 0)} |"
            for t, r in s.tag_pass_rates.items()
        ]
        out.append("")
    return "\n".join(out)
