"""The one-pass summary (records fed one by one, none kept) equals the list-based summary it
replaced, on random runs with repeats, provider errors, grader errors, judges and unknown costs.

``_list_summary`` below is the list-based ``summarize`` as it stood before the streaming one
(its pass^k from each case's list of outcomes, its judge figures from each judge's list of
verdicts), frozen here as the oracle.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from evalkit.analysis.caserates import (
    PASS_RATE_DEFINITION,
    CaseTable,
    grader_warnings,
    rates,
)
from evalkit.analysis.stats.interval import case_mean_interval
from evalkit.analysis.summary import Summarizer, summarize
from evalkit.model.outcome import CheckResult, Outcome
from evalkit.model.record import CaseRecord, ErrorInfo, JudgeVerdict, Usage
from evalkit.storage.store import ResultsWriter, iter_records, latest_records


def _pass_k(table: CaseTable, k: int) -> dict[str, Any]:
    complete, errored, incomplete = [], 0, 0
    for cid in table.case_ids:
        outcomes = [r.outcome for r in table.records[cid]]
        if Outcome.ERROR in outcomes:
            errored += 1
        elif len(outcomes) < k:
            incomplete += 1
        else:
            complete.append(outcomes)
    base: dict[str, Any] = {
        "pass_k_cases": len(complete),
        "pass_k_excluded": errored + incomplete,
        "pass_k_excluded_by_reason": {"errored": errored, "incomplete": incomplete},
    }
    if not complete:
        return {**base, "pass_all_k": None, "pass_any_k": None, "flaky_cases": 0}
    all_pass = sum(all(o is Outcome.PASS for o in v) for v in complete)
    any_pass = sum(any(o is Outcome.PASS for o in v) for v in complete)
    return {
        **base,
        "pass_all_k": all_pass / len(complete),
        "pass_any_k": any_pass / len(complete),
        "flaky_cases": any_pass - all_pass,
    }


def _cost(costs: list[float | None]) -> float | None:
    return None if any(c is None for c in costs) else round(sum(c for c in costs if c), 6)


def _judge_stats(recs: list[CaseRecord]) -> dict[str, dict[str, Any]]:
    by_name: dict[str, list[JudgeVerdict]] = defaultdict(list)
    for r in recs:
        for v in r.judges:
            by_name[v.name].append(v)
    out = {}
    for name, vs in sorted(by_name.items()):
        n = len(vs)
        p = sum(v.outcome is Outcome.PASS for v in vs)
        f = sum(v.outcome is Outcome.FAIL for v in vs)
        multi = [v for v in vs if sum(1 for s in v.samples if s.get("verdict") is not None) > 1]
        kinds: dict[str, int] = defaultdict(int)
        for v in vs:
            if v.error is not None:
                kinds[v.error.kind] += 1
        tin, tout = sum(v.usage.input_tokens for v in vs), sum(v.usage.output_tokens for v in vs)
        out[name] = {
            "n": n,
            "pass": p,
            "fail": f,
            "error": n - p - f,
            "pass_rate": p / (p + f) if p + f else None,
            "error_rate": (n - p - f) / n if n else None,
            "flip_rate": sum(v.flip for v in multi) / len(multi) if multi else None,
            "input_tokens": tin,
            "output_tokens": tout,
            "tokens": tin + tout,
            "cost_usd": _cost([v.cost_usd for v in vs]),
            "requests": sum(v.requests for v in vs),
            "cached": sum(v.cached for v in vs),
            "versions": sorted({v.version for v in vs}),
            "errors_by_kind": dict(sorted(kinds.items())),
        }
    return out


def _list_summary(recs: list[CaseRecord], repeats: int) -> dict[str, Any]:
    table = CaseTable(recs)
    overall = rates(table.overall)
    interval, method = case_mean_interval(table.case_rates(), repeats)
    checks = {name: rates(t) for name, t in sorted(table.checks.items())}
    judges = {name: rates(t) for name, t in sorted(table.judges.items())}
    tags = {tag: rates(table.overall, ids) for tag, ids in table.tag_cases().items()}
    measured = [r.latency_ms for r in recs if r.latency_ms is not None]
    live = [r.latency_ms for r in recs if r.latency_ms is not None and not r.cached]
    lat = np.array(live or measured)
    kinds: dict[str, int] = defaultdict(int)
    for r in recs:
        if r.error is not None:
            kinds[r.error.kind] += 1
        if any(c.outcome is Outcome.ERROR for c in r.checks):
            kinds["check"] += 1
        if any(j.outcome is Outcome.ERROR for j in r.judges):
            kinds["judge"] += 1
    summary: dict[str, Any] = {
        **overall,
        "pass_rate_definition": PASS_RATE_DEFINITION,
        "pass_rate_interval": None if interval is None else interval.model_dump(),
        "pass_rate_interval_note": method,
        "repeats": repeats,
        "checks": checks,
        "judges": judges,
        "tags": tags,
        "grader_error_warning": 0.2,
        "warnings": grader_warnings(overall, checks, judges, 0.2),
        "cost_usd": _cost([r.cost_usd for r in recs]),
        "judge_cost_usd": _cost([j.cost_usd for r in recs for j in r.judges]),
        "truncated": sum(r.truncated for r in recs),
        "truncated_rate": sum(r.truncated for r in recs) / len(recs) if recs else None,
        "cache_read_input_tokens": sum(r.usage.cache_read_input_tokens for r in recs),
        "cache_creation_input_tokens": sum(r.usage.cache_creation_input_tokens for r in recs),
        "input_tokens": sum(r.usage.input_tokens for r in recs),
        "output_tokens": sum(r.usage.output_tokens for r in recs),
        "latency_ms_p50": float(np.percentile(lat, 50)) if lat.size else None,
        "latency_ms_p95": float(np.percentile(lat, 95)) if lat.size else None,
        "cached": sum(r.cached for r in recs),
        "errors_by_kind": dict(sorted(kinds.items())),
    }
    if repeats > 1:
        summary.update(_pass_k(table, repeats))
    if judges:
        stats = _judge_stats(recs)
        for name, row in stats.items():
            row.update({k: judges[name][k] for k in ("pass_rate", "error_rate") if name in judges})
        summary["judge_stats"] = stats
    return summary


def _outcome(rng: random.Random, weights: tuple[int, int, int] = (6, 3, 1)) -> Outcome:
    return rng.choices([Outcome.PASS, Outcome.FAIL, Outcome.ERROR], weights)[0]


def _verdict(rng: random.Random, name: str) -> JudgeVerdict:
    outcome = _outcome(rng)
    samples = [{"verdict": rng.random() < 0.7} for _ in range(rng.choice([0, 1, 3]))]
    return JudgeVerdict(
        name=name,
        version=rng.choice(["j1", "j1", "j2"]),
        outcome=outcome,
        reasoning="why",
        error=ErrorInfo(kind=rng.choice(["timeout", "unparseable"]), message="m")
        if outcome is Outcome.ERROR
        else None,
        usage=Usage(input_tokens=rng.randint(0, 90), output_tokens=rng.randint(0, 9)),
        cost_usd=None if rng.random() < 0.02 else rng.random() / 1000,
        samples=samples,
        flip=len(samples) > 1 and rng.random() < 0.3,
        requests=rng.randint(0, 2),
        cached=rng.random() < 0.5,
    )


def random_run(seed: int, repeats: int, judges: bool) -> list[CaseRecord]:
    """Cases × repeats (some repeats missing), provider errors, check errors, several results
    under one check name, tags, unknown costs, cached answers and missing latencies."""
    rng = random.Random(seed)
    out = []
    for i in range(rng.randint(0, 60)):
        tags = rng.sample(["a", "b", "c"], rng.randint(0, 2))
        for repeat in range(repeats):
            if rng.random() < 0.05:
                continue  # the run stopped before this repeat
            if rng.random() < 0.08:
                kind = rng.choice(["rate_limit", "timeout"])
                rec = CaseRecord(
                    case_id=f"c{i}",
                    repeat=repeat,
                    tags=tags,
                    outcome=Outcome.ERROR,
                    error=ErrorInfo(kind=kind, message="boom", status=429),
                    attempts=3,
                    cost_usd=0.0,
                )
                out.append(rec)
                continue
            checks = []
            for name in rng.sample(["contains", "json", "json", "regex"], rng.randint(0, 4)):
                o = _outcome(rng, (7, 2, 1))
                checks.append(CheckResult(name=name, outcome=o, reason="r"))
            verdicts = [
                _verdict(rng, n) for n in ("grounded", "tone") if judges and rng.random() < 0.8
            ]
            outcomes = [c.outcome for c in checks] + [v.outcome for v in verdicts]
            outcome = (
                Outcome.FAIL
                if Outcome.FAIL in outcomes
                else Outcome.ERROR
                if Outcome.ERROR in outcomes
                else Outcome.PASS
            )
            out.append(
                CaseRecord(
                    case_id=f"c{i}",
                    repeat=repeat,
                    tags=tags,
                    outcome=outcome,
                    output=f"answer {rng.randint(0, 5)}",
                    checks=checks,
                    judges=verdicts,
                    usage=Usage(
                        input_tokens=rng.randint(1, 500),
                        output_tokens=rng.randint(1, 50),
                        cache_read_input_tokens=rng.randint(0, 5),
                        cache_creation_input_tokens=rng.randint(0, 5),
                    ),
                    cost_usd=None if rng.random() < 0.01 else rng.random() / 100,
                    truncated=rng.random() < 0.1,
                    latency_ms=None if rng.random() < 0.1 else rng.uniform(5, 900),
                    cached=rng.random() < 0.3,
                )
            )
    rng.shuffle(out)  # records finish in any order
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return (bool(a == b) and type(a) is type(b)) or (a == b and {type(a), type(b)} <= {int, float})


@pytest.mark.parametrize("seed", range(40))
def test_the_one_pass_summary_equals_the_list_based_one(seed: int) -> None:
    repeats = 1 + seed % 4
    recs = random_run(seed, repeats, judges=seed % 2 == 0)
    acc = Summarizer()
    for rec in recs:
        acc.add(rec)
    streamed = acc.summary(repeats=repeats)
    expected = _list_summary(recs, repeats)
    assert streamed.keys() == expected.keys()
    for key in expected:
        assert _same(streamed[key], expected[key]), (key, streamed[key], expected[key])


def test_the_summary_of_a_run_streamed_from_disk_equals_the_summary_of_its_list(
    tmp_path: Path,
) -> None:
    """Superseded lines (a resumed run's retried errors) are left out of both alike."""
    recs = random_run(7, 3, judges=True)
    retried = [
        r.model_copy(update={"outcome": Outcome.PASS, "error": None, "checks": []})
        for r in recs
        if r.error is not None
    ]
    assert retried, "the seed makes provider errors to retry"
    with ResultsWriter(tmp_path) as writer:
        for rec in [*recs, *retried]:
            writer.append(rec)
    latest = latest_records([*recs, *retried])
    from_disk = summarize(iter_records(tmp_path), repeats=3, project_root=tmp_path, run_id="r")
    expected = _list_summary(latest, 3)
    assert from_disk.pop("calibration").keys() == {"grounded", "tone"}
    assert _same(from_disk, expected)
