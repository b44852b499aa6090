"""``evalkit baseline``: set and show the committed baseline run of each suite."""

from __future__ import annotations

from pathlib import Path

import click

from evalkit.cli._common import F, config_option, load_project


def _location(func: F) -> F:
    """``--runs-dir`` and ``--config``: where runs and baselines are, as ``evalkit ci`` sees it."""
    func = click.option(
        "--runs-dir",
        default=None,
        show_default="the config's runs_dir, else ./runs",
        type=click.Path(file_okay=False, path_type=Path),
        help="The project's runs folder (baselines live in its baselines/).",
    )(func)
    return config_option(func)


def _project(config_path: Path, runs_dir: Path | None) -> tuple[Path, Path]:
    """(project root, runs folder): ``--runs-dir`` under the current directory when given, else
    the config's ``runs_dir`` (the folder ``evalkit ci`` reads baselines from), else ./runs."""
    if runs_dir is None and config_path.exists():
        project = load_project(config_path)
        return project.root, project.resolve(project.runs_dir)
    return Path.cwd(), runs_dir or Path("runs")


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
@_location
def set_(run: str, runs_dir: Path | None, config_path: Path) -> None:
    """Make RUN (a run directory or id) its suite's baseline; commit runs/baselines/.

    \b
    Example:
      evalkit baseline set 20250101T120000-a1b2c3
      git add runs/baselines && git commit -m "evalkit: new baseline"
    """
    from evalkit.storage.baseline import pointer_path, set_baseline
    from evalkit.storage.store import load_run, resolve_run

    root, runs = _project(config_path, runs_dir)
    stored = load_run(resolve_run(run, runs))
    status = stored.manifest.get("status")
    if status not in (None, "complete", "completed"):
        click.echo(f"warning: run {stored.run_id} has status {status!r}", err=True)
    pointer = set_baseline(stored, project_root=root, runs_dir=runs)
    click.echo(
        f"baseline of {pointer.suite}: {pointer.run_id} (prompt {pointer.prompt_version})"
        f" -> {pointer_path(pointer.suite, root, runs)}"
    )


@command.command("show")
@click.argument("suite", required=False)
@_location
def show(suite: str | None, runs_dir: Path | None, config_path: Path) -> None:
    """Show the baseline of SUITE, or of every suite.

    \b
    Example:
      evalkit baseline show support
    """
    from evalkit.base.exceptions import InputError
    from evalkit.storage.baseline import get_baseline, list_baselines

    root, runs = _project(config_path, runs_dir)
    if suite:
        pointer = get_baseline(suite, project_root=root, runs_dir=runs)
        if pointer is None:
            raise InputError(
                f"no baseline for suite {suite!r}; set one with `evalkit baseline set RUN`",
                field="SUITE",
            )
        pointers = [pointer]
    else:
        pointers = list_baselines(root, runs)
        if not pointers:
            click.echo(f"no baselines under {runs}/baselines")
            return
    for p in pointers:
        label = f" ({p.prompt_label})" if p.prompt_label else ""
        click.echo(
            f"{p.suite}: {p.run_id} prompt {p.prompt_version}{label}, set {p.set_at}, {p.path}"
        )
