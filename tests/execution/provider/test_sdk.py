"""What both SDK providers share (evalkit/execution/provider/_sdk.py): faults mapped to kinds,
retried by evalkit's policy, and never a key in an error; run on both wires."""

from __future__ import annotations

import pytest

from evalkit.base.exceptions import AuthError
from evalkit.execution.provider.anthropic import AnthropicProvider
from evalkit.execution.provider.openai import OpenAIProvider
from evalkit.execution.provider.retry import RetryPolicy
from evalkit.model.provider import TargetSpec

from .conftest import FAST, KEY_ENV, SCRIPT

WIRES = ["anthropic", "openai"]


def _provider(wire: str, url: str, timeout: float = 10.0) -> AnthropicProvider | OpenAIProvider:
    """Context headers on, as the scripted provider sends them, so rules match by case. A short
    ``timeout`` only where a hang is the point: on a loaded machine 0.3 s timed a 400 out once,
    and its retry made 2 attempts of a fault that must take 1."""
    cls = AnthropicProvider if wire == "anthropic" else OpenAIProvider
    spec = TargetSpec(provider=wire, model="m", base_url=url, api_key_env=KEY_ENV, timeout=timeout)
    return cls(spec, send_context_headers=True)


def _url(server, wire: str) -> str:
    return server.url if wire == "anthropic" else server.openai_base_url


@pytest.fixture
def server(serve, api_key):
    return serve(SCRIPT)


@pytest.mark.parametrize("wire", WIRES)
@pytest.mark.parametrize(("case", "wait"), [("rate-limited", 1.0), ("rate-limited-ms", 0.25)])
def test_rate_limit_honours_retry_after_then_succeeds(server, call, fake_sleep, case, wait, wire):
    out = call(_provider(wire, _url(server, wire)), case)
    assert out.error is None
    assert out.completion.text == "after the wait"
    faults = 2 if case == "rate-limited" else 1
    assert out.attempts == faults + 1 and server.count(case=case) == faults + 1
    assert [r.status for r in server.requests] == [429] * faults + [200]
    assert fake_sleep.waits == [wait] * faults


@pytest.mark.parametrize("wire", WIRES)
@pytest.mark.parametrize(
    ("case", "kind", "status", "requests"),
    [
        ("server-error", "server", 500, FAST.max_attempts),
        ("overloaded", "overloaded", 529, FAST.max_attempts),
        ("malformed", "malformed", None, FAST.max_malformed_attempts),
        # openai's aiohttp transport calls a dropped connection a ConnectTimeout; evalkit knows
        ("drop", "connection", None, FAST.max_attempts),
        ("bad-request", "bad_request", 400, 1),
    ],
)
def test_faults_give_up_with_kind_and_attempts(
    server, call, api_key, case, kind, status, requests, wire
):
    out = call(_provider(wire, _url(server, wire)), case)
    assert out.completion is None
    assert out.error.kind == kind and out.error.status == status
    assert out.attempts == requests and server.count(case=case) == requests
    assert api_key not in str(out.error)


@pytest.mark.parametrize("wire", WIRES)
def test_hang_past_timeout_is_a_retryable_timeout(server, call, wire):
    policy = RetryPolicy(max_attempts=2, base_delay=0)
    out = call(_provider(wire, _url(server, wire), timeout=0.3), "hang", policy)
    assert (out.error.kind, out.error.retryable, out.attempts) == ("timeout", True, 2)
    assert server.count(case="hang") == 2

    out = call(_provider(wire, _url(server, wire), timeout=0.3), "hang-once", policy)
    assert out.completion.text == "second try" and server.count(case="hang-once") == 2


@pytest.mark.parametrize("wire", WIRES)
def test_connection_refused(call, closed_port, api_key, wire):
    url = f"http://127.0.0.1:{closed_port}" + ("/v1" if wire == "openai" else "")
    out = call(_provider(wire, url), "ok")
    assert (out.error.kind, out.error.retryable) == ("connection", True)
    assert out.attempts == FAST.max_attempts
    assert api_key not in str(out.error)


@pytest.mark.parametrize("wire", WIRES)
@pytest.mark.parametrize(("case", "status"), [("unauthorized", 401), ("forbidden", 403)])
def test_auth_failure_is_not_retried(server, call, api_key, case, status, wire):
    out = call(_provider(wire, _url(server, wire)), case)
    assert isinstance(out.error, AuthError)
    assert (out.error.kind, out.error.status, out.error.retryable) == ("auth", status, False)
    assert out.attempts == 1 and server.count(case=case) == 1
    assert api_key not in str(out.error) and api_key not in repr(server.requests)
