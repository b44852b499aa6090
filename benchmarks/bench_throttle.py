"""Adaptive concurrency benchmark (issue 14): the provider's rate limit, not 429s, sets the pace.

1. Limited: a scripted server (own process, 50 ms latency) answers 429 whenever more than 20
   requests are in flight; evalkit runs 1,000 cases at configured concurrency 100. Prints the
   share of requests answered 429 (target: at most 5%) and the time against the ideal for 20 in
   flight, 1,000 × 0.05 s / 20 = 2.5 s (target: within 1.5×).
2. Unlimited: the same server without the limit, 1,000 cases at concurrency 50; evalkit's time
   against the bare-SDK floor measured in the same run (target: within 1.3×).

Figures, not pass/fail:

    python benchmarks/bench_throttle.py [--cases 1000] [--wire anthropic|openai]
"""

from __future__ import annotations

import argparse
import asyncio
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

LATENCY_MS = 50


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--wire", choices=("anthropic", "openai"), default="anthropic")
    parser.add_argument("--limit", type=int, default=20, help="429 above this many in flight")
    parser.add_argument("--concurrency", type=int, default=100)
    args = parser.parse_args()
    n, wire = args.cases, args.wire

    proc, url = serve(
        {
            "latency_ms": LATENCY_MS,
            "rate_limit": {"max_in_flight": args.limit},
            "default": {"text": REPLY},
        }
    )
    try:
        # what the client alone can do with exactly the limit in flight (a CPU-bound machine
        # cannot reach the ideal either)
        floor20 = asyncio.run(bare_sdk(wire, url, n, args.limit))
        s = run_evalkit(url, wire, n, args.concurrency)
    finally:
        proc.terminate()
        proc.wait()
    ideal = n * LATENCY_MS / 1000 / args.limit
    requests, limited = s["requests"], s["rate_limited"]
    print(
        f"limited ({wire}): 429 above {args.limit} in flight, {n} cases at concurrency "
        f"{args.concurrency}: {s['timings']['cases_s']:.2f} s = "
        f"{s['timings']['cases_s'] / ideal:.2f}x the ideal for {args.limit} in flight "
        f"({ideal:.2f} s), {s['timings']['cases_s'] / floor20:.2f}x the bare SDK at "
        f"{args.limit} in flight ({floor20:.2f} s); {limited} of {requests} requests answered 429 "
        f"({limited / requests:.1%}); {s['error']} errors"
    )

    proc, url = serve({"latency_ms": LATENCY_MS, "default": {"text": REPLY}})
    try:
        floor = asyncio.run(bare_sdk(wire, url, n, 50))
        s = run_evalkit(url, wire, n, 50)
    finally:
        proc.terminate()
        proc.wait()
    cases_s = s["timings"]["cases_s"]
    print(
        f"unlimited ({wire}): {n} cases at concurrency 50: {cases_s:.2f} s = "
        f"{cases_s / floor:.2f}x the bare-SDK floor ({floor:.2f} s), "
        f"{cases_s / (n * LATENCY_MS / 1000 / 50):.2f}x ideal; {s['rate_limited']} 429s"
    )


if __name__ == "__main__":
    main()
