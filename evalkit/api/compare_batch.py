"""``evalkit compare --pairwise JUDGE --batch``: the pairwise judge's requests through provider
batches, carried by the courier of ``evalkit judge --batch``
(:class:`~evalkit.api.judge_batch.JudgeCourier`).

A comparison writes no run directory, so its batch state gets a directory of its own, named by
what is compared: ``<runs_dir>/.compare/<BASE>--<HEAD>--<JUDGE>/`` (BASE and HEAD the run ids).
It holds ``compare.json`` (the two runs, the judge, status ``running`` / ``interrupted`` /
``aborted`` / ``complete``, the batch ids) and the courier's ``batches-judge-<JUDGE>.json``
(each batch's intent, then its id, and the request behind each custom id), written as a run's
are, so a kill loses nothing: ``evalkit compare BASE HEAD --pairwise JUDGE --resume``
re-attaches to the recorded batches and never submits a request twice. Without ``--resume`` an
unfinished comparison is refused (starting it over would pay for its batches again); a complete
one is started afresh. The directory is locked while a comparison writes it (one writer).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.api.judge_batch import JudgeCourier, judge_batches_file
from evalkit.base.exceptions import InputError, RunInterrupted
from evalkit.execution.batch import batch_support
from evalkit.storage.runlock import RunLock
from evalkit.storage.store import now_iso, write_run_file

if TYPE_CHECKING:
    from evalkit.api.judge import JudgeBatching
    from evalkit.grading.judge.judge import Judge
    from evalkit.grading.judge.pairwise import PairwiseResult
    from evalkit.model.golden import Case
    from evalkit.storage.store import StoredRun

#: under the runs directory: one folder per batched comparison (not a run: no manifest)
COMPARE_DIR = ".compare"
#: the comparison's own record in that folder
STATE = "compare.json"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def comparison_dir(runs_dir: Path, base: str, head: str, judge: str) -> Path:
    """Where the batch state of comparing run ``base`` with ``head`` by ``judge`` lives."""
    return runs_dir / COMPARE_DIR / f"{_safe(base)}--{_safe(head)}--{_safe(judge)}"


def read_state(path: Path) -> dict[str, Any] | None:
    """The comparison's ``compare.json`` (None when it never began)."""
    p = path / STATE
    if not p.exists():
        return None
    data: dict[str, Any] = json.loads(p.read_text("utf-8"))
    return data


def _write_state(path: Path, state: dict[str, Any]) -> None:
    write_run_file(path / STATE, json.dumps(state, indent=2) + "\n")


def _resume_hint(base: str, head: str, judge: str) -> str:
    return f"evalkit compare {base} {head} --pairwise {judge} --resume"


def _open(
    runs_dir: Path, base: str, head: str, judge: str, *, resume: bool
) -> tuple[Path, RunLock]:
    """The comparison's directory, locked; refuses to start over an unfinished one without
    ``resume`` and to resume one that is not there or is complete."""
    path = comparison_dir(runs_dir, base, head, judge)
    state = read_state(path) if path.exists() else None
    if resume and state is None:
        raise InputError(
            f"no `compare --batch` of {base} and {head} by judge {judge!r} to resume "
            f"(nothing in {path})",
            field="--resume",
        )
    path.mkdir(parents=True, exist_ok=True)
    lock = RunLock(path, f"comparison {path.name}")
    try:
        state = read_state(path)  # again, under the lock
        done = state is not None and state.get("status") == "complete"
        if resume and done:
            raise InputError(
                f"the comparison in {path} is complete: nothing to resume",
                path=path / STATE,
                field="status",
            )
        if not resume and state is not None and not done:
            raise InputError(
                f"an unfinished `compare --batch` of these runs has its batches recorded in "
                f"{path}: finish it with `{_resume_hint(base, head, judge)}` (or delete that "
                "folder to start over and pay for its batches again)",
                path=path / STATE,
                field="status",
            )
        if done:  # a new comparison: the old one's batches are not asked for again
            (path / judge_batches_file(judge)).unlink(missing_ok=True)
        started = state.get("started_at") if resume and state else None
        _write_state(
            path,
            {
                "base_run": base,
                "head_run": head,
                "judge": judge,
                "batch": True,
                "status": "running",
                "started_at": started or now_iso(),
                "finished_at": None,
                "batches": (state or {}).get("batches", []) if resume else [],
            },
        )
    except BaseException:
        lock.release()
        raise
    return path, lock


def check_batch_support(judge: Judge) -> None:
    """Exit 2 before anything is sent when the judge's provider has no batch API."""
    target = judge.target
    why = batch_support(target.provider, target.wire)
    if why:
        raise InputError(f"pairwise judge {judge.name!r}: {why}", field="--batch")


async def judge_pairs_by_batch(
    base: StoredRun,
    head: StoredRun,
    judge: Judge,
    *,
    cases: Mapping[str, Case],
    batch: JudgeBatching,
    runs_dir: Path,
    resume: bool = False,
) -> PairwiseResult:
    """:func:`~evalkit.grading.judge.pairwise.judge_pairs` with every request of ``judge``
    through provider batches (both orders of every case in one round); a stop raises
    :class:`RunInterrupted` saying how to resume. The judge is not closed here."""
    from evalkit.grading.judge.pairwise import judge_pairs

    check_batch_support(judge)
    path, lock = _open(runs_dir, base.run_id, head.run_id, judge.name, resume=resume)
    courier = JudgeCourier(path, judge.name, poll_s=batch.poll_s, progress=batch.progress)
    judge.send_by_batch(courier)
    status = "running"
    try:
        # every case at once: a batch holds whatever the judge asks meanwhile
        result = await judge_pairs(
            base, head, judge, cases=cases, concurrency=max(1, len(base.records))
        )
        status = "complete"
        return result
    except (asyncio.CancelledError, KeyboardInterrupt):
        status = "interrupted"
        raise RunInterrupted(
            f"stopped the pairwise comparison; its batches are recorded in {path}. Resume with "
            f"`{_resume_hint(base.run_id, head.run_id, judge.name)}`"
        ) from None
    except BaseException:
        status = "aborted"
        raise
    finally:
        try:
            await courier.aclose()
            state = read_state(path) or {}
            state.update(status=status, finished_at=now_iso(), batches=courier.batch_ids())
            _write_state(path, state)
        finally:
            lock.release()
