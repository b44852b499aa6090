"""``evalkit show``'s single-case view: every part of the drill-down, terminal-safe."""

from __future__ import annotations

import json

from evalkit.model.outcome import CheckResult, Outcome
from evalkit.model.record import CaseRecord, ErrorInfo, JudgeVerdict, Usage
from evalkit.report.case_view import MAX_TEXT, case_view, message_text
from tests.hostile import HOSTILE, assert_not_whole, assert_terminal_safe


def _rec(text: str, repeat: int, outcome: Outcome) -> CaseRecord:
    return CaseRecord(
        case_id=f"id {text[:30]}",
        repeat=repeat,
        tags=[text[:20]],
        vars={"q": text},
        prompt=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}],
        expected=text,
        outcome=outcome,
        output=text,
        checks=[CheckResult(name="contains", outcome=outcome, reason=f"no {text!r}")],
        judges=[
            JudgeVerdict(
                name="tone",
                version="1",
                outcome=outcome,
                score=0.5,
                verdict=text,
                reasoning=text,
                error=ErrorInfo(kind="parse", message=text),
            )
        ],
        usage=Usage(input_tokens=11, output_tokens=7),
        cost_usd=0.0123,
        latency_ms=42.4,
        finish_reason="max_tokens",
        truncated=True,
        attempts=2,
    )


def test_every_part_of_the_case_is_shown_for_each_repeat() -> None:
    view = case_view([_rec("hello", 1, Outcome.FAIL), _rec("hello", 0, Outcome.PASS)])
    assert view.index("repeat 0: PASS") < view.index("repeat 1: FAIL")
    for part in (
        "case id hello",
        "── variables",
        "── prompt, exactly as sent",
        "[system]",
        "Be brief.",
        "── expected",
        "check contains: fail: no 'hello'",
        "judge tone: fail (score 0.5), verdict hello",
        "error parse: hello",
        "tokens 11 in / 7 out · cost $0.0123 · latency 42 ms · finish max_tokens "
        "(truncated at the token limit) · attempts 2",
    ):
        assert part in view, part


def test_old_records_without_a_prompt_say_so() -> None:
    view = case_view([CaseRecord(case_id="old", outcome=Outcome.PASS, output="ok")])
    assert "prompt: not stored" in view and "── output" in view


def test_hostile_corpus_is_terminal_safe_and_long_text_cut() -> None:
    for name, text in HOSTILE.items():
        view = case_view([_rec(text, 0, Outcome.FAIL)])
        assert_terminal_safe(view, name)
        assert_not_whole(view, name)
    view = case_view([_rec(HOSTILE["long"], 0, Outcome.FAIL)])
    assert f"({len(HOSTILE['long']) - MAX_TEXT} more characters)" in view


def test_a_message_shows_every_field_that_was_sent() -> None:
    assert message_text({"role": "user", "content": "hi"}) == "hi"
    tool_turn = {"role": "assistant", "content": None, "tool_calls": [{"name": "lookup"}]}
    assert json.loads(message_text(tool_turn)) == {"tool_calls": [{"name": "lookup"}]}
    blocks = {"role": "user", "content": [{"type": "text", "text": "x"}], "name": "n"}
    first, _, rest = message_text(blocks).partition("]\n")
    assert json.loads(first + "]") == [{"type": "text", "text": "x"}]
    assert json.loads(rest) == {"name": "n"}
