"""Baseline pointers: ``runs/baselines/<suite>.json``, committed to git, read by ``evalkit ci``.

Run directories are git-ignored (``runs/*``) while ``runs/baselines/`` is committed, so a pointer
alone would dangle on a fresh CI checkout. Setting a baseline therefore also snapshots the run's
``manifest.json`` and ``results.jsonl`` into ``runs/baselines/<suite>/``, and loading prefers
that snapshot: local and CI comparisons read the same frozen baseline.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from pydantic import BaseModel, ValidationError

from evalkit.base.exceptions import InputError
from evalkit.base.files import read_text, write_atomic
from evalkit.storage.store import BASELINES, MANIFEST, RESULTS, StoredRun, load_run, now_iso

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class BaselinePointer(BaseModel):
    """What ``runs/baselines/<suite>.json`` holds."""

    suite: str
    run_id: str
    path: str
    prompt_version: str
    prompt_label: str | None = None
    set_at: str


def _check_suite(suite: str) -> str:
    if not _SAFE.match(suite):
        raise InputError(f"suite name {suite!r} cannot name a baseline file", field="suite")
    return suite


def baseline_dir(project_root: Path, runs_dir: str | Path = "runs") -> Path:
    return Path(project_root) / runs_dir / BASELINES


def pointer_path(suite: str, project_root: Path, runs_dir: str | Path = "runs") -> Path:
    return baseline_dir(project_root, runs_dir) / f"{_check_suite(suite)}.json"


def snapshot_path(suite: str, project_root: Path, runs_dir: str | Path = "runs") -> Path:
    return baseline_dir(project_root, runs_dir) / _check_suite(suite)


def _relative(path: Path, root: Path) -> str:
    p, r = path.resolve(), root.resolve()
    try:
        return p.relative_to(r).as_posix()
    except ValueError:
        return str(p)


def set_baseline(
    run: StoredRun, *, project_root: Path, runs_dir: str | Path = "runs"
) -> BaselinePointer:
    """Point ``<suite>.json`` at ``run`` and snapshot its manifest and results beside it."""
    if not run.suite:
        raise InputError("run manifest has no suite", path=run.path / MANIFEST, field="suite")
    pointer = BaselinePointer(
        suite=run.suite,
        run_id=run.run_id,
        path=_relative(run.path, project_root),
        prompt_version=str(run.manifest.get("prompt_version", "")),
        prompt_label=run.manifest.get("prompt_label"),
        set_at=now_iso(),
    )
    snap = snapshot_path(run.suite, project_root, runs_dir)
    tmp = snap.with_name(f".{snap.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name in (MANIFEST, RESULTS):
        if (run.path / name).exists():
            shutil.copyfile(run.path / name, tmp / name)
    shutil.rmtree(snap, ignore_errors=True)
    os.replace(tmp, snap)
    write_atomic(
        pointer_path(run.suite, project_root, runs_dir),
        json.dumps(pointer.model_dump(), indent=2) + "\n",
    )
    return pointer


def get_baseline(
    suite: str, *, project_root: Path, runs_dir: str | Path = "runs"
) -> BaselinePointer | None:
    """The pointer for ``suite``, or None when no baseline was set."""
    p = pointer_path(suite, project_root, runs_dir)
    if not p.exists():
        return None
    try:
        return BaselinePointer.model_validate_json(read_text(p))
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(x) for x in err["loc"]) or None
        raise InputError(f"invalid baseline pointer: {err['msg']}", path=p, field=field) from None


def list_baselines(project_root: Path, runs_dir: str | Path = "runs") -> list[BaselinePointer]:
    found = sorted(baseline_dir(project_root, runs_dir).glob("*.json"))  # none if no folder
    pointers = [get_baseline(p.stem, project_root=project_root, runs_dir=runs_dir) for p in found]
    return [b for b in pointers if b is not None]


def load_baseline(
    suite: str, *, project_root: Path, runs_dir: str | Path = "runs"
) -> StoredRun | None:
    """The baseline run of ``suite`` (snapshot first, then the pointed-to directory), or None."""
    pointer = get_baseline(suite, project_root=project_root, runs_dir=runs_dir)
    if pointer is None:
        return None
    return baseline_run(suite, pointer, project_root=project_root, runs_dir=runs_dir)


def baseline_run(
    suite: str, pointer: BaselinePointer, *, project_root: Path, runs_dir: str | Path = "runs"
) -> StoredRun:
    """The baseline run of ``suite`` once its pointer is read: the snapshot, else the pointed-to
    directory; an InputError naming the pointer when neither exists."""
    snap = snapshot_path(suite, project_root, runs_dir)
    if (snap / MANIFEST).exists():
        return load_run(snap)
    target = Path(pointer.path)
    if not target.is_absolute():
        target = Path(project_root) / target
    if (target / MANIFEST).exists():
        return load_run(target)
    raise InputError(
        f"baseline run {pointer.run_id} is missing (neither {snap} nor {target} exists); "
        "run `evalkit baseline set RUN` again and commit runs/baselines/",
        path=pointer_path(suite, project_root, runs_dir),
    )
