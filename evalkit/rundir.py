"""Creating and resuming a run directory: the manifest a run starts with, its git and
golden-set fingerprints, and the summary and report it ends with."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from evalkit import __version__
from evalkit._files import write_atomic
from evalkit.config import LoadedSuite
from evalkit.exceptions import InputError
from evalkit.record import CaseRecord
from evalkit.store import (
    REPORT_MD,
    SUMMARY,
    new_run_id,
    now_iso,
    read_manifest,
    read_records,
    run_dir,
    write_manifest,
)


def prepare_run_dir(
    suite: LoadedSuite, resume: Path | None
) -> tuple[Path, dict[str, Any], dict[tuple[str, int], CaseRecord]]:
    project = suite.project
    prompt_version = suite.prompt.version if suite.prompt else "no-prompt"
    if resume is not None:
        path = resume
        manifest = read_manifest(path)
        _check_resumable(manifest, suite, prompt_version, path)
        done = {rec.key: rec for rec in read_records(path)}
        manifest["resumed_at"] = [*manifest.get("resumed_at", []), now_iso()]
        manifest["status"] = "running"
        write_manifest(path, manifest)
        return path, manifest, done
    run_id = new_run_id()
    path = run_dir(project.resolve(project.runs_dir), suite.name, prompt_version, run_id)
    path.mkdir(parents=True, exist_ok=False)
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
        "git": _git_info(project.root),
        "evalkit_version": __version__,
        "started_at": now_iso(),
        "finished_at": None,
        "status": "running",
    }
    write_manifest(path, fresh)
    return path, fresh, {}


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


def write_summary_and_report(
    path: Path, manifest: dict[str, Any], summary: dict[str, Any], records: list[CaseRecord]
) -> str:
    """Write ``summary.json`` and ``report.md``; returns the report's markdown."""
    from evalkit.report.markdown import run_report

    report = run_report(manifest, summary, records)
    write_atomic(path / SUMMARY, json.dumps(summary, indent=2, sort_keys=True) + "\n")
    write_atomic(path / REPORT_MD, report)
    return report
