"""`evalkit run` under faults, as CI meets them, in real subprocesses: SIGTERM and Ctrl-C, kill -9
then resume, two resumes at once, a full disk (a small tmpfs). Requests are counted at the
scripted server; the targets are no traceback, no hang, no record lost or duplicated."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from evalkit.scripted import ScriptedServer
from evalkit.storage.runlock import is_live
from evalkit.storage.store import iter_all_records, read_manifest, read_records
from tests.cli.test_run_cli import N_CASES, project, start_run, wait_for_records


def evalkit(config: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "evalkit", *args, "-c", str(config)],
        cwd=config.parent,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "150"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def finish(config: Path, run_id: str) -> tuple[int, str]:
    proc = evalkit(config, "run", "--resume", run_id, "-q")
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err.decode()


def assert_each_case_once(run_path: Path, server: ScriptedServer, kept: set[str]) -> None:
    """Every case has exactly one record; cases ``kept`` before the fault were not asked again.

    Only the requests in flight when the run stopped (at most ``concurrency`` = 2 per stop) are
    sent again: their answers never reached a record.
    """
    records = read_records(run_path)
    assert sorted(r.case_id for r in records) == [f"case-{i:02d}" for i in range(N_CASES)]
    assert all(r.outcome.value == "pass" for r in records)
    # append-only: no case has two lines, so nothing was written twice
    assert max(Counter(r.case_id for r in iter_all_records(run_path)).values()) == 1
    for case_id in kept:
        assert server.count(case=case_id) == 1, case_id
    assert server.count() <= N_CASES + 2


@pytest.fixture
def slow_server() -> Iterator[ScriptedServer]:
    srv = ScriptedServer({"latency_ms": 150, "default": {"text": "ok"}}).start()
    yield srv
    srv.stop()


def test_sigterm_keeps_records_and_names_the_run_to_resume(
    tmp_path: Path, slow_server: ScriptedServer
) -> None:
    # Ctrl-C (SIGINT) takes the same path: tests/cli/test_run_cli.py
    config = project(tmp_path, slow_server.url)
    proc = start_run(config)
    run_path = wait_for_records(tmp_path, 2, proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    message = err.decode()
    assert proc.returncode == 3, message
    assert "Traceback" not in message
    assert f"evalkit run --resume {run_path.name}" in message  # the real run, not "RUN"
    assert "SIGTERM stopped run" in message
    manifest = read_manifest(run_path)
    assert manifest["status"] == "interrupted" and not is_live(run_path)
    kept = {r.case_id for r in read_records(run_path)}
    assert 2 <= manifest["records"] == len(kept) < N_CASES
    code, err_text = finish(config, run_path.name)
    assert code == 0, err_text
    assert_each_case_once(run_path, slow_server, kept)


def test_kill_9_leaves_an_abandoned_run_that_resumes(tmp_path: Path) -> None:
    # slow enough (about 7 s) that the run is still live while `evalkit runs` starts up
    slow_server = ScriptedServer({"latency_ms": 600, "default": {"text": "ok"}}).start()
    try:
        _kill_9_then_resume(tmp_path, slow_server)
    finally:
        slow_server.stop()


def _kill_9_then_resume(tmp_path: Path, slow_server: ScriptedServer) -> None:
    config = project(tmp_path, slow_server.url)
    proc = start_run(config)
    run_path = wait_for_records(tmp_path, 3, proc)
    listing = evalkit(config, "runs").communicate(timeout=60)[0].decode()
    assert f"{run_path.name}" in listing and "running" in listing and "abandoned" not in listing
    proc.kill()
    proc.wait()
    assert read_manifest(run_path)["status"] == "running"  # what the dead writer left
    kept = {r.case_id for r in read_records(run_path)}
    listing = evalkit(config, "runs").communicate(timeout=60)[0].decode()
    assert "abandoned" in listing and " running " not in listing
    code, err = finish(config, run_path.name)
    assert code == 0, err
    assert_each_case_once(run_path, slow_server, kept)
    assert read_manifest(run_path)["status"] == "complete"


def test_two_resumes_at_once_one_is_refused(tmp_path: Path) -> None:
    srv = ScriptedServer({"latency_ms": 600, "default": {"text": "ok"}}).start()
    try:
        config = project(tmp_path, srv.url)
        proc = start_run(config)
        run_path = wait_for_records(tmp_path, 2, proc)
        proc.kill()
        proc.wait()
        kept = {r.case_id for r in read_records(run_path)}
        # about 6 s of work left: both start while the other would still be writing
        both = [evalkit(config, "run", "--resume", run_path.name, "-q") for _ in range(2)]
        results = [(p.wait(timeout=120), p.communicate()[1].decode()) for p in both]
        codes = sorted(code for code, _ in results)
        assert codes == [0, 2], results
        refused = next(err for code, err in results if code == 2)
        assert "being written by another evalkit process" in refused
        assert "Traceback" not in refused
        assert_each_case_once(run_path, srv, kept)
    finally:
        srv.stop()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 768 KiB tmpfs: a project on it runs out of space mid-run."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=768k", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_stops_the_run_cleanly_and_it_resumes(small_disk: Path) -> None:
    # 40 KB replies: the records (and the cache) fill 768 KiB part-way through 24 cases
    srv = ScriptedServer({"default": {"text": "ok " + "x" * 40_000}}).start()
    try:
        config = project(small_disk, srv.url)
        proc = evalkit(config, "run", "-q")
        _, err_bytes = proc.communicate(timeout=120)
        err = err_bytes.decode()
        assert proc.returncode == 3, err
        assert "Traceback" not in err and "no space left on device" in err
        (run_path,) = (small_disk / "runs" / "demo").glob("*/*")
        assert f"evalkit run --resume {run_path.name}" in err
        assert str(run_path) in err  # the message names the file it could not write
        kept = read_records(run_path)  # every line on disk is whole and parses
        assert 0 < len(kept) < N_CASES
        assert not is_live(run_path)
        asked_before = {r.case_id for r in kept}

        subprocess.run(["mount", "-o", "remount,size=16m", str(small_disk)], check=True)
        code, err = finish(config, run_path.name)
        assert code == 0, err
    finally:
        srv.stop()
    records = read_records(run_path)
    assert sorted(r.case_id for r in records) == [f"case-{i:02d}" for i in range(N_CASES)]
    assert max(Counter(r.case_id for r in iter_all_records(run_path)).values()) == 1
    for case_id in asked_before:  # what was written before the disk filled was not lost
        assert srv.count(case=case_id) == 1
    assert read_manifest(run_path)["status"] == "complete"
    yaml.safe_load((run_path / "manifest.json").read_text())  # whole, not torn
