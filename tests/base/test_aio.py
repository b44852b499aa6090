"""Sync wrappers work from plain code and from inside a running event loop (a notebook)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from evalkit.base.aio import run_sync


async def _where() -> tuple[str, int]:
    await asyncio.sleep(0)
    return threading.current_thread().name, id(asyncio.get_running_loop())


def test_without_a_running_loop_it_runs_here() -> None:
    name, _loop = run_sync(_where())
    assert name == threading.current_thread().name


def test_inside_a_running_loop_it_runs_on_a_worker_thread() -> None:
    async def notebook_cell() -> tuple[str, int, int]:
        name, inner = run_sync(_where())  # asyncio.run would raise here
        return name, inner, id(asyncio.get_running_loop())

    name, inner, outer = asyncio.run(notebook_cell())
    assert name.startswith("evalkit-sync") and inner != outer


def test_exceptions_reach_the_caller() -> None:
    async def boom() -> None:
        raise KeyError("lost")

    async def cell() -> None:
        run_sync(boom())

    with pytest.raises(KeyError, match="lost"):
        run_sync(boom())
    with pytest.raises(KeyError, match="lost"):
        asyncio.run(cell())
