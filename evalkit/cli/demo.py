"""``evalkit demo``: the bundled example, offline, on a scripted model.

It walks the three everyday jobs on the example project: calibrate the ``grounded`` judge
against the shipped human labels, run the suite on both prompt versions (checks and judges),
and compare the two runs with paired statistics and an order-swapped pairwise judge.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from evalkit.base.format import pct
from evalkit.report.headline import pass_rate_line

if TYPE_CHECKING:
    from evalkit.api.run import RunOutcome
    from evalkit.grading.judge.pairwise import PairwiseResult
    from evalkit.model.config import ProjectConfig

DEMO_SUITE = "support"
PROMPTS = ("prompts/support_v1.yaml", "prompts/support_v2.yaml")
SCRIPT = "scripts/support.yaml"
JUDGE_SCRIPT = "scripts/judges.yaml"
CALIBRATED_JUDGE = "grounded"
PAIRWISE_JUDGE = "preference"


@click.command("demo")
@click.option(
    "--project",
    "project_dir",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The example project (the evalkit repository root).",
)
@click.option("--no-cache", is_flag=True, help="Call the scripted model even for cached cases.")
def command(project_dir: Path, no_cache: bool) -> None:
    """Run the bundled support-assistant example on both prompt versions, offline.

    The model and the judges are scripted: a loopback server replays pre-written answers
    through the real Anthropic and OpenAI SDK clients, so no API key or network is needed.

    \b
    Example:
      evalkit demo
    """
    from evalkit.api.project import load_config
    from evalkit.base.exceptions import InputError

    config_path = project_dir / "evalkit.yaml"
    if not (project_dir / SCRIPT).exists() or not config_path.exists():
        raise InputError(
            "the demo runs the example project at the root of the evalkit "
            "repository; run it there or pass --project DIR",
            path=config_path,
        )
    project = load_config(config_path)
    click.secho(
        "evalkit demo: the model and the judges are SCRIPTED (a local server replaying "
        "pre-written answers through the real Anthropic and OpenAI SDK clients). "
        "No API key, no network.",
        bold=True,
    )
    _calibrate(project, use_cache=not no_cache)
    outcomes = [_run(project, prompt, use_cache=not no_cache) for prompt in PROMPTS]
    _compare(project, outcomes[0].path, outcomes[1].path)
    click.echo(
        "\nNext: `evalkit runs` lists the history; `evalkit compare BASE HEAD` compares any "
        "two runs; `evalkit label RUN --judge grounded` adds human labels; open the reports "
        "above for the failing cases and their reasons."
    )


def _calibrate(project: ProjectConfig, *, use_cache: bool) -> None:
    """Job 2 first, so the run reports can say whether the judge is calibrated."""
    from evalkit.analysis.calibration import calibrate
    from evalkit.report.calibration import render_calibration

    click.echo(f"\n▶ calibrate the `{CALIBRATED_JUDGE}` judge against the shipped human labels")
    result = calibrate(
        project,
        CALIBRATED_JUDGE,
        judge_script=project.resolve(JUDGE_SCRIPT),
        use_cache=use_cache,
    )
    render_calibration(result)


def _run(project: ProjectConfig, prompt: str, *, use_cache: bool) -> RunOutcome:
    """Job 1: one regression run, the target and its judges on scripted models."""
    from evalkit.api.project import load_suite
    from evalkit.api.run import RunOptions, run_suite
    from evalkit.grading.judge.judge import scripted_override

    base = load_suite(project, DEMO_SUITE, prompt_override=prompt)
    target = replace(
        base.target, provider="scripted", wire="anthropic", script=str(project.resolve(SCRIPT))
    )
    suite = replace(base, target=target)
    label = suite.prompt.label if suite.prompt else prompt
    version = suite.prompt.version if suite.prompt else "-"
    click.echo(f"\n▶ run `{DEMO_SUITE}` with prompt {label} ({prompt}, version {version})")
    options = RunOptions(
        use_cache=use_cache,
        judge_target_override=scripted_override(project.resolve(JUDGE_SCRIPT)),
    )
    outcome = run_suite(suite, options)
    s = outcome.summary
    click.echo(f"  {pass_rate_line(s)}; {outcome.requests} model requests")
    for name, stats in s.get("judge_stats", {}).items():
        cal = s.get("calibration", {}).get(name, {})
        status = cal.get("status", "uncalibrated")
        corrected = cal.get("corrected") or {}
        extra = ""
        if corrected.get("estimate") is not None:
            ci = corrected["interval"]
            extra = (
                f"; bias-corrected {pct(corrected['estimate'])} "
                f"[{pct(ci['low'])} … {pct(ci['high'])}]"
            )
        click.echo(
            f"  judge {name}: pass rate {pct(stats['pass_rate'])}, error rate "
            f"{pct(stats['error_rate'])} ({status}{extra})"
        )
    click.echo(f"  report: {outcome.path / 'report.md'}")
    return outcome


def _compare(project: ProjectConfig, base_path: Path, head_path: Path) -> None:
    """Job 3: is the new version worse? Paired statistics, then a position-swapped judge."""
    from evalkit.analysis.compare import compare_runs
    from evalkit.base.console import make_console
    from evalkit.base.files import write_atomic
    from evalkit.grading.judge import build_judges, load_judges
    from evalkit.grading.judge.judge import judge_runtime, scripted_override
    from evalkit.grading.judge.pairwise import judge_pairs
    from evalkit.report.compare_md import full_markdown
    from evalkit.report.compare_terminal import render_comparison
    from evalkit.report.pairwise import pairwise_summary_lines
    from evalkit.storage.runcases import run_cases
    from evalkit.storage.store import load_run

    click.echo("\n▶ compare v1 (base) with v2 (head): paired, case by case")
    base, head = load_run(base_path), load_run(head_path)
    comparison = compare_runs(base, head)
    render_comparison(comparison, console=make_console())

    cache, prices, policy = judge_runtime(project, DEMO_SUITE)
    (judge,) = build_judges(
        load_judges(project, [PAIRWISE_JUDGE], pairwise=True),
        project=project,
        cache=cache,
        prices=prices,
        policy=policy,
        target_override=scripted_override(project.resolve(JUDGE_SCRIPT)),
    )

    async def pairs() -> PairwiseResult:
        try:
            return await judge_pairs(base, head, judge, cases=run_cases(base, project))
        finally:
            await judge.aclose()

    try:
        result = asyncio.run(pairs())
    finally:
        cache.close()
    for line in pairwise_summary_lines(result):
        click.echo(line)
    summary = head_path / "compare.md"
    write_atomic(summary, full_markdown(comparison, base, head, project.root, result))
    click.echo(f"  PR-ready summary: {summary}")
