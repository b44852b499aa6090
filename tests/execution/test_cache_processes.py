"""The response cache shared by several processes at once (CI shards, a run and a judge, a
prune): no exception, no warning, every entry written readable and intact, and a run's
outcomes never changed by the other process."""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from evalkit.execution.cache import ResponseCache
from evalkit.execution.cachedb import cache_file
from evalkit.execution.cacheprune import prune
from evalkit.model.provider import Completion

WRITERS = 4
PER_WRITER = 600
SHARED = 50


def _answer(key: str) -> Completion:
    """A value unique to its key, some of them spanning several pages (overflow pages are
    where a half-written value would show)."""
    digest = hashlib.sha256(key.encode()).hexdigest()
    size = int(digest[:4], 16) % 40 + 1
    return Completion(text=digest * size, output_tokens=size, model=key)


def _writer(directory: str, wid: int, queue: Any) -> None:
    sys.stderr = captured = io.StringIO()  # the cache's warnings
    cache = ResponseCache(directory)
    bad = 0
    for i in range(PER_WRITER):
        own = f"w{wid}-{i}"
        cache.put(own, _answer(own))
        cache.put_json(f"v{wid}-{i}", {"key": own, "i": i})
        shared = f"shared-{i % SHARED}"
        cache.put(shared, _answer(shared))  # every writer writes the same keys too
        if i % 25 == 0:
            keys = [f"w{w}-{j}" for w in range(WRITERS) for j in range(0, i, 3)]
            for key, got in cache.get_many(keys).items():
                bad += got != _answer(key)
            for w in range(WRITERS):
                hit = cache.get_json(f"v{w}-{i // 2}")
                bad += hit is not None and hit != {"key": f"w{w}-{i // 2}", "i": i // 2}
    cache.close()
    queue.put((wid, bad, cache.write_failed, captured.getvalue()))


def _pruner(path: str, queue: Any) -> None:
    removed = prune(Path(path), older_than=86400).removed
    removed += prune(Path(path), max_size=10**9).removed  # nothing to remove: a VACUUM-free pass
    queue.put(("pruner", removed))


def test_writers_readers_and_a_prune_at_once_lose_and_damage_nothing(tmp_path: Path) -> None:
    stale = ResponseCache(tmp_path)
    for i in range(3000):  # a few MB of old entries for the pruner to remove while others write
        stale.put(f"stale-{i}", _answer(f"stale-{i}"))
    stale.close()
    db = sqlite3.connect(cache_file(tmp_path))
    with db:
        db.execute("UPDATE responses SET used = 1000")
    db.close()
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), w, queue)) for w in range(WRITERS)]
    procs.append(ctx.Process(target=_pruner, args=(str(cache_file(tmp_path)), queue)))
    for p in procs:
        p.start()
    reports = [queue.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0] * len(procs)
    writers = sorted(r for r in reports if r[0] != "pruner")
    assert writers == [(w, 0, False, "") for w in range(WRITERS)]  # intact, written, no warning
    assert [r[1] for r in reports if r[0] == "pruner"] == [3000]
    cache = ResponseCache(tmp_path)
    keys = [f"w{w}-{i}" for w in range(WRITERS) for i in range(PER_WRITER)]
    keys += [f"shared-{i}" for i in range(SHARED)]
    found = cache.get_many(keys)
    assert len(found) == len(keys) and all(found[k] == _answer(k) for k in keys)
    assert cache.get_many([f"stale-{i}" for i in range(3000)]) == {}
    verdicts = [cache.get_json(f"v{w}-{i}") for w in range(WRITERS) for i in range(PER_WRITER)]
    assert verdicts == [
        {"key": f"w{w}-{i}", "i": i} for w in range(WRITERS) for i in range(PER_WRITER)
    ]
    cache.close()
    db = sqlite3.connect(cache_file(tmp_path))
    assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


CASES = 120
CONFIG = """\
cache_dir: {cache}
suites:
  demo:
    goldens: goldens.yaml
    target:
      provider: scripted
      model: fake-model
      prompt: prompt.yaml
      script: script.yaml
      params: {{temperature: 0}}
    checks:
      - {{type: contains, value: "ok"}}
    concurrency: 4
"""


def _project(root: Path, cache: Path, failing: set[int]) -> Path:
    """A suite of CASES cases whose scripted answers fail exactly the cases in ``failing``."""
    root.mkdir()
    (root / "evalkit.yaml").write_text(CONFIG.format(cache=cache))
    goldens = [{"id": f"c{i}", "vars": {"question": f"question {i}?"}} for i in range(CASES)]
    (root / "goldens.yaml").write_text(json.dumps(goldens))
    (root / "prompt.yaml").write_text('system: "Answer."\nuser: "Q: {{ question }}"\n')
    rules = [{"when": {"case": f"c{i}"}, "text": f"nope {root.name} {i}"} for i in sorted(failing)]
    script = {"latency_ms": 20, "default": {"text": f"ok {root.name}"}, "responses": rules}
    (root / "script.yaml").write_text(json.dumps(script))
    return root


def _outcomes(root: Path, windows: list[tuple[str, str]]) -> dict[str, tuple[str, bool, bool]]:
    from evalkit.storage.store import load_run

    run = load_run("latest", runs_dir=root / "runs")
    assert run.manifest["status"] == "complete"
    windows.append((run.manifest["started_at"], run.manifest["finished_at"]))
    return {r.case_id: (r.output or "", r.outcome == "pass", r.cached) for r in run.records}


def _expected(root: Path, failing: set[int]) -> dict[str, tuple[str, bool]]:
    return {
        f"c{i}": ((f"nope {root.name} {i}", False) if i in failing else (f"ok {root.name}", True))
        for i in range(CASES)
    }


def _run(root: Path) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "evalkit", "run", "demo", "-c", str(root / "evalkit.yaml")]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_runs_on_one_cache_at_once_keep_their_own_outcomes(tmp_path: Path) -> None:
    cache = tmp_path / "shared-cache"
    failing = {"a": set(range(0, CASES, 3)), "b": set(range(1, CASES, 5))}
    roots = {name: _project(tmp_path / name, cache, fails) for name, fails in failing.items()}
    procs = {name: _run(root) for name, root in roots.items()}
    for name, proc in procs.items():
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, (name, err)
        assert "cache" not in err, err  # no cache warning
    windows: list[tuple[str, str]] = []
    for name, root in roots.items():
        got = _outcomes(root, windows)
        assert {k: v[:2] for k, v in got.items()} == _expected(root, failing[name])
        assert not any(v[2] for v in got.values())  # different scripts: nothing shared
    (start_a, end_a), (start_b, end_b) = windows
    assert start_a < end_b and start_b < end_a, "the two runs did not overlap"
    # every answer of both runs is in the shared cache, as its run got it
    db = sqlite3.connect(cache_file(cache))
    texts = sorted(json.loads(v)["text"] for (v,) in db.execute("SELECT value FROM responses"))
    expected = [
        t for name, root in roots.items() for t, _ in _expected(root, failing[name]).values()
    ]
    assert texts == sorted(expected)
