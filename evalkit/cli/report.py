"""``evalkit report``."""

from __future__ import annotations

from pathlib import Path

import click

from evalkit.cli._common import config_option, runs_root


@click.command("report")
@click.argument("run")
@config_option
@click.option(
    "--html",
    "html_path",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[FILE]",
    help="Print the path of the run's report.html instead of the markdown; with FILE, also "
    "write the page there.",
)
def command(run: str, config_path: Path, html_path: str | None) -> None:
    """Re-write summary.json, report.md and report.html of RUN (a run directory or run id) and
    print the markdown.

    \b
    Example:
      evalkit report 20261123T101500-1a2b3c
      evalkit report 20261123T101500-1a2b3c --html report.html
    """
    from evalkit.api.report import rewrite_report
    from evalkit.base.escape import terminal

    root = config_path.resolve().parent if config_path.exists() else None
    result = rewrite_report(run, runs_dir=runs_root(config_path), project_root=root)
    if html_path is None:
        click.echo(terminal(result.markdown))
        return
    from evalkit.storage.store import REPORT_HTML

    page = result.run.path / REPORT_HTML
    if html_path:
        from evalkit.base.files import write_atomic

        write_atomic(Path(html_path), page.read_text("utf-8"))
        page = Path(html_path)
    click.echo(terminal(f"wrote {page}"))
