"""Conversation benchmark: cases of three model turns (two tool calls, then an answer) at
concurrency 50 against a scripted server with 50 ms latency, in its own process.

Prints evalkit's time for the cases against the ideal (cases × 3 turns × latency /
concurrency) and against the bare-SDK floor measured in the same process (the same three
requests per case, tools and tool results built by hand), the overhead per model turn, and the
fully cached re-run. Figures, not pass/fail.

    python benchmarks/bench_conversation.py [--cases 300] [--concurrency 50] [--latency-ms 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
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
TURNS = 3
TOOL = {
    "name": "lookup_order",
    "description": "Look up an order.",
    "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}},
}
SCRIPT: dict[str, Any] = {
    "responses": [
        {
            "when": {"turn": 1},
            "tool_calls": [{"name": "lookup_order", "arguments": {"order_id": "1"}}],
        },
        {
            "when": {"turn": 2},
            "tool_calls": [{"name": "lookup_order", "arguments": {"order_id": "2"}}],
        },
        {"when": {"turn": 3}, "text": "Both orders have shipped."},
    ]
}


def write_project(root: Path, url: str, wire: str, n: int, concurrency: int) -> Path:
    target = {
        "provider": "scripted",
        "wire": wire,
        "model": "bench",
        "base_url": url,
        "prompt": "prompt.yaml",
        "params": {"max_tokens": 256},
    }
    checks = [
        {"type": "tool-called", "tool": "lookup_order", "args": {"order_id": "1"}},
        {"type": "tool-sequence", "tools": ["lookup_order", "lookup_order"]},
        {"type": "tool-args-valid"},
        {"type": "max-tool-calls", "value": 3},
        {"type": "contains", "value": "shipped"},
    ]
    suite = {
        "goldens": "goldens.jsonl",
        "target": target,
        "checks": checks,
        "concurrency": concurrency,
    }
    (root / "evalkit.yaml").write_text(yaml.safe_dump({"suites": {"bench": suite}}))
    cases = [
        {
            "id": f"case-{i:05d}",
            "messages": [{"role": "user", "content": f"Where are 1 and 2? ({i})"}],
            "tools": [TOOL],
            "tool_results": [{"tool": "lookup_order", "result": {"status": "shipped"}}],
        }
        for i in range(n)
    ]
    (root / "goldens.jsonl").write_text("".join(json.dumps(c) + "\n" for c in cases))
    (root / "prompt.yaml").write_text('messages: [{role: system, content: "You are an agent."}]\n')
    return root / "evalkit.yaml"


async def bare_sdk(wire: str, url: str, n: int, concurrency: int) -> float:
    """The floor: three requests per case through the SDK alone (aiohttp transport)."""
    sem = asyncio.Semaphore(concurrency)
    result = json.dumps({"status": "shipped"})
    if wire == "anthropic":
        import anthropic

        client: Any = anthropic.AsyncAnthropic(
            api_key="x", base_url=url, max_retries=0, http_client=anthropic.DefaultAioHttpClient()
        )
        tools = [
            {
                "name": TOOL["name"],
                "description": TOOL["description"],
                "input_schema": TOOL["parameters"],
            }
        ]

        async def one(i: int) -> None:
            messages: list[dict[str, Any]] = [{"role": "user", "content": f"Where? ({i})"}]
            async with sem:
                for _ in range(TURNS):
                    reply = await client.messages.create(
                        model="m",
                        max_tokens=256,
                        system="You are an agent.",
                        tools=tools,
                        messages=messages,
                    )
                    uses = [b for b in reply.content if b.type == "tool_use"]
                    if not uses:
                        return
                    messages.append(
                        {"role": "assistant", "content": [b.model_dump() for b in reply.content]}
                    )
                    messages.append(
                        {
                            "role": "user",
                            "content": [
                                {"type": "tool_result", "tool_use_id": b.id, "content": result}
                                for b in uses
                            ],
                        }
                    )
    else:
        import openai

        client = openai.AsyncOpenAI(
            api_key="x",
            base_url=url + "/v1",
            max_retries=0,
            http_client=openai.DefaultAioHttpClient(),
        )
        tools = [{"type": "function", "function": TOOL}]

        async def one(i: int) -> None:
            messages: list[dict[str, Any]] = [
                {"role": "system", "content": "You are an agent."},
                {"role": "user", "content": f"Where? ({i})"},
            ]
            async with sem:
                for _ in range(TURNS):
                    reply = await client.chat.completions.create(
                        model="m", max_tokens=256, tools=tools, messages=messages
                    )
                    message = reply.choices[0].message
                    if not message.tool_calls:
                        return
                    messages.append(message.model_dump(exclude_none=True))
                    messages += [
                        {"role": "tool", "tool_call_id": c.id, "content": result}
                        for c in message.tool_calls
                    ]

    await one(-1)  # warm-up: connection pool, lazy imports
    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    elapsed = time.perf_counter() - started
    await client.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--latency-ms", type=int, default=50)
    args = parser.parse_args()
    n, c, lat = args.cases, args.concurrency, args.latency_ms
    ideal = n * TURNS * lat / 1000 / c
    print(
        f"{n} cases × {TURNS} model turns, concurrency {c}, latency {lat} ms: ideal {ideal:.2f} s"
    )
    script = Path(tempfile.mkdtemp()) / "script.yaml"
    script.write_text(yaml.safe_dump({"latency_ms": lat, **SCRIPT}))
    proc = subprocess.Popen(
        [sys.executable, "-m", "evalkit.scripted", str(script)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    try:
        for wire in WIRES:
            floor = asyncio.run(bare_sdk(wire, url, n, c))
            with tempfile.TemporaryDirectory() as tmp:
                base = url if wire == "anthropic" else url + "/v1"
                suite = load_suite(load_config(write_project(Path(tmp), base, wire, n, c)))
                first = run_suite(suite, RunOptions(progress=False))
                assert first.requests == n * TURNS, first.requests
                assert first.summary["pass_rate"] == 1.0, first.summary
                t = time.perf_counter()
                cached = run_suite(suite, RunOptions(progress=False))
                cached_wall = time.perf_counter() - t
                assert cached.requests == 0
            cases_s = first.summary["timings"]["cases_s"]
            print(
                f"{wire:9s} evalkit cases {cases_s:.2f} s = {cases_s / ideal:.2f}x ideal, "
                f"{cases_s / floor:.2f}x bare SDK ({floor:.2f} s), overhead "
                f"{(cases_s - floor) / (n * TURNS) * 1000:.2f} ms/turn; cached re-run "
                f"{cached_wall:.2f} s = {n / cached_wall:,.0f} cases/s"
            )
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
