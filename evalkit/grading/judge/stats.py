"""Per-judge figures for the run summary, and the self-preference warning.

Judge tokens and cost are reported apart from the system's, with each judge's error rate beside
its pass rate (an error is never a pass or a fail) and its flip rate: the share of verdicts
whose samples disagreed (only verdicts with two or more valid samples can flip).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from evalkit.model.outcome import Outcome
from evalkit.model.pricing import total_cost
from evalkit.model.provider import TargetSpec
from evalkit.model.record import CaseRecord, JudgeVerdict

_FAMILIES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("claude", re.compile(r"claude|anthropic")),
    ("gpt", re.compile(r"(^|[/:])(gpt|chatgpt|o\d)([-.]|$)|openai")),
    ("gemini", re.compile(r"gemini|gemma")),
    ("llama", re.compile(r"llama")),
    ("mistral", re.compile(r"mistral|mixtral")),
    ("qwen", re.compile(r"qwen")),
    ("deepseek", re.compile(r"deepseek")),
)


def judge_stats(records: Iterable[CaseRecord]) -> dict[str, dict[str, Any]]:
    """Per judge name: pass/error/flip rates, tokens, cost, requests and error kinds."""
    by_name: dict[str, list[JudgeVerdict]] = defaultdict(list)
    for record in records:
        for verdict in record.judges:
            by_name[verdict.name].append(verdict)
    return {name: _stats(verdicts) for name, verdicts in sorted(by_name.items())}


def _stats(verdicts: list[JudgeVerdict]) -> dict[str, Any]:
    n = len(verdicts)
    passed = sum(v.outcome is Outcome.PASS for v in verdicts)
    failed = sum(v.outcome is Outcome.FAIL for v in verdicts)
    errored = n - passed - failed
    multi = [v for v in verdicts if sum(1 for s in v.samples if _valid_sample(s)) > 1]
    kinds: dict[str, int] = defaultdict(int)
    for v in verdicts:
        if v.error is not None:
            kinds[v.error.kind] += 1
    tokens_in = sum(v.usage.input_tokens for v in verdicts)
    tokens_out = sum(v.usage.output_tokens for v in verdicts)
    return {
        "n": n,
        "pass": passed,
        "fail": failed,
        "error": errored,
        "pass_rate": passed / (passed + failed) if passed + failed else None,
        "error_rate": errored / n if n else None,
        "flip_rate": sum(v.flip for v in multi) / len(multi) if multi else None,
        "input_tokens": tokens_in,
        "output_tokens": tokens_out,
        "tokens": tokens_in + tokens_out,
        "cost_usd": total_cost([v.cost_usd for v in verdicts]),
        "requests": sum(v.requests for v in verdicts),
        "cached": sum(v.cached for v in verdicts),
        "versions": sorted({v.version for v in verdicts}),
        "errors_by_kind": dict(sorted(kinds.items())),
    }


def _valid_sample(sample: Any) -> bool:
    return isinstance(sample, dict) and sample.get("verdict") is not None


def model_family(model: str) -> str | None:
    """``claude`` for any Claude, ``gpt`` for GPT and o-series models, … or None if unknown."""
    name = model.lower()
    for family, pattern in _FAMILIES:
        if pattern.search(name):
            return family
    return None


def _endpoint(url: str | None) -> str:
    return (url or "").rstrip("/").removesuffix("/v1")


def self_preference_warning(target: TargetSpec, defs: Iterable[Any]) -> str | None:
    """A warning when a judge is the system under test, or of the same model family.

    LLM judges tend to prefer outputs of their own family; a same-family judge inflates pass
    rates. A judge with the target's model name on the target's base URL *is* the system under
    test, whatever the family (a local model named ``SmolLM2`` has no known family).
    ``defs`` are JudgeDefs (their ``model``) or Judges (their ``target``).
    """
    itself = []
    for d in defs:
        m = d.target if hasattr(d, "target") else d.model
        same_server = _endpoint(m.base_url) == _endpoint(target.base_url)
        if target.model and m.model == target.model and same_server:
            itself.append(f"{d.name} ({m.model})")
    if itself:
        where = f" at {target.base_url}" if target.base_url else ""
        return (
            f"judge {', '.join(itself)} is the system under test itself (same model{where}); "
            "a model grading its own outputs favours them. Use another model as the judge, or "
            "calibrate it against human labels."
        )
    family = model_family(target.model)
    if family is None:
        return None
    same = []
    for d in defs:
        model = d.target.model if hasattr(d, "target") else d.model.model
        if model_family(model) == family:
            same.append(f"{d.name} ({model})")
    if not same:
        return None
    return (
        f"judge {', '.join(same)} is from the same model family ({family}) as the system under "
        f"test ({target.model}); LLM judges tend to favour their own family's outputs. "
        "Prefer a judge from another family, or calibrate it against human labels."
    )
