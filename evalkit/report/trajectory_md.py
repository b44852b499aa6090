"""The trajectories of conversation cases in ``report.md``: each turn's tool calls, their
results and the final answer, for the cases that failed or errored (where a reader needs to
see what the agent did). Every model-made string is escaped (hostile data)."""

from __future__ import annotations

import json
from typing import Any

from evalkit.base.escape import markdown, markdown_code, truncate
from evalkit.model.outcome import Outcome
from evalkit.model.record import CaseRecord

TRAJECTORIES_LISTED = 20
_LIMIT = 200


def _json(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return markdown_code(truncate(" ".join(text.split()), _LIMIT))


def trajectory_section(records: list[CaseRecord], total: int | None = None) -> list[str]:
    """Markdown lines for the failing or erroring records that have a trajectory (or none).

    The report passes only the first :data:`TRAJECTORIES_LISTED` such records and their
    ``total`` (it reads a run once and keeps no more than it lists)."""
    shown = [r for r in records if r.trajectory is not None and r.outcome is not Outcome.PASS]
    total = len(shown) if total is None else total
    if not shown:
        return []
    lines = ["### Trajectories of cases that did not pass", ""]
    for rec in shown[:TRAJECTORIES_LISTED]:
        traj = rec.trajectory
        assert traj is not None
        calls = traj.calls()
        lines.append(
            f"**{markdown_code(rec.case_id)}** (repeat {rec.repeat}, {rec.outcome.value}): "
            f"{len(traj.turns)} model turn(s), {len(calls)} tool call(s)"
        )
        lines.append("")
        number = 0
        for index, turn in enumerate(traj.turns, start=1):
            if turn.tool_calls and turn.text:
                said = markdown(truncate(" ".join(turn.text.split()), _LIMIT))
                lines.append(f"- turn {index} says: {said}")
            for call in turn.tool_calls:
                number += 1
                error = " (error)" if call.is_error else ""
                lines.append(
                    f"- turn {index}, call #{number}: {markdown_code(call.name)} "
                    f"{_json(call.arguments)} → {_json(call.result)}{error}"
                )
        if traj.max_turns_reached:
            lines.append(f"- **stopped at max_turns ({traj.max_turns}) with tool calls pending**")
        final = markdown(truncate(" ".join(traj.final.split()), _LIMIT * 2)) or "(empty)"
        lines += [f"- final answer: {final}", ""]
    if total > TRAJECTORIES_LISTED:
        lines += [f"… and {total - TRAJECTORIES_LISTED} more", ""]
    return lines
