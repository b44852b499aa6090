"""The stored trajectory of a conversation case: every model turn, tool call and tool result.

It is part of the record (``CaseRecord.trajectory``), so tool checks, judges, reports and
``compare`` read what happened without re-running anything. Runs stored before trajectories
existed load with ``trajectory = None``.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

#: where a tool result came from
RESULT_SOURCES = ("case", "runner", "system", "unmatched", "error")


class ToolCallRecord(BaseModel):
    """One tool call the model made and the result it was given."""

    model_config = ConfigDict(extra="allow")

    id: str = ""
    name: str
    #: the parsed arguments; the raw text when the model sent arguments that are not JSON
    arguments: Any = None
    result: Any = None
    is_error: bool = False
    #: ``case`` (tool_results[rule]), ``runner`` (the suite's tool runner), ``system`` (the
    #: python target ran it itself), ``unmatched`` (nothing answered it: an error result was
    #: sent), ``error`` (the runner raised)
    source: str = ""
    rule: int | None = None

    @property
    def args_text(self) -> str:
        """The arguments as compact JSON (the raw text when they were not JSON)."""
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(self.arguments, ensure_ascii=False, sort_keys=True)

    def label(self, number: int | None = None) -> str:
        """``#2 issue_refund({"amount": 50})``: how reasons and reports name the call."""
        prefix = f"#{number} " if number is not None else ""
        return f"{prefix}{self.name}({_short(self.args_text, 200)})"


class TurnRecord(BaseModel):
    """One model call of the conversation: what it said, which tools it called, what it cost."""

    model_config = ConfigDict(extra="allow")

    text: str = ""
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: float | None = None
    finish_reason: str | None = None


class Trajectory(BaseModel):
    """All turns of one conversation case × repeat; ``final`` is the answer checks grade."""

    model_config = ConfigDict(extra="allow")

    turns: list[TurnRecord] = Field(default_factory=list)
    final: str = ""
    max_turns: int = 0
    #: the loop stopped because it hit ``max_turns`` with tool calls still pending
    max_turns_reached: bool = False

    def calls(self) -> list[ToolCallRecord]:
        """Every tool call in order, across turns."""
        return [call for turn in self.turns for call in turn.tool_calls]

    def compact(self, limit: int = 300) -> str:
        """A few lines per turn, for judges and terminal views: calls, results, final answer."""
        lines: list[str] = []
        number = 0
        for index, turn in enumerate(self.turns, start=1):
            if turn.text and turn.tool_calls:
                lines.append(f"turn {index}: said {_short(turn.text, limit)!r}")
            for call in turn.tool_calls:
                number += 1
                result = call.result if isinstance(call.result, str) else json.dumps(call.result)
                marker = " (error)" if call.is_error else ""
                lines.append(f"turn {index}: call {call.label(number)}")
                lines.append(f"  -> result{marker}: {_short(result, limit)}")
        if self.max_turns_reached:
            lines.append(f"stopped: reached max_turns ({self.max_turns}) with calls pending")
        lines.append(f"final answer: {_short(self.final, limit * 4)}")
        return "\n".join(lines)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def trajectory_of(completion: Any) -> Trajectory | None:
    """The trajectory a conversation left in a completion's ``extra`` (None for one prompt)."""
    raw = completion.extra.get("trajectory")
    return Trajectory.model_validate(raw) if raw is not None else None
