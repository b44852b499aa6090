"""``evalkit ci``: run (cached), compare with the committed baseline, gate, write summaries."""

from __future__ import annotations

from pathlib import Path

import click

from evalkit.cli._common import config_option, load_project


@click.command("ci")
@click.argument("suite", required=False)
@config_option
@click.option(
    "--out",
    "out_dir",
    default="evalkit-out",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where summary.md, summary.json and junit.xml are written.",
)
@click.option("--concurrency", "-j", type=click.IntRange(1, 1000), help="Parallel requests.")
@click.option("--no-cache", is_flag=True, help="Ignore the response cache.")
@click.option(
    "--run",
    "stored",
    metavar="RUN",
    help="Gate this stored run (e.g. merged shards) instead of running the suite.",
)
def command(
    suite: str | None,
    config_path: Path,
    out_dir: Path,
    concurrency: int | None,
    no_cache: bool,
    stored: str | None,
) -> None:
    """Run SUITE, compare it with its baseline and apply the suite's gate.

    Exits 1 when the gate fails, 3 when the run could not be completed. The markdown summary is
    also appended to $GITHUB_STEP_SUMMARY when that variable is set.

    \b
    Example:
      evalkit baseline set <run-id>      # once, commit runs/baselines/
      evalkit ci support --out evalkit-out
      evalkit merge RUN1 RUN2 && evalkit ci support --run support/latest   # shards
    """
    import sys

    from evalkit.api.ci import run_ci

    project = load_project(config_path)
    code = run_ci(
        project,
        suite,
        out_dir=out_dir,
        concurrency=concurrency,
        use_cache=not no_cache,
        stored=stored,
    )
    sys.exit(code)
