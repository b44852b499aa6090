"""Pruning the response cache by age and to a size, and what `info` reports."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from evalkit.base.exceptions import InputError
from evalkit.execution.cache import ResponseCache
from evalkit.execution.cachedb import cache_file, size_on_disk
from evalkit.execution.cacheprune import _delete, cache_info, prune
from evalkit.model.provider import Completion

DAY = 86400


def _filled(directory: Path, n: int, *, text_size: int = 2000) -> Path:
    """``n`` answers and ``n // 4`` verdicts; entry i last used i days ago."""
    cache = ResponseCache(directory)
    for i in range(n):
        cache.put(f"a{i}", Completion(text=f"{i:05d}" + "x" * text_size))
    for i in range(n // 4):
        cache.put_json(f"v{i}", {"i": i})
    cache.close()
    path = cache_file(directory)
    db = sqlite3.connect(path)
    now = int(time.time())
    with db:
        db.executemany(
            "UPDATE responses SET used = ? WHERE key = ?",
            [(now - i * DAY, f"a{i}") for i in range(n)],
        )
        db.executemany(
            "UPDATE results SET used = ? WHERE key = ?",
            [(now - i * DAY, f"v{i}") for i in range(n)],
        )
    db.close()
    return path


def _keys(path: Path, table: str = "responses") -> set[str]:
    db = sqlite3.connect(path)
    try:
        return {k for (k,) in db.execute(f"SELECT key FROM {table}")}
    finally:
        db.close()


def test_info_counts_sizes_and_spans_the_last_use(tmp_path: Path) -> None:
    path = _filled(tmp_path, 40)
    info = cache_info(path)
    assert info.entries == {"responses": 40, "results": 10} and info.total == 50
    assert info.size == size_on_disk(path) > 40 * 2000
    now = time.time()
    assert info.newest is not None and abs(info.newest - now) < 60
    assert info.oldest is not None and abs(info.oldest - (now - 39 * DAY)) < 60


def test_info_of_an_absent_cache_creates_nothing(tmp_path: Path) -> None:
    info = cache_info(cache_file(tmp_path / "none"))
    assert info.total == 0 and info.size == 0 and info.oldest is None
    assert not (tmp_path / "none").exists()


def test_prune_by_age_removes_exactly_the_entries_unused_that_long(tmp_path: Path) -> None:
    path = _filled(tmp_path, 40)
    result = prune(path, older_than=9.5 * DAY)
    assert _keys(path) == {f"a{i}" for i in range(10)}
    assert _keys(path, "results") == {f"v{i}" for i in range(10)}
    assert (result.removed, result.kept) == (30, 20)
    assert result.size_after == size_on_disk(path) < result.size_before  # VACUUM shrank it


def test_prune_to_a_size_keeps_the_most_recently_used_that_fit(tmp_path: Path) -> None:
    path = _filled(tmp_path, 400)
    before = size_on_disk(path)
    bound = before // 3
    result = prune(path, max_size=bound)
    kept = _keys(path)
    assert size_on_disk(path) <= bound and result.size_after <= bound
    # the kept ones are the most recently used: a prefix of a0, a1, …
    assert kept == {f"a{i}" for i in range(len(kept))}
    # and the bound is used, not wasted: close to a third of the entries stay
    assert len(kept) > 400 / 3 * 0.8


def test_a_dry_run_changes_nothing_and_estimates_the_result(tmp_path: Path) -> None:
    path = _filled(tmp_path, 200)
    before = path.read_bytes()
    planned = prune(path, older_than=99.5 * DAY, dry_run=True)
    assert planned.dry_run and (planned.removed, planned.kept) == (100, 150)
    assert path.read_bytes() == before
    done = prune(path, older_than=99.5 * DAY)
    assert (done.removed, done.kept) == (planned.removed, planned.kept)
    assert abs(planned.size_after - done.size_after) < 0.15 * done.size_before


def test_clear_removes_everything_and_runs_go_on_with_the_file(tmp_path: Path) -> None:
    path = _filled(tmp_path, 50)
    running = ResponseCache(tmp_path)  # a run holds the cache open meanwhile
    result = prune(path, everything=True)
    assert (result.removed, result.kept) == (62, 0)
    assert cache_info(path).total == 0 and result.size_after < result.size_before
    running.put("after", Completion(text="written after the clear"))
    running.close()
    assert ResponseCache(tmp_path).get("after") == Completion(text="written after the clear")


def test_an_entry_used_again_since_it_was_chosen_is_kept(tmp_path: Path) -> None:
    path = _filled(tmp_path, 3)
    db = sqlite3.connect(path, isolation_level=None)
    chosen = [("responses", k, u, 0) for k, u in db.execute("SELECT key, used FROM responses")]
    db.execute("UPDATE responses SET used = used + 1 WHERE key = 'a2'")  # a run used it meanwhile
    assert _delete(db, chosen) == 2
    db.close()
    assert _keys(path) == {"a2"}


def test_a_file_that_is_not_a_cache_is_bad_input_naming_it(tmp_path: Path) -> None:
    path = cache_file(tmp_path)
    path.write_bytes(b"garbage" * 1000)
    for call in (lambda: cache_info(path), lambda: prune(path, older_than=DAY)):
        with pytest.raises(InputError) as err:
            call()
        assert str(path) in str(err.value) and "delete it" in str(err.value)
