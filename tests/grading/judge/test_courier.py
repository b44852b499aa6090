"""What the judge side of batch mode holds: request names that survive a restart, and
instructor over a create function of our own building the live request."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from evalkit.grading.judge.courier import batch_instructor, request_key
from evalkit.grading.judge.scale.binary import BinaryScale


def test_request_key_names_the_sample_and_its_exact_body() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
    assert request_key("s0", body) == request_key("s0", dict(reversed(body.items())))
    assert request_key("s0", body) != request_key("s1", body)  # two samples, same messages
    reask = {**body, "messages": [*body["messages"], {"role": "user", "content": "again"}]}
    assert request_key("s0", body) != request_key("s0", reask)
    assert len(request_key("s0", body)) == 32


@pytest.mark.parametrize(("wire", "mode"), [("anthropic", "tools"), ("openai", "json_schema")])
def test_batch_instructor_builds_the_request_and_parses_the_reply(wire: str, mode: Any) -> None:
    """The create function receives the request instructor built in the mode (here: the
    forced tool / the response format), and the reply it returns is parsed into a verdict."""
    import anthropic
    import openai
    from anthropic.types import Message
    from openai.types.chat import ChatCompletion

    seen: list[dict[str, Any]] = []
    verdict = '{"reasoning": "fine", "passed": true}'

    async def create(**kwargs: Any) -> Any:
        seen.append(kwargs)
        if wire == "anthropic":
            return Message.model_validate(
                {
                    "id": "msg_1",
                    "type": "message",
                    "role": "assistant",
                    "model": "m",
                    "content": [
                        {
                            "type": "tool_use",
                            "id": "t1",
                            "name": kwargs["tools"][0]["name"],
                            "input": {"reasoning": "fine", "passed": True},
                        }
                    ],
                    "stop_reason": "tool_use",
                    "usage": {"input_tokens": 3, "output_tokens": 4},
                }
            )
        return ChatCompletion.model_validate(
            {
                "id": "c1",
                "object": "chat.completion",
                "created": 0,
                "model": "m",
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": verdict},
                    }
                ],
            }
        )

    async def go() -> Any:
        if wire == "anthropic":
            client: Any = anthropic.AsyncAnthropic(api_key="k", base_url="http://127.0.0.1:9")
        else:
            client = openai.AsyncOpenAI(api_key="k", base_url="http://127.0.0.1:9")
        try:
            judged = batch_instructor(client, wire, mode, create)
            return await judged.create(
                model="m",
                max_tokens=50,
                messages=[{"role": "user", "content": "grade this"}],
                response_model=BinaryScale.verdict_model,
                max_retries=0,
            )
        finally:
            await client.close()

    parsed = asyncio.run(go())
    assert parsed.model_dump()["passed"] is True
    (kwargs,) = seen
    if wire == "anthropic":
        assert kwargs["tool_choice"]["type"] == "tool" and kwargs["tools"]
    else:
        assert kwargs["response_format"]["type"] == "json_schema"
