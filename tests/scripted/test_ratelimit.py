"""The scripted server's ``rate_limit:``: 429 above N requests in flight, in each wire's shape."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from typing import Any

import pytest

from evalkit.scripted import ScriptedServer

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
