from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.base.exceptions import InputError
from evalkit.model.golden import load_golden


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def test_yaml_list_loads_cases_with_context_and_lines(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "g.yaml",
        """\
- id: one
  vars: {q: hi}
  expected: hello
  context: [{id: d1, text: "doc"}]
  tags: [x]
- id: 2
  vars: {q: yo}
""",
    )
    golden = load_golden(p)
    assert [c.id for c in golden.cases] == ["one", "2"]
    assert golden.cases[0].context[0].id == "d1"
    assert golden.line_of("one") == 1 and golden.line_of("2") == 6
    assert len(golden.sha) == 12


def test_duplicate_ids_name_both_lines(tmp_path: Path) -> None:
    p = write(tmp_path, "g.yaml", "- id: a\n- id: b\n- id: a\n")
    with pytest.raises(InputError) as err:
        load_golden(p)
    assert err.value.line == 3 and err.value.field == "id"
    assert "first defined on line 1" in str(err.value)
    assert str(err.value).startswith(f"{p}:3: id: duplicate case id 'a'")


def test_unknown_field_points_at_its_line(tmp_path: Path) -> None:
    p = write(tmp_path, "g.yaml", "- id: a\n  vars: {}\n  expectd: typo\n")
    with pytest.raises(InputError) as err:
        load_golden(p)
    assert err.value.line == 3
    assert err.value.field == "expectd"
    assert "unknown field" in str(err.value)


def test_missing_id(tmp_path: Path) -> None:
    p = write(tmp_path, "g.yaml", "- id: a\n- vars: {q: 1}\n")
    with pytest.raises(InputError) as err:
        load_golden(p)
    assert err.value.line == 2 and err.value.field == "id"


def test_jsonl_reports_bad_line(tmp_path: Path) -> None:
    p = write(tmp_path, "g.jsonl", '{"id": "a", "vars": {"q": 1}}\n\n{"id": "b", vars}\n')
    with pytest.raises(InputError) as err:
        load_golden(p)
    assert err.value.line == 3 and "invalid JSON" in str(err.value)


def test_jsonl_loads(tmp_path: Path) -> None:
    p = write(tmp_path, "g.jsonl", '{"id": "a", "vars": {"q": 1}}\n{"id": "b", "tags": ["x"]}\n')
    golden = load_golden(p)
    assert [c.id for c in golden.cases] == ["a", "b"] and golden.line_of("b") == 2


def test_csv_columns(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "g.csv",
        "id,vars.question,expected,tags\nr1,Late?,Yes,refunds|late\nr2,Lost?,,shipping\n",
    )
    golden = load_golden(p)
    first, second = golden.cases
    assert first.vars == {"question": "Late?"} and first.expected == "Yes"
    assert first.tags == ["refunds", "late"] and second.expected is None
    assert golden.line_of("r2") == 3


def test_csv_unknown_column(tmp_path: Path) -> None:
    p = write(tmp_path, "g.csv", "id,question\nr1,x\n")
    with pytest.raises(InputError) as err:
        load_golden(p)
    assert err.value.field == "question" and err.value.line == 1


def test_non_utf8_names_line(tmp_path: Path) -> None:
    p = write(tmp_path, "g.yaml", b"- id: a\n- id: caf\xe9\n")
    with pytest.raises(InputError) as err:
        load_golden(p)
    assert err.value.line == 2 and "UTF-8" in str(err.value)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        load_golden(tmp_path / "missing.yaml")
    assert "file not found" in str(err.value)


def test_invalid_yaml_has_line(tmp_path: Path) -> None:
    p = write(tmp_path, "g.yaml", "- id: a\n- id: [b\n")
    with pytest.raises(InputError) as err:
        load_golden(p)
    assert err.value.line is not None and "invalid YAML" in str(err.value)


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    p = write(tmp_path, "g.yaml", "- id: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(InputError) as err:
        load_golden(p)
    assert "invalid YAML" in str(err.value)


def test_template_vars_merge_case_fields() -> None:
    from evalkit.model.golden import Case

    case = Case(id="x", vars={"q": "hi"}, expected="e", tags=["t"])
    tv = case.template_vars()
    assert tv["q"] == "hi" and tv["expected"] == "e" and tv["id"] == "x" and tv["tags"] == ["t"]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("g.yaml", ""),
        ("g.yaml", "# only a comment\n"),
        ("g.yaml", "[]\n"),
        ("g.yaml", "cases: []\n"),
        ("g.jsonl", "\n\n"),
        ("g.csv", "id,vars.question,expected\n"),
        ("g.csv", ""),
    ],
)
def test_empty_golden_set_is_an_error(tmp_path: Path, name: str, text: str) -> None:
    p = write(tmp_path, name, text)
    with pytest.raises(InputError) as err:
        load_golden(p)
    assert err.value.path == str(p) and err.value.line == 1
    assert "the golden set has no cases" in err.value.message


def test_duplicate_key_in_a_case_names_both_lines(tmp_path: Path) -> None:
    p = write(tmp_path, "g.yaml", "- id: a\n  vars: {q: 1}\n  expected: x\n  expected: y\n")
    with pytest.raises(InputError) as err:
        load_golden(p)
    assert err.value.line == 4 and err.value.field == "[0].expected"
    assert "duplicate key 'expected' on lines 3 and 4" in err.value.message


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("g.jsonl", b'{"id": "a"}\n{"id": "b\x00"}\n'),
        ("g.csv", b"id,expected\na,x\nb,y\x00\n"),
        ("g.yaml", b"- id: a\n- id: b\n  expected: \x00\n"),
    ],
)
def test_nul_byte_names_its_line(tmp_path: Path, name: str, data: bytes) -> None:
    p = write(tmp_path, name, data)
    with pytest.raises(InputError) as err:
        load_golden(p)
    assert err.value.line == data.count(b"\n", 0, data.index(b"\x00")) + 1
    assert "NUL byte" in err.value.message


def test_jsonl_duplicate_key_names_line_and_key(tmp_path: Path) -> None:
    p = write(tmp_path, "g.jsonl", '{"id": "a"}\n{"id": "b", "expected": "x", "expected": "y"}\n')
    with pytest.raises(InputError) as err:
        load_golden(p)
    assert (err.value.line, err.value.field) == (2, "expected")
    assert "duplicate key 'expected'" in err.value.message


def test_csv_duplicate_column_is_an_error(tmp_path: Path) -> None:
    p = write(tmp_path, "g.csv", "id,vars.q,vars.q\na,one,two\n")
    with pytest.raises(InputError) as err:
        load_golden(p)
    assert (err.value.line, err.value.field) == (1, "vars.q")
    assert "duplicate column 'vars.q'" in err.value.message
