"""The scripted server as a tool-using model: ``tool_calls`` replies and ``turn`` matching."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalkit.base.exceptions import InputError
from evalkit.scripted import ScriptedServer, load_script

from .test_server import post

SCRIPT = {
    "responses": [
        {
            "when": {"turn": 1},
            "text": "checking",
            "tool_calls": [{"name": "lookup", "arguments": {"id": "7"}}, {"name": "ping"}],
        },
        {"when": {"turn": 2}, "tool_calls": [{"name": "lookup", "arguments": "{not json"}]},
        {"when": {"turn": 3}, "text": "done"},
    ]
}
TOOLS = [{"name": "lookup", "input_schema": {"type": "object"}}]


def _messages(assistant_turns: int) -> list[dict[str, object]]:
    out: list[dict[str, object]] = [{"role": "user", "content": "hi"}]
    for _ in range(assistant_turns):
        out += [{"role": "assistant", "content": "x"}, {"role": "user", "content": "y"}]
    return out


def test_anthropic_tool_use_blocks_per_turn() -> None:
    with ScriptedServer(SCRIPT) as server:
        body = {"model": "m", "max_tokens": 10, "tools": TOOLS, "messages": _messages(0)}
        status, reply = post(server, "/v1/messages", body)
        assert status == 200 and reply["stop_reason"] == "tool_use"
        text, first, second = reply["content"]
        assert text == {"type": "text", "text": "checking"}
        assert (first["type"], first["name"], first["input"]) == ("tool_use", "lookup", {"id": "7"})
        assert (second["name"], second["input"]) == ("ping", {})
        assert first["id"] != second["id"]
        status, reply = post(server, "/v1/messages", {**body, "messages": _messages(2)})
        assert reply["content"] == [{"type": "text", "text": "done"}]
        assert reply["stop_reason"] == "end_turn"


def test_openai_tool_calls_per_turn_with_verbatim_string_arguments() -> None:
    with ScriptedServer(SCRIPT) as server:
        body = {"model": "m", "messages": _messages(0)}
        status, reply = post(server, "/v1/chat/completions", body)
        choice = reply["choices"][0]
        assert status == 200 and choice["finish_reason"] == "tool_calls"
        assert choice["message"]["content"] == "checking"
        calls = choice["message"]["tool_calls"]
        assert [c["function"]["name"] for c in calls] == ["lookup", "ping"]
        assert json.loads(calls[0]["function"]["arguments"]) == {"id": "7"}
        status, reply = post(server, "/v1/chat/completions", {**body, "messages": _messages(1)})
        call = reply["choices"][0]["message"]["tool_calls"][0]
        assert call["function"]["arguments"] == "{not json"
        assert reply["choices"][0]["message"]["content"] is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("responses:\n  - {json: {a: 1}, tool_calls: [{name: a}]}\n", "only one of"),
        ("responses:\n  - {when: {turn: 0}, text: x}\n", "greater than or equal to 1"),
        ("responses:\n  - {tool_calls: []}\n", "at least 1"),
        ("responses:\n  - {tool_calls: [{arguments: {}}]}\n", "required"),
        ("default: {tool_calls: [{name: a}], json: 1}\n", "not both"),
    ],
)
def test_bad_tool_call_scripts_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        load_script(path)
    assert message in info.value.message and info.value.line is not None
