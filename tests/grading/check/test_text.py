from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evalkit.base.exceptions import InputError
from evalkit.grading.check.text import similarity
from evalkit.model.outcome import Outcome

from .helpers import case, ctx, grade, make

PASS, FAIL, ERROR = Outcome.PASS, Outcome.FAIL, Outcome.ERROR
OUT = "Yes: orders over 7 days late are refundable. Reply within 30 days."


@pytest.mark.parametrize(
    ("raw", "output", "outcome"),
    [
        ({"type": "contains", "value": "refundable"}, OUT, PASS),
        ({"type": "contains", "value": "Refundable"}, OUT, FAIL),
        ({"type": "contains", "value": "Refundable", "ignore_case": True}, OUT, PASS),
        ({"type": "icontains", "value": "REFUNDABLE"}, OUT, PASS),
        ({"type": "icontains", "value": "store credit"}, OUT, FAIL),
        ({"type": "contains-any", "values": ["credit", "refundable"]}, OUT, PASS),
        ({"type": "contains-any", "values": ["credit", "voucher"]}, OUT, FAIL),
        ({"type": "contains-all", "values": ["Yes", "7 days"]}, OUT, PASS),
        ({"type": "contains-all", "values": ["Yes", "credit"]}, OUT, FAIL),
        ({"type": "starts-with", "value": "Yes"}, "  " + OUT, PASS),
        ({"type": "starts-with", "value": "Yes", "strip": False}, "  " + OUT, FAIL),
        ({"type": "starts-with", "value": "yes", "ignore_case": True}, OUT, PASS),
        ({"type": "ends-with", "value": "30 days."}, OUT + "\n", PASS),
        ({"type": "ends-with", "value": "30 days"}, OUT, FAIL),
        ({"type": "equals", "value": "REFUND"}, " REFUND\n", PASS),
        ({"type": "equals", "value": "REFUND"}, "refund", FAIL),
        ({"type": "equals", "value": "REFUND", "ignore_case": True}, "refund", PASS),
        ({"type": "equals", "value": "a b", "collapse_whitespace": True}, "a \n  b", PASS),
        ({"type": "equals", "value": "a b"}, "a \n  b", FAIL),
        ({"type": "equals", "value": "a", "strip": False}, "a\n", FAIL),
        ({"type": "regex", "pattern": r"\b\d+ days\b"}, OUT, PASS),
        ({"type": "regex", "pattern": r"^reply", "flags": "im"}, "x\nReply now", PASS),
        ({"type": "regex", "pattern": r"^reply"}, "x\nReply now", FAIL),
        ({"type": "regex", "pattern": r"\d{3}"}, OUT, FAIL),
        ({"type": "length", "max": 12, "unit": "words"}, OUT, PASS),
        ({"type": "length", "max": 5, "unit": "words"}, OUT, FAIL),
        ({"type": "length", "min": 2, "unit": "lines"}, "one\ntwo", PASS),
        ({"type": "length", "min": 3, "unit": "lines"}, "one\ntwo", FAIL),
        ({"type": "length", "min": 1, "max": 3}, "abc", PASS),
        ({"type": "length", "max": 2}, "abc", FAIL),
        ({"type": "similar", "value": "refund approved"}, "refund aproved", PASS),
        ({"type": "similar", "value": "refund approved"}, "no refund", FAIL),
        ({"type": "similar", "value": "REFUND", "ignore_case": True}, "refund", PASS),
        ({"type": "rouge-l", "value": "orders over 7 days late are refundable"}, OUT, PASS),
        ({"type": "rouge-l", "value": "gift cards never expire at all"}, OUT, FAIL),
    ],
)
def test_pass_and_fail(raw: dict[str, object], output: str, outcome: Outcome) -> None:
    result = grade(raw, output)
    assert result.outcome is outcome, result.reason
    assert result.reason
    assert result.score is not None and 0 <= result.score <= 1


def test_contains_failure_names_value_and_quotes_nearest_text() -> None:
    result = grade({"type": "contains", "value": "refund"}, "Sure, you can get a refnd today.")
    assert result.outcome is FAIL
    assert "missing 'refund'" in result.reason
    assert "refnd" in result.reason and "% similar" in result.reason


def test_not_contains_failure_quotes_where_it_was_found() -> None:
    result = grade({"type": "not-contains", "value": "As an AI"}, "Well. As an AI model I can't")
    assert result.outcome is FAIL
    assert "at char 6" in result.reason and "As an AI model" in result.reason


def test_contains_all_scores_fraction_and_threshold() -> None:
    raw = {"type": "contains-all", "values": ["a1", "b2", "c3", "d4"]}
    result = grade(raw, "a1 b2 c3")
    assert result.outcome is FAIL and result.score == pytest.approx(0.75)
    assert "d4" in result.reason
    assert grade({**raw, "threshold": 0.7}, "a1 b2 c3").outcome is PASS


def test_equals_reports_first_difference() -> None:
    result = grade({"type": "equals", "value": "refund approved"}, "refund denied")
    assert "first difference at 7" in result.reason


@pytest.mark.parametrize("kind", ["equals", "similar", "rouge-l"])
def test_reference_defaults_to_expected(kind: str) -> None:
    the_case = case(expected="Refund approved for order 1234.")
    assert grade({"type": kind}, "Refund approved for order 1234.", the_case).outcome is PASS
    assert grade({"type": kind}, "Nope, nothing at all here.", the_case).outcome is FAIL


@pytest.mark.parametrize("kind", ["equals", "similar", "rouge-l"])
def test_missing_expected_is_an_error(kind: str) -> None:
    result = grade({"type": kind}, "anything")
    assert result.outcome is ERROR and result.score is None
    assert "no `expected`" in result.reason


def test_non_string_expected_compares_as_json() -> None:
    the_case = case(expected={"status": "ok"})
    assert grade({"type": "equals"}, '{"status": "ok"}', the_case).outcome is PASS


@pytest.mark.parametrize(
    "raw",
    [
        {"type": "contains", "value": "{{ missing_var }}"},
        {"type": "contains-any", "values": ["{{ nope }}"]},
        {"type": "contains-all", "values": ["x", "{{ nope }}"]},
        {"type": "icontains", "value": "{{ nope }}"},
        {"type": "starts-with", "value": "{{ nope }}"},
        {"type": "ends-with", "value": "{{ nope }}"},
        {"type": "equals", "value": "{{ nope }}"},
    ],
)
def test_unrenderable_template_is_an_error(raw: dict[str, object]) -> None:
    result = grade(raw, "text")
    assert result.outcome is ERROR
    assert "nope" in result.reason or "missing_var" in result.reason


def test_templated_values_render_per_case() -> None:
    the_case = case(vars={"name": "Ada"}, expected="Hello Ada")
    assert grade({"type": "contains", "value": "{{ name }}"}, "Hi Ada!", the_case).outcome is PASS
    assert (
        grade({"type": "equals", "value": "{{ expected }}"}, "Hello Ada", the_case).outcome is PASS
    )
    other = case(id="c2", vars={"name": "Bob"})
    check = make({"type": "contains-all", "values": ["Hi", "{{ name }}"]})
    assert check.evaluate(ctx("Hi Ada", the_case)).outcome is PASS
    assert check.evaluate(ctx("Hi Ada", other)).outcome is FAIL


def test_regex_is_not_templated_and_reports_match() -> None:
    result = grade({"type": "regex", "pattern": r"\d{2}"}, "order 42")
    assert result.outcome is PASS and "'42'" in result.reason


def test_rouge_l_errors_on_empty_reference_and_scores_empty_output_zero() -> None:
    assert grade({"type": "rouge-l", "value": "  ..."}, "x").outcome is ERROR
    result = grade({"type": "rouge-l", "value": "a b"}, "")
    assert result.outcome is FAIL and result.score == 0


def test_rouge_l_known_value() -> None:
    # LCS("the cat sat on the mat", "the cat on a mat") = the cat on mat = 4
    result = grade({"type": "rouge-l", "value": "the cat sat on the mat"}, "the cat on a mat")
    precision, recall = 4 / 5, 4 / 6
    assert result.score == pytest.approx(2 * precision * recall / (precision + recall))


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ({"type": "regex", "pattern": "(unclosed"}, "checks.pattern", "invalid regex"),
        ({"type": "regex", "pattern": "x", "flags": "iq"}, "checks.flags", "unknown regex flags"),
        ({"type": "length"}, "checks", "give `min`, `max` or both"),
        ({"type": "length", "min": 5, "max": 2}, "checks", "larger than"),
        ({"type": "length", "max": 5, "unit": "pages"}, "checks.unit", "chars"),
        ({"type": "contains-any", "values": []}, "checks.values", "at least 1"),
        ({"type": "similar", "threshold": 2}, "checks.threshold", "less than or equal"),
    ],
)
def test_bad_parameters_fail_at_load(raw: dict[str, object], field: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        make(raw)
    assert info.value.field == field
    assert info.value.path == "evalkit.yaml" and info.value.line == 7
    assert message in info.value.message


def test_numbers_are_accepted_as_text() -> None:
    assert grade({"type": "contains", "value": 42}, "answer: 42").outcome is PASS


@given(st.text(max_size=40), st.text(max_size=40))
def test_similar_is_symmetric(a: str, b: str) -> None:
    assert similarity(a, b) == pytest.approx(similarity(b, a))
    assert 0.0 <= similarity(a, b) <= 1.0


@given(st.text(max_size=60))
def test_similar_identity_is_one(a: str) -> None:
    assert similarity(a, a) == 1.0
    safe = a.replace("{", "(") or "x"  # braces would be read as a template
    assert grade({"type": "similar", "value": safe}, safe).score == 1.0
