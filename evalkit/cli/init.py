"""``evalkit init``."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("init")
@click.argument(
    "directory", required=False, default=".", type=click.Path(file_okay=False, path_type=Path)
)
def command(directory: Path) -> None:
    """Create a small working project in DIRECTORY (default: the current folder).

    It runs offline at once: the target and the judge are scripted models. Existing files are
    never overwritten: if any would be, nothing is written and they are named (exit 2).

    \b
    Example:
      evalkit init my-evals && cd my-evals && evalkit run
    """
    from evalkit.api.init import REAL_MODEL_STEPS, SUITE, init_project

    written = init_project(directory)
    click.echo(f"Created an evalkit project in {directory}/:")
    for rel in written:
        click.echo(f"  {rel}")
    where = "" if directory == Path(".") else f"cd {directory} && "
    click.echo(f"\nIt runs offline now, on scripted models: {where}evalkit run {SUITE}")
    click.echo("To point it at a real model:")
    for step in REAL_MODEL_STEPS:
        click.echo(f"  {step}")
