"""``evalkit label RUN --judge J``: label a run's outputs by hand, in the terminal.

The labeller sees the case input, context, reference and output, never the judge's verdict (it
would anchor them). Every label is appended and flushed as soon as it is given, so Ctrl-C loses
nothing; a later session skips outputs already labelled for the judge (by output hash).
Prompts read stdin through click, so a test can drive a session with ``input=``.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from evalkit.cli._common import config_option, load_project

if TYPE_CHECKING:
    from evalkit.analysis.calibration.labels import Label, LabelValue, Scale
    from evalkit.analysis.calibration.sampling import Drawn
    from evalkit.api.label import LabellingPlan
    from evalkit.model.golden import Case

_COMMANDS = {"s": "skip", "skip": "skip", "u": "undo", "undo": "undo", "q": "quit", "quit": "quit"}


def _default_labeler() -> str:
    try:
        return os.environ.get("EVALKIT_LABELER") or getpass.getuser()
    except Exception:  # no user name in some containers
        return "unknown"


@click.command("label")
@click.argument("run", required=False)
@click.option("--judge", "-J", "judge", required=True, help="The judge the labels are for.")
@config_option
@click.option(
    "--n",
    "n",
    default=30,
    show_default=True,
    type=click.IntRange(1),
    help="Outputs to sample for this session.",
)
@click.option(
    "--strategy",
    default="random",
    show_default=True,
    type=click.Choice(["random", "stratified"]),
    help="random: a simple random sample of the run; stratified: equal numbers per "
    "judge verdict (reweighted by calibrate).",
)
@click.option(
    "--labeler",
    help="Your name, stored with each label [default: $EVALKIT_LABELER or the login name].",
)
@click.option("--seed", type=int, help="Sampling seed (default: a fresh one, recorded).")
@click.option(
    "--import-csv",
    "csv_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Import labels from a CSV export instead "
    "(columns case_id, output, label, critique, labeler).",
)
def command(
    run: str | None,
    judge: str,
    config_path: Path,
    n: int,
    strategy: str,
    labeler: str | None,
    seed: int | None,
    csv_path: Path | None,
) -> None:
    """Label outputs of RUN (a run directory or run id) pass/fail for judge J.

    Shows each sampled output with its case input, context and reference (not the judge's
    verdict), and asks for a verdict (pass/fail, or 1–5 for likert judges) and an optional
    critique. Type s to skip, u to undo the last label, q to quit; run the same command again
    to resume. Labels append to judges/J.labels.jsonl.

    \b
    Examples:
      evalkit label 20261123T101500-1a2b3c --judge grounded --n 40
      evalkit label 20261123T1015 --judge grounded --strategy stratified --labeler maya
      evalkit label --import-csv labels.csv --judge grounded
    """
    from evalkit.api.label import import_labels, plan_labelling

    project = load_project(config_path)
    who = labeler or _default_labeler()
    if csv_path is not None:
        imported = import_labels(project, judge, csv_path, who)
        click.echo(
            f"imported {imported.added} label(s) into {imported.path}"
            + (f"; {imported.present} already present, skipped" if imported.present else "")
        )
        return
    if run is None:
        raise click.UsageError("give a RUN to label (or --import-csv FILE)")
    plan = plan_labelling(project, judge, run, n=n, strategy=strategy, seed=seed)  # type: ignore[arg-type]
    _session(plan, who)


#: characters of one shown field (an output can be megabytes); the label binds the whole output
_MAX_SHOWN = 4000


def _text(value: Any) -> str:
    """A field as the labeller sees it: cut to :data:`_MAX_SHOWN`, control sequences inert."""
    from evalkit.base.escape import terminal, truncate

    return terminal(truncate(str(value), _MAX_SHOWN))


def _show(item: Drawn, case: Case | None, position: int, total: int) -> None:
    rec = item.candidate.record
    click.echo("")
    click.secho(
        f"── output {position} of {total} · case {_text(rec.case_id)} (repeat {rec.repeat}) "
        + "─" * 20,
        bold=True,
    )
    variables: dict[str, Any] = dict(case.vars if case else {})
    variables.update(rec.vars)
    click.secho("Input:", bold=True)
    for key, value in variables.items():
        click.echo(f"  {_text(key)}: {_text(value)}")
    if case and case.context:
        click.secho("Context:", bold=True)
        for doc in case.context:
            click.echo(f"  [{_text(doc.id)}] {_text(doc.text)}")
    expected = case.expected if case else None
    if expected is not None:
        click.secho("Reference:", bold=True)
        click.echo(f"  {_text(expected)}")
    click.secho("Output:", bold=True)
    click.echo(_text(rec.output or ""))


def _ask(scale: Scale) -> tuple[str, LabelValue | None]:
    """``("label", value)`` or ``(command, None)``; re-asks until the answer is understood."""
    from evalkit.analysis.calibration.labels import parse_label_value

    if scale == "likert-5":
        text = "Score 1-5 · [s]kip · [u]ndo · [q]uit"
    else:
        text = "Verdict [p]ass/[f]ail · [s]kip · [u]ndo · [q]uit"
    while True:
        answer = click.prompt(text, prompt_suffix=": ").strip().lower()
        if answer in _COMMANDS:
            return _COMMANDS[answer], None
        try:
            return "label", parse_label_value(answer, scale)
        except ValueError as exc:
            click.echo(f"  {exc}")


def _session(plan: LabellingPlan, who: str) -> None:
    """Ask the labeller about each drawn output; every label is saved as soon as it is given."""
    from evalkit.analysis.calibration.labels import Label, append_label, remove_label
    from evalkit.storage.store import now_iso

    stored, judge, scale, path, queue = plan.run, plan.judge, plan.scale, plan.path, plan.queue
    click.echo(
        f"Run {stored.run_id}: {len(plan.pool)} distinct outputs, {plan.already_labelled} already "
        f"labelled for {judge}. Labelling {len(queue)} ({plan.strategy}, seed {plan.seed}) as "
        f"{who}."
    )
    if not queue:
        click.echo("Nothing left to label in this run.")
        return
    cases = plan.cases
    session: list[tuple[Drawn, Label]] = []
    skipped = 0
    i = 0
    try:
        while i < len(queue):
            item = queue[i]
            _show(item, cases.get(item.candidate.record.case_id), i + 1, len(queue))
            action, value = _ask(scale)
            if action == "quit":
                break
            if action == "skip":
                skipped += 1
                i += 1
                continue
            if action == "undo":
                if not session:
                    click.echo("  nothing to undo in this session")
                    continue
                prev, label = session.pop()
                remove_label(path, label)
                click.echo(f"  undone: {_text(label.case_id)} ({label.label}); showing it again")
                queue.insert(i, prev)
                continue
            critique = click.prompt(
                "Critique (optional, Enter for none)", default="", show_default=False
            ).strip()
            rec = item.candidate.record
            label = Label(
                case_id=rec.case_id,
                output=rec.output or "",
                output_sha=item.candidate.sha,
                label=value if value is not None else "",
                critique=critique,
                labeler=who,
                labeled_at=now_iso(),
                run_id=stored.run_id,
                sampling=item.sampling,
            )
            append_label(path, label)
            session.append((item, label))
            i += 1
    except click.exceptions.Abort:
        click.echo(
            f"\nstopped: {len(session)} label(s) saved in {path}; run the same command to resume",
            err=True,
        )
        raise
    total = len(plan.existing) + len(session)  # the file as read, plus this session's labels
    click.echo(
        f"\n{len(session)} label(s) saved this session ({skipped} skipped); {total} in {path}."
    )
    click.echo(
        f"Next: `evalkit calibrate {judge}`"
        + (" (or run this command again to go on)" if i < len(queue) else "")
    )
