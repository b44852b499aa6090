"""`evalkit run --case/--tag/--limit/--sample/--shard`: what runs, what the manifest records and
what the headline says the figures stand for."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from evalkit.storage.store import iter_run_dirs, read_manifest, read_records
from tests.conftest import MakeProject

N = 40
SCRIPT = "default: {text: 'ok fine'}\nresponses:\n" + "".join(
    f"  - when: {{case: c{i:02d}}}\n    text: 'nope'\n" for i in range(0, N, 4)
)


def project(make_project: MakeProject) -> Path:
    tags = [["billing"], ["billing"], ["shipping"], []]
    cases = [
        {"id": f"c{i:02d}", "vars": {"question": f"q{i}"}, "tags": tags[i % 4]} for i in range(N)
    ]
    return make_project({"goldens/demo.yaml": yaml.safe_dump(cases), "script.yaml": SCRIPT})


def run(root: Path, exit_code: Callable[[list[str]], int], *flags: str) -> tuple[int, Path | None]:
    before = set(iter_run_dirs(root / "runs"))
    code = exit_code(["run", "demo", "-c", str(root / "evalkit.yaml"), "-q", *flags])
    new = sorted(set(iter_run_dirs(root / "runs")) - before)
    return code, (new[-1] if new else None)


def test_case_tag_limit_select_and_are_recorded(
    make_project: MakeProject,
    exit_code: Callable[[list[str]], int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = project(make_project)
    code, path = run(root, exit_code, "--tag", "shipping", "--limit", "3")
    assert code == 0 and path is not None
    assert sorted(r.case_id for r in read_records(path)) == ["c02", "c06", "c10"]
    manifest = read_manifest(path)
    assert manifest["cases"] == 3
    assert manifest["selection"] == {
        "flags": {"tag": ["shipping"], "limit": 3},
        "selected": 3,
        "total": N,
    }
    out = capsys.readouterr().out
    assert "subset: 3 of 40 cases (--tag shipping --limit 3): these figures describe these " in out
    report = (path / "report.md").read_text()
    assert "subset: 3 of 40 cases" in report
    summary = json.loads((path / "summary.json").read_text())
    assert summary["selection"] == manifest["selection"] and summary["cases"] == 3

    code, path = run(root, exit_code, "--case", "c05", "--case", "c01")
    assert code == 0 and path is not None
    assert sorted(r.case_id for r in read_records(path)) == ["c01", "c05"]


def test_sample_says_it_estimates_the_full_suite(
    make_project: MakeProject,
    exit_code: Callable[[list[str]], int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = project(make_project)
    code, path = run(root, exit_code, "--sample", "10", "--seed", "4")
    assert code == 0 and path is not None
    sel = read_manifest(path)["selection"]
    assert sel["flags"] == {"sample": 10, "seed": 4}
    assert sel["selected"] == 10 and sel["population"] == N
    # 40 cases: billing 20, shipping 10, untagged 10 -> 5, 2.5, 2.5 -> 5, 3, 2 (ties by name)
    assert sel["strata"] == {
        "(untagged)": {"cases": 10, "sampled": 3},
        "billing": {"cases": 20, "sampled": 5},
        "shipping": {"cases": 10, "sampled": 2},
    }
    out = capsys.readouterr().out
    assert "sample of 10 of 40 cases (stratified by tag, seed 4" in out
    assert "these figures estimate the full suite" in out
    # the same seed draws the same cases again
    _code, again = run(root, exit_code, "--sample", "10", "--seed", "4")
    assert again is not None
    assert {r.case_id for r in read_records(again)} == {r.case_id for r in read_records(path)}


def test_empty_shard_runs_and_bad_flags_exit_2(
    make_project: MakeProject,
    exit_code: Callable[[list[str]], int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = project(make_project)
    assert run(root, exit_code, "--shard", "5/4")[0] == 2
    assert "--shard" in capsys.readouterr().err
    assert run(root, exit_code, "--case", "zz")[0] == 2
    assert "no case 'zz'" in capsys.readouterr().err
    assert run(root, exit_code, "--seed", "3")[0] == 2
    assert run(root, exit_code, "--limit", "0")[0] == 2
    assert not list(iter_run_dirs(root / "runs"))  # nothing was started


def test_resume_keeps_the_selection_and_refuses_new_flags(
    make_project: MakeProject, exit_code: Callable[[list[str]], int]
) -> None:
    root = project(make_project)
    code, path = run(root, exit_code, "--shard", "2/3")
    assert code == 0 and path is not None
    first = sorted(r.case_id for r in read_records(path))
    # drop one record, as if the run had been killed before it finished
    lines = (path / "results.jsonl").read_text().splitlines(keepends=True)
    (path / "results.jsonl").write_text("".join(lines[:-1]))
    config = str(root / "evalkit.yaml")
    assert exit_code(["run", "-c", config, "-q", "--resume", path.name]) == 0
    assert sorted(r.case_id for r in read_records(path)) == first  # not the whole suite
    assert exit_code(["run", "-c", config, "-q", "--resume", path.name, "--limit", "2"]) == 2
