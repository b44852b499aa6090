"""The run loop: ``concurrency`` workers over one queue of cases, the response cache looked up a
chunk ahead, each answer priced and graded, each record stored as it finishes and counted
against the error budget (:func:`evalkit.api.run.run_suite_async` sets it up and finishes it)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from evalkit.analysis.caserates import counts_as_error, error_reason
from evalkit.base.exceptions import RunAborted
from evalkit.execution.batch import BATCH_DISCOUNT
from evalkit.execution.cache import ResponseCache
from evalkit.execution.generate import Generated, generate, generation_key
from evalkit.execution.provider.retry import RetryPolicy
from evalkit.grading.answer import Grader, grade_answer
from evalkit.model.config import LoadedSuite, PreparedCase
from evalkit.model.pricing import PriceTable
from evalkit.model.provider import CallContext, Completion, Provider
from evalkit.model.record import CaseRecord
from evalkit.model.trajectory import trajectory_of
from evalkit.storage.store import ResultsWriter

if TYPE_CHECKING:
    from evalkit.analysis.summary import Summarizer

#: a run keeps up to this many records in memory for its reports; a larger one streams them
#: back from results.jsonl (bounded memory at 100,000 cases, no re-read for everyday runs)
KEEP_RECORDS = 2_000


@dataclass
class RunState:
    suite: LoadedSuite
    provider: Provider
    cache: ResponseCache
    prices: PriceTable
    policy: RetryPolicy
    results: ResultsWriter
    planned: int
    budget: int
    counts: dict[str, int] = field(default_factory=lambda: {"pass": 0, "fail": 0, "error": 0})
    provider_errors: int = 0
    requests: int = 0
    on_record: Callable[[CaseRecord], None] | None = None
    #: a fresh run's summary, fed record by record (a resumed one is summarized from disk)
    summarizer: Summarizer | None = None
    #: a small run's records, for its reports (None past KEEP_RECORDS: read back from disk)
    kept: list[CaseRecord] | None = None
    #: cache keys of the cases looked up but not yet run (a chunk ahead; all for --batch)
    keys: dict[tuple[str, int], str] = field(default_factory=dict)
    prefetched: dict[str, Completion] = field(default_factory=dict)
    #: the whole plan was looked up in the cache at once (batch mode); else chunk by chunk
    prefetched_all: bool = False
    #: how much of the plan's start was looked up before the loop
    prefetched_upto: int = 0
    #: answers from a provider batch, by cache key (not cached: made for this run, discounted)
    batched: dict[str, Completion] = field(default_factory=dict)
    abort: BaseException | None = None  # set once the run must stop; no new requests
    #: the target's adaptive limiter in the run's LimiterPool (evalkit.execution.throttle)
    limiter_key: str | None = None
    #: the prompt's version and label, hashed once (every request's context carries them)
    prompt_version: str | None = field(init=False)
    prompt_label: str | None = field(init=False)

    def __post_init__(self) -> None:
        prompt = self.suite.prompt
        self.prompt_version = prompt.version if prompt else None
        self.prompt_label = prompt.label if prompt else None


async def run_all(
    state: RunState, todo: list[tuple[PreparedCase, int]], concurrency: int, graders: list[Grader]
) -> None:
    """``concurrency`` workers share one queue of cases: a 100,000-case run holds as many tasks
    as requests in flight, not one task (and its coroutine frame) per case."""
    work = _prefetching(state, todo)

    async def worker() -> None:
        for pc, repeat in work:  # each case is taken by exactly one worker
            if state.abort is not None:
                return  # the run is stopping: start no new request
            try:
                record = await _run_case(state, pc, repeat, graders)
            except BaseException as exc:
                state.abort = exc
                raise
            try:
                append_record_and_count(state, record)
            except RunAborted as exc:
                state.abort = exc
                raise

    tasks = [asyncio.ensure_future(worker()) for _ in range(min(concurrency, len(todo)))]
    try:
        # first exception (auth failure, budget exhausted, full disk) cancels everything else
        for fut in asyncio.as_completed(tasks):
            await fut
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


_PREFETCH = 1000


def _prefetching(
    state: RunState, todo: list[tuple[PreparedCase, int]]
) -> Iterator[tuple[PreparedCase, int]]:
    """The plan in order, its cached answers looked up a chunk ahead (a few queries per
    thousand cases; never the whole run's answers in memory at once)."""
    yield from todo[: state.prefetched_upto]
    for start in range(state.prefetched_upto, len(todo), _PREFETCH):
        chunk = todo[start : start + _PREFETCH]
        if not state.prefetched_all:
            _prefetch(state, chunk)
        yield from chunk


def _prefetch(state: RunState, chunk: list[tuple[PreparedCase, int]]) -> list[str]:
    target = state.suite.target
    keys = [
        state.keys.setdefault((pc.case.id, r), generation_key(target, pc, r)) for pc, r in chunk
    ]
    state.prefetched.update(state.cache.get_many(keys))
    return keys


def first_chunk_cached(state: RunState, todo: list[tuple[PreparedCase, int]]) -> bool:
    """Look up the plan's first chunk now: True when the cache answers all of it."""
    chunk = todo[:_PREFETCH]
    keys = _prefetch(state, chunk)
    state.prefetched_upto = len(chunk)
    return all(k in state.prefetched for k in keys)


def append_record_and_count(state: RunState, record: CaseRecord) -> None:
    """Store a finished record (superseding an errored one being retried), then apply the budget."""
    state.results.append(record)
    if state.summarizer is not None:
        state.summarizer.add(record)
    if state.kept is not None:
        if len(state.kept) < KEEP_RECORDS:
            state.kept.append(record)
        else:
            state.kept = None  # a large run: its reports read the records back from disk
    state.counts[record.outcome.value] += 1
    if state.on_record is not None:
        state.on_record(record)
    if counts_as_error(record):
        state.provider_errors += 1
        if state.provider_errors > state.budget:
            raise RunAborted(
                f"{state.provider_errors} of {state.planned} outputs failed (provider or check "
                f"errors), over the error budget of {state.budget}; last error: "
                f"{error_reason(record)}"
            )


async def _run_case(
    state: RunState, pc: PreparedCase, repeat: int, graders: list[Grader]
) -> CaseRecord:
    suite = state.suite
    ctx = CallContext(
        case_id=pc.case.id,
        prompt_version=state.prompt_version,
        prompt_label=state.prompt_label,
        repeat=repeat,
        variables=pc.case.template_vars(),
    )
    key = state.keys.pop((pc.case.id, repeat))
    batched = state.batched.pop(key, None)
    generated: Generated | CaseRecord
    if batched is not None:  # a provider batch answered (its request is counted already)
        state.cache.put(key, batched)
        generated = Generated(batched, attempts=1, cached=False, latency_ms=None)
    else:
        hit = state.prefetched.pop(key, None)
        generated = await generate(
            state.provider,
            state.policy,
            state.cache,
            key,
            pc,
            repeat,
            ctx,
            cached=hit,
            limiter_key=state.limiter_key,
            target=suite.target,
        )
        sent = generated.requests if isinstance(generated, Generated) else generated.attempts
        state.requests += sent
    if isinstance(generated, CaseRecord):
        return generated
    completion = generated.completion
    trajectory = trajectory_of(completion)
    cost = state.prices.cost(
        completion.model or suite.target.model,
        completion.input_tokens,
        completion.output_tokens,
        cache_read=completion.cache_read_tokens,
        cache_write=completion.cache_write_tokens,
    )
    if batched is not None and cost is not None:
        cost *= BATCH_DISCOUNT
    return await grade_answer(
        pc,
        repeat,
        generated,
        ctx,
        cost=cost,
        graders=graders,
        suite_judges=suite.config.judges,
        min_score=suite.config.min_score,
        base_dir=suite.project.root,
        trajectory=trajectory,
    )
