"""A judge as the engine uses it: ``await judge.grade(case, output, ctx) -> JudgeVerdict``.

A verdict is never made up: when no valid verdict can be obtained the outcome is *error* with
the reason (``unparseable``, ``truncated``, ``refusal``, ``no_majority`` or a provider kind).

``samples: k`` asks k times and takes the majority vote among the samples that produced a
verdict. A tie (e.g. 1 pass, 1 fail with k=2) is an **error** of kind ``no_majority``: the
judge could not decide, and calling that a fail (or a pass) would be a default verdict. Use an
odd k. The verdict's ``flip`` flag says whether the samples disagreed at all; over a run that
is the judge's flip rate (its self-consistency).

Verdicts are cached per sample by (judge version, exact rendered messages, model endpoint,
sample index), plus the call context for scripted models (whose answers depend on it); only
successful samples are cached, so a re-run with unchanged outputs makes no judge requests
while errors are retried.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.base.exceptions import InputError
from evalkit.execution.batch import BATCH_DISCOUNT
from evalkit.execution.cache import ResponseCache, cache_key
from evalkit.execution.provider import _common
from evalkit.execution.provider.retry import RetryPolicy
from evalkit.grading.judge.call import VerdictClient
from evalkit.grading.judge.courier import Courier
from evalkit.grading.judge.definition import JudgeDef
from evalkit.grading.judge.prompt import judge_messages, system_message
from evalkit.grading.judge.reply import Sample
from evalkit.grading.judge.version import judge_version
from evalkit.model.golden import Case
from evalkit.model.outcome import Outcome
from evalkit.model.pricing import PriceTable
from evalkit.model.provider import CallContext, Message, TargetSpec
from evalkit.model.record import ErrorInfo, JudgeVerdict, Usage
from evalkit.model.trajectory import Trajectory

if TYPE_CHECKING:
    from evalkit.model.config import ProjectConfig


class Judge:
    """One judge definition bound to the model that answers it (see the module docstring)."""

    def __init__(
        self,
        definition: JudgeDef,
        target: TargetSpec,
        *,
        cache: ResponseCache,
        prices: PriceTable,
        policy: RetryPolicy,
    ) -> None:
        self.definition = definition
        self.name = definition.name
        self.scale = definition.scale_impl
        self.target = target
        #: hash of the definition, its configured output mode and the model that really
        #: answers (a scripted stand-in gets its own version): the verdict cache's key
        self.cache_version = judge_version(definition, target)
        #: the same for every verdict of this judge: built once, not per case
        self._system = system_message(definition)
        self.requests = 0
        self._cache = cache
        self._prices = prices
        self._policy = policy
        self._client: VerdictClient | None = None

    @property
    def pairwise(self) -> bool:
        return self.scale.pairwise

    @property
    def version(self) -> str:
        """The judge version of the output mode in use now (for ``output: auto``, the rung of
        the ladder reached so far); every verdict records the version of its own mode."""
        return self.version_for(self._get_client().mode)

    def version_for(self, mode: str) -> str:
        """The judge version of verdicts obtained in output mode ``mode``."""
        return judge_version(self.definition, self.target, mode=mode)

    def _get_client(self) -> VerdictClient:
        if self._client is None:
            self._client = VerdictClient(self.target, self.definition.output)
        return self._client

    def send_by_batch(self, courier: Courier) -> None:
        """Ask every verdict through a provider batch (``evalkit judge --batch``)."""
        self._get_client().send_by_batch(courier)

    async def prepare(self) -> None:
        """Import the SDK and build the client now (a missing API key raises AuthError here)."""
        self._get_client().prepare()

    async def grade(
        self,
        case: Case,
        output: str,
        ctx: CallContext | None = None,
        trajectory: Trajectory | None = None,
    ) -> JudgeVerdict:
        """Grade one output of ``case``; ``ctx`` is the target call's context (case, prompt);
        ``trajectory`` the conversation's tool calls, shown to a judge that ``sees`` them."""
        if self.pairwise:
            raise InputError(
                f"judge {self.name!r} is pairwise; use evalkit compare --pairwise {self.name}",
                path=self.definition.path,
                field="scale",
            )
        return await self._judge(case, [output], ctx, trajectory)

    async def compare(
        self, case: Case, output_a: str, output_b: str, ctx: CallContext | None = None
    ) -> JudgeVerdict:
        """One pairwise verdict in one order: ``verdict`` is "A", "B" or "tie".

        Its outcome is *pass* when a verdict was obtained, *error* otherwise; position bias is
        handled by :func:`evalkit.grading.judge.pairwise.judge_pairs`, which asks in both orders.
        """
        if not self.pairwise:
            raise InputError(f"judge {self.name!r} is not pairwise", path=self.definition.path)
        return await self._judge(case, [output_a, output_b], ctx)

    async def _judge(
        self,
        case: Case,
        outputs: list[str],
        ctx: CallContext | None,
        trajectory: Trajectory | None = None,
    ) -> JudgeVerdict:
        base = ctx or CallContext(case_id=case.id)
        call_ctx = replace(base, purpose=f"judge:{self.name}", variables=None)
        messages = judge_messages(
            self.definition, case, outputs, system=self._system, trajectory=trajectory
        )
        samples = await asyncio.gather(
            *(self._sample(messages, call_ctx, i) for i in range(self.definition.samples))
        )
        return self._combine(list(samples))

    def _key(self, messages: list[Message], ctx: CallContext, index: int) -> str:
        extra: dict[str, Any] = {"judge_version": self.cache_version}
        if self.target.provider == "scripted":
            extra["ctx"] = _common.context_headers(ctx)  # a script answers per case and label
        return cache_key(self.target, messages, dict(self.target.params), index, extra=extra)

    async def _sample(self, messages: list[Message], ctx: CallContext, index: int) -> Sample:
        key = self._key(messages, ctx, index)
        hit = self._cache.get_json(key)
        if isinstance(hit, dict) and self._valid(hit.get("verdict")):
            if hit.get("mode"):
                self._get_client().adopt(str(hit["mode"]))
            return Sample(
                verdict=hit["verdict"],
                input_tokens=int(hit.get("input_tokens", 0)),
                output_tokens=int(hit.get("output_tokens", 0)),
                cache_read_tokens=int(hit.get("cache_read_tokens", 0)),
                cache_write_tokens=int(hit.get("cache_write_tokens", 0)),
                model=str(hit.get("model", "")),
                mode=str(hit.get("mode", "")) or self._get_client().mode,
                cached=True,
                batch_usage=list(hit.get("batch_usage") or [0, 0, 0, 0]),
            )
        sample = await self._get_client().ask(
            messages,
            self.scale,
            ctx=ctx,
            validation_retries=self.definition.max_validation_retries,
            policy=self._policy,
            ident=key,
        )
        self.requests += sample.requests
        if sample.verdict is not None:
            self._cache.put_json(
                key,
                {
                    "verdict": sample.verdict,
                    "input_tokens": sample.input_tokens,
                    "output_tokens": sample.output_tokens,
                    "cache_read_tokens": sample.cache_read_tokens,
                    "cache_write_tokens": sample.cache_write_tokens,
                    "model": sample.model,
                    "mode": sample.mode,
                    "batch_usage": sample.batch_usage,
                },
            )
        return sample

    def _cost(self, sample: Sample) -> float | None:
        """A sample's cost; the tokens a provider batch answered at the batch discount."""
        model = sample.model or self.target.model
        full = self._prices.cost(
            model,
            sample.input_tokens,
            sample.output_tokens,
            cache_read=sample.cache_read_tokens,
            cache_write=sample.cache_write_tokens,
        )
        tokens_in, tokens_out, read, write = sample.batch_usage
        if full is None or not (tokens_in or tokens_out):
            return full
        batched = self._prices.cost(
            model, tokens_in, tokens_out, cache_read=read, cache_write=write
        )
        return full - (1 - BATCH_DISCOUNT) * (batched or 0.0)

    def _valid(self, verdict: Any) -> bool:
        try:
            self.scale.verdict_model.model_validate(verdict)
        except ValueError:
            return False
        return True

    def _combine(self, samples: list[Sample]) -> JudgeVerdict:
        """Majority over the samples that gave a verdict (see the module docstring)."""
        threshold = self.definition.pass_threshold
        field = self.scale.verdict_field
        costs = [self._cost(s) for s in samples]
        ok = [s for s in samples if s.verdict is not None]
        mode = next((s.mode for s in ok), "") or next((s.mode for s in samples if s.mode), "")
        mode = mode or self._get_client().mode
        common: dict[str, Any] = {
            "name": self.name,
            "version": self.version_for(mode),
            "output_mode": mode,
            "usage": Usage(
                input_tokens=sum(s.input_tokens for s in samples),
                output_tokens=sum(s.output_tokens for s in samples),
                cache_read_input_tokens=sum(s.cache_read_tokens for s in samples),
                cache_creation_input_tokens=sum(s.cache_write_tokens for s in samples),
            ),
            "cost_usd": None if None in costs else sum(c for c in costs if c is not None),
            "cached": all(s.cached for s in samples),
            "requests": sum(s.requests for s in samples),
            "model": next((s.model for s in ok), "") or self.target.model,
            "samples": [_sample_record(i, s, field) for i, s in enumerate(samples)]
            if len(samples) > 1
            else [],
        }
        if not ok:
            error = next((s.error for s in samples if s.error is not None), None)
            error = error or ErrorInfo(kind="unparseable", message="no verdict")
            return JudgeVerdict(outcome=Outcome.ERROR, error=error, **common)
        values = [s.verdict[field] for s in ok if s.verdict is not None]
        votes = [self.scale.vote(v, threshold) for v in values]
        ranked = Counter(votes).most_common()
        flip = len(ranked) > 1
        if flip and ranked[0][1] == ranked[1][1]:
            split = ", ".join(f"{vote}: {n}" for vote, n in ranked)
            error = ErrorInfo(
                kind="no_majority", message=f"{len(ok)} samples split evenly ({split})"
            )
            return JudgeVerdict(outcome=Outcome.ERROR, error=error, flip=True, **common)
        chosen = [
            (s, v) for s, v, vote in zip(ok, values, votes, strict=True) if vote == ranked[0][0]
        ]
        value = self.scale.merge([v for _, v in chosen])
        outcome, score = self.scale.outcome(value, threshold)
        reasoning = str((chosen[0][0].verdict or {}).get("reasoning", ""))
        return JudgeVerdict(
            outcome=outcome, score=score, verdict=value, reasoning=reasoning, flip=flip, **common
        )

    async def aclose(self) -> None:
        """Close the judge model's client (and release a scripted server); the output mode
        ``auto`` settled on is kept (the run's manifest records its version afterwards)."""
        if self._client is not None:
            await self._client.aclose()


def _sample_record(index: int, sample: Sample, field: str) -> dict[str, Any]:
    verdict = sample.verdict or {}
    return {
        "index": index,
        "verdict": verdict.get(field),
        "reasoning": verdict.get("reasoning", ""),
        "cached": sample.cached,
        "error": sample.error.model_dump() if sample.error else None,
    }


def judge_target(definition: JudgeDef, project: ProjectConfig | None = None) -> TargetSpec:
    """The TargetSpec of a judge's own model (a scripted ``script`` resolved in the project)."""
    m = definition.model
    script = m.script
    if script and project is not None:
        script = str(project.resolve(script))
    return TargetSpec(
        provider=m.provider,
        model=m.model,
        params=dict(m.params),
        base_url=m.base_url,
        api_key_env=m.api_key_env,
        no_api_key=m.api_key == "none",
        timeout=m.timeout,
        script=script,
        wire=m.wire,
    )


def build_judges(
    defs: Iterable[JudgeDef],
    *,
    project: ProjectConfig | None,
    cache: ResponseCache,
    prices: PriceTable,
    policy: RetryPolicy,
    target_override: Callable[[JudgeDef], TargetSpec] | None = None,
) -> list[Judge]:
    """A :class:`Judge` per definition; ``target_override`` swaps the model (the demo's script)."""
    return [
        Judge(
            d,
            target_override(d) if target_override else judge_target(d, project),
            cache=cache,
            prices=prices,
            policy=policy,
        )
        for d in defs
    ]


def judge_applies(judge_name: str, case: Case, suite_judges: Sequence[str]) -> bool:
    """Whether a judge grades a case: listed by the suite or added by the case, and not skipped."""
    listed = judge_name in suite_judges or judge_name in case.judges
    return listed and judge_name not in case.skip_judges


def judge_names(suite_judges: Sequence[str], cases: Iterable[Case]) -> list[str]:
    """Every judge a suite needs: its own list plus those cases add, in first-seen order."""
    names = list(suite_judges)
    for case in cases:
        names.extend(case.judges)
    return list(dict.fromkeys(names))


def judge_runtime(
    project: ProjectConfig, suite: str | None = None, *, use_cache: bool = True
) -> tuple[ResponseCache, PriceTable, RetryPolicy]:
    """The cache, price table and retry policy a project's judges use (CLI commands share it).

    The retry policy is the suite's ``retry:`` when ``suite`` names one, else the default.
    The caller closes the cache.
    """
    from evalkit.model.pricing import load_prices

    cache = ResponseCache(project.resolve(project.cache_dir), enabled=use_cache)
    prices = load_prices(project.resolve(project.prices) if project.prices else None)
    if suite is not None and suite in project.suites:
        return cache, prices, project.suites[suite].retry.policy()
    return cache, prices, RetryPolicy()


def scripted_override(
    script: str | Path, wire: str | None = None
) -> Callable[[JudgeDef], TargetSpec]:
    """A ``target_override`` answering every judge from a scripted model (offline runs, demo).

    The judge's model name is kept, so prices (and the self-preference warning) still apply.
    The wire defaults to the judge's own provider (OpenAI for an ``openai`` judge), so the
    scripted stand-in goes through the same SDK, and every caller gets the same judge version.
    """
    resolved = str(Path(script).resolve())

    def override(definition: JudgeDef) -> TargetSpec:
        chosen = wire or ("openai" if definition.model.provider == "openai" else "anthropic")
        return replace(
            judge_target(definition),
            provider="scripted",
            script=resolved,
            base_url=None,
            wire="openai" if chosen == "openai" else "anthropic",
        )

    return override
