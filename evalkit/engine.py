"""The async run loop: bounded concurrency, one retry policy, cache, repeats, resume.

Each case × repeat is rendered (at load), looked up in the response cache, otherwise sent through
:func:`evalkit.provider.retry.call_with_retries`, graded by checks and judges, and appended to
``results.jsonl`` as soon as it finishes. A provider failure becomes an *error* record; an auth
failure stops the run at once; more errors than the budget allows stops it with exit code 3.
:func:`run_suite` is the thin sync wrapper over :func:`run_suite_async`.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

from evalkit import __version__
from evalkit._redact import redact
from evalkit.cache import ResponseCache, cache_key
from evalkit.check.base import CheckContext
from evalkit.config import LoadedSuite, PreparedCase
from evalkit.exceptions import AuthError, InputError, ProviderError, RunAborted
from evalkit.golden import Case
from evalkit.judge.judge import judge_applies
from evalkit.outcome import Outcome, combine
from evalkit.pricing import PriceTable, load_prices
from evalkit.provider.base import CallContext, Completion, Provider, TargetSpec
from evalkit.provider.retry import RetryPolicy, call_with_retries
from evalkit.record import CaseRecord, ErrorInfo, JudgeVerdict, Usage
from evalkit.store import (
    append_record,
    new_run_id,
    now_iso,
    open_results,
    read_manifest,
    read_records,
    run_dir,
    write_manifest,
)

if TYPE_CHECKING:
    from evalkit.judge import JudgeDef


class Grader(Protocol):
    """A judge as the engine sees it (implemented in :mod:`evalkit.judge`)."""

    name: str
    version: str

    async def prepare(self) -> None: ...

    async def grade(
        self, case: Case, output: str, ctx: CallContext | None = None
    ) -> JudgeVerdict: ...

    async def aclose(self) -> None: ...


@dataclass
class RunOptions:
    concurrency: int | None = None
    use_cache: bool = True
    resume: Path | None = None
    progress: bool | None = None  # None: only when stderr is a terminal
    error_budget: float | None = None
    retry: RetryPolicy | None = None
    provider_factory: Callable[[LoadedSuite], Provider] | None = None
    #: answer every judge from another model (the demo: a scripted one)
    judge_target_override: Callable[[JudgeDef], TargetSpec] | None = None


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
    results: IO[str]
    planned: int
    budget: int
    counts: dict[str, int] = field(default_factory=lambda: {"pass": 0, "fail": 0, "error": 0})
    provider_errors: int = 0
    requests: int = 0
    on_record: Callable[[CaseRecord], None] | None = None
    keys: dict[tuple[str, int], str] = field(default_factory=dict)
    prefetched: dict[str, Completion] = field(default_factory=dict)
    abort: BaseException | None = None  # set once the run must stop; no new requests


def run_suite(suite: LoadedSuite, options: RunOptions | None = None) -> RunOutcome:
    """Run a suite to completion (sync wrapper). Ctrl-C keeps what finished; resume later."""
    return asyncio.run(run_suite_async(suite, options or RunOptions()))


async def run_suite_async(suite: LoadedSuite, options: RunOptions) -> RunOutcome:
    from evalkit.summary import summarize

    cfg = suite.config
    project = suite.project
    path, manifest, done = _prepare_run_dir(suite, options)
    repeats = cfg.repeats
    todo = [(pc, r) for pc in suite.cases for r in range(repeats) if (pc.case.id, r) not in done]
    planned = len(suite.cases) * repeats
    budget_fraction = cfg.error_budget if options.error_budget is None else options.error_budget
    policy = options.retry or RetryPolicy(
        max_attempts=cfg.retry.max_attempts,
        base_delay=cfg.retry.base_delay,
        max_delay=cfg.retry.max_delay,
    )
    prices = load_prices(project.resolve(project.prices) if project.prices else None)
    cache = ResponseCache(project.resolve(project.cache_dir), enabled=options.use_cache)
    factory = options.provider_factory or _default_provider
    provider = factory(suite)
    graders = _build_judges(suite, options, cache, prices, policy, manifest)
    results = open_results(path)
    state = _State(
        suite=suite,
        provider=provider,
        cache=cache,
        prices=prices,
        policy=policy,
        results=results,
        planned=planned,
        budget=int(budget_fraction * planned),
    )
    state.keys = {(pc.case.id, r): _cache_key(suite, pc, r) for pc, r in todo}
    state.prefetched = cache.get_many(list(state.keys.values()))
    state.provider_errors = sum(1 for rec in done.values() if rec.error is not None)
    concurrency = options.concurrency or cfg.concurrency
    status = "running"
    try:
        await provider.prepare()
        for grader in graders:
            await grader.prepare()
        with _progress(options.progress, len(todo), state) as advance:
            state.on_record = advance
            await _run_all(state, todo, concurrency, graders)
        status = "complete"
    except (asyncio.CancelledError, KeyboardInterrupt):
        status = "interrupted"
        raise
    except AuthError:
        status = "aborted"
        raise
    except RunAborted:
        status = "aborted"
        raise
    finally:
        results.close()
        await provider.aclose()
        for grader in graders:
            await grader.aclose()
        cache.close()  # after the judges: they share it
        records = read_records(path)
        summary = summarize(
            records, repeats=repeats, project_root=project.root, run_id=manifest["run_id"]
        )
        summary["requests"] = state.requests
        manifest.update(status=status, finished_at=now_iso(), records=len(records))
        write_manifest(path, manifest)
        _write_summary_and_report(path, manifest, summary, records)
    return RunOutcome(
        path=path,
        run_id=manifest["run_id"],
        status=status,
        summary=summary,
        requests=state.requests,
    )


async def _run_all(
    state: _State, todo: list[tuple[PreparedCase, int]], concurrency: int, graders: list[Grader]
) -> None:
    sem = asyncio.Semaphore(concurrency)

    async def one(pc: PreparedCase, repeat: int) -> None:
        async with sem:
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

    tasks = [asyncio.ensure_future(one(pc, r)) for pc, r in todo]
    try:
        # first exception (auth failure, budget exhausted) cancels everything else
        for fut in asyncio.as_completed(tasks):
            await fut
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def append_record_and_count(state: _State, record: CaseRecord) -> None:
    append_record(state.results, record)
    state.counts[record.outcome.value] += 1
    if state.on_record is not None:
        state.on_record(record)
    if record.error is not None:
        state.provider_errors += 1
        if state.provider_errors > state.budget:
            raise RunAborted(
                f"{state.provider_errors} of {state.planned} calls failed, over the error budget "
                f"of {state.budget}; last error: {record.error.kind}: {record.error.message}"
            )


@dataclass
class _Generated:
    completion: Completion
    attempts: int
    cached: bool
    latency_ms: float | None


def _cache_key(suite: LoadedSuite, pc: PreparedCase, repeat: int) -> str:
    # without a prompt (python callables) the case's variables are the input
    extra = None if pc.messages else {"vars": pc.case.vars}
    return cache_key(suite.target, pc.messages, dict(suite.target.params), repeat, extra=extra)


async def _generate(
    state: _State, pc: PreparedCase, repeat: int, ctx: CallContext
) -> _Generated | CaseRecord:
    """The system's answer for one case × repeat (cache, then retried call), or an error record."""
    suite = state.suite
    case = pc.case
    target = suite.target
    params = dict(target.params)
    key = state.keys[(case.id, repeat)]
    hit = state.prefetched.pop(key, None)
    if hit is not None:
        # the latency measured when the answer was produced, so latency checks still grade it
        latency = hit.extra.get("latency_ms")
        return _Generated(hit, attempts=0, cached=True, latency_ms=latency)

    def call() -> Awaitable[Completion]:
        return state.provider.complete(pc.messages, params, ctx)

    started = time.perf_counter()
    try:
        completion, attempts = await call_with_retries(call, state.policy)
    except AuthError as exc:
        raise AuthError(
            f"the provider refused the credentials ({exc.message}); check the API key "
            "environment variable. Stopped the run instead of failing every case.",
            kind="auth",
            status=exc.status,
        ) from None
    except ProviderError as exc:
        state.requests += exc.attempts
        return CaseRecord(
            case_id=case.id,
            repeat=repeat,
            tags=case.tags,
            vars=case.vars,
            outcome=Outcome.ERROR,
            error=ErrorInfo(kind=exc.kind, message=redact(exc.message), status=exc.status),
            attempts=exc.attempts,
            latency_ms=(time.perf_counter() - started) * 1000,
            finished_at=now_iso(),
        )
    state.requests += attempts
    latency_ms = (time.perf_counter() - started) * 1000
    completion.extra["latency_ms"] = latency_ms
    state.cache.put(key, completion)
    return _Generated(completion, attempts, cached=False, latency_ms=latency_ms)


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
    generated = await _generate(state, pc, repeat, ctx)
    if isinstance(generated, CaseRecord):
        return generated
    suite = state.suite
    case = pc.case
    completion = generated.completion
    cost = state.prices.cost(
        completion.model or suite.target.model, completion.input_tokens, completion.output_tokens
    )
    check_ctx = CheckContext(
        output=completion.text,
        case=case,
        latency_ms=generated.latency_ms,
        cost_usd=cost,
        input_tokens=completion.input_tokens,
        output_tokens=completion.output_tokens,
        base_dir=suite.project.root,
    )
    results = [c.evaluate(check_ctx) for c in pc.checks]
    applicable = [g for g in graders if judge_applies(g.name, case, suite.config.judges)]
    verdicts = list(
        await asyncio.gather(*(g.grade(case, completion.text, ctx) for g in applicable))
    )
    outcome, score = _case_outcome(suite, results, verdicts)
    return CaseRecord(
        case_id=case.id,
        repeat=repeat,
        tags=case.tags,
        vars=case.vars,
        outcome=outcome,
        output=completion.text,
        checks=results,
        judges=verdicts,
        usage=Usage(input_tokens=completion.input_tokens, output_tokens=completion.output_tokens),
        cost_usd=cost or 0.0,
        latency_ms=generated.latency_ms,
        attempts=generated.attempts,
        cached=generated.cached,
        score=score,
        finished_at=now_iso(),
    )


def _build_judges(
    suite: LoadedSuite,
    options: RunOptions,
    cache: ResponseCache,
    prices: PriceTable,
    policy: RetryPolicy,
    manifest: dict[str, Any],
) -> list[Grader]:
    """The suite's judges, sharing the run's cache, prices and retry policy."""
    if not suite.judges:
        return []
    from evalkit.judge import build_judges, self_preference_warning

    judges = build_judges(
        suite.judges,
        project=suite.project,
        cache=cache,
        prices=prices,
        policy=policy,
        target_override=options.judge_target_override,
    )
    manifest["judge_versions"] = {j.name: j.version for j in judges}
    warning = self_preference_warning(suite.target, suite.judges)
    if warning:
        import sys

        manifest.setdefault("warnings", []).append(warning)
        print(f"warning: {warning}", file=sys.stderr)
    return list(judges)


def _case_outcome(
    suite: LoadedSuite, results: list[Any], verdicts: list[JudgeVerdict]
) -> tuple[Outcome, float | None]:
    from evalkit.check import score_case

    outcome, score = score_case(results, suite.config.min_score)
    return combine([outcome, *(v.outcome for v in verdicts)]), score


def _default_provider(suite: LoadedSuite) -> Provider:
    from evalkit.provider import create_provider

    return create_provider(suite.target)


def _prepare_run_dir(
    suite: LoadedSuite, options: RunOptions
) -> tuple[Path, dict[str, Any], dict[tuple[str, int], CaseRecord]]:
    project = suite.project
    prompt_version = suite.prompt.version if suite.prompt else "no-prompt"
    if options.resume is not None:
        path = options.resume
        manifest = read_manifest(path)
        _check_resumable(manifest, suite, prompt_version, path)
        done = {rec.key: rec for rec in read_records(path)}
        manifest["resumed_at"] = [*manifest.get("resumed_at", []), now_iso()]
        manifest["status"] = "running"
        write_manifest(path, manifest)
        return path, manifest, done
    run_id = new_run_id()
    path = run_dir(project.resolve(project.runs_dir), suite.name, prompt_version, run_id)
    path.mkdir(parents=True, exist_ok=False)
    target = suite.target
    fresh: dict[str, Any] = {
        "run_id": run_id,
        "suite": suite.name,
        "prompt_version": prompt_version,
        "prompt_label": suite.prompt.label if suite.prompt else None,
        "prompt_path": _rel(suite.prompt.path, project.root) if suite.prompt else None,
        "target": {
            "provider": target.provider,
            "model": target.model,
            "params": target.params,
            "base_url": target.base_url,
            "callable": target.callable,
            "wire": target.wire if target.provider == "scripted" else None,
        },
        "judge_versions": {},
        "golden_path": _rel(suite.golden.path, project.root),
        "golden_sha": suite.golden.sha,
        "cases": len(suite.cases),
        "repeats": suite.config.repeats,
        "git": _git_info(project.root),
        "evalkit_version": __version__,
        "started_at": now_iso(),
        "finished_at": None,
        "status": "running",
    }
    write_manifest(path, fresh)
    return path, fresh, {}


def _check_resumable(
    manifest: dict[str, Any], suite: LoadedSuite, prompt_version: str, path: Path
) -> None:
    mismatches = []
    if manifest.get("suite") != suite.name:
        mismatches.append(f"suite {manifest.get('suite')!r} (now {suite.name!r})")
    if manifest.get("prompt_version") != prompt_version:
        mismatches.append(f"prompt version {manifest.get('prompt_version')} (now {prompt_version})")
    if manifest.get("golden_sha") != suite.golden.sha:
        mismatches.append("a different golden set")
    if mismatches:
        raise InputError(
            "cannot resume: that run was made with "
            + "; ".join(mismatches)
            + ". Start a new run instead.",
            path=path / "manifest.json",
        )


def _rel(p: str | Path, root: Path) -> str:
    try:
        return str(Path(p).resolve().relative_to(root.resolve()))
    except ValueError:
        return str(p)


def _git_info(root: Path) -> dict[str, Any]:
    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(
                ["git", *args], cwd=root, capture_output=True, text=True, timeout=5, check=True
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip()

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def _write_summary_and_report(
    path: Path, manifest: dict[str, Any], summary: dict[str, Any], records: list[CaseRecord]
) -> None:
    import json

    from evalkit._files import write_atomic
    from evalkit.report.markdown import run_report

    write_atomic(path / "summary.json", json.dumps(summary, indent=2, sort_keys=True) + "\n")
    write_atomic(path / "report.md", run_report(manifest, summary, records))


class _progress:
    """Rich progress with live pass/fail/error counts; silent when not on a terminal."""

    def __init__(self, enabled: bool | None, total: int, state: _State) -> None:
        import sys

        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        if os.environ.get("CI"):
            self.enabled = bool(enabled)
        self.total = total
        self.state = state
        self._progress: Any = None

    def __enter__(self) -> Callable[[CaseRecord], None]:
        if not self.enabled:
            return lambda record: None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(
                "[green]✓ {task.fields[p]}[/] [red]✗ {task.fields[f]}[/] "
                "[yellow]! {task.fields[e]}[/]"
            ),
            transient=False,
        )
        self._progress.start()
        task = self._progress.add_task(self.state.suite.name, total=self.total, p=0, f=0, e=0)
        counts = self.state.counts

        def advance(record: CaseRecord) -> None:
            self._progress.update(
                task, advance=1, p=counts["pass"], f=counts["fail"], e=counts["error"]
            )

        return advance

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
