"""``provider: scripted``: a shared loopback server behind the real SDK providers."""

from __future__ import annotations

import asyncio

import pytest

from evalkit.base.exceptions import InputError
from evalkit.execution.provider import create_provider
from evalkit.execution.provider.scripted import ScriptedProvider
from evalkit.model.provider import CallContext, TargetSpec

SCRIPT = """\
responses:
  - when: {case: refund, prompt: v2}
    text: refund granted
  - when: {case: refund}
    text: refund denied
default: {text: "I don't know."}
"""


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "script.yaml"
    path.write_text(SCRIPT)
    return path


def _spec(script, wire="anthropic") -> TargetSpec:
    return TargetSpec(provider="scripted", script=str(script), wire=wire, timeout=5)


@pytest.mark.parametrize("wire", ["anthropic", "openai"])
def test_answers_per_case_and_prompt_through_the_real_sdk(script, wire):
    provider = create_provider(_spec(script, wire))
    assert isinstance(provider, ScriptedProvider) and provider.server is not None
    server = provider.server
    messages = [{"role": "user", "content": "Can I get a refund?"}]

    async def go():
        try:
            return [
                (await provider.complete(messages, {}, ctx)).text
                for ctx in (
                    CallContext(case_id="refund", prompt_version="ab12", prompt_label="v2"),
                    CallContext(case_id="refund", prompt_version="v1hash"),
                    CallContext(case_id="other"),
                )
            ]
        finally:
            await provider.aclose()

    assert asyncio.run(go()) == ["refund granted", "refund denied", "I don't know."]
    assert server.count(case="refund") == 2
    assert server.requests[0].wire == wire


def test_one_shared_server_per_script_stopped_with_its_last_user(script):
    first, second = ScriptedProvider(_spec(script)), ScriptedProvider(_spec(script, "openai"))
    assert first.server is second.server
    server = first.server
    asyncio.run(first.aclose())
    assert server.port  # still serving the second provider
    asyncio.run(second.aclose())
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.port
    third = ScriptedProvider(_spec(script))
    assert third.server is not server
    asyncio.run(third.aclose())


def test_base_url_reuses_a_running_server(script):
    from evalkit.scripted import ScriptedServer

    with ScriptedServer(script) as server:
        spec = TargetSpec(provider="scripted", base_url=server.url)
        provider = ScriptedProvider(spec)
        assert provider.server is None
        ctx = CallContext(case_id="refund", prompt_label="v2")

        async def go():
            try:
                return await provider.complete([{"role": "user", "content": "?"}], {}, ctx)
            finally:
                await provider.aclose()

        assert asyncio.run(go()).text == "refund granted"
        assert server.count(case="refund") == 1


def test_bad_script_is_an_input_error_with_file_and_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("responses:\n  - when: {case: a}\n    txt: typo\n")
    with pytest.raises(InputError) as info:
        ScriptedProvider(_spec(path))
    assert str(info.value).startswith(f"{path}:3: responses.0.txt: unknown field")


def test_missing_script_is_an_input_error():
    with pytest.raises(InputError, match="needs 'script"):
        ScriptedProvider(TargetSpec(provider="scripted"))
