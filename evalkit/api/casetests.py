"""Golden cases as tests: run a suite once, then answer per case "pass, fail or error, and why".

The pytest plugin (:mod:`evalkit.cli.pytest_plugin`) turns each golden case into a test item; this
module holds what it does without pytest: load the suites, run the selected cases exactly as
``evalkit run`` does (cache, stored run, report) and word each case's outcome with its check
and judge reasons. Model outputs are hostile: escaped and cut before they reach a terminal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from evalkit.analysis.caserates import error_reason, grader_reasons
from evalkit.api.project import load_config, load_suite
from evalkit.api.run import RunOptions, RunOutcome, run_suite
from evalkit.api.select import Selection
from evalkit.base.escape import terminal, truncate
from evalkit.base.exceptions import EvalkitError
from evalkit.model.config import LoadedSuite
from evalkit.model.outcome import Outcome, combine
from evalkit.model.record import CaseRecord
from evalkit.storage.store import read_records

_OUTPUT_SHOWN = 600


@dataclass(frozen=True)
class CaseVerdict:
    """One golden case's outcome over its repeats, and the words a test report shows."""

    outcome: Outcome
    message: str


@dataclass
class SuiteRun:
    """One suite's run for the selected cases: done on first use, shared by its cases."""

    suite: LoadedSuite
    use_cache: bool = True
    outcome: RunOutcome | None = None
    failure: EvalkitError | None = None
    records: dict[str, list[CaseRecord]] = field(default_factory=dict)

    def ensure(self, case_ids: list[str]) -> None:
        """Run the suite once, for ``case_ids`` only when they are a subset (``pytest -k``)."""
        if self.outcome is not None or self.failure is not None:
            return
        subset = set(case_ids) != {pc.case.id for pc in self.suite.cases}
        # a subset is recorded in the manifest as `evalkit run --case ...` records it
        selection = Selection(cases=tuple(case_ids)) if subset else None
        options = RunOptions(use_cache=self.use_cache, progress=False, selection=selection)
        try:
            self.outcome = run_suite(self.suite, options)
        except EvalkitError as exc:  # the run could not complete: every case is an error
            self.failure = exc
            return
        for rec in read_records(self.outcome.path):
            self.records.setdefault(rec.case_id, []).append(rec)

    def verdict(self, case_id: str) -> CaseVerdict:
        """Pass, fail or error for one case (after :meth:`ensure`), with its reasons."""
        head = f"case {case_id!r} of suite {self.suite.name!r}"
        if self.failure is not None:
            return CaseVerdict(Outcome.ERROR, f"{head}: the run failed: {self.failure}")
        assert self.outcome is not None
        records = sorted(self.records.get(case_id, []), key=lambda r: r.repeat)
        if not records:
            return CaseVerdict(Outcome.ERROR, f"{head}: no result in run {self.outcome.run_id}")
        outcome = combine(r.outcome for r in records)
        lines = [f"{head}: {outcome.value.upper()} (run {self.outcome.run_id})"]
        for rec in records:
            lines += _record_lines(rec, len(records) > 1)
        lines.append(f"report: {self.outcome.path / 'report.md'}")
        return CaseVerdict(outcome, "\n".join(lines))


def _record_lines(rec: CaseRecord, repeats: bool) -> list[str]:
    prefix = f"repeat {rec.repeat}: " if repeats else ""
    if rec.outcome is Outcome.PASS:
        return [f"{prefix}pass"] if repeats else []
    if rec.outcome is Outcome.ERROR:
        reasons = [f"could not be graded: {error_reason(rec)}"]
    else:
        reasons = grader_reasons(rec, Outcome.FAIL) + grader_reasons(rec, Outcome.ERROR)
    indent = "  " if repeats else ""
    lines = [f"{prefix}{rec.outcome.value}"] if repeats else []
    lines += [f"{indent}{terminal(r)}" for r in reasons]
    if rec.output is not None:
        lines.append(f"{indent}output: {terminal(truncate(rec.output, _OUTPUT_SHOWN))}")
    return lines


def load_suite_runs(
    config_path: Path, suite: str | None, *, use_cache: bool = True
) -> list[SuiteRun]:
    """The named suite, or every suite, loaded and validated (InputError names file and line)."""
    project = load_config(config_path)
    names = [suite] if suite else list(project.suites)
    return [SuiteRun(load_suite(project, name), use_cache=use_cache) for name in names]
