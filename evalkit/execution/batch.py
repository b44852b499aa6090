"""Provider batch APIs: many requests in one job, answered within 24 h at half price.

:class:`AnthropicBatches` sends requests through Anthropic Message Batches with the official
SDK client of the run's provider (``messages.batches.create`` / ``retrieve`` / ``results``), each
request built exactly as :meth:`SDKProvider.complete` would send it, and turns each result into
a :class:`Completion` or a failure kind (``errored``, ``expired``, ``canceled``). The OpenAI Batch
API (file upload, batch, output file) is not implemented yet.
"""

from __future__ import annotations

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
    if provider == "anthropic" or (provider == "scripted" and wire == "anthropic"):
        return None
    return (
        f"--batch needs an Anthropic target (provider anthropic, or scripted on the anthropic "
        f"wire), not provider {provider!r}: the OpenAI Batch API is not supported yet"
    )


class AnthropicBatches:
    """Message Batches through the run provider's own SDK client."""

    def __init__(self, provider: Provider) -> None:
        sdk = getattr(provider, "delegate", provider)  # a scripted provider wraps a real one
        if not isinstance(sdk, SDKProvider) or sdk.name != "anthropic":
            raise InputError(batch_support(provider.name, "") or "", field="--batch")
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
