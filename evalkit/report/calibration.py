"""Calibration for people: rich tables in the terminal, markdown rows for run and compare reports.

The markdown rows render :func:`evalkit.analysis.calibration.status.calibration_section` output.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from evalkit.analysis.calibration.measure import CalibrationResult
from evalkit.analysis.stats.agreement import CalibrationSummary
from evalkit.analysis.stats.correction import RG_MIN_PER_CLASS
from evalkit.analysis.stats.interval import Interval, Proportion
from evalkit.analysis.stats.ppi import PPI_MIN_DISAGREEMENTS, PPI_MIN_LABELS
from evalkit.base.escape import terminal, truncate
from evalkit.base.format import pct


def _shown(text: str) -> str:
    """Labels, critiques and judge reasoning are data: cut, with control sequences inert."""
    return terminal(truncate(text, 2000))


def _pct(x: float | None) -> str:
    return pct(x, "–")


def _num(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}"


def _ci(i: Interval | None, pct: bool = False) -> str:
    if i is None:
        return ""
    f = _pct if pct else _num
    return f" [{f(i.low)} … {f(i.high)}]"


def _prop(p: Proportion | None) -> str:
    return "–" if p is None else f"{_pct(p.estimate)}{_ci(p.interval, True)}"


def _figure_rows(s: CalibrationSummary) -> list[tuple[str, str]]:
    rows = [
        (
            "labels",
            f"{s.n}  (" + ", ".join(f"{k} {v}" for k, v in s.labels_per_class.items()) + ")",
        ),
        ("prevalence (human pass)", _pct(s.prevalence)),
        ("judge pass rate", _pct(s.judge_pass_rate)),
        ("raw agreement", _pct(s.agreement)),
        ("Cohen's kappa [95% bootstrap]", _num(s.kappa) + _ci(s.kappa_interval)),
        ("TPR (human pass → judge pass) [Wilson]", _prop(s.tpr)),
        ("TNR (human fail → judge fail) [Wilson]", _prop(s.tnr)),
        ("coverage (= TNR)", _pct(s.coverage)),
        ("false failure rate (= 1 − TPR)", _pct(s.false_failure_rate)),
        ("alignment (harmonic mean)", _pct(s.alignment)),
    ]
    if s.scale == "likert-5":
        rows += [
            ("quadratic-weighted kappa", _num(s.weighted_kappa) + _ci(s.weighted_kappa_interval)),
            ("Spearman's rho", _num(s.spearman)),
        ]
    return rows


def render_calibration(result: CalibrationResult, console: Console | None = None) -> None:
    """The full calibration report: figures on all labels, dev and holdout, and disagreements."""
    c = console or Console(highlight=False)
    if console is None and not c.is_terminal:
        c.width = 120  # a pipe or a test: wide enough for the disagreements side by side
    c.print(
        f"[bold]Calibration of judge `{result.judge}`[/] version {result.judge_version} "
        f"({result.scale}): {result.n_labels} labelled outputs, {result.n_used} graded, "
        f"{result.n_judge_errors} judge error(s) excluded; "
        f"{result.requests} judge request(s), {result.cached} cached"
    )
    s = result.overall
    cm = s.confusion
    matrix = Table(title="Confusion matrix", title_justify="left")
    for col in ("human ↓  judge →", "judge pass", "judge fail"):
        matrix.add_column(col, justify="right")
    matrix.add_row("human pass", str(cm.tp), str(cm.fn))
    matrix.add_row("human fail", str(cm.fp), str(cm.tn))
    c.print(matrix)
    table = Table(title="Agreement", title_justify="left")
    table.add_column("figure")
    for col in ("all", "dev", "holdout"):
        table.add_column(col, justify="right")
    parts = [_figure_rows(x) for x in (result.overall, result.dev, result.holdout)]
    for (name, a), (_, d), (_, h) in zip(*parts, strict=True):
        table.add_row(name, a, d, h)
    c.print(table)
    for note in [*result.notes, *s.notes]:
        c.print(Text(f"note: {note}", style="dim"))
    for warning in result.warnings:
        c.print(Text(f"warning: {warning}", style="yellow"))
    if result.disagreements:
        dis = Table(
            title=f"Disagreements ({len(result.disagreements)})",
            title_justify="left",
            show_lines=True,
        )
        dis.add_column("case (split): human → judge", overflow="fold", ratio=1)
        dis.add_column("human critique", overflow="fold", ratio=2)
        dis.add_column("judge reasoning", overflow="fold", ratio=2)
        for d in result.disagreements:
            who = f"{d.case_id} ({d.split}): {d.human} → {d.judge}"
            dis.add_row(*(Text(_shown(x)) for x in (who, d.critique or "–", d.reasoning or "–")))
        c.print(dis)
    if result.judge_errors:
        c.print(Text(f"Judge errors ({result.n_judge_errors}):", style="yellow"))
        for e in result.judge_errors:
            c.print(Text(_shown(f"  {e.case_id} ({e.output_sha[:10]}): {e.message}")))
    t = result.thresholds
    needs = (
        f"at least {t.min_per_class} labels per class, kappa ≥ {t.min_kappa}, "
        f"TPR ≥ {t.min_tpr}, TNR ≥ {t.min_tnr}"
    )
    if result.calibrated:
        c.print(Text(f"CALIBRATED: judge {result.judge} meets {needs}.", style="bold green"))
    else:
        c.print(
            Text(
                f"NOT CALIBRATED ({result.state}): "
                + "; ".join(result.reasons)
                + f". Needs {needs}.",
                style="bold red",
            )
        )


def _estimate(d: dict[str, Any] | None) -> str:
    if not d:
        return "–"
    if d.get("estimate") is None:
        reason = d.get("reason") or "no figure"
        return f"unstable: {reason}" if d.get("unstable") else str(reason)
    i = d.get("interval") or {}
    ci = f" ({_pct(i.get('low'))} – {_pct(i.get('high'))})" if i else ""
    return f"{_pct(d['estimate'])}{ci}"


def _esc(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def section_rows(section: dict[str, Any], side: str | None = None) -> list[str]:
    """Markdown table rows of a :func:`~evalkit.analysis.calibration.status.calibration_section`."""
    rows = []
    for name, e in section.items():
        lead = f"| `{name}` |" + (f" {side} |" if side else "")
        rows.append(
            f"{lead} {_pct(e.get('pass_rate'))} | {_esc(str(e.get('detail', e.get('status'))))} "
            f"| {_estimate(e.get('corrected'))} | {_estimate(e.get('ppi'))} |"
        )
    return rows


_COLUMNS = "pass rate | calibration | bias-corrected pass rate (95% CI) | PPI++ (95% CI) |"
_FOOT = (
    "Corrected pass rate: Rogan–Gladen with the judge's TPR/TNR from its human labels, for a "
    f"binary judge with a current calibration of at least {RG_MIN_PER_CLASS} labels per class "
    "(shown whether or not it met the calibration thresholds: showing it only when the same "
    "labels passed would bias it). PPI++: only where at least "
    f"{PPI_MIN_LABELS} labels were drawn at random from this run, {PPI_MIN_DISAGREEMENTS} of "
    "them disagreeing with the judge. Repeats of a case count as "
    "one cluster in both intervals."
)


def section_markdown(section: dict[str, Any] | None) -> list[str]:
    """The "Judge calibration" block of a run report (empty when there is nothing to show)."""
    if not section:
        return []
    return [
        "### Judge calibration",
        "",
        f"| judge | {_COLUMNS}",
        "|---|---:|---|---|---|",
        *section_rows(section),
        "",
        _FOOT,
        "",
    ]


def comparison_section_markdown(calibration: dict[str, dict[str, Any]] | None) -> list[str]:
    """The same block for both runs of a comparison (``{"base": ..., "head": ...}``)."""
    if not calibration or not any(calibration.values()):
        return []
    names = sorted(set(calibration.get("base", {})) | set(calibration.get("head", {})))
    rows: list[str] = []
    for name in names:
        for side in ("base", "head"):
            entry = calibration.get(side, {}).get(name)
            if entry is not None:
                rows += section_rows({name: entry}, side)
    return [
        "### Judge calibration",
        "",
        f"| judge | run | {_COLUMNS}",
        "|---|---|---:|---|---|---|",
        *rows,
        "",
        _FOOT,
        "",
    ]
