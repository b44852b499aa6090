"""Build step: ship the example project at the repository root as package data.

The example (evalkit.yaml and the folders it reads) lives once, at the root, where `evalkit demo`
and the tests use it in a checkout. A wheel gets a copy under ``evalkit/data/example/`` made here
at build time, so `evalkit demo` works after a non-editable install (tests/test_wheel.py checks
the copy is byte-for-byte the root's). Everything else is in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
#: the example project's files, relative to the root: one list, read here and by evalkit demo
_LIST = ROOT / "evalkit" / "data" / "example.files"
EXAMPLE = [s for s in _LIST.read_text().splitlines() if s.strip() and not s.startswith("#")]
_IGNORE = shutil.ignore_patterns("*.calibration.json", "__pycache__", ".*")


class _BuildWithExample(build_py):
    """``build_py`` that also copies the root example into the built package."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads the root itself
            return
        dest = Path(self.build_lib) / "evalkit" / "data" / "example"
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        for name in EXAMPLE:
            src = ROOT / name
            if src.is_dir():
                shutil.copytree(src, dest / name, ignore=_IGNORE)
            else:
                shutil.copy2(src, dest / name)


setup(cmdclass={"build_py": _BuildWithExample})
