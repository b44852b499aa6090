"""Provider batch APIs: many requests in one job, answered within 24 h at half price.

:class:`AnthropicBatches` sends requests through Anthropic Message Batches with the official
SDK client of the run's provider (``messages.batches.create`` / ``retrieve`` / ``results``), each
request built exactly as :meth:`SDKProvider.complete` would send it, and turns each result into
a :class:`Completion` or a failure kind (``errored``, ``expired``, ``canceled``).
:class:`OpenAIBatches` does the same through the OpenAI Batch API: the requests uploaded as a
JSONL file (``files.create``, purpose ``batch``), one batch on ``/v1/chat/completions``, and the
answers read from its output file (failures from its error file). :func:`batch_api` picks the
one the provider's wire speaks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from evalkit.base.exceptions import InputError
from evalkit.execution.provider._sdk import SDKProvider
from evalkit.model.provider import Completion, Message, Provider

#: the providers' batch price: half the price of the same request made live
BATCH_DISCOUNT = 0.5
#: requests per batch (Anthropic allows 100,000 or 256 MB; smaller batches end sooner)
BATCH_SIZE = 10_000


@dataclass
class BatchStatus:
    ended: bool
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def done(self) -> int:
        return sum(v for k, v in self.counts.items() if k != "processing")

    @property
    def total(self) -> int:
        return sum(self.counts.values())


#: one result: the answer, or why there is none (errored, expired, canceled)
Outcome = Completion | str


def batch_support(provider: str, wire: str) -> str | None:
    """Why a target cannot run with ``--batch`` (None: it can)."""
    if provider in ("anthropic", "openai", "scripted"):
        return None
    return (
        f"--batch needs a provider with a batch API (anthropic, openai, or scripted), "
        f"not provider {provider!r}"
    )


def _sdk_of(provider: Provider) -> SDKProvider:
    sdk = getattr(provider, "delegate", provider)  # a scripted provider wraps a real one
    if not isinstance(sdk, SDKProvider):
        raise InputError(batch_support(provider.name, "") or "", field="--batch")
    return sdk


def batch_api(provider: Provider) -> AnthropicBatches | OpenAIBatches:
    """The batch API of the provider's wire."""
    sdk = _sdk_of(provider)
    return AnthropicBatches(sdk) if sdk.name == "anthropic" else OpenAIBatches(sdk)


class AnthropicBatches:
    """Message Batches through the run provider's own SDK client."""

    wire = "anthropic"

    def __init__(self, sdk: SDKProvider) -> None:
        self._sdk = sdk

    async def submit(self, requests: dict[str, list[Message]]) -> str:
        """Create one batch of ``{custom_id: messages}``; returns its id."""
        client = self._sdk.client()
        body = [
            {"custom_id": cid, "params": self._sdk.request_body(m)} for cid, m in requests.items()
        ]
        try:
            batch = await client.messages.batches.create(requests=body)
        except Exception as exc:
            raise self._sdk.error_of(exc) from exc
        return str(batch.id)

    async def status(self, batch_id: str) -> BatchStatus:
        try:
            batch = await self._sdk.client().messages.batches.retrieve(batch_id)
        except Exception as exc:
            raise self._sdk.error_of(exc) from exc
        counts = batch.request_counts
        return BatchStatus(
            ended=batch.processing_status == "ended",
            counts={
                name: int(getattr(counts, name, 0))
                for name in ("processing", "succeeded", "errored", "canceled", "expired")
            },
        )

    async def results(self, batch_id: str) -> dict[str, Outcome]:
        """Every request's outcome by custom id (the batch must have ended)."""
        out: dict[str, Outcome] = {}
        try:
            async for line in await self._sdk.client().messages.batches.results(batch_id):
                result = line.result
                if result.type == "succeeded":
                    completion = self._sdk.completion_of(result.message)
                    completion.extra["batch"] = True
                    out[line.custom_id] = completion
                else:
                    out[line.custom_id] = str(result.type)
        except Exception as exc:
            raise self._sdk.error_of(exc) from exc
        return out


#: OpenAI batch statuses after which nothing more will be answered
_OPENAI_ENDED = frozenset({"completed", "failed", "expired", "cancelled"})


class OpenAIBatches:
    """The OpenAI Batch API through the run provider's own SDK client."""

    wire = "openai"
    endpoint = "/v1/chat/completions"

    def __init__(self, sdk: SDKProvider) -> None:
        self._sdk = sdk

    async def submit(self, requests: dict[str, list[Message]]) -> str:
        """Upload ``{custom_id: messages}`` as a JSONL file and start one batch on it."""
        client = self._sdk.client()
        lines = [
            json.dumps(
                {
                    "custom_id": cid,
                    "method": "POST",
                    "url": self.endpoint,
                    "body": self._sdk.request_body(messages),
                },
                ensure_ascii=False,
            )
            for cid, messages in requests.items()
        ]
        data = ("\n".join(lines) + "\n").encode("utf-8")
        try:
            upload = await client.files.create(
                file=("evalkit-batch.jsonl", data, "application/jsonl"), purpose="batch"
            )
            batch = await client.batches.create(
                input_file_id=upload.id, endpoint=self.endpoint, completion_window="24h"
            )
        except Exception as exc:
            raise self._sdk.error_of(exc) from exc
        return str(batch.id)

    async def status(self, batch_id: str) -> BatchStatus:
        try:
            batch = await self._sdk.client().batches.retrieve(batch_id)
        except Exception as exc:
            raise self._sdk.error_of(exc) from exc
        counts = batch.request_counts
        total = int(counts.total) if counts else 0
        done = int(counts.completed) if counts else 0
        failed = int(counts.failed) if counts else 0
        ended = batch.status in _OPENAI_ENDED
        return BatchStatus(
            ended=ended,
            counts={
                "processing": 0 if ended else max(0, total - done - failed),
                "succeeded": done,
                "errored": failed,
                # an expired or cancelled batch leaves what it did not answer
                "expired": max(0, total - done - failed) if batch.status == "expired" else 0,
                "canceled": max(0, total - done - failed) if batch.status == "cancelled" else 0,
            },
        )

    async def results(self, batch_id: str) -> dict[str, Outcome]:
        """Answers from the output file, failures from the error file (by custom id)."""
        from openai.types.chat import ChatCompletion

        client = self._sdk.client()
        out: dict[str, Outcome] = {}
        try:
            batch = await client.batches.retrieve(batch_id)
            for file_id in (batch.output_file_id, batch.error_file_id):
                if not file_id:
                    continue
                content = await client.files.content(file_id)
                for line in content.text.splitlines():
                    if not line.strip():
                        continue
                    row = json.loads(line)
                    response = row.get("response") or {}
                    if response.get("status_code") == 200:
                        reply = ChatCompletion.model_validate(response["body"])
                        completion = self._sdk.completion_of(reply)
                        completion.extra["batch"] = True
                        out[row["custom_id"]] = completion
                    else:
                        expired = (row.get("error") or {}).get("code") == "batch_expired"
                        out[row["custom_id"]] = "expired" if expired else "errored"
        except Exception as exc:
            raise self._sdk.error_of(exc) from exc
        return out
