"""``evalkit merge RUN…``: join shard runs into one run."""

from __future__ import annotations

from pathlib import Path

import click

from evalkit.cli._common import config_option, runs_root


@click.command("merge")
@click.argument("runs", nargs=-1, required=True)
@config_option
def command(runs: tuple[str, ...], config_path: Path) -> None:
    """Join the shard runs RUNS (made with `evalkit run --shard I/N`) into one run, identical in
    records and summary to a run made without --shard, and print its run id.

    Every shard 1..N must be given once, complete, and of the same suite, prompt version,
    golden set, target and judges; otherwise nothing is written (exit 2).

    \b
    Example:
      evalkit run support --shard 1/2 && evalkit run support --shard 2/2
      evalkit merge 20261203T0901-aaaaaa 20261203T0902-bbbbbb
    """
    from evalkit.api.merge import merge_runs
    from evalkit.report.headline import headline

    root = config_path.resolve().parent if config_path.exists() else None
    merged = merge_runs(list(runs), runs_dir=runs_root(config_path), project_root=root)
    first, *rest = headline(merged.summary)
    click.echo(f"merged {merged.shards} shards: {first}")
    for line in rest:
        click.echo(line, err=line.startswith("WARNING"))
    click.echo(f"run id: {merged.run_id}")
    click.echo(f"report: {merged.path / 'report.md'}")
