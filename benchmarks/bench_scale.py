"""Scale benchmark: a 100,000-case suite through the CLI, peak memory and wall time per command.

Generates a golden set of ``--cases`` cases (8 checks each, the scripted provider, no judge; with
``--judge`` also a scripted binary judge), then runs, each in its own subprocess so that each
figure is that command's alone (``os.wait4`` returns the child's own peak RSS):

* ``evalkit run`` once to fill the response cache, then again as a fully cached re-run;
* ``evalkit report``, ``evalkit runs`` and ``evalkit show`` on the cached run.

It also prints what loading the golden set alone costs (the case definitions are held whole).
Figures, not pass/fail.

    python benchmarks/bench_scale.py [--cases 100000] [--judge] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from bench_run import REPLY, bench_case, write_project


def measure(cmd: list[str], cwd: Path) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MiB, stdout) of one command run as a child process."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak RSS
        wall = time.perf_counter() - started
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if code not in (0, 1):  # 1: the gate; anything else is a failed benchmark
            sys.exit(f"{' '.join(cmd)} exited {code}:\n{err.read().decode()[-2000:]}")
        return wall, usage.ru_maxrss / 1024, out.read().decode()


def _write_cases(path: Path, n: int) -> None:
    """bench_run's cases (its yaml round trip is slow at this size)."""
    with path.open("w") as fh:
        for i in range(n):
            fh.write(json.dumps(bench_case(i), sort_keys=True) + "\n")


def _add_judge(config_path: Path, url: str) -> None:
    root = config_path.parent
    (root / "judges").mkdir(exist_ok=True)
    (root / "judges" / "grounded.yaml").write_text(
        yaml.safe_dump(
            {
                "rubric": "Is the answer grounded in the policy?",
                "model": {
                    "provider": "scripted",
                    "wire": "anthropic",
                    "model": "judge",
                    "base_url": url,
                },
                "scale": "binary",
            }
        )
    )
    config = yaml.safe_load(config_path.read_text())
    config["suites"]["bench"]["judges"] = ["grounded"]
    config_path.write_text(yaml.safe_dump(config))


def golden_cost(config: Path) -> tuple[float, float]:
    """(seconds, MiB of peak RSS above a bare interpreter) to load the suite and its cases."""
    code = (
        "import resource, sys, time\n"
        "from evalkit.api.project import load_config, load_suite\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "t = time.perf_counter()\n"
        f"suite = load_suite(load_config({str(config)!r}))\n"
        "print(time.perf_counter() - t, "
        "(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds, mib = out.stdout.split()
    return float(seconds), float(mib)


def _measure_commands(
    root: Path, n: int, first: tuple[float, float] | None, judge: bool = False
) -> None:
    """The cached re-run, report, runs and show on the project at ``root``; prints the table."""
    evalkit = [sys.executable, "-m", "evalkit"]
    config = root / "evalkit.yaml"
    golden = (root / "goldens.jsonl").stat().st_size / 2**20
    load_s, load_mib = golden_cost(config)
    print(
        f"{n:,} cases{' + scripted judge' if judge else ''}, 8 checks each; golden set "
        f"{golden:.1f} MiB on disk, loading it takes {load_s:.1f} s and {load_mib:.0f} MiB"
    )
    rows: list[tuple[str, float, float]] = []
    if first is not None:
        rows.append(("run (fills the cache)", *first))
    wall, rss, _ = measure([*evalkit, "run", "bench", "-q"], root)
    rows.append(("run (cached re-run)", wall, rss))
    run_dir = max((root / "runs" / "bench").glob("*/*/manifest.json")).parent
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["n"] == n and summary["cached"] == n, summary
    rows.append(("  = cases/s", n / wall, 0.0))
    wall, rss, _ = measure([*evalkit, "report", str(run_dir)], root)
    rows.append(("report", wall, rss))
    wall, rss, _ = measure([*evalkit, "runs"], root)
    rows.append(("runs", wall, rss))
    wall, rss, out = measure([*evalkit, "show", str(run_dir), f"case-{n // 2:05d}"], root)
    assert f"case-{n // 2:05d}" in out
    rows.append(("show", wall, rss))
    for name in ("results.jsonl", "report.md", "report.html", "summary.json"):
        size = (run_dir / name).stat().st_size / 2**20
        print(f"  {name:14s} {size:8.1f} MiB")
    for name, wall, rss in rows:
        if name.endswith("cases/s"):
            print(f"  {name:24s} {wall:8,.0f}")
        else:
            print(f"  {name:24s} {wall:8.1f} s  peak RSS {rss:6.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--judge", action="store_true", help="add a scripted binary judge")
    parser.add_argument("--keep", type=Path, help="build the project here and keep it")
    parser.add_argument(
        "--cached-only",
        type=Path,
        metavar="DIR",
        help="a project a former run with --keep DIR left (its cache filled): measure the "
        "cached re-run and the other commands only",
    )
    args = parser.parse_args()
    if args.cached_only:
        _measure_commands(args.cached_only, args.cases, first=None)
        return
    n = args.cases
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    root.mkdir(parents=True, exist_ok=True)
    script = root / "script.yaml"
    script.write_text(
        yaml.safe_dump(
            {
                "latency_ms": 0,
                "default": {"text": REPLY},
                "responses": [
                    {
                        "when": {"purpose": "judge"},
                        "json": {"reasoning": "It cites the policy.", "passed": True},
                    }
                ],
            }
        )
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "evalkit.scripted", str(script)], stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None
    url = server.stdout.readline().strip()
    try:
        config = write_project(root, url, "anthropic", 0, args.concurrency, provider="scripted")
        _write_cases(root / "goldens.jsonl", n)
        if args.judge:
            _add_judge(config, url)
        wall, rss, _ = measure([sys.executable, "-m", "evalkit", "run", "bench", "-q"], root)
        _measure_commands(root, n, first=(wall, rss), judge=args.judge)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
