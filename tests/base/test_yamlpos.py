"""`evalkit.base.yamlpos.load_yaml`: the one YAML loader; duplicate keys and NUL bytes name
lines."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import evalkit
from evalkit.base.exceptions import InputError
from evalkit.base.yamlpos import field_name, load_yaml


def test_duplicate_top_level_key_names_both_lines() -> None:
    with pytest.raises(InputError) as err:
        load_yaml("rubric: first\nscale: binary\nrubric: second\n", "judges/j.yaml")
    e = err.value
    assert (e.path, e.line, e.field) == ("judges/j.yaml", 3, "rubric")
    assert "duplicate key 'rubric' on lines 1 and 3" in e.message


def test_duplicate_nested_key_in_a_list_item_names_its_path() -> None:
    text = "suites:\n  demo:\n    checks:\n      - {type: contains, value: a, value: b}\n"
    with pytest.raises(InputError) as err:
        load_yaml(text, "evalkit.yaml")
    assert err.value.line == 4
    assert err.value.field == "suites.demo.checks[0].value"
    assert "twice on line 4" in err.value.message


def test_equal_keys_in_different_mappings_are_fine() -> None:
    data, positions = load_yaml("a: {x: 1}\nb: {x: 2}\n", "f.yaml")
    assert data == {"a": {"x": 1}, "b": {"x": 2}}
    assert positions[("b", "x")] == 2


def test_merge_key_override_is_not_a_duplicate() -> None:
    text = "base: &b {x: 1, y: 1}\nc:\n  <<: *b\n  x: 2\n"
    data, _ = load_yaml(text, "f.yaml")
    assert data["c"] == {"x": 2, "y": 1}


def test_string_and_integer_keys_differ() -> None:
    data, _ = load_yaml('"1": a\n1: b\n', "f.yaml")
    assert data == {"1": "a", 1: "b"}


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        ("a: 1\nb: x\0y\n", 2, "a NUL byte"),
        ("a: 1\n\nb: \x07\n", 3, "unprintable character '\\x07'"),
    ],
)
def test_unprintable_characters_name_their_line(text: str, line: int, what: str) -> None:
    with pytest.raises(InputError) as err:
        load_yaml(text, "f.yaml")
    assert err.value.line == line
    assert err.value.message == f"invalid YAML: {what} is not allowed"


def test_python_tags_are_refused() -> None:
    with pytest.raises(InputError, match="invalid YAML"):
        load_yaml("x: !!python/object/apply:os.system ['true']\n", "f.yaml")


def test_empty_document_is_none() -> None:
    assert load_yaml("# nothing\n", "f.yaml") == (None, {})


def test_field_name_formats_indices_in_brackets() -> None:
    assert field_name(("suites", "demo", "checks", 0, "type")) == "suites.demo.checks[0].type"
    assert field_name((2, "id")) == "[2].id"


def test_no_other_module_parses_yaml_itself() -> None:
    """Every YAML file goes through load_yaml, so none escapes the duplicate-key check."""
    root = Path(evalkit.__file__).parent
    offenders = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if p.name != "yamlpos.py" and re.search(r"^\s*(import yaml|from yaml)", p.read_text(), re.M)
    ]
    assert offenders == []
