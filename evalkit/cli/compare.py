"""``evalkit compare BASE HEAD``: paired comparison of two stored runs (exit 0; gating is ci's)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from evalkit.cli._common import F, config_option, runs_root

if TYPE_CHECKING:
    from evalkit.grading.judge import PairwiseResult
    from evalkit.storage.store import StoredRun


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
@config_option
def command(
    base: str,
    head: str,
    runs_dir: Path | None,
    json_path: Path | None,
    md_path: Path | None,
    junit_path: Path | None,
    cluster_key: str | None,
    pairwise_judge: str | None,
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
    """
    from evalkit.analysis.compare import compare_runs
    from evalkit.base.console import make_console
    from evalkit.base.files import write_atomic
    from evalkit.report.compare_terminal import render_comparison
    from evalkit.report.junit import junit_xml
    from evalkit.storage.store import load_run, resolve_run

    runs = runs_dir or runs_root(config_path)
    base_run = load_run(resolve_run(base, runs))
    head_run = load_run(resolve_run(head, runs))
    comparison = compare_runs(base_run, head_run, cluster_key=cluster_key)
    render_comparison(comparison, console=make_console())
    pairwise = (
        _pairwise(pairwise_judge, config_path, base_run, head_run) if pairwise_judge else None
    )
    if json_path:
        # json.dumps, not model_dump_json: it writes a lone surrogate from an output as \ud800
        data = comparison.model_dump(mode="json")
        if pairwise is not None:
            data["pairwise"] = pairwise.model_dump(mode="json")
        write_atomic(json_path, json.dumps(data, indent=2) + "\n")
    if md_path:
        root = config_path.resolve().parent if config_path.exists() else None
        from evalkit.report.compare_md import full_markdown

        write_atomic(md_path, full_markdown(comparison, base_run, head_run, root, pairwise))
    if junit_path:
        write_atomic(junit_path, junit_xml(head_run, comparison))


def _pairwise(name: str, config_path: Path, base: StoredRun, head: StoredRun) -> PairwiseResult:
    """Judge both runs' outputs pairwise (``judges/<name>.yaml``) and print the headline."""
    import asyncio

    from evalkit.base.escape import terminal
    from evalkit.cli._common import load_project
    from evalkit.grading.judge import build_judges, judge_pairs, load_judges
    from evalkit.grading.judge.judge import judge_runtime
    from evalkit.report.pairwise import pairwise_summary_lines
    from evalkit.storage.runcases import run_cases

    project = load_project(config_path)
    definition = load_judges(project, [name], pairwise=True)
    cache, prices, policy = judge_runtime(project, base.suite)
    (judge,) = build_judges(definition, project=project, cache=cache, prices=prices, policy=policy)

    def warn(message: str) -> None:
        click.secho(f"warning: {message}", fg="yellow", err=True)

    cases = run_cases(base, project, warn)

    async def go() -> PairwiseResult:
        try:
            return await judge_pairs(base, head, judge, cases=cases)
        finally:
            await judge.aclose()

    try:
        result = asyncio.run(go())
    finally:
        cache.close()
    click.echo(terminal("\n".join(pairwise_summary_lines(result))))
    return result
