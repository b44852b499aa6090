"""Re-judge a stored run's outputs with the current judges, without calling the system again.

The new run is written beside the old one (same ``runs/<suite>/<prompt-version>/`` folder) with
``rejudged_from: <run id>`` in its manifest. Each record keeps its output, usage, cost, latency
and check results; verdicts of the judges given are replaced (verdicts of other judges are
kept), and the record's outcome is recombined. Records whose generation failed are copied as
they are: there is nothing to judge. Verdicts are cached, so re-judging after a rubric tweak
pays only for the judge whose version changed.

With ``batch`` every judge request goes through the provider's batch API
(:mod:`evalkit.api.judge_batch`); a re-judge stopped while its batches are pending is finished
by ``evalkit judge --resume RUN`` (RUN: the new run), which re-attaches to them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.api.judge_batch import JudgeCourier
from evalkit.base.aio import run_sync
from evalkit.base.exceptions import InputError, RunInterrupted
from evalkit.grading.judge.judge import Judge, judge_applies
from evalkit.model.golden import Case
from evalkit.model.provider import CallContext
from evalkit.model.record import CaseRecord, JudgeVerdict
from evalkit.storage.runcases import Warn, run_cases, stored_case
from evalkit.storage.runlock import RunLock
from evalkit.storage.store import (
    BASELINES,
    MANIFEST,
    SUMMARY,
    StoredRun,
    append_record,
    load_run,
    new_run_id,
    now_iso,
    open_results,
    run_dir,
    write_manifest,
)

if TYPE_CHECKING:
    from evalkit.model.config import ProjectConfig


def _recombine(
    record: CaseRecord, verdicts: list[JudgeVerdict], min_score: float | None
) -> CaseRecord:
    from evalkit.grading.check.compose import case_outcome  # the check registry loads on demand

    outcome, score = case_outcome(record.checks, verdicts, min_score)
    return record.model_copy(update={"judges": verdicts, "outcome": outcome, "score": score})


def _rejudged_dir(old: StoredRun, run_id: str) -> Path:
    """Beside the old run; never inside a committed baseline snapshot (runs/baselines/SUITE/):
    a re-judged baseline goes where `evalkit run` stores runs of its suite and prompt version."""
    if old.path.parent.name == BASELINES:
        version = str(old.manifest.get("prompt_version") or "-")
        return run_dir(old.path.parent.parent, old.suite, version, run_id)
    return old.path.parent / run_id


async def rejudge_run_async(
    run: Path | StoredRun,
    project: ProjectConfig | None,
    judges: Sequence[Judge],
    *,
    suite_judges: Sequence[str] | None = None,
    cases: Mapping[str, Case] | None = None,
    concurrency: int = 8,
    warn: Warn | None = None,
    batch: JudgeBatching | None = None,
    into: Path | None = None,
    note: Mapping[str, Any] | None = None,
) -> Path:
    """Write the re-judged run and return its directory; judges are not closed here.

    ``run`` is the stored run's directory, or the run already loaded (it is not read again).
    ``suite_judges`` are the judges that apply to every case (default: all of ``judges``);
    a judge outside it grades only the cases that add it (``judges:`` in the golden case),
    and a case's ``skip_judges`` is respected either way. ``batch`` sends the judge requests
    through provider batches; ``into`` is an unfinished re-judge to finish (``--resume``);
    ``note`` goes into the manifest (what ``--resume`` needs to ask the same again).
    """
    from evalkit.analysis.summary import summarize
    from evalkit.model.outcome import GRADER_ERROR_WARNING
    from evalkit.report.runfiles import write_summary_and_report

    old = run if isinstance(run, StoredRun) else load_run(run)
    by_case = dict(cases) if cases is not None else run_cases(old, project, warn)
    everyone = list(suite_judges) if suite_judges is not None else [j.name for j in judges]
    names = {j.name for j in judges}
    suite = old.manifest.get("suite")
    min_score = None
    warn_share = GRADER_ERROR_WARNING
    if project is not None and suite in project.suites:
        min_score = project.suites[suite].min_score
        warn_share = project.suites[suite].grader_error_warning
    if into is None:
        run_id = new_run_id()
        path = _rejudged_dir(old, run_id)
        path.mkdir(parents=True, exist_ok=False)
    else:
        path, run_id = into, into.name
    lock = RunLock(path, run_id)  # live while re-judging; `evalkit runs` shows it abandoned if not
    manifest: dict[str, Any] = {
        **old.manifest,
        **(note or {}),
        "run_id": run_id,
        "rejudged_from": old.run_id,
        "judge_versions": {
            **old.manifest.get("judge_versions", {}),
            **{j.name: j.version for j in judges},
        },
        "started_at": now_iso(),
        "finished_at": None,
        "status": "running",
    }
    for key in ("batch", "batches"):  # the source run's own batches are not this run's
        manifest.pop(key, None)
    if batch is not None:
        manifest["batch"] = True
    write_manifest(path, manifest)
    couriers = _couriers(judges, path, batch)
    # in batch mode every case at once: a batch holds whatever the judges ask meanwhile
    sem = asyncio.Semaphore(concurrency if batch is None else max(1, len(old.records)))

    async def one(record: CaseRecord) -> CaseRecord:
        if record.output is None or record.error is not None:
            return record
        case = by_case.get(record.case_id) or stored_case(record)
        ctx = CallContext(
            case_id=record.case_id,
            prompt_version=old.manifest.get("prompt_version"),
            prompt_label=old.manifest.get("prompt_label"),
            repeat=record.repeat,
        )
        applicable = [j for j in judges if judge_applies(j.name, case, everyone)]
        async with sem:
            output, trajectory = record.output, record.trajectory
            fresh = await asyncio.gather(
                *(j.grade(case, output, ctx, trajectory) for j in applicable)
            )
        kept = [v for v in record.judges if v.name not in names]
        return _recombine(record, [*kept, *fresh], min_score)

    status = "running"
    records: list[CaseRecord] = []
    try:
        records = list(await asyncio.gather(*(one(r) for r in old.records)))
        with open_results(path) as fh:
            for record in records:
                append_record(fh, record)
        # re-judging cannot complete a run whose generation did not: keep its status (a source
        # still marked running, i.e. abandoned or in progress, is at most interrupted)
        old_status = str(old.manifest.get("status") or "complete")
        status = "interrupted" if old_status == "running" else old_status
    except (asyncio.CancelledError, KeyboardInterrupt):
        status = "interrupted"
        if batch is None:
            raise
        raise RunInterrupted(
            f"stopped re-judge {run_id}; its batches are recorded in {path}. Resume with "
            f"`evalkit judge --resume {run_id}`"
        ) from None
    except BaseException:
        status = "aborted"
        raise
    finally:
        for courier in couriers:
            await courier.aclose()
        if couriers:
            manifest["judge_batches"] = {c.judge: c.batch_ids() for c in couriers}
        # an ``auto`` judge may have settled on a lower rung meanwhile: its version now
        manifest["judge_versions"].update({j.name: j.version for j in judges})
        summary = summarize(
            records,
            repeats=int(old.manifest.get("repeats", 1)),
            project_root=project.root if project is not None else None,
            run_id=run_id,
            grader_error_warning=warn_share,
            selection=old.manifest.get("selection"),
        )
        summary["requests"] = 0  # no call to the system under test
        summary["judge_requests"] = sum(
            v.requests for r in records for v in r.judges if v.name in names
        )
        manifest.update(status=status, finished_at=now_iso(), records=len(records))
        try:
            write_manifest(path, manifest)
            write_summary_and_report(path, manifest, summary, records)
        finally:
            lock.release()
    return path


def _couriers(
    judges: Sequence[Judge], path: Path, batch: JudgeBatching | None
) -> list[JudgeCourier]:
    """One batch courier per judge in batch mode (each judge has its own model and wire)."""
    if batch is None:
        return []
    couriers = []
    for judge in judges:
        courier = JudgeCourier(path, judge.name, poll_s=batch.poll_s, progress=batch.progress)
        judge.send_by_batch(courier)
        couriers.append(courier)
    return couriers


def rejudge_run(
    run: Path | StoredRun,
    project: ProjectConfig | None,
    judges: Sequence[Judge],
    **options: Any,
) -> Path:
    """Sync wrapper of :func:`rejudge_run_async`; closes the judges (their clients belong to
    the event loop this call creates)."""

    async def go() -> Path:
        try:
            return await rejudge_run_async(run, project, judges, **options)
        finally:
            for judge in judges:
                await judge.aclose()

    return run_sync(go())


@dataclass(frozen=True)
class JudgeBatching:
    """``evalkit judge --batch``: poll every ``poll_s`` seconds, progress lines on stderr."""

    poll_s: float = 30.0
    progress: bool = False


@dataclass
class JudgeOutcome:
    """What ``evalkit judge`` made: the new run and, per judge run, its version and figures."""

    path: Path
    run_id: str
    #: the id of the run whose outputs were judged
    rejudged_from: str
    #: judge name -> its version
    versions: dict[str, str]
    #: judge name -> the ``judge_stats`` figures of the new run's summary (absent: no case)
    stats: dict[str, dict[str, Any]]


def judge_run(
    project: ProjectConfig,
    run: str | Path,
    *,
    names: Sequence[str] = (),
    script: Path | None = None,
    wire: str | None = None,
    use_cache: bool = True,
    concurrency: int | None = None,
    warn: Warn | None = None,
    batch: JudgeBatching | None = None,
    resume: str | Path | None = None,
) -> JudgeOutcome:
    """Re-judge a stored run (a directory, a run id or prefix, ``latest``) with the project's
    judges: ``names``, else the suite's judges and those its cases add. ``script`` answers
    every judge call from a scripted model instead (offline). ``batch`` sends the judge
    requests through provider batches. ``resume`` (then ``run`` is ignored) finishes an
    unfinished re-judge with the judges, script and wire it was started with."""
    from evalkit.grading.judge import build_judges, judge_names, load_judges
    from evalkit.grading.judge.judge import judge_runtime, scripted_override
    from evalkit.grading.judge.stats import self_preference_warning
    from evalkit.model.provider import TargetSpec

    say = warn or (lambda message: None)
    runs_dir = project.resolve(project.runs_dir)
    into: Path | None = None
    if resume is not None:
        into, run, names, script, wire, batched, cached = _unfinished(resume, runs_dir)
        use_cache = use_cache and cached
        # the re-judge's own mode decides; ``batch`` only says how to poll
        batch = (batch or JudgeBatching()) if batched else None
    stored = load_run(run, runs_dir=runs_dir)
    suite = project.suites.get(stored.suite)
    cases = run_cases(stored, project, say)
    if names:
        suite_judges, wanted = list(names), list(names)
    else:
        suite_judges = (
            list(suite.judges) if suite else list(stored.manifest.get("judge_versions", {}))
        )
        wanted = judge_names(suite_judges, cases.values())
    if not wanted:
        raise InputError(
            f"suite {stored.suite!r} has no judges; name one with --judge",
            path=project.path,
            field="--judge",
        )
    defs = load_judges(project, wanted, pairwise=False)
    cache, prices, policy = judge_runtime(project, stored.suite, use_cache=use_cache)
    override = scripted_override(script, wire) if script else None
    judges = build_judges(
        defs, project=project, cache=cache, prices=prices, policy=policy, target_override=override
    )
    target = stored.manifest.get("target")
    target = target if isinstance(target, dict) else {}
    tested = TargetSpec(
        provider=str(target.get("provider") or "?"),
        model=str(target.get("model") or ""),
        base_url=target.get("base_url"),
    )
    warning = self_preference_warning(tested, judges)
    if warning:
        say(warning)
    try:
        new_path = rejudge_run(
            stored,
            project,
            judges,
            suite_judges=suite_judges,
            cases=cases,
            concurrency=concurrency or (suite.concurrency if suite else 8),
            batch=batch,
            into=into,
            note={
                "rejudge": {
                    "judges": list(names),
                    "script": script and str(script),
                    "wire": wire,
                    "use_cache": use_cache,
                }
            },
        )
    finally:
        cache.close()
    # the per-judge figures are in the summary just written: no need to re-read every record
    summary = json.loads((new_path / SUMMARY).read_text("utf-8"))
    return JudgeOutcome(
        path=new_path,
        run_id=new_path.name,
        rejudged_from=stored.run_id,
        versions={j.name: j.version for j in judges},
        stats=summary.get("judge_stats", {}),
    )


def _unfinished(
    ref: str | Path, runs_dir: Path
) -> tuple[Path, str, list[str], Path | None, str | None, bool, bool]:
    """What ``judge --resume`` needs of an unfinished re-judge: its directory, the source
    run, and the judges, script, wire, batch mode and use of the cache it was started with."""
    stored = load_run(ref, runs_dir=runs_dir)
    m = stored.manifest
    source = m.get("rejudged_from")
    if not source:
        raise InputError(
            f"run {stored.run_id} is not a re-judge; --resume finishes one `evalkit judge` began",
            path=stored.path / MANIFEST,
            field="rejudged_from",
        )
    if m.get("status") == "complete":
        raise InputError(
            f"re-judge {stored.run_id} is complete: nothing to resume",
            path=stored.path / MANIFEST,
            field="status",
        )
    asked = m.get("rejudge") or {}
    script = asked.get("script")
    return (
        stored.path,
        str(source),
        list(asked.get("judges") or []),
        Path(script) if script else None,
        asked.get("wire"),
        bool(m.get("batch")),
        bool(asked.get("use_cache", True)),
    )
