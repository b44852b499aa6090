"""Rate-limit budget headers (evalkit.execution.budget): both providers' names and reset
formats, read robustly; the formats checked against the scripted server's writer too."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from evalkit.execution.budget import (
    MAX_RESET_S,
    Budget,
    budget_extra,
    budget_of_extra,
    read_budget,
    reset_seconds,
)
from evalkit.scripted.ratelimit import reset_header

NOW = datetime(2026, 12, 3, 18, 0, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("1s", 1.0),  # OpenAI's documented examples
        ("12ms", 0.012),
        ("20ms", 0.02),
        ("1m0s", 60.0),
        ("7.66s", 7.66),  # an OpenAI-compatible server's (Groq's) token reset
        ("1m1.25s", None),  # past MAX_RESET_S: not a per-minute window's
        ("6m0s", None),
        ("2m59.56s", None),
        ("1h", None),
        ("0.5", 0.5),  # bare seconds
        ("2026-12-03T18:00:02Z", 2.0),  # Anthropic's RFC 3339
        ("2026-12-03T18:00:02.250Z", 2.25),
        ("2026-12-03T19:00:30+01:00", 30.0),  # another offset, same instant + 30 s
        ("2026-12-03T18:00:02", 2.0),  # no offset: read as UTC
        ("2026-12-03T17:59:59Z", None),  # in the past: the window already reset
        ("2026-12-03T18:05:00Z", None),  # too far
        ("0s", None),  # now: nothing to wait for
    ],
)
def test_reset_formats(value: str, seconds: float | None) -> None:
    got = reset_seconds(value, NOW)
    assert got == (None if seconds is None else pytest.approx(seconds))


@pytest.mark.parametrize(
    "garbled",
    [None, "", "soon", "1x", "-1s", "s", "ms1", "nan", "inf", "1e999", "2026-13-45T99:00:00Z"],
)
def test_a_garbled_reset_is_none_never_an_error(garbled: str | None) -> None:
    assert reset_seconds(garbled, NOW) is None


@pytest.mark.parametrize("seconds", [0.001, 0.02, 0.5, 0.999, 1.5, 12.25, 59.0])
@pytest.mark.parametrize("wire", ["anthropic", "openai"])
def test_reads_what_the_scripted_server_writes(wire: str, seconds: float) -> None:
    written = reset_header(wire, seconds, NOW)
    # both written to the millisecond, rounded up: never earlier than the reset
    got = reset_seconds(written, NOW)
    assert got is not None and seconds - 1e-6 <= got <= seconds + 0.0011


def test_the_cap_is_a_minute() -> None:
    assert MAX_RESET_S == 60.0
    assert reset_seconds("60s", NOW) == 60.0 and reset_seconds("60.001s", NOW) is None


def anthropic(**budgets: tuple[float, float, str]) -> dict[str, str]:
    out = {}
    for what, (left, cap, reset) in budgets.items():
        name = f"anthropic-ratelimit-{what.replace('_', '-')}"
        out |= {f"{name}-remaining": str(left), f"{name}-limit": str(cap), f"{name}-reset": reset}
    return out


def at(seconds: float) -> str:
    return reset_header("anthropic", seconds, datetime.now(UTC).timestamp())


def test_read_budget_both_providers() -> None:
    assert read_budget(None) is None and read_budget({"server": "x"}) is None
    budget = read_budget(anthropic(requests=(40, 50, at(20)), tokens=(1000, 100000, at(30))))
    assert budget is not None
    assert budget.left == pytest.approx(0.01) and budget.requests == 40
    assert budget.requests_reset == pytest.approx(20, abs=0.05)
    assert budget.spent_reset == pytest.approx(30, abs=0.05)  # the tokens are nearly spent
    openai = {
        "X-RateLimit-Remaining-Requests": "9",  # any case
        "x-ratelimit-limit-requests": "10",
        "x-ratelimit-reset-requests": "120ms",
        "x-ratelimit-remaining-tokens": "100",
        "x-ratelimit-limit-tokens": "1000",
        "x-ratelimit-reset-tokens": "garbled",
    }
    assert read_budget(openai) == Budget(0.1, 9.0, pytest.approx(0.12), None)


def test_the_latest_reset_of_the_nearly_spent_budgets() -> None:
    headers = anthropic(
        requests=(0, 50, at(5)),
        input_tokens=(10, 1000, at(40)),  # 1%: nearly spent too, and later
        output_tokens=(900, 1000, at(50)),  # plenty left: its reset is not needed
    )
    budget = read_budget(headers)
    assert budget is not None and budget.left == 0.0 and budget.requests == 0
    assert budget.spent_reset == pytest.approx(40, abs=0.05)
    assert budget.requests_reset == pytest.approx(5, abs=0.05)


def test_no_usable_limit_no_budget() -> None:
    assert (
        read_budget({"x-ratelimit-remaining-requests": "?", "x-ratelimit-limit-requests": "0"})
        is None
    )
    assert read_budget({"x-ratelimit-reset-requests": "1s"}) is None


def test_budget_travels_in_completion_extra() -> None:
    budget = Budget(0.02, 3.0, 0.4, 0.4)
    assert budget_of_extra(budget_extra(budget)) == budget
    assert budget_of_extra(budget_extra(Budget(0.5))) == Budget(0.5)
    assert budget_extra(Budget(0.5)) == {"budget_left": 0.5}  # the key the cache has kept
    assert budget_of_extra({}) is None and budget_of_extra({"budget_left": "x"}) is None
