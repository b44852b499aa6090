"""The collector settings a run and a page build use, and that they are put back."""

from __future__ import annotations

import gc
import weakref

import pytest

from evalkit.base.gc import RUN_GEN0_THRESHOLD, gc_paused, gc_relaxed


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def _cycle() -> weakref.ref[_Node]:
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_relaxed_freezes_what_lived_before_and_still_collects_cycles() -> None:
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    with gc_relaxed():
        assert gc.get_freeze_count() > 1000  # the interpreter's and the test's objects
        assert gc.get_threshold() == (max(before[0], RUN_GEN0_THRESHOLD), *before[1:])
        ref = _cycle()
        assert ref() is not None
        gc.collect()
        assert ref() is None  # a cycle made during the run is still garbage
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


def test_relaxed_restores_after_an_exception() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), gc_relaxed():
        raise RuntimeError("boom")
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


def test_paused_restores_the_collector() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
