"""The public API: every exported name resolves, and importing evalkit stays cheap."""

from __future__ import annotations

import subprocess
import sys

import evalkit


def test_every_public_name_resolves_to_its_definition() -> None:
    from evalkit.api.project import load_suite
    from evalkit.api.run import run_suite

    for name in evalkit.__all__:
        assert getattr(evalkit, name) is not None, name
    assert evalkit.run_suite is run_suite and evalkit.load_suite is load_suite
    assert sorted(dir(evalkit)) == sorted(evalkit.__all__)


def test_unknown_name_is_an_attribute_error() -> None:
    try:
        evalkit.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_import_loads_no_sdk_and_no_engine() -> None:
    code = (
        "import sys, evalkit\n"
        "heavy = ('anthropic', 'openai', 'instructor', 'numpy', 'evalkit.api.run')\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
