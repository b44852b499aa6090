from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.exceptions import InputError
from evalkit.outcome import Outcome
from evalkit.record import CaseRecord
from evalkit.store import (
    append_record,
    open_results,
    read_records,
    resolve_run,
    write_manifest,
)


def rec(case_id: str) -> CaseRecord:
    return CaseRecord(case_id=case_id, outcome=Outcome.PASS, output="x")


def test_torn_last_line_is_ignored_then_trimmed_on_append(tmp_path: Path) -> None:
    with open_results(tmp_path) as fh:
        append_record(fh, rec("a"))
        append_record(fh, rec("b"))
    with (tmp_path / "results.jsonl").open("a") as fh:
        fh.write('{"case_id": "c", "outc')  # killed mid-write
    assert [r.case_id for r in read_records(tmp_path)] == ["a", "b"]
    with open_results(tmp_path) as fh:
        append_record(fh, rec("c"))
    assert [r.case_id for r in read_records(tmp_path)] == ["a", "b", "c"]


def test_corrupt_middle_line_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "results.jsonl").write_text(rec("a").model_dump_json() + '\n{"x": 1}\n')
    with pytest.raises(InputError) as err:
        read_records(tmp_path)
    assert err.value.line == 2


def test_resolve_run_by_dir_id_and_prefix(tmp_path: Path) -> None:
    for run_id in ("20261101T000000-aaaaaa", "20261102T000000-bbbbbb"):
        d = tmp_path / "suite" / "pv" / run_id
        d.mkdir(parents=True)
        write_manifest(d, {"run_id": run_id})
    assert resolve_run("20261101T000000-aaaaaa", tmp_path).name.endswith("aaaaaa")
    assert resolve_run("20261102", tmp_path).name.endswith("bbbbbb")
    direct = tmp_path / "suite" / "pv" / "20261101T000000-aaaaaa"
    assert resolve_run(str(direct), tmp_path) == direct
    with pytest.raises(InputError, match="ambiguous"):
        resolve_run("2026110", tmp_path)
    with pytest.raises(InputError, match="no run"):
        resolve_run("nope", tmp_path)
