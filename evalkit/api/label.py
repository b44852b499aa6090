"""The labelling job, apart from its terminal UI: which judge scale, which outputs to show, in
which order, with which golden cases; and importing labels from a CSV file.

``evalkit label`` asks the labeller; everything it asks about is prepared here, so a notebook
or another UI can label the same way.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from evalkit.analysis.calibration.labels import Label, Scale, import_csv, labels_path, read_labels
from evalkit.analysis.calibration.measure import golden_cases
from evalkit.analysis.calibration.sampling import (
    Candidate,
    Drawn,
    Strategy,
    candidates,
    draw_sample,
)
from evalkit.base.exceptions import InputError
from evalkit.model.config import ProjectConfig
from evalkit.model.golden import Case, load_golden
from evalkit.storage.store import StoredRun, load_run, now_iso


def label_scale(project: ProjectConfig, judge: str) -> Scale:
    """The scale of ``judge``'s labels; only binary and likert-5 judges take labels."""
    from evalkit.grading.judge import load_judges

    (definition,) = load_judges(project, [judge])
    if definition.scale not in ("binary", "likert-5"):
        raise InputError(
            f"judge {judge!r} is {definition.scale}: only binary and likert-5 judges take labels",
            path=definition.path,
            field="scale",
        )
    return definition.scale  # type: ignore[return-value]


@dataclass
class ImportedLabels:
    path: Path
    added: int
    #: labels already in the file (same output, labeller and value): skipped
    present: int


def import_labels(
    project: ProjectConfig, judge: str, csv_path: Path, labeler: str
) -> ImportedLabels:
    """Append the labels of ``csv_path`` to ``judge``'s labels file (``labeler`` where the
    CSV names none); case ids must be golden cases of the project."""
    path = labels_path(project.root, judge)
    added, present = import_csv(
        csv_path,
        path,
        label_scale(project, judge),
        labeled_at=now_iso(),
        default_labeler=labeler,
        known_cases=golden_cases(project, judge),
    )
    return ImportedLabels(path, added, present)


@dataclass
class LabellingPlan:
    """What a labelling session of one run shows, in order."""

    run: StoredRun
    judge: str
    scale: Scale
    #: the judge's labels file, and the labels it held before this session
    path: Path
    existing: list[Label]
    #: every distinct output of the run, and the ones drawn to be labelled now
    pool: list[Candidate]
    queue: list[Drawn]
    strategy: Strategy
    seed: int
    #: golden cases by id: what the labeller sees beside each output
    cases: dict[str, Case]

    @property
    def already_labelled(self) -> int:
        done = {lab.output_sha for lab in self.existing}
        return sum(c.sha in done for c in self.pool)


def plan_labelling(
    project: ProjectConfig,
    judge: str,
    run: str | Path,
    *,
    n: int,
    strategy: Strategy,
    seed: int | None = None,
) -> LabellingPlan:
    """Draw ``n`` outputs of ``run`` not yet labelled for ``judge`` (``random`` or
    ``stratified`` by the run judge's verdict; a fresh seed unless given, recorded)."""
    scale = label_scale(project, judge)
    stored = load_run(run, runs_dir=project.resolve(project.runs_dir))
    path = labels_path(project.root, judge)
    existing = read_labels(path, scale)
    done = {lab.output_sha for lab in existing}
    pool = candidates(stored.records, judge)
    seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
    queue = draw_sample(pool, n, strategy, seed=seed, exclude=done)
    cases = _cases(project, stored, judge) if queue else {}
    return LabellingPlan(stored, judge, scale, path, existing, pool, queue, strategy, seed, cases)


def _cases(project: ProjectConfig, stored: StoredRun, judge: str) -> dict[str, Case]:
    """The run's own golden set first, then every other golden case of the project."""
    cases: dict[str, Case] = {}
    rel = stored.manifest.get("golden_path")
    read = project.resolve(rel) if rel else None
    if read is not None:
        try:
            cases = {c.id: c for c in load_golden(read).cases}
        except InputError:
            read = None  # unreadable here: a suite that uses it reports the error below
    for cid, case in golden_cases(project, judge, skip=read).items():
        cases.setdefault(cid, case)
    return cases
