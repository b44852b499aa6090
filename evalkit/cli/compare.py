"""``evalkit compare BASE HEAD``: paired comparison of two stored runs (exit 0; gating is ci's)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("compare")
@click.argument("base")
@click.argument("head")
@click.option(
    "--runs-dir",
    default="runs",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where run ids are looked up.",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the full comparison as JSON.",
)
@click.option(
    "--markdown",
    "md_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the PR-comment markdown.",
)
@click.option(
    "--junit",
    "junit_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write HEAD as JUnit XML (one test case per case × repeat).",
)
@click.option(
    "--cluster-key", default=None, help="Resample clusters, e.g. 'tag:doc:' or 'vars.document'."
)
@click.option(
    "--bootstrap",
    "n_boot",
    default=2000,
    show_default=True,
    type=click.IntRange(0),
    help="Bootstrap resamples.",
)
@click.option("--seed", default=0, show_default=True, type=int, help="Bootstrap seed.")
def command(
    base: str,
    head: str,
    runs_dir: Path,
    json_path: Path | None,
    md_path: Path | None,
    junit_path: Path | None,
    cluster_key: str | None,
    n_boot: int,
    seed: int,
) -> None:
    """Compare HEAD against BASE case by case with paired statistics.

    BASE and HEAD are run directories or run ids (a unique prefix is enough).
    Prints pass rates per check, judge and tag with the paired difference,
    McNemar test, bootstrap interval and the regressed cases.

    \b
    Example:
      evalkit compare 20250101T120000-a1b2c3 20250102T090000-d4e5f6
      evalkit compare runs/support/3f9a/20250101T120000-a1b2c3 d4e5 --markdown pr.md
    """
    from evalkit._files import write_atomic
    from evalkit.compare import compare_runs
    from evalkit.report.compare_md import comparison_markdown
    from evalkit.report.compare_terminal import render_comparison
    from evalkit.report.junit import junit_xml
    from evalkit.store import load_run, resolve_run

    base_run = load_run(resolve_run(base, runs_dir))
    head_run = load_run(resolve_run(head, runs_dir))
    comparison = compare_runs(base_run, head_run, cluster_key=cluster_key, n_boot=n_boot, seed=seed)
    render_comparison(comparison)
    if json_path:
        write_atomic(json_path, comparison.model_dump_json(indent=2) + "\n")
    if md_path:
        write_atomic(md_path, comparison_markdown(comparison))
    if junit_path:
        write_atomic(junit_path, junit_xml(head_run, comparison))
