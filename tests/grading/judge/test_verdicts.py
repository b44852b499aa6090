"""Structured verdicts for both wires: parsed, re-asked, exhausted, truncated, rate-limited."""

from __future__ import annotations

import asyncio

import pytest

from evalkit.base.exceptions import AuthError
from evalkit.grading.judge import Judge, judge_target
from evalkit.grading.judge.definition import JudgeModel
from evalkit.grading.judge.reply import refused as _refused
from evalkit.model.outcome import Outcome
from evalkit.model.pricing import load_prices

from .conftest import CASE, FAST, fail_verdict, grade, make_def, pass_verdict


def test_a_verdict_is_parsed(serve, make_judge, wire):
    server = serve({"responses": [{"when": {"purpose": "judge:grounded"}, "json": pass_verdict()}]})
    verdict = grade(make_judge(server), "Yes, refundable (pol-1).", prompt_version="abc123")
    assert verdict.outcome is Outcome.PASS and verdict.verdict is True and verdict.score == 1.0
    assert verdict.reasoning == "supported by pol-1" and verdict.error is None
    assert verdict.requests == 1 and not verdict.cached
    assert verdict.usage.input_tokens > 0 and verdict.cost_usd > 0  # priced as claude-haiku-4-5
    assert verdict.model == "claude-haiku-4-5"
    (request,) = server.requests
    assert request.wire == wire
    assert request.context == {
        "case": "refund",
        "prompt_version": "abc123",
        "prompt_label": "v1",
        "repeat": "0",
        "purpose": "judge:grounded",
    }


def test_a_failing_verdict_is_a_fail(serve, make_judge):
    server = serve({"default": {"json": fail_verdict()}})
    verdict = grade(make_judge(server), "60 days for everyone.")
    assert verdict.outcome is Outcome.FAIL and verdict.score == 0.0


def test_validation_retry_uses_the_valid_answer(serve, make_judge):
    bad = {"reasoning": "hmm", "passed": "perhaps"}
    server = serve(
        {
            "default": {"text": "x"},
            "responses": [
                {
                    "when": {"case": "refund"},
                    "sequence": [{"json": bad}, {"json": fail_verdict("second")}],
                }
            ],
        }
    )
    verdict = grade(make_judge(server), "output")
    assert len(server.requests) == 2
    assert verdict.outcome is Outcome.FAIL and verdict.reasoning == "second"
    assert verdict.requests == 2


def test_exhausted_validation_retries_are_an_error_not_a_verdict(serve, make_judge):
    server = serve({"default": {"text": "(no scripted verdict for this request)"}})
    verdict = grade(make_judge(server, max_validation_retries=1, output="tools"), "output")
    assert verdict.outcome is Outcome.ERROR and verdict.verdict is None and verdict.score is None
    assert verdict.error is not None and verdict.error.kind == "unparseable"
    assert "2 attempt" in verdict.error.message
    assert len(server.requests) == 2 == verdict.requests


def test_a_truncated_verdict_is_an_error(serve, make_judge):
    server = serve({"default": {"json": pass_verdict(), "finish_reason": "length"}})
    verdict = grade(make_judge(server), "output")
    assert verdict.outcome is Outcome.ERROR
    assert verdict.error is not None and verdict.error.kind == "truncated"
    assert len(server.requests) == 1  # instructor does not re-ask a cut-off answer


def test_a_429_is_retried_by_evalkits_policy(serve, make_judge):
    server = serve(
        {
            "default": {"json": pass_verdict()},
            "responses": [
                {
                    "when": {"case": "refund"},
                    "json": pass_verdict(),
                    "fault": {"status": 429, "retry_after_ms": 5, "times": 2},
                },
            ],
        }
    )
    verdict = grade(make_judge(server), "output")
    assert [r.status for r in server.requests] == [429, 429, 200]
    assert verdict.outcome is Outcome.PASS and verdict.requests == 3


def test_a_provider_error_over_budget_is_an_error_with_its_kind(serve, make_judge):
    server = serve(
        {
            "default": {"json": pass_verdict()},
            "responses": [
                {"when": {"case": "refund"}, "fault": {"status": 503}},
            ],
        }
    )
    verdict = grade(make_judge(server), "output")
    assert verdict.outcome is Outcome.ERROR
    assert verdict.error is not None and verdict.error.kind == "unavailable"
    assert len(server.requests) == FAST.max_attempts


def test_likert_passes_at_the_threshold(serve, make_judge):
    server = serve(
        {
            "responses": [
                {"when": {"case": "refund"}, "json": {"reasoning": "ok", "score": 4}},
                {"when": {"case": "other"}, "json": {"reasoning": "meh", "score": 3}},
            ]
        }
    )
    judge = make_judge(server, scale="likert-5", name="quality")
    assert judge.definition.pass_threshold == 4
    high = grade(judge, "output")
    assert (high.outcome, high.verdict, high.score) == (Outcome.PASS, 4, 0.75)
    low = grade(judge, "output", case=CASE.model_copy(update={"id": "other"}))
    assert (low.outcome, low.verdict, low.score) == (Outcome.FAIL, 3, 0.5)


def test_a_missing_api_key_stops_at_prepare(monkeypatch, tmp_path):
    from evalkit.execution.cache import ResponseCache

    monkeypatch.delenv("EVALKIT_NO_SUCH_KEY", raising=False)
    definition = make_def()
    definition.model.api_key_env = "EVALKIT_NO_SUCH_KEY"
    cache = ResponseCache(tmp_path, enabled=False)
    judge = Judge(
        definition, judge_target(definition), cache=cache, prices=load_prices(), policy=FAST
    )
    with pytest.raises(AuthError, match="EVALKIT_NO_SUCH_KEY"):
        asyncio.run(judge.prepare())


def test_refusals_are_recognised_on_both_wires():
    from types import SimpleNamespace as NS

    assert _refused(NS(stop_reason="refusal"))
    message = NS(refusal="I can't help with that", content=None)
    assert _refused(NS(choices=[NS(message=message, finish_reason="stop")]))
    assert not _refused(NS(stop_reason="end_turn"))
    assert not _refused(None)


def test_judge_params_are_sent_as_for_a_target(serve, make_judge, wire):
    """The judge's request params go through its provider, like a target's: Anthropic's
    ``stop`` becomes ``stop_sequences``, params the SDK does not know travel in the body."""
    server = serve({"responses": [{"when": {"purpose": "judge:grounded"}, "json": pass_verdict()}]})
    model = JudgeModel(
        provider=wire, model="m", params={"max_tokens": 256, "stop": "END", "top_k": 3}
    )
    verdict = grade(make_judge(server, make_def(model=model)), "Yes (pol-1).")
    assert verdict.outcome is Outcome.PASS
    body = server.requests[0].body
    assert body["max_tokens"] == 256 and body["top_k"] == 3
    if wire == "anthropic":
        assert body["stop_sequences"] == ["END"] and "stop" not in body
    else:
        assert body["stop"] == "END"
