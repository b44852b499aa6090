"""Provider batch APIs: many requests in one job, answered within 24 h at half price.

:class:`AnthropicBatches` sends requests through Anthropic Message Batches with the official
SDK client of the run's provider (``messages.batches.create`` / ``retrieve`` / ``results``), each
request built exactly as :meth:`SDKProvider.complete` would send it, and turns each result into
a :class:`Completion` or a failure kind (``errored``, ``expired``, ``canceled``).
:class:`OpenAIBatches` does the same through the OpenAI Batch API: the requests uploaded as a
JSONL file (``files.create``, purpose ``batch``), one batch on ``/v1/chat/completions``, and the
answers read from its output file (failures from its error file). :func:`batch_api` picks the
one the provider's wire speaks.

Each batch carries a client-side token so a batch whose id never reached the run directory (a
kill while ``create`` was in flight) can be found again by listing the provider's batches: the
OpenAI batch has it in its ``metadata``; an Anthropic batch has no metadata, so the token
prefixes every request's custom id and :meth:`AnthropicBatches.candidates` names the batches of
the right size and time, to be confirmed by their results' custom ids.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, TypeVar

from evalkit.base.exceptions import InputError
from evalkit.execution.provider._sdk import SDKProvider
from evalkit.model.provider import Completion, Message, Provider

#: the providers' batch price: half the price of the same request made live
BATCH_DISCOUNT = 0.5
#: requests per batch (Anthropic allows 100,000 or 256 MB; smaller batches end sooner)
BATCH_SIZE = 10_000
#: the OpenAI batch metadata key holding evalkit's client-side token
TOKEN_KEY = "evalkit_token"


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
K = TypeVar("K")
#: how far before the intent's time a found batch may say it was created (clock skew)
_SKEW_S = 300.0
#: how long after the intent's time the create call may have reached the provider
_WINDOW_S = 3600.0


def _in_window(created: float, since: float) -> bool:
    return since - _SKEW_S <= created <= since + _WINDOW_S


def _epoch(value: Any) -> float:
    """A batch's ``created_at`` (a datetime on Anthropic, epoch seconds on OpenAI) in seconds."""
    stamp = getattr(value, "timestamp", None)
    return float(stamp()) if callable(stamp) else float(value)


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


class _Batches:
    """What both wires' batch APIs share: the SDK provider, request bodies, completions."""

    wire = ""

    def __init__(self, sdk: SDKProvider) -> None:
        self._sdk = sdk

    def body(self, messages: list[Message]) -> dict[str, Any]:
        """One request's body, exactly as the live call sends it."""
        return self._sdk.request_body(messages)

    async def replies(self, batch_id: str) -> dict[str, Any]:
        raise NotImplementedError

    async def results(self, batch_id: str) -> dict[str, Outcome]:
        """Every request's outcome by custom id (the batch must have ended)."""
        return self.completions(await self.replies(batch_id))

    def completions(self, replies: dict[K, Any]) -> dict[K, Outcome]:
        """Replies as :class:`Completion` (marked ``batch``); failure kinds stay as they are."""
        out: dict[K, Outcome] = {}
        for custom_id, reply in replies.items():
            if isinstance(reply, str):
                out[custom_id] = reply
                continue
            completion = self._sdk.completion_of(reply)
            completion.extra["batch"] = True
            out[custom_id] = completion
        return out


class AnthropicBatches(_Batches):
    """Message Batches through the run provider's own SDK client."""

    wire = "anthropic"

    async def submit(self, requests: dict[str, dict[str, Any]], token: str) -> str:
        """Create one batch of ``{custom_id: body}``; returns its id. The custom ids carry
        ``token`` (Message Batches have no metadata)."""
        client = self._sdk.client()
        body = [{"custom_id": cid, "params": params} for cid, params in requests.items()]
        try:
            batch = await client.messages.batches.create(requests=body)
        except Exception as exc:
            raise self._sdk.error_of(exc) from exc
        return str(batch.id)

    async def candidates(self, token: str, count: int, since: float) -> list[tuple[str, bool]]:
        """Batches that may be the one created for ``token`` (``count`` requests, created
        near ``since``), newest first; none is certain until its custom ids are read."""
        found: list[tuple[str, bool]] = []
        try:
            async for batch in self._sdk.client().messages.batches.list(limit=100):
                created = _epoch(batch.created_at)
                if created < since - _SKEW_S:
                    break  # newest first: the rest are older still
                counts = batch.request_counts
                total = sum(
                    int(getattr(counts, n, 0))
                    for n in ("processing", "succeeded", "errored", "canceled", "expired")
                )
                if total == count and _in_window(created, since):
                    found.append((str(batch.id), False))
        except Exception as exc:
            raise self._sdk.error_of(exc) from exc
        return found

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

    async def replies(self, batch_id: str) -> dict[str, Any]:
        """Every request's reply (the SDK's ``Message``) or failure kind, by custom id (the
        batch must have ended)."""
        out: dict[str, Any] = {}
        try:
            async for line in await self._sdk.client().messages.batches.results(batch_id):
                result = line.result
                out[line.custom_id] = (
                    result.message if result.type == "succeeded" else str(result.type)
                )
        except Exception as exc:
            raise self._sdk.error_of(exc) from exc
        return out


#: OpenAI batch statuses after which nothing more will be answered
_OPENAI_ENDED = frozenset({"completed", "failed", "expired", "cancelled"})


class OpenAIBatches(_Batches):
    """The OpenAI Batch API through the run provider's own SDK client."""

    wire = "openai"
    endpoint = "/v1/chat/completions"

    async def submit(self, requests: dict[str, dict[str, Any]], token: str) -> str:
        """Upload ``{custom_id: body}`` as a JSONL file and start one batch on it, ``token``
        in its metadata."""
        client = self._sdk.client()
        lines = [
            json.dumps(
                {"custom_id": cid, "method": "POST", "url": self.endpoint, "body": body},
                ensure_ascii=False,
            )
            for cid, body in requests.items()
        ]
        data = ("\n".join(lines) + "\n").encode("utf-8")
        try:
            upload = await client.files.create(
                file=("evalkit-batch.jsonl", data, "application/jsonl"), purpose="batch"
            )
            batch = await client.batches.create(
                input_file_id=upload.id,
                endpoint=self.endpoint,
                completion_window="24h",
                metadata={TOKEN_KEY: token},
            )
        except Exception as exc:
            raise self._sdk.error_of(exc) from exc
        return str(batch.id)

    async def candidates(self, token: str, count: int, since: float) -> list[tuple[str, bool]]:
        """The batch whose metadata carries ``token`` (certain), if the provider has it."""
        try:
            async for batch in self._sdk.client().batches.list(limit=100):
                if (batch.metadata or {}).get(TOKEN_KEY) == token:
                    return [(str(batch.id), True)]
                if _epoch(batch.created_at) < since - _SKEW_S:
                    break  # newest first: the rest are older still
        except Exception as exc:
            raise self._sdk.error_of(exc) from exc
        return []

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

    async def replies(self, batch_id: str) -> dict[str, Any]:
        """Replies (the SDK's ``ChatCompletion``) from the output file, failure kinds from the
        error file, by custom id."""
        from openai.types.chat import ChatCompletion

        client = self._sdk.client()
        out: dict[str, Any] = {}
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
                        out[row["custom_id"]] = ChatCompletion.model_validate(response["body"])
                    else:
                        expired = (row.get("error") or {}).get("code") == "batch_expired"
                        out[row["custom_id"]] = "expired" if expired else "errored"
        except Exception as exc:
            raise self._sdk.error_of(exc) from exc
        return out
