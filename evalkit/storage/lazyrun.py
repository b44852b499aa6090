"""A stored run whose records are read from disk only when asked for.

``evalkit compare`` of two 100,000-case runs needs every record's outcomes (read fast as
:mod:`evalkit.storage.facts`), but the full records only of the few cases a report shows side by
side. :class:`LazyRun` is a :class:`~evalkit.storage.store.StoredRun` that defers
:func:`~evalkit.storage.store.read_records` to the first use of ``records``, and
:func:`records_of` reads just the lines of the cases asked for.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from evalkit.model.record import CaseRecord
from evalkit.storage.facts import RecordFacts, corrupt, read_records_at, scan_facts
from evalkit.storage.store import (
    MANIFEST,
    RESULTS,
    StoredRun,
    decode_record,
    latest_records,
    read_manifest,
    read_records,
    resolve_run,
)

#: the start of a line as encode_record writes it (a case id needs no decoding to be matched)
_CASE_PREFIX = re.compile(rb'\{"case_id":("(?:[^"\\]|\\.)*")')


class LazyRun(StoredRun):
    """A run read back from disk whose ``records`` are read on first use."""

    def __init__(self, path: Path, manifest: dict[str, Any]) -> None:
        self.path = path
        self.manifest = manifest
        self._records: list[CaseRecord] | None = None
        #: where the latest line of each (case, repeat) starts, once a scan has read them all
        self._lines: dict[tuple[str, int], int] | None = None

    def scan_facts(self) -> Iterator[RecordFacts]:
        """The facts of every line (:func:`~evalkit.storage.facts.scan_facts`, superseded
        ones included), noting where each (case, repeat)'s latest line starts so that
        :func:`records_of` reads just those lines afterwards."""
        lines: dict[tuple[str, int], int] = {}
        for offset, facts in scan_facts(self.path):
            lines[facts["case_id"], facts.get("repeat", 0)] = offset
            yield facts
        self._lines = lines

    @property
    def loaded(self) -> bool:
        """Whether ``records`` has been read (then it, not the file, is the run's content)."""
        return self._records is not None

    @property
    def records(self) -> list[CaseRecord]:
        if self._records is None:
            self._records = read_records(self.path)
        return self._records

    @records.setter
    def records(self, value: list[CaseRecord]) -> None:
        self._records = value


def open_run(run: str | Path, runs_dir: str | Path = "runs") -> LazyRun:
    """:func:`~evalkit.storage.store.load_run` without reading the records yet."""
    path = Path(run)
    if not (path / MANIFEST).exists():
        path = resolve_run(str(run), Path(runs_dir))
    return LazyRun(path, read_manifest(path))


def records_of(run: StoredRun, case_ids: Collection[str]) -> dict[str, list[CaseRecord]]:
    """The records of ``case_ids`` (the latest per repeat, in file order), by case id; of a
    :class:`LazyRun` not yet loaded, only their lines are decoded."""
    wanted = set(case_ids)
    out: dict[str, list[CaseRecord]] = {}
    if isinstance(run, LazyRun) and not run.loaded and run._lines is not None:
        offsets = sorted(at for (case, _), at in run._lines.items() if case in wanted)
        records = read_records_at(run.path, offsets)
    elif isinstance(run, LazyRun) and not run.loaded:
        records = latest_records(_scan(run.path, wanted))
    else:
        records = [r for r in run.records if r.case_id in wanted]
    for rec in records:
        out.setdefault(rec.case_id, []).append(rec)
    return out


def _scan(path: Path, wanted: set[str]) -> list[CaseRecord]:
    """Every whole line of ``wanted`` cases decoded, superseded ones too (the caller keeps the
    latest); a line not in encode_record's shape is decoded to learn its case."""
    p = path / RESULTS
    if not p.exists() or not wanted:
        return []
    out = []
    with p.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.endswith(b"\n") or not line.strip():
                continue
            m = _CASE_PREFIX.match(line)
            if m is not None and json.loads(m.group(1)) not in wanted:
                continue
            try:
                rec = decode_record(line.decode("utf-8"))
            except (ValidationError, ValueError) as exc:
                raise corrupt(exc, p, line=number) from None
            if rec.case_id in wanted:
                out.append(rec)
    return out
