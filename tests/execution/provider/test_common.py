"""What real servers send, through both real SDK clients: cache tokens, server errors with
their own message, and keys that local servers do not need
(``evalkit.execution.provider._common``)."""

from __future__ import annotations

import pytest

from evalkit.base.exceptions import AuthError
from evalkit.execution.provider._common import LOCAL_PLACEHOLDER_KEY, is_local, resolve_key
from evalkit.execution.provider.anthropic import AnthropicProvider
from evalkit.execution.provider.openai import OpenAIProvider
from evalkit.model.provider import TargetSpec

from .conftest import KEY_ENV

LLAMA_CONTEXT = "the request exceeds the available context size, try increasing it"


def _provider(wire: str, server, **spec: object):
    url = server.url if wire == "anthropic" else server.openai_base_url
    target = TargetSpec(provider=wire, model="m", base_url=url, timeout=2.0, **spec)  # type: ignore[arg-type]
    cls = AnthropicProvider if wire == "anthropic" else OpenAIProvider
    return cls(target, send_context_headers=True)


@pytest.fixture(params=["anthropic", "openai"])
def wire(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_anthropic_cache_tokens_count_as_input(serve, call, api_key):
    usage = {
        "input_tokens": 15,
        "output_tokens": 4,
        "cache_read_input_tokens": 20,
        "cache_creation_input_tokens": 9,
    }
    server = serve({"default": {"text": "hi", "usage": usage}})
    out = call(_provider("anthropic", server, api_key_env=KEY_ENV), "c")
    c = out.completion
    assert (c.input_tokens, c.output_tokens) == (44, 4)  # not 15
    assert (c.cache_read_tokens, c.cache_write_tokens) == (20, 9)


def test_openai_cached_tokens_are_part_of_prompt_tokens(serve, call, api_key):
    usage = {"input_tokens": 15, "output_tokens": 4, "cache_read_input_tokens": 20}
    server = serve({"default": {"text": "hi", "usage": usage}})
    out = call(_provider("openai", server, api_key_env=KEY_ENV), "c")
    assert (out.completion.input_tokens, out.completion.cache_read_tokens) == (35, 20)


@pytest.mark.parametrize(
    ("fault", "kind", "requests"),
    [
        ({"status": 400, "message": LLAMA_CONTEXT}, "context_length", 1),
        ({"status": 413, "message": "request entity too large"}, "too_large", 1),
        ({"status": 422, "message": "Unprocessable: 'messages' is required"}, "unprocessable", 1),
        ({"status": 503, "message": "Loading model", "retry_after": 0.5}, "unavailable", 4),
    ],
)
def test_server_errors_are_classified_with_the_server_message(
    serve, call, api_key, fake_sleep, wire, fault, kind, requests
):
    server = serve({"default": {"text": "never"}, "responses": [{"fault": fault}]})
    out = call(_provider(wire, server, api_key_env=KEY_ENV), "c")
    assert out.error is not None and out.error.kind == kind
    assert out.error.message == f"HTTP {fault['status']}: {fault['message']}"
    assert len(server.requests) == requests
    if kind == "unavailable":  # the server's retry-after is honoured
        assert fake_sleep.waits == [0.5] * (requests - 1)


def test_a_local_server_needs_no_key_on_either_wire(serve, call, monkeypatch, wire):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    server = serve({"default": {"text": "hello"}})
    out = call(_provider(wire, server), "c")
    assert out.error is None and out.completion.text == "hello"


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:8080", True),
        ("http://localhost:8080/v1", True),
        ("http://192.168.1.20:8080", True),
        ("http://10.0.0.5/v1", True),
        ("http://[::1]:8080", True),
        ("http://llama.local:8080", True),
        ("https://api.anthropic.com", False),
        ("https://8.8.8.8/v1", False),
        (None, False),
    ],
)
def test_is_local(url, local):
    assert is_local(url) is local


def test_resolve_key(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    remote = TargetSpec(provider="anthropic", base_url="https://llm.example.com")
    with pytest.raises(AuthError, match="ANTHROPIC_API_KEY"):
        resolve_key(remote, "ANTHROPIC_API_KEY")
    no_key = TargetSpec(provider="anthropic", base_url="https://llm.example.com", no_api_key=True)
    assert resolve_key(no_key, "ANTHROPIC_API_KEY") == LOCAL_PLACEHOLDER_KEY
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-real")
    local = TargetSpec(provider="anthropic", base_url="http://127.0.0.1:1")
    assert resolve_key(local, "ANTHROPIC_API_KEY") == "sk-real"  # a key given is still used
