"""`pytest --evalkit`: each golden case of an `evalkit init` project is a test item."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from evalkit.api.init import init_project

BROKEN = """\
  - when: {case: capital-of-france}
    text: "The capital of France is Lyon."
  - when: {case: boiling-point}
    fault: {status: 400, message: "this request is not allowed"}
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> Path:
    init_project(pytester.path)
    return pytester.path


def _summaries(root: Path) -> list[dict[str, object]]:
    return [json.loads(p.read_text()) for p in sorted(root.glob("runs/*/*/*/summary.json"))]


def test_every_case_passes_and_the_run_is_stored(pytester: pytest.Pytester, project: Path) -> None:
    result = pytester.runpytest_subprocess("--evalkit")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(["collected 5 items", "evalkit.yaml .....*"])
    (summary,) = _summaries(project)
    assert summary["n"] == 5 and summary["pass"] == 5
    result.stdout.fnmatch_lines(["evalkit: suite assistant run id *, report *report.md"])
    # the response cache is honoured: the same cases again call no model
    pytester.runpytest_subprocess("--evalkit=assistant").assert_outcomes(passed=5)
    assert [s["cached"] for s in _summaries(project)] == [0, 5]


def test_a_fail_shows_its_reasons_and_an_error_is_an_error(
    pytester: pytest.Pytester, project: Path
) -> None:
    script = project / "scripts" / "model.yaml"
    script.write_text(script.read_text().replace("responses:\n", "responses:\n" + BROKEN, 1))
    config = project / "evalkit.yaml"
    config.write_text(
        config.read_text().replace("    repeats: 1", "    error_budget: 1\n    repeats: 1")
    )
    result = pytester.runpytest_subprocess("--evalkit")
    result.assert_outcomes(passed=3, failed=1, errors=1)
    out = result.stdout.str()
    assert "case 'capital-of-france' of suite 'assistant': FAIL" in out
    assert "\ncheck contains: missing 'Paris'" in out
    assert "\noutput: The capital of France is Lyon." in out
    assert "case 'boiling-point' of suite 'assistant': ERROR" in out
    assert "could not be graded: bad_request" in out
    assert "Traceback" not in out


def test_a_run_over_its_error_budget_makes_every_case_an_error(
    pytester: pytest.Pytester, project: Path
) -> None:
    script = project / "scripts" / "model.yaml"
    script.write_text(script.read_text().replace("responses:\n", "responses:\n" + BROKEN, 1))
    result = pytester.runpytest_subprocess("--evalkit")
    result.assert_outcomes(errors=5)
    assert "the run failed: " in result.stdout.str()


def test_k_selects_cases_and_only_those_run(pytester: pytest.Pytester, project: Path) -> None:
    result = pytester.runpytest_subprocess("--evalkit", "-k", "capital or planet")
    result.assert_outcomes(passed=2, deselected=3)
    (summary,) = _summaries(project)
    assert summary["n"] == 2
    (manifest,) = [json.loads(p.read_text()) for p in project.glob("runs/*/*/*/manifest.json")]
    assert sorted(manifest["selection"]["flags"]["case"]) == ["capital-of-france", "largest-planet"]


def test_bad_config_is_a_usage_error_naming_file_and_line(
    pytester: pytest.Pytester, project: Path
) -> None:
    config = project / "evalkit.yaml"
    config.write_text(config.read_text().replace("repeats: 1", "repeats: 0"))
    result = pytester.runpytest_subprocess("--evalkit")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*evalkit.yaml:*repeats*"])


def test_without_the_option_the_plugin_does_nothing(
    pytester: pytest.Pytester, project: Path
) -> None:
    pytester.makepyfile(test_plain="def test_one():\n    assert True\n")
    pytester.runpytest_subprocess().assert_outcomes(passed=1)
    assert not (project / "runs").exists()


def test_loading_the_plugin_imports_no_job_sdk_or_numpy() -> None:
    """pytest loads the plugin in every session of an environment with evalkit installed."""
    code = (
        "import sys, pytest, evalkit.cli.pytest_plugin\n"
        "heavy = ('evalkit.api', 'anthropic', 'openai', 'numpy')\n"
        "print([m for m in sys.modules if m.startswith(heavy)])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
