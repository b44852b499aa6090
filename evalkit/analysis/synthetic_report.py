"""Records of a realistic size for the HTML report's size test and benchmark.

Sized like the bundled support example: one system prompt of ~1,800 characters shared by every
case, a question of ~150, an answer of ~500, seven checks with their reasons, two judges with a
sentence or two of reasoning each, tokens, cost and latency. Deterministic for a seed.
"""

from __future__ import annotations

import numpy as np

from evalkit.model.outcome import CheckResult, Outcome
from evalkit.model.record import CaseRecord, JudgeVerdict, Usage

_VOCABULARY = (
    "order refund policy days return item shipping customer account warranty price label within "
    "business request store receipt exchange damaged delivery tracking support credit card gift "
    "balance online purchase original package carrier window eligible"
)
_WORDS = tuple(_VOCABULARY.split())
SYSTEM = (
    "You are the customer-support assistant for Northwind Outfitters. Answer using ONLY the "
    "policy documents below. Reply with JSON only: {\"answer\": ..., \"citations\": [...]}.\n"
    + "\n".join(f"[pol-{i}] " + " ".join(_WORDS[(i * 7 + j) % len(_WORDS)] for j in range(40))
                for i in range(6))
)  # fmt: skip
_CHECKS = ("json-schema", "citations", "not-contains", "no-pii", "length", "latency", "contains")


def _sentence(rng: np.random.Generator, words: int) -> str:
    return " ".join(_WORDS[k] for k in rng.integers(0, len(_WORDS), words)).capitalize() + "."


def report_records(n_cases: int, *, repeats: int = 1, seed: int = 0) -> list[CaseRecord]:
    """``n_cases`` × ``repeats`` graded records, ~10% failing a check, ~2% failing a judge."""
    rng = np.random.default_rng(seed)
    out: list[CaseRecord] = []
    for r in range(repeats):
        for i in range(n_cases):
            question = _sentence(rng, 25)
            answer = " ".join(_sentence(rng, 12) for _ in range(6))
            failing = rng.random() < 0.1
            checks = [
                CheckResult(
                    name=name,
                    outcome=Outcome.FAIL if failing and name == "contains" else Outcome.PASS,
                    reason=f"{name}: " + _sentence(rng, 6),
                )
                for name in _CHECKS
            ]
            judges = [
                JudgeVerdict(
                    name=name,
                    version="j1",
                    outcome=Outcome.FAIL if rng.random() < 0.02 else Outcome.PASS,
                    score=1.0,
                    verdict=True,
                    reasoning=_sentence(rng, 14) + " " + _sentence(rng, 10),
                    usage=Usage(input_tokens=600, output_tokens=60),
                    cost_usd=0.0012,
                )
                for name in ("grounded", "helpful")
            ]
            fail = failing or any(j.outcome is Outcome.FAIL for j in judges)
            out.append(
                CaseRecord(
                    case_id=f"case-{i:05d}",
                    repeat=r,
                    tags=[f"topic-{i % 12}", "adversarial" if i % 9 == 0 else "ordinary"],
                    vars={"question": question},
                    prompt=[
                        {"role": "system", "content": SYSTEM},
                        {"role": "user", "content": f"<question>\n{question}\n</question>"},
                    ],
                    expected=_sentence(rng, 30),
                    outcome=Outcome.FAIL if fail else Outcome.PASS,
                    output=f'{{"answer": "{answer}", "citations": ["pol-{i % 6}"]}}',
                    checks=checks,
                    judges=judges,
                    usage=Usage(input_tokens=450, output_tokens=120),
                    cost_usd=0.0021,
                    finish_reason="end_turn",
                    latency_ms=float(rng.gamma(4.0, 200.0)),
                    attempts=1,
                )
            )
    return out
