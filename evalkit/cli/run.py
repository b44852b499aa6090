"""``evalkit run``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from evalkit.base.format import pct, usd
from evalkit.cli._batch import batch_options
from evalkit.cli._common import config_option, load_project
from evalkit.cli._select import selection_from_flags, selection_options
from evalkit.report.headline import headline


@click.command("run")
@click.argument("suite", required=False)
@config_option
@click.option("--concurrency", "-j", type=click.IntRange(1, 1000), help="Parallel requests.")
@click.option("--no-cache", is_flag=True, help="Ignore and do not fill the response cache.")
@click.option(
    "--resume",
    "resume",
    metavar="RUN",
    help="Finish a stopped run: request missing and errored cases again.",
)
@click.option(
    "--prompt",
    "prompt",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Use this prompt file instead of the suite's.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@selection_options
@batch_options("the requests")
def command(
    suite: str | None,
    config_path: Path,
    concurrency: int | None,
    no_cache: bool,
    resume: str | None,
    prompt: Path | None,
    quiet: bool,
    batch: bool,
    batch_poll: float,
    **selection: Any,
) -> None:
    """Run SUITE (every suite when none is named) and store each run under
    runs/<suite>/<prompt-version>/<run-id>/, printing its run id.

    \b
    Examples:
      evalkit run                 # every suite in evalkit.yaml
      evalkit run support
      evalkit run support --prompt prompts/support_v2.yaml -j 32
      evalkit run --resume 20261123T101500-1a2b3c
      evalkit run support --tag refunds --sample 50 --seed 7
      evalkit run support --shard 2/4   # then: evalkit merge RUN1 RUN2 RUN3 RUN4
      evalkit run support --batch       # Message Batches; stop and --resume at will
    """
    from evalkit.api.project import suites_for_run
    from evalkit.api.run import RunOptions, run_suite

    project = load_project(config_path)
    suites, resume_path = suites_for_run(project, suite, prompt=prompt, resume=resume)
    options = RunOptions(
        concurrency=concurrency,
        use_cache=not no_cache,
        resume=resume_path,
        progress=False if quiet else None,
        selection=selection_from_flags(selection, resuming=resume is not None),
        batch=batch,
        batch_poll_s=batch_poll,
    )
    for loaded in suites:
        # Ctrl-C, SIGTERM and a full disk end as RunAborted naming the run to resume (exit 3)
        outcome = run_suite(loaded, options)
        s = outcome.summary
        first, *rest = headline(s)
        click.echo(f"{loaded.name} @ prompt {outcome.path.parent.name}: {first}")
        for line in rest:
            click.echo(line, err=line.startswith("WARNING"))
        click.echo(f"cost {usd(s['cost_usd'])}; {outcome.requests} requests, {s['cached']} cached")
        if s.get("truncated"):
            click.secho(
                f"warning: {s['truncated']} output(s) ({pct(s['truncated_rate'])}) were "
                "truncated at the token limit; raise params.max_tokens",
                fg="yellow",
                err=True,
            )
        click.echo(f"run id: {outcome.path.name}")
        click.echo(f"report: {outcome.path / 'report.md'}")
