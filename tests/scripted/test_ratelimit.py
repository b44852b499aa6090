"""The scripted server's ``rate_limit:``: 429 above N requests in flight, in each wire's shape."""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from evalkit.base.exceptions import InputError
from evalkit.scripted import ScriptedServer
from evalkit.scripted.ratelimit import reset_header
from evalkit.scripted.script import load_script

PATHS = {"anthropic": "/v1/messages", "openai": "/v1/chat/completions"}


def post(url: str) -> tuple[int, dict[str, str], Any]:
    body = json.dumps(
        {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    )
    request = urllib.request.Request(
        url,
        data=body.encode(),
        headers={"authorization": "Bearer k", "content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, dict(reply.headers), json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read())


@pytest.mark.parametrize("wire", ["anthropic", "openai"])
def test_429_above_the_limit_with_budget_headers(wire: str) -> None:
    script = {
        "latency_ms": 400,
        "rate_limit": {"max_in_flight": 2, "retry_after_ms": 250, "budget_headers": True},
        "default": {"text": "ok"},
    }
    with ScriptedServer(script) as srv:
        url = srv.url + PATHS[wire]
        results: list[tuple[int, dict[str, str], Any]] = []
        threads = [threading.Thread(target=lambda: results.append(post(url))) for _ in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        after = post(url)  # the first ones are done: in flight again
        logged = [r.status for r in srv.requests]
    statuses = sorted(status for status, _, _ in results)
    assert statuses == [200, 200, 429, 429, 429]
    assert logged.count(429) == 3 and after[0] == 200
    left, cap = (
        ("anthropic-ratelimit-requests-remaining", "anthropic-ratelimit-requests-limit")
        if wire == "anthropic"
        else ("x-ratelimit-remaining-requests", "x-ratelimit-limit-requests")
    )
    refused = [(h, b) for s, h, b in results if s == 429]
    for headers, body in refused:
        headers = {k.lower(): v for k, v in headers.items()}
        assert headers["retry-after-ms"] == "250" and headers[left] == "0" and headers[cap] == "2"
        kind = body["error"]["type"]
        assert kind == ("rate_limit_error" if wire == "anthropic" else "requests")
    admitted = sorted(
        int({k.lower(): v for k, v in h.items()}[left]) for s, h, _ in results if s == 200
    )
    assert admitted == [0, 1]  # the first admitted left one slot, the second none


def test_no_limit_no_headers() -> None:
    with ScriptedServer({"default": {"text": "ok"}, "rate_limit": None}) as srv:
        status, headers, _ = post(srv.url + PATHS["anthropic"])
    assert status == 200
    assert not any("ratelimit" in k.lower() for k in headers)


WINDOW_HEADERS = {
    "anthropic": (
        "anthropic-ratelimit-requests-remaining",
        "anthropic-ratelimit-requests-limit",
        "anthropic-ratelimit-requests-reset",
    ),
    "openai": (
        "x-ratelimit-remaining-requests",
        "x-ratelimit-limit-requests",
        "x-ratelimit-reset-requests",
    ),
}


def seconds_to_reset(wire: str, value: str) -> float:
    """The reset header read independently of evalkit's parser (one format per wire)."""
    if wire == "anthropic":
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", value), value
        return datetime.fromisoformat(value).timestamp() - time.time()
    match = re.fullmatch(r"(\d+)ms", value)
    assert match, value  # the windows here are shorter than a second
    return int(match.group(1)) / 1000


@pytest.mark.parametrize("wire", ["anthropic", "openai"])
def test_per_window_budget_with_the_wires_reset_headers(wire: str) -> None:
    script = {
        "rate_limit": {"per_window": 3, "window_s": 0.8, "budget_headers": True},
        "default": {"text": "ok"},
    }
    left, cap, reset = WINDOW_HEADERS[wire]
    with ScriptedServer(script) as srv:
        url = srv.url + PATHS[wire]
        answers = []
        while True:  # a burst in one window (begun afresh if the first one straddles its end)
            answers.append(post(url))
            if answers[-1][0] == 429:
                answers.append(post(url))
                break
        lowered = [(s, {k.lower(): v for k, v in h.items()}) for s, h, _ in answers]
        (s1, h1), (s2, h2) = lowered[-2:]
        served = lowered[-5:-2]  # the window's three admitted requests, then two refusals
        resets = [seconds_to_reset(wire, h[reset]) for _, h in served]
        wait = seconds_to_reset(wire, h2[reset])
        time.sleep(max(0.0, wait) + 0.05)
        again, after, _ = post(url)
    assert [s for s, _ in served] == [200, 200, 200] and s1 == s2 == 429
    assert [h[left] for _, h in served] == ["2", "1", "0"]
    assert all(h[cap] == "3" for _, h in lowered)
    assert all(-0.05 < r <= 0.8 + 0.05 for r in resets), resets
    assert resets == sorted(resets, reverse=True)  # one window: its end comes nearer
    # refused with the time to the window's end, in whole seconds rounded up
    assert h1["retry-after"] == h2["retry-after"] == "1" and h2[left] == "0"
    assert 0 < wait <= 0.8 + 0.05
    # the next window has a fresh budget
    assert again == 200 and {k.lower(): v for k, v in after.items()}[left] == "2"


def test_per_window_refusal_names_the_window_in_each_wire() -> None:
    script = {"rate_limit": {"per_window": 1, "window_s": 5}, "default": {"text": "ok"}}
    with ScriptedServer(script) as srv:
        first = post(srv.url + PATHS["anthropic"])
        status, headers, body = post(srv.url + PATHS["openai"])
    assert first[0] == 200 and not any("ratelimit" in k.lower() for k in first[1])
    assert status == 429 and body["error"]["type"] == "requests"
    assert "window" in body["error"]["message"]
    assert int({k.lower(): v for k, v in headers.items()}["retry-after"]) in range(1, 6)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.02, "20ms"),
        (0.0001, "1ms"),
        (0.999, "999ms"),
        (1.5, "1.5s"),
        (360, "6m0s"),
        (61.25, "1m1.25s"),
    ],
)
def test_openai_reset_durations(seconds: float, text: str) -> None:
    assert reset_header("openai", seconds, 0.0) == text


def test_anthropic_reset_is_rfc3339() -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, 250_000, tzinfo=UTC).timestamp()
    assert reset_header("anthropic", 0.5, at) == "2026-01-02T03:04:05.750Z"


def test_a_rate_limit_needs_a_limit(tmp_path: Path) -> None:
    path = tmp_path / "script.yaml"
    path.write_text("rate_limit:\n  window_s: 1\ndefault: {text: ok}\n")
    with pytest.raises(InputError, match="per_window"):
        load_script(path)
