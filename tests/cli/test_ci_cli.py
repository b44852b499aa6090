"""`evalkit baseline set` + `evalkit ci`: the gate's exit codes as CI sees them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import CONFIG, MakeProject

GOOD = "default: {text: 'ok fine'}\n"
BAD = "default: {text: 'ok fine'}\nresponses:\n" + "".join(
    f"  - when: {{case: c{i}}}\n    text: 'nope'\n" for i in range(12)
)


def project(make_project: MakeProject) -> Path:
    cases = [{"id": f"c{i}", "vars": {"question": f"q{i}"}, "tags": ["t"]} for i in range(30)]
    config = yaml.safe_load(CONFIG)
    config["suites"]["demo"]["gate"] = {"min_pass_rate": 0.5, "fail_on": "significant-regression"}
    return make_project(
        {
            "evalkit.yaml": yaml.safe_dump(config),
            "goldens/demo.yaml": yaml.safe_dump(cases),
            "script.yaml": GOOD,
        }
    )


def evalkit(
    root: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "evalkit", *args],
        cwd=root,
        text=True,
        capture_output=True,
        timeout=120,
        env={**{k: v for k, v in os.environ.items() if k != "COLUMNS"}, **(env or {})},
    )


def test_ci_passes_against_its_baseline_then_fails_on_a_regression(
    make_project: MakeProject, tmp_path: Path
) -> None:
    root = project(make_project)
    first = evalkit(root, "run", "demo")
    assert first.returncode == 0, first.stderr
    run_id = next((root / "runs" / "demo").glob("*/*")).name
    assert evalkit(root, "baseline", "set", run_id).returncode == 0
    pointer = json.loads((root / "runs" / "baselines" / "demo.json").read_text())
    assert pointer["run_id"] == run_id

    step_summary = tmp_path / "step-summary.md"
    ok = evalkit(root, "ci", "demo", "--out", "out", env={"GITHUB_STEP_SUMMARY": str(step_summary)})
    assert ok.returncode == 0, ok.stdout + ok.stderr
    for name in ("summary.md", "summary.json", "junit.xml"):
        assert (root / "out" / name).exists()
    assert step_summary.read_text().strip()
    verdict = json.loads((root / "out" / "summary.json").read_text())["comparison"]["overall"]
    assert ok.stdout.splitlines()[0] == (
        f"evalkit ci demo: gate PASSED: pass rate 100.0% → 100.0% against baseline {run_id} "
        f"({verdict['verdict']})"
    )

    (root / "script.yaml").write_text(BAD)  # the "new prompt" breaks 12 of 30 cases
    bad = evalkit(root, "ci", "demo", "--out", "out")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    summary = json.loads((root / "out" / "summary.json").read_text())
    failed = [r["rule"] for r in summary["gate"]["rules"] if not r["passed"]]
    assert failed == ["fail_on: significant-regression"]
    first_line = bad.stdout.splitlines()[0]
    message = next(r["message"] for r in summary["gate"]["rules"] if not r["passed"])
    assert first_line.startswith("evalkit ci demo: gate FAILED: pass rate 100.0% → 60.0% ")
    assert first_line.endswith(f"; failed: {message}")
    # piped: tables keep their rows whole instead of folding at 80 columns
    assert max(len(line) for line in bad.stdout.splitlines()[1:]) > 80
    clause = message.split(";")[0]  # ~90 characters: folded at 80 columns
    assert len(clause) > 80
    assert any(clause in line for line in bad.stdout.splitlines()[1:])
    markdown = (root / "out" / "summary.md").read_text()
    assert "c0" in markdown and "regressed" in markdown.lower()


def test_ci_without_a_baseline_applies_thresholds(make_project: MakeProject) -> None:
    root = project(make_project)
    (root / "script.yaml").write_text("default: {text: 'nope'}\n")
    result = evalkit(root, "ci", "demo", "--out", "out")
    assert result.returncode == 1
    summary = json.loads((root / "out" / "summary.json").read_text())
    assert summary["baseline"] is None
    assert [r["rule"] for r in summary["gate"]["rules"] if not r["passed"]] == ["min_pass_rate"]
    assert result.stdout.startswith(
        "evalkit ci demo: gate FAILED: pass rate 0.0%, no baseline; failed: "
    )


@pytest.mark.parametrize("args", [["ci", "nosuch"], ["baseline", "set", "nosuch"]])
def test_bad_arguments_exit_2(make_project: MakeProject, args: list[str]) -> None:
    result = evalkit(project(make_project), *args)
    assert result.returncode == 2 and result.stderr.startswith("error: ")
