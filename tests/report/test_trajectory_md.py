"""Trajectories in report.md: readable for the cases that did not pass, inert on hostile data."""

from __future__ import annotations

from evalkit.model.outcome import Outcome
from evalkit.model.record import CaseRecord
from evalkit.model.trajectory import ToolCallRecord, Trajectory, TurnRecord
from evalkit.report.trajectory_md import trajectory_section
from tests.hostile import HOSTILE, assert_markdown_safe, assert_not_whole


def _record(case_id: str, text: str, outcome: Outcome = Outcome.FAIL) -> CaseRecord:
    call = ToolCallRecord(name=text[:40], arguments={"q": text}, result=text, is_error=True)
    traj = Trajectory(
        turns=[TurnRecord(text=text, tool_calls=[call]), TurnRecord(text=text)],
        final=text,
        max_turns=2,
        max_turns_reached=True,
    )
    return CaseRecord(case_id=case_id, outcome=outcome, output=text, trajectory=traj)


def test_readable_section_for_failing_conversations_only() -> None:
    failing = _record("refund", "Refunded 100 EUR.")
    passing = _record("status", "Shipped.", Outcome.PASS)
    plain = CaseRecord(case_id="plain", outcome=Outcome.FAIL, output="x")
    lines = trajectory_section([failing, passing, plain])
    assert lines[0] == "### Trajectories of cases that did not pass"
    text = "\n".join(lines)
    assert "**`refund`** (repeat 0, fail): 2 model turn(s), 1 tool call(s)" in text
    assert (
        '- turn 1, call #1: `Refunded 100 EUR.` `{"q": "Refunded 100 EUR."}` → '
        "`Refunded 100 EUR.` (error)" in text
    )
    assert "stopped at max_turns (2)" in text and "- final answer: Refunded 100 EUR." in text
    assert "status" not in text and "plain" not in text
    assert trajectory_section([passing, plain]) == []


def test_hostile_trajectories_render_inert() -> None:
    records = [_record(f"c-{name}", text) for name, text in HOSTILE.items()]
    md = "\n".join(trajectory_section(records))
    assert_markdown_safe(md, "trajectory section")
    assert_not_whole(md, "trajectory section")
