"""One structured judge call through instructor, on either wire, under evalkit's retry policy.

There is one code path for Anthropic and OpenAI: the judge model's own provider builds the SDK
client (retries off) and the request's params exactly as for a target; :data:`_WIRES` says
which module classifies its errors (``map_error``) and which instructor factory wraps the
client. How the verdict is asked for is the judge's output mode
(:mod:`evalkit.grading.judge.modes`):
instructor's ``TOOLS``, ``JSON_SCHEMA`` or ``JSON``, or a tagged plain-text answer parsed here;
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
import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from evalkit.base.exceptions import AuthError, ProviderError
from evalkit.execution.batch import batch_api
from evalkit.execution.provider import _common
from evalkit.execution.provider._sdk import body_of
from evalkit.execution.provider.retry import RetryPolicy, call_with_retries
from evalkit.execution.throttle import limiter_key
from evalkit.grading.judge import modes
from evalkit.grading.judge.courier import Courier, batch_instructor, request_key
from evalkit.grading.judge.modes import ConcreteMode, OutputMode
from evalkit.grading.judge.reply import (
    NoVerdict,
    Sample,
    quiet_instructor,
    refused,
    truncated,
    usage_of,
    with_text_format,
)
from evalkit.model.provider import CallContext, Completion, Message, TargetSpec
from evalkit.model.record import ErrorInfo

if TYPE_CHECKING:
    from evalkit.grading.judge.scale.base import Scale

#: wire → (provider module with map_error, instructor factory)
_WIRES: dict[str, tuple[str, str]] = {
    "anthropic": ("evalkit.execution.provider.anthropic", "from_anthropic"),
    "openai": ("evalkit.execution.provider.openai", "from_openai"),
}
_MAX_MESSAGE = 500


@dataclass(frozen=True)
class _Asking:
    """One verdict request: what every attempt of it (and every rung of the ladder) shares."""

    messages: list[Message]
    scale: Scale
    ctx: CallContext
    validation_retries: int
    policy: RetryPolicy
    #: the judge sample's name (its cache key; see :func:`courier.request_key`)
    ident: str


class VerdictClient:
    """instructor over the SDK client of one target; created lazily inside the running loop.

    ``provider: scripted`` targets hold a lease on the shared loopback server (through a
    :class:`~evalkit.execution.provider.scripted.ScriptedProvider`) and send the call context as
    headers,
    so script rules can match on case, prompt label and ``purpose: judge:<name>``.

    ``mode`` is the judge's output mode; with ``auto`` the first calls probe the wire's ladder
    one at a time (a lock), and once a rung gives a verdict (or the last rung is reached) the
    mode is fixed and calls run concurrently again.
    """

    def __init__(self, target: TargetSpec, mode: OutputMode = "auto") -> None:
        self.target = target
        self.wire = target.wire if target.provider == "scripted" else target.provider
        if self.wire not in _WIRES:
            raise ProviderError(
                f"judges need an anthropic, openai or scripted model, not {target.provider!r}",
                kind="bad_request",
            )
        self._module = importlib.import_module(_WIRES[self.wire][0])
        self._lease: Any = None
        self._client: Any = None
        self._instructors: dict[str, Any] = {}
        self._sdk: Any = None
        self._secret: str | None = None
        self.model = target.model or ("scripted" if target.provider == "scripted" else "")
        self._ladder = modes.ladder(self.wire, mode)
        self._rung = 0
        self._settled = len(self._ladder) == 1
        self._probe_lock: asyncio.Lock | None = None
        self.limiter_key = limiter_key(target.provider, target.base_url, self.model)
        #: set by :meth:`send_by_batch`: requests go to a provider batch (evalkit judge --batch)
        self._courier: Courier | None = None

    @property
    def mode(self) -> ConcreteMode:
        """The mode calls use now (for ``auto``: the current rung of the ladder)."""
        return self._ladder[self._rung]

    def send_by_batch(self, courier: Courier) -> None:
        """Send every request through ``courier`` (a provider batch) instead of live."""
        self._courier = courier

    def adopt(self, mode: str) -> None:
        """Settle on ``mode`` when a cached verdict says it worked (no probe needed again)."""
        if not self._settled and mode in self._ladder[self._rung :]:
            self._rung = self._ladder.index(mode)
            self._settled = True

    def _setup(self) -> Any:
        if self._sdk is not None:
            return self._sdk
        from evalkit.execution.provider import create_provider

        quiet_instructor()
        # the target's own provider builds the SDK client and the request's params; a scripted
        # target also holds a lease on the shared loopback server until aclose
        self._lease = create_provider(self.target)
        self._sdk = getattr(self._lease, "delegate", self._lease)
        self._client = self._sdk.client()
        self._secret = getattr(self._client, "api_key", None)
        if self.mode != "text":
            self._instructor(self.mode)  # instructor's import is slow: done in prepare()
        return self._sdk

    def _instructor(self, mode: ConcreteMode) -> Any:
        """instructor wrapping the SDK client in ``mode`` (one wrapper per mode, on demand)."""
        if mode not in self._instructors:
            import instructor

            self._setup()
            factory = getattr(instructor, _WIRES[self.wire][1])
            chosen = getattr(instructor.Mode, modes.INSTRUCTOR_MODES[mode])
            self._instructors[mode] = factory(self._client, mode=chosen)
        return self._instructors[mode]

    def _kwargs(self, ctx: CallContext) -> dict[str, Any]:
        kwargs: dict[str, Any] = self._sdk.request_kwargs({}, ctx)
        return kwargs

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
        self._setup()
        asking = _Asking(messages, scale, ctx, validation_retries, policy, ident)
        if self._courier is not None:
            return await self._ask_by_batch(asking)
        if not self._settled:
            if self._probe_lock is None:
                self._probe_lock = asyncio.Lock()
            async with self._probe_lock:  # calls arriving meanwhile wait for the outcome
                if not self._settled:
                    sample, self._rung, self._settled = await self._probe(asking, self._rung)
                    return sample
        return await self._ask_in(self.mode, asking, validation_retries)

    async def _ask_by_batch(self, asking: _Asking) -> Sample:
        """Batch mode: no probe one call at a time (each would be a batch of its own). An
        unsettled ``auto`` judge asks every sample in its current rung in one batch; a sample
        whose answer shows the mode rejected or ignored walks down the ladder in the next
        batch round on its own. Each verdict records the mode that gave it."""
        courier = self._courier
        assert courier is not None
        courier.enter()
        try:
            if self._settled:
                return await self._ask_in(self.mode, asking, asking.validation_retries)
            sample, rung, settled = await self._probe(asking, self._rung)
            if settled and sample.verdict is not None:
                self.adopt(self._ladder[rung])
            return sample
        finally:
            courier.leave()

    async def _probe(self, asking: _Asking, rung: int) -> tuple[Sample, int, bool]:
        """Walk down the ladder from ``rung`` until a verdict, a failure that is not about the
        mode, or the last rung; the failed rungs' cost is added to the sample. Returns the
        sample, the rung reached and whether the judge may settle there."""
        spent = Sample(model=self.model)
        retries = asking.validation_retries
        while True:
            mode = self._ladder[rung]
            # a probe is not re-asked: the next rung is the better second try
            last = rung + 1 >= len(self._ladder)
            sample = await self._ask_in(mode, asking, retries if last else 0)
            sample.add_cost_of(spent)
            if sample.verdict is not None or last:
                return sample, rung, True
            error = sample.error
            if error is not None and error.kind == "unparseable" and not sample.mode_ignored:
                # the mode works, the model erred inside it: settle, use the re-asks left
                if retries == 0:
                    return sample, rung, True
                again = await self._ask_in(mode, asking, retries - 1)
                again.add_cost_of(sample)
                return again, rung, True
            if not modes.unsupported(sample.error, ignored=sample.mode_ignored):
                # not about the mode (rate limit, a begun verdict cut short): ask again later
                return sample, rung, False
            rung += 1
            spent = sample

    async def _ask_in(self, mode: ConcreteMode, asking: _Asking, validation_retries: int) -> Sample:
        sample = Sample(model=self.model, mode=mode)
        if mode == "text":
            once = self._text_call(sample, asking, validation_retries)
        else:
            once = self._instructor_call(sample, mode, asking, validation_retries)
        # a batch request waits for its batch, not for a slot of the live limiter
        key = None if self._courier is not None else self.limiter_key
        try:
            parsed, _attempts = await call_with_retries(once, asking.policy, key=key)
        except AuthError:
            raise
        except ProviderError as exc:
            sample.error = ErrorInfo(kind=exc.kind, message=exc.message, status=exc.status)
            return sample
        except NoVerdict as exc:
            sample.error = ErrorInfo(kind=exc.kind, message=exc.message)
            sample.mode_ignored = exc.ignored
            return sample
        sample.verdict = parsed
        return sample

    def _count(self, sample: Sample, response: Any) -> None:
        usage = usage_of(response)
        sample.input_tokens += usage[0]
        sample.output_tokens += usage[1]
        sample.cache_read_tokens += usage[2]
        sample.cache_write_tokens += usage[3]
        sample.model = str(getattr(response, "model", "") or sample.model)

    def _instructor_call(
        self, sample: Sample, mode: ConcreteMode, asking: _Asking, validation_retries: int
    ) -> Callable[[], Awaitable[dict[str, Any]]]:
        from instructor.core.exceptions import (
            IncompleteOutputException,
            InstructorRetryException,
        )
        from instructor.core.hooks import Hooks

        scale = asking.scale
        if self._courier is None:
            client = self._instructor(mode)
        else:
            client = batch_instructor(
                self._client, self.wire, mode, self._batch_create(sample, asking.ident)
            )

        def on_kwargs(*args: Any, **kwargs: Any) -> None:
            sample.requests += 1

        hooks = Hooks()
        hooks.on("completion:kwargs", on_kwargs)
        hooks.on("completion:response", lambda response: self._count(sample, response))
        kwargs = self._kwargs(asking.ctx)

        async def once() -> dict[str, Any]:
            try:
                parsed: BaseModel = await client.create(
                    model=self.model,
                    messages=asking.messages,
                    response_model=scale.verdict_model,
                    max_retries=validation_retries,
                    hooks=hooks,
                    **kwargs,
                )
                return parsed.model_dump(mode="json")
            except IncompleteOutputException as exc:
                partial = getattr(exc, "last_completion", None)
                raise truncated(ignored=modes.ignored_by(mode, partial, cut=True)) from None
            except InstructorRetryException as exc:
                raise self._classify(exc, mode) from None
            except NoVerdict:
                raise
            except Exception as exc:  # an SDK error instructor did not wrap
                raise self._module.map_error(exc, secret=self._secret) from exc

        return once

    def _batch_create(self, sample: Sample, ident: str) -> Callable[..., Awaitable[Any]]:
        """What instructor calls in batch mode instead of the SDK method: the request it
        built goes to the courier; the reply comes back to instructor's own parsing."""
        courier, api = self._courier, batch_api(self._lease)
        assert courier is not None

        async def create(**kwargs: Any) -> Any:
            body = body_of(kwargs)
            reply = await courier.send(api, request_key(ident, body), body)
            if isinstance(reply, str):  # the batch did not answer it: sent alone, live
                sample.requests += 1  # the batch's request was one, this is another
                return await self._sdk.create_method()(**kwargs)
            usage = usage_of(reply)
            sample.batch_usage = [a + b for a, b in zip(sample.batch_usage, usage, strict=True)]
            return reply

        return create

    async def _complete(
        self, sample: Sample, messages: list[Message], ctx: CallContext, ident: str
    ) -> Completion:
        """One plain completion (``text`` mode): live, or through the courier in batch mode."""
        if self._courier is None:
            completion: Completion = await self._sdk.complete(messages, {}, ctx)
            return completion
        body = self._sdk.request_body(messages)
        reply = await self._courier.send(batch_api(self._lease), request_key(ident, body), body)
        if isinstance(reply, str):  # the batch did not answer it: sent alone, live
            sample.requests += 1  # the batch's request was one, this is another
            completion = await self._sdk.complete(messages, {}, ctx)
            return completion
        completion = self._sdk.completion_of(reply)
        completion.extra["batch"] = True
        usage = _common.usage_counts(getattr(reply, "usage", None))
        sample.batch_usage = [a + b for a, b in zip(sample.batch_usage, usage, strict=True)]
        return completion

    def _text_call(
        self, sample: Sample, asking: _Asking, validation_retries: int
    ) -> Callable[[], Awaitable[dict[str, Any]]]:
        """``text`` mode: a plain completion through the provider, the verdict parsed from
        its tags; an unreadable answer is re-asked ``validation_retries`` times."""
        scale, ctx = asking.scale, asking.ctx
        asked = with_text_format(asking.messages, scale)

        async def once() -> dict[str, Any]:
            convo = list(asked)
            problem = ""
            attempts = validation_retries + 1
            for _ in range(attempts):
                sample.requests += 1
                completion = await self._complete(sample, convo, ctx, asking.ident)
                sample.input_tokens += completion.input_tokens
                sample.output_tokens += completion.output_tokens
                sample.cache_read_tokens += completion.cache_read_tokens
                sample.cache_write_tokens += completion.cache_write_tokens
                sample.model = completion.model or sample.model
                if completion.truncated:
                    raise truncated(ignored=modes.ignored_by("text", completion, cut=True))
                try:
                    fields = modes.parse_text_verdict(completion.text, scale)
                    verdict: BaseModel = scale.verdict_model.model_validate(fields)
                    return verdict.model_dump(mode="json")
                except (ValueError, ValidationError) as exc:
                    problem = " ".join(str(exc).split())
                convo += [
                    {"role": "assistant", "content": completion.text},
                    {
                        "role": "user",
                        "content": f"That answer could not be read: {problem}. "
                        + modes.text_instructions(scale),
                    },
                ]
            message = f"no valid verdict after {attempts} attempt(s): {problem}"
            scrubbed = _common.scrub(message[:_MAX_MESSAGE], self._secret)
            raise NoVerdict("unparseable", scrubbed, ignored=True)

        return once

    def _classify(self, exc: Any, mode: ConcreteMode) -> Exception:
        """A transport error to retry (ProviderError) or a verdict that never came."""
        cause = exc.__cause__
        attempts = exc.failed_attempts or []
        if cause is not None and not (attempts and attempts[-1].exception is cause):
            mapped: Exception = self._module.map_error(cause, secret=self._secret)
            return mapped
        if refused(exc.last_completion):
            return NoVerdict("refusal", "the judge model refused to give a verdict")
        detail = " ".join(str(cause or exc).split())
        message = f"no valid verdict after {exc.n_attempts} attempt(s): {detail}"
        ignored = modes.ignored_by(mode, exc.last_completion)
        scrubbed = _common.scrub(message[:_MAX_MESSAGE], self._secret)
        return NoVerdict("unparseable", scrubbed, ignored=ignored)

    async def aclose(self) -> None:
        """Close the SDK client and release the scripted server lease."""
        self._client = self._sdk = None
        self._instructors = {}
        lease, self._lease = self._lease, None
        if lease is not None:
            await lease.aclose()  # closes the SDK client (and releases a scripted server)
