"""Both providers' batch APIs on the scripted server.

Anthropic Message Batches: create, retrieve, results.

``POST /v1/messages/batches`` takes ``{"requests": [{"custom_id", "params"}]}`` and answers every
request at once from the script (rules match on model and ``contains``: a batch request carries
no per-case headers), but shows the batch ``in_progress`` until ``batch_delay_ms`` has passed;
then ``GET /v1/messages/batches/{id}`` says ``ended`` with its request counts and ``results_url``,
and ``GET …/results`` streams one JSON line per request. A rule's fault makes that request
``errored`` (``{drop: true}``: ``expired``), so partial failures are scripted like any other.

The OpenAI Batch API the same way: ``POST /v1/files`` (multipart, ``purpose=batch``) stores the
JSONL input, ``POST /v1/batches`` answers its lines, ``GET /v1/batches/{id}`` is
``in_progress`` until the delay has passed, then ``completed`` with an ``output_file_id`` (the
answers) and an ``error_file_id`` (errored and expired requests), read with
``GET /v1/files/{id}/content``.

``GET /v1/messages/batches`` and ``GET /v1/batches`` list the batches, newest first (one page;
OpenAI's with the ``metadata`` given at create). ``batch_create_delay_ms`` holds the answer to
a create after the batch exists: the window in which a killed client never learns the id.
"""

from __future__ import annotations

import email.parser
import email.policy
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


def _page(data: list[dict[str, Any]], *, object_list: bool) -> dict[str, Any]:
    first = data[0]["id"] if data else None
    last = data[-1]["id"] if data else None
    page: dict[str, Any] = {"data": data, "has_more": False, "first_id": first, "last_id": last}
    return {"object": "list", **page} if object_list else page


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat().replace("+00:00", "Z")


class BatchStore:
    """The batches one scripted server holds (thread-safe)."""

    def __init__(self, scripter: Scripter, delay_ms: float, create_delay_ms: float = 0) -> None:
        self._scripter = scripter
        self._delay = delay_ms / 1000
        #: seconds a create is held after the batch exists (tests may change it)
        self.create_delay_s = create_delay_ms / 1000
        self._batches: dict[str, _Batch] = {}
        self._files: dict[str, bytes] = {}
        self._openai: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        #: batches created, in order (tests check nothing was submitted twice)
        self.created: list[str] = []
        #: the body of every request any batch held, in order (each is one request answered)
        self.bodies: list[dict[str, Any]] = []

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
            self.bodies.extend(item["params"] for item in requests)
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

    def list(self, base_url: str) -> dict[str, Any]:
        """``GET /v1/messages/batches``: every batch, newest first, in one page."""
        now = time.time()
        with self._lock:
            batches = sorted(self._batches.values(), key=lambda b: b.created, reverse=True)
        data = [self._describe(b, now, base_url) for b in batches]
        return _page(data, object_list=False)

    def list_openai(self) -> dict[str, Any]:
        """``GET /v1/batches``: every batch, newest first, in one page."""
        now = time.time()
        with self._lock:
            batches = sorted(self._openai.values(), key=lambda b: b["created"], reverse=True)
        return _page([self._describe_openai(b, now) for b in batches], object_list=True)

    # -- the OpenAI Batch API ------------------------------------------------------------
    def create_file(self, raw: bytes, content_type: str) -> tuple[int, dict[str, Any]]:
        """``POST /v1/files``: the multipart upload of a batch's input."""
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"content-type: {content_type}\r\n\r\n".encode() + raw
        )
        fields: dict[str, tuple[str | None, bytes]] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes):
                fields[name] = (part.get_filename(), payload)
        if "file" not in fields or fields.get("purpose", (None, b""))[1] != b"batch":
            return 400, {"message": "upload a `file` with purpose=batch"}
        filename, data = fields["file"]
        file_id = f"file-scripted{next(_ids):06d}"
        with self._lock:
            self._files[file_id] = data
        return 200, self._file_object(file_id, filename or "batch.jsonl", len(data))

    def create_openai(self, body: dict[str, Any], render: Render) -> tuple[int, dict[str, Any]]:
        """``POST /v1/batches``: answer every line of the input file (revealed after the delay)."""
        with self._lock:
            data = self._files.get(str(body.get("input_file_id")))
        if data is None:
            return 404, {"message": f"no file {body.get('input_file_id')!r}"}
        output: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        bodies: list[dict[str, Any]] = []
        for number, line in enumerate(data.decode("utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            item = json.loads(line)
            custom_id, params = item.get("custom_id"), item.get("body")
            if not isinstance(custom_id, str) or not isinstance(params, dict):
                return 400, {"message": f"line {number}: needs custom_id and body"}
            bodies.append(params)
            row = self._openai_result(custom_id, params, render)
            (
                output if row["response"] and row["response"]["status_code"] == 200 else errors
            ).append(row)
        now = time.time()
        batch = {
            "id": f"batch_scripted{next(_ids):06d}",
            "object": "batch",
            "endpoint": body.get("endpoint"),
            "input_file_id": body.get("input_file_id"),
            "completion_window": body.get("completion_window", "24h"),
            "created_at": int(now),
            "created": now,
            "metadata": body.get("metadata"),
            "ready_at": now + self._delay,
            "output": output,
            "errors": errors,
        }
        with self._lock:
            self._openai[batch["id"]] = batch
            self.created.append(batch["id"])
            self.bodies.extend(bodies)
        return 200, self._describe_openai(batch, now)

    def _openai_result(
        self, custom_id: str, params: dict[str, Any], render: Render
    ) -> dict[str, Any]:
        parsed = _wire.parse_request("openai", params)
        answer = self._scripter.answer(Incoming(model=parsed.model, user_text=parsed.user_text))
        fault = answer.fault
        row: dict[str, Any] = {"id": f"batch_req_{next(_ids):06d}", "custom_id": custom_id}
        if fault is not None and fault.drop:
            error = {"code": "batch_expired", "message": "the batch expired before this request"}
            return {**row, "response": None, "error": error}
        if fault is not None and fault.hang is None and not fault.malformed:
            status = fault.status or 500
            message = fault.message or f"scripted fault {fault.label}"
            body = _wire.error_body("openai", status, message)
            return {**row, "response": {"status_code": status, "body": body}, "error": None}
        if answer.reply is None:
            body = _wire.error_body("openai", 404, "no scripted reply matches")
            return {**row, "response": {"status_code": 404, "body": body}, "error": None}
        body = json.loads(render(parsed, answer.reply))
        return {**row, "response": {"status_code": 200, "body": body}, "error": None}

    def retrieve_openai(self, batch_id: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            batch = self._openai.get(batch_id)
        if batch is None:
            return 404, {"message": f"no batch {batch_id!r}"}
        return 200, self._describe_openai(batch, time.time())

    def file_content(self, file_id: str) -> tuple[int, bytes]:
        with self._lock:
            data = self._files.get(file_id)
        return (404, b"") if data is None else (200, data)

    def _describe_openai(self, batch: dict[str, Any], now: float) -> dict[str, Any]:
        done = now >= batch["ready_at"]
        total = len(batch["output"]) + len(batch["errors"])
        hidden = ("created", "ready_at", "output", "errors", "output_file", "errors_file")
        out = {k: v for k, v in batch.items() if k not in hidden}
        out.update(
            status="completed" if done else "in_progress",
            request_counts={
                "total": total,
                "completed": len(batch["output"]) if done else 0,
                "failed": len(batch["errors"]) if done else 0,
            },
            output_file_id=None,
            error_file_id=None,
            completed_at=int(batch["ready_at"]) if done else None,
        )
        if done:
            for kind in ("output", "errors"):
                if batch[kind] and f"{kind}_file" not in batch:
                    file_id = f"file-scripted{next(_ids):06d}"
                    lines = "".join(json.dumps(row) + "\n" for row in batch[kind])
                    with self._lock:
                        self._files[file_id] = lines.encode()
                    batch[f"{kind}_file"] = file_id
            out["output_file_id"] = batch.get("output_file")
            out["error_file_id"] = batch.get("errors_file")
        return out

    @staticmethod
    def _file_object(file_id: str, filename: str, size: int) -> dict[str, Any]:
        return {
            "id": file_id,
            "object": "file",
            "bytes": size,
            "created_at": int(time.time()),
            "filename": filename,
            "purpose": "batch",
            "status": "processed",
        }
