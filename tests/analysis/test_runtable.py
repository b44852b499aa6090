"""RunData, the one-pass reader compare counts with: the fast path (graded facts of each line of
a run on disk) and the in-memory path give exactly what the implementation before them gave."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evalkit.analysis.compare import compare_runs
from evalkit.analysis.runtable import RunData
from evalkit.analysis.synthetic import write_run
from evalkit.model.outcome import CheckResult, Outcome
from evalkit.model.record import CaseRecord
from evalkit.storage.lazyrun import open_run
from evalkit.storage.store import RESULTS, encode_record, load_run
from tests.analysis.random_runs import CASES, write_pair

GOLDEN = Path(__file__).parent / "data" / "compare_golden.json"


def _dump(base: Any, head: Any, key: str | None, root: Path) -> dict[str, Any]:
    data = compare_runs(base, head, cluster_key=key).model_dump(mode="json")
    for side in ("base", "head"):
        data[side]["path"] = data[side]["path"].removeprefix(str(root))
    # the golden file went through JSON text: compare like with like
    loaded: dict[str, Any] = json.loads(json.dumps(data))
    return loaded


@pytest.mark.parametrize(("seed", "key"), CASES)
def test_both_readers_give_exactly_the_previous_implementations_comparison(
    tmp_path: Path, seed: int, key: str | None
) -> None:
    """Every figure, case status, reason, warning and summary, bit for bit, on random runs
    with repeats, errors, duplicate grader names and superseded lines."""
    expected = json.loads(GOLDEN.read_text("utf-8"))[f"{seed}:{key}"]
    root = tmp_path / str(seed)
    b, h = write_pair(root, seed)
    fast = _dump(open_run(b), open_run(h), key, tmp_path)
    in_memory = _dump(load_run(b), load_run(h), key, tmp_path)
    assert fast == expected
    assert in_memory == expected


def _rec(case: str, repeat: int, outcome: Outcome, tags: list[str]) -> CaseRecord:
    check = CheckResult(name="c", outcome=outcome, reason=f"{case}/{repeat}")
    return CaseRecord(case_id=case, repeat=repeat, tags=tags, outcome=outcome, checks=[check])


def test_a_superseded_line_neither_counts_nor_places_its_case(tmp_path: Path) -> None:
    """A resumed run re-wrote a's repeat 0 after b: a now comes after b, with its new tags and
    outcome, and the errored line it replaced counts nowhere."""
    path = write_run(
        tmp_path,
        [
            _rec("a", 0, Outcome.ERROR, ["old"]),
            _rec("b", 0, Outcome.PASS, ["x"]),
            _rec("a", 0, Outcome.FAIL, ["new"]),
        ],
    )
    for run in (open_run(path), load_run(path)):
        data = RunData(run)
        assert data.case_ids == ["b", "a"]
        assert data.tags == {"b": ["x"], "a": ["new"]}
        assert data.n_records == 2
        assert data.overall.errored.tolist() == [0, 0]
        assert data.checks["c"].failed.tolist() == [0, 1]
        assert data.reasons("a") == ["c fail: a/0"]
        assert data.n_errors == {}


def test_the_fast_reader_counts_what_is_on_disk_not_what_was_read_before(
    tmp_path: Path,
) -> None:
    """A LazyRun is read from its file until its records are loaded; then from them."""
    path = write_run(tmp_path, [_rec("a", 0, Outcome.PASS, [])])
    run = open_run(path)
    with (path / RESULTS).open("a", encoding="utf-8") as fh:
        fh.write(encode_record(_rec("b", 0, Outcome.FAIL, [])))
    assert not run.loaded
    assert RunData(run).case_ids == ["a", "b"]
    assert [r.case_id for r in run.records] == ["a", "b"]
    assert run.loaded
