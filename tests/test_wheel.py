"""A non-editable install from a built wheel: what a user gets from `pip install evalkit`.

The wheel is built once per module (`pip wheel --no-deps`) and installed with `--no-deps` into
a fresh venv; the venv borrows the test environment's dependencies through a `.pth` line, so
only evalkit itself comes from the wheel (no network, seconds instead of minutes). Commands run
in a temporary folder outside the checkout, so nothing can fall back to the repository root.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import site
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_PIP = (sys.executable, "-m", "pip")


def _source_tree(dest: Path) -> Path:
    """The checkout's files as git sees them (tracked, or new and not ignored): a build there
    leaves nothing in the checkout and cannot pick up a stale build/ folder."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\0")
    for rel in filter(None, listed):
        if (REPO / rel).is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, dest / rel)
    return dest


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    src = _source_tree(tmp_path_factory.mktemp("src"))
    subprocess.run(
        [*_PIP, "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out), str(src)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    (built,) = out.glob("evalkit-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with evalkit from the wheel; returns its bin/ folder."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [*_PIP, "--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(purelib) / "_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return env_dir / "bin"


def _run(bin_dir: Path, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin", "COLUMNS": "120", "HOME": str(cwd)}
    return subprocess.run(
        [str(bin_dir / args[0]), *args[1:]],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )


def _example_names() -> list[str]:
    from evalkit.api.example import example_files

    return example_files()


def test_wheel_carries_the_root_example_byte_for_byte(wheel: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(tmp_path)
    packaged = tmp_path / "evalkit" / "data" / "example"
    for name in _example_names():
        src = REPO / name
        if src.is_file():
            assert filecmp.cmp(src, packaged / name, shallow=False), name
            continue
        tracked = sorted(
            p.relative_to(REPO)
            for p in src.rglob("*")
            if p.is_file() and not p.name.endswith(".calibration.json")
        )
        shipped = sorted(p.relative_to(packaged) for p in (packaged / name).rglob("*"))
        assert [p for p in shipped if (packaged / p).is_file()] == tracked
        for rel in tracked:
            assert filecmp.cmp(REPO / rel, packaged / rel, shallow=False), rel


def test_manifest_ships_the_example_in_an_sdist_too() -> None:
    lines = (REPO / "MANIFEST.in").read_text().splitlines()
    named = [line.split()[1] for line in lines if line.startswith(("include ", "graft "))]
    assert named == _example_names()


def test_demo_runs_after_a_non_editable_install(installed: Path, tmp_path: Path) -> None:
    where = _run(installed, ["python", "-c", "import evalkit; print(evalkit.__file__)"], tmp_path)
    assert "site-packages" in where.stdout and str(REPO) not in where.stdout
    proc = _run(installed, ["evalkit", "demo"], tmp_path)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert "copied to evalkit-demo/" in proc.stdout
    assert "PR-ready summary" in proc.stdout
    runs = sorted((tmp_path / "evalkit-demo" / "runs" / "support").glob("*/*/manifest.json"))
    assert len(runs) == 2
    # a second demo reuses the copy instead of refusing to overwrite it
    again = _run(installed, ["evalkit", "demo"], tmp_path)
    assert again.returncode == 0, again.stderr
    assert "copied to" not in again.stdout
    assert len(list((tmp_path / "evalkit-demo" / "runs" / "support").glob("*/*"))) == 4


def test_init_then_run_after_a_non_editable_install(installed: Path, tmp_path: Path) -> None:
    proc = _run(installed, ["evalkit", "init", "demo-proj"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    project = tmp_path / "demo-proj"
    assert (project / ".gitignore").is_file() and (project / ".github" / "workflows").is_dir()
    run = _run(installed, ["evalkit", "run"], project)
    assert run.returncode == 0, run.stderr + run.stdout
    assert "pass rate 100.0% over 5 cases" in run.stdout
    # the pytest plugin, registered by the wheel's entry point
    pytest_args = ["python", "-m", "pytest", "--evalkit", "-p", "no:cacheprovider"]
    tests = _run(installed, pytest_args, project)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "5 passed" in tests.stdout
