"""``evalkit run``: bounded concurrency, one retry policy, cache, repeats, resume.

Each case × repeat is rendered (at load), looked up in the response cache, otherwise sent through
:func:`evalkit.execution.provider.retry.call_with_retries`, graded by checks and judges, and
appended to
``results.jsonl`` as soon as it finishes. A provider failure becomes an *error* record; an auth
failure stops the run at once; more errors than the budget allows stops it with exit code 3.
:func:`run_suite` is the thin sync wrapper over :func:`run_suite_async`, which opens the run
directory, runs the loop (:mod:`evalkit.api._run_loop`; ``--batch``:
:mod:`evalkit.api._run_batch` first) and writes the manifest, summary and report
(:mod:`evalkit.api._run_finish`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.analysis.caserates import counts_as_error
from evalkit.api._run_batch import answer_plan_by_batch
from evalkit.api._run_finish import run_summary, write_run_files
from evalkit.api._run_judges import build_run_judges, note_judges_and_prices
from evalkit.api._run_loop import RunState, first_chunk_cached, run_all
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
from evalkit.base.gc import gc_relaxed
from evalkit.execution.batch import batch_support
from evalkit.execution.cache import ResponseCache
from evalkit.execution.provider.retry import RetryPolicy
from evalkit.execution.runstop import StopSignals, close_all
from evalkit.execution.throttle import RUN_LIMITERS, LimiterPool, limiter_key
from evalkit.grading.answer import Grader
from evalkit.model.config import LoadedSuite
from evalkit.model.pricing import load_prices
from evalkit.model.provider import Provider, TargetSpec
from evalkit.report.progress import RunProgress
from evalkit.storage.rundir import prepare_run_dir
from evalkit.storage.store import open_results, write_manifest

if TYPE_CHECKING:
    from evalkit.grading.judge import JudgeDef


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


def run_suite(suite: LoadedSuite, options: RunOptions | None = None) -> RunOutcome:
    """Run a suite to completion (sync wrapper).

    Ctrl-C or SIGTERM keeps what finished, marks the run ``interrupted`` and raises
    :class:`RunInterrupted`; ``--resume`` finishes it later.
    """
    return run_sync(run_suite_async(suite, options or RunOptions()))


async def run_suite_async(suite: LoadedSuite, options: RunOptions) -> RunOutcome:
    """Run (or resume) a suite. Resuming re-requests every case whose latest record is an error
    and applies the error budget to the run's final state."""
    from evalkit.analysis.summary import Summarizer

    cfg = suite.config
    project = suite.project
    stop = StopSignals()
    stop.install()
    try:
        if options.batch and (why := batch_support(suite.target.provider, suite.target.wire)):
            raise InputError(why, field="--batch")
        suite, chosen = apply_selection(suite, resolve_selection(options.selection, options.resume))
        # read before the run directory exists: a price file broken since the suite was loaded
        # is an input error that leaves no run behind
        prices = load_prices(project.resolve(project.prices) if project.prices else None)
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
    state: RunState | None = None
    graders: list[Grader] = []
    cleanup: list[Callable[[], Awaitable[None] | None]] = []
    concurrency = options.concurrency or cfg.concurrency
    # one adaptive limiter per endpoint and model, shared by the target and the judges
    limiters = LimiterPool(concurrency)
    limiting = RUN_LIMITERS.set(limiters)
    try:
        policy = options.retry or cfg.retry.policy()
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
        state = RunState(
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
        if batch or not first_chunk_cached(state, todo):
            # the SDK import and client set-up before the first timed call; a plan that starts
            # cached needs neither yet (the SDK alone is ~50 MB), the client is made on first use
            await provider.prepare()
        for grader in graders:
            await grader.prepare()
        if batch:
            await answer_plan_by_batch(
                state, todo, path, manifest, poll_s=options.batch_poll_s, progress=options.progress
            )
        cases_started = time.perf_counter()  # SDK imports and client set-up are done
        status_line = partial(limiters.status, state.limiter_key or "")
        with (
            RunProgress(
                options.progress, len(todo), suite.name, state.counts, status=status_line
            ) as advance,
            gc_relaxed(),
        ):
            state.on_record = advance
            await run_all(state, todo, concurrency, graders)
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
        summary = run_summary(state, path, figures)
        summary["rate_limited"] = limiters.rate_limited
        RUN_LIMITERS.reset(limiting)
        finished = time.perf_counter()
        summary["timings"] = {
            "startup_s": round(cases_started - started, 4),
            "cases_s": round(finished - cases_started, 4),
        }
        note_judges_and_prices(manifest, graders, prices)
        try:
            write_run_files(path, manifest, summary, status, state)
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


def _default_provider(suite: LoadedSuite) -> Provider:
    from evalkit.execution.provider import create_provider

    return create_provider(suite.target)
