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
from evalkit.model.pricing import CostTotal
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
    stats = JudgeStats()
    for record in records:
        stats.add(record)
    return stats.result()


class JudgeStats:
    """:func:`judge_stats` fed record by record: counts only, no verdict is kept."""

    def __init__(self) -> None:
        self._by_name: dict[str, _Tally] = {}

    def add(self, record: CaseRecord) -> None:
        for verdict in record.judges:
            tally = self._by_name.get(verdict.name)
            if tally is None:
                tally = self._by_name[verdict.name] = _Tally()
            tally.add(verdict)

    def result(self) -> dict[str, dict[str, Any]]:
        return {name: t.result() for name, t in sorted(self._by_name.items())}


class _Tally:
    def __init__(self) -> None:
        self.n = self.passed = self.failed = self.multi = self.flips = 0
        self.tokens_in = self.tokens_out = self.requests = self.cached = 0
        self.kinds: dict[str, int] = defaultdict(int)
        self.cost = CostTotal()
        self.versions: set[str] = set()

    def add(self, v: JudgeVerdict) -> None:
        self.n += 1
        self.passed += v.outcome is Outcome.PASS
        self.failed += v.outcome is Outcome.FAIL
        if sum(1 for s in v.samples if _valid_sample(s)) > 1:
            self.multi += 1
            self.flips += v.flip
        if v.error is not None:
            self.kinds[v.error.kind] += 1
        self.tokens_in += v.usage.input_tokens
        self.tokens_out += v.usage.output_tokens
        self.cost.add(v.cost_usd)
        self.requests += v.requests
        self.cached += v.cached
        self.versions.add(v.version)

    def result(self) -> dict[str, Any]:
        n, passed, failed = self.n, self.passed, self.failed
        errored = n - passed - failed
        return {
            "n": n,
            "pass": passed,
            "fail": failed,
            "error": errored,
            "pass_rate": passed / (passed + failed) if passed + failed else None,
            "error_rate": errored / n if n else None,
            "flip_rate": self.flips / self.multi if self.multi else None,
            "input_tokens": self.tokens_in,
            "output_tokens": self.tokens_out,
            "tokens": self.tokens_in + self.tokens_out,
            "cost_usd": self.cost.value,
            "requests": self.requests,
            "cached": self.cached,
            "versions": sorted(self.versions),
            "errors_by_kind": dict(sorted(self.kinds.items())),
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
