"""The response cache's SQLite file: opening it safely beside other processes, and its schema.

Several processes may use one cache file at once (two CI shards, a run and a judge). SQLite
does the locking: WAL journal mode lets readers go on while one process writes, every write is
one short ``BEGIN IMMEDIATE`` transaction (it takes the write lock up front, so the busy handler
applies instead of a mid-transaction SQLITE_BUSY), and ``busy_timeout`` makes a writer wait its
turn rather than fail.

Schema: tables ``responses`` and ``results``, each ``key → value`` plus ``used`` (unix seconds
of the last write or read, for pruning). Files made before ``used`` existed gain the column on
first open, with the time of that open as every old entry's ``used``; evalkit versions that do
not know the column keep working on a migrated file (their writes get the default).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

FILE_NAME = "responses.sqlite"
#: ``responses`` holds model answers, ``results`` other cached results (judge verdicts)
TABLES = ("responses", "results")
#: how long a process waits for another one's write lock before giving up on that write
BUSY_TIMEOUT_S = 5.0
_NOW_SQL = "CAST(strftime('%s','now') AS INTEGER)"


def cache_file(directory: str | Path) -> Path:
    return Path(directory) / FILE_NAME


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) the cache at ``path``, in WAL mode, schema up to date.

    The connection is in autocommit mode: write through :func:`write` only."""
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:
        busy_retry(lambda: db.execute("PRAGMA journal_mode=WAL"))
        db.execute("PRAGMA synchronous=NORMAL")
        _migrate(db)
    except BaseException:
        db.close()
        raise
    return db


def busy_retry(step: Callable[[], T]) -> T:
    """``step``, tried again while SQLite answers "locked" or "busy" without waiting itself.

    The busy timeout covers ordinary locks, but not every case: switching a new file to WAL
    while another process opens it, or reading while another rebuilds the WAL index, can
    answer SQLITE_BUSY at once. Those last milliseconds; retry them up to the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    delay = 0.005
    while True:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            if not is_busy(exc) or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


@contextmanager
def write(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One short write transaction, holding the write lock from its start."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def _migrate(db: sqlite3.Connection) -> None:
    if all("used" in columns(db, t) for t in TABLES):
        return  # the usual case: no write lock taken just to open the cache
    with write(db):  # checked again under the lock: another process may have just done it
        now = int(time.time())
        for table in TABLES:
            have = columns(db, table)
            if not have:
                db.execute(
                    f"CREATE TABLE {table} (key TEXT PRIMARY KEY, value TEXT NOT NULL,"
                    f" used INTEGER NOT NULL DEFAULT ({_NOW_SQL}))"
                )
            elif "used" not in have:
                db.execute(f"ALTER TABLE {table} ADD COLUMN used INTEGER NOT NULL DEFAULT {now}")


def size_on_disk(path: Path) -> int:
    """Bytes of the cache file and its write-ahead log."""
    total = 0
    for p in (path, path.with_name(path.name + "-wal")):
        with suppress(OSError):
            total += p.stat().st_size
    return total
