"""``evalkit runs``: history per suite and prompt version."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import click

from evalkit.base.format import pct, usd
from evalkit.cli._common import config_option, runs_root


def _resummarized(path: Path, summary: dict[str, Any]) -> dict[str, Any]:
    """A run stored before evalkit 0.2 pooled repeats in its summary's pass rate: recompute its
    rates from its records so every row uses today's one definition."""
    from evalkit.analysis.summary import summarize
    from evalkit.storage.store import load_run

    run = load_run(path)
    repeats = int(run.manifest.get("repeats", 1))
    return {**summary, **summarize(run.records, repeats=repeats)}


@click.command("runs")
@click.argument("suite", required=False)
@config_option
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write SUITE's history as one self-contained HTML page.",
)
def command(suite: str | None, config_path: Path, html_path: Path | None) -> None:
    """List stored runs grouped by suite and prompt version (newest last).

    A run's status is complete, interrupted, aborted, failed, running (a live process is
    writing it) or abandoned (it says running but its writer is gone: resume it).

    \b
    Example:
      evalkit runs
      evalkit runs support
      evalkit runs support --html history.html
    """
    from rich.table import Table

    from evalkit.base.console import make_console
    from evalkit.base.escape import terminal
    from evalkit.storage.runlock import is_live
    from evalkit.storage.store import SUMMARY, iter_run_dirs, read_manifest

    if html_path is not None and not suite:
        raise click.UsageError("--html needs a SUITE: the page is one suite's history")
    root = runs_root(config_path)
    groups: dict[tuple[str, str], list[tuple[dict[str, Any], dict[str, Any]]]] = defaultdict(list)
    for path in iter_run_dirs(root):
        manifest = read_manifest(path)
        if suite and manifest.get("suite") != suite:
            continue
        if manifest.get("status") == "running" and not is_live(path):
            # nobody holds its lock: the writer died (kill -9, power loss); --resume finishes it
            manifest["status"] = "abandoned"
        summary_path = path / SUMMARY
        summary = json.loads(summary_path.read_text("utf-8")) if summary_path.exists() else {}
        if summary and "pass_rate_definition" not in summary:
            summary = _resummarized(path, summary)
        groups[(manifest.get("suite", "?"), manifest.get("prompt_version", "?"))].append(
            (manifest, summary)
        )
    if html_path is not None and suite:
        _write_history(
            html_path, suite, config_path, [row for rows in groups.values() for row in rows]
        )
    if not groups:
        click.echo(f"no runs under {root}")
        return
    console = make_console(min_width=110)
    for (suite_name, version), rows in sorted(groups.items(), key=lambda kv: kv[1][0][0]["run_id"]):
        label = rows[0][0].get("prompt_label")
        title = f"{suite_name} · prompt {version}" + (f" ({label})" if label else "")
        table = Table(
            title=terminal(title, markup=True),
            title_justify="left",
        )
        for col in ("run", "started", "status", "model", "cases", "pass", "error", "cost", "notes"):
            table.add_column(
                col,
                no_wrap=True,
                justify="left" if col in ("run", "started", "status", "model") else "right",
            )
        for manifest, summary in rows:
            warnings = len(summary.get("warnings") or [])
            table.add_row(
                terminal(str(manifest["run_id"]), markup=True),
                str(manifest.get("started_at", ""))[5:16].replace("T", " "),
                terminal(str(manifest.get("status", "?")), markup=True),
                terminal(str(manifest.get("target", {}).get("model") or "-"), markup=True),
                str(summary.get("cases", "-")),
                pct(summary.get("pass_rate")),
                pct(summary.get("error_rate")),
                usd(summary.get("cost_usd")),
                f"{warnings} warning(s)" if warnings else "",
            )
        console.print(table)


def _write_history(
    html_path: Path,
    suite: str,
    config_path: Path,
    rows: list[tuple[dict[str, Any], dict[str, Any]]],
) -> None:
    """The suite's history page, the committed baseline marked (when there is a project)."""
    from evalkit.base.files import write_atomic
    from evalkit.cli._common import load_project
    from evalkit.report.html.history import history_html
    from evalkit.storage.baseline import get_baseline

    baseline = None
    if config_path.exists():
        project = load_project(config_path)
        pointer = get_baseline(suite, project_root=project.root, runs_dir=project.runs_dir)
        baseline = pointer.run_id if pointer else None
    write_atomic(html_path, history_html(suite, rows, baseline))
    click.echo(f"wrote {html_path}")
