"""``evalkit merge``: join the shard runs of one suite into one run.

The shards of ``--shard I/N`` split a suite by case id, so their records never overlap and
together they are the unsharded run's records. The merged run is written beside the shards as a
new run whose records, summary and report are those of a run made without ``--shard``: same
selection (minus the shard), same summary (computed in one pass over the joined records), with
``merged_from`` naming its shards.

Shards are joined only when they can stand for one run: the same suite, prompt version, golden
set, target, judge versions, repeats and selection, every shard 1..N present once, each
complete. Anything else is an :class:`InputError` naming the run and the field (exit 2).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.api.select import Selection, Shard
from evalkit.base.exceptions import InputError, StorageError
from evalkit.model.outcome import GRADER_ERROR_WARNING
from evalkit.model.record import CaseRecord
from evalkit.report.runfiles import write_summary_and_report
from evalkit.storage.store import (
    MANIFEST,
    StoredRun,
    load_run,
    new_run_id,
    now_iso,
    open_results,
    run_dir,
    write_manifest,
)

#: manifest fields that must agree between shards for their union to be one run
_SAME = ("suite", "prompt_version", "golden_sha", "target", "judge_versions", "repeats")


@dataclass
class Merged:
    path: Path
    run_id: str
    summary: dict[str, Any]
    shards: int


def merge_runs(runs: list[str | Path], *, runs_dir: Path, project_root: Path | None) -> Merged:
    """Join shard runs (directories or run ids under ``runs_dir``) into a new run stored under
    ``runs_dir`` where the unsharded run would be."""
    from evalkit.analysis.summary import summarize

    if not runs:
        raise InputError("name the shard runs to merge", field="RUN")
    stored = [load_run(r, runs_dir) for r in runs]
    shards = [_shard_of(run) for run in stored]
    _check_compatible(stored)
    _check_complete_set(stored, shards)
    order = sorted(range(len(stored)), key=lambda i: shards[i].index)
    records = _joined_records([stored[i] for i in order])

    first = stored[order[0]]
    manifest = _merged_manifest(first, [stored[i] for i in order], len(records))
    run_id = str(manifest["run_id"])
    path = run_dir(runs_dir, first.suite, str(first.manifest.get("prompt_version")), run_id)
    try:
        path.mkdir(parents=True, exist_ok=False)
    except OSError as exc:
        raise StorageError.from_os(exc, path) from None
    write_manifest(path, manifest)  # status "running" until everything is written
    with open_results(path) as out:
        for record in records:
            out.append(record)
    summaries = [run.summary or {} for run in stored]
    summary = summarize(
        records,
        repeats=int(first.manifest.get("repeats", 1)),
        project_root=project_root,
        run_id=run_id,
        grader_error_warning=summaries[0].get("grader_error_warning", GRADER_ERROR_WARNING),
        selection=manifest.get("selection"),
    )
    for count in ("requests", "rate_limited"):  # what the shards' runs did, added up
        summary[count] = sum(int(s.get(count, 0)) for s in summaries)
    # the shards ran side by side: the merged run took as long as its slowest shard
    summary["timings"] = {
        key: max(float((s.get("timings") or {}).get(key, 0.0)) for s in summaries)
        for key in ("startup_s", "cases_s")
    }
    manifest.update(status="complete", finished_at=now_iso())
    write_manifest(path, manifest)
    write_summary_and_report(path, manifest, summary, records)
    return Merged(path=path, run_id=run_id, summary=summary, shards=len(stored))


def _shard_of(run: StoredRun) -> Shard:
    flags = (run.manifest.get("selection") or {}).get("flags") or {}
    if "shard" not in flags:
        raise InputError(
            f"run {run.run_id} is not a shard (made without --shard): nothing to merge",
            path=run.path / MANIFEST,
            field="selection.flags.shard",
        )
    return Shard.parse(str(flags["shard"]))


def _check_compatible(runs: list[StoredRun]) -> None:
    """Every shard agrees with the first on what makes them one run."""
    first = runs[0]
    want_selection = _selection_without_shard(first)
    for run in runs[1:]:
        for key in _SAME:
            if run.manifest.get(key) != first.manifest.get(key):
                raise InputError(
                    f"run {run.run_id} has {key} {run.manifest.get(key)!r} but run "
                    f"{first.run_id} has {first.manifest.get(key)!r}: shards of different "
                    "suites, prompt or config versions cannot be merged",
                    path=run.path / MANIFEST,
                    field=key,
                )
        if _selection_without_shard(run) != want_selection:
            raise InputError(
                f"run {run.run_id} selected {run.manifest['selection']['flags']} but run "
                f"{first.run_id} selected {first.manifest['selection']['flags']}: only shards "
                "of one selection add up to one run",
                path=run.path / MANIFEST,
                field="selection",
            )


def _selection_without_shard(run: StoredRun) -> tuple[Selection, int, Any]:
    sel = run.manifest["selection"]
    flags = Selection.from_flags(sel["flags"]).without_shard()
    return flags, int(sel.get("total", 0)), sel.get("strata")


def _check_complete_set(runs: list[StoredRun], shards: list[Shard]) -> None:
    counts = {s.count for s in shards}
    if len(counts) > 1:
        raise InputError(
            "the runs are shards of different splits ("
            + ", ".join(f"{r.run_id}: {s}" for r, s in zip(runs, shards, strict=True))
            + ")",
            field="RUN",
        )
    count = counts.pop()
    seen: dict[int, str] = {}
    for run, shard in zip(runs, shards, strict=True):
        if shard.index in seen:
            raise InputError(
                f"shard {shard} is given twice (runs {seen[shard.index]} and {run.run_id})",
                field="RUN",
            )
        seen[shard.index] = run.run_id
        status = run.manifest.get("status")
        if status != "complete":
            raise InputError(
                f"shard {shard} (run {run.run_id}) is {status}: finish it with "
                f"`evalkit run --resume {run.run_id}` before merging",
                path=run.path / MANIFEST,
                field="status",
            )
    missing = [f"{i}/{count}" for i in range(1, count + 1) if i not in seen]
    if missing:
        raise InputError(
            f"shard(s) {', '.join(missing)} missing: a merged run must hold every shard",
            field="RUN",
        )


def _joined_records(runs: list[StoredRun]) -> list[CaseRecord]:
    records: list[CaseRecord] = []
    owner: dict[tuple[str, int], str] = {}
    for run in runs:
        for record in run.records:
            if record.key in owner:
                raise InputError(
                    f"case {record.case_id!r} (repeat {record.repeat}) is in both run "
                    f"{owner[record.key]} and run {run.run_id}: not shards of one split",
                    path=run.path,
                    field="RUN",
                )
            owner[record.key] = run.run_id
            records.append(record)
    return records


def _later_run_id(shard_ids: list[str]) -> str:
    """A new run id that sorts after every shard's, so ``SUITE/latest`` is the merged run even
    when a shard finished within the same second (ids sort by their time stamp first)."""
    last = max(shard_ids)
    run_id = new_run_id()
    while run_id.split("-")[0] <= last.split("-")[0]:
        time.sleep(0.05)
        run_id = new_run_id()
    return run_id


def _merged_manifest(first: StoredRun, runs: list[StoredRun], n_records: int) -> dict[str, Any]:
    """The shards' common manifest, as a run made without --shard would have it."""
    manifest = {
        k: v
        for k, v in first.manifest.items()
        if k not in ("resumed_at", "writer", "selection", "warnings")
    }
    sel = dict(first.manifest["selection"])
    flags = {k: v for k, v in sel["flags"].items() if k != "shard"}
    selected = sum(int(r.manifest["selection"].get("selected", 0)) for r in runs)
    warnings = sorted({w for r in runs for w in r.manifest.get("warnings", [])})
    commits = sorted({str((r.manifest.get("git") or {}).get("commit")) for r in runs})
    if len(commits) > 1:
        warnings.append(f"the shards were made at different git commits: {', '.join(commits)}")
    manifest.update(
        run_id=_later_run_id([r.run_id for r in runs]),
        cases=selected,
        records=n_records,
        started_at=min(str(r.manifest.get("started_at")) for r in runs),
        finished_at=None,
        status="running",
        merged_from=[r.run_id for r in runs],
    )
    if flags:
        manifest["selection"] = {**sel, "flags": flags, "selected": selected}
    if warnings:
        manifest["warnings"] = warnings
    return manifest


def gateable_run(ref: str, suite: str, root: Path) -> Path:
    """A stored, complete run of ``suite`` for ``evalkit ci --run`` to gate (merged shards)."""
    from evalkit.storage.store import read_manifest, resolve_run

    path = resolve_run(ref, root)
    manifest = read_manifest(path)
    if manifest.get("suite") != suite:
        raise InputError(
            f"run {path.name} is of suite {manifest.get('suite')!r}, not {suite!r}",
            path=path / MANIFEST,
            field="suite",
        )
    if manifest.get("status") != "complete":
        raise InputError(
            f"run {path.name} is {manifest.get('status')}, not complete: nothing to gate",
            path=path / MANIFEST,
            field="status",
        )
    return path
