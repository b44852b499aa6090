"""Benchmark: compare two runs of 10,000 cases × 10 checks (one paired test per metric).

Target: under 5 s on a 2-core machine. Prints the time to load both runs from disk (the store's
cost) and the time of ``compare_runs`` itself, with and without a cluster key.

    python benchmarks/bench_compare.py [--cases 10000] [--checks 10]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from evalkit.analysis.compare import compare_runs
from evalkit.analysis.gate import evaluate_gate
from evalkit.analysis.synthetic import random_records, write_run
from evalkit.model.gate import Gate
from evalkit.report.compare_md import comparison_markdown
from evalkit.report.junit import junit_xml
from evalkit.storage.store import load_run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--checks", type=int, default=10)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        base_recs = random_records(args.cases, args.checks, pass_prob=0.80, seed=1)
        head_recs = random_records(args.cases, args.checks, pass_prob=0.78, seed=2, error_prob=0.01)
        b = write_run(root, base_recs, prompt_version="p1", run_id="base")
        h = write_run(root, head_recs, prompt_version="p2", run_id="head")

        t0 = time.perf_counter()
        base, head = load_run(b), load_run(h)
        t_load = time.perf_counter() - t0

        t0 = time.perf_counter()
        comparison = compare_runs(base, head)
        t_compare = time.perf_counter() - t0

        t0 = time.perf_counter()
        clustered = compare_runs(base, head, cluster_key="tag:t")
        t_cluster = time.perf_counter() - t0

        t0 = time.perf_counter()
        gate = evaluate_gate(comparison, Gate(min_pass_rate=0.7))
        comparison_markdown(comparison, gate)
        junit_xml(head, comparison)
        comparison.model_dump_json()
        t_out = time.perf_counter() - t0

    o = comparison.overall
    print(f"{args.cases:,} cases x {args.checks} checks")
    print(f"  load both runs (store)       {t_load:6.2f} s")
    print(f"  compare_runs                 {t_compare:6.2f} s   (target < 5 s)")
    print(f"  compare_runs, clustered      {t_cluster:6.2f} s   ({clustered.n_clusters} clusters)")
    print(f"  gate + markdown + junit+json {t_out:6.2f} s")
    print(
        f"  overall {o.diff:+.4f} [{o.ci_low:+.4f}, {o.ci_high:+.4f}] p={o.p_value:.2g} "
        f"-> {o.verdict}"
    )


if __name__ == "__main__":
    main()
