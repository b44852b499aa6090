"""Baseline pointers and snapshots, and finish_ci's outputs and exit codes."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from evalkit.analysis.synthetic import example_pair, random_records, write_run
from evalkit.api.ci import finish_ci
from evalkit.base.exceptions import InputError
from evalkit.model.gate import Gate
from evalkit.storage.baseline import get_baseline, list_baselines, load_baseline, set_baseline
from evalkit.storage.store import load_run


def test_set_and_get_baseline(tmp_path: Path) -> None:
    b, _ = example_pair(tmp_path / "runs")
    pointer = set_baseline(load_run(b), project_root=tmp_path)
    assert pointer.path == "runs/support/p1/run-base"
    assert (tmp_path / "runs/baselines/support.json").exists()
    stored = json.loads((tmp_path / "runs/baselines/support.json").read_text())
    assert stored["run_id"] == "run-base" and stored["prompt_version"] == "p1"
    assert get_baseline("support", project_root=tmp_path) == pointer
    assert get_baseline("other", project_root=tmp_path) is None
    assert [p.suite for p in list_baselines(tmp_path)] == ["support"]


def test_snapshot_survives_missing_run_dir(tmp_path: Path) -> None:
    """runs/* is git-ignored: on a fresh CI checkout only runs/baselines/ exists."""
    b, _ = example_pair(tmp_path / "runs")
    set_baseline(load_run(b), project_root=tmp_path)
    shutil.rmtree(tmp_path / "runs/support")
    run = load_baseline("support", project_root=tmp_path)
    assert run is not None and run.run_id == "run-base" and len(run.records) == 12


def test_dangling_or_corrupt_pointer_is_input_error(tmp_path: Path) -> None:
    b, _ = example_pair(tmp_path / "runs")
    set_baseline(load_run(b), project_root=tmp_path)
    shutil.rmtree(tmp_path / "runs/baselines/support")
    shutil.rmtree(tmp_path / "runs/support")
    with pytest.raises(InputError, match="baseline run run-base is missing"):
        load_baseline("support", project_root=tmp_path)
    (tmp_path / "runs/baselines/support.json").write_text('{"suite": "support"}')
    with pytest.raises(InputError, match=r"support\.json"):
        get_baseline("support", project_root=tmp_path)


def test_bad_suite_name(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        get_baseline("../etc", project_root=tmp_path)


def test_finish_ci_with_baseline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    b, h = example_pair(tmp_path / "runs")
    set_baseline(load_run(b), project_root=tmp_path)
    step = tmp_path / "step_summary.md"
    step.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step))
    out = tmp_path / "out"
    code = finish_ci(
        h, project_root=tmp_path, suite="support", gate=Gate(fail_on="any-regression"), out_dir=out
    )
    assert code == 1
    md = (out / "summary.md").read_text()
    assert md.startswith("## ❌ evalkit · support: gate failed (fail_on: any-regression)")
    assert step.read_text().startswith("earlier step\n## ❌")
    data = json.loads((out / "summary.json").read_text())
    assert data["gate"]["passed"] is False and data["baseline"]["run_id"] == "run-base"
    assert data["comparison"]["overall"]["n"] == 10
    assert len(list(ET.parse(out / "junit.xml").getroot().iter("testcase"))) == 12
    assert finish_ci(h, project_root=tmp_path, suite="support", gate=Gate(), out_dir=out) == 0


def test_finish_ci_without_baseline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    h = write_run(tmp_path / "runs", random_records(30, 2, pass_prob=0.5, seed=0))
    out = tmp_path / "out"
    assert finish_ci(h, project_root=tmp_path, suite="support", gate=None, out_dir=out) == 0
    code = finish_ci(
        h, project_root=tmp_path, suite="support", gate=Gate(min_pass_rate=0.9), out_dir=out
    )
    assert code == 1
    data = json.loads((out / "summary.json").read_text())
    assert data["baseline"] is None and "run" in data
    assert "No baseline" in (out / "summary.md").read_text()
