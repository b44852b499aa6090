"""Rich tables for ``evalkit compare`` in a terminal: verdict, regressed cases, statistics."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from evalkit.analysis.compare import Comparison, MetricComparison, RunSummary
from evalkit.analysis.gate import GateResult
from evalkit.base.escape import terminal, truncate
from evalkit.report.compare_md import metric_figures, pct, pts, resource

#: a reason or id longer than this is cut in the terminal (the stored record keeps it whole)
_MAX_TEXT = 300


def _safe(text: object) -> str:
    """Hostile text (ids, reasons, messages) for a rich markup string or table cell."""
    return terminal(truncate(str(text), _MAX_TEXT), markup=True)


_STYLE = {"regressed": "bold red", "improved": "green", "inconclusive, underpowered": "yellow"}


def _metrics_table(c: Comparison) -> Table:
    t = Table(title="Pass rates (paired cases)", title_justify="left")
    t.add_column("metric", overflow="fold")
    for col in ("base", "head", "Δ pts", "CI", "p", "n"):
        t.add_column(col, justify="right", no_wrap=True)
    t.add_column("verdict", overflow="fold")
    rows: list[MetricComparison] = [*c.metrics(), *c.tags]
    for m in rows:
        name = "overall" if m.kind == "overall" else f"{m.kind} {_safe(m.name)}"
        verdict: str = m.verdict
        if verdict == "inconclusive, underpowered" and m.cases_needed:
            verdict = f"underpowered (~{m.cases_needed} cases)"
        t.add_row(name, *metric_figures(m), verdict, style=_STYLE.get(m.verdict))
    t.caption = (
        "one paired test per row: CI excludes 0 exactly when p < 0.05; checks/judges and tags "
        "Holm-adjusted (p adjusted, CI at the row's Holm level, at least 95%)"
        + (f"; cluster-robust by {c.cluster_key}" if c.cluster_key else "")
    )
    return t


def _gate_table(gate: GateResult) -> Table:
    t = Table(title="Gate", title_justify="left")
    t.add_column("rule")
    t.add_column("result")
    t.add_column("detail")
    for r in gate.rules:
        t.add_row(
            _safe(r.rule), "[green]pass[/]" if r.passed else "[bold red]FAIL[/]", _safe(r.message)
        )
    return t


def render_comparison(
    c: Comparison,
    gate: GateResult | None = None,
    console: Console | None = None,
    *,
    max_cases: int = 20,
) -> None:
    """Print a comparison: headline, warnings, regressed cases, metric/resource/gate tables."""
    con = console or Console()
    o = c.overall
    con.print(
        f"[bold]{_safe(c.head.suite)}[/]: {_safe(c.base.run_id)} ({_safe(c.base.prompt_version)})"
        f" → {_safe(c.head.run_id)} ({_safe(c.head.prompt_version)}): pass rate "
        f"{pct(o.base_rate)} → "
        f"{pct(o.head_rate)} ({pts(o.diff)} pts) on {o.n} cases: "
        f"[{_STYLE.get(o.verdict, 'bold')}]{o.verdict}[/]"
    )
    for warning in c.head.warnings:  # the head run's own, as `evalkit run` printed them
        con.print(Text(f"WARNING: head run: {warning}", style="bold yellow"))
    for w in c.warnings:
        con.print(f"[yellow]warning:[/] {_safe(w)}")
    regressed = [x for x in c.cases if x.status in ("regressed", "newly erroring", "now failing")]
    if regressed:
        t = Table(title=f"Regressed / erroring / failing ({len(regressed)})", title_justify="left")
        t.add_column("case")
        t.add_column("status")
        t.add_column("why")
        for case in regressed[:max_cases]:
            t.add_row(_safe(case.case_id), case.status, "\n".join(_safe(r) for r in case.reasons))
        if len(regressed) > max_cases:
            t.add_row(f"… {len(regressed) - max_cases} more", "", "")
        con.print(t)
    con.print(_metrics_table(c))
    counts = ", ".join(f"{k} {v}" for k, v in c.status_counts.items() if v)
    con.print(
        f"cases: {counts}; added {len(c.added)}, removed {len(c.removed)}"
        + (f"; clustered by {_safe(c.cluster_key)} ({c.n_clusters})" if c.cluster_key else "")
    )
    res = Table(title="Cost and latency", title_justify="left")
    for col in ("", "base", "head", "Δ"):
        res.add_column(col, justify="right" if col else "left")
    for r in c.resources:
        res.add_row(
            r.name,
            resource(r.base, r.unit),
            resource(r.head, r.unit),
            resource(r.diff, r.unit, sign=True),
        )
    con.print(res)
    if gate is not None:
        con.print(_gate_table(gate))


def render_run(
    s: RunSummary, gate: GateResult | None = None, console: Console | None = None
) -> None:
    """Print a lone run's figures (no baseline) and the gate."""
    con = console or Console()
    con.print(
        f"[bold]{_safe(s.suite)}[/]: {_safe(s.run_id)} ({_safe(s.prompt_version)}): pass rate "
        f"{pct(s.pass_rate)}, error rate {pct(s.error_rate)} over {s.n_cases} cases "
        "(no baseline)"
    )
    for warning in s.warnings:
        con.print(Text(f"WARNING: {warning}", style="bold yellow"))
    if gate is not None:
        con.print(_gate_table(gate))
