"""`evalkit._files.read_text`: user files that are not text name the offending line."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit._files import read_text
from evalkit.exceptions import InputError


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
