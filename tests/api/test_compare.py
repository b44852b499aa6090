"""The compare job from Python: the same comparison and files as `evalkit compare`."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import evalkit
from evalkit.analysis.compare import compare_runs
from evalkit.analysis.synthetic import example_pair
from evalkit.api.compare import CompareResult, compare
from evalkit.storage.store import load_run


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    example_pair(tmp_path / "runs")
    return tmp_path / "runs"


def test_compare_by_id_matches_compare_runs_and_writes_every_file(
    runs: Path, tmp_path: Path
) -> None:
    result = compare("run-base", "run-head", runs_dir=runs)
    expected = compare_runs(load_run(runs / "support" / "p1" / "run-base"), result.head)
    assert isinstance(result, CompareResult) and result.pairwise is None
    assert result.comparison.model_dump() == expected.model_dump()
    assert (result.base.run_id, result.head.run_id) == ("run-base", "run-head")

    out = tmp_path / "out"
    out.mkdir()
    result.write(json_path=out / "c.json", markdown=out / "c.md", junit=out / "j.xml")
    data = json.loads((out / "c.json").read_text())
    assert data["overall"]["verdict"] == result.comparison.overall.verdict
    assert "pairwise" not in data
    assert "c07" in (out / "c.md").read_text()
    cases = ET.parse(out / "j.xml").getroot().iter("testcase")
    assert {c.get("name") for c in cases} >= {"c07", "c11"}


def test_the_json_file_is_the_whole_comparison_one_changed_case_a_line(
    runs: Path, tmp_path: Path
) -> None:
    result = compare("run-base", "run-head", runs_dir=runs)
    change = result.comparison.cases[0]
    # a lone surrogate and a line break from an output stay JSON escapes
    result.comparison.cases[0] = change.model_copy(update={"reasons": ["a\ud800b\nc"]})
    result.write(json_path=tmp_path / "c.json")
    text = (tmp_path / "c.json").read_text("ascii")
    assert json.loads(text) == json.loads(json.dumps(result.comparison.model_dump(mode="json")))
    lines = text.splitlines()
    at = lines.index('  "cases": [') + 1
    items = [f"    {json.dumps(c.model_dump(mode='json'))}" for c in result.comparison.cases]
    assert lines[at : at + len(items) + 1] == [*(i + "," for i in items[:-1]), items[-1], "  ],"]
    assert '"reasons": ["a\\ud800b\\nc"]' in text
    assert '  "overall": {\n    "kind": "overall",' in text  # nested objects stay indented


def test_runs_given_as_stored_runs_or_paths_compare_the_same(runs: Path) -> None:
    base_dir, head_dir = runs / "support" / "p1" / "run-base", runs / "support" / "p2" / "run-head"
    by_path = compare(base_dir, head_dir)
    by_run = compare(load_run(base_dir), load_run(head_dir), cluster_key="tag:")
    assert by_path.comparison.overall.diff == by_run.comparison.overall.diff
    assert evalkit.compare is compare


def test_a_pairwise_judge_needs_the_project(runs: Path) -> None:
    with pytest.raises(ValueError, match="needs the project"):
        compare("run-base", "run-head", runs_dir=runs, pairwise_judge="preference")


def test_an_unknown_run_is_an_input_error(runs: Path) -> None:
    with pytest.raises(evalkit.InputError):
        compare("no-such-run", "run-head", runs_dir=runs)


def test_compare_reads_whole_records_only_for_what_an_output_shows(tmp_path: Path) -> None:
    """Counting needs each line's graded facts; the HTML page decodes only the changed cases it
    shows side by side; the markdown (no judge to calibrate) none; JUnit every head record."""
    from evalkit.analysis.synthetic import random_records, write_run
    from evalkit.report.html.compare import compare_page_data
    from evalkit.storage.lazyrun import LazyRun

    runs = tmp_path / "runs"
    write_run(runs, random_records(60, 3, pass_prob=0.9, seed=1), run_id="b", prompt_version="1")
    write_run(runs, random_records(60, 3, pass_prob=0.6, seed=2), run_id="h", prompt_version="2")
    result = compare("b", "h", runs_dir=runs)
    assert isinstance(result.base, LazyRun) and isinstance(result.head, LazyRun)
    result.root = tmp_path  # a project: the markdown would calibrate judges if there were any
    result.write(
        json_path=tmp_path / "c.json", markdown=tmp_path / "c.md", html=tmp_path / "c.html"
    )
    assert not result.base.loaded and not result.head.loaded
    in_memory = load_run(result.base.path), load_run(result.head.path)
    expected = compare_runs(*in_memory)
    assert result.comparison.model_dump() == expected.model_dump()
    page = compare_page_data(result.comparison, result.base, result.head)
    assert page == compare_page_data(expected, *in_memory)
    assert page["cases"] and all(c["head"] for c in page["cases"])  # outputs side by side
    assert not result.base.loaded and not result.head.loaded
    result.write(junit=tmp_path / "j.xml")
    assert result.head.loaded and not result.base.loaded
