"""The run loop under a provider's rate limit: the adaptive limiter against the scripted
server's ``rate_limit`` (429 above N in flight, or past N requests per window), real SDK
clients on both wires."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from evalkit.execution.provider.retry import RetryPolicy
from evalkit.scripted import ScriptedServer
from tests.api.test_run import cases, run, write_project

PATIENT = RetryPolicy(max_attempts=8, base_delay=0.01, max_delay=0.1)


def serve(latency_ms: int = 20, **rate_limit: Any) -> ScriptedServer:
    return ScriptedServer(
        {"latency_ms": latency_ms, "rate_limit": rate_limit, "default": {"text": "ok fine"}}
    ).start()


def run_limited(
    root: Path, wire: str, n: int, concurrency: int, latency_ms: int, max_in_flight: int
) -> tuple[dict[str, Any], int]:
    """``n`` cases at ``concurrency`` against a server refusing above ``max_in_flight``: the
    run's summary and the 429s the server sent."""
    srv = serve(latency_ms=latency_ms, max_in_flight=max_in_flight)
    try:
        url = srv.url if wire == "anthropic" else srv.openai_base_url
        ids = [f"c{i:03d}" for i in range(n)]
        config = write_project(
            root, url, cases(*ids), concurrency=concurrency, target={"wire": wire}
        )
        outcome = run(config, retry=PATIENT)
        refused = sum(1 for r in srv.requests if r.status == 429)
    finally:
        srv.stop()
    return outcome.summary, refused


@pytest.mark.parametrize("wire", ["anthropic", "openai"])
def test_adapts_to_a_limit_far_below_the_configured_concurrency(tmp_path: Path, wire: str) -> None:
    s, refused = run_limited(tmp_path, wire, 300, 60, latency_ms=20, max_in_flight=10)
    assert s["pass"] == 300 and s["error"] == 0
    assert s["rate_limited"] == refused > 0  # it met the limit, and counted every 429
    # every answer and every refusal is a request; on a loaded machine a few more (a retried
    # timeout or reset connection) may add to them
    assert 300 + refused <= s["requests"] <= 300 + refused + 0.1 * 300
    # a fixed concurrency of 60 against a limit of 10 would have 5/6 of its first wave refused;
    # adapting keeps the refusals to a small share of the requests (a few % on a quiet machine;
    # a CPU-starved client lets more pile up between two answers)
    assert refused / s["requests"] < 0.2, refused


@pytest.mark.parametrize("wire", ["anthropic", "openai"])
def test_settles_under_a_small_limit_instead_of_sawtoothing(tmp_path: Path, wire: str) -> None:
    # 4 in flight at 40 ms: the client's CPU per request is small beside the round trip, so
    # what is measured is the control law. The old AIMD law (cut by a quarter, then one slot
    # per round trip back over the limit) had 14-16% of its requests refused here, on both
    # wires; holding just under the point of the last 429, and probing above it ever more
    # rarely, leaves slow start's opening overshoot and a few probes
    s, refused = run_limited(tmp_path, wire, 240, 40, latency_ms=40, max_in_flight=4)
    assert s["pass"] == 240 and s["rate_limited"] == refused > 0
    assert refused / s["requests"] < 0.10, (refused, s["requests"])


def _refusals(root: Path, **rate_limit: Any) -> list[int]:
    """Where in the server's log of requests the 429s fell."""
    root.mkdir()
    # a slow server: the client's own CPU time per request (large on a loaded machine) stays
    # small beside the round trip, so its count of requests in flight is the server's
    srv = serve(latency_ms=60, **rate_limit)
    try:
        ids = [f"c{i:03d}" for i in range(120)]
        outcome = run(write_project(root, srv.url, cases(*ids), concurrency=40), retry=PATIENT)
        refused = [i for i, r in enumerate(srv.requests) if r.status == 429]
    finally:
        srv.stop()
    assert outcome.summary["pass"] == 120
    assert outcome.summary["rate_limited"] == len(refused)
    return refused


def test_budget_headers_slow_it_down_before_the_limit(tmp_path: Path) -> None:
    # without headers it settles under 6 and, every few round trips (ever fewer), probes 7:
    # refused
    without = _refusals(tmp_path / "plain", max_in_flight=6)
    assert without and max(without) > 30
    # remaining 0 of 6 is "nearly spent": the limiter cuts before the server has to refuse,
    # which spares some of those probes (not all: the server sees fewer in flight than the
    # client counts, so the budget is not always spent when the client holds 6)
    with_headers = _refusals(tmp_path / "headers", max_in_flight=6, budget_headers=True)
    # both open with slow start's overshoot; past it, without headers the plateau's probes
    # are refused (2 in 120 cases: after 4 round trips held, then 8), with headers the cut at
    # "0 left" keeps it from probing: 0 late refusals, at times 1 (4 runs of each, quiet VM)
    late = [i for i in without if i > 20]
    late_with_headers = [i for i in with_headers if i > 20]
    assert len(late) >= 2 and len(late_with_headers) < len(late), (with_headers, without)


def test_retry_after_of_a_429_is_honoured(tmp_path: Path) -> None:
    import time

    srv = serve(max_in_flight=1, retry_after_ms=300)
    try:
        config = write_project(tmp_path, srv.url, cases("a", "b", "c", "d"), concurrency=4)
        started = time.monotonic()
        outcome = run(config, retry=PATIENT)
        elapsed = time.monotonic() - started
    finally:
        srv.stop()
    assert outcome.summary["pass"] == 4
    assert outcome.summary["rate_limited"] >= 1
    assert elapsed >= 0.3  # every request waited out the server's retry-after


def run_windowed(root: Path, wire: str, budget_headers: bool) -> tuple[dict[str, Any], int, float]:
    """120 cases at concurrency 20 against a budget of 30 requests per 0.5 s: the run's
    summary, the 429s the server sent and the run's time."""
    import time

    root.mkdir()
    srv = serve(latency_ms=20, per_window=30, window_s=0.5, budget_headers=budget_headers)
    try:
        url = srv.url if wire == "anthropic" else srv.openai_base_url
        ids = [f"c{i:03d}" for i in range(120)]
        config = write_project(root, url, cases(*ids), concurrency=20, target={"wire": wire})
        started = time.monotonic()
        outcome = run(config, retry=PATIENT)
        elapsed = time.monotonic() - started
        refused = sum(1 for r in srv.requests if r.status == 429)
    finally:
        srv.stop()
    assert outcome.summary["pass"] == 120 and outcome.summary["error"] == 0
    assert outcome.summary["rate_limited"] == refused
    return outcome.summary, refused, elapsed


@pytest.mark.parametrize("wire", ["anthropic", "openai"])
def test_reset_headers_keep_a_window_budget_from_being_overspent(tmp_path: Path, wire: str) -> None:
    # the ideal: 120 cases / 30 per window x 0.5 s = 2.0 s (the last window opens at 1.5 s)
    _, plain, plain_s = run_windowed(tmp_path / "plain", wire, budget_headers=False)
    _, counted, counted_s = run_windowed(tmp_path / "headers", wire, budget_headers=True)
    # 429 + retry-after only: every window's budget is overspent by what is in flight when
    # it runs out (15-22 refusals; with headers, before reset headers were read, 13-23: the
    # 5% rule cut concurrency, which does not stop a fast client). Counting the requests
    # budget down and pausing to the reset: 1-3 (both wires, 3 runs each, a quiet VM)
    # (under a load of two suites at once the plain run, slower, overspends less: 6)
    assert counted <= 8 and plain >= counted + 4, (counted, plain)
    # near the ideal (measured 2.1-2.7 s, 3.5 s under that load; without headers 3.8-5.6 s:
    # each 429's retry-after, whole seconds, outlasts the window), never faster than the
    # budget allows
    assert 1.5 <= counted_s <= 5.0, counted_s
    assert counted_s < plain_s, (counted_s, plain_s)
