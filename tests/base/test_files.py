"""`evalkit.base.files.read_text`: user files that are not text name the offending line."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.base.exceptions import InputError
from evalkit.base.files import DuplicateKeyError, csv_header, loads_json, read_text


def test_nul_byte_names_its_line(tmp_path: Path) -> None:
    p = tmp_path / "g.jsonl"
    p.write_bytes(b'{"id": "a"}\n{"id": "b"}\n{"id": "c\x00"}\n')
    with pytest.raises(InputError) as err:
        read_text(p)
    assert err.value.line == 3
    assert str(err.value) == f"{p}:3: a NUL byte is not allowed in a text file"


def test_utf8_bom_is_dropped_and_text_kept(tmp_path: Path) -> None:
    p = tmp_path / "a.yaml"
    p.write_bytes(b"\xef\xbb\xbfa: caf\xc3\xa9\n")
    assert read_text(p) == "a: café\n"


def test_loads_json_refuses_a_repeated_key_at_any_depth() -> None:
    assert loads_json('{"a": {"b": 1}, "c": [{"b": 2}]}') == {"a": {"b": 1}, "c": [{"b": 2}]}
    with pytest.raises(DuplicateKeyError) as err:
        loads_json('{"a": {"b": 1, "b": 2}}')
    assert err.value.key == "b"


def test_csv_header_strips_names_and_refuses_repeats() -> None:
    assert csv_header([" id", "label "], "x.csv") == ["id", "label"]
    assert csv_header(None, "x.csv") == []
    with pytest.raises(InputError) as err:
        csv_header(["id", "label", " label"], "x.csv")
    assert (
        str(err.value) == "x.csv:1: label: duplicate column 'label' (only the last would be kept)"
    )
