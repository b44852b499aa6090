"""Run directories: ``runs/<suite>/<prompt-version>/<run-id>/`` with append-only results.

``results.jsonl`` is appended and flushed per finished case, so a killed run loses at most the
line being written; :func:`read_records` drops a torn last line and :func:`open_results` trims it
before appending again.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from evalkit._files import read_text, write_atomic
from evalkit.exceptions import InputError
from evalkit.record import CaseRecord

MANIFEST = "manifest.json"
RESULTS = "results.jsonl"
SUMMARY = "summary.json"
REPORT_MD = "report.md"
# flush() already survives a killed process; fsync also survives power loss, at a cost per case.
_FSYNC = bool(os.environ.get("EVALKIT_FSYNC"))


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def new_run_id() -> str:
    """Sortable by time, unique without coordination."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    return f"{stamp}-{secrets.token_hex(3)}"


@dataclass
class StoredRun:
    """A run read back from disk."""

    path: Path
    manifest: dict[str, Any]
    records: list[CaseRecord] = field(default_factory=list)

    @property
    def run_id(self) -> str:
        return str(self.manifest.get("run_id", self.path.name))

    @property
    def suite(self) -> str:
        return str(self.manifest.get("suite", ""))

    @property
    def summary(self) -> dict[str, Any] | None:
        p = self.path / SUMMARY
        return json.loads(p.read_text("utf-8")) if p.exists() else None


def run_dir(root: Path, suite: str, prompt_version: str, run_id: str) -> Path:
    return root / suite / prompt_version / run_id


def write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    write_atomic(path / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def read_manifest(path: Path) -> dict[str, Any]:
    p = path / MANIFEST
    try:
        data = json.loads(read_text(p))
    except json.JSONDecodeError as exc:
        raise InputError(f"corrupt manifest: {exc.msg}", path=p, line=exc.lineno) from None
    if not isinstance(data, dict):
        raise InputError("manifest is not a JSON object", path=p)
    return data


def iter_records(path: Path) -> Iterator[CaseRecord]:
    """Records of a run in file order; a torn final line (killed mid-write) is skipped."""
    p = path / RESULTS
    if not p.exists():
        return
    with p.open("r", encoding="utf-8") as fh:
        lines = fh.readlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if not line.endswith("\n") and number == len(lines):
            return  # torn write from an interrupted run
        try:
            yield CaseRecord.model_validate_json(line)
        except ValidationError as exc:
            raise InputError(
                f"corrupt result record: {exc.errors()[0]['msg']}", path=p, line=number
            ) from None


def read_records(path: Path) -> list[CaseRecord]:
    return list(iter_records(path))


def open_results(path: Path) -> IO[str]:
    """Open results.jsonl for appending, first trimming a torn last line."""
    p = path / RESULTS
    if p.exists():
        with p.open("rb+") as fh:
            data = fh.read()
            if data and not data.endswith(b"\n"):
                cut = data.rfind(b"\n") + 1
                fh.truncate(cut)
    return p.open("a", encoding="utf-8")


def append_record(fh: IO[str], record: CaseRecord) -> None:
    """Append one record and flush it to the OS so a kill loses nothing already finished."""
    fh.write(record.model_dump_json(exclude_none=False) + "\n")
    fh.flush()
    if _FSYNC:
        os.fsync(fh.fileno())


def load_run(path: Path) -> StoredRun:
    return StoredRun(path=path, manifest=read_manifest(path), records=read_records(path))


def iter_run_dirs(root: Path) -> Iterator[Path]:
    """Every run directory under ``root`` (those with a manifest), oldest first."""
    if not root.exists():
        return
    found = [m.parent for m in root.glob(f"*/*/*/{MANIFEST}")]
    found.sort(key=lambda p: p.name)
    yield from found


def resolve_run(ref: str, root: Path) -> Path:
    """A RUN argument is a run directory or a run id (or a unique prefix of one)."""
    p = Path(ref)
    if (p / MANIFEST).exists():
        return p
    matches = [d for d in iter_run_dirs(root) if d.name == ref or d.name.startswith(ref)]
    exact = [d for d in matches if d.name == ref]
    if len(exact) == 1:
        return exact[0]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise InputError(
            f"no run {ref!r} (not a run directory, nor a run id under {root})", field="RUN"
        )
    names = ", ".join(d.name for d in matches[:5])
    raise InputError(f"run id prefix {ref!r} is ambiguous: {names}", field="RUN")
