"""Templates are sandboxed: no template a pull request writes can run code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from evalkit.base.exceptions import InputError, TemplateError
from evalkit.base.template import compile_template, render, template_variables
from evalkit.grading.check import CheckContext, parse_check
from evalkit.model.golden import Case
from evalkit.model.outcome import Outcome
from evalkit.model.prompt import load_prompt
from tests.conftest import CONFIG, MakeProject

#: server-side template injection payloads; each would run `touch PWNED` or read secrets
#: in a plain jinja2.Environment
ESCAPES = [
    "{{ cycler.__init__.__globals__.os.popen('touch PWNED').read() }}",
    "{{ joiner.__init__.__globals__.os.system('touch PWNED') }}",
    "{{ namespace.__init__.__globals__.os.popen('touch PWNED').read() }}",
    "{{ lipsum.__globals__['os'].popen('touch PWNED').read() }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ question.__class__.__base__.__subclasses__() }}",
    "{{ question|attr('__class__') }}",
    "{{ question['__class__'] }}",
    "{{ self._TemplateReference__context }}",
    "{{ range.__init__.__globals__ }}",
    "{{ dict.mro() }}",
    # computed names pass the load-time check: the sandbox refuses them when rendering
    "{% set n = '__cla' ~ 'ss__' %}{{ question|attr(n) }}",
    "{% set n = '__glo' ~ 'bals__' %}{{ (cycler.reset|attr(n)) }}",
    "{{ '{0.__class__}'.format(question) }}",
    "{{ '{x.__class__}'.format_map({'x': question}) }}",
    "{% set l = [] %}{{ l.append(1) }}",
    "{% set d = {} %}{{ d.update({'a': 1}) }}",
]


def _render_error(source: str) -> TemplateError:
    with pytest.raises(TemplateError) as info:
        render(source, {"question": "q"})
    return info.value


@pytest.mark.parametrize("source", ESCAPES)
def test_sandbox_escapes_are_rejected(
    source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    error = _render_error(source)
    assert "unsafe" in error.message or "undefined" in error.message
    assert not (tmp_path / "PWNED").exists()


def test_a_literal_unsafe_access_is_refused_at_compile_with_its_line() -> None:
    with pytest.raises(TemplateError) as info:
        compile_template("line one\n{{ x }}\n{{ cycler.__init__ }}")
    assert info.value.line == 3 and "'__init__'" in info.value.message
    with pytest.raises(TemplateError):
        template_variables("{{ x.__class__ }}")


def test_ordinary_templates_still_render() -> None:
    source = (
        "{% for d in docs %}[{{ d.id }}] {{ d.text|upper }}{{ ', ' if not loop.last }}{% endfor %}"
        " {{ question|default('?')|length }} {{ '%s!'|format(name) }} {{ items|join('/') }}"
        " {{ {'a': 1}.items()|list }} {{ name.title() }}"
    )
    out = render(
        source,
        {
            "docs": [{"id": "p1", "text": "one"}, {"id": "p2", "text": "two"}],
            "question": "abc",
            "name": "ann",
            "items": ["x", "y"],
        },
    )
    assert out == "[p1] ONE, [p2] TWO 3 ann! x/y [('a', 1)] Ann"


def test_unsafe_prompt_is_an_input_error_naming_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "label: v1\nsystem: hello\nuser: |\n  Q: {{ question }}\n  {{ cycler.__init__ }}\n"
    )
    with pytest.raises(InputError) as info:
        load_prompt(path)
    assert info.value.path == str(path) and info.value.line == 3 and info.value.field == "user"
    assert "unsafe template" in info.value.message


def test_unsafe_check_parameter_is_refused_at_load() -> None:
    raw = {"type": "contains", "value": "{{ expected.__class__ }}"}
    with pytest.raises(InputError) as info:
        parse_check(raw, path="goldens/x.yaml", line=7, field_prefix="c1.checks[0]")
    assert info.value.line == 7 and info.value.path == "goldens/x.yaml"
    assert info.value.field == "c1.checks[0].value" and "unsafe template" in info.value.message


def test_computed_unsafe_check_parameter_is_an_error_outcome() -> None:
    raw = {"type": "contains", "value": "{% set n = '__cla' ~ 'ss__' %}{{ output|attr(n) }}"}
    check = parse_check(raw)
    result = check.evaluate(CheckContext(output="text", case=Case(id="c")))
    assert result.outcome is Outcome.ERROR and "unsafe" in result.reason


@pytest.mark.parametrize("where", ["prompt", "check"])
def test_validate_exits_2_and_runs_nothing(make_project: MakeProject, where: str) -> None:
    payload = "{{ cycler.__init__.__globals__.os.popen('touch PWNED').read() }}"
    files: dict[str, str | None] = {}
    if where == "prompt":
        files["prompts/p.yaml"] = f"label: v1\nuser: |\n  Q: {{{{ question }}}}\n  {payload}\n"
    else:
        config = yaml.safe_load(CONFIG)
        config["suites"]["demo"]["checks"] = [{"type": "contains", "value": payload}]
        files["evalkit.yaml"] = yaml.safe_dump(config)
    root = make_project(files)
    done = subprocess.run(
        [sys.executable, "-m", "evalkit", "validate"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert not (root / "PWNED").exists()
    expected = "prompts/p.yaml:2: user:" if where == "prompt" else "evalkit.yaml:"
    assert expected in done.stderr and "unsafe template" in done.stderr, done.stderr
