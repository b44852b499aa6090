"""Sync wrappers over evalkit's async core that also work where an event loop already runs.

``asyncio.run`` refuses to start inside a running loop, which is where a Jupyter notebook (or
any async application) calls from. There the coroutine runs to completion on a fresh loop in a
worker thread instead; signal handlers are not installed off the main thread, so SIGTERM is the
host's business there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion and return its result, from sync code in any context."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="evalkit-sync") as pool:
        return pool.submit(asyncio.run, coro).result()
