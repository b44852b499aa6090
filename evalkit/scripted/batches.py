"""Anthropic Message Batches on the scripted server: create, retrieve, results.

``POST /v1/messages/batches`` takes ``{"requests": [{"custom_id", "params"}]}`` and answers every
request at once from the script (rules match on model and ``contains``: a batch request carries
no per-case headers), but shows the batch ``in_progress`` until ``batch_delay_ms`` has passed;
then ``GET /v1/messages/batches/{id}`` says ``ended`` with its request counts and ``results_url``,
and ``GET …/results`` streams one JSON line per request. A rule's fault makes that request
``errored`` (``{drop: true}``: ``expired``), so partial failures are scripted like any other.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from evalkit.scripted import wire as _wire
from evalkit.scripted.script import Answer, Incoming, ReplyFields, Scripter

#: the body of a successful reply to one parsed request
Render = Callable[[_wire.ParsedRequest, ReplyFields], bytes]

_ids = itertools.count(1)


@dataclass
class _Batch:
    id: str
    created: float
    ready_at: float
    results: list[dict[str, Any]] = field(default_factory=list)

    def counts(self, now: float) -> dict[str, int]:
        out = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        if now < self.ready_at:
            out["processing"] = len(self.results)
            return out
        for line in self.results:
            out[line["result"]["type"]] += 1
        return out


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat().replace("+00:00", "Z")


class BatchStore:
    """The batches one scripted server holds (thread-safe)."""

    def __init__(self, scripter: Scripter, delay_ms: float) -> None:
        self._scripter = scripter
        self._delay = delay_ms / 1000
        self._batches: dict[str, _Batch] = {}
        self._lock = threading.Lock()
        #: batches created, in order (tests check nothing was submitted twice)
        self.created: list[str] = []

    def create(
        self, body: dict[str, Any], render: Render, base_url: str
    ) -> tuple[int, dict[str, Any]]:
        requests = body.get("requests")
        if not isinstance(requests, list) or not requests:
            return 400, {"message": "requests must be a non-empty list"}
        now = time.time()
        batch = _Batch(id=f"msgbatch_scripted{next(_ids):06d}", created=now, ready_at=now)
        batch.ready_at = now + self._delay
        seen: set[str] = set()
        for item in requests:
            custom_id = item.get("custom_id") if isinstance(item, dict) else None
            params = item.get("params") if isinstance(item, dict) else None
            if not isinstance(custom_id, str) or not isinstance(params, dict):
                return 400, {"message": "each request needs a custom_id and params"}
            if custom_id in seen:
                return 400, {"message": f"duplicate custom_id {custom_id!r}"}
            seen.add(custom_id)
            batch.results.append({"custom_id": custom_id, "result": self._result(params, render)})
        with self._lock:
            self._batches[batch.id] = batch
            self.created.append(batch.id)
        return 200, self._describe(batch, now, base_url)

    def _result(self, params: dict[str, Any], render: Render) -> dict[str, Any]:
        parsed = _wire.parse_request("anthropic", params)
        answer: Answer = self._scripter.answer(
            Incoming(model=parsed.model, user_text=parsed.user_text)
        )
        fault = answer.fault
        if fault is not None and fault.drop:
            return {"type": "expired"}
        if fault is not None and fault.hang is None and not fault.malformed:
            status = fault.status or 500
            message = fault.message or f"scripted fault {fault.label}"
            return {"type": "errored", "error": _wire.error_body("anthropic", status, message)}
        if answer.reply is None:
            body = _wire.error_body("anthropic", 404, "no scripted reply matches")
            return {"type": "errored", "error": body}
        return {"type": "succeeded", "message": json.loads(render(parsed, answer.reply))}

    def retrieve(self, batch_id: str, base_url: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            batch = self._batches.get(batch_id)
        if batch is None:
            return 404, {"message": f"no batch {batch_id!r}"}
        return 200, self._describe(batch, time.time(), base_url)

    def results(self, batch_id: str) -> tuple[int, bytes]:
        with self._lock:
            batch = self._batches.get(batch_id)
        if batch is None or time.time() < batch.ready_at:
            return 404, b""
        return 200, "".join(json.dumps(line) + "\n" for line in batch.results).encode()

    def _describe(self, batch: _Batch, now: float, base_url: str) -> dict[str, Any]:
        ended = now >= batch.ready_at
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": "ended" if ended else "in_progress",
            "request_counts": batch.counts(now),
            "created_at": _iso(batch.created),
            "expires_at": _iso(batch.created + 86400),
            "ended_at": _iso(batch.ready_at) if ended else None,
            "cancel_initiated_at": None,
            "archived_at": None,
            "results_url": f"{base_url}/v1/messages/batches/{batch.id}/results" if ended else None,
        }
