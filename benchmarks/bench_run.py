"""Run-loop benchmark: 1,000 cases at concurrency 50 against a scripted server with 50 ms latency.

Prints wall time against the ideal (1,000 × 0.05 s / 50 = 1.0 s) and against the bare-SDK
floor measured in the same process (as a user writes it, and on evalkit's request path: see
:func:`bare_sdk`), the harness's own time per case, the fully cached re-run in cases per
second, peak memory, and the cost of ``import evalkit``. Figures, not pass/fail.

    python benchmarks/bench_run.py [--cases 1000] [--concurrency 50] [--latency-ms 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from evalkit.api.project import load_config, load_suite
from evalkit.api.run import RunOptions, run_suite

WIRES = ("anthropic", "openai")
#: the same request evalkit renders, so the floor does the same SDK work per call
SYSTEM = "Answer from the policy. Reply in JSON."
REPLY = '{"answer": "Orders over 7 days late are refundable.", "citations": ["pol-1"]}'


def write_project(
    root: Path, url: str, wire: str, n: int, concurrency: int, *, provider: str | None = None
) -> Path:
    """A project of ``n`` cases on ``url``. The target is the wire's own provider (what a real
    run uses; the bare-SDK floor sends the same requests), or ``provider: scripted``, which also
    sends the case context as headers so a script can answer per case or purpose."""
    target: dict[str, object] = {"provider": provider or wire, "model": "bench", "base_url": url}
    if provider == "scripted":
        target["wire"] = wire
    config = {
        "suites": {
            "bench": {
                "goldens": "goldens.jsonl",
                "target": {
                    **target,
                    "prompt": "prompt.yaml",
                    "params": {"temperature": 0, "max_tokens": 256},
                },
                "checks": [
                    {"type": "json-valid"},
                    {"type": "json-path", "path": "answer", "contains": "refundable"},
                    {"type": "citations", "path": "citations"},
                    {"type": "not-contains", "value": "As an AI"},
                    {"type": "no-pii"},
                    {"type": "length", "max": 100, "unit": "words"},
                    {"type": "regex", "pattern": "\\d+ days"},
                    {"type": "latency", "max_ms": 5000},
                ],
                "concurrency": concurrency,
            }
        }
    }
    (root / "evalkit.yaml").write_text(yaml.safe_dump(config))
    lines = []
    for i in range(n):
        lines.append(yaml.safe_dump(bench_case(i), default_flow_style=True, width=10_000).strip())
    (root / "goldens.jsonl").write_text(
        "\n".join(json.dumps(yaml.safe_load(line)) for line in lines) + "\n"
    )
    (root / "prompt.yaml").write_text(
        'system: "Answer from the policy. Reply in JSON."\nuser: "{{ question }}"\n'
    )
    return root / "evalkit.yaml"


def bench_case(i: int) -> dict[str, object]:
    """Case ``i`` of the benchmark's golden set."""
    return {
        "id": f"case-{i:05d}",
        "vars": {"question": f"Is order {i} refundable?"},
        "context": [{"id": "pol-1", "text": "Orders over 7 days late are refundable."}],
        "tags": [f"t{i % 5}"],
    }


async def bare_sdk(wire: str, url: str, n: int, concurrency: int, *, lean: bool = False) -> float:
    """The floor: the SDK client alone (aiohttp transport), same server, same concurrency.

    ``lean``: on evalkit's own request path (each reply's JSON read from the raw response, not
    built into the SDK's reply models; anthropic's OpenTelemetry spans off, there being no
    tracer provider): what is left between it and evalkit is the harness itself.
    """
    sem = asyncio.Semaphore(concurrency)
    if wire == "anthropic":
        import anthropic

        options: dict[str, Any] = {"open_telemetry": False} if lean else {}
        client = anthropic.AsyncAnthropic(
            api_key="x",
            base_url=url,
            max_retries=0,
            http_client=anthropic.DefaultAioHttpClient(),
            **options,
        )
        messages = client.messages

        async def one(i: int) -> None:
            kwargs: dict[str, Any] = {
                "model": "m",
                "max_tokens": 256,
                "system": SYSTEM,
                "extra_body": {"temperature": 0},  # as evalkit sends it to this SDK version
                "messages": [{"role": "user", "content": f"Is order {i} refundable?"}],
            }
            async with sem:
                if lean:
                    raw = await messages.with_raw_response.create(**kwargs)
                    json.loads(raw.http_response.content)
                else:
                    await messages.create(**kwargs)
    else:
        import openai

        client = openai.AsyncOpenAI(  # type: ignore[assignment]
            api_key="x",
            base_url=url + "/v1",
            max_retries=0,
            http_client=openai.DefaultAioHttpClient(),
        )
        completions = client.chat.completions  # type: ignore[attr-defined]

        async def one(i: int) -> None:
            kwargs: dict[str, Any] = {
                "model": "m",
                "max_tokens": 256,
                "temperature": 0,
                "messages": [
                    {"role": "system", "content": SYSTEM},
                    {"role": "user", "content": f"Is order {i} refundable?"},
                ],
            }
            async with sem:
                if lean:
                    raw = await completions.with_raw_response.create(**kwargs)
                    json.loads(raw.http_response.content)
                else:
                    await completions.create(**kwargs)

    await one(-1)  # warm-up: connection pool, lazy imports
    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    elapsed = time.perf_counter() - started
    await client.close()
    return elapsed


class _Remote:
    def __init__(self, url: str) -> None:
        self.url = url


def import_time() -> float:
    def run(code: str) -> float:
        best = float("inf")
        for _ in range(5):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            best = min(best, time.perf_counter() - t)
        return best

    return run("import evalkit") - run("pass")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--latency-ms", type=int, default=50)
    args = parser.parse_args()
    n, c, lat = args.cases, args.concurrency, args.latency_ms
    ideal = n * lat / 1000 / c
    print(f"{n} cases, concurrency {c}, server latency {lat} ms: ideal {ideal:.2f} s")
    # the server runs in its own process, like a remote API: in-process it would compete with
    # the client for the GIL and blur what the harness itself costs
    script = Path(tempfile.mkdtemp()) / "script.yaml"
    script.write_text(yaml.safe_dump({"latency_ms": lat, "default": {"text": REPLY}}))
    proc = subprocess.Popen(
        [sys.executable, "-m", "evalkit.scripted", str(script)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    server = _Remote(proc.stdout.readline().strip())
    try:
        for wire in WIRES:
            floor = asyncio.run(bare_sdk(wire, server.url, n, c))
            lean = asyncio.run(bare_sdk(wire, server.url, n, c, lean=True))
            with tempfile.TemporaryDirectory() as tmp:
                config = write_project(
                    Path(tmp), server.url if wire == "anthropic" else server.url + "/v1", wire, n, c
                )
                suite = load_suite(load_config(config))
                t = time.perf_counter()
                first = run_suite(suite, RunOptions(progress=False))
                wall = time.perf_counter() - t
                assert first.summary["n"] == n and first.requests == n, first.summary
                t = time.perf_counter()
                cached = run_suite(suite, RunOptions(progress=False))
                cached_wall = time.perf_counter() - t
                assert cached.requests == 0
            cases_s = first.summary["timings"]["cases_s"]
            startup_s = first.summary["timings"]["startup_s"]
            print(
                f"{wire:9s} evalkit {wall:.2f} s wall ({startup_s:.2f} s start-up: SDK import "
                f"and client set-up); cases {cases_s:.2f} s = {cases_s / ideal:.2f}x ideal, "
                f"{cases_s / floor:.2f}x bare SDK ({floor:.2f} s), {cases_s / lean:.2f}x it on "
                f"evalkit's request path ({lean:.2f} s), harness {(cases_s - lean) / n * 1000:.2f} "
                f"ms/case; cached re-run {cached_wall:.2f} s "
                f"= {n / cached_wall:,.0f} cases/s"
            )
    finally:
        proc.terminate()
        proc.wait()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:.0f} MiB; import evalkit {import_time() * 1000:.0f} ms")


if __name__ == "__main__":
    main()
