"""``evalkit run --batch`` (and ``judge --batch``): requests through the provider's batch API.

:func:`settle_batches` sends request bodies in batches (Anthropic Message Batches or the OpenAI
Batch API, :mod:`evalkit.execution.batch`) and returns each reply by the caller's key. The run
directory's ``batches.json`` records every batch with the key behind each custom id, so a
command that is stopped and started again with ``--resume`` re-attaches to the same batches
and never submits a request twice:

* the *intent* (a client-side token and the custom ids) is written **before** the batch is
  created, its id the moment the provider returns it;
* an intent without an id (a kill while ``create`` was in flight) is looked up on resume by
  listing the provider's batches (:meth:`~evalkit.execution.batch.OpenAIBatches.candidates`):
  the OpenAI batch carries the token in its metadata, an Anthropic batch in its custom ids
  (read from its results once it has ended). Only when no batch matches is it submitted.

:func:`answer_by_batch` is the run's use: answers go to the run loop, which grades them like
any other; a request the batch did not answer (errored, expired, canceled) is then sent on its
own through the ordinary retry policy, and its failure counts against the error budget.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
import time
from datetime import datetime
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
#: what a caller names one request by (JSON-able: stored in batches.json as a list)
Key = tuple[Any, ...]
Api = AnthropicBatches | OpenAIBatches


def read_batches(path: Path, name: str = BATCHES) -> dict[str, Any]:
    """A run directory's batch record (``name``: the judges' are kept apart from the run's)."""
    p = path / name
    if not p.exists():
        return {"batches": []}
    data: dict[str, Any] = json.loads(p.read_text("utf-8"))
    return data


def _write(record: Path, data: dict[str, Any]) -> None:
    write_run_file(record, json.dumps(data, indent=2) + "\n")


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
    by_key = {key: (cache, messages) for key, cache, messages in wanted}
    replies, sent, ids = await settle_batches(
        api,
        {key: api.body(messages) for key, (_, messages) in by_key.items()},
        path,
        poll_s=poll_s,
        progress=progress,
    )
    answers = {
        by_key[key][0]: outcome
        for key, outcome in api.completions(replies).items()
        if isinstance(outcome, Completion)
    }
    return answers, sent, ids


async def settle_batches(
    api: Api,
    requests: dict[Key, dict[str, Any]],
    path: Path,
    *,
    poll_s: float,
    progress: bool,
    name: str = BATCHES,
) -> tuple[dict[Key, Any], int, list[str]]:
    """Each request's reply (the wire's SDK object) or failure kind (``errored``, ``expired``,
    ``canceled``) by key; the requests submitted now; every batch id in ``batches.json``.

    Requests already in a recorded batch are never submitted again (see the module docstring).
    ``name`` is the record's file in the run directory ``path``.
    """
    data = read_batches(path, name)
    record = path / name
    if data["batches"] and data.get("wire", api.wire) != api.wire:
        raise InputError(
            f"the run's batches were sent on the {data['wire']} wire, the model now speaks "
            f"{api.wire}: start a new run",
            path=record,
            field="wire",
        )
    data["wire"] = api.wire
    sent = 0
    for pending in [b for b in data["batches"] if not b.get("id")]:
        sent += await _recover(
            api, pending, data, requests, record, poll_s=poll_s, progress=progress
        )
    data["batches"] = [b for b in data["batches"] if b.get("id")]
    covered = {tuple(k) for b in data["batches"] for k in b["requests"].values()}
    fresh = [key for key in requests if key not in covered]
    for start in range(0, len(fresh), BATCH_SIZE):
        token = "ek" + secrets.token_hex(6)
        ids = {f"{token}_{i}": key for i, key in enumerate(fresh[start : start + BATCH_SIZE])}
        entry: dict[str, Any] = {
            "id": None,
            "token": token,
            "intended_at": now_iso(),
            "requests": {c: list(k) for c, k in ids.items()},
        }
        data["batches"].append(entry)
        _write(record, data)  # the intent first: a kill inside create is found again on resume
        await _submit(api, entry, requests, record, data)
        sent += len(ids)
    replies: dict[Key, Any] = {}
    for batch in data["batches"]:
        mine = {c: tuple(k) for c, k in batch["requests"].items() if tuple(k) in requests}
        if not mine:
            continue
        await _wait(api, batch["id"], poll_s=poll_s, progress=progress)
        for custom_id, reply in (await api.replies(batch["id"])).items():
            key = mine.get(custom_id)
            if key is not None:
                replies[key] = reply
        batch["collected_at"] = now_iso()
    _write(record, data)
    return replies, sent, [b["id"] for b in data["batches"]]


async def _submit(
    api: Api,
    entry: dict[str, Any],
    requests: dict[Key, dict[str, Any]],
    record: Path,
    data: dict[str, Any],
) -> None:
    bodies = {c: requests[tuple(k)] for c, k in entry["requests"].items()}
    entry["id"] = await api.submit(bodies, entry["token"])
    entry["submitted_at"] = now_iso()
    _write(record, data)  # at once: a kill from here on re-attaches instead of resubmitting


async def _recover(
    api: Api,
    entry: dict[str, Any],
    data: dict[str, Any],
    requests: dict[Key, dict[str, Any]],
    record: Path,
    *,
    poll_s: float,
    progress: bool,
) -> int:
    """Give an intent without an id the batch the provider holds for it, or submit it now
    (returns the requests submitted)."""
    known = {b["id"] for b in data["batches"] if b.get("id")}
    since = datetime.fromisoformat(entry["intended_at"]).timestamp()
    ours = set(entry["requests"])
    for batch_id, certain in await api.candidates(entry["token"], len(ours), since):
        if batch_id in known:
            continue
        if not certain:  # an Anthropic batch: its custom ids say, once it has ended
            await _wait(api, batch_id, poll_s=poll_s, progress=progress)
            if set(await api.replies(batch_id)) != ours:
                continue
        entry["id"] = batch_id
        entry["found_at"] = now_iso()
        _write(record, data)
        return 0
    entry["requests"] = {c: k for c, k in entry["requests"].items() if tuple(k) in requests}
    if not entry["requests"]:
        return 0  # nothing of it is wanted any more: dropped
    await _submit(api, entry, requests, record, data)
    return len(entry["requests"])


async def _wait(api: Api, batch_id: str, *, poll_s: float, progress: bool) -> None:
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
