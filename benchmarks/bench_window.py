"""Per-window budgets benchmark (issue 14): reset headers, not 429s, pace a run against a
per-minute-style budget.

A scripted server (own process, ``--latency-ms``) admits ``--per-window`` requests per window
of ``--window-s`` seconds and answers 429 past them (``retry-after``: whole seconds to the
window's end, rounded up, as providers send it); evalkit runs ``--cases`` cases at
``--concurrency``. Once with the wire's budget headers (remaining / limit / reset on every
answer, in the wire's names and formats), once without (the 429 and its retry-after only).
Prints the share of requests answered 429 and the time against the ideal, cases / per-window
× window (the budget allows no faster). Figures, not pass/fail:

    python benchmarks/bench_window.py [--wire anthropic|openai] [--cases 600]
        [--concurrency 50] [--per-window 100] [--window-s 1] [--latency-ms 50] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics

from bench_throttle import load, run_evalkit, serve


def once(args: argparse.Namespace, headers: bool) -> tuple[float, float]:
    """One run: (share answered 429, time / ideal)."""
    limit = {"per_window": args.per_window, "window_s": args.window_s, "budget_headers": headers}
    script = {"latency_ms": args.latency_ms, "rate_limit": limit, "default": {"text": "ok"}}
    proc, url = serve(script)
    try:
        summary = run_evalkit(url, args.wire, args.cases, args.concurrency)
    finally:
        proc.terminate()
        proc.wait()
    if summary["error"]:
        raise SystemExit(f"{summary['error']} cases ended in error: raise the retry budget")
    ideal = args.cases / args.per_window * args.window_s
    return summary["rate_limited"] / summary["requests"], summary["wall_s"] / ideal


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wire", choices=("anthropic", "openai"), default="anthropic")
    parser.add_argument("--cases", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--per-window", type=int, default=100)
    parser.add_argument("--window-s", type=float, default=1.0)
    parser.add_argument("--latency-ms", type=float, default=50.0, help="server latency")
    parser.add_argument("--repeat", type=int, default=3, help="runs per configuration")
    args = parser.parse_args()
    print(
        f"{args.cases} cases at -j {args.concurrency}, {args.wire} wire, budget "
        f"{args.per_window} per {args.window_s:g} s, server latency {args.latency_ms:g} ms"
    )
    for headers in (True, False):
        runs = [once(args, headers) for _ in range(args.repeat)]
        shares = ", ".join(f"{share:.1%}" for share, _ in runs)
        times = ", ".join(f"{x:.2f}x" for _, x in runs)
        median = statistics.median(x for _, x in runs)
        label = "reset headers" if headers else "429 only     "
        print(
            f"  {label}: answered 429 {shares}; time/ideal {times} (median {median:.2f}x); {load()}"
        )


if __name__ == "__main__":
    main()
