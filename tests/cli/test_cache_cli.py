"""`evalkit cache info|prune|clear` over a project's cache."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from evalkit.execution.cache import ResponseCache
from evalkit.model.provider import Completion
from tests.conftest import Cli, MakeProject


def _fill(cache_dir: Path, n: int, *, days_apart: int = 1) -> None:
    cache = ResponseCache(cache_dir)
    for i in range(n):
        cache.put(f"k{i}", Completion(text="x" * 1000))
    cache.put_json("verdict", {"v": 1})
    cache.close()
    db = sqlite3.connect(cache_dir / "responses.sqlite")
    with db:
        now = int(time.time())
        db.executemany(
            "UPDATE responses SET used = ? WHERE key = ?",
            [(now - i * days_apart * 86400, f"k{i}") for i in range(n)],
        )
    db.close()


def test_info_prune_and_clear_on_the_projects_cache(make_project: MakeProject, cli: Cli) -> None:
    root = make_project(None)
    cfg = str(root / "evalkit.yaml")
    cache_dir = root / ".evalkit" / "cache"
    code, out, _ = cli(["cache", "info", "-c", cfg])
    assert code == 0 and "no cache file yet" in out and not cache_dir.exists()
    _fill(cache_dir, 40)
    code, out, _ = cli(["cache", "info", "-c", cfg])
    assert code == 0
    assert f"cache: {cache_dir / 'responses.sqlite'}" in out
    assert "entries: 40 model answers, 1 judge verdicts" in out
    assert "size on disk: " in out and "last used: oldest " in out
    code, out, _ = cli(["cache", "prune", "--older-than", "9.5d", "--dry-run", "-c", cfg])
    assert code == 0 and out.startswith("dry run: would remove 30 of 41 entries")
    code, out, _ = cli(["cache", "prune", "--older-than", "9.5d", "-c", cfg])
    assert code == 0 and out.startswith("removed 30 of 41 entries")
    code, out, _ = cli(["cache", "clear", "-c", cfg])
    assert code == 0 and out.startswith("removed 11 of 11 entries")
    code, out, _ = cli(["cache", "info", "-c", cfg])
    assert "entries: 0 model answers, 0 judge verdicts" in out


def test_cache_dir_from_the_config_or_the_option(make_project: MakeProject, cli: Cli) -> None:
    from tests.conftest import CONFIG

    root = make_project({"evalkit.yaml": "cache_dir: elsewhere/c\n" + CONFIG})
    _fill(root / "elsewhere" / "c", 3)
    code, out, _ = cli(["cache", "info", "-c", str(root / "evalkit.yaml")])
    assert code == 0 and "entries: 3 model answers" in out
    other = root / "other"
    _fill(other, 5)
    code, out, _ = cli(["cache", "prune", "--max-size", "1GB", "--cache-dir", str(other)])
    assert code == 0 and out.startswith("removed 0 of 6 entries")
    code, out, err = cli(["cache", "prune", "--max-size", "1kB", "--cache-dir", str(other)])
    assert code == 0 and out.startswith("removed 6 of 6 entries")
    assert "note: still larger than --max-size (1.0 kB)" in err  # the empty file's own pages


def test_bad_input_is_exit_2_with_a_clear_message(make_project: MakeProject, cli: Cli) -> None:
    root = make_project(None)
    cfg = str(root / "evalkit.yaml")
    code, _, err = cli(["cache", "prune", "--older-than", "abc", "-c", cfg])
    assert code == 2 and "--older-than" in err and "'abc' is not a duration" in err
    code, _, err = cli(["cache", "prune", "--max-size", "lots", "-c", cfg])
    assert code == 2 and "--max-size" in err and "'lots' is not a size" in err
    code, _, err = cli(["cache", "prune", "-c", cfg])
    assert code == 2 and "give --older-than and/or --max-size" in err
    cache_dir = root / ".evalkit" / "cache"
    cache_dir.mkdir(parents=True)
    (cache_dir / "responses.sqlite").write_bytes(b"not a database" * 100)
    code, _, err = cli(["cache", "info", "-c", cfg])
    assert code == 2 and "responses.sqlite" in err and "delete it" in err
    assert "Traceback" not in err
