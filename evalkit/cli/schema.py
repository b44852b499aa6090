"""``evalkit schema``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from evalkit.cli._common import config_option, load_project


@click.command("schema")
@config_option
def command(config_path: Path) -> None:
    """Print the JSON Schema of evalkit.yaml, for editors (YAML language server).

    Check types registered by the project's `plugins:` are included when evalkit.yaml is
    found. Save the schema beside evalkit.yaml and name it on the file's first line.

    \b
    Example:
      evalkit schema > evalkit.schema.json
      # first line of evalkit.yaml:
      # yaml-language-server: $schema=evalkit.schema.json
    """
    from evalkit.base.exceptions import InputError
    from evalkit.report.schema import config_schema

    if config_path.exists():
        try:
            load_project(config_path)  # imports the project's plugins: their check types
        except InputError as exc:
            click.echo(f"note: plugin check types left out: {exc}", err=True)
    click.echo(json.dumps(config_schema(), indent=2, ensure_ascii=False))
