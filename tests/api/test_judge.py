"""Re-judging a stored run: a new run beside it, new verdicts, no call to the system under test."""

from __future__ import annotations

import contextlib
import json
import textwrap
from pathlib import Path

import yaml

from evalkit.api.judge import rejudge_run
from evalkit.api.project import load_config, load_suite
from evalkit.api.run import RunOptions, run_suite
from evalkit.cli import main
from evalkit.execution.cache import ResponseCache
from evalkit.grading.judge import build_judges, load_judges
from evalkit.model.outcome import Outcome
from evalkit.model.pricing import load_prices
from evalkit.storage.store import load_run, read_manifest, write_manifest
from tests.grading.judge.conftest import FAST, fail_verdict, pass_verdict

SCRIPT = {
    "responses": [
        {"when": {"purpose": "target", "case": "b"}, "text": "nope"},
        {"when": {"purpose": "target"}, "text": "ok fine"},
        {"when": {"purpose": "judge:grounded", "contains": "nope"}, "json": fail_verdict()},
        {"when": {"purpose": "judge:grounded"}, "json": pass_verdict()},
    ]
}
GOLDENS = """\
- id: a
  vars: {question: "first?"}
- id: b
  vars: {question: "second?"}
- id: c
  vars: {question: "third?"}
  skip_judges: [grounded]
"""


def _project(make_project, server_url: str | None) -> Path:
    """The shared tiny project; target and judge answered by one loopback server."""
    base_url = f"\n      base_url: {server_url}" if server_url else ""
    config = textwrap.dedent(
        """\
        suites:
          demo:
            goldens: goldens/demo.yaml
            target:
              provider: scripted
              model: fake-model
              prompt: prompts/p.yaml
              script: script.yaml{base_url}
              params: {{max_tokens: 64}}
            checks:
              - {{type: contains, value: "o"}}
            judges: [grounded]
        """
    ).format(base_url=base_url)
    judge = "scale: binary\nrubric: PASS if grounded.\nsees: [question, output]\n"
    model = {"provider": "scripted", "model": "claude-haiku-4-5", "script": "script.yaml"}
    if server_url:
        model["base_url"] = server_url
    judge += "model: " + json.dumps(model) + "\n"
    return make_project(
        {
            "evalkit.yaml": config,
            "goldens/demo.yaml": GOLDENS,
            "script.yaml": yaml.safe_dump(SCRIPT),
            "judges/grounded.yaml": judge,
        }
    )


def test_rejudge_writes_a_new_run_without_calling_the_target(make_project, serve):
    server = serve(SCRIPT)
    root = _project(make_project, server.url)
    project = load_config(root / "evalkit.yaml")
    outcome = run_suite(load_suite(project, "demo"), RunOptions(progress=False, retry=FAST))
    assert server.count(purpose="target") == 3
    assert server.count(purpose="judge:grounded") == 2  # the run itself was judged
    old_version = read_manifest(outcome.path)["judge_versions"]["grounded"]
    # a rubric edit: a new judge version, so its verdicts are not in the cache
    judge_file = root / "judges" / "grounded.yaml"
    judge_file.write_text(judge_file.read_text().replace("PASS if grounded.", "PASS if grounded!"))

    new = _rejudge(project, outcome.path)
    assert server.count(purpose="target") == 3  # the system under test was not called
    assert server.count(purpose="judge:grounded") == 4  # case c skips the judge
    assert new.parent == outcome.path.parent and new != outcome.path
    manifest = read_manifest(new)
    assert manifest["rejudged_from"] == outcome.run_id and manifest["status"] == "complete"
    assert set(manifest["judge_versions"]) == {"grounded"}
    assert manifest["judge_versions"]["grounded"] != old_version
    old_records = {r.case_id: r for r in load_run(outcome.path).records}
    records = {r.case_id: r for r in load_run(new).records}
    assert [v.outcome for v in records["a"].judges] == [Outcome.PASS]
    assert [v.outcome for v in records["b"].judges] == [Outcome.FAIL]
    assert records["c"].judges == []
    for case_id, record in records.items():  # outputs, usage and checks are copied
        old = old_records[case_id]
        assert (record.output, record.usage, record.checks) == (old.output, old.usage, old.checks)
    assert records["a"].outcome is Outcome.PASS and records["b"].outcome is Outcome.FAIL
    summary = json.loads((new / "summary.json").read_text())
    assert summary["requests"] == 0 and summary["judge_requests"] == 2
    assert summary["judges"]["grounded"]["pass"] == 1
    # the re-judged run's report says whether the judge is calibrated, as a run's does
    assert summary["calibration"]["grounded"]["status"] == "uncalibrated"
    assert "grounded" in (new / "report.md").read_text()

    again = _rejudge(
        project, outcome.path
    )  # unchanged outputs and judge: every verdict from the cache
    assert server.count(purpose="judge:grounded") == 4
    assert all(v.cached for r in load_run(again).records for v in r.judges)


def test_judge_cli_rejudges_offline_with_a_script(
    make_project, tmp_path, monkeypatch, capsys, exit_code
):
    root = _project(make_project, None)
    project = load_config(root / "evalkit.yaml")
    outcome = run_suite(load_suite(project, "demo"), RunOptions(progress=False, retry=FAST))
    monkeypatch.chdir(root)
    assert exit_code(["judge", outcome.run_id, "--script", "script.yaml", "--wire", "openai"]) == 0
    out = capsys.readouterr().out
    assert f"re-judged {outcome.run_id}" in out
    assert "grounded" in out and "pass rate 50.0%" in out and "2 requests" in out
    runs = sorted(p.name for p in outcome.path.parent.iterdir())
    assert len(runs) == 2


def test_judge_cli_help_has_an_example(capsys):
    with contextlib.suppress(SystemExit):
        main(["judge", "--help"])
    assert "Example:" in capsys.readouterr().out


def test_rejudging_an_interrupted_run_does_not_complete_it(make_project, serve):
    server = serve(SCRIPT)
    root = _project(make_project, server.url)
    project = load_config(root / "evalkit.yaml")
    outcome = run_suite(load_suite(project, "demo"), RunOptions(progress=False, retry=FAST))
    manifest = read_manifest(outcome.path)
    write_manifest(outcome.path, {**manifest, "status": "interrupted"})
    assert read_manifest(_rejudge(project, outcome.path))["status"] == "interrupted"


def _rejudge(project, run: Path) -> Path:
    """Re-judge ``run`` with the project's ``grounded`` judge."""
    cache = ResponseCache(project.resolve(project.cache_dir))
    judges = build_judges(
        load_judges(project, ["grounded"], pairwise=False),
        project=project,
        cache=cache,
        prices=load_prices(),
        policy=FAST,
    )
    try:
        return rejudge_run(run, project, judges, suite_judges=["grounded"])
    finally:
        cache.close()


def test_rejudged_subset_still_says_it_is_a_subset(make_project, serve):
    from evalkit.api.select import Selection

    server = serve(SCRIPT)
    root = _project(make_project, server.url)
    project = load_config(root / "evalkit.yaml")
    options = RunOptions(progress=False, retry=FAST, selection=Selection(cases=("a", "b")))
    outcome = run_suite(load_suite(project, "demo"), options)
    new = _rejudge(project, outcome.path)
    summary = json.loads((new / "summary.json").read_text())
    assert summary["selection"] == read_manifest(outcome.path)["selection"]
    assert summary["selection"]["selected"] == 2 and summary["selection"]["total"] == 3
    assert "subset: 2 of 3 cases (--case a --case b)" in (new / "report.md").read_text()
