"""Benchmark: `evalkit validate`'s work (load_suite) on a large synthetic golden set.

Loading a suite parses every YAML file (duplicate keys refused), renders every case's prompt
and every templated check parameter, and reads scripts and judges: what `validate`, `run` and
`ci` all do before their first model call. Prints seconds per load and per 1,000 cases.
Figures, not pass/fail.

    python benchmarks/bench_validate.py [--cases 5000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import yaml

from evalkit.api.project import load_config, load_suite


def write_project(root: Path, n_cases: int) -> Path:
    cases = [
        {"id": f"c{i}", "vars": {"question": f"q{i}", "answer": "a"}, "expected": "x"}
        for i in range(n_cases)
    ]
    (root / "goldens.yaml").write_text(yaml.safe_dump(cases))
    (root / "prompt.yaml").write_text('system: "Be brief."\nuser: "Q: {{ question }}"\n')
    (root / "script.yaml").write_text("default: {text: ok}\n")
    checks = [
        {"type": "contains", "value": "{{ answer }}"},
        {"type": "equals", "value": "{{ expected }}"},
        {"type": "not-contains", "value": "As an AI"},
    ]
    target = {
        "provider": "scripted",
        "model": "m",
        "prompt": "prompt.yaml",
        "script": "script.yaml",
    }
    config = {"suites": {"bench": {"goldens": "goldens.yaml", "target": target, "checks": checks}}}
    (root / "evalkit.yaml").write_text(yaml.safe_dump(config))
    return root / "evalkit.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = load_config(write_project(Path(tmp), args.cases))
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            load_suite(project, "bench")
            times.append(time.perf_counter() - start)
    best = min(times)
    print(f"load_suite, {args.cases} cases x 3 checks (2 templated), prompt of 2 templates")
    per_1000 = 1000 * best / args.cases
    print(f"  best of {args.repeat}: {best:.2f} s   ({per_1000:.2f} s per 1,000 cases)")
    print(f"  libyaml parser: {'yes' if yaml.__with_libyaml__ else 'no (pure-Python PyYAML)'}")


if __name__ == "__main__":
    main()
