"""What a large run holds: a cached re-run does not load the SDK, cases share their system
prompt and suite checks, and the run's summary and reports come from results.jsonl."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from evalkit.api.project import load_config, load_suite
from tests.conftest import MakeProject

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
