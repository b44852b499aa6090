"""`evalkit validate`: every input error names file, line and field, and exits 2."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from evalkit.cli import main
from tests.conftest import CONFIG, MakeProject


def validate(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    cwd = os.getcwd()
    os.chdir(root)
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(["validate"])
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
