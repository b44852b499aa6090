"""``evalkit judge --batch``: every judge request of a re-judge through the provider's batch API.

One :class:`JudgeCourier` per judge (each judge has its own model, key and wire) gathers the
requests of that judge's pending calls and sends them as one batch through
:func:`evalkit.api.batch.settle_batches`, the machinery ``run --batch`` uses: the intent and
then the id of each batch go to ``batches-judge-<name>.json`` in the new run's directory, so
``evalkit judge --resume RUN`` re-attaches and never submits a request twice.

When to send: a batch goes once every judge call in progress waits on the courier (every
case's request is in it). What the replies start (an ``auto`` judge falling down its ladder,
an instructor re-ask after an invalid verdict) is the next round's batch. A request a batch did
not answer is sent live by the judge (:mod:`evalkit.grading.judge.courier`).
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from evalkit.api.batch import read_batches, settle_batches
from evalkit.execution.batch import AnthropicBatches, OpenAIBatches

#: yields to the event loop before a round goes: calls begun just now reach their request
_SETTLE_TICKS = 5


def judge_batches_file(name: str) -> str:
    """The batch record of judge ``name`` in a run directory."""
    return f"batches-judge-{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.json"


class JudgeCourier:
    """Carries one judge's requests to provider batches, a round at a time (see the module
    docstring); implements :class:`evalkit.grading.judge.courier.Courier`."""

    def __init__(self, path: Path, judge: str, *, poll_s: float, progress: bool) -> None:
        self.judge = judge
        self._path = path
        self._file = judge_batches_file(judge)
        self._poll_s = poll_s
        self._progress = progress
        self._active = 0
        self._pending: dict[str, tuple[dict[str, Any], list[asyncio.Future[Any]]]] = {}
        self._api: AnthropicBatches | OpenAIBatches | None = None
        self._changed = asyncio.Event()
        self._rounds: asyncio.Task[None] | None = None
        #: requests a batch did not answer: their retries go live, not into the next batch
        self._failed: dict[str, str] = {}
        #: requests submitted by this process (not those of batches re-attached to)
        self.sent = 0

    def enter(self) -> None:
        self._active += 1
        self._changed.set()

    def leave(self) -> None:
        self._active -= 1
        self._changed.set()

    async def send(
        self, api: AnthropicBatches | OpenAIBatches, key: str, body: dict[str, Any]
    ) -> Any:
        if key in self._failed:
            return self._failed[key]
        self._api = api
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        # the same request twice (a repeat with the same output) is asked once
        self._pending.setdefault(key, (body, []))[1].append(waiter)
        self._changed.set()
        if self._rounds is None or self._rounds.done():
            self._rounds = asyncio.ensure_future(self._send_rounds())
        return await waiter

    def _waiting(self) -> int:
        return sum(len(waiters) for _, waiters in self._pending.values())

    async def _send_rounds(self) -> None:
        while self._pending:
            if self._waiting() < self._active:
                self._changed.clear()
                await self._changed.wait()
                continue
            seen = (self._waiting(), self._active)
            for _ in range(_SETTLE_TICKS):
                await asyncio.sleep(0)
            if (self._waiting(), self._active) != seen:
                continue
            batch, self._pending = self._pending, {}
            await self._send_round(batch)

    async def _send_round(
        self, batch: dict[str, tuple[dict[str, Any], list[asyncio.Future[Any]]]]
    ) -> None:
        assert self._api is not None
        try:
            replies, sent, _ = await settle_batches(
                self._api,
                {(key,): body for key, (body, _) in batch.items()},
                self._path,
                poll_s=self._poll_s,
                progress=self._progress,
                name=self._file,
            )
        except BaseException as exc:  # every judge call waiting learns why
            for _, waiters in batch.values():
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        self.sent += sent
        for key, (_, waiters) in batch.items():
            reply = replies.get((key,), "errored")  # missing from the results: sent alone
            if isinstance(reply, str):
                self._failed[key] = reply
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(reply)

    def batch_ids(self) -> list[str]:
        """Every batch id in this judge's record (those of earlier processes too)."""
        batches = read_batches(self._path, self._file)["batches"]
        return [str(b["id"]) for b in batches if b.get("id")]

    async def aclose(self) -> None:
        """Stop a round still polling (the command was stopped)."""
        rounds, self._rounds = self._rounds, None
        if rounds is not None and not rounds.done():
            rounds.cancel()
            await asyncio.gather(rounds, return_exceptions=True)
