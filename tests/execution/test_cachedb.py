"""The cache file's schema: files made before ``used`` existed keep working, both ways."""

from __future__ import annotations

import multiprocessing
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from evalkit.execution.cache import ResponseCache
from evalkit.execution.cachedb import busy_retry, cache_file, columns, connect

#: made by evalkit's cache before this change (key and value only), three answers and a verdict
BEFORE = Path(__file__).parents[1] / "data" / "cache" / "before_used.sqlite"


def _old_copy(tmp_path: Path) -> Path:
    shutil.copy(BEFORE, cache_file(tmp_path))
    return tmp_path


def test_a_cache_made_before_used_times_is_read_and_migrated(tmp_path: Path) -> None:
    directory = _old_copy(tmp_path)
    raw = sqlite3.connect(cache_file(directory))
    assert columns(raw, "responses") == {"key", "value"}  # really the old schema
    raw.close()
    start = int(time.time())
    cache = ResponseCache(directory)
    got = cache.get_many(["answer-0", "answer-1", "answer-2"])
    assert [got[f"answer-{i}"].text for i in range(3)] == [
        f"old answer {i} \ud800" for i in range(3)
    ]
    assert got["answer-1"].output_tokens == 1 and got["answer-1"].finish_reason == "stop"
    assert cache.get_json("verdict-0") == {"verdict": "pass", "reasoning": "fine"}
    cache.close()
    db = sqlite3.connect(cache_file(directory))
    for table in ("responses", "results"):
        assert "used" in columns(db, table)
        # old entries count as used when first opened: never pruned as ancient at once
        assert all(u >= start for (u,) in db.execute(f"SELECT used FROM {table}"))


def test_the_code_before_keeps_working_on_a_migrated_file(tmp_path: Path) -> None:
    directory = _old_copy(tmp_path)
    ResponseCache(directory).close()  # migrates
    # exactly the statements the cache made before the `used` column
    old = sqlite3.connect(cache_file(directory))
    old.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    with old:
        old.execute(
            "INSERT OR REPLACE INTO responses (key, value) VALUES (?, ?)",
            ("from-old-code", '{"text": "written by the old code"}'),
        )
    assert old.execute("SELECT value FROM responses WHERE key = ?", ("answer-2",)).fetchone()
    old.close()
    again = ResponseCache(directory)
    got = again.get("from-old-code")
    assert got is not None and got.text == "written by the old code"
    again.close()


def _open_and_write(directory: str, n: int) -> None:
    cache = ResponseCache(directory)
    assert cache._db is not None, "the cache was turned off"
    cache.put_json(f"p{n}", {"n": n})
    cache.close()
    assert not cache.write_failed


def test_processes_opening_an_old_file_at_once_all_migrate_it_safely(tmp_path: Path) -> None:
    directory = _old_copy(tmp_path)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_open_and_write, args=(str(directory), n)) for n in range(6)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0] * 6
    cache = ResponseCache(directory)
    assert [cache.get_json(f"p{n}") for n in range(6)] == [{"n": n} for n in range(6)]
    assert cache.get("answer-0") is not None


def test_a_new_file_is_in_wal_mode_with_the_current_schema(tmp_path: Path) -> None:
    db = connect(tmp_path / "c.sqlite")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert columns(db, "responses") == columns(db, "results") == {"key", "value", "used"}
    db.execute("INSERT INTO results (key, value) VALUES ('k', '1')")  # as older code writes
    (used,) = db.execute("SELECT used FROM results").fetchone()
    assert abs(used - time.time()) < 5


def test_an_immediate_busy_answer_is_tried_again_and_other_errors_are_not() -> None:
    """SQLite can answer "locked" at once, without its busy handler (a new file switched to WAL
    while another process opens it): such a step is retried, anything else raised as it is."""
    answers: list[object] = [
        sqlite3.OperationalError("database is locked"),
        sqlite3.OperationalError("database is busy"),
        "rows",
    ]

    def step() -> object:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert busy_retry(step) == "rows" and not answers

    def broken() -> object:
        answers.append("called")
        raise sqlite3.OperationalError("no such table: responses")

    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        busy_retry(broken)
    assert answers == ["called"]  # raised at once
