"""How a run stops (evalkit/execution/runstop.py): SIGTERM cancels the run once, is ignored while
its
state is saved, and a failing close does not keep the others from running."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from evalkit.execution.runstop import StopSignals, close_all


def test_sigterm_cancels_the_run_once_then_is_ignored_while_closing() -> None:
    async def main() -> tuple[str, bool]:
        stop = StopSignals()
        stop.install()
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            with pytest.raises(asyncio.CancelledError):
                await asyncio.sleep(5)
            stop.closing = True
            os.kill(os.getpid(), signal.SIGTERM)
            await asyncio.sleep(0.05)  # not cancelled again: the state can be saved
            return stop.name, True
        finally:
            stop.remove()

    assert asyncio.run(main()) == ("SIGTERM", True)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handler removed


def test_a_failing_close_does_not_stop_the_others(capsys: pytest.CaptureFixture[str]) -> None:
    closed: list[str] = []

    def broken() -> None:
        raise OSError("sk-ant-api03-secret-in-a-message-0123456789 refused")

    async def later() -> None:
        closed.append("async")

    asyncio.run(close_all([lambda: closed.append("first") or None, later, broken]))
    assert closed == ["async", "first"]  # last opened, first closed; all of them
    err = capsys.readouterr().err
    assert "warning: closing" in err and "sk-ant-api03-secret" not in err
