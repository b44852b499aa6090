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
    from evalkit.api.report import rewrite_report
    from evalkit.base.escape import terminal

    root = config_path.resolve().parent if config_path.exists() else None
    result = rewrite_report(run, runs_dir=runs_root(config_path), project_root=root)
    click.echo(terminal(result.markdown))
