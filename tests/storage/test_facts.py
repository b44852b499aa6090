"""The graded facts of results.jsonl lines: the same projection of a record whether it is read
from its line or from memory, every line (superseded ones too) with its offset, torn last line
skipped, corrupt lines named by file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.base.exceptions import InputError
from evalkit.storage.facts import facts_of, read_records_at, scan_facts
from evalkit.storage.store import RESULTS, decode_record, read_records
from tests.analysis.random_runs import write_pair


def test_a_line_reads_into_exactly_the_facts_of_its_record(tmp_path: Path) -> None:
    """Random records (errors, judges, unknown costs, lone surrogates): line and memory agree."""
    base, _ = write_pair(tmp_path, 4)
    lines = (base / RESULTS).read_text("utf-8").splitlines(keepends=True)
    scanned = list(scan_facts(base))
    assert len(scanned) == len(lines) > 30
    assert [f for _, f in scanned] == [facts_of(decode_record(line)) for line in lines]


def test_offsets_lead_back_to_the_full_records(tmp_path: Path) -> None:
    base, _ = write_pair(tmp_path, 2)
    offsets = [offset for offset, _ in scan_facts(base)]
    data = (base / RESULTS).read_bytes()
    assert all(o == 0 or data[o - 1 : o] == b"\n" for o in offsets)
    every = read_records_at(base, offsets)
    # the latest line of each (case, repeat), in file order: read_records
    latest = {r.key: i for i, r in enumerate(every)}
    assert [every[i] for i in sorted(latest.values())] == read_records(base)


def test_a_torn_last_line_and_blank_lines_are_skipped(tmp_path: Path) -> None:
    base, _ = write_pair(tmp_path, 1)
    whole = len(list(scan_facts(base)))
    with (base / RESULTS).open("a", encoding="utf-8") as fh:
        fh.write('\n{"case_id": "torn", "outc')  # killed mid-write, after a blank line
    assert len(list(scan_facts(base))) == whole


def test_a_corrupt_line_is_named_by_file_and_line(tmp_path: Path) -> None:
    base, _ = write_pair(tmp_path, 1)
    lines = (base / RESULTS).read_text("utf-8").splitlines(keepends=True)
    lines[2] = lines[2].replace('"outcome":"', '"outcome":"maybe', 1)
    (base / RESULTS).write_text("".join(lines), encoding="utf-8")
    with pytest.raises(InputError) as err:
        list(scan_facts(base))
    assert err.value.line == 3 and err.value.path == str(base / RESULTS)
    assert "corrupt result record" in str(err.value)


def test_no_results_file_is_no_facts(tmp_path: Path) -> None:
    assert list(scan_facts(tmp_path)) == []
