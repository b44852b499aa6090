"""What a large run holds: a cached re-run does not load the SDK, cases share their system
prompt and suite checks, and the run's summary and reports come from results.jsonl."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from evalkit.api.project import load_config, load_suite
from evalkit.execution.provider.retry import RetryPolicy
from tests.conftest import CONFIG, SCRIPT, MakeProject

_RUN = """
import sys
from evalkit.api.project import load_config, load_suite
from evalkit.api.run import RunOptions, run_suite
out = run_suite(load_suite(load_config("evalkit.yaml")), RunOptions(progress=False))
print(out.requests, out.summary["cached"], "anthropic" in sys.modules)
"""


def _run(root: Path) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", _RUN], cwd=root, capture_output=True, text=True, check=True
    )
    return done.stdout.split()


def test_a_cached_re_run_answers_without_importing_the_sdk(make_project: MakeProject) -> None:
    """The SDK (~50 MB) is only warmed up when the plan's first chunk needs a request."""
    root = make_project(None)
    assert _run(root) == ["3", "0", "True"]  # the first run calls the scripted model
    assert _run(root) == ["0", "3", "False"]
    runs = sorted((root / "runs" / "demo").glob("*/*/summary.json"))
    assert [json.loads(p.read_text())["pass"] for p in runs] == [2, 2]


def test_cases_share_the_rendered_system_prompt_and_the_suite_checks(
    make_project: MakeProject,
) -> None:
    root = make_project(
        {
            "goldens/demo.yaml": """\
            - {id: a, vars: {question: "first?"}}
            - {id: b, vars: {question: "second?"}, checks: [{type: contains, value: "x"}]}
            - {id: c, vars: {question: "third?"}}
            """
        }
    )
    a, b, c = load_suite(load_config(root / "evalkit.yaml")).cases
    assert a.messages[0] is c.messages[0] and a.messages[0]["role"] == "system"
    assert a.messages[1] == {"role": "user", "content": "Q: first?"}
    assert a.messages[1] is not c.messages[1]
    assert a.checks is c.checks and len(a.checks) == 1
    assert len(b.checks) == 2 and b.checks[0] is a.checks[0]


def _files(run: Path) -> dict[str, str]:
    return {n: (run / n).read_text("utf-8") for n in ("summary.json", "report.md", "report.html")}


def test_a_runs_files_are_those_its_records_give_read_back_from_disk(
    make_project: MakeProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh run summarizes its records as it writes them, and a large one (past
    KEEP_RECORDS) streams them back for its reports; `evalkit report` re-reads them from
    results.jsonl. Both give the same summary.json, report.md and report.html."""
    from evalkit.api import _run_loop as run_loop
    from evalkit.api.report import rewrite_report
    from evalkit.api.run import RunOptions, run_suite

    root = make_project(
        {
            # params in sorted order: the manifest read back from disk has its keys sorted
            "evalkit.yaml": CONFIG.replace(
                "concurrency: 4", "concurrency: 4\n    repeats: 2\n    error_budget: 0.5"
            ).replace("{temperature: 0, max_tokens: 64}", "{max_tokens: 64, temperature: 0}"),
            "goldens/demo.yaml": "\n".join(
                f'- {{id: c{i}, vars: {{question: "q{i}?"}}, tags: [t{i % 3}]}}' for i in range(9)
            ),
            "script.yaml": SCRIPT
            + "  - {when: {case: c4}, text: x, fault: {status: 500}}\n"
            + "  - {when: {case: c5}, text: nope}\n",
        }
    )
    suite = load_suite(load_config(root / "evalkit.yaml"))
    options = RunOptions(progress=False, retry=RetryPolicy(max_attempts=1, base_delay=0.01))
    small = run_suite(suite, options)
    monkeypatch.setattr(run_loop, "KEEP_RECORDS", 3)
    large = run_suite(suite, RunOptions(progress=False, use_cache=False, retry=options.retry))
    for out in (small, large):
        assert out.summary["n"] == 18 and out.summary["error"] == 2
        written = _files(out.path)
        rewrite_report(out.path, project_root=root)
        assert _files(out.path) == written
    assert json.loads(_files(small.path)["summary.json"])["pass_rate"] == pytest.approx(7 / 8)
