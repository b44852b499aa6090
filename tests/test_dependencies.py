"""pyproject's dependency ranges: a fresh install must settle on SDKs that work together.

instructor 1.17 requires ``openai>=2,<4`` and ``jiter<0.15``, while openai 3.3.1 and later
require ``jiter>=0.16``. Left open, pip walked back through 66 openai releases (160 s, no cache)
before it landed on 3.3.0; with the ranges below it downloads 2 and takes 39 s.
``benchmarks/bench_resolve.py`` measures what pip picks from a fresh venv.
"""

from __future__ import annotations

from importlib.metadata import requires, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement

tomllib = pytest.importorskip("tomllib")

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def _dependencies() -> dict[str, Requirement]:
    data = tomllib.loads(PYPROJECT.read_text("utf-8"))
    reqs = [Requirement(line) for line in data["project"]["dependencies"]]
    return {r.name.lower(): r for r in reqs}


def test_openai_range_excludes_the_releases_that_need_a_newer_jiter() -> None:
    deps = _dependencies()
    openai, jiter = deps["openai"].specifier, deps["jiter"].specifier
    assert "3.3.0" in openai
    assert "3.3.1" not in openai and "3.4.0" not in openai and "4.0.0" not in openai
    assert "0.14.0" in jiter and "0.15.0" not in jiter and "0.16.0" not in jiter


def test_installed_versions_satisfy_pyproject_and_each_other() -> None:
    deps = _dependencies()
    for name in ("openai", "anthropic", "instructor", "jiter", "pydantic"):
        assert deps[name].specifier.contains(version(name), prereleases=True), name
    # what the installed instructor and openai ask of jiter admits the jiter we pin
    for package in ("instructor", "openai"):
        for line in requires(package) or []:
            req = Requirement(line)
            if req.name.lower() == "jiter" and req.marker is None:
                assert req.specifier.contains(version("jiter"), prereleases=True), package
