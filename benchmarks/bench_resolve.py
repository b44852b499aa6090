"""Benchmark: what a fresh ``pip install`` of this checkout resolves to, and how long it takes.

Makes a throwaway venv, runs ``pip install --dry-run --ignore-installed --report`` on the repo
(no cache, so every candidate's metadata is fetched as a new user's pip would), and prints the
chosen SDK versions, the wall time and how many openai releases pip looked at (each one a
backtracking step). Needs network access to the package index. Figures, not pass/fail.

    python benchmarks/bench_resolve.py
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WATCH = ("openai", "anthropic", "instructor", "jiter", "pydantic", "aiohttp")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        report = Path(tmp) / "report.json"
        argv = [str(venv / "bin" / "pip"), "install", "--dry-run", "--ignore-installed"]
        argv += ["--no-cache-dir", "-v", "--report", str(report), str(REPO)]
        start = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit(proc.stderr[-2000:])
        chosen = {
            item["metadata"]["name"].lower(): item["metadata"]["version"]
            for item in json.loads(report.read_text())["install"]
        }
    tried = sorted(set(re.findall(r"openai-(\d+\.\d+\.\d+)-py3", proc.stdout + proc.stderr)))
    print(f"resolved in {elapsed:.1f} s; {len(chosen)} packages")
    print("  " + ", ".join(f"{name} {chosen.get(name, '-')}" for name in WATCH))
    print(f"  openai releases downloaded while resolving: {len(tried)} ({', '.join(tried[-5:])})")


if __name__ == "__main__":
    main()
