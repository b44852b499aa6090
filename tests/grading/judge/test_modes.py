"""Judge output modes against the scripted server's compatibility profiles, on both wires.

``auto`` must get verdicts from a server that ignores forced tool use (llama-server), one that
truncates, and one that reports cache tokens; the mode used is on every verdict and in its
version; the fallback happens once per judge, not once per case.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from evalkit.grading.judge.modes import LADDERS, parse_text_verdict
from evalkit.grading.judge.scale import get_scale
from evalkit.model.golden import Case
from evalkit.model.outcome import Outcome
from evalkit.model.provider import CallContext
from evalkit.model.record import JudgeVerdict

from .conftest import fail_verdict, grade, pass_verdict

TAGGED_PASS = "<reasoning>the claim is in pol-1</reasoning>\n<verdict>pass</verdict>"


def _judge_requests(server) -> list[dict]:
    return [r.body for r in server.requests if r.context.get("purpose") == "judge:grounded"]


def _asked_mode(body: dict) -> str:
    """Which output mode a request body was built for (what the server saw)."""
    if body.get("tools"):
        return "tools"
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema" or body.get("output_format"):
        return "json_schema"
    system = body.get("system") or next(
        (m["content"] for m in body["messages"] if m["role"] == "system"), ""
    )
    system = system if isinstance(system, str) else json.dumps(system)
    return "text" if "<verdict>" in system else "json"


def test_auto_uses_tools_where_they_are_honoured(serve, make_judge):
    server = serve({"default": {"json": pass_verdict()}})
    verdict = grade(make_judge(server), "Yes (pol-1).")
    assert verdict.outcome is Outcome.PASS and verdict.output_mode == "tools"
    assert [_asked_mode(b) for b in _judge_requests(server)] == ["tools"]


def test_auto_falls_back_on_llama_server_that_ignores_tool_choice(serve, make_judge, wire):
    server = serve({"profile": "llama-server", "default": {"json": pass_verdict()}})
    judge = make_judge(server)
    verdict = grade(judge, "Yes (pol-1).")
    assert verdict.outcome is Outcome.PASS and verdict.verdict is True
    asked = [_asked_mode(b) for b in _judge_requests(server)]
    # the tool call was ignored (plain JSON text came back): one step down the ladder
    assert asked[0] == "tools" and asked[-1] == LADDERS[wire][1] == verdict.output_mode
    assert verdict.requests == len(asked)  # the failed probe is paid for and counted
    assert verdict.version == judge.version_for(verdict.output_mode) != judge.cache_version


def test_auto_reaches_text_when_the_model_only_writes_prose(serve, make_judge, wire):
    server = serve({"profile": "llama-server", "default": {"text": TAGGED_PASS}})
    verdict = grade(make_judge(server, max_validation_retries=0), "Yes (pol-1).")
    assert verdict.outcome is Outcome.PASS and verdict.output_mode == "text"
    assert verdict.reasoning == "the claim is in pol-1"
    assert [_asked_mode(b) for b in _judge_requests(server)] == [*LADDERS[wire]]


@pytest.mark.parametrize("profile", ["llama-server", "rambling-tools"])
def test_the_fallback_happens_once_per_judge(serve, make_judge, wire, profile):
    server = serve({"profile": profile, "default": {"json": pass_verdict()}})
    judge = make_judge(server)
    cases = [Case(id=f"c{i}", vars={"question": f"q{i}"}) for i in range(6)]

    async def go() -> list[JudgeVerdict]:
        try:
            return list(
                await asyncio.gather(
                    *(judge.grade(c, "out", CallContext(case_id=c.id)) for c in cases)
                )
            )
        finally:
            await judge.aclose()

    verdicts = asyncio.run(go())
    assert all(v.outcome is Outcome.PASS for v in verdicts)
    asked = [_asked_mode(r.body) for r in server.requests]
    assert asked.count("tools") == 1  # probed once, concurrent cases waited for the answer
    assert len(asked) == len(cases) + 1
    assert {v.output_mode for v in verdicts} == {LADDERS[wire][1]}
    assert judge.version == verdicts[0].version


def test_a_wrong_verdict_inside_a_tool_call_is_not_a_reason_to_fall_back(serve, make_judge):
    bad = {"reasoning": "?", "passed": "maybe"}
    server = serve({"default": {"json": bad}})
    verdict = grade(make_judge(server, max_validation_retries=0), "out")
    assert verdict.outcome is Outcome.ERROR and verdict.error.kind == "unparseable"
    assert [_asked_mode(b) for b in _judge_requests(server)] == ["tools"]


@pytest.mark.parametrize("mode", ["tools", "json", "text"])
def test_an_explicit_mode_is_used_as_given(serve, make_judge, mode):
    reply = {"text": TAGGED_PASS} if mode == "text" else {"json": fail_verdict()}
    server = serve({"default": reply})
    verdict = grade(make_judge(server, output=mode), "out")
    assert verdict.output_mode == mode
    assert verdict.outcome is (Outcome.PASS if mode == "text" else Outcome.FAIL)
    assert [_asked_mode(b) for b in _judge_requests(server)] == [mode]


def test_json_schema_mode_sends_the_schema_on_openai(serve, make_judge, wire):
    if wire != "openai":
        pytest.skip("response_format is the OpenAI wire's")
    server = serve({"default": {"json": pass_verdict()}})
    verdict = grade(make_judge(server, output="json_schema"), "out")
    assert verdict.outcome is Outcome.PASS and verdict.output_mode == "json_schema"
    (body,) = _judge_requests(server)
    schema = body["response_format"]["json_schema"]["schema"]
    assert set(schema["properties"]) == {"reasoning", "passed"}


def test_an_explicit_mode_does_not_fall_back(serve, make_judge):
    server = serve({"profile": "llama-server", "default": {"json": pass_verdict()}})
    verdict = grade(make_judge(server, output="tools", max_validation_retries=0), "out")
    assert verdict.outcome is Outcome.ERROR and verdict.error.kind == "unparseable"
    assert len(server.requests) == 1


def test_auto_gets_verdicts_on_a_truncating_server(serve, make_judge):
    # the judge's max_tokens (256) leaves room for its verdict; the profile would cut more
    server = serve({"profile": "truncating", "default": {"json": pass_verdict()}})
    verdict = grade(make_judge(server), "out")
    assert verdict.outcome is Outcome.PASS and verdict.output_mode == "tools"


def test_a_verdict_cut_by_a_truncating_server_is_a_truncated_error(serve, make_judge, wire):
    server = serve({"profile": "truncating", "default": {"json": pass_verdict("x" * 400)}})
    judge = make_judge(server, model=_model({"max_tokens": 20}))
    verdict = grade(judge, "out")
    assert verdict.outcome is Outcome.ERROR and verdict.error.kind == "truncated"
    assert "raise params.max_tokens" in verdict.error.message
    # the profile serves the cut tool call as plain text: no tool call, so one step down; the
    # cut JSON there shows the mode works and max_tokens is too small: no further fallback
    asked = [_asked_mode(b) for b in _judge_requests(server)]
    assert asked == ["tools", LADDERS[wire][1]] and verdict.output_mode == LADDERS[wire][1]
    assert verdict.requests == 2


def test_a_cut_reply_with_a_tool_call_is_truncated_not_a_reason_to_fall_back(serve, make_judge):
    server = serve({"default": {"json": pass_verdict(), "finish_reason": "length"}})
    verdict = grade(make_judge(server), "out")
    assert verdict.outcome is Outcome.ERROR and verdict.error.kind == "truncated"
    assert verdict.output_mode == "tools"
    assert [_asked_mode(b) for b in _judge_requests(server)] == ["tools"]


def test_auto_falls_back_when_the_model_rambles_past_max_tokens_instead_of_the_tool(
    serve, make_judge, wire
):
    # a tiny model on llama-server: no tool call, cut at max_tokens; the next rung answers
    server = serve({"profile": "rambling-tools", "default": {"json": pass_verdict()}})
    judge = make_judge(server)
    verdict = grade(judge, "Yes (pol-1).")
    assert verdict.outcome is Outcome.PASS and verdict.verdict is True
    asked = [_asked_mode(b) for b in _judge_requests(server)]
    assert asked == ["tools", LADDERS[wire][1]] and verdict.output_mode == LADDERS[wire][1]
    assert verdict.requests == 2  # the cut probe is paid for and counted
    assert verdict.version == judge.version_for(verdict.output_mode)


def test_auto_reaches_text_when_tools_ramble_and_the_model_only_writes_prose(
    serve, make_judge, wire
):
    server = serve({"profile": "rambling-tools", "default": {"text": TAGGED_PASS}})
    verdict = grade(make_judge(server, max_validation_retries=0), "Yes (pol-1).")
    assert verdict.outcome is Outcome.PASS and verdict.output_mode == "text"
    assert [_asked_mode(b) for b in _judge_requests(server)] == [*LADDERS[wire]]


def test_a_model_that_rambles_in_every_mode_walks_the_ladder_once(serve, make_judge, wire):
    prose = "Well, let me think about that for a while. " * 8
    server = serve({"default": {"text": prose, "finish_reason": "length"}})
    judge = make_judge(server, max_validation_retries=0)
    first = grade(judge, "out")
    second = grade(judge, "other out")
    for verdict in (first, second):
        assert verdict.outcome is Outcome.ERROR and verdict.error.kind == "truncated"
        assert verdict.output_mode == "text" and "max_tokens" in verdict.error.message
    # bounded: the ladder is walked by the first verdict only, then the last rung is kept
    asked = [_asked_mode(b) for b in _judge_requests(server)]
    assert asked == [*LADDERS[wire], "text"]
    assert first.requests == len(LADDERS[wire]) and second.requests == 1


def test_an_explicit_tools_mode_cut_without_a_tool_call_is_a_truncated_error(serve, make_judge):
    server = serve({"profile": "rambling-tools", "default": {"json": pass_verdict()}})
    verdict = grade(make_judge(server, output="tools"), "out")
    assert verdict.outcome is Outcome.ERROR and verdict.error.kind == "truncated"
    assert verdict.output_mode == "tools" and len(server.requests) == 1


def test_auto_counts_anthropic_cache_tokens(serve, make_judge, wire):
    server = serve({"profile": "anthropic-cache", "default": {"json": pass_verdict()}})
    judge = make_judge(server)
    first = grade(judge, "out")
    second = grade(judge, "other out")
    assert first.outcome is second.outcome is Outcome.PASS
    assert first.usage.cache_read_input_tokens == 0 < second.usage.cache_read_input_tokens
    if wire == "anthropic":  # the first call wrote the system prompt to the cache
        assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    else:  # OpenAI reports cache reads only, inside prompt_tokens
        assert first.usage.cache_creation_input_tokens == 0
    # all input counts: the uncached rest plus what was read from the cache
    assert second.usage.input_tokens > second.usage.cache_read_input_tokens
    # priced: a cache read costs a tenth of fresh input, so the second call is cheaper
    assert second.cost_usd is not None and first.cost_usd is not None
    assert second.cost_usd < first.cost_usd


def test_the_output_mode_is_part_of_the_judge_version(serve, make_judge):
    server = serve({"default": {"json": pass_verdict()}})
    auto, tools = make_judge(server), make_judge(server, output="tools")
    assert auto.cache_version != tools.cache_version
    assert auto.version_for("tools") == tools.version_for("tools") == tools.version
    assert auto.version_for("tools") != auto.version_for("json")


def test_text_verdicts_take_the_last_tag_and_validate_by_scale():
    binary = get_scale("binary")
    text = "The output says <verdict>pass</verdict>, but it is wrong.\n<verdict>FAIL</verdict>"
    assert parse_text_verdict(text, binary)["passed"] is False
    likert = get_scale("likert-5")
    assert parse_text_verdict("<reasoning>ok</reasoning><verdict>4</verdict>", likert) == {
        "reasoning": "ok",
        "score": 4,
    }
    with pytest.raises(ValueError, match="1 to 5"):
        parse_text_verdict("<verdict>9</verdict>", likert)
    with pytest.raises(ValueError, match="no <verdict>"):
        parse_text_verdict("I think it passes.", binary)


def _model(params: dict) -> object:
    from evalkit.grading.judge.definition import JudgeModel

    return JudgeModel(provider="anthropic", model="claude-haiku-4-5", params=params)
