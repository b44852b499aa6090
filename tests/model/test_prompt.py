from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from evalkit.base.exceptions import InputError, TemplateError
from evalkit.model.prompt import Prompt, load_prompt


def test_render_and_version_is_stable_content_hash(tmp_path: Path) -> None:
    p = tmp_path / "p.yaml"
    p.write_text('label: v1\nsystem: "Be brief."\nuser: "Q: {{ question }}"\n')
    prompt = load_prompt(p)
    assert prompt.render({"question": "why?"}) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Q: why?"},
    ]
    # label and description do not change the version; templates do
    same = Prompt(label="other", description="x", system="Be brief.", user="Q: {{ question }}")
    changed = Prompt(system="Be brief!", user="Q: {{ question }}")
    assert prompt.version == same.version != changed.version
    assert len(prompt.version) == 12
    # stable across processes (no hash randomisation)
    code = (
        "from evalkit.model.prompt import load_prompt; import sys; "
        f"print(load_prompt({str(p)!r}).version)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONHASHSEED": "123", "PATH": ""},
        check=True,
    )
    assert out.stdout.strip() == prompt.version


def test_missing_variable_is_template_error() -> None:
    prompt = Prompt(user="{{ question }} {{ missing }}")
    with pytest.raises(TemplateError) as err:
        prompt.render({"question": "x"})
    assert "missing" in str(err.value)
    assert prompt.variables() == frozenset({"question", "missing"})


def test_syntax_error_names_file_and_field(tmp_path: Path) -> None:
    p = tmp_path / "p.yaml"
    p.write_text('system: "ok"\nuser: "{{ question "\n')
    with pytest.raises(InputError) as err:
        load_prompt(p)
    assert err.value.field == "user" and err.value.line == 2


def test_needs_user_template(tmp_path: Path) -> None:
    p = tmp_path / "p.yaml"
    p.write_text('system: "only system"\n')
    with pytest.raises(InputError) as err:
        load_prompt(p)
    assert "user" in str(err.value)


def test_messages_form() -> None:
    prompt = Prompt(
        messages=[
            {"role": "user", "content": "hi {{ n }}"},  # type: ignore[list-item]
            {"role": "assistant", "content": "yo"},
        ]
    )
    assert prompt.render({"n": 1})[0]["content"] == "hi 1"
