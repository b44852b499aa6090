"""Response cache benchmark: filling it, looking entries up (the run's prefetch and single
gets, with and without refreshing their last-use time), two processes writing at once, and
pruning a large cache by age and to a size. Figures, not pass/fail.

    python benchmarks/bench_cache.py [--entries 100000] [--reply-bytes 1000]

The fill and lookup figures run against any evalkit version with the same ResponseCache API:
``PYTHONPATH=<older checkout> python benchmarks/bench_cache.py`` gives the figures before
(the prune figures then say n/a).
"""

from __future__ import annotations

import argparse
import multiprocessing
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from evalkit.execution.cache import ResponseCache
from evalkit.model.provider import Completion

DAY = 86400


def _fill(directory: Path, keys: list[str], reply: str) -> float:
    started = time.perf_counter()
    cache = ResponseCache(directory)
    for key in keys:
        cache.put(key, Completion(text=reply, input_tokens=100, output_tokens=40, model="m"))
    cache.close()
    return time.perf_counter() - started


def _lookups(directory: Path, keys: list[str]) -> tuple[float, float]:
    cache = ResponseCache(directory)
    started = time.perf_counter()
    found = cache.get_many(keys)
    cache.close()  # includes writing the use marks, when there are any
    many = time.perf_counter() - started
    assert len(found) == len(keys)
    sample = keys[:: max(1, len(keys) // 10_000)]
    cache = ResponseCache(directory)
    started = time.perf_counter()
    for key in sample:
        cache.get(key)
    cache.close()
    return many / len(keys), (time.perf_counter() - started) / len(sample)


def _age(path: Path, keys: list[str]) -> bool:
    """Spread the entries' last use over 8 to 107 days ago (False: a cache without `used`)."""
    db = sqlite3.connect(path)
    try:
        with db:
            now = int(time.time())
            db.executemany(
                "UPDATE responses SET used = ? WHERE key = ?",
                [(now - (i % 100 + 8) * DAY, k) for i, k in enumerate(keys)],
            )
    except sqlite3.OperationalError:
        return False
    finally:
        db.close()
    return True


def _writer(directory: str, keys: list[str], reply: str) -> None:
    _fill(Path(directory), keys, reply)


def _timed_writer(directory: str, reply: str, seconds: float, queue: Any) -> None:
    """Write for ``seconds`` (a run filling the cache), timing each put (a flush included)."""
    cache = ResponseCache(directory)
    longest, n, stop = 0.0, 0, time.perf_counter() + seconds
    while time.perf_counter() < stop:
        started = time.perf_counter()
        cache.put(f"during-{n}", Completion(text=reply))
        longest = max(longest, time.perf_counter() - started)
        n += 1
    cache.close()
    queue.put((n, longest, cache.write_failed))


def _prune_beside_a_writer(directory: Path, path: Path, keys: list[str], reply: str) -> None:
    from evalkit.execution.cacheprune import prune

    _age(path, keys)
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    writer = ctx.Process(target=_timed_writer, args=(str(directory), reply, 8.0, queue))
    writer.start()
    time.sleep(2.0)  # the writer is up and writing
    started = time.perf_counter()
    result = prune(path, older_than=57.5 * DAY)
    took = time.perf_counter() - started
    n, longest, failed = queue.get()
    writer.join()
    print(
        f"prune --older-than 57.5d beside a process writing: removed {result.removed:,} in "
        f"{took:.2f} s; the writer put {n:,} entries meanwhile, longest put "
        f"{longest * 1000:.0f} ms, writes failed: {failed}"
    )


def _two_writers(directory: Path, keys: list[str], reply: str) -> float:
    ctx = multiprocessing.get_context("spawn")
    half = len(keys) // 2
    procs = [
        ctx.Process(target=_writer, args=(str(directory), part, reply))
        for part in (keys[:half], keys[half:])
    ]
    started = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - started
    cache = ResponseCache(directory)
    assert len(cache.get_many(keys)) == len(keys)
    cache.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--reply-bytes", type=int, default=1000)
    args = parser.parse_args()
    n, reply = args.entries, "x" * args.reply_bytes
    keys = [f"{i:064x}" for i in range(n)]
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "one"
        wrote = _fill(directory, keys, reply)
        path = directory / "responses.sqlite"
        size = path.stat().st_size
        print(
            f"fill {n:,} entries of {len(reply)} B: {wrote:.2f} s ({n / wrote:,.0f}/s), "
            f"file {size / 1e6:.1f} MB"
        )
        many, one = _lookups(directory, keys)
        print(
            f"lookups, fresh entries: get_many {many * 1e6:.1f} us/key, get {one * 1e6:.1f} us/key"
        )
        if _age(path, keys):
            many, _ = _lookups(directory, keys)
            print(
                f"lookups, entries last used > 1 week ago (use marks written): get_many "
                f"{many * 1e6:.1f} us/key"
            )
        both = _two_writers(Path(tmp) / "two", keys, reply)
        print(
            f"two processes writing {n // 2:,} entries each at once: {both:.2f} s "
            f"({n / both:,.0f}/s together, process start included)"
        )
        try:
            from evalkit.execution.cacheprune import prune
        except ImportError:
            print("prune: n/a (this version has no `evalkit cache prune`)")
            return
        _age(path, keys)
        started = time.perf_counter()
        result = prune(path, older_than=57.5 * DAY)
        print(
            f"prune --older-than 57.5d: removed {result.removed:,} of {n:,} in "
            f"{time.perf_counter() - started:.2f} s (VACUUM included), "
            f"{result.size_before / 1e6:.1f} MB -> {result.size_after / 1e6:.1f} MB"
        )
        bound = result.size_after // 2
        started = time.perf_counter()
        result = prune(path, max_size=bound)
        print(
            f"prune --max-size {bound / 1e6:.1f}MB: removed {result.removed:,} in "
            f"{time.perf_counter() - started:.2f} s, now {result.size_after / 1e6:.1f} MB"
        )
        _fill(directory, keys, reply)  # all entries again
        _prune_beside_a_writer(directory, path, keys, reply)


if __name__ == "__main__":
    main()
