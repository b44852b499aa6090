"""``evalkit validate``."""

from __future__ import annotations

from pathlib import Path

import click

from evalkit.cli._common import config_option, load_project


@click.command("validate")
@click.argument("suite", required=False)
@config_option
def command(suite: str | None, config_path: Path) -> None:
    """Check config, golden sets, prompts, checks and judges without calling a model.

    Every problem names the file, line and field, and exits with code 2.

    \b
    Example:
      evalkit validate
      evalkit validate support -c path/to/evalkit.yaml
    """
    from evalkit.config import load_suite

    project = load_project(config_path)
    names = [suite] if suite else list(project.suites)
    for name in names:
        loaded = load_suite(project, name)
        n_checks = sum(len(pc.checks) for pc in loaded.cases)
        version = loaded.prompt.version if loaded.prompt else "-"
        click.echo(
            f"ok  {name}: {len(loaded.cases)} cases, {n_checks} checks, "
            f"prompt version {version}, {len(loaded.judges)} judges"
        )
