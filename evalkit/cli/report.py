"""``evalkit report``."""

from __future__ import annotations

from pathlib import Path

import click

from evalkit.cli._common import config_option, runs_root


@click.command("report")
@click.argument("run")
@config_option
def command(run: str, config_path: Path) -> None:
    """Re-write and print the markdown report of RUN (a run directory or run id).

    \b
    Example:
      evalkit report 20261123T101500-1a2b3c
    """
    from evalkit.analysis.summary import summarize
    from evalkit.base.escape import terminal
    from evalkit.model.outcome import GRADER_ERROR_WARNING
    from evalkit.report.runfiles import write_summary_and_report
    from evalkit.storage.store import load_run, resolve_run

    path = resolve_run(run, runs_root(config_path))
    stored = load_run(path)
    root = config_path.resolve().parent if config_path.exists() else None
    summary = {
        **(stored.summary or {}),  # keeps what only the run itself knew: requests, timings
        **summarize(
            stored.records,
            repeats=int(stored.manifest.get("repeats", 1)),
            project_root=root,
            run_id=stored.run_id,
            grader_error_warning=(stored.summary or {}).get(
                "grader_error_warning", GRADER_ERROR_WARNING
            ),
        ),
    }
    report = write_summary_and_report(path, stored.manifest, summary, stored.records)
    click.echo(terminal(report))
