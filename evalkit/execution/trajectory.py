"""The multi-step loop of a conversation case: model turn → tool calls → tool results → again.

Each model turn goes through the one retry policy; tool calls are answered offline, first by
the case's ``tool_results`` (first matching rule), then by the suite's ``tool_runner``
callable, else with an error result saying nothing answered (the model's call of an unexpected
tool is behaviour to grade, not a harness failure). The loop stops at the first turn without
tool calls, or after ``max_turns`` model calls (recorded as ``max_turns_reached``).

The result is one :class:`Completion` whose text is the final answer, whose usage sums every
turn, and whose ``extra["trajectory"]`` holds the :class:`Trajectory` (so the response cache
stores and replays the whole conversation).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from evalkit.base.exceptions import AuthError, ProviderError
from evalkit.base.redact import redact
from evalkit.execution.provider.retry import RetryPolicy, call_with_retries
from evalkit.model.conversation import Turn, find_result
from evalkit.model.golden import Case
from evalkit.model.provider import CallContext, Completion, Message, TargetSpec
from evalkit.model.trajectory import ToolCallRecord, Trajectory, TurnRecord

ToolRunner = Callable[[str, Any], Any]


class ConversationError(ProviderError):
    """A model call of a conversation failed for good: the provider's error, with every
    request of the conversation counted, the turn named and the turns that did finish kept
    (``trajectory``: the error record shows how far the conversation got)."""

    def __init__(self, error: ProviderError, earlier: int, trajectory: Trajectory) -> None:
        turn = len(trajectory.turns) + 1
        super().__init__(
            f"{error.message} (conversation turn {turn})",
            kind=error.kind,
            status=error.status,
            retryable=error.retryable,
            retry_after=error.retry_after,
            attempts=error.attempts + earlier,
        )
        self.trajectory = trajectory


@lru_cache(maxsize=16)
def load_tool_runner(target: str, project_dir: str | None) -> ToolRunner:
    """Import the suite's ``tool_runner: module:function`` (called as ``fn(name, arguments)``,
    sync or async); an InputError names the field when it cannot be imported."""
    from evalkit.execution.provider.python import load_callable

    return load_callable(target, project_dir)


def conversation_identity(case: Case, target: TargetSpec) -> dict[str, Any]:
    """What besides the rendered prompt decides a conversation's answers (for cache keys)."""
    from evalkit.execution.cache import target_identity

    runner = None
    if target.tool_runner:
        as_python = TargetSpec(provider="python", callable=target.tool_runner)
        runner = target_identity(as_python)
    return {
        "turns": case.turns(),
        "tools": [t.wire_dict() for t in case.tool_defs()],
        "tool_results": [r.model_dump(mode="json") for r in case.tool_results],
        "max_turns": case.max_turns,
        "tool_runner": runner,
    }


async def converse(
    provider: Any,
    prompt: list[Message],
    case: Case,
    policy: RetryPolicy,
    ctx: CallContext,
    target: TargetSpec | None = None,
    *,
    limiter_key: str | None = None,
) -> tuple[Completion, int]:
    """Run the conversation of ``case`` (after the rendered ``prompt`` turns) to its final
    answer; returns the combined completion and the requests made.

    A provider error that outlasts the retries ends the case as an error: a
    :class:`ConversationError` (an auth failure still stops the run as itself).
    """
    complete_tools = getattr(provider, "complete_tools", None)
    if complete_tools is None:
        raise ProviderError(
            f"provider {getattr(provider, 'name', '?')!r} cannot hold a conversation with tools",
            kind="unsupported",
        )
    runner = None
    if target is not None and target.tool_runner:
        runner = load_tool_runner(target.tool_runner, target.project_dir)
    turns: list[Turn] = [dict(m) for m in prompt] + case.turns()
    tools = [t.wire_dict() for t in case.tool_defs()]
    trajectory = Trajectory(max_turns=case.max_turns)
    total = Completion(text="")
    attempts = 0
    for _ in range(case.max_turns):
        started = time.perf_counter()
        try:
            reply, used = await call_with_retries(
                lambda: complete_tools(turns, tools, {}, ctx), policy, key=limiter_key
            )
        except AuthError:
            raise  # stops the run: every other case would fail the same way
        except ProviderError as exc:
            raise ConversationError(exc, attempts, trajectory) from exc
        attempts += used
        _add_usage(total, reply)
        calls = [await _answer(call, case, runner) for call in reply.tool_calls]
        trajectory.turns.append(
            TurnRecord(
                text=reply.text,
                tool_calls=calls,
                input_tokens=reply.input_tokens,
                output_tokens=reply.output_tokens,
                latency_ms=(time.perf_counter() - started) * 1000,
                finish_reason=reply.finish_reason,
            )
        )
        if not calls:
            break
        turns.append(_assistant_turn(reply.text, calls))
        turns.extend(_tool_turn(call) for call in calls)
    else:
        trajectory.max_turns_reached = True
    last = trajectory.turns[-1]
    trajectory.final = last.text
    total.text = last.text
    total.finish_reason = last.finish_reason
    total.extra["trajectory"] = trajectory.model_dump(mode="json")
    return total, attempts


def _add_usage(total: Completion, reply: Completion) -> None:
    total.input_tokens += reply.input_tokens
    total.output_tokens += reply.output_tokens
    total.cache_read_tokens += reply.cache_read_tokens
    total.cache_write_tokens += reply.cache_write_tokens
    total.model = reply.model or total.model


async def _answer(call: dict[str, Any], case: Case, runner: ToolRunner | None) -> ToolCallRecord:
    """The result of one tool call: the system's own, a case rule's, the runner's, or an error."""
    name, arguments = str(call["name"]), _jsonable(call.get("arguments"))
    record = ToolCallRecord(id=str(call.get("id") or ""), name=name, arguments=arguments)
    if "result" in call:  # the system ran it itself
        record.result, record.source = _jsonable(call["result"]), "system"
        record.is_error = bool(call.get("is_error"))
        return record
    index = find_result(case.tool_results, name, arguments)
    if index is not None:
        rule = case.tool_results[index]
        record.result, record.is_error = rule.result, rule.error
        record.source, record.rule = "case", index
        return record
    if runner is not None:
        try:
            if inspect.iscoroutinefunction(runner):
                result = await runner(name, arguments)
            else:  # a worker thread: a slow sync tool must not stall the other cases
                result = await asyncio.to_thread(runner, name, arguments)
            record.result, record.source = _jsonable(result), "runner"
        except Exception as exc:  # a tool failing is something the model must cope with
            message = redact(f"{type(exc).__name__}: {exc}")
            record.result, record.is_error, record.source = {"error": message}, True, "error"
        return record
    record.result = {"error": f"no result for {record.label()}: the case has no matching rule"}
    record.is_error, record.source = True, "unmatched"
    return record


def _jsonable(value: Any) -> Any:
    """``value`` as plain JSON data (a runner may return dates, tuples, ...): the record, the
    cache and the wire all store JSON, so anything else is stringified once, here."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def _assistant_turn(text: str, calls: list[ToolCallRecord]) -> Turn:
    return {
        "role": "assistant",
        "content": text,
        "tool_calls": [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in calls],
    }


def _tool_turn(call: ToolCallRecord) -> Turn:
    result = call.result
    content = result if isinstance(result, str) else json.dumps(result, ensure_ascii=False)
    return {
        "role": "tool",
        "tool_call_id": call.id,
        "name": call.name,
        "content": content,
        "is_error": call.is_error,
    }
