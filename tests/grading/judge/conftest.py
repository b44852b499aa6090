"""Judges against a loopback ScriptedServer, through the real SDK clients and instructor."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from evalkit.execution.cache import ResponseCache
from evalkit.execution.provider.retry import RetryPolicy
from evalkit.grading.judge import Judge, JudgeDef, judge_target
from evalkit.grading.judge.definition import JudgeModel
from evalkit.model.golden import Case, ContextDoc
from evalkit.model.pricing import load_prices
from evalkit.model.provider import CallContext
from evalkit.model.record import JudgeVerdict
from evalkit.scripted import ScriptedServer

FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05)
RUBRIC = "PASS if every claim in the reply is supported by the documents. FAIL otherwise."
CASE = Case(
    id="refund",
    vars={"question": "Can I get a refund after 9 days?"},
    expected="Yes.",
    context=[ContextDoc(id="pol-1", text="Orders over 7 days late are refundable.")],
)


def pass_verdict(reasoning: str = "supported by pol-1") -> dict[str, Any]:
    return {"reasoning": reasoning, "passed": True}


def fail_verdict(reasoning: str = "unsupported claim") -> dict[str, Any]:
    return {"reasoning": reasoning, "passed": False}


def make_def(**overrides: Any) -> JudgeDef:
    data: dict[str, Any] = {
        "name": "grounded",
        "scale": "binary",
        "model": JudgeModel(
            provider="anthropic", model="claude-haiku-4-5", params={"max_tokens": 256}
        ),
        "rubric": RUBRIC,
        "sees": ["question", "context", "output"],
    }
    data.update(overrides)
    return JudgeDef.model_validate(data)


@pytest.fixture(params=["anthropic", "openai"])
def wire(request: pytest.FixtureRequest) -> str:
    return str(request.param)


MakeJudge = Callable[..., Judge]


@pytest.fixture
def make_judge(tmp_path: Path, wire: str) -> Iterator[MakeJudge]:
    """A Judge answered by ``server`` on the test's wire (the model name is kept for prices)."""
    caches: list[ResponseCache] = []

    def make(
        server: ScriptedServer,
        definition: JudgeDef | None = None,
        *,
        cache: ResponseCache | None = None,
        **overrides: Any,
    ) -> Judge:
        d = definition or make_def(**overrides)
        url = server.url if wire == "anthropic" else server.openai_base_url
        target = replace(judge_target(d), provider="scripted", base_url=url, wire=wire)
        if cache is None:
            cache = ResponseCache(tmp_path / "cache")
            caches.append(cache)
        return Judge(d, target, cache=cache, prices=load_prices(), policy=FAST)

    yield make
    for cache in caches:
        cache.close()


def grade(
    judge: Judge, output: str, case: Case = CASE, label: str | None = "v1", **ctx: Any
) -> JudgeVerdict:
    """One grade() call in its own loop, closing the judge afterwards."""

    async def go() -> JudgeVerdict:
        try:
            context = CallContext(case_id=case.id, prompt_label=label, **ctx)
            return await judge.grade(case, output, context)
        finally:
            await judge.aclose()

    return asyncio.run(go())
