from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from evalkit.base.exceptions import InputError, StorageError
from evalkit.model.outcome import Outcome
from evalkit.model.record import CaseRecord, ErrorInfo
from evalkit.storage.store import (
    RESULTS,
    ResultsWriter,
    append_record,
    decode_record,
    encode_record,
    iter_all_records,
    iter_records,
    latest_records,
    load_run,
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


def _store(root: Path, suite: str, pv: str, run_id: str) -> Path:
    d = root / suite / pv / run_id
    d.mkdir(parents=True)
    write_manifest(d, {"run_id": run_id, "suite": suite})
    with open_results(d) as fh:
        append_record(fh, rec(f"{suite}-{run_id[-1]}"))
    return d


def test_latest_is_the_newest_run_of_the_only_suite_or_of_suite_latest(tmp_path: Path) -> None:
    _store(tmp_path, "support", "pv2", "20261101T000000-aaaaaa")
    newest = _store(tmp_path, "support", "pv1", "20261103T000000-cccccc")
    _store(tmp_path, "support", "pv2", "20261102T000000-bbbbbb")
    assert resolve_run("latest", tmp_path) == newest  # newest by run id, across prompt versions
    other = _store(tmp_path, "triage", "pv1", "20261102T120000-dddddd")
    with pytest.raises(InputError, match=r"ambiguous.*support, triage.*SUITE/latest"):
        resolve_run("latest", tmp_path)
    assert resolve_run("support/latest", tmp_path) == newest
    assert resolve_run("triage/latest", tmp_path) == other
    with pytest.raises(InputError, match="no stored run of suite 'nope'"):
        resolve_run("nope/latest", tmp_path)
    with pytest.raises(InputError, match="no stored run under"):
        resolve_run("latest", tmp_path / "empty")


def test_load_run_takes_a_str_path_a_run_id_or_latest(tmp_path: Path) -> None:
    d = _store(tmp_path / "runs", "support", "pv", "20261101T000000-aaaaaa")
    by_str = load_run(str(d))
    assert by_str.path == d and by_str.run_id == "20261101T000000-aaaaaa"
    assert [r.case_id for r in by_str.records] == ["support-a"]
    assert load_run("20261101T000000-aaaaaa", tmp_path / "runs").path == d
    assert load_run("latest", str(tmp_path / "runs")).path == d
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert load_run("20261101").path.resolve() == d.resolve()  # default runs_dir: ./runs
    finally:
        os.chdir(cwd)
    with pytest.raises(InputError, match="no run 'missing'"):
        load_run("missing", tmp_path / "runs")


SURROGATES = ["\ud800", "a\udfffb", "\udc80\ud800", "pair \U0001f600 then lone \ud83d"]


@pytest.mark.parametrize("text", SURROGATES)
def test_lone_surrogates_round_trip_identically(text: str, tmp_path: Path) -> None:
    record = CaseRecord(
        case_id="s", outcome=Outcome.FAIL, output=text, vars={"q": text, text: [text]}
    )
    line = encode_record(record)
    line.encode("utf-8")  # a valid UTF-8 line (escaped), not a crash
    assert line.endswith("\n") and "\n" not in line[:-1]
    back = decode_record(line)
    assert back == record and back.output == text and back.vars == {"q": text, text: [text]}
    with open_results(tmp_path) as fh:
        append_record(fh, record)
        append_record(fh, rec("after"))
    assert [r.output for r in read_records(tmp_path)] == [text, "x"]


def test_ordinary_records_keep_the_fast_encoding() -> None:
    record = CaseRecord(case_id="é", outcome=Outcome.PASS, output="naïve 😀")
    assert encode_record(record) == record.model_dump_json() + "\n"
    assert json.loads(encode_record(record))["output"] == "naïve 😀"


def _error(case_id: str, repeat: int = 0) -> CaseRecord:
    return CaseRecord(
        case_id=case_id,
        repeat=repeat,
        outcome=Outcome.ERROR,
        error=ErrorInfo(kind="server", message="500"),
    )


def test_the_latest_record_per_case_and_repeat_wins(tmp_path: Path) -> None:
    first = [_error("a"), rec("b"), _error("a", 1), _error("c")]
    retried = [rec("a"), CaseRecord(case_id="a", repeat=1, outcome=Outcome.FAIL)]
    with open_results(tmp_path) as fh:
        for record in [*first, *retried]:
            append_record(fh, record)
    assert len(list(iter_all_records(tmp_path))) == 6
    kept = read_records(tmp_path)
    assert [(r.case_id, r.repeat, r.outcome) for r in kept] == [
        ("b", 0, Outcome.PASS),
        ("c", 0, Outcome.ERROR),
        ("a", 0, Outcome.PASS),
        ("a", 1, Outcome.FAIL),
    ]
    assert latest_records(iter_all_records(tmp_path)) == kept


class _FullDisk:
    """A write function that writes ``room`` bytes in all, then fails like a full disk."""

    def __init__(self, room: int) -> None:
        self.room = room

    def __call__(self, fd: int, data: bytes) -> int:
        if self.room <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        n = os.write(fd, data[: self.room])
        self.room -= n
        return n


def test_a_full_disk_rolls_back_the_torn_line_and_names_the_file(tmp_path: Path) -> None:
    with open_results(tmp_path) as fh:
        append_record(fh, rec("a"))
    size = (tmp_path / RESULTS).stat().st_size
    # room for half a record: the partial line must not stay on disk
    writer = ResultsWriter(tmp_path, write=_FullDisk(size // 2))
    with writer, pytest.raises(StorageError) as err:
        writer.append(rec("b"))
    assert str(tmp_path / RESULTS) in str(err.value) and "no space left" in str(err.value)
    assert err.value.exit_code == 3 and err.value.errno == errno.ENOSPC
    assert (tmp_path / RESULTS).stat().st_size == size
    assert [r.case_id for r in read_records(tmp_path)] == ["a"]
    with open_results(tmp_path) as fh:  # space freed: appending goes on after the last line
        append_record(fh, rec("b"))
    assert [r.case_id for r in read_records(tmp_path)] == ["a", "b"]


def test_a_short_write_is_completed(tmp_path: Path) -> None:
    def trickle(fd: int, data: bytes) -> int:
        return os.write(fd, data[:7])  # the OS may write less than asked

    with ResultsWriter(tmp_path, write=trickle) as writer:
        writer.append(rec("a"))
        writer.append(rec("b"))
    assert [r.case_id for r in read_records(tmp_path)] == ["a", "b"]


def test_a_torn_line_longer_than_the_read_back_window_is_trimmed(tmp_path: Path) -> None:
    with open_results(tmp_path) as fh:
        append_record(fh, rec("a"))
    with (tmp_path / RESULTS).open("a") as fh:
        fh.write('{"case_id": "b", "output": "' + "y" * 200_000)  # killed mid-write
    with open_results(tmp_path) as fh:
        append_record(fh, rec("c"))
    assert [r.case_id for r in read_records(tmp_path)] == ["a", "c"]


def test_streamed_records_are_the_latest_lines_in_file_order(tmp_path: Path) -> None:
    """iter_records reads keys first, then decodes only the latest line of each key: the same
    records as latest_records over every line, a surrogate-holding line (written by the stdlib
    encoder, not pydantic's) and a torn last line included."""
    odd = CaseRecord(case_id='q"\\\ud800', outcome=Outcome.ERROR, output="\ud800")
    lines = [_error("a"), odd, rec("b"), _error("a", 1), odd.model_copy(update={"output": "y"})]
    lines += [rec("a"), _error("c")]
    with open_results(tmp_path) as fh:
        for record in lines:
            append_record(fh, record)
    with (tmp_path / RESULTS).open("a", encoding="utf-8") as fh:
        fh.write(encode_record(rec("torn"))[:20])
    streamed = iter_records(tmp_path)
    assert not isinstance(streamed, list)  # a generator: nothing is read until asked
    kept = list(streamed)
    assert kept == latest_records(iter_all_records(tmp_path))
    assert [(r.case_id, r.repeat) for r in kept] == [
        ("b", 0),
        ("a", 1),
        ('q"\\\ud800', 0),
        ("a", 0),
        ("c", 0),
    ]
    assert kept[2].output == "y"


def test_streamed_records_of_a_run_without_retries_are_every_line(tmp_path: Path) -> None:
    records = [rec(f"c{i}") for i in range(5)]
    with open_results(tmp_path) as fh:
        for record in records:
            append_record(fh, record)
    assert list(iter_records(tmp_path)) == records
    assert list(iter_records(tmp_path / "missing")) == []
