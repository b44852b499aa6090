from __future__ import annotations

from typing import Any

import pytest

from evalkit.base.exceptions import InputError
from evalkit.model.outcome import Outcome

from .helpers import grade, make

PASS, FAIL, ERROR = Outcome.PASS, Outcome.FAIL, Outcome.ERROR
MEASURED = {"latency_ms": 850.0, "cost_usd": 0.0012, "input_tokens": 900, "output_tokens": 120}


@pytest.mark.parametrize(
    ("raw", "outcome"),
    [
        ({"type": "latency", "max_ms": 1000}, PASS),
        ({"type": "latency", "max_ms": 850}, PASS),
        ({"type": "latency", "max_ms": 500}, FAIL),
        ({"type": "cost", "max_usd": 0.002}, PASS),
        ({"type": "cost", "max_usd": 0.001}, FAIL),
        ({"type": "tokens", "max_output": 200}, PASS),
        ({"type": "tokens", "max_output": 100}, FAIL),
        ({"type": "tokens", "max_output": 200, "max_input": 800}, FAIL),
        ({"type": "not-latency", "max_ms": 500}, PASS),
    ],
)
def test_budgets(raw: dict[str, Any], outcome: Outcome) -> None:
    result = grade(raw, "out", **MEASURED)
    assert result.outcome is outcome, result.reason


def test_reasons_show_measurement_and_limit() -> None:
    assert grade({"type": "latency", "max_ms": 500}, "x", **MEASURED).reason == "850 ms > 500 ms"
    assert (
        "120 output tokens > 100"
        in grade({"type": "tokens", "max_output": 100}, "x", **MEASURED).reason
    )


@pytest.mark.parametrize(
    "raw",
    [
        {"type": "latency", "max_ms": 10},
        {"type": "cost", "max_usd": 1},
        {"type": "tokens", "max_output": 10},
        {"type": "tokens", "max_input": 10},
        {"type": "not-cost", "max_usd": 1},
    ],
)
def test_missing_measurement_is_an_error(raw: dict[str, Any]) -> None:
    result = grade(raw, "out")
    assert result.outcome is ERROR
    assert "no " in result.reason and "recorded" in result.reason


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"type": "latency"}, "checks.max_ms"),
        ({"type": "latency", "max_ms": 0}, "checks.max_ms"),
        ({"type": "cost", "max_usd": -1}, "checks.max_usd"),
        ({"type": "tokens"}, "checks"),
        ({"type": "tokens", "max_output": "many"}, "checks.max_output"),
    ],
)
def test_bad_parameters_fail_at_load(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as info:
        make(raw)
    assert info.value.field == field
