"""Laying project files into a folder: never overwrite, name every clash."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.api.scaffold import write_tree
from evalkit.base.exceptions import InputError


def _src(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "goldens").mkdir(parents=True)
    (src / "evalkit.yaml").write_text("suites: {}\n")
    (src / "goldens" / "a.yaml").write_text("[]\n")
    (src / "goldens" / "x.calibration.json").write_text("{}")
    (src / "runs").mkdir()
    (src / "runs" / "r.json").write_text("{}")
    return src


def test_copies_the_named_files_and_skips_generated_ones(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    written = write_tree(_src(tmp_path), dest, ["evalkit.yaml", "goldens"])
    assert sorted(map(str, written)) == ["evalkit.yaml", "goldens/a.yaml"]
    assert (dest / "goldens" / "a.yaml").read_text() == "[]\n"
    assert not (dest / "runs").exists()


def test_refuses_to_overwrite_and_writes_nothing(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    (dest / "goldens").mkdir(parents=True)
    (dest / "goldens" / "a.yaml").write_text("mine\n")
    with pytest.raises(InputError) as info:
        write_tree(_src(tmp_path), dest)
    assert "goldens/a.yaml" in str(info.value) and info.value.exit_code == 2
    assert (dest / "goldens" / "a.yaml").read_text() == "mine\n"
    assert not (dest / "evalkit.yaml").exists()
