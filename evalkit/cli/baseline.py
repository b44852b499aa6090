"""``evalkit baseline``: set and show the committed baseline run of each suite."""

from __future__ import annotations

from pathlib import Path

import click

_RUNS_DIR = click.option(
    "--runs-dir",
    default="runs",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The project's runs folder (baselines live in its baselines/).",
)


@click.group("baseline")
def command() -> None:
    """Manage the baseline runs that `evalkit ci` compares against.

    \b
    Example:
      evalkit baseline set 20250101T120000-a1b2c3
      evalkit baseline show
    """


@command.command("set")
@click.argument("run")
@_RUNS_DIR
def set_(run: str, runs_dir: Path) -> None:
    """Make RUN (a run directory or id) its suite's baseline; commit runs/baselines/.

    \b
    Example:
      evalkit baseline set 20250101T120000-a1b2c3
      git add runs/baselines && git commit -m "evalkit: new baseline"
    """
    from evalkit.baseline import pointer_path, set_baseline
    from evalkit.store import load_run, resolve_run

    stored = load_run(resolve_run(run, runs_dir))
    status = stored.manifest.get("status")
    if status not in (None, "complete", "completed"):
        click.echo(f"warning: run {stored.run_id} has status {status!r}", err=True)
    pointer = set_baseline(stored, project_root=Path.cwd(), runs_dir=runs_dir)
    click.echo(
        f"baseline of {pointer.suite}: {pointer.run_id} (prompt {pointer.prompt_version})"
        f" -> {pointer_path(pointer.suite, Path.cwd(), runs_dir)}"
    )


@command.command("show")
@click.argument("suite", required=False)
@_RUNS_DIR
def show(suite: str | None, runs_dir: Path) -> None:
    """Show the baseline of SUITE, or of every suite.

    \b
    Example:
      evalkit baseline show support
    """
    from evalkit.baseline import get_baseline, list_baselines
    from evalkit.exceptions import InputError

    if suite:
        pointer = get_baseline(suite, project_root=Path.cwd(), runs_dir=runs_dir)
        if pointer is None:
            raise InputError(
                f"no baseline for suite {suite!r}; set one with `evalkit baseline set RUN`",
                field="SUITE",
            )
        pointers = [pointer]
    else:
        pointers = list_baselines(Path.cwd(), runs_dir)
        if not pointers:
            click.echo(f"no baselines under {runs_dir}/baselines")
            return
    for p in pointers:
        label = f" ({p.prompt_label})" if p.prompt_label else ""
        click.echo(
            f"{p.suite}: {p.run_id} prompt {p.prompt_version}{label}, set {p.set_at}, {p.path}"
        )
