"""``evalkit run --batch``: the run's requests through the provider's batch API.

Before the run loop starts, every case × repeat not answered from the cache is sent in batches
(Anthropic Message Batches or the OpenAI Batch API, :mod:`evalkit.execution.batch`). Each
batch id is written to ``batches.json`` in the run directory the moment the provider returns
it, with the (case,
repeat) behind each custom id, so a run that is stopped while polling and started again with
``--resume`` re-attaches to the same batches and never submits a request twice. Answers go to
the run loop, which grades them like any other; a request the batch did not answer (errored,
expired, canceled) is then sent on its own through the ordinary retry policy, and its failure
counts against the error budget like any other.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from evalkit.base.exceptions import InputError
from evalkit.execution.batch import (
    BATCH_SIZE,
    AnthropicBatches,
    BatchStatus,
    OpenAIBatches,
    batch_api,
)
from evalkit.model.provider import Completion, Message, Provider
from evalkit.storage.store import now_iso, write_run_file

BATCHES = "batches.json"

#: (case id, repeat), cache key, messages
Wanted = tuple[tuple[str, int], str, list[Message]]


def read_batches(path: Path) -> dict[str, Any]:
    p = path / BATCHES
    if not p.exists():
        return {"batches": []}
    data: dict[str, Any] = json.loads(p.read_text("utf-8"))
    return data


def _write(path: Path, data: dict[str, Any]) -> None:
    write_run_file(path / BATCHES, json.dumps(data, indent=2) + "\n")


async def answer_by_batch(
    provider: Provider,
    wanted: list[Wanted],
    path: Path,
    *,
    poll_s: float,
    progress: bool,
) -> tuple[dict[str, Completion], int, list[str]]:
    """Answers by cache key for ``wanted``, the requests submitted now (not those of batches
    re-attached to: an earlier process sent them), and every batch id of the run."""
    api = batch_api(provider)
    data = read_batches(path)
    if data["batches"] and data.get("wire", api.wire) != api.wire:
        raise InputError(
            f"the run's batches were sent on the {data['wire']} wire, the target now speaks "
            f"{api.wire}: start a new run",
            path=path / BATCHES,
            field="wire",
        )
    data["wire"] = api.wire
    by_key = {key: (cache, messages) for key, cache, messages in wanted}
    # re-attach: requests already in a recorded batch are never submitted again
    covered = {tuple(k) for b in data["batches"] for k in b["requests"].values()}
    fresh = [key for key in by_key if key not in covered]
    sent = len(fresh)
    for start in range(0, len(fresh), BATCH_SIZE):
        chunk = fresh[start : start + BATCH_SIZE]
        ids = {f"r{i}": key for i, key in enumerate(chunk)}
        batch_id = await api.submit({cid: by_key[key][1] for cid, key in ids.items()})
        data["batches"].append(
            {
                "id": batch_id,
                "submitted_at": now_iso(),
                "requests": {c: list(k) for c, k in ids.items()},
            }
        )
        _write(path, data)  # at once: a kill from here on re-attaches instead of resubmitting
    answers: dict[str, Completion] = {}
    for batch in data["batches"]:
        mine = {c: tuple(k) for c, k in batch["requests"].items() if tuple(k) in by_key}
        if not mine:
            continue
        await _wait(api, batch["id"], poll_s=poll_s, progress=progress)
        for custom_id, outcome in (await api.results(batch["id"])).items():
            key = mine.get(custom_id)
            if key is not None and isinstance(outcome, Completion):
                answers[by_key[key][0]] = outcome
        batch["collected_at"] = now_iso()
    _write(path, data)
    return answers, sent, [b["id"] for b in data["batches"]]


async def _wait(
    api: AnthropicBatches | OpenAIBatches, batch_id: str, *, poll_s: float, progress: bool
) -> None:
    """Poll until the batch has ended, with a progress line on stderr when asked for."""
    started = time.monotonic()
    last: BatchStatus | None = None
    while True:
        status = await api.status(batch_id)
        if progress and (last is None or status.counts != last.counts):
            c = status.counts
            print(
                f"batch {batch_id}: {status.done}/{status.total} done (succeeded "
                f"{c.get('succeeded', 0)}, errored {c.get('errored', 0)}, expired "
                f"{c.get('expired', 0)}, canceled {c.get('canceled', 0)}) after "
                f"{time.monotonic() - started:.0f} s",
                file=sys.stderr,
            )
        last = status
        if status.ended:
            return
        await asyncio.sleep(poll_s)
