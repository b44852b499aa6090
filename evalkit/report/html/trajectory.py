"""A conversation case's trajectory in the HTML pages: each turn's text, its tool calls with
their arguments and results (and where each result came from), whether ``max_turns`` cut the
loop short, and the final answer. Plain data: the page draws it with ``textContent`` only, and
:func:`evalkit.report.html.page.shown` makes every string visible-safe before it is embedded."""

from __future__ import annotations

import json
from typing import Any

from evalkit.model.trajectory import ToolCallRecord, Trajectory

#: how the page names each result source (see ``ToolCallRecord.source``)
_SOURCES = {
    "case": "the case's tool_results",
    "runner": "the suite's tool runner",
    "system": "the python target itself",
    "unmatched": "nowhere: no rule or runner answered it, so an error was sent",
    "error": "the tool runner, which raised",
}


def _source(call: ToolCallRecord) -> str:
    text = _SOURCES.get(call.source, call.source or "unknown")
    return f"{text} (rule {call.rule})" if call.rule is not None else text


def _result_text(result: Any) -> str:
    if isinstance(result, str):
        return result
    return json.dumps(result, ensure_ascii=False, sort_keys=True, default=str)


def _call(call: ToolCallRecord) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": call.name,
        "args": call.args_text,
        "res": _result_text(call.result),
        "src": _source(call),
    }
    if call.id:
        out["id"] = call.id
    if call.is_error:
        out["err"] = True
    return out


def trajectory_data(traj: Trajectory) -> dict[str, Any]:
    """One trajectory, compact: turns with their text and calls, the final answer, the stop."""
    turns = []
    for turn in traj.turns:
        t: dict[str, Any] = {"tok": [turn.input_tokens, turn.output_tokens]}
        if turn.text:
            t["text"] = turn.text
        if turn.tool_calls:
            t["calls"] = [_call(c) for c in turn.tool_calls]
        if turn.finish_reason is not None:
            t["fin"] = turn.finish_reason
        turns.append(t)
    return {
        "turns": turns,
        "final": traj.final,
        "max_turns": traj.max_turns,
        "reached": traj.max_turns_reached,
    }
