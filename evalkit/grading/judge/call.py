"""One structured judge call through instructor, on either wire, under evalkit's retry policy.

There is one code path for Anthropic and OpenAI (:mod:`evalkit.grading.judge.wirecall` makes
one request in one output mode). How the verdict is asked for is the judge's output mode
(:mod:`evalkit.grading.judge.modes`):
instructor's ``TOOLS``, ``JSON_SCHEMA`` or ``JSON``, or a tagged plain-text answer;
``auto`` walks down the wire's ladder once. Two retry loops, each owning one kind of failure:

* instructor's ``max_retries`` re-asks after an invalid verdict (validation retries only);
* transport errors (429, 5xx, timeouts) arrive wrapped in ``InstructorRetryException`` with the
  SDK exception as ``__cause__``; they are unwrapped, mapped with the wire's ``map_error`` and
  retried by :func:`evalkit.execution.provider.retry.call_with_retries`, like every other model
  call.

A verdict that cannot be obtained is a :class:`Sample` with ``error`` set (kinds
``unparseable``, ``truncated``, ``refusal`` or a provider kind), never a made-up verdict.
SDKs and instructor are imported on first use.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from evalkit.execution.provider.retry import RetryPolicy
from evalkit.grading.judge import modes
from evalkit.grading.judge.courier import Courier
from evalkit.grading.judge.modes import ConcreteMode, OutputMode
from evalkit.grading.judge.reply import Sample
from evalkit.grading.judge.wirecall import Asking, WireCaller
from evalkit.model.provider import CallContext, Message, TargetSpec

if TYPE_CHECKING:
    from evalkit.grading.judge.scale.base import Scale


class VerdictClient:
    """The judge's verdicts in its output mode, over a :class:`WireCaller`.

    ``mode`` is the judge's output mode; with ``auto`` the first calls probe the wire's ladder
    one at a time (a lock), and once a rung gives a verdict (or the last rung is reached) the
    mode is fixed and calls run concurrently again.
    """

    def __init__(self, target: TargetSpec, mode: OutputMode = "auto") -> None:
        self._caller = WireCaller(target)
        self._ladder = modes.ladder(self._caller.wire, mode)
        self._rung = 0
        self._settled = len(self._ladder) == 1
        self._probe_lock: asyncio.Lock | None = None

    @property
    def mode(self) -> ConcreteMode:
        """The mode calls use now (for ``auto``: the current rung of the ladder)."""
        return self._ladder[self._rung]

    def send_by_batch(self, courier: Courier) -> None:
        """Send every request through ``courier`` (a provider batch) instead of live."""
        self._caller.courier = courier

    def adopt(self, mode: str) -> None:
        """Settle on ``mode`` when a cached verdict says it worked (no probe needed again)."""
        if not self._settled and mode in self._ladder[self._rung :]:
            self._rung = self._ladder.index(mode)
            self._settled = True

    def prepare(self) -> None:
        """Import the SDK and build the client now (a missing API key raises AuthError here)."""
        self._caller.setup(self.mode)

    async def ask(
        self,
        messages: list[Message],
        scale: Scale,
        *,
        ctx: CallContext,
        validation_retries: int,
        policy: RetryPolicy,
        ident: str = "",
    ) -> Sample:
        """One verdict in the judge's output mode, falling back down the ``auto`` ladder.

        ``ident`` names the judge sample (its cache key): in batch mode it keeps two samples
        with the same messages apart. An :class:`AuthError` propagates: a judge with a refused
        key cannot grade anything.
        """
        self.prepare()
        asking = Asking(messages, scale, ctx, validation_retries, policy, ident)
        if self._caller.courier is not None:
            return await self._ask_by_batch(asking)
        if not self._settled:
            if self._probe_lock is None:
                self._probe_lock = asyncio.Lock()
            async with self._probe_lock:  # calls arriving meanwhile wait for the outcome
                if not self._settled:
                    sample, self._rung, self._settled = await self._probe(asking, self._rung)
                    return sample
        return await self._caller.ask_in(self.mode, asking, validation_retries)

    async def _ask_by_batch(self, asking: Asking) -> Sample:
        """Batch mode: no probe one call at a time (each would be a batch of its own). An
        unsettled ``auto`` judge asks every sample in its current rung in one batch; a sample
        whose answer shows the mode rejected or ignored walks down the ladder in the next
        batch round on its own. Each verdict records the mode that gave it."""
        courier = self._caller.courier
        assert courier is not None
        courier.enter()
        try:
            if self._settled:
                return await self._caller.ask_in(self.mode, asking, asking.validation_retries)
            sample, rung, settled = await self._probe(asking, self._rung)
            if settled and sample.verdict is not None:
                self.adopt(self._ladder[rung])
            return sample
        finally:
            courier.leave()

    async def _probe(self, asking: Asking, rung: int) -> tuple[Sample, int, bool]:
        """Walk down the ladder from ``rung`` until a verdict, a failure that is not about the
        mode, or the last rung; the failed rungs' cost is added to the sample. Returns the
        sample, the rung reached and whether the judge may settle there."""
        spent = Sample(model=self._caller.model)
        retries = asking.validation_retries
        while True:
            mode = self._ladder[rung]
            # a probe is not re-asked: the next rung is the better second try
            last = rung + 1 >= len(self._ladder)
            sample = await self._caller.ask_in(mode, asking, retries if last else 0)
            sample.add_cost_of(spent)
            if sample.verdict is not None or last:
                return sample, rung, True
            error = sample.error
            if error is not None and error.kind == "unparseable" and not sample.mode_ignored:
                # the mode works, the model erred inside it: settle, use the re-asks left
                if retries == 0:
                    return sample, rung, True
                again = await self._caller.ask_in(mode, asking, retries - 1)
                again.add_cost_of(sample)
                return again, rung, True
            if not modes.unsupported(sample.error, ignored=sample.mode_ignored):
                # not about the mode (rate limit, a begun verdict cut short): ask again later
                return sample, rung, False
            rung += 1
            spent = sample

    async def aclose(self) -> None:
        """Close the SDK client and release the scripted server lease."""
        await self._caller.aclose()
