"""``evalkit compare BASE HEAD``: paired comparison of two stored runs (exit 0; gating is ci's)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import click

from evalkit.cli._batch import batch_options
from evalkit.cli._common import F, config_option, load_project


def _output(flag: str, dest: str, what: str) -> Callable[[F], F]:
    return click.option(
        flag, dest, type=click.Path(dir_okay=False, path_type=Path), help=f"Write {what}."
    )


@click.command("compare")
@click.argument("base")
@click.argument("head")
@click.option(
    "--runs-dir",
    default=None,
    show_default="the config's runs_dir, else ./runs",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where run ids are looked up.",
)
@_output("--json", "json_path", "the full comparison as JSON")
@_output("--markdown", "md_path", "the PR-comment markdown")
@_output("--junit", "junit_path", "HEAD as JUnit XML (one test case per case × repeat)")
@_output("--html", "html_path", "a self-contained HTML page (forest plot, outputs side by side)")
@click.option(
    "--cluster-key",
    default=None,
    help="Cases sharing this are not independent (cluster-robust test), e.g. 'tag:doc:'.",
)
@click.option(
    "--pairwise",
    "pairwise_judge",
    metavar="JUDGE",
    help="Also judge each case's two outputs with this pairwise judge, in both orders.",
)
@batch_options("the pairwise judge's requests")
@click.option(
    "--resume",
    is_flag=True,
    help="Finish a stopped `--pairwise JUDGE --batch` of BASE and HEAD: re-attach to its batches.",
)
@click.option("--quiet", "-q", is_flag=True, help="No batch progress lines.")
@config_option
def command(
    base: str,
    head: str,
    runs_dir: Path | None,
    json_path: Path | None,
    md_path: Path | None,
    junit_path: Path | None,
    html_path: Path | None,
    cluster_key: str | None,
    pairwise_judge: str | None,
    batch: bool,
    batch_poll: float,
    resume: bool,
    quiet: bool,
    config_path: Path,
) -> None:
    """Compare HEAD against BASE case by case with paired statistics.

    BASE and HEAD are run directories or run ids (a unique prefix is enough).
    Prints pass rates per check, judge and tag with the paired difference,
    its interval and p-value (one paired test; Holm-adjusted for checks,
    judges and tags), a verdict and the regressed cases.

    \b
    Example:
      evalkit compare 20250101T120000-a1b2c3 20250102T090000-d4e5f6
      evalkit compare runs/support/3f9a/20250101T120000-a1b2c3 d4e5 --markdown pr.md
      evalkit compare a1b2 d4e5 --pairwise preference   # judges/preference.yaml
      evalkit compare a1b2 d4e5 --html compare.html
      evalkit compare a1b2 d4e5 --pairwise preference --batch   # half price; stop at will
      evalkit compare a1b2 d4e5 --pairwise preference --resume  # re-attach to its batches
    """
    import sys

    from evalkit.api.compare import compare
    from evalkit.api.judge import JudgeBatching
    from evalkit.base.console import make_console
    from evalkit.base.escape import terminal
    from evalkit.base.gc import gc_paused
    from evalkit.report.compare_terminal import render_comparison
    from evalkit.report.pairwise import pairwise_summary_lines

    if (batch or resume) and not pairwise_judge:
        raise click.UsageError(
            "--batch and --resume send a pairwise judge's requests: add --pairwise JUDGE"
        )
    batching = None
    if batch or resume:
        batching = JudgeBatching(poll_s=batch_poll, progress=not quiet and sys.stderr.isatty())
    # a pairwise judge is the project's: without the file, loading it says the file is missing
    project = load_project(config_path) if config_path.exists() or pairwise_judge else None
    # a short process whose data (two runs' counts, the changed cases, the pages) lives to its
    # end and makes no cycles: the collector would only walk it again and again (~0.5 s of a
    # 100,000-case compare). Not with a pairwise judge: its SDK calls make cyclic garbage.
    with gc_paused() if pairwise_judge is None else nullcontext():
        result = compare(
            base,
            head,
            project=project,
            runs_dir=runs_dir,  # default: the project's runs_dir, else ./runs
            cluster_key=cluster_key,
            pairwise_judge=pairwise_judge,
            batch=batching,
            resume=resume,
            warn=lambda message: click.secho(f"warning: {message}", fg="yellow", err=True),
        )
        render_comparison(result.comparison, console=make_console())
        if result.pairwise is not None:
            click.echo(terminal("\n".join(pairwise_summary_lines(result.pairwise))))
        result.write(json_path=json_path, markdown=md_path, junit=junit_path, html=html_path)
