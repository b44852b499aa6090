"""One structured judge call through instructor, on either wire, under evalkit's retry policy.

There is one code path for Anthropic and OpenAI: the judge model's own provider builds the SDK
client (retries off) and the request's params exactly as for a target; :data:`_WIRES` says
which module classifies its errors (``map_error``) and which instructor factory wraps the
client (``Mode.TOOLS``, forced tool use). Two retry loops, each
owning one kind of failure:

* instructor's ``max_retries`` re-asks after an invalid verdict (validation retries only);
* transport errors (429, 5xx, timeouts) arrive wrapped in ``InstructorRetryException`` with the
  SDK exception as ``__cause__``; they are unwrapped, mapped with the wire's ``map_error`` and
  retried by :func:`evalkit.provider.retry.call_with_retries`, like every other model call.

A verdict that cannot be obtained is a :class:`Sample` with ``error`` set (kinds
``unparseable``, ``truncated``, ``refusal`` or a provider kind), never a made-up verdict.
SDKs and instructor are imported on first use.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from evalkit.exceptions import AuthError, ProviderError
from evalkit.provider import _common
from evalkit.provider.base import CallContext, Message, TargetSpec
from evalkit.provider.retry import RetryPolicy, call_with_retries
from evalkit.record import ErrorInfo

#: wire → (provider module with map_error, instructor factory)
_WIRES: dict[str, tuple[str, str]] = {
    "anthropic": ("evalkit.provider.anthropic", "from_anthropic"),
    "openai": ("evalkit.provider.openai", "from_openai"),
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
    extra: dict[str, Any] = field(default_factory=dict)


class _NoVerdict(Exception):
    """The judge answered, but not with a usable verdict (not retried by evalkit's policy)."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        self.message = message
        super().__init__(message)


class VerdictClient:
    """instructor over the SDK client of one target; created lazily inside the running loop.

    ``provider: scripted`` targets hold a lease on the shared loopback server (through a
    :class:`~evalkit.provider.scripted.ScriptedProvider`) and send the call context as headers,
    so script rules can match on case, prompt label and ``purpose: judge:<name>``.
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
        self._instructor: Any = None
        self._sdk: Any = None
        self._secret: str | None = None
        self.model = target.model or ("scripted" if target.provider == "scripted" else "")

    def _setup(self) -> Any:
        if self._instructor is not None:
            return self._instructor
        import instructor

        from evalkit.provider import create_provider

        _quiet_instructor()
        # the target's own provider builds the SDK client and the request's params; a scripted
        # target also holds a lease on the shared loopback server until aclose
        self._lease = create_provider(self.target)
        self._sdk = getattr(self._lease, "delegate", self._lease)
        self._client = self._sdk.client()
        self._secret = getattr(self._client, "api_key", None)
        factory = _WIRES[self.wire][1]
        self._instructor = getattr(instructor, factory)(self._client, mode=instructor.Mode.TOOLS)
        return self._instructor

    def _kwargs(self, ctx: CallContext) -> dict[str, Any]:
        kwargs: dict[str, Any] = self._sdk.request_kwargs({}, ctx)
        return kwargs

    async def ask(
        self,
        messages: list[Message],
        verdict_model: type[BaseModel],
        *,
        ctx: CallContext,
        validation_retries: int,
        policy: RetryPolicy,
    ) -> Sample:
        """One verdict (with instructor's re-asks), retried on transport errors by ``policy``.

        An :class:`AuthError` propagates: a judge with a refused key cannot grade anything.
        """
        from instructor.core.exceptions import (
            IncompleteOutputException,
            InstructorRetryException,
        )
        from instructor.core.hooks import Hooks

        client = self._setup()
        sample = Sample(model=self.model)

        def on_kwargs(*args: Any, **kwargs: Any) -> None:
            sample.requests += 1

        def on_response(response: Any) -> None:
            tokens_in, tokens_out = _usage_of(response)
            sample.input_tokens += tokens_in
            sample.output_tokens += tokens_out
            sample.model = str(getattr(response, "model", "") or sample.model)

        hooks = Hooks()
        hooks.on("completion:kwargs", on_kwargs)
        hooks.on("completion:response", on_response)
        kwargs = self._kwargs(ctx)

        async def once() -> BaseModel:
            try:
                parsed: BaseModel = await client.create(
                    model=self.model,
                    messages=messages,
                    response_model=verdict_model,
                    max_retries=validation_retries,
                    hooks=hooks,
                    **kwargs,
                )
                return parsed
            except IncompleteOutputException:
                raise _NoVerdict(
                    "truncated", "the verdict was cut off at max_tokens; raise params.max_tokens"
                ) from None
            except InstructorRetryException as exc:
                raise self._classify(exc) from None
            except _NoVerdict:
                raise
            except Exception as exc:  # an SDK error instructor did not wrap
                raise self._module.map_error(exc, secret=self._secret) from exc

        try:
            parsed, _attempts = await call_with_retries(once, policy)
        except AuthError:
            raise
        except ProviderError as exc:
            sample.error = ErrorInfo(kind=exc.kind, message=exc.message, status=exc.status)
            return sample
        except _NoVerdict as exc:
            sample.error = ErrorInfo(kind=exc.kind, message=exc.message)
            return sample
        sample.verdict = parsed.model_dump(mode="json")
        return sample

    def _classify(self, exc: Any) -> Exception:
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
        return _NoVerdict("unparseable", _common.scrub(message[:_MAX_MESSAGE], self._secret))

    async def aclose(self) -> None:
        """Close the SDK client and release the scripted server lease."""
        self._client = self._instructor = self._sdk = None
        lease, self._lease = self._lease, None
        if lease is not None:
            await lease.aclose()  # closes the SDK client (and releases a scripted server)


def _quiet_instructor() -> None:
    """instructor logs every failed attempt at ERROR; with no handler configured Python would
    print them to stderr. Verdict errors are recorded per case instead, so add a NullHandler
    (once); an application's own logging configuration still receives the records."""
    log = logging.getLogger("instructor")
    if not any(isinstance(h, logging.NullHandler) for h in log.handlers):
        log.addHandler(logging.NullHandler())


def _usage_of(response: Any) -> tuple[int, int]:
    """Input and output tokens of an Anthropic or OpenAI response (either field naming)."""
    usage = getattr(response, "usage", None)
    if usage is None:
        return 0, 0
    tokens_in = getattr(usage, "input_tokens", None) or getattr(usage, "prompt_tokens", 0)
    tokens_out = getattr(usage, "output_tokens", None) or getattr(usage, "completion_tokens", 0)
    return int(tokens_in or 0), int(tokens_out or 0)


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
