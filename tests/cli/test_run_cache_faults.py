"""A broken response cache never fails a run: the run goes on uncached, says so once, and its
outcomes are those of a run with a healthy cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.storage.store import load_run
from tests.conftest import Cli, MakeProject


def _outcomes(root: Path) -> dict[str, tuple[str, str | None, bool]]:
    run = load_run("latest", runs_dir=root / "runs")
    assert run.manifest["status"] == "complete"
    return {r.case_id: (r.outcome.value, r.output, r.cached) for r in run.records}


def _damage(path: Path) -> None:
    """Overwrite every page after the first (the tables' pages): the file still opens."""
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.seek(4096)
        f.write(b"\xff" * (size - 4096))


@pytest.mark.parametrize("fault", ["damaged pages", "not a database"])
def test_a_broken_cache_only_warns_and_the_run_is_unchanged(
    make_project: MakeProject, cli: Cli, fault: str
) -> None:
    root = make_project(None)
    cfg = str(root / "evalkit.yaml")
    code, _, err = cli(["run", "demo", "-c", cfg])
    assert code == 0 and "cache" not in err
    healthy = _outcomes(root)
    assert {k: v[0] for k, v in healthy.items()} == {"a": "pass", "b": "fail", "c": "pass"}
    cache = root / ".evalkit" / "cache" / "responses.sqlite"
    assert not (cache.parent / "responses.sqlite-wal").exists()  # all in the main file
    if fault == "damaged pages":
        _damage(cache)
    else:
        cache.write_bytes(b"not a database at all " * 300)
    code, _, err = cli(["run", "demo", "-c", cfg])
    assert code == 0
    warnings = [line for line in err.splitlines() if "cache" in line]
    assert len(warnings) == 1 and warnings[0].startswith("warning: "), err
    assert "Traceback" not in err
    again = _outcomes(root)
    assert {k: v[:2] for k, v in again.items()} == {k: v[:2] for k, v in healthy.items()}
    assert not any(v[2] for v in again.values())  # answered by the model, not the cache
