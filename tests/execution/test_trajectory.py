"""The conversation loop end to end: real SDK clients on both wires against the scripted
server, tool results from the case, a runner or nothing, max_turns, errors mid-way."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evalkit.base.exceptions import ProviderError
from evalkit.execution.provider.retry import RetryPolicy
from evalkit.execution.provider.scripted import ScriptedProvider
from evalkit.execution.trajectory import converse
from evalkit.model.golden import Case
from evalkit.model.provider import CallContext, Completion, TargetSpec
from evalkit.model.trajectory import Trajectory, trajectory_of
from evalkit.scripted import ScriptedServer

FAST = RetryPolicy(max_attempts=3, base_delay=0.0, max_delay=0.0)
SHOP = [
    {
        "name": "lookup_order",
        "description": "Look up an order.",
        "parameters": {
            "type": "object",
            "properties": {"order_id": {"type": "string"}},
            "required": ["order_id"],
        },
    },
    {"name": "issue_refund", "parameters": {"type": "object", "properties": {}}},
]
SCRIPT: dict[str, Any] = {
    "default": {"text": "fallback"},
    "responses": [
        {
            "when": {"case": "refund", "turn": 1},
            "text": "Let me check.",
            "tool_calls": [{"name": "lookup_order", "arguments": {"order_id": "42"}}],
        },
        {
            "when": {"case": "refund", "turn": 2},
            "tool_calls": [
                {"name": "issue_refund", "arguments": {"order_id": "42", "amount": 9.5}},
                {"name": "lookup_order", "arguments": {"order_id": "43"}},
            ],
        },
        {"when": {"case": "refund", "turn": 3}, "text": "Refunded."},
        {
            "when": {"case": "loop"},
            "tool_calls": [{"name": "lookup_order", "arguments": {"order_id": "1"}}],
        },
        {
            "when": {"case": "badjson", "turn": 1},
            "tool_calls": [{"name": "lookup_order", "arguments": "{oops"}],
        },
        {"when": {"case": "badjson", "turn": 2}, "text": "sorry"},
        {
            "when": {"case": "flaky", "turn": 1},
            "tool_calls": [{"name": "lookup_order", "arguments": {"order_id": "1"}}],
        },
        {"when": {"case": "flaky", "turn": 2}, "text": "never", "fault": {"status": 500}},
    ],
}


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer(SCRIPT) as srv:
        yield srv


def make_case(case_id: str, **kw: Any) -> Case:
    kw.setdefault("messages", [{"role": "user", "content": "Refund order 42 please"}])
    kw.setdefault("tools", SHOP)
    return Case(id=case_id, **kw)


def talk(
    server: ScriptedServer,
    wire: str,
    case: Case,
    runner: str | None = None,
    root: Path | None = None,
) -> tuple[Completion, int]:
    url = server.url if wire == "anthropic" else server.openai_base_url
    spec = TargetSpec(
        provider="scripted",
        model="m",
        base_url=url,
        wire=wire,
        timeout=5,  # type: ignore[arg-type]
        tool_runner=runner,
        project_dir=str(root) if root else None,
    )

    async def go() -> tuple[Completion, int]:
        provider = ScriptedProvider(spec)
        try:
            system = [{"role": "system", "content": "You are an agent."}]
            return await converse(provider, system, case, FAST, CallContext(case_id=case.id), spec)  # type: ignore[arg-type]
        finally:
            await provider.aclose()

    return asyncio.run(go())


RULES = [
    {
        "tool": "lookup_order",
        "args": {"order_id": "42"},
        "result": {"status": "lost", "total": 9.5},
    },
    {"tool": "issue_refund", "result": "refund R-1 issued"},
]


@pytest.mark.parametrize("wire", ["anthropic", "openai"])
def test_multi_step_conversation_on_both_wires(server: ScriptedServer, wire: str) -> None:
    completion, requests = talk(server, wire, make_case("refund", tool_results=RULES))
    traj = trajectory_of(completion)
    assert traj is not None and requests == 3 and len(server.requests) == 3
    assert completion.text == traj.final == "Refunded."
    assert [len(t.tool_calls) for t in traj.turns] == [1, 2, 0]
    assert traj.turns[0].text == "Let me check."
    calls = traj.calls()
    assert [(c.name, c.arguments) for c in calls] == [
        ("lookup_order", {"order_id": "42"}),
        ("issue_refund", {"order_id": "42", "amount": 9.5}),
        ("lookup_order", {"order_id": "43"}),
    ]
    assert [(c.source, c.rule, c.is_error) for c in calls] == [
        ("case", 0, False),
        ("case", 1, False),
        ("unmatched", None, True),
    ]
    assert calls[0].result == {"status": "lost", "total": 9.5}
    assert "no result for lookup_order" in calls[2].result["error"]
    # usage per turn, summed on the completion; latency per turn
    assert completion.input_tokens == sum(t.input_tokens for t in traj.turns) > 0
    assert completion.output_tokens == sum(t.output_tokens for t in traj.turns) > 0
    assert all(t.latency_ms is not None and t.latency_ms > 0 for t in traj.turns)
    assert not traj.max_turns_reached
    # what went over the wire: the third request carries both earlier turns and their results
    body = server.requests[2].body
    if wire == "anthropic":
        assert [t["name"] for t in body["tools"]] == ["lookup_order", "issue_refund"]
        assert body["tools"][0]["input_schema"]["required"] == ["order_id"]
        assistant = [m for m in body["messages"] if m["role"] == "assistant"]
        assert [b["type"] for b in assistant[0]["content"]] == ["text", "tool_use"]
        results = body["messages"][-1]["content"]
        assert [b["type"] for b in results] == ["tool_result", "tool_result"]
        assert results[0]["tool_use_id"] == assistant[1]["content"][0]["id"]
        assert results[0]["content"] == "refund R-1 issued"
        assert results[1]["is_error"] is True
        assert body["system"] == "You are an agent."
    else:
        assert body["tools"][0] == {"type": "function", "function": SHOP[0]}
        assistant = [m for m in body["messages"] if m["role"] == "assistant"]
        call = assistant[1]["tool_calls"][0]
        assert json.loads(call["function"]["arguments"]) == {"order_id": "42", "amount": 9.5}
        tools = [m for m in body["messages"] if m["role"] == "tool"]
        assert [m["tool_call_id"] for m in tools[1:]] == [
            c["id"] for c in assistant[1]["tool_calls"]
        ]
        assert json.loads(tools[0]["content"]) == {"status": "lost", "total": 9.5}


@pytest.mark.parametrize("wire", ["anthropic", "openai"])
def test_max_turns_reached_is_recorded(server: ScriptedServer, wire: str) -> None:
    completion, requests = talk(server, wire, make_case("loop", max_turns=3, tool_results=RULES))
    traj = trajectory_of(completion)
    assert traj is not None and requests == 3
    assert traj.max_turns_reached and traj.max_turns == 3 and len(traj.calls()) == 3
    assert completion.text == ""


def test_arguments_that_are_not_json_are_kept_raw(server: ScriptedServer) -> None:
    completion, _ = talk(server, "openai", make_case("badjson", tool_results=RULES))
    traj = trajectory_of(completion)
    assert traj is not None and traj.calls()[0].arguments == "{oops"
    assert traj.calls()[0].source == "unmatched"  # no rule matches a non-object


@pytest.mark.parametrize("wire", ["anthropic", "openai"])
def test_provider_error_mid_conversation_counts_every_request(
    server: ScriptedServer, wire: str
) -> None:
    with pytest.raises(ProviderError) as info:
        talk(server, wire, make_case("flaky", tool_results=RULES))
    assert info.value.attempts == 1 + 3  # turn 1, then three tries of turn 2
    assert "(conversation turn 2)" in info.value.message
    assert info.value.kind == "server" and info.value.status == 500
    partial = info.value.trajectory  # type: ignore[attr-defined]
    assert [c.name for c in partial.calls()] == ["lookup_order"]  # how far it got


def test_an_auth_failure_mid_conversation_stays_an_auth_error() -> None:
    from evalkit.base.exceptions import AuthError

    with (
        ScriptedServer(
            {"responses": [{"when": {"turn": 1}, "text": "x", "fault": {"status": 401}}]}
        ) as denying,
        pytest.raises(AuthError),
    ):
        talk(denying, "anthropic", make_case("any", tool_results=RULES))


RUNNER = """\
import asyncio

import datetime

def run(name, arguments):
    if name == "issue_refund":
        raise RuntimeError("payments are down")
    return {"looked_up": arguments["order_id"], "on": datetime.date(2026, 12, 3)}

async def run_async(name, arguments):
    await asyncio.sleep(0)
    return f"{name} ok"
"""


@pytest.mark.parametrize("fn", ["run", "run_async"])
def test_tool_runner_answers_what_the_case_does_not(
    server: ScriptedServer, tmp_path: Path, fn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / f"shop_tools_{fn}.py").write_text(RUNNER)
    monkeypatch.syspath_prepend(str(tmp_path))
    rules = [{"tool": "lookup_order", "args": {"order_id": "42"}, "result": "from the case"}]
    completion, _ = talk(
        server,
        "anthropic",
        make_case("refund", tool_results=rules),
        runner=f"shop_tools_{fn}:{fn}",
        root=tmp_path,
    )
    calls = trajectory_of(completion).calls()  # type: ignore[union-attr]
    assert [c.source for c in calls] == (
        ["case", "error", "runner"] if fn == "run" else ["case", "runner", "runner"]
    )
    assert calls[0].result == "from the case"
    if fn == "run":
        assert calls[1].is_error and calls[1].result == {"error": "RuntimeError: payments are down"}
        assert calls[2].result == {"looked_up": "43", "on": "2026-12-03"}  # JSON, not a date
    else:
        assert calls[1].result == "issue_refund ok"
    sys.modules.pop(f"shop_tools_{fn}", None)


def test_python_target_tool_calls_and_its_own_trajectory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from evalkit.execution.provider.python import PythonProvider

    (tmp_path / "agent_py.py").write_text(
        "def answer(messages, tools):\n"
        "    results = [m for m in messages if m['role'] == 'tool']\n"
        "    if not results:\n"
        "        return {'text': '', 'tool_calls': [\n"
        "            {'name': 'lookup_order', 'arguments': {'order_id': '42'}},\n"
        "            {'name': 'issue_refund', 'arguments': {}, 'result': 'done myself'}]}\n"
        "    seen = results[0]['content']\n"
        "    return {'text': f'saw {seen} with {len(tools)} tools'}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = TargetSpec(provider="python", callable="agent_py:answer", project_dir=str(tmp_path))
    case = make_case("py", tool_results=[{"tool": "lookup_order", "result": "lost"}])
    completion, requests = asyncio.run(
        converse(PythonProvider(spec), [], case, FAST, CallContext(case_id="py"), spec)
    )
    traj = trajectory_of(completion)
    assert traj is not None and requests == 2
    assert completion.text == "saw lost with 2 tools"
    assert [(c.name, c.source, c.result) for c in traj.calls()] == [
        ("lookup_order", "case", "lost"),
        ("issue_refund", "system", "done myself"),
    ]
    sys.modules.pop("agent_py", None)


def test_trajectory_json_is_what_the_cache_replays(server: ScriptedServer) -> None:
    from dataclasses import asdict

    completion, _ = talk(server, "anthropic", make_case("refund", tool_results=RULES))
    replayed = Completion(**json.loads(json.dumps(asdict(completion))))
    assert trajectory_of(replayed) == trajectory_of(completion)
    assert isinstance(trajectory_of(replayed), Trajectory)


def test_the_error_record_keeps_the_turns_that_finished(
    server: ScriptedServer, tmp_path: Path
) -> None:
    from evalkit.execution.cache import ResponseCache
    from evalkit.execution.generate import generate
    from evalkit.model.config import PreparedCase
    from evalkit.model.record import CaseRecord

    spec = TargetSpec(provider="scripted", model="m", base_url=server.url, timeout=5)
    case = make_case("flaky", tool_results=RULES)
    cache = ResponseCache(tmp_path / "cache")

    async def go() -> object:
        provider = ScriptedProvider(spec)
        try:
            pc = PreparedCase(case=case, messages=[], checks=[])
            ctx = CallContext(case_id=case.id)
            return await generate(provider, FAST, cache, "k", pc, 0, ctx, target=spec)
        finally:
            await provider.aclose()

    record = asyncio.run(go())
    cache.close()
    assert isinstance(record, CaseRecord) and record.outcome.value == "error"
    assert record.attempts == 4 and record.error is not None
    assert record.error.message.endswith("(conversation turn 2)")
    assert record.trajectory is not None
    assert [c.name for c in record.trajectory.calls()] == ["lookup_order"]
