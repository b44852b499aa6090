"""Synthetic stored runs for tests and benchmarks: real store layout, no model involved.

Written through the same manifest/results format :func:`evalkit.storage.store.load_run` reads, so
what
is compared in a test is exactly what a real run would store.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from evalkit.base.files import write_atomic
from evalkit.model.outcome import CheckResult, Outcome
from evalkit.model.record import CaseRecord, ErrorInfo, JudgeVerdict, Usage
from evalkit.storage.store import RESULTS, encode_record, run_dir, write_manifest


def manifest(suite: str, prompt_version: str, run_id: str, **overrides: Any) -> dict[str, Any]:
    """A complete, deterministic manifest (fixed timestamps, so reports are reproducible)."""
    data: dict[str, Any] = {
        "run_id": run_id,
        "suite": suite,
        "prompt_version": prompt_version,
        "prompt_label": None,
        "target": {"provider": "scripted", "model": "scripted-1", "params": {}},
        "judge_versions": {},
        "golden_sha": "g0",
        "git": {"commit": "0" * 40, "dirty": False},
        "evalkit_version": "0.1.0",
        "started_at": "2025-01-01T00:00:00+00:00",
        "finished_at": "2025-01-01T00:01:00+00:00",
        "status": "complete",
    }
    data.update(overrides)
    return data


def write_run(
    root: Path,
    records: Iterable[CaseRecord],
    *,
    suite: str = "support",
    prompt_version: str = "p1",
    run_id: str = "run-1",
    **manifest_overrides: Any,
) -> Path:
    """Write ``runs/<suite>/<prompt-version>/<run-id>/`` under ``root``; returns the run dir."""
    path = run_dir(root, suite, prompt_version, run_id)
    write_manifest(path, manifest(suite, prompt_version, run_id, **manifest_overrides))
    write_atomic(path / RESULTS, "".join(encode_record(rec) for rec in records))
    return path


def random_records(
    n_cases: int,
    n_checks: int,
    *,
    pass_prob: float | np.ndarray = 0.9,
    error_prob: float = 0.0,
    seed: int = 0,
    repeats: int = 1,
) -> list[CaseRecord]:
    """Records where each check passes independently with ``pass_prob`` (per case if an array)."""
    rng = np.random.default_rng(seed)
    probs = np.broadcast_to(np.asarray(pass_prob, dtype=np.float64), (n_cases,))
    out: list[CaseRecord] = []
    for r in range(repeats):
        passes = rng.random((n_cases, n_checks)) < probs[:, None] ** (1.0 / max(n_checks, 1))
        errors = rng.random(n_cases) < error_prob
        latency = rng.gamma(4.0, 200.0, n_cases)
        for i in range(n_cases):
            if errors[i]:
                out.append(
                    CaseRecord(
                        case_id=f"case-{i:05d}",
                        repeat=r,
                        tags=[f"t{i % 5}"],
                        outcome=Outcome.ERROR,
                        latency_ms=float(latency[i]),
                    )
                )
                continue
            checks = [
                CheckResult(
                    name=f"check-{j}",
                    outcome=Outcome.PASS if passes[i, j] else Outcome.FAIL,
                    reason="" if passes[i, j] else "mismatch",
                )
                for j in range(n_checks)
            ]
            ok = bool(passes[i].all())
            out.append(
                CaseRecord(
                    case_id=f"case-{i:05d}",
                    repeat=r,
                    tags=[f"t{i % 5}"],
                    outcome=Outcome.PASS if ok else Outcome.FAIL,
                    output="...",
                    checks=checks,
                    usage=Usage(input_tokens=100, output_tokens=20),
                    cost_usd=0.0001,
                    latency_ms=float(latency[i]),
                )
            )
    return out


def _rec(
    case_id: str,
    outcome: str,
    tags: list[str],
    *,
    fail: str | None = None,
    judge_fail: str | None = None,
    error: str | None = None,
    latency: float = 500.0,
    repeat: int = 0,
) -> CaseRecord:
    """One hand-written record: ``fail`` fails the ``contains`` check, ``judge_fail`` the judge."""
    if error is not None:
        return CaseRecord(
            case_id=case_id,
            repeat=repeat,
            tags=tags,
            outcome=Outcome.ERROR,
            error=ErrorInfo(kind="timeout", message=error),
            latency_ms=latency,
        )
    checks = [
        CheckResult(
            name="contains", outcome=Outcome.FAIL if fail else Outcome.PASS, reason=fail or ""
        ),
        CheckResult(name="max-length", outcome=Outcome.PASS),
    ]
    judges = [
        JudgeVerdict(
            name="grounded",
            version="j",
            outcome=Outcome.FAIL if judge_fail else Outcome.PASS,
            reasoning=judge_fail or "supported by policy",
        )
    ]
    return CaseRecord(
        case_id=case_id,
        repeat=repeat,
        tags=tags,
        outcome=Outcome(outcome),
        output=f"answer to {case_id}",
        checks=checks,
        judges=judges,
        usage=Usage(input_tokens=120, output_tokens=30),
        cost_usd=0.001,
        latency_ms=latency,
    )


def example_pair(root: Path) -> tuple[Path, Path]:
    """A small fixed pair of runs covering every case status (tests and docs use it)."""
    r = ["refunds"]
    s = ["shipping"]
    base = [
        *(_rec(f"c0{i}", "pass", r if i % 2 else s, latency=400.0 + 10 * i) for i in range(1, 7)),
        _rec("c07", "pass", r),
        _rec("c08", "pass", s),
        _rec("c09", "fail", r, fail="no mention of a refund"),
        _rec("c10", "fail", s, fail="no tracking link"),
        _rec("c11", "pass", s),
        _rec("c12", "pass", r),
    ]
    head = [
        *(_rec(f"c0{i}", "pass", r if i % 2 else s, latency=450.0 + 10 * i) for i in range(1, 7)),
        _rec("c07", "fail", r, fail="expected 'refund' in output"),
        _rec("c08", "fail", s, judge_fail="claims a 30-day window the policy does not state"),
        _rec("c09", "pass", r),
        _rec("c10", "fail", s, fail="no tracking link"),
        _rec("c11", "error", s, error="no response after 60 s"),
        _rec("c13", "pass", s),
    ]
    b = write_run(
        root, base, prompt_version="p1", run_id="run-base", judge_versions={"grounded": "j1"}
    )
    h = write_run(
        root,
        head,
        prompt_version="p2",
        run_id="run-head",
        prompt_label="v2 shorter",
        judge_versions={"grounded": "j2"},
    )
    return b, h


def interval_coverage(
    n: int, p: float, repeats: int, *, icc: float, sims: int, seed: int = 0
) -> tuple[float, float]:
    """Simulated coverage of :func:`evalkit.analysis.stats.interval.case_mean_interval` for the
    pass rate
    ``p`` of a population of cases, and the share of simulations that showed an interval.

    Each case has its own pass probability, drawn from a beta distribution with mean ``p`` and
    intra-case correlation ``icc`` (0: every case alike; near 1: a case passes all its repeats
    or none); each of its ``repeats`` samples passes with that probability.
    """
    from evalkit.analysis.stats.interval import case_mean_interval

    rng = np.random.default_rng(seed)
    if icc <= 0:
        probs = np.full((sims, n), p)
    else:
        a, b = p * (1 - icc) / icc, (1 - p) * (1 - icc) / icc
        probs = rng.beta(a, b, size=(sims, n))
    rates = rng.binomial(repeats, probs) / repeats
    covered = shown = 0
    for row in rates:
        interval, _ = case_mean_interval(row.tolist(), repeats)
        if interval is not None:
            shown += 1
            covered += interval.low <= p <= interval.high
    return (covered / shown if shown else float("nan")), shown / sims
