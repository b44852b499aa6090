"""How a run stops: SIGTERM handled like Ctrl-C, and what it opened closed before its state is
saved (used by :mod:`evalkit.api.run`)."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from evalkit.base.redact import redact


async def close_all(closers: list[Callable[[], Awaitable[None] | None]]) -> None:
    """Close what the run opened, last first; a failing close must not keep the manifest from
    being written, so it is reported and the rest are still closed."""
    for close in reversed(closers):
        try:
            pending = close()
            if pending is not None:
                await pending
        except Exception as exc:  # reported, then the run's state is saved
            print(f"warning: closing {close!r} failed: {redact(str(exc))}", file=sys.stderr)


class StopSignals:
    """SIGTERM (what CI runners send on cancel) stops a run the way Ctrl-C does.

    Both cancel the run's task, so finished records stay and the manifest says ``interrupted``.
    """

    def __init__(self) -> None:
        self.name = "Ctrl-C"
        #: the run is saving its state: a SIGTERM now is ignored rather than cut that short
        self.closing = False
        self._task: asyncio.Task[Any] | None = None
        self._installed = False

    def install(self) -> None:
        self._task = asyncio.current_task()
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, self._on_term)
        except (ValueError, RuntimeError, NotImplementedError):
            return  # not the main thread, or no signals here: nothing to install
        self._installed = True

    def _on_term(self) -> None:
        if self.closing or self.name == "SIGTERM" or self._task is None:
            return  # cancel once; clean-up is under way
        self.name = "SIGTERM"
        self._task.cancel()

    def remove(self) -> None:
        if self._installed:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGTERM)
            self._installed = False
