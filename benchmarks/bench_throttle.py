"""Adaptive concurrency benchmark (issue 14): the provider's rate limit, not 429s, sets the pace.

1. Limited: a scripted server (own process, ``--latency-ms``, 50 by default) answers 429
   whenever more than 20 requests are in flight; evalkit runs 1,000 cases at configured
   concurrency 100. Prints the share of requests answered 429 (target: at most 5%) and the
   time against the ideal for 20 in flight, 1,000 × latency / 20 (target: within 1.5×), beside
   what the bare SDK client alone takes with exactly 20 in flight against the same server.
2. Unlimited: the same server without the limit, 1,000 cases at concurrency 50; evalkit's time
   against the bare-SDK floor measured just before it (target: within 1.3×), and beside it
   against the bare SDK on evalkit's own request path (replies read as JSON, no-op spans off;
   ``bench_run.bare_sdk``), which leaves only the harness between the two.

The latency matters: at 50 ms a 2-core machine's CPU per request (SDK, evalkit, the server) is
a large share of the ideal, so the client cannot keep 20 requests on the wire; real providers
answer in 0.5-5 s. Run it at both, e.g. ``--latency-ms 50`` and ``--latency-ms 250``. Each
configuration runs ``--repeat`` times (a fresh server per run), each line with the load
average (the machine may be shared). Figures, not pass/fail:

    python benchmarks/bench_throttle.py [--cases 1000] [--wire anthropic|openai]
        [--latency-ms 50] [--repeat 3] [--only limited|unlimited]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from bench_run import REPLY, bare_sdk, write_project

from evalkit.api.project import load_config, load_suite
from evalkit.api.run import RunOptions, run_suite

#: the issue's targets
MAX_429_SHARE = 0.05
MAX_LIMITED_X_IDEAL = 1.5
MAX_UNLIMITED_X_FLOOR = 1.3


def serve(script: dict[str, Any]) -> tuple[subprocess.Popen[str], str]:
    """The scripted server in its own process, like a remote API."""
    path = Path(tempfile.mkdtemp()) / "script.yaml"
    path.write_text(yaml.safe_dump(script))
    proc = subprocess.Popen(
        [sys.executable, "-m", "evalkit.scripted", str(path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def run_evalkit(url: str, wire: str, n: int, concurrency: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        base = url if wire == "anthropic" else url + "/v1"
        config = write_project(Path(tmp), base, wire, n, concurrency)
        suite = load_suite(load_config(config))
        started = time.perf_counter()
        outcome = run_suite(suite, RunOptions(progress=False, use_cache=False))
        summary = outcome.summary
        summary["wall_s"] = time.perf_counter() - started
        return summary


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f}"


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def limited(args: argparse.Namespace, latency_s: float) -> tuple[float, float]:
    """One limited run: (share answered 429, time / ideal)."""
    n, wire, limit = args.cases, args.wire, args.limit
    script = {
        "latency_ms": args.latency_ms,
        "rate_limit": {"max_in_flight": limit},
        "default": {"text": REPLY},
    }
    proc, url = serve(script)
    try:
        before = load()
        # what the client alone can do with exactly the limit in flight (a CPU-bound machine
        # cannot reach the ideal either)
        floor = asyncio.run(bare_sdk(wire, url, n, limit))
        s = run_evalkit(url, wire, n, args.concurrency)
    finally:
        proc.terminate()
        proc.wait()
    ideal = n * latency_s / limit
    took, requests, refused = s["timings"]["cases_s"], s["requests"], s["rate_limited"]
    share, x_ideal = refused / requests, took / ideal
    print(
        f"limited {wire} {args.latency_ms:g} ms ({before}): {took:.2f} s = {x_ideal:.2f}x ideal "
        f"({ideal:.2f} s; bare SDK at {limit} in flight {floor:.2f} s = {floor / ideal:.2f}x "
        f"ideal, evalkit {took / floor:.2f}x it); {refused} of {requests} answered 429 "
        f"({share:.1%}); {s['error']} errors",
        flush=True,
    )
    return share, x_ideal


def unlimited(args: argparse.Namespace, latency_s: float) -> tuple[float, float, float]:
    """One unlimited run at concurrency 50: (evalkit's time, the bare-SDK floor, the floor on
    evalkit's request path)."""
    n, wire = args.cases, args.wire
    proc, url = serve({"latency_ms": args.latency_ms, "default": {"text": REPLY}})
    try:
        before = load()
        floor = asyncio.run(bare_sdk(wire, url, n, 50))
        lean = asyncio.run(bare_sdk(wire, url, n, 50, lean=True))
        s = run_evalkit(url, wire, n, 50)
    finally:
        proc.terminate()
        proc.wait()
    took = s["timings"]["cases_s"]
    ideal = n * latency_s / 50
    print(
        f"unlimited {wire} {args.latency_ms:g} ms ({before}): {n} cases at concurrency 50: "
        f"{took:.2f} s = {took / floor:.2f}x the bare-SDK floor ({floor:.2f} s = "
        f"{floor / ideal:.2f}x ideal), {took / lean:.2f}x it on evalkit's request path "
        f"({lean:.2f} s), {took / ideal:.2f}x ideal; {s['rate_limited']} 429s",
        flush=True,
    )
    return took, floor, lean


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--wire", choices=("anthropic", "openai"), default="anthropic")
    parser.add_argument("--limit", type=int, default=20, help="429 above this many in flight")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=50.0, help="server latency")
    parser.add_argument("--repeat", type=int, default=3, help="runs per configuration")
    parser.add_argument("--only", choices=("limited", "unlimited"), default=None)
    args = parser.parse_args()
    latency_s = args.latency_ms / 1000

    if args.only != "unlimited":
        runs = [limited(args, latency_s) for _ in range(args.repeat)]
        shares, ratios = [r[0] for r in runs], [r[1] for r in runs]
        print(
            f"=> limited {args.wire} {args.latency_ms:g} ms, {len(runs)} runs: 429s "
            f"{min(shares):.1%}-{max(shares):.1%} (<= {MAX_429_SHARE:.0%}: "
            f"{_met(max(shares) <= MAX_429_SHARE)}), time {min(ratios):.2f}-{max(ratios):.2f}x "
            f"ideal (<= {MAX_LIMITED_X_IDEAL}x: {_met(max(ratios) <= MAX_LIMITED_X_IDEAL)})",
            flush=True,
        )
    if args.only != "limited":
        runs3 = [unlimited(args, latency_s) for _ in range(args.repeat)]
        ratios = [took / floor for took, floor, _ in runs3]
        # one run's floor and evalkit's time each vary by 10-20% on a shared VM: the ratio of
        # the medians is the steadier estimate, the per-run range shows the spread
        took, floor, lean = (statistics.median(r[i] for r in runs3) for i in range(3))
        print(
            f"=> unlimited {args.wire} {args.latency_ms:g} ms, {len(runs3)} runs: "
            f"{min(ratios):.2f}-{max(ratios):.2f}x the bare-SDK floor run by run "
            f"(<= {MAX_UNLIMITED_X_FLOOR}x: {_met(max(ratios) <= MAX_UNLIMITED_X_FLOOR)}); "
            f"medians {took:.2f} s / {floor:.2f} s = {took / floor:.2f}x "
            f"({_met(took / floor <= MAX_UNLIMITED_X_FLOOR)}), {took / lean:.2f}x the floor on "
            f"evalkit's request path",
            flush=True,
        )


if __name__ == "__main__":
    main()
