"""`evalkit init`: a project of one's own that runs offline at once and never overwrites."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from evalkit.report.schema import config_schema
from tests.conftest import Cli

EXPECTED = {
    "evalkit.yaml",
    ".gitignore",
    ".github/workflows/evalkit.yml",
    "goldens/assistant.yaml",
    "prompts/assistant.yaml",
    "judges/correct.yaml",
    "judges/correct.labels.jsonl",
    "scripts/model.yaml",
    "scripts/judge.yaml",
    "evalkit.schema.json",
}


def test_init_then_validate_run_and_ci_pass_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli(["init", "proj"])
    assert code == 0
    root = tmp_path / "proj"
    written = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
    assert written == EXPECTED
    assert (root / "judges" / "correct.labels.jsonl").read_text() == ""
    # the editor schema is what `evalkit schema` prints, named on evalkit.yaml's first line
    first = (root / "evalkit.yaml").read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=evalkit.schema.json"
    assert json.loads((root / "evalkit.schema.json").read_text()) == config_schema()
    steps = out.split("To point it at a real model:\n")[1].strip().splitlines()
    assert [s.strip()[:2] for s in steps] == ["1.", "2.", "3."]
    assert "cd proj && evalkit run assistant" in out

    monkeypatch.chdir(root)
    code, out, err = cli(["validate"])
    assert code == 0, err
    assert "ok  assistant: 5 cases" in out
    code, out, err = cli(["run"])
    assert code == 0, err
    (summary_path,) = (root / "runs" / "assistant").glob("*/*/summary.json")
    summary = json.loads(summary_path.read_text())
    assert summary["n"] == 5 and summary["pass_rate"] == 1.0 and summary["error"] == 0
    assert summary["judge_stats"]["correct"]["error"] == 0
    code, out, err = cli(["ci", "assistant", "--out", "out"])
    assert code == 0, err
    assert out.startswith("evalkit ci assistant: gate PASSED")


def test_the_workflow_runs_the_suite_the_config_defines(tmp_path: Path, cli: Cli) -> None:
    cli(["init", str(tmp_path)])
    workflow = yaml.safe_load((tmp_path / ".github" / "workflows" / "evalkit.yml").read_text())
    config = yaml.safe_load((tmp_path / "evalkit.yaml").read_text())
    runs = [step.get("run", "") for step in workflow["jobs"]["evalkit"]["steps"]]
    (ci,) = [r for r in runs if r.startswith("evalkit ci")]
    assert ci.split()[2] in config["suites"]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_gitignore_keeps_runs_and_cache_out_but_baselines_in(tmp_path: Path, cli: Cli) -> None:
    cli(["init", str(tmp_path)])
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    paths = ["runs/assistant/x/report.md", ".evalkit/cache/db", "runs/baselines/assistant.json"]
    ignored = subprocess.run(
        ["git", "check-ignore", *paths], cwd=tmp_path, capture_output=True, text=True
    ).stdout.split()
    assert ignored == paths[:2]


def test_init_refuses_to_overwrite_and_names_the_files(tmp_path: Path, cli: Cli) -> None:
    (tmp_path / "evalkit.yaml").write_text("mine\n")
    (tmp_path / ".gitignore").write_text("mine too\n")
    (tmp_path / "evalkit.schema.json").write_text("{}")
    code, _, err = cli(["init", str(tmp_path)])
    assert code == 2
    assert "refusing to overwrite" in err
    assert all(name in err for name in ("evalkit.yaml", ".gitignore", "evalkit.schema.json"))
    assert (tmp_path / "evalkit.yaml").read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".gitignore",
        "evalkit.schema.json",
        "evalkit.yaml",
    ]
