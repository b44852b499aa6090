"""Tool checks on hand-built trajectories: each outcome, its negation and the reason's call."""

from __future__ import annotations

from typing import Any

import pytest

from evalkit.base.exceptions import InputError
from evalkit.model.conversation import ToolDef
from evalkit.model.outcome import Outcome
from evalkit.model.trajectory import ToolCallRecord, Trajectory, TurnRecord

from .helpers import case, grade

PASS, FAIL, ERROR = Outcome.PASS, Outcome.FAIL, Outcome.ERROR

SHOP = [
    ToolDef(
        name="lookup_order",
        parameters={
            "type": "object",
            "properties": {"order_id": {"type": "string"}},
            "required": ["order_id"],
            "additionalProperties": False,
        },
    ),
    ToolDef(
        name="issue_refund",
        parameters={
            "type": "object",
            "properties": {
                "order_id": {"type": "string"},
                "amount": {"type": "number", "exclusiveMinimum": 0},
            },
            "required": ["order_id", "amount"],
        },
    ),
]


def traj(*turns: list[tuple[str, Any]]) -> Trajectory:
    """One TurnRecord per argument, each a list of (name, arguments) calls; a final text turn."""
    records = [
        TurnRecord(
            tool_calls=[ToolCallRecord(name=n, arguments=a, result={"ok": True}) for n, a in t]
        )
        for t in turns
    ]
    records.append(TurnRecord(text="done"))
    return Trajectory(turns=records, final="done", max_turns=8)


GOOD = traj(
    [("lookup_order", {"order_id": "42"})], [("issue_refund", {"order_id": "42", "amount": 89.9})]
)
WRONG_ORDER = traj(
    [("issue_refund", {"order_id": "42", "amount": 89.9})], [("lookup_order", {"order_id": "42"})]
)
WRONG_ARG = traj(
    [("lookup_order", {"order_id": "42"})], [("issue_refund", {"order_id": "42", "amount": 100})]
)
MISSING = traj([("lookup_order", {"order_id": "42"})])
NONE = traj()
TWO_AT_ONCE = traj([("lookup_order", {"order_id": "1"}), ("lookup_order", {"order_id": "2"})])


def run(
    raw: dict[str, Any], trajectory: Trajectory | None, tools: list[ToolDef] | None = None
) -> Any:
    the_case = case(tools=tools if tools is not None else SHOP)
    return grade(raw, "done", the_case, trajectory=trajectory)


REFUND = {"type": "tool-called", "tool": "issue_refund", "args": {"order_id": "42", "amount": 89.9}}


@pytest.mark.parametrize(
    ("raw", "trajectory", "outcome"),
    [
        ({"type": "tool-called", "tool": "lookup_order"}, GOOD, PASS),
        ({"type": "tool-called", "tool": "issue_refund"}, MISSING, FAIL),
        (REFUND, GOOD, PASS),
        (REFUND, WRONG_ARG, FAIL),
        ({**REFUND, "type": "not-tool-called"}, WRONG_ARG, PASS),
        ({"type": "not-tool-called", "tool": "issue_refund"}, MISSING, PASS),
        ({"type": "not-tool-called", "tool": "issue_refund"}, GOOD, FAIL),
        # subset: fewer keys match; exact: all of them, and no more
        ({"type": "tool-called", "tool": "issue_refund", "args": {"order_id": "42"}}, GOOD, PASS),
        (
            {
                "type": "tool-called",
                "tool": "issue_refund",
                "args": {"order_id": "42"},
                "match": "exact",
            },
            GOOD,
            FAIL,
        ),
        ({**REFUND, "match": "exact"}, GOOD, PASS),
        # JSON values: "42" is not 42, 89.9 is 89.9, 100 is 100.0
        ({"type": "tool-called", "tool": "lookup_order", "args": {"order_id": 42}}, GOOD, FAIL),
        (
            {"type": "tool-called", "tool": "issue_refund", "args": {"amount": 100.0}},
            WRONG_ARG,
            PASS,
        ),
        # args_schema: some call validates
        (
            {
                "type": "tool-called",
                "tool": "issue_refund",
                "args_schema": {"properties": {"amount": {"maximum": 90}}},
            },
            GOOD,
            PASS,
        ),
        (
            {
                "type": "tool-called",
                "tool": "issue_refund",
                "args_schema": {"properties": {"amount": {"maximum": 90}}},
            },
            WRONG_ARG,
            FAIL,
        ),
        ({"type": "tool-sequence", "tools": ["lookup_order", "issue_refund"]}, GOOD, PASS),
        ({"type": "tool-sequence", "tools": ["lookup_order", "issue_refund"]}, WRONG_ORDER, FAIL),
        ({"type": "tool-sequence", "tools": ["lookup_order", "issue_refund"]}, MISSING, FAIL),
        ({"type": "tool-sequence", "tools": ["issue_refund"]}, WRONG_ORDER, PASS),
        ({"type": "tool-sequence", "tools": ["issue_refund"], "mode": "exact"}, WRONG_ORDER, FAIL),
        (
            {"type": "tool-sequence", "tools": ["lookup_order", "issue_refund"], "mode": "exact"},
            GOOD,
            PASS,
        ),
        (
            {"type": "tool-sequence", "tools": ["lookup_order", "issue_refund"], "mode": "exact"},
            MISSING,
            FAIL,
        ),
        (
            {
                "type": "tool-sequence",
                "tools": ["lookup_order", {"tool": "issue_refund", "args": {"amount": 89.9}}],
            },
            WRONG_ARG,
            FAIL,
        ),
        ({"type": "tool-sequence", "tools": ["lookup_order", "lookup_order"]}, TWO_AT_ONCE, PASS),
        ({"type": "tool-sequence", "tools": ["lookup_order", "lookup_order"]}, GOOD, FAIL),
        (
            {"type": "not-tool-sequence", "tools": ["lookup_order", "issue_refund"]},
            WRONG_ORDER,
            PASS,
        ),
        ({"type": "max-tool-calls", "value": 2}, GOOD, PASS),
        ({"type": "max-tool-calls", "value": 1}, GOOD, FAIL),
        ({"type": "max-tool-calls", "value": 0}, NONE, PASS),
        ({"type": "max-tool-calls", "tool": "lookup_order", "value": 1}, GOOD, PASS),
        ({"type": "max-tool-calls", "tool": "lookup_order", "value": 1}, TWO_AT_ONCE, FAIL),
        ({"type": "tool-args-valid"}, GOOD, PASS),
        ({"type": "tool-args-valid"}, NONE, PASS),
        ({"type": "not-tool-args-valid"}, GOOD, FAIL),
    ],
)
def test_outcomes(raw: dict[str, Any], trajectory: Trajectory, outcome: Outcome) -> None:
    result = run(raw, trajectory)
    assert result.outcome is outcome, result.reason


def test_reasons_name_the_call() -> None:
    wrong = run(REFUND, WRONG_ARG)
    assert wrong.reason == (
        'no call matches issue_refund(args ⊇ {"order_id": "42", "amount": 89.9}); calls to '
        'issue_refund: #2 issue_refund({"amount": 100, "order_id": "42"})'
    )
    missing = run({"type": "tool-called", "tool": "issue_refund"}, MISSING)
    assert missing.reason == (
        'issue_refund was never called; calls made: #1 lookup_order({"order_id": "42"})'
    )
    negated = run({"type": "not-tool-called", "tool": "issue_refund"}, GOOD)
    assert "#2 issue_refund(" in negated.reason
    order = run({"type": "tool-sequence", "tools": ["lookup_order", "issue_refund"]}, WRONG_ORDER)
    assert "no issue_refund after call #2" in order.reason
    assert "#1 issue_refund(" in order.reason
    exact = run({"type": "tool-sequence", "tools": ["issue_refund"], "mode": "exact"}, WRONG_ORDER)
    assert "extra calls #2 lookup_order(" in exact.reason
    many = run({"type": "max-tool-calls", "value": 1}, GOOD)
    assert many.reason.startswith("2 tool calls > 1: #1 lookup_order(")


def test_tool_args_valid_names_each_bad_call() -> None:
    bad = traj(
        [("lookup_order", {"order_id": 42})],
        [("issue_refund", {"order_id": "42", "amount": -5})],
        [("cancel_order", {})],
        [("issue_refund", "{not json")],
    )
    result = run({"type": "tool-args-valid"}, bad)
    assert result.outcome is FAIL
    assert (
        "#1 lookup_order({\"order_id\": 42}): order_id: 42 is not of type 'string'" in result.reason
    )
    assert (
        "#2 issue_refund(" in result.reason and "amount: -5 is less than or equal" in result.reason
    )
    assert "#3 cancel_order({}): no such tool" in result.reason
    assert "(and 1 more)" in result.reason
    only_raw = run({"type": "tool-args-valid"}, traj([("issue_refund", "{not json")]))
    assert only_raw.reason == "#1 issue_refund({not json): arguments are not JSON"


def test_no_trajectory_is_an_error_not_a_pass() -> None:
    for raw in (
        {"type": "tool-called", "tool": "x"},
        {"type": "not-tool-called", "tool": "x"},
        {"type": "max-tool-calls", "value": 3},
    ):
        result = run(raw, None)
        assert result.outcome is ERROR
        assert "conversation case" in result.reason


def test_tool_args_valid_without_tool_definitions_cannot_grade() -> None:
    result = run({"type": "tool-args-valid"}, GOOD, tools=[])
    assert result.outcome is ERROR and "defines no tools" in result.reason


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"type": "tool-called"}, "checks.tool"),
        ({"type": "tool-called", "tool": "has space"}, "checks.tool"),
        ({"type": "tool-called", "tool": "a", "match": "fuzzy"}, "checks.match"),
        ({"type": "tool-called", "tool": "a", "args_schema": {"type": 5}}, "checks.args_schema"),
        ({"type": "tool-sequence", "tools": []}, "checks.tools"),
        (
            {"type": "tool-sequence", "tools": [{"tool": "a", "argz": {}}]},
            "checks.tools[0].ToolCallPattern.argz",
        ),
        ({"type": "max-tool-calls", "value": -1}, "checks.value"),
    ],
)
def test_bad_parameters_name_the_field(raw: dict[str, Any], field: str) -> None:
    from evalkit.grading.check import parse_check

    with pytest.raises(InputError) as info:
        parse_check(raw, path="goldens/agent.yaml", line=9)
    assert info.value.line == 9
    assert info.value.field == field, info.value.message
