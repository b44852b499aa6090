"""``evalkit demo``: the bundled example, offline, on a scripted model (:mod:`evalkit.api.demo`)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("demo")
@click.option(
    "--project",
    "project_dir",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="The example project (default: the current folder if it is one, else ./evalkit-demo).",
)
@click.option("--no-cache", is_flag=True, help="Call the scripted model even for cached cases.")
def command(project_dir: Path | None, no_cache: bool) -> None:
    """Run the bundled support-assistant example on both prompt versions, offline.

    The model and the judges are scripted: a loopback server replays pre-written answers
    through the real Anthropic and OpenAI SDK clients, so no API key or network is needed.

    \b
    Example:
      evalkit demo
    """
    from evalkit.api.demo import run_demo
    from evalkit.api.example import demo_project

    project_dir, copied = demo_project(project_dir)
    if copied:
        click.echo(f"The example project was copied to {project_dir}/ (its runs land there).")
    click.secho(
        "evalkit demo: the model and the judges are SCRIPTED (a local server replaying "
        "pre-written answers through the real Anthropic and OpenAI SDK clients). "
        "No API key, no network.",
        bold=True,
    )
    run_demo(project_dir, use_cache=not no_cache, echo=click.echo)
    click.echo(
        "\nNext: `evalkit runs` lists the history; `evalkit compare BASE HEAD` compares any "
        "two runs; `evalkit label RUN --judge grounded` adds human labels; open the reports "
        "above for the failing cases and their reasons."
    )
