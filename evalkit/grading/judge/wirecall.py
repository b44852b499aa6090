"""One verdict request in one output mode, through the judge model's own SDK client.

The judge model's provider builds the SDK client (retries off) and the request's params exactly
as for a target; :data:`_WIRES` says which module classifies its errors (``map_error``) and
which instructor factory wraps the client. A request in instructor's ``TOOLS``,
``JSON_SCHEMA`` or ``JSON`` mode goes through instructor; in ``text`` mode it is a plain
completion whose tagged answer is parsed here. Either is sent live or, in batch mode, through
a :class:`~evalkit.grading.judge.courier.Courier`. Which mode to ask in is
:class:`~evalkit.grading.judge.call.VerdictClient`'s choice.
"""

from __future__ import annotations

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
from evalkit.grading.judge.modes import ConcreteMode
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
class Asking:
    """One verdict request: what every attempt of it (and every rung of the ladder) shares."""

    messages: list[Message]
    scale: Scale
    ctx: CallContext
    validation_retries: int
    policy: RetryPolicy
    #: the judge sample's name (its cache key; see :func:`courier.request_key`)
    ident: str


class WireCaller:
    """The SDK client of one judge target (created lazily inside the running loop) and one
    verdict request in a given mode through it.

    ``provider: scripted`` targets hold a lease on the shared loopback server (through a
    :class:`~evalkit.execution.provider.scripted.ScriptedProvider`) and send the call context as
    headers, so script rules can match on case, prompt label and ``purpose: judge:<name>``.
    """

    def __init__(self, target: TargetSpec) -> None:
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
        self.limiter_key = limiter_key(target.provider, target.base_url, self.model)
        #: set by :meth:`VerdictClient.send_by_batch`: requests go to a provider batch
        #: (evalkit judge --batch)
        self.courier: Courier | None = None

    def setup(self, mode: ConcreteMode) -> None:
        """Import the SDK and build the client (and ``mode``'s instructor wrapper) once."""
        if self._sdk is not None:
            return
        from evalkit.execution.provider import create_provider

        quiet_instructor()
        # the target's own provider builds the SDK client and the request's params; a scripted
        # target also holds a lease on the shared loopback server until aclose
        self._lease = create_provider(self.target)
        self._sdk = getattr(self._lease, "delegate", self._lease)
        self._client = self._sdk.client()
        self._secret = getattr(self._client, "api_key", None)
        if mode != "text":
            self._instructor(mode)  # instructor's import is slow: done in prepare()

    def _instructor(self, mode: ConcreteMode) -> Any:
        """instructor wrapping the SDK client in ``mode`` (one wrapper per mode, on demand)."""
        if mode not in self._instructors:
            import instructor

            self.setup(mode)
            factory = getattr(instructor, _WIRES[self.wire][1])
            chosen = getattr(instructor.Mode, modes.INSTRUCTOR_MODES[mode])
            self._instructors[mode] = factory(self._client, mode=chosen)
        return self._instructors[mode]

    def _kwargs(self, ctx: CallContext) -> dict[str, Any]:
        kwargs: dict[str, Any] = self._sdk.request_kwargs({}, ctx)
        return kwargs

    async def ask_in(self, mode: ConcreteMode, asking: Asking, validation_retries: int) -> Sample:
        """One verdict in ``mode``, transport errors retried under the policy; a verdict that
        never came is the sample's ``error`` (an :class:`AuthError` propagates)."""
        sample = Sample(model=self.model, mode=mode)
        if mode == "text":
            once = self._text_call(sample, asking, validation_retries)
        else:
            once = self._instructor_call(sample, mode, asking, validation_retries)
        # a batch request waits for its batch, not for a slot of the live limiter
        key = None if self.courier is not None else self.limiter_key
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
        self, sample: Sample, mode: ConcreteMode, asking: Asking, validation_retries: int
    ) -> Callable[[], Awaitable[dict[str, Any]]]:
        from instructor.core.exceptions import (
            IncompleteOutputException,
            InstructorRetryException,
        )
        from instructor.core.hooks import Hooks

        scale = asking.scale
        if self.courier is None:
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
        courier, api = self.courier, batch_api(self._lease)
        assert courier is not None
        unanswered: set[str] = set()

        async def create(**kwargs: Any) -> Any:
            body = body_of(kwargs)
            key = request_key(ident, body)
            reply = await courier.send(api, key, body)
            if isinstance(reply, str):  # the batch did not answer it: sent alone, live
                _count_alone(sample, key, unanswered)
                return await self._sdk.create_method()(**kwargs)
            usage = usage_of(reply)
            sample.batch_usage = [a + b for a, b in zip(sample.batch_usage, usage, strict=True)]
            return reply

        return create

    async def _complete(
        self,
        sample: Sample,
        messages: list[Message],
        ctx: CallContext,
        ident: str,
        unanswered: set[str],
    ) -> Completion:
        """One plain completion (``text`` mode): live, or through the courier in batch mode."""
        if self.courier is None:
            completion: Completion = await self._sdk.complete(messages, {}, ctx)
            return completion
        body = self._sdk.request_body(messages)
        key = request_key(ident, body)
        reply = await self.courier.send(batch_api(self._lease), key, body)
        if isinstance(reply, str):  # the batch did not answer it: sent alone, live
            _count_alone(sample, key, unanswered)
            completion = await self._sdk.complete(messages, {}, ctx)
            return completion
        completion = self._sdk.completion_of(reply)
        completion.extra["batch"] = True
        usage = _common.usage_counts(getattr(reply, "usage", None))
        sample.batch_usage = [a + b for a, b in zip(sample.batch_usage, usage, strict=True)]
        return completion

    def _text_call(
        self, sample: Sample, asking: Asking, validation_retries: int
    ) -> Callable[[], Awaitable[dict[str, Any]]]:
        """``text`` mode: a plain completion through the provider, the verdict parsed from
        its tags; an unreadable answer is re-asked ``validation_retries`` times."""
        scale, ctx = asking.scale, asking.ctx
        asked = with_text_format(asking.messages, scale)
        unanswered: set[str] = set()

        async def once() -> dict[str, Any]:
            convo = list(asked)
            problem = ""
            attempts = validation_retries + 1
            for _ in range(attempts):
                sample.requests += 1
                completion = await self._complete(sample, convo, ctx, asking.ident, unanswered)
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


def _count_alone(sample: Sample, key: str, unanswered: set[str]) -> None:
    """A request the batch did not answer is sent alone: the attempt already counted the batch's
    request, so the live one is another. A retry of it (the retry policy calls again) finds the
    failure remembered and no batch request made: that attempt's own count is the live one."""
    if key not in unanswered:
        unanswered.add(key)
        sample.requests += 1
