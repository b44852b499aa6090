"""`evalkit judge --batch`: a run's judge requests through provider batches, both wires,
against the scripted server's batch endpoints, through the real SDKs and instructor."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from evalkit.api.batch import read_batches
from evalkit.api.judge import JudgeBatching, judge_run
from evalkit.api.judge_batch import judge_batches_file
from evalkit.api.project import load_config, load_suite
from evalkit.api.run import RunOptions, run_suite
from evalkit.grading.judge.modes import LADDERS
from evalkit.model.outcome import Outcome
from evalkit.scripted import ScriptedServer
from evalkit.storage.store import iter_run_dirs, load_run, read_manifest
from tests.conftest import PROMPT
from tests.grading.judge.conftest import FAST, fail_verdict, pass_verdict

GOLDENS = """\
- id: a
  vars: {question: "first?"}
- id: b
  vars: {question: "second?"}
- id: c
  vars: {question: "third?"}
- id: d
  vars: {question: "fourth?"}
"""


def script(judge_rules: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    """The judge by what it judges (a batch request has no per-case headers), first; then
    the target by case."""
    return {
        "batch_delay_ms": 50,
        **extra,
        "responses": [
            *(
                judge_rules
                or [
                    {"when": {"contains": "nope"}, "json": fail_verdict()},
                    {"when": {"contains": "output_to_grade"}, "json": pass_verdict()},
                ]
            ),
            {"when": {"purpose": "target", "case": "b"}, "text": "nope"},
        ],
        "default": {"text": "ok fine"},
    }


def judge_model(url: str, wire: str) -> dict[str, Any]:
    """A judge's ``model:`` on the scripted server at ``url`` speaking ``wire`` (priced)."""
    return {
        "provider": "scripted",
        "model": "claude-haiku-4-5",
        "base_url": url,
        "wire": wire,
        "params": {"max_tokens": 256},
    }


def project(
    root: Path, server: ScriptedServer, server_script: dict[str, Any], wire: str, output: str
) -> Path:
    url = server.url if wire == "anthropic" else server.openai_base_url
    (root / "goldens").mkdir(parents=True)
    (root / "prompts").mkdir()
    (root / "judges").mkdir()
    (root / "goldens/demo.yaml").write_text(GOLDENS)
    (root / "prompts/p.yaml").write_text(PROMPT)
    (root / "script.yaml").write_text(yaml.safe_dump(server_script))
    (root / "prices.yaml").write_text("claude-haiku-4-5: {input: 1.0, output: 5.0}\n")
    (root / "evalkit.yaml").write_text(
        textwrap.dedent(
            f"""\
            prices: prices.yaml
            suites:
              demo:
                goldens: goldens/demo.yaml
                target:
                  provider: scripted
                  model: fake-model
                  prompt: prompts/p.yaml
                  script: script.yaml
                  base_url: {server.url}
                  params: {{max_tokens: 64}}
                judges: [grounded]
                retry: {{base_delay: 0.01, max_delay: 0.05}}
            """
        )
    )
    model = judge_model(url, wire)
    (root / "judges/grounded.yaml").write_text(
        "scale: binary\nrubric: PASS if grounded.\nsees: [question, output]\n"
        f"output: {output}\nmodel: {json.dumps(model)}\n"
    )
    return root / "evalkit.yaml"


def live_judge_bodies(server: ScriptedServer) -> list[Any]:
    return [r.body for r in server.requests if r.context.get("purpose") == "judge:grounded"]


def first_run(config: Path) -> Path:
    suite = load_suite(load_config(config), "demo")
    return run_suite(suite, RunOptions(progress=False, retry=FAST)).path


@pytest.mark.parametrize(
    ("wire", "output"),
    [
        ("anthropic", "auto"),
        ("openai", "auto"),
        ("anthropic", "json"),
        ("openai", "json_schema"),
        ("openai", "text"),
        ("anthropic", "text"),
    ],
)
def test_batch_judge_sends_the_live_request_and_reads_the_live_verdicts(
    tmp_path: Path, wire: str, output: str
) -> None:
    text = output == "text"
    rules = [
        {"when": {"contains": "nope"}, "text": "<reasoning>no</reasoning><verdict>FAIL</verdict>"},
        {
            "when": {"contains": "output_to_grade"},
            "text": "<reasoning>ok</reasoning><verdict>PASS</verdict>",
        },
    ]
    rules_script = script(judge_rules=rules if text else None)
    with ScriptedServer(rules_script) as server:
        config = project(tmp_path, server, rules_script, wire, output)
        source = first_run(config)  # judged live, the verdicts cached
        live = {r.case_id: r for r in load_run(source).records}
        live_bodies = live_judge_bodies(server)
        assert len(live_bodies) == 4
        before = len(server.requests)
        outcome = judge_run(
            load_config(config),
            source,
            use_cache=False,  # ask again, by batch
            batch=JudgeBatching(poll_s=0.02),
        )
        after = server.requests[before:]
        bodies = list(server.batches.bodies)
        created = list(server.batches.created)
    assert not [r for r in after if r.context.get("purpose") == "judge:grounded"]  # none live
    assert len(created) == 1 and len(bodies) == 4  # one batch, every case's request in it
    # exactly what the live judge sent, in its output mode
    key = lambda b: json.dumps(b, sort_keys=True)  # noqa: E731
    assert sorted(map(key, bodies)) == sorted(map(key, live_bodies))
    records = {r.case_id: r for r in load_run(outcome.path).records}
    for case_id, record in records.items():
        (verdict,) = record.judges
        (was,) = live[case_id].judges
        assert verdict.outcome is was.outcome
        assert verdict.outcome is (Outcome.FAIL if case_id == "b" else Outcome.PASS)
        assert verdict.output_mode == was.output_mode and verdict.version == was.version
        assert not verdict.cached and verdict.requests == 1
        # the judge's cost at the batch discount
        assert was.cost_usd and verdict.cost_usd == pytest.approx(was.cost_usd * 0.5)
    manifest = read_manifest(outcome.path)
    assert manifest["batch"] is True and manifest["judge_batches"] == {"grounded": created}
    record = read_batches(outcome.path, judge_batches_file("grounded"))
    assert [b["id"] for b in record["batches"]] == created and record["wire"] == wire


def _rejudge(config: Path, source: Path) -> Path:
    outcome = judge_run(
        load_config(config), source, use_cache=False, batch=JudgeBatching(poll_s=0.02)
    )
    return outcome.path


@pytest.mark.parametrize("wire", ["anthropic", "openai"])
def test_auto_falls_back_in_a_second_batch(tmp_path: Path, wire: str) -> None:
    """A server that ignores forced tool use (llama-server): every request of the first
    batch asked in ``tools`` comes back ignored; the next rung goes as a second batch."""
    rules = script(profile="llama-server")
    with ScriptedServer(rules) as server:
        config = project(tmp_path, server, rules, wire, "auto")
        source = first_run(config)
        path = _rejudge(config, source)
        bodies = list(server.batches.bodies)
        created = list(server.batches.created)
    live = {r.case_id: r.judges[0] for r in load_run(source).records}
    assert len(created) == 2 and len(bodies) == 8  # tools for all four, then the next rung
    assert all("tools" in b for b in bodies[:4]) and not any("tools" in b for b in bodies[4:])
    for record in load_run(path).records:
        (verdict,) = record.judges
        assert verdict.output_mode == LADDERS[wire][1] == live[record.case_id].output_mode
        assert verdict.version == live[record.case_id].version
        assert verdict.outcome is (Outcome.FAIL if record.case_id == "b" else Outcome.PASS)
        assert verdict.requests == 2  # the ignored rung is paid for and counted
    assert read_manifest(path)["judge_versions"]["grounded"] == verdict.version


@pytest.mark.parametrize("wire", ["anthropic", "openai"])
def test_an_unparseable_verdict_is_reasked_in_the_next_batch_then_an_error(
    tmp_path: Path, wire: str
) -> None:
    """The model answers inside the mode but not with a verdict: instructor's re-ask is the
    next batch round, and when re-asks run out the verdict is an *error* (unparseable)."""
    rules = script(
        judge_rules=[
            {"when": {"contains": "nope"}, "json": {"reasoning": "hm"}},  # no `passed`
            {"when": {"contains": "output_to_grade"}, "json": pass_verdict()},
        ]
    )
    with ScriptedServer(rules) as server:
        config = project(tmp_path, server, rules, wire, "tools")
        source = first_run(config)
        path = _rejudge(config, source)
        created = list(server.batches.created)
        bodies = list(server.batches.bodies)
    records = {r.case_id: r for r in load_run(path).records}
    (bad,) = records["b"].judges
    assert bad.outcome is Outcome.ERROR and bad.error and bad.error.kind == "unparseable"
    assert bad.requests == 3  # asked, then re-asked twice (max_validation_retries: 2)
    assert len(created) == 3 and len(bodies) == 4 + 1 + 1  # each re-ask: the next round
    assert all(records[c].judges[0].outcome is Outcome.PASS for c in "acd")


@pytest.mark.parametrize("wire", ["anthropic", "openai"])
def test_requests_the_batch_did_not_answer_are_sent_alone(tmp_path: Path, wire: str) -> None:
    rules = script(
        judge_rules=[
            # the live first run meets each fault once (per case); the batch (no case in a
            # batch request) once more: those two requests are then sent alone, live
            {
                "when": {"contains": "nope"},
                "json": fail_verdict(),
                "fault": {"status": 500, "times": 1},
            },
            {
                "when": {"contains": "first?"},
                "json": pass_verdict(),
                "fault": {"drop": True, "times": 1},
            },
            {"when": {"contains": "output_to_grade"}, "json": pass_verdict()},
        ]
    )
    with ScriptedServer(rules) as server:
        config = project(tmp_path, server, rules, wire, "tools")
        source = first_run(config)
        before = len(server.requests)
        path = _rejudge(config, source)
        alone = [
            r.context.get("case")
            for r in server.requests[before:]
            if r.path.endswith(("/v1/messages", "/chat/completions"))
        ]
        created = list(server.batches.created)
    records = {r.case_id: r for r in load_run(path).records}
    assert len(created) == 1
    assert sorted(alone) == ["a", "b"]  # a expired, b errored: each sent alone
    assert records["a"].judges[0].outcome is Outcome.PASS
    assert records["b"].judges[0].outcome is Outcome.FAIL
    assert records["a"].judges[0].requests == records["b"].judges[0].requests == 2
    assert records["c"].judges[0].requests == 1


@pytest.mark.parametrize("wire", ["anthropic", "openai"])
@pytest.mark.parametrize("window", ["polling", "create"])
def test_kill_then_resume_reattaches_and_submits_nothing_twice(
    tmp_path: Path, wire: str, window: str
) -> None:
    """``evalkit judge --batch`` killed while it polls, or while the provider creates the
    batch (its id not yet written); ``evalkit judge --resume`` finishes it without
    submitting any request again."""
    rules = script()
    with ScriptedServer(rules) as server:
        config = project(tmp_path, server, rules, wire, "tools")
        source = first_run(config)
        server.batches._delay = 2.5 if window == "polling" else 0.05
        server.batches.create_delay_s = 60.0 if window == "create" else 0.0
        argv = ["judge", str(source), "-c", str(config), "--batch", "--batch-poll", "0.05"]
        proc = subprocess.Popen(
            [sys.executable, "-m", "evalkit", *argv, "--no-cache", "-q"],
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        record = judge_batches_file("grounded")
        deadline = time.monotonic() + 60
        found: list[Path] = []
        while time.monotonic() < deadline and not found:
            assert proc.poll() is None, proc.communicate()
            found = [
                d
                for d in iter_run_dirs(tmp_path / "runs")
                if (d / record).exists()
                and (server.batches.created if window == "create" else _ided(d / record))
            ]
            time.sleep(0.02)
        assert found, f"no batch in {record}"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        server.batches.create_delay_s = 0.0
        (path,) = found
        assert read_manifest(path)["status"] == "running"
        (entry,) = read_batches(path, record)["batches"]
        assert bool(entry["id"]) is (window == "polling")
        asked = list(server.batches.bodies)
        assert len(asked) == 4 and len(server.batches.created) == 1

        outcome = judge_run(
            load_config(config), "", resume=path.name, batch=JudgeBatching(poll_s=0.05)
        )
        assert server.batches.bodies == asked  # not one request submitted again
        created = list(server.batches.created)
    assert outcome.path == path and outcome.rejudged_from == source.name
    (entry,) = read_batches(path, record)["batches"]
    assert [entry["id"]] == created
    manifest = read_manifest(path)
    assert manifest["status"] == "complete" and manifest["judge_batches"] == {"grounded": created}
    records = {r.case_id: r for r in load_run(path).records}
    assert sorted(records) == ["a", "b", "c", "d"]
    assert [records[c].judges[0].outcome for c in "ab"] == [Outcome.PASS, Outcome.FAIL]


def _ided(record: Path) -> bool:
    if not record.exists():
        return False
    batches = read_batches(record.parent, record.name)["batches"]
    return bool(batches and batches[0]["id"])


def _pick(verdict: str) -> dict[str, str]:
    return {"reasoning": f"picked {verdict}", "verdict": verdict}


@pytest.mark.parametrize("wire", ["anthropic", "openai"])
def test_a_pairwise_judge_through_batches_still_judges_both_orders(
    tmp_path: Path, wire: str
) -> None:
    """Both orders of every case go in one batch; the swap still maps verdicts back, so
    position bias still becomes a tie."""
    import asyncio
    from dataclasses import replace

    from evalkit.api.judge_batch import JudgeCourier
    from evalkit.execution.cache import ResponseCache
    from evalkit.grading.judge import Judge, judge_pairs, judge_target
    from evalkit.model.pricing import load_prices
    from tests.grading.judge.conftest import make_def
    from tests.grading.judge.test_pairwise import _runs

    rules = {
        "default": {"text": "no verdict"},
        "responses": [
            # head better, in both orders
            {"when": {"contains": "<output_a>\nbase says c-head"}, "json": _pick("B")},
            {"when": {"contains": "<output_a>\nhead says c-head"}, "json": _pick("A")},
            # position bias: whichever comes first wins
            {"when": {"contains": "c-bias"}, "json": _pick("A")},
            {"when": {"contains": "<output_a>\nbase says c-base"}, "json": _pick("A")},
            {"when": {"contains": "<output_a>\nhead says c-base"}, "json": _pick("B")},
        ],
    }
    base, head = _runs(tmp_path)
    with ScriptedServer(rules) as server:
        url = server.url if wire == "anthropic" else server.openai_base_url
        definition = make_def(name="preference", scale="pairwise", output="tools")
        target = replace(judge_target(definition), provider="scripted", base_url=url, wire=wire)
        cache = ResponseCache(tmp_path / "cache")
        judge = Judge(definition, target, cache=cache, prices=load_prices(), policy=FAST)
        (tmp_path / "rejudge").mkdir()
        courier = JudgeCourier(tmp_path / "rejudge", judge.name, poll_s=0.02, progress=False)
        judge.send_by_batch(courier)

        async def go() -> Any:
            try:
                return await judge_pairs(base, head, judge)
            finally:
                await courier.aclose()
                await judge.aclose()

        result = asyncio.run(go())
        cache.close()
        created = list(server.batches.created)
        bodies = list(server.batches.bodies)
        live = [r for r in server.requests if r.path.endswith(("/v1/messages", "/completions"))]
    # four cases in both orders in the first batch; c-error's two unparseable answers are
    # re-asked twice (max_validation_retries: 2), each time in the next batch
    assert len(created) == 3 and len(bodies) == 8 + 2 + 2
    assert len(live) == 0
    winners = {c.case_id: (c.winner, c.consistent) for c in result.cases}
    assert winners == {
        "c-head": ("head", True),
        "c-bias": ("tie", False),
        "c-base": ("base", True),
        "c-error": (None, None),
    }
    assert result.position_consistency == 2 / 3
    error = next(c for c in result.cases if c.case_id == "c-error").base_first
    assert error.outcome is Outcome.ERROR and error.error and error.error.kind == "unparseable"


def test_ctrl_c_while_polling_says_how_to_resume(tmp_path: Path) -> None:
    rules = script()
    with ScriptedServer(rules) as server:
        config = project(tmp_path, server, rules, "anthropic", "tools")
        source = first_run(config)
        server.batches._delay = 30.0
        argv = ["judge", str(source), "-c", str(config), "--batch", "--batch-poll", "0.05"]
        proc = subprocess.Popen(
            [sys.executable, "-m", "evalkit", *argv, "--no-cache"],
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        found: list[Path] = []
        while time.monotonic() < deadline and not found:
            assert proc.poll() is None, proc.communicate()
            record = judge_batches_file("grounded")
            found = [d for d in iter_run_dirs(tmp_path / "runs") if _ided(d / record)]
            time.sleep(0.02)
        assert found
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    (path,) = found
    assert proc.returncode == 3
    assert f"Resume with `evalkit judge --resume {path.name}`" in err
    assert read_manifest(path)["status"] == "interrupted"
