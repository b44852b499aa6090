"""The script a :class:`~evalkit.scripted.ScriptedServer` answers from, and its rule matching.

A script is YAML (read with ``safe_load``), validated by the pydantic models below so a typo
is an error naming ``file:line: field`` rather than a silently unmatched rule::

    latency_ms: 0                      # default delay per response
    default: {text: "I don't know."}   # reply when no rule matches (omit -> 404 error reply)
    responses:                         # first matching rule wins
      - when: {case: refund-late-order, prompt: v2}
        text: '{"answer": "...", "citations": ["policy-3"]}'
        fault: {status: 429, retry_after: 1, times: 2}

Rules match on any subset of ``case``, ``prompt`` (version or label), ``purpose`` (``target``,
``judge:<name>``, or ``judge`` for any judge), ``model``, ``contains`` (a substring of any
user message, so instructor's follow-up requests still match) and ``turn`` (in a conversation:
the assistant turns in the request + 1, so a tool-using agent is scripted turn by turn without
any state on the server). A rule answers with ``text``, ``json`` (a tool call when the request
asks for one, else JSON text), ``tool_calls`` (``[{name, arguments}]``, with optional ``text``)
or ``sequence`` (successive replies, the last repeating). Faults: ``{status: N}`` (with
``retry_after`` seconds or ``retry_after_ms``), ``{hang: s}`` (wait, then reply, or close if
the rule has no reply), ``{malformed: true}`` (a cut-off 200 body), ``{drop: true}`` (close
without a reply).
``rate_limit: {max_in_flight: 20}`` answers 429 whenever more requests are in flight;
``rate_limit: {per_window: 30, window_s: 1, budget_headers: true}`` past 30 requests a second.

Faults and ``sequence`` positions are counted per rule, case and purpose, so concurrent cases
(and a judge call for the same case) do not consume each other's script.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from evalkit.base.yamlpos import load_model, pydantic_error_to_input_error


class When(BaseModel):
    """Conditions of a rule; all given ones must hold."""

    model_config = ConfigDict(extra="forbid")

    case: str | None = None
    prompt: str | None = Field(default=None, description="prompt version or label")
    purpose: str | None = Field(
        default=None, description="target, judge:<name>, or judge for any judge"
    )
    model: str | None = None
    contains: str | None = Field(default=None, description="substring of a user message")
    turn: int | None = Field(
        default=None, ge=1, description="model turn of a conversation: assistant turns so far + 1"
    )


class ScriptedToolCall(BaseModel):
    """A tool call the scripted model makes; ``arguments`` as a string is sent verbatim (to
    script arguments that are not JSON, on the OpenAI wire)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    arguments: dict[str, Any] | str = Field(default_factory=dict)


class Usage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input_tokens: int = Field(ge=0)
    output_tokens: int = Field(ge=0)
    #: Anthropic-style cached input, reported beside ``input_tokens`` (the uncached rest)
    cache_read_input_tokens: int = Field(default=0, ge=0)
    cache_creation_input_tokens: int = Field(default=0, ge=0)


class ReplyFields(BaseModel):
    """What a reply and a rule share: the body and how it is served."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    text: str | None = None
    json_: Any = Field(default=None, alias="json")
    usage: Usage | None = None
    latency_ms: float | None = Field(default=None, ge=0)
    finish_reason: Literal["stop", "length"] | None = None
    #: the model calls these tools (``text``, if given, is said beside the calls)
    tool_calls: list[ScriptedToolCall] | None = Field(default=None, min_length=1)


class Reply(ReplyFields):
    """One answer: text, a JSON object (served as a tool call when the request asks), or
    tool calls (with optional text)."""

    @model_validator(mode="after")
    def _one_body(self) -> Reply:
        if self.tool_calls is not None:
            if self.json_ is not None:
                raise ValueError("give 'tool_calls' (with optional 'text') or 'json', not both")
            return self
        if (self.text is None) == (self.json_ is None):
            raise ValueError("give exactly one of 'text', 'json' or 'tool_calls'")
        return self


class Fault(BaseModel):
    """A failure served instead of the reply for the first ``times`` matching requests."""

    model_config = ConfigDict(extra="forbid")

    status: int | None = Field(default=None, ge=400, le=599)
    retry_after: float | None = Field(default=None, ge=0)
    retry_after_ms: float | None = Field(default=None, ge=0)
    hang: float | None = Field(default=None, gt=0, description="seconds before replying")
    malformed: bool = False
    drop: bool = False
    times: int | None = Field(default=None, ge=1, description="omitted: always")
    #: the error message a ``status`` fault carries (as a real server words it)
    message: str | None = None

    @model_validator(mode="after")
    def _one_fault(self) -> Fault:
        chosen = [self.status is not None, self.hang is not None, self.malformed, self.drop]
        if sum(chosen) != 1:
            raise ValueError("give exactly one of 'status', 'hang', 'malformed', 'drop'")
        has_wait = self.retry_after is not None or self.retry_after_ms is not None
        if self.status is None and has_wait:
            raise ValueError("'retry_after' and 'retry_after_ms' go with 'status'")
        return self

    @property
    def label(self) -> str:
        """Short description used in the request log."""
        if self.status is not None:
            return f"status:{self.status}"
        return "hang" if self.hang is not None else "malformed" if self.malformed else "drop"


class Rule(ReplyFields):
    """``when`` plus a reply (``text``, ``json`` or ``sequence``) and an optional ``fault``."""

    when: When = Field(default_factory=When)
    sequence: list[Reply] | None = Field(default=None, min_length=1)
    fault: Fault | None = None

    @model_validator(mode="after")
    def _one_reply(self) -> Rule:
        calls = self.tool_calls is not None
        given = [
            self.text is not None and not calls,
            self.json_ is not None,
            self.sequence is not None,
            calls,
        ]
        if sum(given) > 1:
            raise ValueError("give only one of 'text', 'json', 'tool_calls' or 'sequence'")
        permanent_fault = self.fault is not None and self.fault.times is None
        if not any(given) and not permanent_fault:
            raise ValueError("give one of 'text', 'json', 'tool_calls' or 'sequence'")
        return self


class RateLimit(BaseModel):
    """A rate limit like a provider's: above ``max_in_flight`` requests in flight, or past
    ``per_window`` requests in a window of ``window_s`` seconds, the server answers 429 at once
    (with ``retry_after_ms`` when given; a spent window also with ``retry-after``, whole
    seconds to its end). Every answer carries rate-limit headers in the wire's own names when
    ``budget_headers`` is set: the window's budget and reset, else free slots in flight (a
    concurrency budget standing in for the providers' per-minute ones)."""

    model_config = ConfigDict(extra="forbid")

    max_in_flight: int | None = Field(default=None, ge=1)
    per_window: int | None = Field(default=None, ge=1)
    window_s: float = Field(default=1.0, gt=0)
    retry_after_ms: float | None = Field(default=None, ge=0)
    budget_headers: bool = False

    @model_validator(mode="after")
    def _one_limit(self) -> RateLimit:
        if self.max_in_flight is None and self.per_window is None:
            raise ValueError("give 'max_in_flight', 'per_window' or both")
        return self


class Script(BaseModel):
    model_config = ConfigDict(extra="forbid")

    latency_ms: float = Field(default=0, ge=0)
    rate_limit: RateLimit | None = None
    #: how long a Message Batch stays in_progress (evalkit.scripted.batches)
    batch_delay_ms: float = Field(default=0, ge=0)
    #: how long a batch create is held after the batch exists, before its id is answered
    #: (the window a kill can fall in: evalkit.api.batch finds the batch again by listing)
    batch_create_delay_ms: float = Field(default=0, ge=0)
    #: answer like a real server: llama-server, truncating, rambling-tools, anthropic-cache
    #: (scripted.profiles)
    profile: Literal["llama-server", "truncating", "rambling-tools", "anthropic-cache"] | None = (
        None
    )
    default: Reply | None = None
    responses: list[Rule] = Field(default_factory=list)


def load_script(path: str | Path) -> Script:
    """Read and validate a script file; errors name file, line and field."""
    script, _ = load_model(path, Script, not_a_mapping="a script must be a mapping", empty_ok=True)
    return script


def coerce_script(script: Script | dict[str, Any] | str | Path) -> Script:
    """A Script from a model, a plain dict, or a path (str or Path) to a YAML file."""
    if isinstance(script, Script):
        return script
    if isinstance(script, dict):
        try:
            return Script.model_validate(script)
        except ValidationError as exc:
            raise pydantic_error_to_input_error(exc, "<script>", {}) from None
    return load_script(script)


@dataclass(frozen=True)
class Incoming:
    """What the matcher knows about a request."""

    model: str
    user_text: str
    case: str | None = None
    prompt_version: str | None = None
    prompt_label: str | None = None
    purpose: str | None = None
    #: assistant turns in the request + 1
    turn: int = 1


@dataclass(frozen=True)
class Answer:
    """The scripted decision for one request: a reply, a fault (a hang's reply comes after it),
    or neither (no rule matched and no default)."""

    rule: int | None
    latency_s: float
    fault: Fault | None = None
    reply: ReplyFields | None = None


class Scripter:
    """Thread-safe rule matching with per (rule, case, purpose) fault and sequence counters."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self._lock = threading.Lock()
        self._seen: dict[tuple[int, str | None, str | None], int] = {}

    def answer(self, req: Incoming) -> Answer:
        for index, rule in enumerate(self.script.responses):
            if _matches(rule.when, req):
                return self._serve(index, rule, req)
        default = self.script.default
        latency_ms = _first(default.latency_ms if default else None, self.script.latency_ms)
        return Answer(None, latency_ms / 1000, reply=default)

    def _serve(self, index: int, rule: Rule, req: Incoming) -> Answer:
        key = (index, req.case, req.purpose)
        with self._lock:
            seen = self._seen.get(key, 0)
            self._seen[key] = seen + 1
        latency_ms = _first(rule.latency_ms, self.script.latency_ms)
        fault = rule.fault
        if fault is not None:
            if fault.times is None or seen < fault.times:
                # a hang fault still serves the rule's reply afterwards (first of a sequence)
                reply = rule.sequence[0] if rule.sequence else rule
                return Answer(index, latency_ms / 1000, fault=fault, reply=reply)
            seen -= fault.times
        if rule.sequence is None:
            return Answer(index, latency_ms / 1000, reply=rule)
        item = rule.sequence[min(seen, len(rule.sequence) - 1)]
        merged = item.model_copy(
            update={
                "usage": item.usage or rule.usage,
                "finish_reason": item.finish_reason or rule.finish_reason,
            }
        )
        return Answer(index, _first(item.latency_ms, latency_ms) / 1000, reply=merged)


def _first(value: float | None, fallback: float) -> float:
    return value if value is not None else fallback


def _matches(when: When, req: Incoming) -> bool:
    if when.case is not None and when.case != req.case:
        return False
    if when.prompt is not None and when.prompt not in (req.prompt_version, req.prompt_label):
        return False
    if when.purpose is not None and not _purpose_matches(when.purpose, req.purpose or "target"):
        return False
    if when.model is not None and when.model != req.model:
        return False
    if when.turn is not None and when.turn != req.turn:
        return False
    return when.contains is None or when.contains in req.user_text


def _purpose_matches(wanted: str, actual: str) -> bool:
    return actual == wanted or (wanted == "judge" and actual.startswith("judge:"))
