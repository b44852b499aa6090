"""Benchmark: coverage of every interval ``evalkit compare`` shows, by simulation.

For each scenario on a grid of paired cases (n), base pass rate (prevalence), share of cases
whose result flips (discordance), repeats and clusters, simulate data sets
(``evalkit.analysis.stats._coverage``), run the paired test and count how often its 95% interval
covers
the true difference. Target: 93–97% wherever compare shows the interval; "not shown" where it
does not (fewer than 10 paired cases, fewer than 5 clusters). Rare discordance at small n is
necessarily conservative (few or no discordant pairs: any interval that is not degenerate covers
0 and the small true difference), so cells above 97% are marked "conservative", cells below 93%
"LOW". With prevalence 0.5 the true difference is 0, so 1 - coverage is the false-significance
rate. The Holm part reports family-wise and per-metric coverage of the Holm-level intervals of a
family of checks and judges (some unchanged, some not).

    nice -n 19 python benchmarks/bench_coverage_compare.py [--reps 1000] [--quick]
"""

from __future__ import annotations

import argparse
import itertools
import math
import time

from evalkit.analysis.stats import paired
from evalkit.analysis.stats._coverage import Scenario, coverage, holm_coverage

_LOW, _HIGH = 0.93, 0.97


def _mark(c: float) -> str:
    if math.isnan(c):
        return "not shown"
    flag = "LOW" if c < _LOW else "conservative" if c > _HIGH else ""
    return f"{100 * c:5.1f}% {flag}".rstrip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=1000, help="data sets per scenario")
    ap.add_argument("--quick", action="store_true", help="a smaller grid")
    args = ap.parse_args()
    ns = [5, 10, 30, 100, 300] if not args.quick else [10, 100]
    prevalences = [0.5, 0.8, 0.95]
    discordances = [0.02, 0.1, 0.3]
    repeats = [1, 3]
    clusters: list[int | None] = [None, 4, 8, 20, 50]
    start = time.perf_counter()
    print(f"95% interval coverage, {args.reps} data sets per cell (target 93–97%)")
    print(f"{'n':>4} {'prev':>5} {'disc':>5} {'rep':>3} {'clusters':>8}  {'truth':>6}  coverage")
    low = shown = 0
    for n, prev, disc, rep, g in itertools.product(
        ns, prevalences, discordances, repeats, clusters
    ):
        if g is not None and g > n:
            continue
        s = Scenario(n, prev, disc, rep, g)
        c = coverage(s, reps=args.reps, seed=n + rep)
        shown += not math.isnan(c)
        low += c < _LOW
        print(f"{n:>4} {prev:>5} {disc:>5} {rep:>3} {g or '-':>8}  {s.truth:+.3f}  {_mark(c)}")
    print(f"\n{shown} cells shown, {low} below {100 * _LOW:.0f}%")

    print("\nHolm-level intervals of a family (checks + judges): each row's coverage is what is")
    print("claimed (at least 95%); family-wise coverage is not claimed (no simultaneous band)")
    for n, m, null in itertools.product(
        [30, 100, 300] if not args.quick else [100], [3, 6], [False, True]
    ):
        family = [
            Scenario(n, 0.5 if null else [0.5, 0.8, 0.95][i % 3], [0.3, 0.1, 0.02][(i // 3) % 3])
            for i in range(m)
        ]
        fw, each = holm_coverage(family, reps=args.reps, seed=m)
        rows = " ".join(f"{100 * e:.1f}" for e in each)
        kind = "all unchanged" if null else "mixed        "
        print(f"  n={n:>4}, {m} metrics, {kind}: rows {rows} (lowest {_mark(min(each))});")
        print(f"{'':>36}family-wise {100 * fw:.1f}%")
    print(f"\n(min paired cases {paired.MIN_PAIRS}, min clusters {paired.MIN_CLUSTERS}; ", end="")
    print(f"{time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
