"""Judge files: validation errors name file:line:field; loading by name; helpers."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from evalkit.api.project import load_config
from evalkit.base.exceptions import InputError
from evalkit.grading.judge import (
    judge_applies,
    judge_names,
    load_judge,
    load_judges,
    self_preference_warning,
)
from evalkit.grading.judge.definition import JudgeModel
from evalkit.grading.judge.version import judge_version
from evalkit.model.provider import TargetSpec

from .conftest import CASE, make_def

ROOT = Path(__file__).resolve().parents[3]
GOOD = """\
scale: binary
model: {provider: anthropic, model: claude-haiku-4-5}
rubric: PASS if grounded.
examples:
  - input: q
    output: o
    verdict: pass
"""


def _load(tmp_path: Path, text: str, name: str = "grounded") -> InputError:
    path = tmp_path / f"{name}.yaml"
    path.write_text(textwrap.dedent(text))
    with pytest.raises(InputError) as info:
        load_judge(path)
    return info.value


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        (GOOD + "colour: blue\n", 8, "colour", "unknown field"),
        (GOOD.replace("binary", "ternary"), 1, "scale", "unknown scale 'ternary'"),
        (GOOD.replace("verdict: pass", "verdict: maybe"), 7, "examples[0].verdict", "pass or fail"),
        (GOOD.replace("rubric: PASS if grounded.\n", ""), 1, "rubric", "required"),
        (GOOD + "sees: [question]\n", 8, "sees", "must see the `output`"),
        (GOOD + "sees: [question, mood, output]\n", 8, "sees.1", "Input should be"),
        (
            GOOD.replace("binary", "likert-5").replace("pass\n", "4\n") + "pass_threshold: 7\n",
            8,
            "pass_threshold",
            "between 1 and 5",
        ),
        (GOOD + "samples: 0\n", 8, "samples", "greater than or equal to 1"),
        (GOOD.replace("model: claude-haiku-4-5", "model: ''"), 2, "model.model", "needs a `model`"),
        (GOOD.replace("binary", "pairwise").replace("pass\n", "A\n"), 5, "examples[0]", "output_a"),
        ("name: other\n" + GOOD, 1, "name", "differs from the file name"),
    ],
)
def test_judge_file_errors_name_file_line_and_field(tmp_path, text, line, field, message):
    error = _load(tmp_path, text)
    assert error.path is not None and error.path.endswith("grounded.yaml")
    assert (error.line, error.field) == (line, field)
    assert message in error.message
    assert str(error).startswith(f"{error.path}:{line}: {field}: ")


def test_invalid_yaml_names_the_line(tmp_path):
    error = _load(tmp_path, "scale: binary\nrubric: [unclosed\n")
    assert error.line is not None and "invalid YAML" in error.message


def test_the_bundled_judges_load():
    grounded = load_judge(ROOT / "judges" / "grounded.yaml")
    assert grounded.scale == "binary" and len(grounded.examples) == 3
    assert judge_version(grounded) == judge_version(load_judge(ROOT / "judges" / "grounded.yaml"))
    assert load_judge(ROOT / "judges" / "preference.yaml").scale == "pairwise"
    assert make_def(scale="likert-5").pass_threshold == 4


def _project(tmp_path: Path) -> Path:
    (tmp_path / "judges").mkdir()
    (tmp_path / "judges" / "grounded.yaml").write_text(GOOD)
    pairwise = GOOD.replace("binary", "pairwise").replace(
        "output: o", "output_a: x\n    output_b: y"
    )
    (tmp_path / "judges" / "pref.yaml").write_text(
        pairwise.replace("verdict: pass", "verdict: tie")
    )
    config = tmp_path / "evalkit.yaml"
    config.write_text(
        "suites:\n"
        "  demo:\n"
        "    goldens: g.yaml\n"
        "    target: {provider: python, callable: m:f}\n"
        "    judges:\n"
        "      - grounded\n"
        "      - helpfull\n"
    )
    return config


def test_load_judges_points_at_the_config_line_of_a_missing_judge(tmp_path):
    project = load_config(_project(tmp_path))
    assert [d.name for d in load_judges(project, ["grounded", "grounded"])] == ["grounded"]
    with pytest.raises(InputError) as info:
        load_judges(project, ["grounded", "helpfull"])
    error = info.value
    assert error.path is not None and error.path.endswith("evalkit.yaml")
    assert (error.line, error.field) == (7, "suites.demo.judges")
    assert "helpfull" in error.message


def test_pairwise_judges_are_kept_out_of_suites(tmp_path):
    project = load_config(_project(tmp_path))
    with pytest.raises(InputError, match="pairwise"):
        load_judges(project, ["pref"], pairwise=False)
    with pytest.raises(InputError, match="not pairwise"):
        load_judges(project, ["grounded"], pairwise=True)
    assert load_judges(project, ["pref"], pairwise=True)[0].scale == "pairwise"


def test_cases_add_and_skip_judges():
    adds = CASE.model_copy(update={"judges": ["tone"], "skip_judges": ["grounded"]})
    assert not judge_applies("grounded", adds, ["grounded"])
    assert judge_applies("tone", adds, ["grounded"])
    assert judge_applies("grounded", CASE, ["grounded"])
    assert not judge_applies("tone", CASE, ["grounded"])
    assert judge_names(["grounded"], [CASE, adds]) == ["grounded", "tone"]


@pytest.mark.parametrize(
    ("system", "judge", "warns"),
    [
        ("claude-sonnet-4-5", "claude-haiku-4-5", True),
        ("gpt-4o-mini", "o3-mini", True),
        ("gpt-4.1", "claude-haiku-4-5", False),
        ("qwen2.5-7b-instruct", "gpt-4o", False),
        ("my-finetune", "claude-haiku-4-5", False),
    ],
)
def test_self_preference_warning(system, judge, warns):
    definition = make_def()
    definition.model.model = judge
    warning = self_preference_warning(TargetSpec(provider="x", model=system), [definition])
    assert (warning is not None) is warns
    if warning:
        assert "grounded" in warning and system in warning


@pytest.mark.parametrize(
    ("judge_url", "warns"),
    [
        ("http://127.0.0.1:8080/v1", True),
        ("http://127.0.0.1:8080", True),  # the same server on the other wire
        ("http://127.0.0.1:9090/v1", False),  # the same weights served elsewhere: not itself
    ],
)
def test_a_judge_that_is_the_system_under_test_warns_whatever_the_family(judge_url, warns):
    model = "SmolLM2-135M-Instruct"  # no known family
    definition = make_def(model=JudgeModel(provider="openai", model=model, base_url=judge_url))
    target = TargetSpec(provider="openai", model=model, base_url="http://127.0.0.1:8080/v1")
    warning = self_preference_warning(target, [definition])
    assert (warning is not None) is warns
    if warning:
        assert "system under test itself" in warning and model in warning


def test_the_output_mode_is_validated_and_versioned():
    assert make_def().output == "auto"
    with pytest.raises(ValueError, match="output"):
        make_def(output="xml")
    assert judge_version(make_def(output="json")) != judge_version(make_def(output="text"))
    assert judge_version(make_def(), mode="json") == judge_version(make_def(output="json"))


#: the versions evalkit 0.1.0's ``judge_version`` (commit afa82d2~1, before output modes) gives
#: the bundled judge files: computed by that code, not by this one
VERSIONS_0_1_0 = {
    "grounded": "5145dc64d92b",
    "helpful": "7529bcdd7831",
    "preference": "4871b285010f",
}


@pytest.mark.parametrize("name", sorted(VERSIONS_0_1_0))
def test_tools_mode_keeps_the_0_1_0_version_and_other_modes_change_it(name):
    """0.1.0 asked every verdict in tools mode: a judge still answering that way keeps its
    version (its calibration and baselines stay valid); any other mode is a new version."""
    definition = load_judge(ROOT / "judges" / f"{name}.yaml")
    old = VERSIONS_0_1_0[name]
    assert judge_version(definition, mode="tools") == old
    assert judge_version(definition.model_copy(update={"output": "tools"})) == old
    others = {judge_version(definition, mode=m) for m in ("json_schema", "json", "text")}
    assert old not in others and len(others) == 3
    assert definition.output == "auto" and judge_version(definition) not in {old, *others}


def test_json_schema_output_is_refused_on_the_anthropic_wire(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text(
        "scale: binary\nrubric: PASS if grounded.\noutput: json_schema\n"
        "model: {provider: anthropic, model: claude-haiku-4-5}\n"
    )
    with pytest.raises(InputError) as err:
        load_judge(path)
    assert err.value.field == "output" and err.value.line == 3
    path.write_text(path.read_text().replace("anthropic, model", "openai, model"))
    assert load_judge(path).output == "json_schema"


def test_importing_evalkit_judge_imports_no_sdk():
    code = (
        "import sys, evalkit.grading.judge, evalkit.cli.judge; "
        "print([m for m in ('anthropic', 'openai', 'instructor') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
