"""`evalkit validate`: every input error names file, line and field, and exits 2."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from evalkit.cli import main
from tests.conftest import CONFIG, GOLDENS, PROMPT, MakeProject

if TYPE_CHECKING:
    from evalkit.scripted import ScriptedServer

JUDGE = """\
scale: binary
model:
  provider: scripted
  script: judge-script.yaml
rubric: PASS if the answer is polite.
sees: [question, output]
"""


def validate(root: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``evalkit validate`` (or ``evalkit ARGV``) in ``root``: exit code, stdout, stderr."""
    cwd = os.getcwd()
    os.chdir(root)
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(list(argv) or ["validate"])
            raise SystemExit(0)
    finally:
        os.chdir(cwd)
    out, err = capsys.readouterr()
    code = exit_info.value.code
    return (0 if code is None else int(code)), out, err


def test_valid_project_passes(
    make_project: MakeProject, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = validate(make_project(None), capsys)
    assert code == 0
    assert "ok  demo: 3 cases, 3 checks, prompt version" in out


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(
            {
                "goldens/demo.yaml": (
                    "- id: a\n  vars: {question: x}\n- id: a\n  vars: {question: y}\n"
                )
            },
            "goldens/demo.yaml:3: id: duplicate case id 'a'",
            id="duplicate-id",
        ),
        pytest.param(
            {"evalkit.yaml": CONFIG.replace("type: contains", "type: containz")},
            "evalkit.yaml:11: suites.demo.checks[0].type: unknown check type 'containz'",
            id="unknown-check-type",
        ),
        pytest.param(
            {
                "goldens/demo.yaml": "- id: a\n  vars: {question: x}\n"
                "  checks: [{type: regex, pattern: '(unclosed'}]\n"
            },
            "goldens/demo.yaml:1: a.checks[0].pattern: invalid regex",
            id="invalid-regex",
        ),
        pytest.param(
            {"goldens/demo.yaml": "- id: a\n  vars: {question: x}\n- id: b\n  vars: {q: y}\n"},
            "goldens/demo.yaml:3: b.vars: missing template variable: 'question' is undefined",
            id="missing-template-variable",
        ),
        pytest.param(
            {"evalkit.yaml": CONFIG.replace("goldens/demo.yaml", "goldens/nope.yaml")},
            "goldens/nope.yaml: file not found",
            id="unreadable-file",
        ),
        pytest.param(
            {
                "prompts/p.yaml": 'user: "caf\xe9 {{ question }}"\n'.encode("latin-1").decode(
                    "utf-8", "surrogateescape"
                )
            },
            "prompts/p.yaml:1: not valid UTF-8",
            id="non-utf8",
        ),
        pytest.param(
            {"evalkit.yaml": CONFIG.replace("concurrency: 4", "concurency: 4")},
            "evalkit.yaml:12: suites.demo.concurency: unknown field",
            id="unknown-config-field",
        ),
        pytest.param(
            {"evalkit.yaml": CONFIG.replace("provider: scripted", "provider: gemini")},
            "evalkit.yaml:5: suites.demo.target.provider: Input should be",
            id="unknown-provider",
        ),
        pytest.param(
            {
                "evalkit.yaml": CONFIG.replace(
                    '{type: contains, value: "ok"}', '{type: contains, valu: "ok"}'
                )
            },
            "evalkit.yaml:11: suites.demo.checks[0].valu: unknown parameter",
            id="unknown-check-parameter",
        ),
        pytest.param(
            {"goldens/demo.yaml": "[]\n"},
            "goldens/demo.yaml:1: the golden set has no cases",
            id="empty-golden-set",
        ),
        pytest.param(
            {"goldens/demo.jsonl": "\n", "evalkit.yaml": CONFIG.replace("demo.yaml", "demo.jsonl")},
            "goldens/demo.jsonl:1: the golden set has no cases",
            id="empty-jsonl-golden-set",
        ),
        pytest.param(
            {
                "evalkit.yaml": CONFIG.replace(
                    "    concurrency: 4\n", "    concurrency: 4\n    concurrency: 8\n"
                )
            },
            "evalkit.yaml:13: suites.demo.concurrency: duplicate key 'concurrency' on lines 12 "
            "and 13",
            id="duplicate-config-key",
        ),
        pytest.param(
            {"prompts/p.yaml": PROMPT + 'user: "again {{ question }}"\n'},
            "prompts/p.yaml:4: user: duplicate key 'user' on lines 3 and 4",
            id="duplicate-prompt-key",
        ),
        pytest.param(
            {"script.yaml": "default: {text: a}\ndefault: {text: b}\n"},
            "script.yaml:2: default: duplicate key 'default' on lines 1 and 2",
            id="duplicate-script-key",
        ),
        pytest.param(
            {
                "goldens/demo.yaml": "- id: a\n  vars: {question: x}\n"
                '- id: b\n  vars: {question: "y\0"}\n'
            },
            "goldens/demo.yaml:4: a NUL byte is not allowed",
            id="nul-byte",
        ),
        pytest.param(
            {
                "evalkit.yaml": CONFIG.replace('value: "ok"', 'value: "{{ answer }}"'),
                "goldens/demo.yaml": "- id: a\n  vars: {question: x, answer: y}\n"
                "- id: b\n  vars: {question: z}\n",
            },
            "goldens/demo.yaml:3: b.vars: missing template variable: 'answer' is undefined in "
            "check suites.demo.checks[0] for case 'b'",
            id="check-template-variable-missing-in-one-case",
        ),
        pytest.param(
            {
                "goldens/demo.yaml": "- id: a\n  vars: {question: x}\n"
                "- id: b\n  vars: {question: x}\n  checks:\n    - type: all\n"
                "      checks: [{type: contains, value: '{{ nope }}'}]\n"
            },
            "goldens/demo.yaml:3: b.vars: missing template variable: 'nope' is undefined in "
            "check b.checks[0] for case 'b'",
            id="nested-check-template-variable",
        ),
        pytest.param(
            {
                "goldens/demo.yaml": "- id: a\n  vars: {question: x}\n"
                "  checks: [{type: contains, value: '{{ question'}]\n"
            },
            "goldens/demo.yaml:1: a.checks[0].value: template syntax error",
            id="check-template-syntax",
        ),
        pytest.param(
            {
                "goldens/demo.yaml": "- id: a\n  vars: {question: x}\n"
                "  checks: [{type: json-schema, schema: schemas/nope.json}]\n"
            },
            "goldens/demo.yaml:1: a.checks[0].schema: schema file 'schemas/nope.json' not found",
            id="missing-schema-file",
        ),
        pytest.param(
            {"evalkit.yaml": CONFIG.replace("script: script.yaml", "script: scripts/nope.yaml")},
            "evalkit.yaml:8: suites.demo.target.script: file 'scripts/nope.yaml' not found",
            id="missing-target-script",
        ),
        pytest.param(
            {"script.yaml": "default: {text: a, fault: {status: 500}}\n"},
            "script.yaml:1: default.fault: unknown field",
            id="invalid-target-script",
        ),
        pytest.param(
            {"evalkit.yaml": CONFIG + "    judges: [j]\n", "judges/j.yaml": JUDGE},
            "judges/j.yaml:4: model.script: file 'judge-script.yaml' not found",
            id="missing-judge-script",
        ),
        pytest.param(
            {
                "evalkit.yaml": CONFIG + "    judges: [j]\n",
                "judges/j.yaml": JUDGE,
                "judge-script.yaml": "default: {json: {verdict: pass}}\nlatency_ms: x\n",
            },
            "judge-script.yaml:2: latency_ms: Input should be a valid number",
            id="invalid-judge-script",
        ),
        pytest.param(
            {"evalkit.yaml": "prices: prices.yaml\n" + CONFIG},
            "evalkit.yaml:1: prices: file 'prices.yaml' not found",
            id="missing-price-table",
        ),
        pytest.param(
            {
                "evalkit.yaml": "prices: prices.yaml\n" + CONFIG,
                "prices.yaml": "m: {input: 1, output: 2}\nm: {input: 1, output: 3}\n",
            },
            "prices.yaml:2: m: duplicate key 'm' on lines 1 and 2",
            id="duplicate-price-key",
        ),
    ],
)
def test_input_errors_exit_2_with_file_line_field(
    make_project: MakeProject,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, str],
    expected: str,
) -> None:
    root = make_project(None)
    for rel, text in files.items():
        data = text.encode("utf-8", "surrogateescape")
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    code, out, err = validate(root, capsys)
    assert code == 2, (out, err)
    assert err.startswith("error: "), err
    assert expected in err, err


def test_validation_error_leaves_earlier_runs_untouched(
    make_project: MakeProject, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(None)
    run_dir = root / "runs" / "demo" / "abc" / "r1"
    run_dir.mkdir(parents=True)
    (run_dir / "manifest.json").write_text('{"run_id": "r1"}')
    (root / "goldens/demo.yaml").write_text("- id: a\n- id: a\n")
    cwd = os.getcwd()
    os.chdir(root)
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(["run", "demo"])
    finally:
        os.chdir(cwd)
    assert exit_info.value.code == 2
    assert [p.name for p in (root / "runs" / "demo").rglob("*")] == ["abc", "r1", "manifest.json"]


@pytest.mark.parametrize("command", ["validate", "run", "ci"])
@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param({"goldens/demo.yaml": "# none yet\n"}, "no cases", id="empty-golden-set"),
        pytest.param(
            {"goldens/demo.yaml": "- id: a\n  vars: {question: x}\n  vars: {question: y}\n"},
            "goldens/demo.yaml:3: [0].vars: duplicate key 'vars'",
            id="duplicate-key",
        ),
        pytest.param(
            {
                "goldens/demo.yaml": GOLDENS + "- id: d\n  vars: {question: '?'}\n  checks:\n"
                "    - {type: equals, value: '{{ answer }}'}\n"
            },
            "goldens/demo.yaml:10: d.vars: missing template variable: 'answer'",
            id="check-template-variable",
        ),
        pytest.param(
            {"evalkit.yaml": CONFIG + "    judges: [j]\n", "judges/j.yaml": JUDGE},
            "judges/j.yaml:4: model.script: file 'judge-script.yaml' not found",
            id="missing-judge-script",
        ),
    ],
)
def test_run_and_ci_refuse_what_validate_refuses_before_any_call(
    make_project: MakeProject,
    serve: Callable[[dict[str, Any]], ScriptedServer],
    capsys: pytest.CaptureFixture[str],
    command: str,
    files: dict[str, str],
    expected: str,
) -> None:
    server = serve({"default": {"text": "ok"}})
    config = CONFIG.replace("script: script.yaml", f"base_url: {server.url}")
    root = make_project({"evalkit.yaml": config})
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text.replace(CONFIG, config), encoding="utf-8")
    code, _out, err = validate(root, capsys, command, "demo")
    assert code == 2, err
    assert expected in err
    assert server.count() == 0
    assert not (root / "runs").exists()


def test_every_suite_reports_its_problem_and_the_process_exits_2(
    make_project: MakeProject,
) -> None:
    second = (
        "  other:\n    goldens: goldens/other.yaml\n    target: {provider: scripted, model: m,"
        " prompt: prompts/p.yaml, script: script.yaml}\n"
    )
    root = make_project(
        {
            "evalkit.yaml": CONFIG.replace("goldens/demo.yaml", "goldens/empty.yaml") + second,
            "goldens/empty.yaml": "[]\n",
            "goldens/other.yaml": "- id: x\n  vars: {question: q}\n  id: y\n",
        }
    )
    proc = subprocess.run(
        [sys.executable, "-m", "evalkit", "validate"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    errors = proc.stderr.splitlines()
    assert errors == [
        f"error: {root}/goldens/empty.yaml:1: the golden set has no cases: there is nothing to "
        "run, compare or gate",
        f"error: {root}/goldens/other.yaml:3: [0].id: duplicate key 'id' on lines 1 and 3 (YAML "
        "would silently keep only the last)",
    ]
