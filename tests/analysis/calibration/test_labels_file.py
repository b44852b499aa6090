"""The labels file: sha binding, errors with file:line:field, torn lines, append and undo."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from evalkit.analysis.calibration.labels import (
    Label,
    append_label,
    check_known_cases,
    latest_by_output,
    parse_label_value,
    read_csv_labels,
    read_labels,
    remove_label,
)
from evalkit.base.exceptions import InputError

EXAMPLE = Path(__file__).resolve().parents[3] / "judges" / "grounded.labels.jsonl"


def _line(**kw: object) -> str:
    base = {"case_id": "a", "output": "out", "output_sha": "", "label": "pass", "critique": ""}
    return json.dumps({**base, **kw}) + "\n"


def test_example_labels_load_with_their_sha_filled() -> None:
    labels = read_labels(EXAMPLE, "binary")
    assert len(labels) == 74
    assert sum(lab.label == "pass" for lab in labels) == 44
    for lab in labels:
        assert lab.output_sha == hashlib.sha256(lab.output.encode()).hexdigest()
        assert lab.sampling.mode == "manual"


def test_errors_name_line_and_field(tmp_path: Path) -> None:
    p = tmp_path / "j.labels.jsonl"
    p.write_text(_line() + _line(label="meh") + _line(), "utf-8")
    with pytest.raises(InputError) as exc:
        read_labels(p, "binary")
    assert str(exc.value).endswith("j.labels.jsonl:2: label: expected pass or fail, got 'meh'")
    p.write_text(_line() + _line(output_sha="0" * 64), "utf-8")
    with pytest.raises(InputError, match=r":2: output_sha: output_sha does not match"):
        read_labels(p)
    p.write_text(_line() + "{not json\n" + _line(), "utf-8")
    with pytest.raises(InputError, match=r":2: invalid JSON"):
        read_labels(p)
    p.write_text(json.dumps({"output": "x", "label": "pass"}) + "\n", "utf-8")
    with pytest.raises(InputError, match=r":1: case_id: Field required"):
        read_labels(p)


def test_torn_last_line_is_ignored_then_trimmed_on_append(tmp_path: Path) -> None:
    p = tmp_path / "j.labels.jsonl"
    p.write_text(_line() + '{"case_id": "b", "outp', "utf-8")
    assert len(read_labels(p)) == 1
    append_label(p, Label(case_id="c", output="o", label="fail"))
    assert [lab.case_id for lab in read_labels(p)] == ["a", "c"]


def test_append_keeps_a_complete_last_line_without_newline(tmp_path: Path) -> None:
    p = tmp_path / "j.labels.jsonl"
    p.write_text(_line(case_id="hand").rstrip("\n"), "utf-8")  # hand-written, no final newline
    append_label(p, Label(case_id="b", output="o", label="fail"))
    assert [lab.case_id for lab in read_labels(p)] == ["hand", "b"]


def test_remove_label_undoes_the_last_equal_line(tmp_path: Path) -> None:
    p = tmp_path / "j.labels.jsonl"
    one = Label(case_id="a", output="o", label="pass")
    two = Label(case_id="b", output="p", label="fail")
    for lab in (one, two, one):
        append_label(p, lab)
    assert remove_label(p, one)
    assert [lab.case_id for lab in read_labels(p)] == ["a", "b"]
    assert not remove_label(p, Label(case_id="z", output="o", label="pass"))


def test_latest_label_per_output_wins() -> None:
    a = Label(case_id="a", output="o", output_sha="s", label="pass")
    b = Label(case_id="a", output="o", output_sha="s", label="fail")
    assert latest_by_output([a, b]) == {"s": b}


def test_label_values() -> None:
    assert parse_label_value(" P ", "binary") == "pass"
    assert parse_label_value("fail", "binary") == "fail"
    assert parse_label_value("3", "likert-5") == 3
    for bad, scale in (("6", "likert-5"), (True, "likert-5"), ("yes", "binary")):
        with pytest.raises(ValueError):
            parse_label_value(bad, scale)  # type: ignore[arg-type]


def test_label_for_an_unknown_case_names_its_line_and_case(tmp_path: Path) -> None:
    p = tmp_path / "j.labels.jsonl"
    p.write_text(_line(case_id="a") + "\n" + _line(case_id="gone", output="x"), "utf-8")
    labels = read_labels(p, "binary")
    check_known_cases(labels, {"a", "gone"}, p)
    with pytest.raises(InputError) as err:
        check_known_cases(latest_by_output(labels).values(), {"a"}, p)
    assert (err.value.path, err.value.line, err.value.field) == (str(p), 3, "case_id")
    assert "label for unknown case 'gone'" in err.value.message


def test_duplicate_key_in_a_label_line_names_line_and_key(tmp_path: Path) -> None:
    p = tmp_path / "j.labels.jsonl"
    p.write_text(_line() + '{"case_id": "a", "output": "o", "label": "pass", "label": "fail"}\n')
    with pytest.raises(InputError) as err:
        read_labels(p, "binary")
    assert (err.value.line, err.value.field) == (2, "label")
    assert "duplicate key 'label'" in err.value.message


def test_csv_export_with_a_repeated_column_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "export.csv"
    p.write_text("case_id,output,label,label\na,out,pass,fail\n", "utf-8")
    with pytest.raises(InputError) as err:
        read_csv_labels(p, "binary", labeled_at="2026-01-01T00:00:00Z")
    assert (err.value.line, err.value.field) == (1, "label")
