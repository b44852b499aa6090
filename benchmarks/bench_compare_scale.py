"""Benchmark: ``evalkit compare`` of two 100,000-case runs with 10 checks (issue 14: under 10 s).

Builds two runs shaped like what ``evalkit run`` stores (the rendered prompt, vars, expected
answer, output, ten checks with reasons, usage, cost, latency; a mix of regressions, fixes,
churn, provider errors and check errors; HEAD mostly agrees with BASE case by case, as two prompt
versions do) through evalkit's own record encoder, checks that every line decodes as the record
``evalkit report`` reads, then times

* in process, each phase: loading both runs, the per-case rates (one pass), the statistics
  (paired tests, Holm families, summaries) and the rendering (terminal, markdown, JSON, HTML);
* ``evalkit compare BASE HEAD --json --markdown`` (and with ``--html``) as a whole process,
  several times, with its CPU time and peak RSS, and the load average beside them (the wall
  time on a shared machine means little without it); then whether every run met the target.

    python benchmarks/bench_compare_scale.py [--cases 100000] [--checks 10] [--repeats 1]
        [--runs 3] [--dir DIR]   # DIR keeps the generated runs between invocations
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from evalkit.analysis.rundata import summarize
from evalkit.analysis.synthetic import manifest
from evalkit.model.outcome import CheckResult, Outcome
from evalkit.model.record import CaseRecord, ErrorInfo, Usage
from evalkit.storage.store import (
    RESULTS,
    encode_record,
    iter_all_records,
    run_dir,
    write_manifest,
)

_SYSTEM = (
    "You are the friendly support assistant for Northwind Outfitters, an online shop for "
    "outdoor clothing and gear. Help the customer with their question using the policy "
    'documents below. Give your answer as JSON with an "answer" and the "citations" you '
    "used.\n\nPolicy documents:\n[pol-price-1] If the price of an item drops on our website "
    "within 14 days of purchase, we refund the difference on request, once per item. Price "
    "adjustments do not apply to clearance items or to flash-sale prices.\n[pol-orders-1] An "
    "order can be changed or cancelled within 1 hour of being placed, from Account > Orders.\n"
)
_TAGS = ("refunds", "shipping", "orders", "returns", "warranty", "promo", "sizing", "stock")


def _records(
    rng: np.random.Generator, passes: np.ndarray, errors: np.ndarray, check_errors: np.ndarray
) -> Iterator[CaseRecord]:
    """One record per (case, repeat) from outcome arrays shaped (repeats, cases[, checks])."""
    repeats, n, n_checks = passes.shape
    latency = rng.gamma(4.0, 200.0, (repeats, n))
    for r in range(repeats):
        for i in range(n):
            cid = f"case-{i:06d}"
            question = f"Question {i}: can I return the item I bought {i % 30} days ago?"
            common = {
                "case_id": cid,
                "repeat": r,
                "tags": [_TAGS[i % len(_TAGS)], f"tier{i % 3}"],
                "vars": {"question": question},
                "prompt": [
                    {"role": "system", "content": _SYSTEM},
                    {"role": "user", "content": question},
                ],
                "expected": f"Yes within 30 days (case {i}).",
                "latency_ms": float(latency[r, i]),
                "attempts": 1,
                "finished_at": "2026-12-01T10:00:00+00:00",
            }
            if errors[r, i]:
                yield CaseRecord(
                    **{**common, "attempts": 3},
                    outcome=Outcome.ERROR,
                    error=ErrorInfo(kind="timeout", message="no response after 60 s"),
                )
                continue
            checks = []
            for j in range(n_checks):
                if check_errors[r, i, j]:
                    checks.append(CheckResult.errored(f"check-{j}", "schema file unreadable"))
                elif passes[r, i, j]:
                    checks.append(CheckResult.passed(f"check-{j}", f"found 'return' at char {j}"))
                else:
                    checks.append(CheckResult.failed(f"check-{j}", f"missing 'refund' ({j})"))
            outs = {c.outcome for c in checks}
            outcome = (
                Outcome.FAIL
                if Outcome.FAIL in outs
                else Outcome.ERROR
                if Outcome.ERROR in outs
                else Outcome.PASS
            )
            yield CaseRecord(
                **common,
                outcome=outcome,
                output=json.dumps({"answer": f"Yes, within 30 days. {question}", "citations": []}),
                checks=checks,
                usage=Usage(input_tokens=420, output_tokens=60),
                cost_usd=0.00042,
                finish_reason="end_turn",
            )


def build(root: Path, n: int, n_checks: int, repeats: int) -> tuple[Path, Path]:
    """Two runs: BASE, and HEAD agreeing with it on ~96% of check outcomes, slightly worse."""
    rng = np.random.default_rng(14)
    difficulty = rng.beta(8, 1, n)[None, :, None]  # most cases pass most checks
    base_u = rng.random((repeats, n, n_checks))
    flip = rng.random((repeats, n, n_checks))
    base_pass = base_u < difficulty**0.1
    # head: the same outcome unless flipped; a flip breaks a pass more often than it fixes a fail
    head_pass = np.where(flip < 0.004, False, np.where(flip > 0.998, True, base_pass))
    paths = []
    for name, passes, err_p in (("base", base_pass, 0.005), ("head", head_pass, 0.01)):
        errors = rng.random((repeats, n)) < err_p
        check_errors = rng.random((repeats, n, n_checks)) < 0.0005
        path = run_dir(root, "support", f"p-{name}", name)
        write_manifest(
            path, manifest("support", f"p-{name}", name, repeats=repeats, golden_sha="g0")
        )
        with (path / RESULTS).open("w", encoding="utf-8") as fh:
            for rec in _records(rng, passes, errors, check_errors):
                fh.write(encode_record(rec))
        paths.append(path)
    return paths[0], paths[1]


def _timed(label: str, fn, *args, **kw):  # type: ignore[no-untyped-def]
    """Run ``fn`` and print its wall and CPU time (CPU: what a loaded machine does not inflate)."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args, **kw)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"  {label:<48} {wall:6.2f} s wall {cpu:6.2f} s CPU")
    return out


def in_process(base: Path, head: Path) -> None:
    """Each phase of a compare, timed on its own (the order ``evalkit compare`` runs them)."""
    from rich.console import Console

    from evalkit.analysis.compare import compare_data
    from evalkit.analysis.rundata import RunData
    from evalkit.api.compare import CompareResult
    from evalkit.report.compare_terminal import render_comparison
    from evalkit.storage.lazyrun import open_run

    print("in process:")
    b, h = open_run(base), open_run(head)
    bd = _timed("read base: facts of each line, per-case counts", RunData, b)
    hd = _timed("read head", RunData, h)
    c = _timed("statistics (paired tests, Holm, summaries)", compare_data, bd, hd)
    _timed("  of which the two run summaries", lambda: (summarize(bd), summarize(hd)))
    console = Console(file=io.StringIO(), width=120)
    _timed("render terminal", render_comparison, c, console=console)
    result = CompareResult(c, b, h)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        _timed("write JSON", result.write, json_path=out / "c.json")
        _timed("write markdown", result.write, markdown=out / "c.md")
        _timed("write HTML", result.write, html=out / "c.html")
        sizes = [(out / f).stat().st_size / 1e6 for f in ("c.json", "c.md", "c.html")]
    o = c.overall
    print(
        f"  {len(c.cases):,} changed cases; JSON {sizes[0]:.1f} MB, markdown {sizes[1]:.3f} MB, "
        f"HTML {sizes[2]:.1f} MB; overall {o.diff:+.4f} p={o.p_value:.2g} -> {o.verdict}"
    )


#: issue 14: compare of two 100,000-case runs with 10 checks finishes in under this
_TARGET_S = 10.0

#: runs a command and prints its wall time and peak RSS: a small parent, so the child's
#: ru_maxrss is its own (a fork of this script would count this script's memory)
_MEASURE = """
import resource, subprocess, sys, time
t0 = time.perf_counter()
code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)
wall = time.perf_counter() - t0
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(code, wall, u.ru_utime + u.ru_stime, u.ru_maxrss / 1024)
"""


def whole_process(base: Path, head: Path, runs: int, html: bool) -> float:
    """Wall time, CPU time and peak RSS of ``evalkit compare`` as a user runs it; returns the
    slowest wall time."""
    walls, cpus, rss = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "evalkit", "compare", str(base), str(head)]
        cmd += ["--json", f"{tmp}/c.json", "--markdown", f"{tmp}/c.md"]
        cmd += ["--html", f"{tmp}/c.html"] if html else []
        for _ in range(runs):
            out = subprocess.run(
                [sys.executable, "-c", _MEASURE, *cmd], capture_output=True, text=True, cwd=tmp
            )
            code, wall, cpu, peak = out.stdout.split()
            if code != "0":
                raise SystemExit(f"evalkit compare exited with {code}: {out.stderr}")
            walls.append(float(wall))
            cpus.append(float(cpu))
            rss.append(float(peak))
    what = "evalkit compare --json --markdown" + (" --html" if html else "")
    print(
        f"{what:<40} wall min {min(walls):5.2f} / median {statistics.median(walls):5.2f} / "
        f"max {max(walls):5.2f} s; CPU min {min(cpus):5.2f} / median "
        f"{statistics.median(cpus):5.2f} s; peak RSS {max(rss):4.0f} MiB ({_load()})"
    )
    return max(walls)


def _load() -> str:
    """The load average: on a shared machine the wall times are only read beside it."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--checks", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3, help="whole-process timings")
    ap.add_argument("--dir", type=Path, help="keep the generated runs here (reused if present)")
    ap.add_argument("--skip-in-process", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.dir or Path(tmp)
        root = root / f"c{args.cases}-k{args.checks}-r{args.repeats}"
        base = run_dir(root, "support", "p-base", "base")
        head = run_dir(root, "support", "p-head", "head")
        if not (head / RESULTS).exists():
            t0 = time.perf_counter()
            build(root, args.cases, args.checks, args.repeats)
            # every line is a CaseRecord as `evalkit report` reads it (one at a time: no list)
            n = sum(1 for p in (base, head) for _ in iter_all_records(p))
            print(f"built the two runs in {time.perf_counter() - t0:.1f} s ({n:,} records valid)")
        mb = sum((p / RESULTS).stat().st_size for p in (base, head)) / 1e6
        print(
            f"{args.cases:,} cases x {args.repeats} repeat(s) x {args.checks} checks per run; "
            f"results.jsonl {mb:.0f} MB for both"
        )
        if not args.skip_in_process:
            in_process(base, head)
        print(f"whole process, {args.runs} runs each ({_load()} before):")
        slowest = max(
            whole_process(base, head, args.runs, html=False),
            whole_process(base, head, args.runs, html=True),
        )
        if (args.cases, args.checks, args.repeats) == (100_000, 10, 1):  # the shape
            verdict = "met" if slowest < _TARGET_S else "NOT met"
            print(f"target: every run under {_TARGET_S:.0f} s: {verdict} (slowest {slowest:.2f} s)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(this script's own peak RSS {peak:.0f} MiB)")


if __name__ == "__main__":
    main()
