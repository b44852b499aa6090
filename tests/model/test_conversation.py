"""Conversation cases: loading, validation errors at file:line:field, tools files, records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalkit.base.exceptions import InputError
from evalkit.model.conversation import ToolResultRule, args_match, find_result, json_equal
from evalkit.model.conversation_load import load_tools_file, resolve_tools
from evalkit.model.golden import load_golden
from evalkit.model.record import CaseRecord
from evalkit.model.trajectory import ToolCallRecord, Trajectory, TurnRecord

TOOLS = """\
- name: lookup_order
  description: Look up an order.
  parameters:
    type: object
    properties: {order_id: {type: string}}
    required: [order_id]
- name: issue_refund
  parameters: {type: object, properties: {amount: {type: number}}}
"""

CASE = """\
- id: plain
  vars: {q: hi}
- id: refund
  messages:
    - {role: user, content: "Refund order 42"}
    - role: assistant
      content: "Looking it up."
      tool_calls: [{name: lookup_order, arguments: {order_id: "42"}}]
    - {role: tool, content: '{"status": "lost"}'}
    - {role: user, content: "So?"}
  tools: tools.yaml
  tool_results:
    - {tool: issue_refund, args: {amount: 10}, result: {ok: true}}
    - {tool: issue_refund, result: {ok: false}, error: true}
  max_turns: 3
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_conversation_case_loads_and_resolves_its_tools_file(tmp_path: Path) -> None:
    write(tmp_path, "tools.yaml", TOOLS)
    golden = load_golden(write(tmp_path, "g.yaml", CASE))
    plain, refund = golden.cases
    assert not plain.is_conversation and plain.tool_defs() == []
    assert refund.is_conversation and refund.max_turns == 3
    assert refund.tools == "tools.yaml"  # resolved with the suite, against the project root
    resolve_tools(golden, tmp_path)
    assert [t.name for t in refund.tool_defs()] == ["lookup_order", "issue_refund"]
    turns = refund.turns()
    assert turns[1]["tool_calls"] == [
        {"id": "call_1_0", "name": "lookup_order", "arguments": {"order_id": "42"}}
    ]
    assert turns[2] == {
        "role": "tool",
        "tool_call_id": "call_1_0",
        "name": "lookup_order",
        "content": '{"status": "lost"}',
        "is_error": False,
    }


@pytest.mark.parametrize(
    ("case", "line", "field", "message"),
    [
        (
            "- id: c\n  messages:\n    - {role: user, content: hi}\n"
            "    - {role: assistant, content: yo}\n",
            4,
            "c.messages[1]",
            "ends with an assistant turn",
        ),
        (
            "- id: c\n  messages:\n    - {role: user, content: hi}\n"
            "    - {role: tool, content: x}\n",
            4,
            "c.messages[1]",
            "must answer a tool call",
        ),
        (
            "- id: c\n  messages:\n    - {role: robot, content: hi}\n",
            3,
            "messages.0.role",
            "Input should be",
        ),
        (
            "- id: c\n  messages:\n    - {role: user, content: hi, tool_calls: [{name: a}]}\n",
            3,
            "messages.0",
            "only an assistant turn",
        ),
        (
            "- id: c\n  messages: [{role: user, content: hi}]\n  tool_results:\n    - {tool: a}\n",
            3,
            "c.tool_results",
            "needs `tools`",
        ),
        (
            "- id: c\n  messages: [{role: user, content: hi}]\n  tools:\n    - {name: a}\n"
            "  tool_results:\n    - {tool: b, result: 1}\n",
            6,
            "c.tool_results[0].tool",
            "no tool 'b'",
        ),
        (
            "- id: c\n  tools:\n    - {name: a, parameters: {type: string}}\n",
            3,
            "tools.0.parameters",
            "object schema",
        ),
        (
            "- id: c\n  tools:\n    - {name: a, parameters: {type: object, properties: 5}}\n",
            3,
            "tools.0.parameters",
            "invalid JSON Schema",
        ),
        ("- id: c\n  tools: [{name: a}]\n  max_turns: 0\n", 3, "max_turns", "greater than"),
        ("- id: c\n  tools: [{name: a}, {name: a}]\n", 2, "c.tools", "defined twice"),
        (
            "- id: c\n  tools: [{name: a}]\n  checks:\n    - {type: not-tool-called, tool: b}\n",
            4,
            "c.checks[0].tool",
            "no tool 'b'",
        ),
        (
            "- id: c\n  tools: [{name: a}]\n  checks:\n"
            "    - {type: tool-sequence, tools: [a, {tool: z}]}\n",
            4,
            "c.checks[0].tools[1]",
            "could never see a call",
        ),
    ],
)
def test_bad_conversation_cases_name_file_line_and_field(
    tmp_path: Path, case: str, line: int, field: str, message: str
) -> None:
    path = write(tmp_path, "g.yaml", case)
    with pytest.raises(InputError) as info:
        load_golden(path)
    err = info.value
    assert (err.path, err.line) == (str(path), line), str(err)
    assert err.field is not None and err.field.startswith(field), str(err)
    assert message in err.message


def test_missing_or_bad_tools_file_is_reported_at_the_case(tmp_path: Path) -> None:
    golden = load_golden(write(tmp_path, "g.yaml", CASE))
    with pytest.raises(InputError) as info:
        resolve_tools(golden, tmp_path)
    assert (info.value.line, info.value.field) == (3, "refund.tools")
    assert "not found" in info.value.message
    write(tmp_path, "tools.yaml", "- name: lookup_order\n- name: [bad]\n")
    with pytest.raises(InputError) as info:
        resolve_tools(golden, tmp_path)
    assert info.value.path == str(tmp_path / "tools.yaml") and info.value.line == 2
    write(tmp_path, "tools.yaml", "- {name: lookup_order}\n")  # issue_refund is missing
    with pytest.raises(InputError) as info:
        resolve_tools(golden, tmp_path)
    assert info.value.field == "refund.tool_results[0].tool"


def test_tools_file_may_be_a_mapping(tmp_path: Path) -> None:
    path = write(
        tmp_path, "t.yaml", "tools:\n" + "".join(f"  {line}\n" for line in TOOLS.splitlines())
    )
    assert [t.name for t in load_tools_file(path)] == ["lookup_order", "issue_refund"]


def test_json_equality_and_argument_matching() -> None:
    assert json_equal(1, 1.0) and not json_equal(True, 1) and not json_equal("42", 42)
    assert not json_equal({"a": 1}, {"a": 1, "b": 2})
    assert args_match({"a": 1}, {"a": 1, "b": 2})
    assert not args_match({"a": 1}, {"a": 1, "b": 2}, exact=True)
    assert args_match({"a": {"x": 1}}, {"a": {"x": 1, "y": 2}})  # nested objects: subsets too
    assert not args_match({"a": [1]}, {"a": [1, 2]})  # lists: equal
    assert not args_match({"a": 1}, "not an object")
    rules = [
        ToolResultRule(tool="t", args={"id": "1"}, result="one"),
        ToolResultRule(tool="t", result="default"),
    ]
    assert find_result(rules, "t", {"id": "1", "verbose": True}) == 0
    assert find_result(rules, "t", {"id": "2"}) == 1
    assert find_result(rules, "other", {}) is None


def test_record_round_trips_a_trajectory_and_old_records_still_load() -> None:
    call = ToolCallRecord(id="c1", name="lookup_order", arguments={"order_id": "42"}, result="x")
    traj = Trajectory(turns=[TurnRecord(tool_calls=[call]), TurnRecord(text="bye")], final="bye")
    record = CaseRecord(case_id="a", outcome="pass", output="bye", trajectory=traj)
    again = CaseRecord.model_validate(json.loads(record.model_dump_json()))
    assert again.trajectory == traj and again.trajectory.calls()[0].name == "lookup_order"
    old = {"case_id": "a", "repeat": 0, "outcome": "pass", "output": "hi"}  # before trajectories
    assert CaseRecord.model_validate(old).trajectory is None


def test_compact_rendering_names_calls_and_results() -> None:
    call = ToolCallRecord(name="issue_refund", arguments={"amount": 5}, result={"ok": True})
    traj = Trajectory(
        turns=[TurnRecord(text="Refunding", tool_calls=[call]), TurnRecord(text="Done")],
        final="Done",
        max_turns=2,
    )
    assert traj.compact() == (
        "turn 1: said 'Refunding'\n"
        'turn 1: call #1 issue_refund({"amount": 5})\n'
        '  -> result: {"ok": true}\n'
        "final answer: Done"
    )
