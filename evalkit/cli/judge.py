"""``evalkit judge RUN``: re-judge a stored run's outputs with the current judges."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from evalkit.base.format import pct, usd
from evalkit.cli._common import config_option, load_project


@click.command("judge")
@click.argument("run")
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
def command(
    run: str,
    names: tuple[str, ...],
    config_path: Path,
    script: Path | None,
    wire: str | None,
    no_cache: bool,
    concurrency: int | None,
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
    """
    from evalkit.api.judge import rejudge_run
    from evalkit.grading.judge import (
        build_judges,
        judge_names,
        load_judges,
        self_preference_warning,
    )
    from evalkit.grading.judge.judge import judge_runtime, scripted_override
    from evalkit.model.provider import TargetSpec
    from evalkit.storage.runcases import run_cases
    from evalkit.storage.store import REPORT_MD, SUMMARY, load_run, resolve_run

    project = load_project(config_path)
    path = resolve_run(run, project.resolve(project.runs_dir))
    stored = load_run(path)
    suite_name = stored.suite
    suite = project.suites.get(suite_name)

    def warn(message: str) -> None:
        click.secho(f"warning: {message}", fg="yellow", err=True)

    cases = run_cases(stored, project, warn)
    if names:
        suite_judges = list(names)
        wanted = list(names)
    else:
        suite_judges = (
            list(suite.judges) if suite else list(stored.manifest.get("judge_versions", {}))
        )
        wanted = judge_names(suite_judges, cases.values())
    if not wanted:
        raise click.UsageError(f"suite {suite_name!r} has no judges; name one with --judge")
    defs = load_judges(project, wanted, pairwise=False)
    cache, prices, policy = judge_runtime(project, suite_name, use_cache=not no_cache)
    override = scripted_override(script, wire) if script else None
    judges = build_judges(
        defs, project=project, cache=cache, prices=prices, policy=policy, target_override=override
    )
    target = stored.manifest.get("target") or {}
    target = target if isinstance(target, dict) else {}
    tested = TargetSpec(
        provider=str(target.get("provider") or "?"),
        model=str(target.get("model") or ""),
        base_url=target.get("base_url"),
    )
    warning = self_preference_warning(tested, judges)
    if warning:
        warn(warning)
    try:
        new_path = rejudge_run(
            stored,
            project,
            judges,
            suite_judges=suite_judges,
            cases=cases,
            concurrency=concurrency or (suite.concurrency if suite else 8),
        )
    finally:
        cache.close()
    # the per-judge figures are in the summary just written: no need to re-read every record
    summary = json.loads((new_path / SUMMARY).read_text("utf-8"))
    stats: dict[str, dict[str, Any]] = summary.get("judge_stats", {})
    click.echo(f"re-judged {stored.run_id} → {new_path}")
    for judge in judges:
        s = stats.get(judge.name)
        if s is None:
            click.echo(f"  {judge.name} ({judge.version}): no case to judge")
            continue
        flips = f", flip rate {pct(s['flip_rate'])}" if s["flip_rate"] is not None else ""
        click.echo(
            f"  {judge.name} ({judge.version}): pass rate {pct(s['pass_rate'])}, error rate "
            f"{pct(s['error_rate'])}{flips}; {s['requests']} requests, {s['cached']} cached, "
            f"{usd(s['cost_usd'])}"
        )
    click.echo(f"  report: {new_path / REPORT_MD}")
