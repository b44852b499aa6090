from __future__ import annotations

from typing import Any

import pytest

from evalkit.base.exceptions import InputError
from evalkit.grading.check import score_case
from evalkit.model.outcome import CheckResult, Outcome

from .helpers import grade, make

PASS, FAIL, ERROR = Outcome.PASS, Outcome.FAIL, Outcome.ERROR


def r(outcome: Outcome, score: float | None = None, weight: float = 1.0) -> CheckResult:
    if score is None and outcome is not ERROR:
        score = 1.0 if outcome is PASS else 0.0
    return CheckResult(name="c", outcome=outcome, score=score, weight=weight)


@pytest.mark.parametrize(
    ("results", "min_score", "expected"),
    [
        ([], None, (PASS, None)),
        ([r(PASS), r(PASS)], None, (PASS, 1.0)),
        ([r(PASS), r(FAIL)], None, (FAIL, 0.5)),
        ([r(PASS), r(ERROR)], None, (ERROR, 1.0)),
        ([r(FAIL), r(ERROR)], None, (FAIL, 0.0)),
        ([r(PASS, weight=3), r(FAIL)], 0.7, (PASS, 0.75)),
        ([r(PASS), r(FAIL, weight=3)], 0.7, (FAIL, 0.25)),
        ([r(PASS), r(ERROR)], 0.7, (PASS, 1.0)),
        ([r(ERROR), r(ERROR)], 0.5, (ERROR, None)),
        ([], 0.5, (PASS, None)),
        ([r(PASS, 0.6), r(PASS, 0.8)], 0.7, (PASS, 0.7)),
        ([r(PASS, weight=0), r(FAIL, weight=0)], 0.5, (FAIL, None)),
    ],
)
def test_score_case(
    results: list[CheckResult], min_score: float | None, expected: tuple[Outcome, float | None]
) -> None:
    outcome, score = score_case(results, min_score)
    assert outcome is expected[0]
    assert score == (pytest.approx(expected[1]) if expected[1] is not None else None)


GROUP: list[dict[str, Any]] = [
    {"type": "json-valid", "weight": 2},
    {"type": "contains", "value": "refund"},
    {"type": "length", "max": 3, "unit": "words"},
]


def test_all_group() -> None:
    output = '{"answer": "a refund is possible"}'
    result = grade({"type": "all", "checks": GROUP}, output)
    assert result.outcome is FAIL
    assert result.score == pytest.approx(3 / 4)
    assert "2/3 passed" in result.reason and "length fail" in result.reason
    assert result.details is not None and len(result.details["checks"]) == 3
    assert grade({"type": "all", "checks": GROUP, "threshold": 0.7}, output).outcome is PASS
    assert grade({"type": "all", "checks": GROUP[:2]}, output).outcome is PASS
    assert grade({"type": "not-all", "checks": GROUP}, output).outcome is PASS


def test_all_group_errors_only_when_no_fail() -> None:
    checks = [{"type": "contains", "value": "x"}, {"type": "latency", "max_ms": 5}]
    assert grade({"type": "all", "checks": checks}, "x").outcome is ERROR
    assert grade({"type": "all", "checks": checks}, "y").outcome is FAIL
    assert grade({"type": "all", "checks": checks, "threshold": 0.5}, "x").outcome is PASS
    only_error = [{"type": "latency", "max_ms": 5}]
    assert grade({"type": "all", "checks": only_error, "threshold": 0.5}, "x").outcome is ERROR


def test_any_group() -> None:
    checks = [{"type": "refusal"}, {"type": "contains", "value": "refund"}]
    assert grade({"type": "any", "checks": checks}, "a refund").outcome is PASS
    assert grade({"type": "any", "checks": checks}, "I cannot help with that").outcome is PASS
    result = grade({"type": "any", "checks": checks}, "no idea")
    assert result.outcome is FAIL and result.score == 0
    with_error = [{"type": "latency", "max_ms": 5}, {"type": "contains", "value": "refund"}]
    assert grade({"type": "any", "checks": with_error}, "no").outcome is ERROR
    assert grade({"type": "any", "checks": with_error}, "refund").outcome is PASS


def test_nested_groups_and_negated_children() -> None:
    raw = {
        "type": "any",
        "checks": [
            {
                "type": "all",
                "checks": [{"type": "not-contains", "value": "x"}, {"type": "json-valid"}],
            },
            {"type": "refusal"},
        ],
    }
    assert grade(raw, "[1]").outcome is PASS
    assert grade(raw, '["x"]').outcome is FAIL


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (
            {"type": "all", "checks": [{"type": "contains", "value": "a"}, {"type": "nope"}]},
            "checks.checks[1].type",
        ),
        (
            {"type": "any", "checks": [{"type": "regex", "pattern": "("}]},
            "checks.checks[0].pattern",
        ),
        (
            {"type": "all", "checks": [{"type": "all", "checks": [{"type": "length"}]}]},
            "checks.checks[0].checks[0]",
        ),
        ({"type": "all", "checks": []}, "checks.checks"),
        ({"type": "all", "checks": "contains"}, "checks.checks"),
    ],
)
def test_nested_errors_name_the_nested_field(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as info:
        make(raw)
    assert info.value.field == field
    assert info.value.line == 7
