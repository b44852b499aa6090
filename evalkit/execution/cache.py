"""On-disk response cache: a second run of an unchanged suite makes no model calls.

The key hashes everything that changes the answer: provider, model, endpoint, params, the
rendered messages, the repeat index (repeats are independent samples, so each has its own
entry) and, for scripted or python targets, the content of the script or callable's module.
Only successful completions are stored; errors are always retried on the next run.
SQLite (stdlib) gives atomic writes and fast lookups without a server.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from evalkit.model.provider import Completion, Message, TargetSpec

_SCHEMA = "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
#: other cached results (judge verdicts), kept apart so a key can never decode as a Completion
_SCHEMA_JSON = "CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, value TEXT NOT NULL)"


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
    """

    BATCH = 64

    def __init__(self, directory: str | Path, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self.hits = 0
        self.misses = 0
        #: a write failed (full disk): later writes are dropped, lookups still work
        self.write_failed = False
        self._pending: dict[tuple[str, str], str] = {}
        self._db: sqlite3.Connection | None = None
        if enabled:
            d = Path(directory)
            try:
                d.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(d / "responses.sqlite")
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.execute(_SCHEMA)
                self._db.execute(_SCHEMA_JSON)
            except (OSError, sqlite3.Error) as exc:
                print(
                    f"warning: no response cache at {d} ({exc}); running without", file=sys.stderr
                )
                self._db = None

    def get(self, key: str) -> Completion | None:
        value = self._lookup("responses", key)
        return Completion(**json.loads(value)) if value is not None else None

    def put(self, key: str, completion: Completion) -> None:
        self._store("responses", key, _dumps(asdict(completion)))

    def get_many(self, keys: list[str]) -> dict[str, Completion]:
        """Look up many keys in a few queries: a run prefetches its whole plan at start,
        instead of one query (and one GIL hand-off) per case while requests are in flight."""
        found: dict[str, Completion] = {}
        if self._db is None:
            return found
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, value FROM responses WHERE key IN ({marks})", chunk
            ).fetchall()
            found.update((k, Completion(**json.loads(v))) for k, v in rows)
        self.hits += len(found)
        self.misses += len(set(keys)) - len(found)
        return found

    def get_json(self, key: str) -> Any | None:
        """A JSON value stored by :meth:`put_json` (judge verdicts), or None on a miss."""
        value = self._lookup("results", key)
        return json.loads(value) if value is not None else None

    def put_json(self, key: str, value: Any) -> None:
        """Store any JSON-serialisable value under ``key`` (use a key from :func:`cache_key`)."""
        self._store("results", key, _dumps(value))

    def _lookup(self, table: str, key: str) -> str | None:
        if self._db is None:
            return None
        value = self._pending.get((table, key))
        if value is None:
            row = self._db.execute(f"SELECT value FROM {table} WHERE key = ?", (key,)).fetchone()
            value = row[0] if row else None
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    def _store(self, table: str, key: str, value: str) -> None:
        if self._db is None or self.write_failed:
            return
        self._pending[(table, key)] = value
        if len(self._pending) >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        """Commit buffered writes in one transaction."""
        if self._db is None or not self._pending:
            return
        try:
            with self._db:
                for table in ("responses", "results"):
                    rows = [(k, v) for (t, k), v in self._pending.items() if t == table]
                    if rows:
                        self._db.executemany(
                            f"INSERT OR REPLACE INTO {table} (key, value) VALUES (?, ?)", rows
                        )
        except sqlite3.Error as exc:
            # the cache only saves requests: a full disk must not cost the run (results.jsonl
            # reports that on its own); stop writing to it and say so once
            if not self.write_failed:
                print(f"warning: response cache not written ({exc}); continuing", file=sys.stderr)
            self.write_failed = True
        self._pending.clear()

    def close(self) -> None:
        if self._db is not None:
            self.flush()
            self._db.close()
            self._db = None


def _dumps(value: Any) -> str:
    """JSON with ASCII escapes: a lone surrogate in a reply is stored as ``\\ud800`` and read
    back identical (SQLite would refuse it as raw text)."""
    return json.dumps(value)
