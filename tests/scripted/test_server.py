"""The scripted server: script validation, rule matching, wire shapes, instructor compatibility."""

from __future__ import annotations

import asyncio
import http.client
import json
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest
from pydantic import BaseModel

from evalkit.base.exceptions import InputError
from evalkit.scripted import ScriptedServer, load_script


class Verdict(BaseModel):
    reasoning: str
    passed: bool


def post(server, path, body, *, key="test-key", **context):
    """One raw HTTP request; context kwargs become x-evalkit-* headers."""
    headers = {"content-type": "application/json"}
    if key:
        headers["authorization"] = f"Bearer {key}"
    for name, value in context.items():
        headers[f"x-evalkit-{name.replace('_', '-')}"] = quote(str(value), safe="")
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request("POST", path, json.dumps(body), headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def ask(server, text="hello", **context):
    body = {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": text}]}
    status, reply = post(server, "/v1/messages", body, **context)
    return reply["content"][0]["text"] if status == 200 else status


# --- script validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("yaml_text", "where", "message"),
    [
        (
            "responses:\n  - when: {cse: a}\n    text: x\n",
            ":2: responses.0.when.cse",
            "unknown field",
        ),
        ("responses:\n  - when: {case: a}\n", ":2: responses.0", "give one of 'text'"),
        (
            "responses:\n  - text: x\n    json: {a: 1}\n",
            ":2: responses.0",
            "only one of 'text', 'json', 'tool_calls' or 'sequence'",
        ),
        (
            "default: {text: x}\nresponses:\n  - text: x\n    fault: {status: 429, hang: 2}\n",
            ":4: responses.0.fault",
            "exactly one of 'status', 'hang'",
        ),
        (
            "responses:\n  - text: x\n    fault: {hang: 1, retry_after: 2}\n",
            ":3: responses.0.fault",
            "go with 'status'",
        ),
        ("responses:\n  - text: x\n    fault: {status: 200}\n", ":3: responses.0.fault.status", ""),
        ("latency_ms: -5\n", ":1: latency_ms", "greater than or equal to 0"),
        ("responses:\n  - sequence: []\n", ":2: responses.0.sequence", "at least 1 item"),
        ("responses: [\n", ":2", "invalid YAML"),
        ("- just a list\n", ":1", "must be a mapping"),
    ],
)
def test_script_errors_name_file_line_and_field(tmp_path, yaml_text, where, message):
    path = tmp_path / "script.yaml"
    path.write_text(yaml_text)
    with pytest.raises(InputError) as info:
        load_script(path)
    assert str(info.value).startswith(f"{path}{where}")
    assert message in str(info.value)


def test_a_full_script_loads(tmp_path):
    path = tmp_path / "script.yaml"
    path.write_text(
        "latency_ms: 5\n"
        'default: {text: "I don\'t know."}\n'
        "responses:\n"
        "  - when: {case: a, prompt: v2, purpose: target, model: m, contains: refund}\n"
        '    json: {answer: "yes", citations: [policy-3]}\n'
        "    usage: {input_tokens: 120, output_tokens: 30}\n"
        "    latency_ms: 50\n"
        "    finish_reason: length\n"
        "    fault: {status: 429, retry_after_ms: 100, times: 2}\n"
        "  - sequence: [{text: first}, {json: {passed: true}}]\n"
        "  - fault: {drop: true}\n"
    )
    script = load_script(path)
    assert script.responses[0].json_ == {"answer": "yes", "citations": ["policy-3"]}
    assert script.responses[0].fault.times == 2
    assert script.responses[2].fault.label == "drop"


# --- matching -----------------------------------------------------------------------------------

MATCHING = {
    "default": {"text": "default"},
    "responses": [
        {"when": {"case": "a", "prompt": "v2"}, "text": "a on v2"},
        {"when": {"case": "a"}, "text": "a on any prompt"},
        {"when": {"contains": "refund"}, "text": "about refunds"},
        {"when": {"purpose": "judge:strict"}, "text": "strict judge"},
        {"when": {"purpose": "judge"}, "text": "any judge"},
        {"when": {"model": "special"}, "text": "special model"},
        {"when": {"case": "seq"}, "sequence": [{"text": "one"}, {"text": "two"}]},
        {"when": {"case": "flaky"}, "text": "finally", "fault": {"status": 503, "times": 1}},
    ],
}


@pytest.fixture
def matching():
    with ScriptedServer(MATCHING) as server:
        yield server


def test_rules_match_by_case_and_prompt_version_or_label(matching):
    assert ask(matching, case="a", prompt_version="v2") == "a on v2"
    assert ask(matching, case="a", prompt_version="9f3c", prompt_label="v2") == "a on v2"
    assert ask(matching, case="a", prompt_version="9f3c") == "a on any prompt"
    assert ask(matching, case="b") == "default"


def test_rules_match_by_contains_purpose_and_model(matching):
    assert ask(matching, "Can I get a refund?", case="z") == "about refunds"
    assert ask(matching, case="z", purpose="judge:strict") == "strict judge"
    assert ask(matching, case="z", purpose="judge:lenient") == "any judge"
    assert ask(matching, case="z", purpose="target") == "default"
    body = {"model": "special", "messages": [{"role": "user", "content": "hi"}]}
    assert post(matching, "/v1/chat/completions", body)[1]["choices"][0]["message"]["content"] == (
        "special model"
    )


def test_sequences_and_faults_are_counted_per_case(matching):
    assert [ask(matching, case="seq") for _ in range(3)] == ["one", "two", "two"]
    assert ask(matching, case="seq", purpose="judge:x") == "any judge"  # earlier rule wins
    assert ask(matching, case="seq-other") == "default"
    assert [ask(matching, case="flaky") for _ in range(2)] == [503, "finally"]
    assert matching.requests[-2].fault == "status:503" and matching.requests[-2].status == 503


def test_no_match_without_default_is_a_404_in_the_wire_shape():
    with ScriptedServer({"responses": [{"when": {"case": "a"}, "text": "x"}]}) as server:
        status, body = post(server, "/v1/messages", {"model": "m", "messages": []}, case="b")
        assert status == 404 and body["type"] == "error"
        assert body["error"]["type"] == "not_found_error" and "case=b" in body["error"]["message"]
        status, body = post(server, "/chat/completions", {"model": "m", "messages": []})
        assert status == 404 and set(body["error"]) == {"message", "type", "param", "code"}


def test_auth_header_required_and_never_logged(matching):
    status, body = post(matching, "/v1/messages", {"model": "m", "messages": []}, key=None)
    assert status == 401 and body["error"]["type"] == "authentication_error"
    assert ask(matching) == "default"
    assert "test-key" not in repr(matching.requests)
    assert matching.requests[-1].status == 200 and matching.requests[-1].wire == "anthropic"


def test_unknown_endpoint(matching):
    status, body = post(matching, "/v1/embeddings", {"model": "m"})
    assert status == 404 and "no such endpoint" in json.dumps(body)


def test_concurrent_requests_are_not_serialised():
    """50 requests with 200 ms latency at once take about 0.2 s, not 10 s."""
    with ScriptedServer({"latency_ms": 200, "default": {"text": "ok"}}) as server:
        start = time.perf_counter()
        with ThreadPoolExecutor(50) as pool:
            replies = list(pool.map(lambda i: ask(server, case=str(i)), range(50)))
        assert replies == ["ok"] * 50
        assert time.perf_counter() - start < 2.0
        assert server.count() == 50 and server.count(case="7") == 1


# --- structured replies, parsed by instructor -------------------------------------------------

VERDICTS = {
    "responses": [
        {"when": {"case": "good"}, "json": {"reasoning": "grounded in policy-3", "passed": True}},
        {
            "when": {"case": "retry"},
            "sequence": [
                {"json": {"reasoning": "hmm", "passed": "perhaps"}},
                {"json": {"reasoning": "fixed", "passed": False}},
            ],
        },
    ]
}
MESSAGES = [{"role": "user", "content": "Is the answer grounded? Judge."}]


async def _anthropic_verdict(server, case, mode_name):
    import anthropic
    import instructor

    raw = anthropic.AsyncAnthropic(base_url=server.url, api_key="k", max_retries=0)
    client = instructor.from_anthropic(raw, mode=getattr(instructor.Mode, mode_name))
    try:
        return await client.messages.create(
            model="claude-judge",
            max_tokens=256,
            messages=MESSAGES,
            response_model=Verdict,
            max_retries=2,
            extra_headers={"x-evalkit-case": case},
        )
    finally:
        await raw.close()


async def _openai_verdict(server, case, mode_name):
    import instructor
    import openai

    raw = openai.AsyncOpenAI(base_url=server.openai_base_url, api_key="k", max_retries=0)
    client = instructor.from_openai(raw, mode=getattr(instructor.Mode, mode_name))
    try:
        return await client.chat.completions.create(
            model="gpt-judge",
            messages=MESSAGES,
            response_model=Verdict,
            max_retries=2,
            extra_headers={"x-evalkit-case": case},
        )
    finally:
        await raw.close()


@pytest.fixture
def verdicts():
    with ScriptedServer(VERDICTS) as server:
        yield server


def _calls(wire):
    sdk, mode = wire.split(":")
    verdict = _anthropic_verdict if sdk == "anthropic" else _openai_verdict
    return lambda server, case: verdict(server, case, mode)


# instructor 1.17 deprecates ANTHROPIC_TOOLS in favour of TOOLS with from_anthropic; both work
WIRES = ["anthropic:ANTHROPIC_TOOLS", "anthropic:TOOLS", "openai:TOOLS", "openai:JSON_SCHEMA"]


@pytest.mark.filterwarnings("ignore:Mode.ANTHROPIC_TOOLS is deprecated")
@pytest.mark.parametrize("wire", WIRES)
def test_instructor_parses_a_scripted_verdict(verdicts, wire):
    verdict = asyncio.run(_calls(wire)(verdicts, "good"))
    assert isinstance(verdict, Verdict)
    assert verdict.model_dump() == {"reasoning": "grounded in policy-3", "passed": True}
    body = verdicts.requests[0].body
    assert ("tools" in body) == (wire != "openai:JSON_SCHEMA")


@pytest.mark.filterwarnings("ignore:Mode.ANTHROPIC_TOOLS is deprecated")
@pytest.mark.parametrize("wire", WIRES)
def test_instructor_retries_once_after_an_invalid_verdict(verdicts, wire):
    verdict = asyncio.run(_calls(wire)(verdicts, "retry"))
    assert verdict.model_dump() == {"reasoning": "fixed", "passed": False}
    assert verdicts.count(case="retry") == 2
    retry_body = json.dumps(verdicts.requests[1].body)
    assert "perhaps" in retry_body  # instructor echoed the failed attempt back


def test_json_is_text_unless_a_tool_is_requested():
    obj = {"answer": "yes", "citations": ["policy-3"]}
    with ScriptedServer({"default": {"json": obj}}) as server:
        plain = {"model": "m", "messages": [{"role": "user", "content": "q"}]}
        assert json.loads(ask(server)) == obj
        anthropic_tool = {**plain, "tools": [{"name": "Reply", "input_schema": {}}]}
        block = post(server, "/v1/messages", anthropic_tool)[1]["content"][0]
        assert (block["type"], block["name"], block["input"]) == ("tool_use", "Reply", obj)
        openai_tool = {**plain, "tools": [{"type": "function", "function": {"name": "Reply"}}]}
        reply = post(server, "/v1/chat/completions", openai_tool)[1]["choices"][0]
        call = reply["message"]["tool_calls"][0]["function"]
        assert call["name"] == "Reply" and json.loads(call["arguments"]) == obj
        assert reply["finish_reason"] == "tool_calls"


def test_stop_releases_hanging_requests_at_once():
    with ThreadPoolExecutor(1) as pool:
        server = ScriptedServer({"default": {"text": "x"}, "responses": [{"fault": {"hang": 30}}]})
        server.start()
        pending = pool.submit(ask, server)
        while not server.requests:
            time.sleep(0.01)
        start = time.perf_counter()
        server.stop()
        with pytest.raises((ConnectionError, http.client.HTTPException)):
            pending.result(timeout=5)
        assert time.perf_counter() - start < 2
