"""``evalkit judge RUN``: re-judge a stored run's outputs with the current judges."""

from __future__ import annotations

from pathlib import Path

import click

from evalkit.base.format import pct, usd
from evalkit.cli._batch import batch_options
from evalkit.cli._common import config_option, load_project


@click.command("judge")
@click.argument("run", required=False)
@click.option(
    "--judge",
    "names",
    multiple=True,
    help="Judge to run (repeatable; default: the suite's judges and those cases add).",
)
@config_option
@click.option(
    "--script",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Answer every judge call from this scripted model instead (offline).",
)
@click.option(
    "--wire",
    type=click.Choice(["anthropic", "openai"]),
    default=None,
    help="Wire format of the scripted model (with --script; default: the judge's provider).",
)
@click.option("--no-cache", is_flag=True, help="Ask the judges even for cached verdicts.")
@click.option(
    "--concurrency",
    default=None,
    type=click.IntRange(1),
    help="Cases at once (default: the suite's concurrency).",
)
@batch_options("the judge requests")
@click.option(
    "--resume",
    metavar="RUN",
    help="Finish a stopped re-judge RUN (the new run): re-attach to its batches.",
)
@click.option("--quiet", "-q", is_flag=True, help="No batch progress lines.")
def command(
    run: str | None,
    names: tuple[str, ...],
    config_path: Path,
    script: Path | None,
    wire: str | None,
    no_cache: bool,
    concurrency: int | None,
    batch: bool,
    batch_poll: float,
    resume: str | None,
    quiet: bool,
) -> None:
    """Re-judge RUN's stored outputs without calling the system under test.

    Writes a new run beside RUN (same suite and prompt version) whose manifest says
    `rejudged_from: RUN`: outputs, usage and check results are copied, the verdicts of the
    judges run are replaced. Verdicts are cached, so iterating on one rubric only pays for
    that judge. RUN is a run directory or a run id (a unique prefix is enough).

    \b
    Example:
      evalkit judge 20250101T120000-a1b2c3
      evalkit judge runs/support/3f9a/20250101T120000-a1b2c3 --judge grounded
      evalkit judge 20250101T12 --script scripts/judges.yaml    # offline, scripted judge
      evalkit judge latest --batch          # provider batches; stop and --resume at will
      evalkit judge --resume 20250102T090000-d4e5f6
    """
    import sys

    from evalkit.api.judge import JudgeBatching, judge_run
    from evalkit.storage.store import REPORT_MD

    if (run is None) == (resume is None):
        raise click.UsageError("give RUN to re-judge, or --resume RUN to finish a re-judge")
    batching = None
    if batch or resume:  # a resumed batch re-judge stays one (its manifest says)
        progress = not quiet and sys.stderr.isatty()
        batching = JudgeBatching(poll_s=batch_poll, progress=progress)
    outcome = judge_run(
        load_project(config_path),
        run or "",
        names=names,
        script=script,
        wire=wire,
        use_cache=not no_cache,
        concurrency=concurrency,
        batch=batching,
        resume=resume,
        warn=lambda message: click.secho(f"warning: {message}", fg="yellow", err=True),
    )
    click.echo(f"re-judged {outcome.rejudged_from} → {outcome.path}")
    for name, version in outcome.versions.items():
        s = outcome.stats.get(name)
        if s is None:
            click.echo(f"  {name} ({version}): no case to judge")
            continue
        flips = f", flip rate {pct(s['flip_rate'])}" if s["flip_rate"] is not None else ""
        click.echo(
            f"  {name} ({version}): pass rate {pct(s['pass_rate'])}, error rate "
            f"{pct(s['error_rate'])}{flips}; {s['requests']} requests, {s['cached']} cached, "
            f"{usd(s['cost_usd'])}"
        )
    click.echo(f"  report: {outcome.path / REPORT_MD}")
