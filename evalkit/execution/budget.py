"""What a reply's rate-limit headers say of the budget: how much is left and when it resets.

Both providers send, on every answer, a remaining / limit pair per budget and when it resets:

* Anthropic (https://docs.anthropic.com/en/api/rate-limits, "Response headers"):
  ``anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{remaining,limit}`` and
  ``...-reset``, "the time when the rate limit will be fully replenished, provided in RFC 3339
  format" (``2025-01-15T14:24:00Z``). Its budgets are token buckets, replenished continuously;
  the reset is when the bucket is full again.
* OpenAI (https://platform.openai.com/docs/guides/rate-limits, "Rate limits in headers"):
  ``x-ratelimit-{remaining,limit}-{requests,tokens}`` and ``x-ratelimit-reset-{requests,tokens}``,
  "the time until the rate limit ... resets to its initial state" as a duration (``1s``,
  ``6m0s``, ``12ms``; OpenAI-compatible servers send ``2m59.56s`` and the like).

A reset is only used when it is usable: parsed (a garbled or absent header gives none, never
an error), in the future, and at most :data:`MAX_RESET_S` away. The budgets the adaptive
limiter acts on are per minute, so a reset further out is a daily budget (Groq sends its
requests-per-day reset in the same header), or the client's clock and the server's disagree
(Anthropic's reset is a wall-clock time): waiting for it could stall a run for hours, so it is
ignored and the limiter falls back on cutting concurrency and on the 429s' ``retry-after``.
A reset in the past (an answer that arrived after its window ended) is ignored too.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import NamedTuple

#: rate-limit headers with less than this share of the budget left count as congestion
NEARLY_SPENT = 0.05
#: resets further away than this are not a per-minute window's (see the module docstring)
MAX_RESET_S = 60.0

#: (remaining, limit, reset) header names of every budget, both providers; requests first
_ANTHROPIC = [
    tuple(f"anthropic-ratelimit-{what}-{part}" for part in ("remaining", "limit", "reset"))
    for what in ("requests", "tokens", "input-tokens", "output-tokens")
]
_OPENAI = [
    tuple(f"x-ratelimit-{part}-{what}" for part in ("remaining", "limit", "reset"))
    for what in ("requests", "tokens")
]
_BUDGETS = _ANTHROPIC + _OPENAI
_REQUESTS = {_ANTHROPIC[0][0], _OPENAI[0][0]}
_DURATION = re.compile(r"(?:\d+(?:\.\d*)?(?:h|ms|m|s|us|µs|ns))+")
_PART = re.compile(r"(\d+(?:\.\d*)?)(h|ms|m|s|us|µs|ns)")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


class Budget(NamedTuple):
    """A reply's budgets; resets in seconds from when the reply was read."""

    #: the smallest share of any budget left
    left: float
    #: requests left in the requests budget (None when not sent)
    requests: float | None = None
    #: seconds until the requests budget resets (None: not sent, or not usable)
    requests_reset: float | None = None
    #: seconds until the last of the nearly spent budgets resets (None: none nearly spent,
    #: or no usable reset)
    spent_reset: float | None = None


def read_budget(headers: Mapping[str, str] | None) -> Budget | None:
    """The budgets of either provider's headers (None when the server sends none)."""
    if not headers:
        return None
    # one pass over the reply's headers (an HTTP client's mapping scans them all per lookup)
    found = {name.lower(): value for name, value in headers.items() if "ratelimit" in name.lower()}
    if not found:
        return None
    left, requests, requests_reset, spent_reset = None, None, None, None
    now = None
    for remaining, limit, reset in _BUDGETS:
        try:
            rest, cap = max(0.0, float(found[remaining])), float(found[limit])
        except (KeyError, ValueError):
            continue
        if cap <= 0:
            continue
        share = rest / cap
        left = share if left is None else min(left, share)
        is_requests = remaining in _REQUESTS
        if share >= NEARLY_SPENT and not is_requests:
            continue  # its reset is not needed: parse no date
        now = time.time() if now is None else now
        seconds = reset_seconds(found.get(reset), now)
        if is_requests:
            requests, requests_reset = rest, seconds
        if share < NEARLY_SPENT and seconds is not None:
            spent_reset = seconds if spent_reset is None else max(spent_reset, seconds)
    if left is None:
        return None
    return Budget(left, requests, requests_reset, spent_reset)


def budget_left(headers: Mapping[str, str] | None) -> float | None:
    """The smallest share of a rate-limit budget left (None when the server sends none)."""
    budget = read_budget(headers)
    return None if budget is None else budget.left


def reset_seconds(value: str | None, now: float) -> float | None:
    """Seconds from ``now`` (wall clock) until a budget resets, from either format; None when
    absent, garbled, past or too far (see the module docstring)."""
    if not value:
        return None
    value = value.strip()
    try:
        if _DURATION.fullmatch(value):
            seconds = sum(float(n) * _UNIT[unit] for n, unit in _PART.findall(value))
        elif "T" in value or "t" in value:
            at = datetime.fromisoformat(value.replace("z", "Z"))
            if at.tzinfo is None:
                at = at.replace(tzinfo=UTC)  # RFC 3339 always has an offset; UTC if omitted
            seconds = at.timestamp() - now
        else:
            seconds = float(value)  # bare seconds, as some compatible servers send
    except (ValueError, OverflowError):
        return None
    return seconds if 0.0 < seconds <= MAX_RESET_S else None


#: ``Completion.extra`` keys a :class:`Budget` travels under (providers to the limiter)
_EXTRA = ("budget_left", "budget_requests", "budget_requests_reset_s", "budget_spent_reset_s")


def budget_extra(budget: Budget) -> dict[str, float]:
    """A budget as ``Completion.extra`` entries (those known)."""
    return {key: value for key, value in zip(_EXTRA, budget, strict=True) if value is not None}


def budget_of_extra(extra: Mapping[str, object]) -> Budget | None:
    """The budget a provider put in ``Completion.extra`` (None without one)."""
    values = [extra.get(key) for key in _EXTRA]
    if not isinstance(values[0], int | float):
        return None
    numbers = [float(v) if isinstance(v, int | float) else None for v in values]
    return Budget(float(values[0]), *numbers[1:])
