"""Benchmark: every check over 10,000 synthetic stored outputs, plus a typical regression report.

Prints checks per second per family, and the check time of 1,000 cached cases x 8 typical
checks (target: under 2 s on a 2-core machine). Figures, not pass/fail.

    python benchmarks/bench_checks.py [--outputs 10000]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from evalkit.grading.check import REGISTRY, CheckContext, parse_check, score_case
from evalkit.model.golden import Case, ContextDoc

POLICY = [
    ContextDoc(id="policy-3", text="Orders more than 7 days late are refundable in full."),
    ContextDoc(id="policy-4", text="Store credit never expires. Gift cards are not refundable."),
    ContextDoc(id="policy-7", text="We never share one customer's data with another customer."),
]
SCHEMA = {
    "type": "object",
    "required": ["answer", "citations"],
    "properties": {
        "answer": {"type": "string"},
        "citations": {"type": "array", "items": {"type": "string"}},
    },
}


def has_answer(output: str, case: Case) -> bool:
    """A custom check for the `python` family."""
    return '"answer"' in output


def synthetic_outputs(n: int, seed: int = 7) -> list[CheckContext]:
    rng = random.Random(seed)
    answers = [
        "Yes: orders more than 7 days late are refundable in full.",
        'Per policy, "Store credit never expires." You can use it any time.',
        "I'm sorry, but I can't share other customers' data.",
        "Please email jane.doe@example.com or call 415-555-0100 to follow up.",
        "Your card 4111 1111 1111 1111 was refunded; order #482913 is closed.",
    ]
    out: list[CheckContext] = []
    for i in range(n):
        answer = rng.choice(answers) + " " + " ".join(rng.choices(["thanks", "order", "late"], k=5))
        cites = rng.sample(["policy-3", "policy-4", "policy-7", "policy-9"], k=rng.randint(0, 2))
        body = json.dumps({"answer": answer, "citations": cites})
        style = i % 4
        text = (
            body
            if style < 2
            else (
                f"Sure! Here it is:\n```json\n{body}\n```\nAnything else?" if style == 2 else answer
            )
        )
        case = Case(
            id=f"case-{i}",
            vars={"question": "Can I get a refund?"},
            expected="Yes: orders more than 7 days late are refundable.",
            context=POLICY,
        )
        out.append(
            CheckContext(
                output=text,
                case=case,
                latency_ms=rng.uniform(100, 3000),
                cost_usd=rng.uniform(0.0001, 0.01),
                input_tokens=rng.randint(200, 2000),
                output_tokens=rng.randint(20, 600),
            )
        )
    return out


FAMILIES: dict[str, list[dict[str, Any]]] = {
    "text": [
        {"type": "equals"},
        {"type": "contains", "value": "refundable"},
        {"type": "icontains", "value": "REFUND"},
        {"type": "contains-any", "values": ["refund", "credit"]},
        {"type": "contains-all", "values": ["refund", "late"]},
        {"type": "starts-with", "value": "{"},
        {"type": "ends-with", "value": "}"},
        {"type": "regex", "pattern": r"#\d{6}", "flags": "i"},
        {"type": "similar"},
        {"type": "length", "max": 60, "unit": "words"},
        {"type": "rouge-l"},
    ],
    "json": [
        {"type": "json-valid"},
        {"type": "json-extract"},
        {"type": "json-schema", "schema": "reply.json", "extract": True},
        {"type": "json-path", "path": "citations[0]", "equals": "policy-3"},
        {"type": "json-path", "path": "answer", "matches": "refund", "extract": True},
        {"type": "json-equals", "value": {"answer": "x", "citations": []}, "exclude": ["answer"]},
    ],
    "grounding": [
        {"type": "citations", "extract": True},
        {"type": "quotes-grounded", "extract": True},
        {"type": "no-pii"},
        {"type": "refusal"},
    ],
    "operational": [
        {"type": "latency", "max_ms": 2000},
        {"type": "cost", "max_usd": 0.005},
        {"type": "tokens", "max_output": 400},
    ],
    "custom": [{"type": "python", "function": "__main__:has_answer"}],
    "compose": [
        {
            "type": "all",
            "threshold": 0.6,
            "checks": [{"type": "json-valid"}, {"type": "not-refusal"}, {"type": "no-pii"}],
        },
        {"type": "any", "checks": [{"type": "refusal"}, {"type": "citations", "require": True}]},
    ],
}

TYPICAL = [
    {"type": "json-schema", "schema": "reply.json", "extract": True},
    {"type": "json-path", "path": "answer", "exists": True, "extract": True},
    {"type": "citations", "require": True, "extract": True},
    {"type": "not-contains", "value": "As an AI"},
    {"type": "no-pii"},
    {"type": "not-refusal"},
    {"type": "length", "max": 120, "unit": "words"},
    {"type": "similar", "threshold": 0.3},
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outputs", type=int, default=10_000)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp())
    (base / "reply.json").write_text(json.dumps(SCHEMA))
    contexts = synthetic_outputs(args.outputs)
    covered = {c["type"] for checks in FAMILIES.values() for c in checks}
    missing = set(REGISTRY) - covered
    print(
        f"{len(contexts):,} outputs; {len(REGISTRY)} check types (not covered: {missing or 'none'})"
    )
    print(f"{'family':<12} {'checks':>7} {'evaluations':>12} {'seconds':>8} {'checks/s':>10}")
    per_type: dict[str, float] = defaultdict(float)
    for family, raws in FAMILIES.items():
        checks = [parse_check(raw, base_dir=base) for raw in raws]
        start = time.perf_counter()
        for check in checks:
            t0 = time.perf_counter()
            for ctx in contexts:
                check.evaluate(ctx)
            per_type[check.type_name] += time.perf_counter() - t0
        elapsed = time.perf_counter() - start
        evaluations = len(checks) * len(contexts)
        rate = evaluations / elapsed
        print(f"{family:<12} {len(checks):>7} {evaluations:>12,} {elapsed:>8.2f} {rate:>10,.0f}")
    slowest = sorted(per_type.items(), key=lambda kv: -kv[1])[:5]
    print(
        "slowest types (µs/check):",
        ", ".join(f"{name} {seconds / len(contexts) * 1e6:.1f}" for name, seconds in slowest),
    )

    typical = [parse_check(raw, base_dir=base) for raw in TYPICAL]
    report_cases = synthetic_outputs(1_000, seed=11)
    start = time.perf_counter()
    for ctx in report_cases:
        score_case([check.evaluate(ctx) for check in typical])
    elapsed = time.perf_counter() - start
    verdict = "OK" if elapsed < 2 else "OVER TARGET"
    print(
        f"report: 1,000 cases x {len(typical)} checks in {elapsed:.3f} s (target < 2 s: {verdict})"
    )


if __name__ == "__main__":
    main()
