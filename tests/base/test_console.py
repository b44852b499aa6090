"""make_console: the terminal's width, or no folding at 80 columns when piped."""

from __future__ import annotations

import io

import pytest
from rich.table import Table

from evalkit.base.console import PIPED_WIDTH, make_console


def _table() -> Table:
    t = Table()
    t.add_column("case")
    t.add_column("why")
    t.add_row("case-01", "x" * 120)
    return t


def test_piped_console_is_wide_and_keeps_rows_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    out = io.StringIO()
    console = make_console(file=out)
    assert console.width == PIPED_WIDTH
    console.print(_table())
    assert any("x" * 120 in line for line in out.getvalue().splitlines())


def test_columns_and_min_width_still_apply(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    out = io.StringIO()
    assert make_console(file=out).width == 60
    assert make_console(file=out, min_width=110).width == 110
    console = make_console(file=out)
    console.print(_table())
    assert not any("x" * 120 in line for line in out.getvalue().splitlines())  # folded at 60
