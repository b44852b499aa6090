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
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from evalkit.base.exceptions import AuthError, ProviderError
from evalkit.execution.provider import _common
from evalkit.execution.provider.retry import RetryPolicy, call_with_retries
from evalkit.execution.throttle import limiter_key
from evalkit.grading.judge import modes
from evalkit.grading.judge.modes import ConcreteMode, OutputMode
from evalkit.model.provider import CallContext, Message, TargetSpec
from evalkit.model.record import ErrorInfo

if TYPE_CHECKING:
    from evalkit.grading.judge.scale.base import Scale

#: wire → (provider module with map_error, instructor factory)
_WIRES: dict[str, tuple[str, str]] = {
    "anthropic": ("evalkit.execution.provider.anthropic", "from_anthropic"),
    "openai": ("evalkit.execution.provider.openai", "from_openai"),
}
_MAX_MESSAGE = 500


@dataclass
class Sample:
    """One judge sample: the validated verdict (as a dict) or why there is none, and its cost."""

    verdict: dict[str, Any] | None = None
    error: ErrorInfo | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    requests: int = 0
    model: str = ""
    cached: bool = False
    #: the output mode that produced (or failed to produce) this sample
    mode: str = ""
    #: the server ignored the mode (no tool call, no JSON): ``auto`` falls back a rung
    mode_ignored: bool = False
    #: input tokens read from / written to the provider's prompt cache (Anthropic)
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def add_cost_of(self, other: Sample) -> None:
        """Count another (failed) sample's requests and tokens in this one: honest costs."""
        self.requests += other.requests
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cache_read_tokens += other.cache_read_tokens
        self.cache_write_tokens += other.cache_write_tokens


class _NoVerdict(Exception):
    """The judge answered, but not with a usable verdict (not retried by evalkit's policy).

    ``ignored``: the answer was not in the output mode's shape at all (see
    :func:`evalkit.grading.judge.modes.ignored_by`), so ``auto`` may fall back a rung.
    """

    def __init__(self, kind: str, message: str, *, ignored: bool = False) -> None:
        self.kind = kind
        self.message = message
        self.ignored = ignored
        super().__init__(message)


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

    @property
    def mode(self) -> ConcreteMode:
        """The mode calls use now (for ``auto``: the current rung of the ladder)."""
        return self._ladder[self._rung]

    def adopt(self, mode: str) -> None:
        """Settle on ``mode`` when a cached verdict says it worked (no probe needed again)."""
        if not self._settled and mode in self._ladder[self._rung :]:
            self._rung = self._ladder.index(mode)
            self._settled = True

    def _setup(self) -> Any:
        if self._sdk is not None:
            return self._sdk
        from evalkit.execution.provider import create_provider

        _quiet_instructor()
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
    ) -> Sample:
        """One verdict in the judge's output mode, falling back down the ``auto`` ladder.

        An :class:`AuthError` propagates: a judge with a refused key cannot grade anything.
        """
        self._setup()
        if not self._settled:
            if self._probe_lock is None:
                self._probe_lock = asyncio.Lock()
            async with self._probe_lock:  # calls arriving meanwhile wait for the outcome
                if not self._settled:
                    return await self._probe(messages, scale, ctx, validation_retries, policy)
        return await self._ask_in(self.mode, messages, scale, ctx, validation_retries, policy)

    async def _probe(
        self,
        messages: list[Message],
        scale: Scale,
        ctx: CallContext,
        validation_retries: int,
        policy: RetryPolicy,
    ) -> Sample:
        """Walk down the ladder from the current rung until a verdict, a failure that is not
        about the mode, or the last rung; the failed rungs' cost is added to the sample."""
        spent = Sample(model=self.model)
        while True:
            # a probe is not re-asked: the next rung is the better second try
            last = self._rung + 1 >= len(self._ladder)
            retries = validation_retries if last else 0
            sample = await self._ask_in(self.mode, messages, scale, ctx, retries, policy)
            sample.add_cost_of(spent)
            if sample.verdict is not None or last:
                self._settled = True
                return sample
            error = sample.error
            if error is not None and error.kind == "unparseable" and not sample.mode_ignored:
                # the mode works, the model erred inside it: settle, use the re-asks left
                self._settled = True
                if validation_retries == 0:
                    return sample
                again = await self._ask_in(
                    self.mode, messages, scale, ctx, validation_retries - 1, policy
                )
                again.add_cost_of(sample)
                return again
            if not modes.unsupported(sample.error, ignored=sample.mode_ignored):
                # not about the mode (rate limit, a begun verdict cut short): ask again later
                return sample
            self._rung += 1
            spent = sample

    async def _ask_in(
        self,
        mode: ConcreteMode,
        messages: list[Message],
        scale: Scale,
        ctx: CallContext,
        validation_retries: int,
        policy: RetryPolicy,
    ) -> Sample:
        sample = Sample(model=self.model, mode=mode)
        if mode == "text":
            once = self._text_call(sample, messages, scale, ctx, validation_retries)
        else:
            once = self._instructor_call(sample, mode, messages, scale, ctx, validation_retries)
        try:
            parsed, _attempts = await call_with_retries(once, policy, key=self.limiter_key)
        except AuthError:
            raise
        except ProviderError as exc:
            sample.error = ErrorInfo(kind=exc.kind, message=exc.message, status=exc.status)
            return sample
        except _NoVerdict as exc:
            sample.error = ErrorInfo(kind=exc.kind, message=exc.message)
            sample.mode_ignored = exc.ignored
            return sample
        sample.verdict = parsed
        return sample

    def _count(self, sample: Sample, response: Any) -> None:
        usage = _usage_of(response)
        sample.input_tokens += usage[0]
        sample.output_tokens += usage[1]
        sample.cache_read_tokens += usage[2]
        sample.cache_write_tokens += usage[3]
        sample.model = str(getattr(response, "model", "") or sample.model)

    def _instructor_call(
        self,
        sample: Sample,
        mode: ConcreteMode,
        messages: list[Message],
        scale: Scale,
        ctx: CallContext,
        validation_retries: int,
    ) -> Callable[[], Awaitable[dict[str, Any]]]:
        from instructor.core.exceptions import (
            IncompleteOutputException,
            InstructorRetryException,
        )
        from instructor.core.hooks import Hooks

        client = self._instructor(mode)

        def on_kwargs(*args: Any, **kwargs: Any) -> None:
            sample.requests += 1

        hooks = Hooks()
        hooks.on("completion:kwargs", on_kwargs)
        hooks.on("completion:response", lambda response: self._count(sample, response))
        kwargs = self._kwargs(ctx)

        async def once() -> dict[str, Any]:
            try:
                parsed: BaseModel = await client.create(
                    model=self.model,
                    messages=messages,
                    response_model=scale.verdict_model,
                    max_retries=validation_retries,
                    hooks=hooks,
                    **kwargs,
                )
                return parsed.model_dump(mode="json")
            except IncompleteOutputException as exc:
                partial = getattr(exc, "last_completion", None)
                raise _truncated(ignored=modes.ignored_by(mode, partial, cut=True)) from None
            except InstructorRetryException as exc:
                raise self._classify(exc, mode) from None
            except _NoVerdict:
                raise
            except Exception as exc:  # an SDK error instructor did not wrap
                raise self._module.map_error(exc, secret=self._secret) from exc

        return once

    def _text_call(
        self,
        sample: Sample,
        messages: list[Message],
        scale: Scale,
        ctx: CallContext,
        validation_retries: int,
    ) -> Callable[[], Awaitable[dict[str, Any]]]:
        """``text`` mode: a plain completion through the provider, the verdict parsed from
        its tags; an unreadable answer is re-asked ``validation_retries`` times."""
        asked = _with_text_format(messages, scale)

        async def once() -> dict[str, Any]:
            convo = list(asked)
            problem = ""
            attempts = validation_retries + 1
            for _ in range(attempts):
                sample.requests += 1
                completion = await self._sdk.complete(convo, {}, ctx)
                sample.input_tokens += completion.input_tokens
                sample.output_tokens += completion.output_tokens
                sample.cache_read_tokens += completion.cache_read_tokens
                sample.cache_write_tokens += completion.cache_write_tokens
                sample.model = completion.model or sample.model
                if completion.truncated:
                    raise _truncated(ignored=modes.ignored_by("text", completion, cut=True))
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
            raise _NoVerdict("unparseable", scrubbed, ignored=True)

        return once

    def _classify(self, exc: Any, mode: ConcreteMode) -> Exception:
        """A transport error to retry (ProviderError) or a verdict that never came."""
        cause = exc.__cause__
        attempts = exc.failed_attempts or []
        if cause is not None and not (attempts and attempts[-1].exception is cause):
            mapped: Exception = self._module.map_error(cause, secret=self._secret)
            return mapped
        if _refused(exc.last_completion):
            return _NoVerdict("refusal", "the judge model refused to give a verdict")
        detail = " ".join(str(cause or exc).split())
        message = f"no valid verdict after {exc.n_attempts} attempt(s): {detail}"
        ignored = modes.ignored_by(mode, exc.last_completion)
        scrubbed = _common.scrub(message[:_MAX_MESSAGE], self._secret)
        return _NoVerdict("unparseable", scrubbed, ignored=ignored)

    async def aclose(self) -> None:
        """Close the SDK client and release the scripted server lease."""
        self._client = self._sdk = None
        self._instructors = {}
        lease, self._lease = self._lease, None
        if lease is not None:
            await lease.aclose()  # closes the SDK client (and releases a scripted server)


def _truncated(*, ignored: bool) -> _NoVerdict:
    """A reply cut at max_tokens; ``ignored`` when it had not begun the mode's structure."""
    message = "the verdict was cut off at max_tokens; raise params.max_tokens"
    if ignored:
        message = (
            "the answer was cut off at max_tokens before it began a verdict in this output mode;"
            " raise params.max_tokens or choose another output mode"
        )
    return _NoVerdict("truncated", message, ignored=ignored)


def _with_text_format(messages: list[Message], scale: Scale) -> list[Message]:
    """The judge messages with the ``text``-mode answer format appended to the system turn."""
    fmt = modes.text_instructions(scale)
    out: list[Message] = []
    for m in messages:
        if m["role"] == "system":
            out.append({"role": "system", "content": m["content"] + "\n\n" + fmt})
        else:
            out.append(m)
    if not any(m["role"] == "system" for m in messages):
        out.insert(0, {"role": "system", "content": fmt})
    return out


def _quiet_instructor() -> None:
    """instructor logs every failed attempt at ERROR; with no handler configured Python would
    print them to stderr. Verdict errors are recorded per case instead, so add a NullHandler
    (once); an application's own logging configuration still receives the records."""
    log = logging.getLogger("instructor")
    if not any(isinstance(h, logging.NullHandler) for h in log.handlers):
        log.addHandler(logging.NullHandler())


def _usage_of(response: Any) -> tuple[int, int, int, int]:
    """Input (all of it, cached included), output, cache-read and cache-write tokens of an
    Anthropic or OpenAI response; the one rule lives in
    :func:`evalkit.execution.provider._common.usage`."""
    return _common.usage_counts(getattr(response, "usage", None))


def _refused(completion: Any) -> bool:
    """Whether the last answer was a refusal (Anthropic stop reason, OpenAI refusal field)."""
    if completion is None:
        return False
    if getattr(completion, "stop_reason", None) == "refusal":
        return True
    choices = getattr(completion, "choices", None) or []
    if choices:
        choice = choices[0]
        message = getattr(choice, "message", None)
        if getattr(message, "refusal", None) or choice.finish_reason == "content_filter":
            return True
    return False
