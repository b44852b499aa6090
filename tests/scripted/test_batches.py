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
