"""One writer per run: an advisory lock on ``<run>/.lock`` held for as long as a run writes.

``fcntl.flock`` is released by the kernel when its holder dies, even by ``kill -9``, so a stale
lock needs no clean-up: the next ``--resume`` simply takes it over. The lock file also records
who holds it (pid, host, since) for the refusal message. :func:`is_live` probes the lock, which
is how ``evalkit runs`` tells a live ``running`` run from an abandoned one. Windows has no
``flock``: there the lock is not enforced and no run is called abandoned.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path

from evalkit.base.exceptions import RunLocked, StorageError

LOCK = ".lock"
#: how long to keep trying before refusing: a probe by ``evalkit runs`` holds it only briefly
_PATIENCE_S = 1.0


class RunLock:
    """The exclusive lock of one run directory; release it with :meth:`release` (or ``with``)."""

    def __init__(self, run_path: Path, run_id: str) -> None:
        self.path = run_path / LOCK
        self._fd = -1
        try:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StorageError.from_os(exc, self.path) from None
        deadline = time.monotonic() + _PATIENCE_S
        while not _try_lock(self._fd, exclusive=True):
            if time.monotonic() >= deadline:
                holder = _holder(self.path)
                os.close(self._fd)
                self._fd = -1
                raise RunLocked(
                    f"run {run_id} is being written by another evalkit process{holder}; "
                    "one writer per run: wait for it to finish, or stop it and resume again "
                    f"(lock file {self.path})"
                )
            time.sleep(0.05)
        info = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        try:
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, json.dumps(info).encode(), 0)
        except OSError:
            pass  # who holds it is only for messages; the lock itself is what counts

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = -1

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def is_live(run_path: Path) -> bool:
    """Whether some process holds the run's lock right now (a run being written)."""
    try:
        fd = os.open(run_path / LOCK, os.O_RDONLY)
    except OSError:
        return False  # never locked (made before locks existed) or unreadable
    try:
        if sys.platform == "win32":
            return True  # no flock: cannot tell, so never call a run abandoned
        if _try_lock(fd, exclusive=False):
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_UN)
            return False
        return True
    finally:
        os.close(fd)


def _try_lock(fd: int, *, exclusive: bool) -> bool:
    if sys.platform == "win32":
        return True  # no flock on Windows: one writer per run is not enforced there
    import fcntl

    try:
        fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text("utf-8"))
        return f" (pid {int(info['pid'])} on {info['host']})"
    except (OSError, ValueError, KeyError, TypeError):
        return ""
