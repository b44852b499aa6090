"""LazyRun: a stored run whose records are read only when used, and records_of, which reads
just the lines of the cases asked for."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.base.exceptions import InputError
from evalkit.storage.lazyrun import LazyRun, open_run, records_of
from evalkit.storage.store import RESULTS, load_run, read_records
from tests.analysis.random_runs import write_pair


def test_open_run_resolves_like_load_run_and_reads_records_on_first_use(
    tmp_path: Path,
) -> None:
    base, _ = write_pair(tmp_path / "runs", 3)
    run = open_run("base-", runs_dir=tmp_path / "runs")  # a unique id prefix
    assert isinstance(run, LazyRun) and run.path == base and not run.loaded
    stored = load_run(base)
    assert run.manifest == stored.manifest and run.run_id == stored.run_id
    assert run.records == stored.records == read_records(base)
    assert run.loaded


@pytest.mark.parametrize("state", ["unread", "scanned", "loaded", "in memory"])
def test_records_of_is_read_records_of_those_cases(tmp_path: Path, state: str) -> None:
    """The latest record per repeat (the run has superseded lines), in file order, whether
    the lines are found by a fresh scan, by the offsets a facts scan noted, or in memory."""
    base, _ = write_pair(tmp_path, 1)
    every = read_records(base)
    wanted = {"c003", "c010", "c011", "c050", "absent"}
    run = load_run(base) if state == "in memory" else open_run(base)
    if state == "scanned":
        assert isinstance(run, LazyRun)
        list(run.scan_facts())
    if state == "loaded":
        run.records  # noqa: B018
    got = records_of(run, wanted)
    assert sorted(got) == ["c003", "c010", "c011", "c050"]
    for case, records in got.items():
        assert records == [r for r in every if r.case_id == case]
    assert state == "in memory" or not isinstance(run, LazyRun) or run.loaded == (state == "loaded")


def test_a_corrupt_line_of_a_wanted_case_is_named(tmp_path: Path) -> None:
    base, _ = write_pair(tmp_path, 1)
    lines = (base / RESULTS).read_text("utf-8").splitlines(keepends=True)
    lines[4] = lines[4].replace('"tags":[', '"tags":7,"x":[', 1)
    (base / RESULTS).write_text("".join(lines), encoding="utf-8")
    case = lines[4].split('"')[3]
    with pytest.raises(InputError) as err:
        records_of(open_run(base), [case])
    assert err.value.line == 5 and "corrupt result record" in str(err.value)
