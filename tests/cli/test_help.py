"""Every command has --help with an example, and `evalkit --help` lists it without importing it."""

from __future__ import annotations

import pytest

from evalkit.cli import COMMANDS
from tests.conftest import Cli


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help_with_an_example(cli: Cli, name: str) -> None:
    code, out, _ = cli([name, "--help"])
    assert code == 0
    assert "Example" in out, f"`evalkit {name} --help` shows no example"


def test_top_level_help_lists_init_and_schema(cli: Cli) -> None:
    code, out, _ = cli(["--help"])
    assert code == 0
    for name in ("init", "schema", "demo"):
        assert f"  {name} " in out
