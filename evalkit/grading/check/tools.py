"""Checks on a conversation's tool calls (the trajectory), exact and deterministic.

Each reason names the calls it is about (``#2 issue_refund({"amount": 50})``, numbered in
call order across turns), so a failure says which call was wrong, not only that one was.
Arguments match as JSON values (``true`` is not ``1``); ``args`` matches as a subset unless
``match: exact``. A case without a trajectory (not a conversation case) cannot be graded by
these checks: an *error*, never a silent pass. ``not-`` negates any of them
(``not-tool-called``: the tool was never called, or never with those arguments).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from evalkit.grading.check.base import CannotGrade, Check, CheckContext, register, verdict
from evalkit.model.conversation import TOOL_NAME, args_match
from evalkit.model.outcome import CheckResult
from evalkit.model.trajectory import ToolCallRecord, Trajectory

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

#: at most this many calls are listed in a reason
_LISTED = 6


def _trajectory(ctx: CheckContext) -> Trajectory:
    if ctx.trajectory is None:
        raise CannotGrade(
            "no trajectory to grade: tool checks need a conversation case (`messages:` or "
            "`tools:` in the case)"
        )
    return ctx.trajectory


def _numbered(calls: list[ToolCallRecord]) -> list[tuple[int, ToolCallRecord]]:
    return list(enumerate(calls, start=1))


def _listing(calls: list[tuple[int, ToolCallRecord]]) -> str:
    """``#1 a({...}), #2 b({...})`` (the first few), or ``none``."""
    if not calls:
        return "none"
    shown = ", ".join(call.label(n) for n, call in calls[:_LISTED])
    more = len(calls) - _LISTED
    return shown + (f", and {more} more" if more > 0 else "")


@lru_cache(maxsize=128)
def _validator(schema_json: str) -> Validator:
    from jsonschema.validators import validator_for

    schema = json.loads(schema_json)
    cls = validator_for(schema)
    validator: Validator = cls(schema)
    return validator


def _schema_problem(schema: dict[str, Any], value: Any) -> str | None:
    """The most relevant reason ``value`` fails ``schema``, or None when it validates."""
    from jsonschema.exceptions import best_match

    error = best_match(_validator(json.dumps(schema, sort_keys=True)).iter_errors(value))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path)
    return f"{where}: {error.message}" if where else error.message


def _checked_schema(schema: dict[str, Any] | None) -> dict[str, Any] | None:
    if schema is None:
        return None
    from jsonschema import exceptions as schema_errors
    from jsonschema.validators import validator_for

    try:
        validator_for(schema).check_schema(schema)
    except schema_errors.SchemaError as exc:
        raise ValueError(f"invalid JSON Schema: {exc.message}") from None
    return schema


class ToolCallPattern(BaseModel):
    """A call to look for: a tool name and, optionally, arguments it must hold."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tool: str = Field(pattern=TOOL_NAME)
    args: dict[str, Any] | None = None
    match: Literal["subset", "exact"] = "subset"

    def matches(self, call: ToolCallRecord) -> bool:
        if call.name != self.tool:
            return False
        return self.args is None or args_match(
            self.args, call.arguments, exact=self.match == "exact"
        )

    def describe(self) -> str:
        if self.args is None:
            return self.tool
        op = "=" if self.match == "exact" else "⊇"
        return f"{self.tool}(args {op} {json.dumps(self.args, ensure_ascii=False)})"


@register("tool-called")
class ToolCalled(Check):
    """The model called ``tool``; with ``args``, some call's arguments hold them (a subset;
    ``match: exact`` for exactly those), with ``args_schema``, some call's arguments validate
    against that JSON Schema. ``not-tool-called``: no such call was made."""

    example = (
        '- {type: tool-called, tool: lookup_order, args: {order_id: "42"}}\n'
        "- {type: tool-called, tool: issue_refund, args: {amount: 20}, match: exact}\n"
        "- {type: tool-called, tool: issue_refund, args_schema: "
        "{properties: {amount: {maximum: 50}}}}\n"
        "- {type: not-tool-called, tool: cancel_order}"
    )
    tool: str = Field(pattern=TOOL_NAME, description="the tool's name")
    args: dict[str, Any] | None = Field(default=None, description="arguments the call holds")
    match: Literal["subset", "exact"] = Field(
        default="subset", description="`subset`: at least these arguments; `exact`: only these"
    )
    args_schema: dict[str, Any] | None = Field(
        default=None, description="a JSON Schema the call's arguments validate against"
    )

    @field_validator("args_schema")
    @classmethod
    def _valid_schema(cls, schema: dict[str, Any] | None) -> dict[str, Any] | None:
        return _checked_schema(schema)

    def run(self, ctx: CheckContext) -> CheckResult:
        calls = _numbered(_trajectory(ctx).calls())
        pattern = ToolCallPattern(tool=self.tool, args=self.args, match=self.match)
        named = [(n, c) for n, c in calls if c.name == self.tool]
        wanted = pattern.describe()
        if self.args_schema is not None:
            wanted += " with arguments valid against args_schema"
        for n, call in named:
            if not pattern.matches(call):
                continue
            if self.args_schema is not None and _schema_problem(self.args_schema, call.arguments):
                continue
            return verdict(self.type_name, True, f"{call.label(n)} matches {wanted}")
        if not named:
            reason = f"{self.tool} was never called; calls made: {_listing(calls)}"
        else:
            reason = f"no call matches {wanted}; calls to {self.tool}: {_listing(named)}"
            if self.args_schema is not None and len(named) == 1:
                problem = _schema_problem(self.args_schema, named[0][1].arguments)
                reason += f" ({problem})" if problem else ""
        return verdict(self.type_name, False, reason)


@register("tool-sequence")
class ToolSequence(Check):
    """The tools were called in this order: ``mode: subsequence`` (default) allows other calls
    in between, ``mode: exact`` means exactly these calls and nothing else. Items are tool
    names or ``{tool, args}`` (arguments as a subset)."""

    example = (
        "- {type: tool-sequence, tools: [lookup_order, issue_refund]}\n"
        '- {type: tool-sequence, tools: [{tool: lookup_order, args: {order_id: "42"}}, '
        "issue_refund], mode: exact}"
    )
    tools: list[str | ToolCallPattern] = Field(min_length=1, description="the expected calls")
    mode: Literal["subsequence", "exact"] = Field(
        default="subsequence", description="`subsequence`: in this order; `exact`: only these"
    )

    def _patterns(self) -> list[ToolCallPattern]:
        return [ToolCallPattern(tool=t) if isinstance(t, str) else t for t in self.tools]

    def run(self, ctx: CheckContext) -> CheckResult:
        calls = _numbered(_trajectory(ctx).calls())
        patterns = self._patterns()
        expected = " → ".join(p.describe() for p in patterns)
        if self.mode == "exact":
            return self._exact(calls, patterns, expected)
        position = 0
        matched: list[str] = []
        for pattern in patterns:
            found = next(
                ((n, c) for n, c in calls[position:] if pattern.matches(c)),
                None,
            )
            if found is None:
                after = f" after call #{position}" if position else ""
                return verdict(
                    self.type_name,
                    False,
                    f"expected {expected}: no {pattern.describe()}{after}"
                    f"{' (matched ' + ', '.join(matched) + ')' if matched else ''}; "
                    f"calls made: {_listing(calls)}",
                )
            position = found[0]
            matched.append(found[1].label(found[0]))
        return verdict(self.type_name, True, f"in order: {', '.join(matched)}")

    def _exact(
        self,
        calls: list[tuple[int, ToolCallRecord]],
        patterns: list[ToolCallPattern],
        expected: str,
    ) -> CheckResult:
        for index, pattern in enumerate(patterns):
            if index >= len(calls):
                return verdict(
                    self.type_name,
                    False,
                    f"expected exactly {expected}: call #{index + 1} ({pattern.describe()}) "
                    f"missing; calls made: {_listing(calls)}",
                )
            n, call = calls[index]
            if not pattern.matches(call):
                return verdict(
                    self.type_name,
                    False,
                    f"expected exactly {expected}: {call.label(n)} is not {pattern.describe()}",
                )
        if len(calls) > len(patterns):
            extra = calls[len(patterns) :]
            return verdict(
                self.type_name,
                False,
                f"expected exactly {expected}: extra calls {_listing(extra)}",
            )
        return verdict(self.type_name, True, f"exactly {_listing(calls)}")


@register("max-tool-calls")
class MaxToolCalls(Check):
    """At most ``value`` tool calls were made (of ``tool`` only, when given)."""

    example = (
        "- {type: max-tool-calls, value: 3}\n- {type: max-tool-calls, tool: issue_refund, value: 1}"
    )
    value: int = Field(ge=0, description="the largest allowed number of calls")
    tool: str | None = Field(default=None, pattern=TOOL_NAME, description="count only this tool")

    def run(self, ctx: CheckContext) -> CheckResult:
        calls = _numbered(_trajectory(ctx).calls())
        counted = [(n, c) for n, c in calls if self.tool is None or c.name == self.tool]
        what = f"calls to {self.tool}" if self.tool else "tool calls"
        ok = len(counted) <= self.value
        reason = f"{len(counted)} {what} {'<=' if ok else '>'} {self.value}"
        if not ok:
            reason += f": {_listing(counted)}"
        return verdict(self.type_name, ok, reason)


@register("tool-args-valid")
class ToolArgsValid(Check):
    """Every tool call names a tool of the case and its arguments validate against that
    tool's JSON Schema ``parameters``."""

    example = "- {type: tool-args-valid}"

    def run(self, ctx: CheckContext) -> CheckResult:
        calls = _numbered(_trajectory(ctx).calls())
        tools = {t.name: t for t in ctx.case.tool_defs()}
        if not tools:
            raise CannotGrade(f"case {ctx.case.id!r} defines no tools to validate against")
        problems: list[str] = []
        for n, call in calls:
            tool = tools.get(call.name)
            if tool is None:
                problems.append(f"{call.label(n)}: no such tool")
                continue
            if isinstance(call.arguments, str):
                problems.append(f"{call.label(n)}: arguments are not JSON")
                continue
            problem = _schema_problem(tool.parameters, call.arguments)
            if problem:
                problems.append(f"{call.label(n)}: {problem}")
        if problems:
            more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
            return verdict(self.type_name, False, "; ".join(problems[:3]) + more)
        return verdict(self.type_name, True, f"{len(calls)} call(s) valid against their schemas")
