"""Pausing Python's cyclic garbage collector while millions of small containers are built."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a run's data or a page's data is built: the build
    allocates millions of small containers and makes no cycles, and the collector's passes over
    every live record (10,000 cases) took more than half of the time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


#: a run's youngest generation is collected after this many new containers, not 700: each
#: case allocates hundreds (SDK reply models, check results, the record), and at the default
#: the collector ran after every few cases and promoted the cases in flight to older generations
RUN_GEN0_THRESHOLD = 10_000


@contextmanager
def gc_relaxed() -> Iterator[None]:
    """Cheap cyclic collection while a run's cases are in flight (cycles are still collected).

    Everything alive at the start (the SDKs' hundreds of thousands of import-time objects, the
    suite) is frozen out of the collector's passes, and the youngest generation is collected
    less often. Without this a full pass over the SDKs' objects (0.15 s) and about 150 young
    passes cost 0.25-0.3 ms per case, a fifth of what the harness adds to the SDK at 50 ms.
    """
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], RUN_GEN0_THRESHOLD), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()
