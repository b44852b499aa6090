"""``evalkit compare --pairwise J --batch`` at scale (issue 14): the courier's CPU for many cases.

Two stored runs of ``--cases`` cases; a scripted pairwise judge (in process, on ``--wire``)
answers every request with a verdict. Judged live (8 cases at a time, as ``compare
--pairwise`` does) and then by batch (both orders of every case in one batch, the cache
emptied between), each ``--repeat`` times. Prints wall and CPU time, the batches created and
the requests in them, and checks that both give the same figures. Figures, not pass/fail:

    python benchmarks/bench_compare_batch.py [--cases 1000] [--wire anthropic|openai]
        [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from evalkit.api.compare import compare
from evalkit.api.judge import JudgeBatching
from evalkit.api.project import load_config
from evalkit.model.outcome import Outcome
from evalkit.model.record import CaseRecord
from evalkit.scripted import ScriptedServer
from evalkit.storage.store import append_record, open_results, write_manifest

SCRIPT: dict[str, Any] = {
    "responses": [
        # head wins where its output is first or second alike: consistent verdicts
        {"when": {"contains": "<output_a>\nhead"}, "json": {"reasoning": "r", "verdict": "A"}},
        {"when": {"contains": "<output_a>\nbase"}, "json": {"reasoning": "r", "verdict": "B"}},
    ],
    "default": {"text": "no verdict"},
}


def _run(root: Path, run_id: str, label: str, n: int) -> None:
    path = root / "runs" / "demo" / label / run_id
    path.mkdir(parents=True)
    write_manifest(
        path,
        {
            "run_id": run_id,
            "suite": "demo",
            "prompt_version": label,
            "prompt_label": label,
            "target": {"provider": "scripted", "model": "fake-model"},
            "judge_versions": {},
            "repeats": 1,
            "status": "complete",
        },
    )
    who = "base" if label == "v1" else "head"
    with open_results(path) as fh:
        for i in range(n):
            append_record(
                fh,
                CaseRecord(
                    case_id=f"c{i}",
                    vars={"question": f"question {i}?"},
                    outcome=Outcome.PASS,
                    output=f"{who} answer {i}",
                ),
            )


def _project(root: Path, server: ScriptedServer, wire: str, n: int) -> Path:
    _run(root, "run-base", "v1", n)
    _run(root, "run-head", "v2", n)
    url = server.url if wire == "anthropic" else server.openai_base_url
    model = {"provider": "scripted", "model": "claude-haiku-4-5", "base_url": url, "wire": wire}
    (root / "judges").mkdir()
    (root / "judges" / "pref.yaml").write_text(
        "scale: pairwise\nrubric: Which is better?\nsees: [question, output]\n"
        f"output: tools\nmodel: {json.dumps(model)}\n"
    )
    (root / "evalkit.yaml").write_text(
        "suites:\n  demo:\n    goldens: g.yaml\n    target: {provider: python, callable: m:f}\n"
    )
    return root / "evalkit.yaml"


def _once(config: Path, batch: JudgeBatching | None) -> tuple[float, float, dict[str, Any]]:
    shutil.rmtree(config.parent / ".evalkit", ignore_errors=True)
    shutil.rmtree(config.parent / "runs" / ".compare", ignore_errors=True)
    wall, cpu = time.perf_counter(), time.process_time()
    result = compare(
        "run-base", "run-head", project=load_config(config), pairwise_judge="pref", batch=batch
    )
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert result.pairwise is not None
    figures = result.pairwise.model_dump(mode="json", exclude={"cases", "cost_usd"})
    return wall, cpu, figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--wire", choices=["anthropic", "openai"], default="anthropic")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, ScriptedServer(SCRIPT) as server:
        config = _project(Path(tmp), server, args.wire, args.cases)
        print(
            f"{args.cases} cases × 2 orders, {args.wire} wire, load average "
            f"{os.getloadavg()[0]:.1f}",
            file=sys.stderr,
        )
        seen: dict[str, dict[str, Any]] = {}
        for name, batch in (("live", None), ("batch", JudgeBatching(poll_s=0.05))):
            walls, cpus = [], []
            for _ in range(args.repeat):
                created, bodies = len(server.batches.created), len(server.batches.bodies)
                wall, cpu, figures = _once(config, batch)
                walls.append(wall)
                cpus.append(cpu)
                seen[name] = figures
                created = len(server.batches.created) - created
                bodies = len(server.batches.bodies) - bodies
            print(
                f"{name:5}: wall {min(walls):.2f}-{max(walls):.2f} s (median "
                f"{statistics.median(walls):.2f}), CPU {min(cpus):.2f}-{max(cpus):.2f} s "
                f"(median {statistics.median(cpus):.2f}); last: {created} batches, "
                f"{bodies} batched requests, {figures['requests']} judge requests"
            )
        print(f"same figures live and by batch: {seen['live'] == seen['batch']}")


if __name__ == "__main__":
    main()
