"""`evalkit compare` and `evalkit baseline` through the real entry point and its exit codes."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from evalkit.analysis.synthetic import example_pair
from evalkit.cli import main


def _run(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    example_pair(tmp_path / "runs")
    return tmp_path


def test_compare_by_id_writes_outputs(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = _run(
        [
            "compare",
            "run-base",
            "run-head",
            "--json",
            "c.json",
            "--markdown",
            "c.md",
            "--junit",
            "j.xml",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "inconclusive, underpowered" in out and "c07" in out
    data = json.loads((project / "c.json").read_text())
    assert data["min_pairs"] == 10 and data["overall"]["base_better"] == 2
    assert data["checks"][0]["adjusted"] is True
    # 3 changed cases: no interval, and the JSON says why
    assert data["overall"]["ci_level"] is None and data["overall"]["p_value"] is None
    assert data["overall"]["ci_note"].startswith("only 3 of 10 cases changed")
    assert (project / "c.md").read_text().startswith("## evalkit · support")
    assert ET.parse(project / "j.xml").getroot().tag == "testsuites"


def test_compare_by_path_and_prefix(project: Path) -> None:
    assert _run(["compare", "runs/support/p1/run-base", "run-h"]) == 0


def test_compare_missing_run_exits_2(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["compare", "run-base", "nope"]) == 2
    assert "no run 'nope'" in capsys.readouterr().err
    assert _run(["compare", "run-", "run-head"]) == 2  # ambiguous prefix


def test_compare_help_has_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["compare", "--help"]) == 0
    assert "Example:" in capsys.readouterr().out


def test_baseline_set_and_show(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["baseline", "set", "run-base"]) == 0
    assert (project / "runs/baselines/support.json").exists()
    capsys.readouterr()
    assert _run(["baseline", "show"]) == 0
    assert "support: run-base prompt p1" in capsys.readouterr().out
    assert _run(["baseline", "show", "support"]) == 0
    assert _run(["baseline", "show", "other"]) == 2
    assert _run(["baseline", "set", "missing"]) == 2
    for sub in (["baseline", "--help"], ["baseline", "set", "--help"]):
        assert _run(sub) == 0
        assert "Example:" in capsys.readouterr().out


def test_runs_dir_comes_from_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Like `evalkit runs`/`ci`, compare and baseline find runs under the config's runs_dir;
    --runs-dir still overrides it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "evalkit.yaml").write_text("suites: {}\nruns_dir: store\n")
    example_pair(tmp_path / "store")
    assert _run(["compare", "run-base", "run-head"]) == 0
    assert _run(["baseline", "set", "run-base"]) == 0
    assert (tmp_path / "store/baselines/support.json").exists()
    capsys.readouterr()
    assert _run(["baseline", "show", "support"]) == 0
    assert "support: run-base prompt p1" in capsys.readouterr().out
    assert _run(["compare", "run-base", "run-head", "--runs-dir", "runs"]) == 2
    assert _run(["compare", "run-base", "run-head", "--runs-dir", "store"]) == 0
