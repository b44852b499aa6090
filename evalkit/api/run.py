"""The async run loop: bounded concurrency, one retry policy, cache, repeats, resume.

Each case × repeat is rendered (at load), looked up in the response cache, otherwise sent through
:func:`evalkit.execution.provider.retry.call_with_retries`, graded by checks and judges, and
appended to
``results.jsonl`` as soon as it finishes. A provider failure becomes an *error* record; an auth
failure stops the run at once; more errors than the budget allows stops it with exit code 3.
:func:`run_suite` is the thin sync wrapper over :func:`run_suite_async`.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.analysis.caserates import counts_as_error, error_reason
from evalkit.api._run_judges import build_run_judges, note_judges_and_prices
from evalkit.api.batch import BATCHES
from evalkit.api.select import Selection, apply_selection, resolve_selection
from evalkit.base.aio import run_sync
from evalkit.base.exceptions import (
    AuthError,
    InputError,
    RunAborted,
    RunInterrupted,
    StorageError,
)
from evalkit.execution.batch import BATCH_DISCOUNT, batch_support
from evalkit.execution.cache import ResponseCache
from evalkit.execution.generate import Generated, generate, generation_key
from evalkit.execution.provider.retry import RetryPolicy
from evalkit.execution.runstop import StopSignals, close_all
from evalkit.execution.throttle import RUN_LIMITERS, LimiterPool, limiter_key
from evalkit.grading.answer import Grader, grade_answer
from evalkit.model.config import LoadedSuite, PreparedCase
from evalkit.model.pricing import PriceTable, load_prices
from evalkit.model.provider import CallContext, Completion, Provider, TargetSpec
from evalkit.model.record import CaseRecord
from evalkit.model.trajectory import trajectory_of
from evalkit.report.progress import RunProgress
from evalkit.report.runfiles import write_summary_and_report
from evalkit.storage.rundir import prepare_run_dir
from evalkit.storage.store import (
    ResultsWriter,
    iter_records,
    now_iso,
    open_results,
    write_manifest,
)

if TYPE_CHECKING:
    from evalkit.analysis.summary import Summarizer
    from evalkit.grading.judge import JudgeDef

#: a run keeps up to this many records in memory for its reports; a larger one streams them
#: back from results.jsonl (bounded memory at 100,000 cases, no re-read for everyday runs)
KEEP_RECORDS = 2_000


@dataclass
class RunOptions:
    concurrency: int | None = None
    use_cache: bool = True
    resume: Path | None = None
    progress: bool | None = None  # None: only when stderr is a terminal
    retry: RetryPolicy | None = None
    #: answer every judge from another model (the demo: a scripted one)
    judge_target_override: Callable[[JudgeDef], TargetSpec] | None = None
    #: a subset, sample or shard; None on --resume: the resumed run's own
    selection: Selection | None = None
    #: send the requests through the provider's batch API (evalkit.api.batch); a resumed batch
    #: run stays one
    batch: bool = False
    batch_poll_s: float = 30.0


@dataclass
class RunOutcome:
    path: Path
    run_id: str
    status: str
    summary: dict[str, Any]
    requests: int = 0


@dataclass
class _State:
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


def run_suite(suite: LoadedSuite, options: RunOptions | None = None) -> RunOutcome:
    """Run a suite to completion (sync wrapper).

    Ctrl-C or SIGTERM keeps what finished, marks the run ``interrupted`` and raises
    :class:`RunInterrupted`; ``--resume`` finishes it later.
    """
    return run_sync(run_suite_async(suite, options or RunOptions()))


async def run_suite_async(suite: LoadedSuite, options: RunOptions) -> RunOutcome:
    """Run (or resume) a suite. Resuming re-requests every case whose latest record is an error
    and applies the error budget to the run's final state."""
    from evalkit.analysis.summary import Summarizer, summarize

    cfg = suite.config
    project = suite.project
    stop = StopSignals()
    stop.install()
    try:
        if options.batch and (why := batch_support(suite.target.provider, suite.target.wire)):
            raise InputError(why, field="--batch")
        suite, chosen = apply_selection(suite, resolve_selection(options.selection, options.resume))
        opened = prepare_run_dir(
            suite, options.resume, use_cache=options.use_cache, selection=chosen
        )
    except BaseException:
        stop.remove()
        raise
    path, manifest, done = opened.path, opened.manifest, opened.done
    run_id = str(manifest["run_id"])
    repeats = cfg.repeats
    todo = [
        (pc, r)
        for pc in suite.cases
        for r in range(repeats)
        if (pc.case.id, r) not in done or done[(pc.case.id, r)].error is not None
    ]
    planned = len(suite.cases) * repeats
    # a --no-cache run stays uncached when resumed
    use_cache = options.use_cache and bool(manifest.get("use_cache", True))
    status = "running"
    started = cases_started = time.perf_counter()
    state: _State | None = None
    graders: list[Grader] = []
    cleanup: list[Callable[[], Awaitable[None] | None]] = []
    concurrency = options.concurrency or cfg.concurrency
    # one adaptive limiter per endpoint and model, shared by the target and the judges
    limiters = LimiterPool(concurrency)
    limiting = RUN_LIMITERS.set(limiters)
    try:
        policy = options.retry or cfg.retry.policy()
        prices = load_prices(project.resolve(project.prices) if project.prices else None)
        cache = ResponseCache(project.resolve(project.cache_dir), enabled=use_cache)
        cleanup.append(cache.close)  # last: the judges share it
        provider = _default_provider(suite)
        cleanup.append(provider.aclose)
        graders = build_run_judges(
            suite, options.judge_target_override, cache, prices, policy, manifest
        )
        cleanup.extend(g.aclose for g in graders)
        if graders:
            write_manifest(path, manifest)  # judge versions on disk even if the run is killed
        results = open_results(path)
        cleanup.append(results.close)
        state = _State(
            suite=suite,
            provider=provider,
            cache=cache,
            prices=prices,
            policy=policy,
            results=results,
            planned=planned,
            budget=int(cfg.error_budget * planned),
            limiter_key=limiter_key(
                suite.target.provider, suite.target.base_url, suite.target.model
            ),
        )
        # errored cases are being retried (they are in the plan): the budget counts errors of
        # the final state
        state.provider_errors = sum(
            1 for rec in done.values() if counts_as_error(rec) and rec.error is None
        )
        if not done:  # a fresh run: its records are exactly those this loop writes
            state.summarizer = Summarizer(calibration=True)
            state.kept = []
        done.clear()  # a resumed run's earlier records are not held for the whole run
        batch = bool(options.batch or manifest.get("batch") or (path / BATCHES).exists())
        if batch or not _first_chunk_cached(state, todo):
            # the SDK import and client set-up before the first timed call; a plan that starts
            # cached needs neither yet (the SDK alone is ~50 MB), the client is made on first use
            await provider.prepare()
        for grader in graders:
            await grader.prepare()
        if batch:
            # a batch sends what the cache cannot answer: the whole plan is looked up first
            state.keys = {(pc.case.id, r): generation_key(suite.target, pc, r) for pc, r in todo}
            state.prefetched = cache.get_many(list(state.keys.values()))
            state.prefetched_all = True
            await _answer_by_batch(state, todo, path, options, manifest)
        cases_started = time.perf_counter()  # SDK imports and client set-up are done
        status_line = partial(limiters.status, state.limiter_key or "")
        with RunProgress(
            options.progress, len(todo), suite.name, state.counts, status=status_line
        ) as advance:
            state.on_record = advance
            await _run_all(state, todo, concurrency, graders)
        status = "complete"
    except (asyncio.CancelledError, KeyboardInterrupt):
        status = "interrupted"
        raise RunInterrupted(
            f"{stop.name} stopped run {run_id}; finished cases are kept in {path}. "
            f"Resume with `evalkit run --resume {run_id}`"
        ) from None
    except StorageError as exc:
        status = "aborted"
        raise StorageError(
            f"{exc}. Finished cases are kept; free some space, then "
            f"`evalkit run --resume {run_id}`",
            path=exc.path,
            errno=exc.errno,
        ) from None
    except (AuthError, RunAborted):
        status = "aborted"
        raise
    except BaseException:
        status = "failed"
        raise
    finally:
        # from here on SIGTERM is ignored until the manifest is written
        stop.closing = True
        await close_all(cleanup)
        # what the loop held per case is dropped first
        todo.clear()
        if state is not None:
            state.keys.clear()
            state.prefetched.clear()
            state.batched.clear()
        figures: dict[str, Any] = {
            "repeats": repeats,
            "project_root": project.root,
            "run_id": run_id,
            "grader_error_warning": cfg.grader_error_warning,
            "selection": manifest.get("selection"),
        }
        if state is not None and state.summarizer is not None:
            summary = state.summarizer.summary(**figures)  # fed as the records were written
        else:  # a resumed run: its latest records, streamed back from results.jsonl
            summary = summarize(iter_records(path), **figures)
        summary["requests"] = state.requests if state else 0
        summary["rate_limited"] = limiters.rate_limited
        RUN_LIMITERS.reset(limiting)
        finished = time.perf_counter()
        summary["timings"] = {
            "startup_s": round(cases_started - started, 4),
            "cases_s": round(finished - cases_started, 4),
        }
        note_judges_and_prices(manifest, graders, prices)
        manifest.update(status=status, finished_at=now_iso(), records=summary["n"])
        try:
            write_manifest(path, manifest)
            # a large run's records are streamed back from results.jsonl, once
            kept = state.kept if state is not None and state.summarizer is not None else None
            write_summary_and_report(path, manifest, summary, kept)
        except StorageError as exc:
            # the records are safe in results.jsonl; the lock is released below, so the run
            # shows as abandoned and resumes like any other
            print(f"warning: {exc}", file=sys.stderr)
            if status == "complete":
                raise
        finally:
            opened.lock.release()
            stop.remove()
    return RunOutcome(
        path=path,
        run_id=run_id,
        status=status,
        summary=summary,
        requests=summary["requests"],
    )


async def _run_all(
    state: _State, todo: list[tuple[PreparedCase, int]], concurrency: int, graders: list[Grader]
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
    state: _State, todo: list[tuple[PreparedCase, int]]
) -> Iterator[tuple[PreparedCase, int]]:
    """The plan in order, its cached answers looked up a chunk ahead (a few queries per
    thousand cases; never the whole run's answers in memory at once)."""
    yield from todo[: state.prefetched_upto]
    for start in range(state.prefetched_upto, len(todo), _PREFETCH):
        chunk = todo[start : start + _PREFETCH]
        if not state.prefetched_all:
            _prefetch(state, chunk)
        yield from chunk


def _prefetch(state: _State, chunk: list[tuple[PreparedCase, int]]) -> list[str]:
    target = state.suite.target
    keys = [
        state.keys.setdefault((pc.case.id, r), generation_key(target, pc, r)) for pc, r in chunk
    ]
    state.prefetched.update(state.cache.get_many(keys))
    return keys


def _first_chunk_cached(state: _State, todo: list[tuple[PreparedCase, int]]) -> bool:
    """Look up the plan's first chunk now: True when the cache answers all of it."""
    chunk = todo[:_PREFETCH]
    keys = _prefetch(state, chunk)
    state.prefetched_upto = len(chunk)
    return all(k in state.prefetched for k in keys)


def append_record_and_count(state: _State, record: CaseRecord) -> None:
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
    state: _State, pc: PreparedCase, repeat: int, graders: list[Grader]
) -> CaseRecord:
    suite = state.suite
    ctx = CallContext(
        case_id=pc.case.id,
        prompt_version=suite.prompt.version if suite.prompt else None,
        prompt_label=suite.prompt.label if suite.prompt else None,
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


async def _answer_by_batch(
    state: _State,
    todo: list[tuple[PreparedCase, int]],
    path: Path,
    options: RunOptions,
    manifest: dict[str, Any],
) -> None:
    """Answer what the cache cannot through the provider's batch API, before the run loop."""
    from evalkit.api.batch import answer_by_batch

    if not manifest.get("batch"):
        manifest["batch"] = True
        write_manifest(path, manifest)
    wanted = [
        ((pc.case.id, r), state.keys[(pc.case.id, r)], pc.messages)
        for pc, r in todo
        # a conversation's tool loop needs each reply before the next request: not batchable
        if state.keys[(pc.case.id, r)] not in state.prefetched and not pc.case.is_conversation
    ]
    progress = options.progress if options.progress is not None else sys.stderr.isatty()
    answers, sent, ids = await answer_by_batch(
        state.provider, wanted, path, poll_s=options.batch_poll_s, progress=progress
    )
    state.batched, state.requests = answers, state.requests + sent
    manifest["batches"] = ids


def _default_provider(suite: LoadedSuite) -> Provider:
    from evalkit.execution.provider import create_provider

    return create_provider(suite.target)
