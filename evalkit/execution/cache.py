"""On-disk response cache: a second run of an unchanged suite makes no model calls.

The key hashes everything that changes the answer: provider, model, endpoint, params, the
rendered messages, the repeat index (repeats are independent samples, so each has its own
entry) and, for scripted or python targets, the content of the script or callable's module.
Only successful completions are stored; errors are always retried on the next run.
SQLite (stdlib) gives atomic writes and fast lookups without a server, shared safely by
several processes at once (see :mod:`evalkit.execution.cachedb`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import sys
import time
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import Any

from evalkit.execution.cachedb import (
    BUSY_TIMEOUT_S,
    TABLES,
    busy_retry,
    cache_file,
    connect,
    is_busy,
    write,
)
from evalkit.model.provider import Completion, Message, TargetSpec


def cache_key(
    target: TargetSpec,
    messages: list[Message],
    params: dict[str, Any],
    repeat: int,
    extra: dict[str, Any] | None = None,
) -> str:
    payload = {
        "provider": target.provider,
        "model": target.model,
        "base_url": target.base_url,
        "wire": target.wire if target.provider == "scripted" else None,
        "params": params,
        "messages": messages,
        "repeat": repeat,
        "identity": target_identity(target),
        "extra": extra or {},
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    # surrogatepass: a lone surrogate in a case hashes too (valid text hashes as before)
    return hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()


def target_identity(target: TargetSpec) -> str | None:
    """Content hash of what stands in for the model when it is not a remote one."""
    if target.provider == "scripted" and target.script:
        return _file_sha(Path(target.script))
    if target.provider == "python" and target.callable:
        module = target.callable.split(":", 1)[0]
        try:
            import importlib.util

            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            return target.callable
        origin = spec.origin if spec else None
        return f"{target.callable}:{_file_sha(Path(origin)) if origin else ''}"
    return None


def _file_sha(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return ""


class ResponseCache:
    """A key → Completion store; ``enabled=False`` makes every lookup miss and writes nothing.

    Writes are buffered and committed in batches: one SQLite commit per response cost about
    0.15 ms, a visible share of a run's per-case overhead. A crash loses at most the last
    batch of cache entries (never results: those are in ``results.jsonl``).

    The cache only saves requests, so it never fails a run: a file that cannot be read (corrupt,
    unreadable) turns the cache off, a write that cannot be made (full disk) stops writing, each
    with one warning; a write lock held by another process past the busy timeout keeps the batch
    for the next commit. Entries read are marked used (at most once a week each), so pruning
    by last use keeps what runs still need.
    """

    BATCH = 64
    #: a hit refreshes its entry's ``used`` time only when older than this (a week). A mark
    #: rewrites the entry's row (50-150 us for a 1 kB reply on a 2-core machine, a third of a
    #: cached case's cost): a nightly cached run pays it once a week, not every night
    TOUCH_AFTER_S = 7 * 86400
    #: writes kept for a retry while another process holds the write lock (beyond: dropped)
    MAX_PENDING = 4096

    def __init__(self, directory: str | Path, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self.hits = 0
        self.misses = 0
        #: a write failed (full disk): later writes are dropped, lookups still work
        self.write_failed = False
        self.path = cache_file(directory)
        self._pending: dict[tuple[str, str], str] = {}
        self._touched: set[tuple[str, str]] = set()
        self._warned: set[str] = set()
        #: after a busy write, no new attempt before this (time.monotonic()): one wait per
        #: busy timeout at most, not one per answer
        self._retry_at = 0.0
        self._db: sqlite3.Connection | None = None
        if enabled:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._db = connect(self.path)
            except (OSError, sqlite3.Error) as exc:
                self._warn(
                    "open", f"no response cache at {self.path.parent} ({exc}); running without"
                )

    def get(self, key: str) -> Completion | None:
        return _completion(self._lookup("responses", key))

    def put(self, key: str, completion: Completion) -> None:
        if self._db is None:  # off (--no-cache) or unavailable: nothing to encode
            return
        # its fields hold only JSON values: a shallow dict encodes as asdict's deep copy would
        fields = {f.name: getattr(completion, f.name) for f in dataclass_fields(completion)}
        self._store("responses", key, _dumps(fields))

    def get_many(self, keys: list[str]) -> dict[str, Completion]:
        """Look up many keys in a few queries: a run prefetches its whole plan at start,
        instead of one query (and one GIL hand-off) per case while requests are in flight."""
        found: dict[str, Completion] = {}
        if self._db is None:
            return found
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._read(
                f"SELECT key, value, used FROM responses WHERE key IN ({marks})", chunk
            )
            for key, value, used in rows:
                completion = _completion(value)
                if completion is not None:
                    found[key] = completion
                    self._touch("responses", key, used)
            self._flush_if_full()  # use marks in batches, not a set as large as the plan
        self.hits += len(found)
        self.misses += len(set(keys)) - len(found)
        return found

    def get_json(self, key: str) -> Any | None:
        """A JSON value stored by :meth:`put_json` (judge verdicts), or None on a miss."""
        value = self._lookup("results", key)
        try:
            return json.loads(value) if value is not None else None
        except ValueError:
            return None

    def put_json(self, key: str, value: Any) -> None:
        """Store any JSON-serialisable value under ``key`` (use a key from :func:`cache_key`)."""
        self._store("results", key, _dumps(value))

    def _lookup(self, table: str, key: str) -> str | None:
        if self._db is None:
            return None
        value = self._pending.get((table, key))
        if value is None:
            rows = self._read(f"SELECT value, used FROM {table} WHERE key = ?", [key])
            if rows:
                value = rows[0][0]
                self._touch(table, key, rows[0][1])
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        self._flush_if_full()
        return value

    def _read(self, sql: str, args: list[str]) -> list[Any]:
        """Rows of a query; a file that cannot be read turns the cache off (say so once)."""
        if self._db is None:
            return []
        db = self._db
        try:
            return busy_retry(lambda: db.execute(sql, args).fetchall())
        except sqlite3.Error as exc:
            self._warn("read", f"response cache unreadable ({exc}); continuing without it")
            self._pending.clear()
            self._disconnect()
            return []

    def _touch(self, table: str, key: str, used: int | None) -> None:
        if self.write_failed or (used or 0) >= time.time() - self.TOUCH_AFTER_S:
            return
        self._touched.add((table, key))

    def _store(self, table: str, key: str, value: str) -> None:
        if self._db is None or self.write_failed or len(self._pending) >= self.MAX_PENDING:
            return
        self._pending[(table, key)] = value
        self._flush_if_full()

    def _flush_if_full(self) -> None:
        full = len(self._pending) >= self.BATCH or len(self._touched) >= 16 * self.BATCH
        if full and time.monotonic() >= self._retry_at:
            self.flush()

    def flush(self) -> None:
        """Commit buffered writes and use marks in one transaction."""
        if self._db is None or not (self._pending or self._touched):
            return
        now = int(time.time())
        try:
            with write(self._db):
                for table in TABLES:
                    rows = [(k, v, now) for (t, k), v in self._pending.items() if t == table]
                    if rows:
                        self._db.executemany(
                            f"INSERT OR REPLACE INTO {table} (key, value, used) VALUES (?, ?, ?)",
                            rows,
                        )
                    old = now - self.TOUCH_AFTER_S
                    marks = [(now, k, old) for t, k in self._touched if t == table]
                    if marks:
                        self._db.executemany(
                            f"UPDATE {table} SET used = ? WHERE key = ? AND used < ?", marks
                        )
        except sqlite3.OperationalError as exc:
            if is_busy(exc):
                # another process held the write lock past the timeout (a prune's VACUUM on a
                # slow disk): keep the batch (up to MAX_PENDING) and try again later
                self._warn("busy", f"response cache busy ({exc}); its writes are deferred")
                self._retry_at = time.monotonic() + BUSY_TIMEOUT_S
                return
            self._write_failed(exc)
        except sqlite3.Error as exc:
            self._write_failed(exc)
        self._pending.clear()
        self._touched.clear()

    def _write_failed(self, exc: sqlite3.Error) -> None:
        # a full disk must not cost the run (results.jsonl reports that on its own): stop
        # writing to the cache and say so once
        self._warn("write", f"response cache not written ({exc}); continuing")
        self.write_failed = True

    def _warn(self, kind: str, message: str) -> None:
        if kind not in self._warned:
            self._warned.add(kind)
            print(f"warning: {message}", file=sys.stderr)

    def _disconnect(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None

    def close(self) -> None:
        self.flush()
        if self._pending and not self.write_failed:
            self._warn("write", f"{len(self._pending)} response cache entries not written (busy)")
        self._disconnect()


def _completion(value: str | None) -> Completion | None:
    """The stored answer, or None (a miss) for an entry this version cannot read."""
    if value is None:
        return None
    try:
        return Completion(**json.loads(value))
    except (ValueError, TypeError):
        return None


def _dumps(value: Any) -> str:
    """JSON with ASCII escapes: a lone surrogate in a reply is stored as ``\\ud800`` and read
    back identical (SQLite would refuse it as raw text)."""
    return json.dumps(value)
