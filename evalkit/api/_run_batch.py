"""``evalkit run --batch``: the whole plan looked up in the cache first, what it cannot answer
sent through the provider's batch API before the run loop grades the answers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from evalkit.api._run_loop import RunState
from evalkit.execution.generate import generation_key
from evalkit.model.config import PreparedCase
from evalkit.storage.store import write_manifest


async def answer_plan_by_batch(
    state: RunState,
    todo: list[tuple[PreparedCase, int]],
    path: Path,
    manifest: dict[str, Any],
    *,
    poll_s: float,
    progress: bool | None,
) -> None:
    """Answer what the cache cannot through the provider's batch API, before the run loop."""
    from evalkit.api.batch import answer_by_batch

    # a batch sends what the cache cannot answer: the whole plan is looked up first
    target = state.suite.target
    state.keys = {(pc.case.id, r): generation_key(target, pc, r) for pc, r in todo}
    state.prefetched = state.cache.get_many(list(state.keys.values()))
    state.prefetched_all = True
    if not manifest.get("batch"):
        manifest["batch"] = True
        write_manifest(path, manifest)
    wanted = [
        ((pc.case.id, r), state.keys[(pc.case.id, r)], pc.messages)
        for pc, r in todo
        # a conversation's tool loop needs each reply before the next request: not batchable
        if state.keys[(pc.case.id, r)] not in state.prefetched and not pc.case.is_conversation
    ]
    answers, sent, ids = await answer_by_batch(
        state.provider,
        wanted,
        path,
        poll_s=poll_s,
        progress=progress if progress is not None else sys.stderr.isatty(),
    )
    state.batched, state.requests = answers, state.requests + sent
    manifest["batches"] = ids
