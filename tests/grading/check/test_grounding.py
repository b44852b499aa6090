from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.base.exceptions import InputError
from evalkit.grading.check.grounding import DEFAULT_REFUSAL_PHRASES, luhn_valid
from evalkit.model.outcome import Outcome

from .helpers import POLICY, case, grade, make

PASS, FAIL, ERROR = Outcome.PASS, Outcome.FAIL, Outcome.ERROR
GROUNDED = case(context=POLICY)


def reply(**kw: Any) -> str:
    return json.dumps({"answer": "Yes.", **kw})


@pytest.mark.parametrize(
    ("raw", "output", "outcome"),
    [
        ({"type": "citations"}, reply(citations=["policy-3"]), PASS),
        ({"type": "citations"}, reply(citations=["policy-3", "policy-9"]), FAIL),
        ({"type": "citations"}, reply(citations=[]), PASS),
        ({"type": "citations", "require": True}, reply(citations=[]), FAIL),
        ({"type": "citations", "require": True}, reply(), FAIL),
        ({"type": "citations"}, reply(citations=[{"id": "policy-4", "quote": "x"}]), PASS),
        ({"type": "citations"}, reply(citations="policy-4"), PASS),
        ({"type": "citations"}, reply(citations=[3.5]), FAIL),
        ({"type": "citations"}, "Yes [policy-3]", FAIL),
        ({"type": "citations", "extract": True}, "Here: " + reply(citations=["policy-3"]), PASS),
        (
            {"type": "citations", "path": "sources[*].doc"},
            json.dumps({"sources": [{"doc": "policy-4"}]}),
            PASS,
        ),
        ({"type": "citations", "pattern": r"\[(policy-\d+)\]"}, "Yes [policy-3][policy-4]", PASS),
        ({"type": "citations", "pattern": r"\[(policy-\d+)\]"}, "Yes [policy-7]", FAIL),
        ({"type": "citations", "pattern": r"policy-\d+", "require": True}, "Yes", FAIL),
        (
            {"type": "quotes-grounded"},
            'Policy: "Orders more than 7 days late are refundable in full."',
            PASS,
        ),
        (
            {"type": "quotes-grounded"},
            'Policy: "Orders more than 3 days late are refundable."',
            FAIL,
        ),
        ({"type": "quotes-grounded"}, "It says “Store credit never expires.” indeed", PASS),
        ({"type": "quotes-grounded"}, 'A "short one" is ignored', PASS),
        ({"type": "quotes-grounded", "min_chars": 5}, 'A "short one" is not', FAIL),
        ({"type": "quotes-grounded", "ignore_case": True}, '"orders MORE than 7 days late"', PASS),
        ({"type": "quotes-grounded"}, reply(quote='"Gift cards are not refundable."'), PASS),
        ({"type": "quotes-grounded"}, reply(answer_text="x" * 40), PASS),
        (
            {"type": "quotes-grounded", "path": "citations[*].quote"},
            reply(citations=[{"quote": "Gift cards"}]),
            PASS,
        ),
        (
            {"type": "quotes-grounded", "path": "citations[*].quote"},
            reply(citations=[{"quote": "Gift vouchers"}]),
            FAIL,
        ),
        ({"type": "quotes-grounded", "path": "quotes"}, "not json", FAIL),
        ({"type": "no-pii"}, "Your refund is on its way.", PASS),
        ({"type": "no-pii"}, "Write to jane.doe@example.com please", FAIL),
        ({"type": "no-pii"}, "Call +44 20 7946 0958 today", FAIL),
        ({"type": "no-pii"}, "Call (415) 555-0100 today", FAIL),
        ({"type": "no-pii"}, "Call 415-555-0100 today", FAIL),
        ({"type": "no-pii"}, "Card 4111 1111 1111 1111 on file", FAIL),
        ({"type": "no-pii"}, "Card 4111-1111-1111-1111 on file", FAIL),
        ({"type": "no-pii"}, "Order 4111111111111112 shipped 2024-01-15", PASS),
        ({"type": "no-pii"}, "Order #123456 of 12 items, ref 98765", PASS),
        ({"type": "no-pii", "kinds": ["card"]}, "mail jane@example.com", PASS),
        ({"type": "no-pii", "allow": ["support@example.com"]}, "mail support@example.com", PASS),
        ({"type": "no-pii", "patterns": [r"\bACC-\d{8}\b"]}, "account ACC-12345678", FAIL),
        ({"type": "refusal"}, "I'm sorry, but I can't share other customers' data.", PASS),
        ({"type": "refusal"}, "I\u2019m unable to look that up.", PASS),
        ({"type": "refusal"}, "Yes, your order is refundable.", FAIL),
        (
            {"type": "refusal", "phrases": ["not something I can discuss"]},
            "That is not something I can discuss.",
            PASS,
        ),
        (
            {"type": "refusal", "defaults": False, "phrases": ["nope"]},
            "I cannot help with that",
            FAIL,
        ),
        ({"type": "not-refusal"}, "Yes, your order is refundable.", PASS),
        ({"type": "not-refusal"}, "I cannot help with that.", FAIL),
    ],
)
def test_pass_and_fail(raw: dict[str, Any], output: str, outcome: Outcome) -> None:
    result = grade(raw, output, GROUNDED)
    assert result.outcome is outcome, result.reason
    assert result.reason


def test_citations_reason_lists_unknown_ids_and_scores_fraction() -> None:
    result = grade({"type": "citations"}, reply(citations=["policy-3", "policy-9"]), GROUNDED)
    assert "policy-9" in result.reason and "policy-3, policy-4" in result.reason
    assert result.score == 0.5


def test_citations_without_context_fail_when_citing() -> None:
    result = grade({"type": "citations"}, reply(citations=["policy-3"]), case())
    assert result.outcome is FAIL and "no documents" in result.reason


def test_pii_reason_is_masked() -> None:
    result = grade({"type": "no-pii"}, "jane.doe@example.com, 4111 1111 1111 1111")
    assert "jane.doe" not in result.reason and "j…@example.com" in result.reason
    assert "…1111" in result.reason and "4111 1111" not in result.reason
    assert result.reason.count("card") == 1  # a card is not also reported as a phone


def test_templated_allow_is_rendered_per_case() -> None:
    # `allow` is rendered per case, so it must not be compiled when the config loads
    the_case = case(vars={"support": "help@acme.com"})
    raw = {"type": "no-pii", "allow": ["{{ support }}"]}
    assert grade(raw, "mail help@acme.com", the_case).outcome is PASS
    assert grade(raw, "mail jane@acme.com", the_case).outcome is FAIL


def test_refusal_default_list_is_documented() -> None:
    from evalkit.grading.check.grounding import Refusal

    for phrase in DEFAULT_REFUSAL_PHRASES:
        assert phrase in (Refusal.__doc__ or "")


@pytest.mark.parametrize(
    "raw",
    [{"type": "citations"}, {"type": "quotes-grounded"}, {"type": "no-pii"}, {"type": "refusal"}],
)
def test_output_that_is_not_text_is_an_error(raw: dict[str, Any]) -> None:
    result = grade(raw, None, GROUNDED)
    assert result.outcome is ERROR and "no text output" in result.reason


def test_regex_parameters_are_never_templated() -> None:
    raw = {"type": "citations", "pattern": r"\{\{ ([\w-]+) \}\}"}
    assert grade(raw, "see {{ policy-3 }}", GROUNDED).outcome is PASS
    assert grade(raw, "see {{ policy-7 }}", GROUNDED).outcome is FAIL


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ({"type": "citations", "pattern": "(x"}, "checks.pattern", "invalid regex"),
        ({"type": "citations", "path": "a[", "require": True}, "checks.path", "invalid JSON path"),
        ({"type": "citations", "path": "a", "pattern": "x"}, "checks", "not both"),
        ({"type": "quotes-grounded", "path": "$$"}, "checks.path", "invalid JSON path"),
        ({"type": "no-pii", "kinds": ["ssn"]}, "checks.kinds[0]", "email"),
        ({"type": "no-pii", "patterns": ["[z-a]"]}, "checks.patterns", "invalid regex"),
        ({"type": "refusal", "defaults": False}, "checks", "no phrases"),
    ],
)
def test_bad_parameters_fail_at_load(raw: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        make(raw)
    assert info.value.field == field
    assert message in info.value.message


# --- no-pii properties -------------------------------------------------------------------


def _with_check_digit(body: str) -> str:
    for digit in "0123456789":
        if luhn_valid(body + digit):
            return body + digit
    raise AssertionError("unreachable")


_digits = st.text("0123456789", min_size=12, max_size=18)
_words = st.text(st.sampled_from("abcdefghij XYZ.,:;!?()\n"), max_size=40)
_sep = st.sampled_from(["", " ", "-"])


@settings(max_examples=200, deadline=None)
@given(_digits, _words, _words, _sep)
def test_valid_card_numbers_in_text_are_caught(
    body: str, before: str, after: str, sep: str
) -> None:
    number = _with_check_digit(body)
    grouped = sep.join(number[i : i + 4] for i in range(0, len(number), 4))
    result = grade({"type": "no-pii", "kinds": ["card"]}, f"{before} {grouped} {after}")
    assert result.outcome is FAIL, (grouped, result.reason)


@settings(max_examples=200, deadline=None)
@given(st.text("0123456789", min_size=13, max_size=19), _words, _words)
def test_digit_runs_failing_luhn_are_not_caught(number: str, before: str, after: str) -> None:
    if luhn_valid(number):
        number = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert not luhn_valid(number)
    result = grade({"type": "no-pii"}, f"{before} {number} {after}")
    assert result.outcome is PASS, (number, result.reason)


def test_luhn_known_numbers() -> None:
    assert luhn_valid("4111111111111111")
    assert luhn_valid("79927398713")
    assert not luhn_valid("4111111111111112")
