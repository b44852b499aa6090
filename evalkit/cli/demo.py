"""``evalkit demo``: the bundled example, offline, on a scripted model."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from evalkit.cli._common import pct

DEMO_SUITE = "support"
PROMPTS = ("prompts/support_v1.yaml", "prompts/support_v2.yaml")
SCRIPT = "scripts/support.yaml"


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

    The model is scripted: a loopback server replays pre-written answers through the real
    Anthropic SDK client, so no API key or network is needed.

    \b
    Example:
      evalkit demo
    """
    from evalkit.config import load_config, load_suite
    from evalkit.engine import RunOptions, run_suite
    from evalkit.exceptions import InputError

    config_path = project_dir / "evalkit.yaml"
    if not (project_dir / SCRIPT).exists() or not config_path.exists():
        raise InputError(
            "the demo runs the example project at the root of the evalkit "
            "repository; run it there or pass --project DIR",
            path=config_path,
        )
    project = load_config(config_path)
    click.secho(
        "evalkit demo: the model is SCRIPTED (a local server replaying pre-written "
        "answers through the real Anthropic SDK client). No API key, no network.",
        bold=True,
    )
    outcomes = []
    for prompt in PROMPTS:
        base = load_suite(project, DEMO_SUITE, prompt_override=prompt)
        target = replace(
            base.target, provider="scripted", wire="anthropic", script=str(project.resolve(SCRIPT))
        )
        suite = load_suite(project, DEMO_SUITE, prompt_override=prompt, target_override=target)
        label = suite.prompt.label if suite.prompt else prompt
        click.echo(
            f"\n▶ {DEMO_SUITE} with prompt {label} ({prompt}, version "
            f"{suite.prompt.version if suite.prompt else '-'})"
        )
        outcome = run_suite(suite, RunOptions(use_cache=not no_cache))
        s = outcome.summary
        click.echo(
            f"  pass rate {pct(s['pass_rate'])}: {s['pass']} pass, {s['fail']} fail, "
            f"{s['error']} error over {s['n']} outputs; {outcome.requests} model requests"
        )
        worst = sorted(s["checks"].items(), key=lambda kv: kv[1]["pass_rate"] or 0)[:3]
        click.echo("  weakest checks: " + ", ".join(f"{n} {pct(r['pass_rate'])}" for n, r in worst))
        click.echo(f"  report: {outcome.path / 'report.md'}")
        outcomes.append(outcome)
    _compare(outcomes[0].path, outcomes[1].path)
    click.echo(
        "\nNext: `evalkit runs` lists the history; `evalkit compare BASE HEAD` compares any "
        "two runs; open the reports above for the failing cases and their reasons."
    )


def _compare(base_path: Path, head_path: Path) -> None:
    """End the demo with the question every prompt change asks: is the new version worse?"""
    from evalkit._files import write_atomic
    from evalkit.compare import compare_runs
    from evalkit.report.compare_md import comparison_markdown
    from evalkit.report.compare_terminal import render_comparison
    from evalkit.store import load_run

    click.echo("\n▶ compare v1 (base) with v2 (head): paired, case by case")
    comparison = compare_runs(load_run(base_path), load_run(head_path))
    render_comparison(comparison)
    summary = head_path / "compare.md"
    write_atomic(summary, comparison_markdown(comparison))
    click.echo(f"  PR-ready summary: {summary}")
