"""Conversation cases: the turns so far, tool definitions and offline tool results.

A golden case becomes a conversation when it carries ``messages:`` or ``tools:``. Its turns are
kept in one neutral shape that both wires are translated from (``role`` system / user /
assistant / tool; an assistant turn may hold ``tool_calls``; a tool turn answers one call by
``tool_call_id``), so nothing above the providers knows a wire format.

``tools:`` is an inline list or the path of a tools file shared by the suite (relative to the
project directory); ``conversation_load.resolve_tools`` loads those files with the suite, so a
missing or invalid file is reported by ``evalkit validate`` at the case's line.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: the name rule both APIs enforce on tool names
TOOL_NAME = r"^[A-Za-z0-9_-]{1,64}$"
#: model calls a conversation may make when the case does not say (``max_turns``)
DEFAULT_MAX_TURNS = 8

#: a turn as providers and the trajectory loop pass it around (see the module docstring)
Turn = dict[str, Any]


class ToolDef(BaseModel):
    """A tool the system may call: a name, what it does, and its arguments' JSON Schema."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=TOOL_NAME)
    description: str = ""
    parameters: dict[str, Any] = Field(
        default_factory=lambda: {"type": "object", "properties": {}},
        description="JSON Schema of the arguments (an object schema)",
    )

    @field_validator("parameters")
    @classmethod
    def _valid_schema(cls, schema: dict[str, Any]) -> dict[str, Any]:
        # imported here: jsonschema costs ~25 ms and only tool cases need it
        from jsonschema import exceptions as schema_errors
        from jsonschema.validators import validator_for

        if schema.get("type", "object") != "object":
            raise ValueError("tool parameters must be an object schema (`type: object`)")
        try:
            validator_for(schema).check_schema(schema)
        except schema_errors.SchemaError as exc:
            raise ValueError(f"invalid JSON Schema: {exc.message}") from None
        return schema

    def wire_dict(self) -> dict[str, Any]:
        """``{name, description, parameters}``: what providers translate per wire."""
        return {"name": self.name, "description": self.description, "parameters": self.parameters}


class CaseToolCall(BaseModel):
    """A tool call an assistant turn of the conversation so far already made."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    name: str = Field(pattern=TOOL_NAME)
    arguments: dict[str, Any] = Field(default_factory=dict)


class CaseTurn(BaseModel):
    """One turn of the conversation so far."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["system", "user", "assistant", "tool"]
    content: str = ""
    tool_calls: list[CaseToolCall] = Field(default_factory=list)
    #: tool turns: the call answered (default: the next unanswered call of the turn before)
    tool_call_id: str | None = None
    #: tool turns: the tool that answered (default: the called tool)
    name: str | None = None
    #: tool turns: the tool failed (sent as an error result)
    is_error: bool = False

    @model_validator(mode="after")
    def _fields_of_role(self) -> CaseTurn:
        if self.tool_calls and self.role != "assistant":
            raise ValueError("only an assistant turn may hold `tool_calls`")
        tool_only = self.tool_call_id is not None or self.name is not None or self.is_error
        if tool_only and self.role != "tool":
            raise ValueError("`tool_call_id`, `name` and `is_error` belong to a tool turn")
        return self


class ToolResultRule(BaseModel):
    """An offline tool answer: the first rule whose ``tool`` and ``args`` match a call wins.

    ``args`` matches as a subset (every given key equal, extra arguments allowed); no ``args``
    matches any call of the tool, which makes the rule a default.
    """

    model_config = ConfigDict(extra="forbid")

    tool: str = Field(pattern=TOOL_NAME)
    args: dict[str, Any] | None = None
    result: Any = None
    #: send the result as a tool error (``is_error`` on the Anthropic wire)
    error: bool = False


def json_equal(a: Any, b: Any) -> bool:
    """Equality of JSON values: ``true`` is not ``1``, ``1`` is ``1.0``, objects by key."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and bool(a == b)


def args_match(expected: dict[str, Any], actual: Any, *, exact: bool = False) -> bool:
    """Whether ``actual`` arguments hold ``expected``: every key equal (nested objects as
    subsets too), or, with ``exact``, nothing more either."""
    if not isinstance(actual, dict):
        return False
    if exact:
        return json_equal(expected, actual)
    for key, want in expected.items():
        if key not in actual:
            return False
        got = actual[key]
        if isinstance(want, dict) and isinstance(got, dict):
            if not args_match(want, got):
                return False
        elif not json_equal(want, got):
            return False
    return True


def find_result(rules: list[ToolResultRule], name: str, arguments: Any) -> int | None:
    """Index of the first rule answering a call of ``name`` with ``arguments``, or None."""
    for index, rule in enumerate(rules):
        if rule.tool == name and (rule.args is None or args_match(rule.args, arguments)):
            return index
    return None


class TurnError(ValueError):
    """A conversation that cannot be sent; ``index`` is the offending turn."""

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


def conversation_turns(turns: list[CaseTurn]) -> list[Turn]:
    """The case's turns in the neutral shape, tool calls given ids and tool turns tied to them.

    Raises :class:`TurnError` (the caller names the case) when a tool turn answers no call, or
    when the conversation ends with an assistant turn (there would be nothing to answer).
    """
    out: list[Turn] = []
    pending: list[dict[str, Any]] = []  # calls of the last assistant turn not yet answered
    for index, turn in enumerate(turns):
        if turn.role == "tool":
            out.append(_tool_turn(turn, pending, index))
            continue
        if pending:
            names = ", ".join(c["name"] for c in pending)
            raise TurnError(
                f"the tool calls of the turn before ({names}) need tool turns answering them first",
                index,
            )
        if turn.role == "assistant" and turn.tool_calls:
            calls = [
                {
                    "id": call.id or f"call_{index}_{n}",
                    "name": call.name,
                    "arguments": call.arguments,
                }
                for n, call in enumerate(turn.tool_calls)
            ]
            pending = list(calls)
            out.append({"role": "assistant", "content": turn.content, "tool_calls": calls})
        else:
            out.append({"role": turn.role, "content": turn.content})
    if pending:
        raise TurnError(
            "the last assistant turn's tool calls have no tool turns answering them",
            len(turns) - 1,
        )
    if out and out[-1]["role"] == "assistant":
        raise TurnError(
            "the conversation ends with an assistant turn: there is nothing to answer",
            len(turns) - 1,
        )
    return out


def _tool_turn(turn: CaseTurn, pending: list[dict[str, Any]], index: int) -> Turn:
    if not pending:
        raise TurnError(
            "a tool turn must answer a tool call of the assistant turn before it", index
        )
    if turn.tool_call_id is None:
        call = pending.pop(0)
    else:
        found = [c for c in pending if c["id"] == turn.tool_call_id]
        if not found:
            raise TurnError(
                f"tool_call_id {turn.tool_call_id!r} is no unanswered call of the assistant turn "
                "before",
                index,
            )
        call = found[0]
        pending.remove(call)
    return {
        "role": "tool",
        "tool_call_id": call["id"],
        "name": turn.name or call["name"],
        "content": turn.content,
        "is_error": turn.is_error,
    }
