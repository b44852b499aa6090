"""The scripted server's Anthropic Message Batches, through the real SDK client."""

from __future__ import annotations

import asyncio
from typing import Any

import anthropic
import pytest

from evalkit.scripted import ScriptedServer

SCRIPT = {
    "batch_delay_ms": 300,
    "default": {"text": "ok"},
    "responses": [
        {"when": {"contains": "bad"}, "text": "x", "fault": {"status": 529}},
        {"when": {"contains": "gone"}, "text": "x", "fault": {"drop": True}},
    ],
}


def request(cid: str, text: str) -> dict[str, Any]:
    return {
        "custom_id": cid,
        "params": {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": text}]},
    }


def test_in_progress_then_ended_with_partial_failures() -> None:
    async def go(srv: ScriptedServer) -> tuple[Any, Any, dict[str, Any]]:
        client = anthropic.AsyncAnthropic(base_url=srv.url, api_key="k", max_retries=0)
        try:
            reqs = [request("r0", "hi"), request("r1", "bad"), request("r2", "gone")]
            created = await client.messages.batches.create(requests=reqs)
            await asyncio.sleep(0.4)
            ended = await client.messages.batches.retrieve(created.id)
            results = {
                line.custom_id: line.result
                async for line in await client.messages.batches.results(created.id)
            }
        finally:
            await client.close()
        return created, ended, results

    with ScriptedServer(SCRIPT) as srv:
        created, ended, results = asyncio.run(go(srv))
        assert srv.batches.created == [created.id]
    assert created.processing_status == "in_progress" and created.request_counts.processing == 3
    assert created.results_url is None
    assert ended.processing_status == "ended"
    counts = ended.request_counts
    assert (counts.succeeded, counts.errored, counts.expired, counts.processing) == (1, 1, 1, 0)
    assert results["r0"].type == "succeeded" and results["r0"].message.content[0].text == "ok"
    assert results["r1"].type == "errored" and results["r1"].error.error.type == "overloaded_error"
    assert results["r2"].type == "expired"


def test_bad_batches_are_refused() -> None:
    async def go(srv: ScriptedServer) -> None:
        client = anthropic.AsyncAnthropic(base_url=srv.url, api_key="k", max_retries=0)
        try:
            with pytest.raises(anthropic.BadRequestError):
                await client.messages.batches.create(
                    requests=[request("same", "a"), request("same", "b")]  # type: ignore[list-item]
                )
            with pytest.raises(anthropic.NotFoundError):
                await client.messages.batches.retrieve("msgbatch_nope")
        finally:
            await client.close()

    with ScriptedServer(SCRIPT) as srv:
        asyncio.run(go(srv))
        assert srv.batches.created == []


def test_openai_batch_api_file_batch_output_and_error_files() -> None:
    import json

    import openai

    async def go(srv: ScriptedServer) -> tuple[Any, Any, str, str]:
        client = openai.AsyncOpenAI(base_url=srv.openai_base_url, api_key="k", max_retries=0)
        try:
            lines = [
                json.dumps(
                    {
                        "custom_id": f"r{i}",
                        "method": "POST",
                        "url": "/v1/chat/completions",
                        "body": {"model": "m", "messages": [{"role": "user", "content": t}]},
                    }
                )
                for i, t in enumerate(["hi", "bad", "gone"])
            ]
            upload = await client.files.create(
                file=("in.jsonl", "\n".join(lines).encode(), "application/jsonl"), purpose="batch"
            )
            created = await client.batches.create(
                input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h"
            )
            await asyncio.sleep(0.4)
            ended = await client.batches.retrieve(created.id)
            assert ended.output_file_id and ended.error_file_id
            output = (await client.files.content(ended.output_file_id)).text
            errors = (await client.files.content(ended.error_file_id)).text
        finally:
            await client.close()
        return created, ended, output, errors

    with ScriptedServer(SCRIPT) as srv:
        created, ended, output, errors = asyncio.run(go(srv))
        assert srv.batches.created == [created.id]
    assert created.status == "in_progress" and created.request_counts.total == 3
    assert ended.status == "completed"
    assert (ended.request_counts.completed, ended.request_counts.failed) == (1, 2)
    (answer,) = [json.loads(line) for line in output.splitlines()]
    assert answer["custom_id"] == "r0" and answer["response"]["status_code"] == 200
    assert answer["response"]["body"]["choices"][0]["message"]["content"] == "ok"
    failed = {row["custom_id"]: row for row in map(json.loads, errors.splitlines())}
    assert failed["r1"]["response"]["status_code"] == 529
    assert failed["r2"]["response"] is None and failed["r2"]["error"]["code"] == "batch_expired"


def test_batches_are_listed_newest_first_and_a_create_can_be_held() -> None:
    """The listings `--resume` searches (OpenAI's with the metadata given at create), and
    ``batch_create_delay_ms``: the batch exists before its id is answered."""
    import time

    import openai

    async def go(srv: ScriptedServer) -> tuple[list[Any], list[Any], float]:
        a = anthropic.AsyncAnthropic(base_url=srv.url, api_key="k", max_retries=0)
        o = openai.AsyncOpenAI(base_url=srv.openai_base_url, api_key="k", max_retries=0)
        try:
            started = time.monotonic()
            first = await a.messages.batches.create(requests=[request("r0", "hi")])
            held = time.monotonic() - started
            srv.batches.create_delay_s = 0
            await a.messages.batches.create(requests=[request("r0", "hi"), request("r1", "x")])
            listed = [b async for b in a.messages.batches.list(limit=100)]
            line = '{"custom_id": "c0", "method": "POST", "url": "/v1/chat/completions", '
            line += '"body": {"model": "m", "messages": [{"role": "user", "content": "hi"}]}}\n'
            upload = await o.files.create(file=("b.jsonl", line.encode()), purpose="batch")
            await o.batches.create(
                input_file_id=upload.id,
                endpoint="/v1/chat/completions",
                completion_window="24h",
                metadata={"evalkit_token": "ek1"},
            )
            listed_openai = [b async for b in o.batches.list(limit=100)]
            assert srv.batches.created[0] == first.id
        finally:
            await a.close()
            await o.close()
        return listed, listed_openai, held

    with ScriptedServer({**SCRIPT, "batch_create_delay_ms": 400}) as srv:
        listed, listed_openai, held = asyncio.run(go(srv))
        assert len(srv.batches.bodies) == 1 + 2 + 1  # every request any batch held
    assert held >= 0.4
    sizes = [sum(dict(b.request_counts).values()) for b in listed]
    assert sizes == [2, 1]  # newest first
    (batch,) = listed_openai
    assert batch.metadata == {"evalkit_token": "ek1"} and batch.request_counts.total == 1
