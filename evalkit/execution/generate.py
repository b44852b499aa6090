"""One system answer for one case × repeat: from the response cache, else a retried call.

A provider failure is returned as an *error* record (never raised), except an auth failure,
which stops the run: every other case would fail the same way.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from evalkit.base.exceptions import AuthError, ProviderError
from evalkit.base.redact import redact
from evalkit.execution.cache import ResponseCache, cache_key
from evalkit.execution.provider.retry import call_with_retries
from evalkit.execution.trajectory import ConversationError, conversation_identity, converse
from evalkit.model.config import PreparedCase
from evalkit.model.outcome import Outcome
from evalkit.model.provider import CallContext, Completion, Provider, TargetSpec
from evalkit.model.record import CaseRecord, ErrorInfo
from evalkit.model.retry import RetryPolicy
from evalkit.storage.store import now_iso


@dataclass
class Generated:
    completion: Completion
    attempts: int
    cached: bool
    latency_ms: float | None

    @property
    def requests(self) -> int:
        """Requests sent for this answer (none when it came from the cache)."""
        return 0 if self.cached else self.attempts


def as_sent(pc: PreparedCase) -> dict[str, Any]:
    """What a record keeps of the input: the messages exactly as sent (a conversation's first
    request: the prompt's turns, then the case's; later turns are in the trajectory), and the
    reference."""
    sent = [dict(m) for m in pc.messages]
    if pc.case.is_conversation:
        sent += pc.case.turns()
    return {"prompt": sent or None, "expected": pc.case.expected}


def generation_key(target: TargetSpec, pc: PreparedCase, repeat: int) -> str:
    """The response-cache key of one case × repeat on ``target``."""
    # without a prompt (python callables) the case's variables are the input
    extra = None if pc.messages else {"vars": pc.case.vars}
    if pc.case.is_conversation:  # the turns, tools and tool results decide the answer too
        extra = {**(extra or {}), **conversation_identity(pc.case, target)}
    return cache_key(target, pc.messages, dict(target.params), repeat, extra=extra)


async def generate(
    provider: Provider,
    policy: RetryPolicy,
    cache: ResponseCache,
    key: str,
    pc: PreparedCase,
    repeat: int,
    ctx: CallContext,
    *,
    cached: Completion | None = None,
    limiter_key: str | None = None,
    target: TargetSpec | None = None,
) -> Generated | CaseRecord:
    """The system's answer (``cached``, else a retried call stored in ``cache``), or an error
    record whose ``attempts`` counts the requests sent. ``limiter_key`` names the endpoint's
    adaptive limiter (:mod:`evalkit.execution.throttle`). A conversation case runs its whole
    tool loop (:mod:`evalkit.execution.trajectory`; ``target`` names its ``tool_runner``)."""
    case = pc.case
    if cached is not None:
        # the latency measured when the answer was produced, so latency checks still grade it
        latency = cached.extra.get("latency_ms")
        return Generated(cached, attempts=0, cached=True, latency_ms=latency)

    def call() -> Awaitable[Completion]:
        # the provider merges the target's params itself; no per-call overrides here
        return provider.complete(pc.messages, {}, ctx)

    started = time.perf_counter()
    try:
        if case.is_conversation:
            completion, attempts = await converse(
                provider, pc.messages, case, policy, ctx, target, limiter_key=limiter_key
            )
        else:
            completion, attempts = await call_with_retries(call, policy, key=limiter_key)
    except AuthError as exc:
        raise AuthError(
            f"the provider refused the credentials ({exc.message}); check the API key "
            "environment variable. Stopped the run instead of failing every case.",
            kind="auth",
            status=exc.status,
        ) from None
    except ProviderError as exc:
        return CaseRecord(
            case_id=case.id,
            repeat=repeat,
            tags=case.tags,
            vars=case.vars,
            **as_sent(pc),
            outcome=Outcome.ERROR,
            error=ErrorInfo(kind=exc.kind, message=redact(exc.message), status=exc.status),
            attempts=exc.attempts,
            latency_ms=(time.perf_counter() - started) * 1000,
            finished_at=now_iso(),
            trajectory=exc.trajectory if isinstance(exc, ConversationError) else None,
        )
    latency_ms = (time.perf_counter() - started) * 1000
    completion.extra["latency_ms"] = latency_ms
    cache.put(key, completion)
    return Generated(completion, attempts, cached=False, latency_ms=latency_ms)
