"""Coverage of the run pass-rate interval (evalkit.analysis.stats.interval.case_mean_interval) over
a grid.

A run's pass rate is the mean of its cases' pass rates; its interval must cover the pass rate of
the population of cases the golden set was drawn from. Each simulated case has its own pass
probability (beta-distributed with mean p and intra-case correlation icc: 0 = every case alike,
0.8 = a case mostly passes all its repeats or none); each repeat passes with that probability.
Prints, per (n cases, p, repeats), the simulated coverage of the nominal 95% interval at each
icc, and the worst cell. With 500 simulations a cell's Monte-Carlo standard error is 1 point, so
the lowest of 225 cells falls about 2.5 points below its true coverage by chance alone: every
cell under 94% is simulated again with fresh seeds and ``--confirm`` runs, and that figure is
the one to judge it by. Figures, not pass/fail; the tests check a few cells.

    nice -n 19 python benchmarks/bench_coverage_run.py [--sims 500] [--confirm 5000]
"""

from __future__ import annotations

import argparse
import math
import time

from evalkit.analysis.synthetic import interval_coverage

NS = (5, 10, 20, 50, 100)
PS = (0.05, 0.2, 0.5, 0.8, 0.95)
REPEATS = (1, 3, 10)
ICCS = (0.0, 0.3, 0.8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=500, help="simulated runs per cell")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--confirm", type=int, default=5000, help="runs to re-simulate a cell under 94%%"
    )
    args = parser.parse_args()
    mc_se = math.sqrt(0.95 * 0.05 / args.sims)
    print(f"nominal 95%; {args.sims} simulated runs per cell (Monte-Carlo SE {mc_se:.1%})")
    print(f"{'n':>4} {'p':>5} {'k':>3}  " + "  ".join(f"icc={icc:<4}" for icc in ICCS))
    started = time.perf_counter()
    worst = (2.0, "")
    low: list[tuple[float, tuple[int, float, int, float]]] = []
    for n in NS:
        for p in PS:
            for k in REPEATS:
                cells = []
                for icc in ICCS:
                    coverage, shown = interval_coverage(
                        n, p, k, icc=icc, sims=args.sims, seed=args.seed
                    )
                    cells.append(f"{coverage:8.1%}" if shown else "  (none)")
                    if shown and coverage < worst[0]:
                        worst = (coverage, f"n={n} p={p} k={k} icc={icc}")
                    if shown and coverage < 0.94:
                        low.append((coverage, (n, p, k, icc)))
                print(f"{n:>4} {p:>5} {k:>3}  " + "  ".join(cells))
    print(f"worst cell: {worst[0]:.1%} at {worst[1]}")
    print(f"cells under 94%, simulated again ({args.confirm} runs, fresh seed):")
    for first, (n, p, k, icc) in sorted(low):
        again, _ = interval_coverage(n, p, k, icc=icc, sims=args.confirm, seed=args.seed + 1)
        se = math.sqrt(again * (1 - again) / args.confirm)
        print(f"  n={n} p={p} k={k} icc={icc}: {first:.1%} at first, {again:.1%} ± {se:.1%}")
    print(f"{time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
