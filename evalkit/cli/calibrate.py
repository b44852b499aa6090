"""``evalkit calibrate J``: measure a judge's agreement with the human labels of its outputs."""

from __future__ import annotations

from pathlib import Path

import click

from evalkit.cli._common import config_option, load_project


@click.command("calibrate")
@click.argument("judge")
@config_option
@click.option(
    "--min-per-class",
    type=click.IntRange(0),
    help="Human labels needed in each class (pass and fail) [default: 30].",
)
@click.option(
    "--min-kappa",
    type=float,
    help="Cohen's kappa needed (quadratic-weighted for likert judges) [default: 0.6].",
)
@click.option(
    "--min-tpr",
    type=float,
    help="TPR needed: share of human passes the judge passes [default: 0.7].",
)
@click.option(
    "--min-tnr",
    type=float,
    help="TNR needed: share of human fails the judge fails [default: 0.7].",
)
@click.option(
    "--judge-script",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Answer the judge from this scripted-model file instead of its model "
    "(offline tests and demos).",
)
@click.option("--no-cache", is_flag=True, help="Ask the judge again even for cached verdicts.")
@click.option(
    "--concurrency",
    "-j",
    default=8,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Parallel judge requests.",
)
@click.option("--seed", default=0, show_default=True, type=int, help="Bootstrap seed.")
def command(
    judge: str,
    config_path: Path,
    min_per_class: int | None,
    min_kappa: float | None,
    min_tpr: float | None,
    min_tnr: float | None,
    judge_script: Path | None,
    no_cache: bool,
    concurrency: int,
    seed: int,
) -> None:
    """Run judge JUDGE's current version on every labelled output and report agreement.

    Reads judges/JUDGE.labels.jsonl, grades each labelled output (cached: re-measuring an
    unchanged judge makes no requests), prints the confusion matrix, kappa, TPR/TNR with
    intervals on all labels and on the fixed dev/holdout split, lists every disagreement with
    the human critique beside the judge's reasoning, and writes judges/JUDGE.calibration.json
    tied to the judge version. Thresholds come from `calibration:` in evalkit.yaml (per project,
    or per judge under `judges:`); these flags override them. Exits 0 whether or not the judge
    is calibrated (the last line says which); editing the rubric makes it uncalibrated until
    re-measured.

    \b
    Examples:
      evalkit calibrate grounded
      evalkit calibrate grounded --min-per-class 50 --min-kappa 0.7
      evalkit calibrate grounded --judge-script scripts/judges.yaml   # offline, scripted
    """
    from evalkit.analysis.calibration import (
        Thresholds,
        calibration_file,
    )
    from evalkit.api.calibrate import calibrate
    from evalkit.report.calibration import render_calibration

    project = load_project(config_path)
    thresholds = Thresholds(
        **project.calibration.thresholds_for(
            judge,
            min_per_class=min_per_class,
            min_kappa=min_kappa,
            min_tpr=min_tpr,
            min_tnr=min_tnr,
        )
    )
    result = calibrate(
        project,
        judge,
        thresholds=thresholds,
        judge_script=judge_script,
        use_cache=not no_cache,
        concurrency=concurrency,
        seed=seed,
    )
    render_calibration(result)
    click.echo(f"wrote {calibration_file(project.root, judge)}")
