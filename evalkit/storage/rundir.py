"""Creating and resuming a run directory: the manifest a run starts with, its git and
golden-set fingerprints, and the summary and report it ends with."""

from __future__ import annotations

import os
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.base.exceptions import InputError, StorageError
from evalkit.base.version import __version__
from evalkit.model.config import LoadedSuite
from evalkit.model.record import CaseRecord
from evalkit.storage.runlock import RunLock
from evalkit.storage.store import (
    new_run_id,
    now_iso,
    read_manifest,
    read_records,
    run_dir,
    write_manifest,
)


@dataclass
class OpenRun:
    """A run directory ready to be written: its manifest, what is already done, and its lock."""

    path: Path
    manifest: dict[str, Any]
    #: the latest record per (case, repeat) already on disk (empty for a new run)
    done: dict[tuple[str, int], CaseRecord]
    lock: RunLock


def prepare_run_dir(
    suite: LoadedSuite,
    resume: Path | None,
    *,
    use_cache: bool = True,
    selection: dict[str, Any] | None = None,
) -> OpenRun:
    """Create a new run directory, or reopen one to resume; either way take its lock first.

    A run made with ``--no-cache`` records that in its manifest, so resuming it does not read the
    cache either.
    """
    project = suite.project
    prompt_version = suite.prompt.version if suite.prompt else "no-prompt"
    if resume is not None:
        path = resume
        manifest = read_manifest(path)
        lock = RunLock(path, str(manifest.get("run_id", path.name)))
        try:
            manifest = read_manifest(path)  # as the last writer left it
            _check_resumable(manifest, suite, prompt_version, path)
            done = {rec.key: rec for rec in read_records(path)}
            manifest["resumed_at"] = [*manifest.get("resumed_at", []), now_iso()]
            manifest.update(status="running", writer=_writer())
            write_manifest(path, manifest)
        except BaseException:
            lock.release()
            raise
        return OpenRun(path, manifest, done, lock)
    run_id = new_run_id()
    path = run_dir(project.resolve(project.runs_dir), suite.name, prompt_version, run_id)
    try:
        path.mkdir(parents=True, exist_ok=False)
    except OSError as exc:
        raise StorageError.from_os(exc, path) from None
    lock = RunLock(path, run_id)
    target = suite.target
    fresh: dict[str, Any] = {
        "run_id": run_id,
        "suite": suite.name,
        "prompt_version": prompt_version,
        "prompt_label": suite.prompt.label if suite.prompt else None,
        "prompt_path": _rel(suite.prompt.path, project.root) if suite.prompt else None,
        "target": {
            "provider": target.provider,
            "model": target.model,
            "params": target.params,
            "base_url": target.base_url,
            "callable": target.callable,
            "wire": target.wire if target.provider == "scripted" else None,
        },
        "judge_versions": {},
        "golden_path": _rel(suite.golden.path, project.root),
        "golden_sha": suite.golden.sha,
        "cases": len(suite.cases),
        "repeats": suite.config.repeats,
        "use_cache": use_cache,
        "git": _git_info(project.root),
        "evalkit_version": __version__,
        "started_at": now_iso(),
        "finished_at": None,
        "status": "running",
        "writer": _writer(),
    }
    if selection:  # a subset, sample or shard (evalkit.api.select)
        fresh["selection"] = selection
    try:
        write_manifest(path, fresh)
    except BaseException:
        lock.release()
        raise
    return OpenRun(path, fresh, {}, lock)


def _writer() -> dict[str, Any]:
    """Who is writing the run (informational: liveness comes from the lock, see runlock)."""
    return {"pid": os.getpid(), "host": socket.gethostname()}


def _check_resumable(
    manifest: dict[str, Any], suite: LoadedSuite, prompt_version: str, path: Path
) -> None:
    mismatches = []
    if manifest.get("suite") != suite.name:
        mismatches.append(f"suite {manifest.get('suite')!r} (now {suite.name!r})")
    if manifest.get("prompt_version") != prompt_version:
        mismatches.append(f"prompt version {manifest.get('prompt_version')} (now {prompt_version})")
    if manifest.get("golden_sha") != suite.golden.sha:
        mismatches.append("a different golden set")
    if mismatches:
        raise InputError(
            "cannot resume: that run was made with "
            + "; ".join(mismatches)
            + ". Start a new run instead.",
            path=path / "manifest.json",
        )


def _rel(p: str | Path, root: Path) -> str:
    try:
        return str(Path(p).resolve().relative_to(root.resolve()))
    except ValueError:
        return str(p)


def _git_info(root: Path) -> dict[str, Any]:
    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(
                ["git", *args], cwd=root, capture_output=True, text=True, timeout=5, check=True
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip()

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"commit": commit, "dirty": bool(status) if status is not None else None}
