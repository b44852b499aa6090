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
from dataclasses import asdict
from pathlib import Path
from typing import Any

from evalkit.provider.base import Completion, Message, TargetSpec

_SCHEMA = "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT NOT NULL)"


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
        "identity": _identity(target),
        "extra": extra or {},
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _identity(target: TargetSpec) -> str | None:
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
    """A key → Completion store; ``enabled=False`` makes every lookup miss and writes nothing."""

    def __init__(self, directory: str | Path, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self.hits = 0
        self.misses = 0
        self._db: sqlite3.Connection | None = None
        if enabled:
            d = Path(directory)
            d.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(d / "responses.sqlite", isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)

    def get(self, key: str) -> Completion | None:
        if self._db is None:
            return None
        row = self._db.execute("SELECT value FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        return Completion(**json.loads(row[0]))

    def put(self, key: str, completion: Completion) -> None:
        if self._db is None:
            return
        value = json.dumps(asdict(completion), ensure_ascii=False)
        self._db.execute(
            "INSERT OR REPLACE INTO responses (key, value) VALUES (?, ?)", (key, value)
        )

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
