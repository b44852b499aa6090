"""The demo job: the bundled example, offline, on a scripted model.

It walks the three everyday jobs on the example project: calibrate the ``grounded`` judge
against the shipped human labels, run the suite on both prompt versions (checks and judges),
and compare the two runs with paired statistics and an order-swapped pairwise judge.
``evalkit demo`` is a thin layer over :func:`run_demo`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from evalkit.analysis.calibration import CalibrationResult
from evalkit.api.calibrate import calibrate
from evalkit.api.compare import CompareResult, compare
from evalkit.api.example import is_example
from evalkit.api.project import load_config, load_suite
from evalkit.api.run import RunOptions, RunOutcome, run_suite
from evalkit.base.console import make_console
from evalkit.base.exceptions import InputError
from evalkit.base.format import pct
from evalkit.grading.judge.judge import scripted_override
from evalkit.model.config import ProjectConfig
from evalkit.report.calibration import render_calibration
from evalkit.report.compare_terminal import render_comparison
from evalkit.report.headline import pass_rate_line
from evalkit.report.pairwise import pairwise_summary_lines

DEMO_SUITE = "support"
PROMPTS = ("prompts/support_v1.yaml", "prompts/support_v2.yaml")
SCRIPT = "scripts/support.yaml"
JUDGE_SCRIPT = "scripts/judges.yaml"
CALIBRATED_JUDGE = "grounded"
PAIRWISE_JUDGE = "preference"

Echo = Callable[[str], None]


@dataclass
class DemoResult:
    """What the demo made: the calibration, the two runs, the comparison and its summary."""

    calibration: CalibrationResult
    runs: list[RunOutcome]
    comparison: CompareResult
    summary_path: Path


def run_demo(project_dir: Path, *, use_cache: bool = True, echo: Echo = print) -> DemoResult:
    """Calibrate, run both prompt versions and compare them, printing each step with ``echo``."""
    config_path = project_dir / "evalkit.yaml"
    if not is_example(project_dir):
        raise InputError(
            "the demo runs the example project at the root of the evalkit "
            "repository; run it there or pass --project DIR",
            path=config_path,
        )
    project = load_config(config_path)
    calibration = _calibrate(project, use_cache=use_cache, echo=echo)
    runs = [_run(project, prompt, use_cache=use_cache, echo=echo) for prompt in PROMPTS]
    result, summary = _compare(project, runs[0].path, runs[1].path, echo=echo)
    return DemoResult(calibration, runs, result, summary)


def _calibrate(project: ProjectConfig, *, use_cache: bool, echo: Echo) -> CalibrationResult:
    """Job 2 first, so the run reports can say whether the judge is calibrated."""
    echo(f"\n▶ calibrate the `{CALIBRATED_JUDGE}` judge against the shipped human labels")
    result = calibrate(
        project,
        CALIBRATED_JUDGE,
        judge_script=project.resolve(JUDGE_SCRIPT),
        use_cache=use_cache,
    )
    render_calibration(result)
    return result


def _run(project: ProjectConfig, prompt: str, *, use_cache: bool, echo: Echo) -> RunOutcome:
    """Job 1: one regression run, the target and its judges on scripted models."""
    base = load_suite(project, DEMO_SUITE, prompt_override=prompt)
    target = replace(
        base.target, provider="scripted", wire="anthropic", script=str(project.resolve(SCRIPT))
    )
    suite = replace(base, target=target)
    label = suite.prompt.label if suite.prompt else prompt
    version = suite.prompt.version if suite.prompt else "-"
    echo(f"\n▶ run `{DEMO_SUITE}` with prompt {label} ({prompt}, version {version})")
    options = RunOptions(
        use_cache=use_cache,
        judge_target_override=scripted_override(project.resolve(JUDGE_SCRIPT)),
    )
    outcome = run_suite(suite, options)
    s = outcome.summary
    echo(f"  {pass_rate_line(s)}; {outcome.requests} model requests")
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
        echo(
            f"  judge {name}: pass rate {pct(stats['pass_rate'])}, error rate "
            f"{pct(stats['error_rate'])} ({status}{extra})"
        )
    echo(f"  report: {outcome.path / 'report.md'}")
    return outcome


def _compare(
    project: ProjectConfig, base_path: Path, head_path: Path, *, echo: Echo
) -> tuple[CompareResult, Path]:
    """Job 3: is the new version worse? Paired statistics, then a position-swapped judge."""
    echo("\n▶ compare v1 (base) with v2 (head): paired, case by case")
    result = compare(
        base_path,
        head_path,
        project=project,
        pairwise_judge=PAIRWISE_JUDGE,
        judge_target_override=scripted_override(project.resolve(JUDGE_SCRIPT)),
    )
    render_comparison(result.comparison, console=make_console())
    for line in pairwise_summary_lines(result.pairwise) if result.pairwise else []:
        echo(line)
    summary = head_path / "compare.md"
    result.write(markdown=summary)
    echo(f"  PR-ready summary: {summary}")
    return result, summary
