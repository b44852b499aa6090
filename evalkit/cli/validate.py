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

    Reads and renders everything a run would (every case's prompt and check templates, judge
    files, scripted-model scripts, the price table), so whatever `evalkit run` would refuse is
    refused here. Every problem names the file, line and field; each suite reports its first
    problem, and any problem exits with code 2.

    \b
    Example:
      evalkit validate
      evalkit validate support -c path/to/evalkit.yaml
    """
    from evalkit.api.project import load_suite
    from evalkit.base.exceptions import InputError
    from evalkit.base.redact import redact

    project = load_project(config_path)
    names = [suite] if suite else list(project.suites)
    invalid = 0
    for name in names:
        try:
            loaded = load_suite(project, name)
        except InputError as exc:
            invalid += 1
            click.echo(f"error: {redact(str(exc))}", err=True)
            continue
        n_checks = sum(len(pc.checks) for pc in loaded.cases)
        version = loaded.prompt.version if loaded.prompt else "-"
        click.echo(
            f"ok  {name}: {len(loaded.cases)} cases, {n_checks} checks, "
            f"prompt version {version}, {len(loaded.judges)} judges"
        )
    if invalid:
        raise SystemExit(InputError.exit_code)  # each error is printed above
