"""One writer per run (evalkit/storage/runlock.py): a second writer is refused, a dead one's lock is
taken over, and ``is_live`` tells a run being written from an abandoned one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from evalkit.base.exceptions import RunLocked
from evalkit.storage.runlock import LOCK, RunLock, is_live

_HOLDER = """
import sys, time
from pathlib import Path
from evalkit.storage.runlock import RunLock
lock = RunLock(Path(sys.argv[1]), "r1")
print("locked", flush=True)
time.sleep(60)
"""


def _hold_in_subprocess(path: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_a_second_writer_is_refused_with_who_holds_it(tmp_path: Path) -> None:
    proc = _hold_in_subprocess(tmp_path)
    try:
        assert is_live(tmp_path)
        started = time.monotonic()
        with pytest.raises(RunLocked) as err:
            RunLock(tmp_path, "r1")
        assert time.monotonic() - started < 5  # refused, not hung
        message = str(err.value)
        assert "run r1" in message and f"pid {proc.pid}" in message
        assert str(tmp_path / LOCK) in message and err.value.exit_code == 2
    finally:
        proc.kill()
        proc.wait()


def test_a_lock_left_by_kill_9_is_taken_over(tmp_path: Path) -> None:
    proc = _hold_in_subprocess(tmp_path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert (tmp_path / LOCK).exists()  # the file stays; the kernel dropped the lock itself
    assert not is_live(tmp_path)
    with RunLock(tmp_path, "r1"):
        assert is_live(tmp_path)
    assert not is_live(tmp_path)


def test_the_same_process_cannot_take_it_twice(tmp_path: Path) -> None:
    with RunLock(tmp_path, "r1"), pytest.raises(RunLocked):
        RunLock(tmp_path, "r1")
    RunLock(tmp_path, "r1").release()  # free again once released


def test_a_run_without_a_lock_file_is_not_live(tmp_path: Path) -> None:
    assert not is_live(tmp_path)
