"""Where `evalkit demo` finds the example and where it runs it."""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest

from evalkit.api.example import DEMO_DIR, bundled_example, demo_project, is_example
from evalkit.base.exceptions import InputError

REPO = Path(__file__).resolve().parents[2]


def test_an_editable_install_reads_the_repository_root() -> None:
    assert bundled_example() == REPO


def test_outside_the_example_the_demo_gets_a_copy_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    where, copied = demo_project(None)
    assert copied and where == Path(DEMO_DIR) and is_example(tmp_path / DEMO_DIR)
    assert filecmp.cmp(REPO / "goldens" / "support.yaml", where / "goldens" / "support.yaml")
    assert not (tmp_path / DEMO_DIR / "runs").exists()
    assert demo_project(None) == (Path(DEMO_DIR), False)


def test_inside_the_example_the_demo_runs_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    assert demo_project(None) == (Path("."), False)


def test_a_project_that_is_not_the_example_is_refused(tmp_path: Path) -> None:
    (tmp_path / "evalkit.yaml").write_text("suites: {}\n")
    with pytest.raises(InputError) as info:
        demo_project(tmp_path)
    assert str(tmp_path / "evalkit.yaml") in str(info.value) and DEMO_DIR in str(info.value)
