"""Run directories: ``runs/<suite>/<prompt-version>/<run-id>/`` with append-only results.

``results.jsonl`` gets one unbuffered write per finished case (:class:`ResultsWriter`), so a
killed run loses at most the line being written; readers skip a torn last line and the writer
trims it before appending again. Lines are never rewritten: a resumed run appends a retried
case's new record, and :func:`read_records` keeps the latest record per (case, repeat).
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import PydanticSerializationError

from evalkit.base.exceptions import InputError, StorageError
from evalkit.base.files import read_text, write_atomic
from evalkit.model.record import CaseRecord

MANIFEST = "manifest.json"
RESULTS = "results.jsonl"
SUMMARY = "summary.json"
LATEST = "latest"
#: runs/baselines/: the committed baseline pointers and copies (storage.baseline)
BASELINES = "baselines"
REPORT_MD = "report.md"
REPORT_HTML = "report.html"
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
    write_run_file(path / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def write_run_file(path: Path, text: str | Iterable[str]) -> None:
    """Atomically (re)write one file of a run, given whole or in pieces (a page too large to
    hold as one string); a failed write is a StorageError naming it."""
    try:
        write_atomic(path, text)
    except OSError as exc:
        raise StorageError.from_os(exc, path) from None


def read_manifest(path: Path) -> dict[str, Any]:
    p = path / MANIFEST
    try:
        data = json.loads(read_text(p))
    except json.JSONDecodeError as exc:
        raise InputError(f"corrupt manifest: {exc.msg}", path=p, line=exc.lineno) from None
    if not isinstance(data, dict):
        raise InputError("manifest is not a JSON object", path=p)
    return data


def encode_model(model: BaseModel, *, indent: int | None = None) -> str:
    """A pydantic model as JSON text, lossless for any str, lone surrogates too.

    pydantic's JSON encoder refuses a lone surrogate (``"\\ud800"``, which a model may send as
    valid JSON); such models go through :func:`json.dumps` with ASCII escapes instead, which
    :func:`json.loads` (and :func:`decode_record`) reads back to the identical str.
    """
    try:
        return model.model_dump_json(indent=indent)
    except PydanticSerializationError:
        # python mode: the JSON mode would mangle a surrogate in a dict key
        separators = (",", ":") if indent is None else (",", ": ")
        return json.dumps(model.model_dump(), indent=indent, separators=separators)


def encode_record(record: CaseRecord) -> str:
    """One results.jsonl line (with its newline): :func:`encode_model`, lossless."""
    return encode_model(record) + "\n"


def decode_record(line: str) -> CaseRecord:
    """Parse one results.jsonl line (raises ValidationError or ValueError when corrupt)."""
    return validate_line(_RECORD, line)


_RECORD: TypeAdapter[CaseRecord] = TypeAdapter(CaseRecord)
T = TypeVar("T")


def validate_line(adapter: TypeAdapter[T], line: str | bytes) -> T:
    """One JSON line through ``adapter`` (raises ValidationError or ValueError when corrupt)."""
    try:
        return adapter.validate_json(line)
    except ValidationError as exc:
        if exc.errors()[0]["type"] != "json_invalid":
            raise
        # pydantic's JSON parser rejects escaped lone surrogates; the stdlib keeps them
        return adapter.validate_python(json.loads(line))


def iter_all_records(path: Path) -> Iterator[CaseRecord]:
    """Every line of a run's results in file order, superseded ones included.

    Most readers want :func:`read_records` or :func:`iter_records`. A torn final line (killed
    mid-write) is skipped. Lines are read one at a time: a 100,000-case run is never held whole.
    """
    for number, line in _lines(path / RESULTS):
        yield _decode_line(line, path / RESULTS, number)


def _lines(p: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of each whole, non-blank line; a torn last line (no newline) is
    skipped: only the last line of a file can lack one."""
    if not p.exists():
        return
    with p.open("r", encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if line.endswith("\n") and line.strip():
                yield number, line


def _decode_line(line: str, p: Path, number: int) -> CaseRecord:
    try:
        return decode_record(line)
    except (ValidationError, ValueError) as exc:
        msg = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        raise InputError(f"corrupt result record: {msg}", path=p, line=number) from None


#: the start of a line as encode_record writes it; other lines are parsed whole for their key
_KEY_PREFIX = re.compile(r'\{"case_id":("(?:[^"\\]|\\.)*"),"repeat":(\d+)[,}]')


def _line_key(line: str, p: Path, number: int) -> tuple[str, int]:
    m = _KEY_PREFIX.match(line)
    if m is not None:
        return json.loads(m.group(1)), int(m.group(2))
    return _decode_line(line, p, number).key


def latest_records(records: Iterable[CaseRecord]) -> list[CaseRecord]:
    """The one rule for append-only results: the latest record per (case, repeat) wins.

    A resumed run appends a retried case's new record after its errored one; the new one
    supersedes it. Kept records are in the order of the lines that hold them.
    """
    latest: dict[tuple[str, int], CaseRecord] = {}
    for record in records:
        latest.pop(record.key, None)
        latest[record.key] = record
    return list(latest.values())


def iter_records(path: Path) -> Iterator[CaseRecord]:
    """A run's records streamed from disk, one per (case, repeat), exactly as
    :func:`read_records` lists them (the rule of :func:`latest_records`).

    Two passes over the file: the first reads only each line's key (to learn which line is the
    latest of its key), the second decodes the latest lines. Only the keys stay in memory.
    """
    p = path / RESULTS
    last: dict[tuple[str, int], int] = {}
    superseded = False
    end = 0
    for end, line in _lines(p):
        key = _line_key(line, p, end)
        superseded = superseded or key in last
        last[key] = end
    for number, line in _lines(p):
        if number > end:  # appended since the first pass (a live run): not in this reading
            return
        if superseded and last.get(_line_key(line, p, number)) != number:
            continue
        yield _decode_line(line, p, number)


def read_records(path: Path) -> list[CaseRecord]:
    """A run's records, one per (case, repeat): the latest line for each (see latest_records)."""
    return list(iter_records(path))


#: the low-level write a :class:`ResultsWriter` uses; tests plug in one that fails (ENOSPC)
WriteFn = Callable[[int, bytes], int]


class ResultsWriter:
    """Appends records to results.jsonl, one unbuffered write per record.

    Nothing is buffered in the process, so a kill loses at most the line being written. A write
    that fails (full disk) is rolled back to the last whole line (truncating frees space, so this
    works on a full disk too) and raised as :class:`StorageError` naming the file, so the run
    stops with everything already written intact and resumable.
    """

    def __init__(self, path: Path, *, write: WriteFn = os.write) -> None:
        self.path = path / RESULTS
        self._write = write
        _trim_torn_line(self.path)
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StorageError.from_os(exc, self.path) from None
        self._end = os.fstat(self._fd).st_size

    def append(self, record: CaseRecord) -> None:
        data = encode_record(record).encode("utf-8")
        rest = data
        try:
            while rest:
                rest = rest[self._write(self._fd, rest) :]
            if _FSYNC:
                os.fsync(self._fd)
        except OSError as exc:
            os.ftruncate(self._fd, self._end)
            raise StorageError.from_os(exc, self.path) from None
        self._end += len(data)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> ResultsWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _trim_torn_line(p: Path) -> None:
    """Cut a torn last line (a killed write) so the next append starts on a fresh line."""
    if not p.exists():
        return
    with p.open("rb+") as fh:
        size = fh.seek(0, os.SEEK_END)
        # read back only as far as the last newline, not the whole file
        back = min(size, 1 << 16)
        while back:
            fh.seek(size - back)
            tail = fh.read(back)
            if tail.endswith(b"\n"):
                return
            nl = tail.rfind(b"\n")
            if nl >= 0:
                fh.truncate(size - back + nl + 1)
                return
            if back == size:
                fh.truncate(0)
                return
            back = min(size, back * 2)


def load_run(run: str | Path, runs_dir: str | Path = "runs") -> StoredRun:
    """Read a stored run: a run directory, a run id (or unique prefix), or ``latest``.

    Ids and ``latest``/``SUITE/latest`` are looked up under ``runs_dir`` (see
    :func:`resolve_run`).
    """
    path = Path(run)
    if not (path / MANIFEST).exists():
        path = resolve_run(str(run), Path(runs_dir))
    return StoredRun(path=path, manifest=read_manifest(path), records=read_records(path))


def iter_run_dirs(root: Path) -> Iterator[Path]:
    """Every run directory under ``root`` (those with a manifest), oldest first."""
    if not root.exists():
        return
    found = [m.parent for m in root.glob(f"*/*/*/{MANIFEST}")]
    found.sort(key=lambda p: p.name)
    yield from found


def resolve_run(ref: str, root: Path) -> Path:
    """A RUN argument is a run directory, a run id (or a unique prefix of one), or ``latest``.

    ``latest`` is the newest run when every stored run belongs to one suite; with several
    suites it is ambiguous and ``SUITE/latest`` names the suite.
    """
    p = Path(ref)
    if (p / MANIFEST).exists():
        return p
    if ref == LATEST or ref.endswith("/" + LATEST):
        return _latest_run(ref[: -len(LATEST)].rstrip("/") or None, root)
    matches = [d for d in iter_run_dirs(root) if d.name == ref or d.name.startswith(ref)]
    if not matches:  # a fresh checkout has only the committed baselines' copies
        matches = [d for rid, d in _snapshots(root) if rid == ref or rid.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
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


def _snapshots(root: Path) -> list[tuple[str, Path]]:
    """(run id, folder) of each committed baseline copy, ``runs/baselines/<suite>/``."""
    out = []
    for manifest in sorted((root / BASELINES).glob(f"*/{MANIFEST}")):
        try:
            run_id = json.loads(manifest.read_text("utf-8")).get("run_id")
        except (OSError, ValueError):
            continue
        if isinstance(run_id, str) and run_id:
            out.append((run_id, manifest.parent))
    return out


def _latest_run(suite: str | None, root: Path) -> Path:
    """The newest run (run ids sort by time) of ``suite``, or of the only suite stored."""
    runs = list(iter_run_dirs(root))
    suites = sorted({d.parent.parent.name for d in runs})
    if suite is None and len(suites) > 1:
        raise InputError(
            f"`latest` is ambiguous: runs of several suites under {root} "
            f"({', '.join(suites)}); say SUITE/latest, e.g. {suites[0]}/latest",
            field="RUN",
        )
    mine = [d for d in runs if suite is None or d.parent.parent.name == suite]
    if not mine:
        where = f"of suite {suite!r} " if suite else ""
        raise InputError(f"no stored run {where}under {root}", field="RUN")
    return mine[-1]


def open_results(path: Path) -> ResultsWriter:
    """Open a run's results.jsonl for appending (trims a torn last line first)."""
    return ResultsWriter(path)


def append_record(writer: ResultsWriter, record: CaseRecord) -> None:
    """Append one record; it is on disk (in the OS) when this returns."""
    writer.append(record)
