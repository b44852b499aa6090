"""`evalkit run --batch`: Anthropic Message Batches through the real SDK against the scripted
server's batch endpoints; partial failures, the batch discount, and a kill while polling."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from evalkit.api.batch import BATCHES, read_batches
from evalkit.execution.batch import batch_support
from evalkit.model.outcome import Outcome
from evalkit.scripted import ScriptedServer
from evalkit.storage.store import iter_run_dirs, read_manifest, read_records
from tests.api.test_run import KEY, cases, run, write_project

IDS = ["a", "b", "c", "d", "e", "f"]


def script(delay_ms: float = 100) -> dict[str, Any]:
    return {
        "batch_delay_ms": delay_ms,
        "default": {"text": "ok fine"},
        "responses": [
            # each fault once per (rule, case): once in the batch, once more when retried alone
            {
                "when": {"contains": "question b"},
                "text": "ok b",
                "fault": {"status": 500, "times": 1},
            },
            {
                "when": {"contains": "question c"},
                "text": "ok c",
                "fault": {"drop": True, "times": 1},
            },
        ],
    }


def start_batch_run(config: Path) -> subprocess.Popen[bytes]:
    """``evalkit run --batch`` in a process of its own (to be killed)."""
    env = {**os.environ, "EVALKIT_ENGINE_KEY": KEY, "PYTHONUNBUFFERED": "1"}
    argv = ["run", "-c", str(config), "-q", "--batch", "--batch-poll", "0.05", "--no-cache"]
    return subprocess.Popen(
        [sys.executable, "-m", "evalkit", *argv],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def live(srv: ScriptedServer) -> list[Any]:
    return [r for r in srv.requests if r.path.endswith(("/v1/messages", "/chat/completions"))]


def url(srv: ScriptedServer, wire: str) -> str:
    return srv.url if wire == "anthropic" else srv.openai_base_url


@pytest.mark.parametrize("wire", ["anthropic", "openai"])
def test_batch_run_answers_grades_and_retries_what_the_batch_did_not(
    tmp_path: Path, wire: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with ScriptedServer(script()) as srv:
        config = write_project(tmp_path, url(srv, wire), cases(*IDS), target={"wire": wire})
        outcome = run(config, batch=True, batch_poll_s=0.02, use_cache=False, progress=True)
        created = list(srv.batches.created)
        alone = live(srv)
    records = {r.case_id: r for r in read_records(outcome.path)}
    assert all(r.outcome is Outcome.PASS for r in records.values()) and len(records) == 6
    assert len(created) == 1  # one batch for the suite
    assert read_batches(outcome.path)["batches"][0]["id"] == created[0]
    manifest = read_manifest(outcome.path)
    assert manifest["batch"] is True and manifest["batches"] == created
    assert read_batches(outcome.path)["wire"] == wire
    # polling shows progress; OpenAI counts an expired request among the failed ones
    err = capsys.readouterr().err
    assert f"batch {created[0]}: 0/6 done" in err
    failed = "errored 1, expired 1" if wire == "anthropic" else "errored 2, expired 0"
    assert f"batch {created[0]}: 6/6 done (succeeded 4, {failed}, canceled 0)" in err
    # b errored and c expired in the batch: each sent alone, failing once more, then answered
    assert sorted(r.context["case"] for r in alone) == ["b", "b", "c", "c"]
    assert records["a"].attempts == 1 and not records["a"].cached
    assert records["b"].output == "ok b" and records["b"].attempts == 2
    assert records["c"].attempts == 2
    assert outcome.summary["requests"] == 6 + 2 + 2  # the batch's, then b's and c's alone


@pytest.mark.parametrize("wire", ["anthropic", "openai"])
def test_batch_answers_cost_half(tmp_path: Path, wire: str) -> None:
    prices = tmp_path / "prices.yaml"
    prices.write_text("claude-test: {input: 3.0, output: 15.0}\n")
    costs = {}
    for mode in ("live", "batch"):
        root = tmp_path / mode
        root.mkdir()
        with ScriptedServer({"batch_delay_ms": 0, "default": {"text": "ok fine"}}) as srv:
            config = write_project(root, url(srv, wire), cases("a"), target={"wire": wire})
            config.write_text(config.read_text() + f"prices: {prices}\n")
            outcome = run(config, batch=mode == "batch", batch_poll_s=0.01, use_cache=False)
        (record,) = read_records(outcome.path)
        assert record.cost_usd
        costs[mode] = record.cost_usd
        assert outcome.summary["cost_usd"] == pytest.approx(record.cost_usd)
    assert costs["batch"] == pytest.approx(costs["live"] * 0.5)


@pytest.mark.parametrize("wire", ["anthropic", "openai"])
def test_kill_while_polling_then_resume_reattaches(tmp_path: Path, wire: str) -> None:
    with ScriptedServer(script(delay_ms=2500)) as srv:
        config = write_project(tmp_path, url(srv, wire), cases(*IDS), target={"wire": wire})
        proc = start_batch_run(config)
        deadline = time.monotonic() + 60
        found: list[Path] = []
        while time.monotonic() < deadline and not found:
            found = [
                d
                for d in iter_run_dirs(tmp_path / "runs")
                if (d / BATCHES).exists() and read_batches(d)["batches"][0]["id"]
            ]
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.02)
        assert found, "no batch id in batches.json"
        proc.send_signal(signal.SIGKILL)  # while it polls: the batch is still in progress
        proc.wait()
        path = found[0]
        assert read_manifest(path)["status"] == "running" and not read_records(path)
        assert len(srv.batches.created) == 1

        outcome = run(config, resume=path, batch_poll_s=0.05)
        created = list(srv.batches.created)
    assert created == [read_batches(path)["batches"][0]["id"]]  # re-attached, not resubmitted
    assert outcome.status == "complete"
    assert outcome.summary["requests"] == 4  # b and c alone, twice each: no batch request again
    assert sorted(r.case_id for r in read_records(path)) == IDS
    assert all(r.outcome is Outcome.PASS for r in read_records(path))


def test_batch_needs_a_provider_with_a_batch_api() -> None:
    assert batch_support("anthropic", "") is None and batch_support("openai", "") is None
    assert batch_support("scripted", "openai") is None
    assert "not provider 'python'" in (batch_support("python", "") or "")


def _decoy(srv: ScriptedServer, wire: str, n: int) -> None:
    """Someone else's batch of the same size, created just before: never taken for the run's."""
    import asyncio

    import anthropic
    import openai

    async def go() -> None:
        if wire == "anthropic":
            a = anthropic.AsyncAnthropic(base_url=srv.url, api_key="k", max_retries=0)
            params = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}
            await a.messages.batches.create(
                requests=[{"custom_id": f"other{i}", "params": params} for i in range(n)]
            )
            await a.close()
            return
        o = openai.AsyncOpenAI(base_url=srv.openai_base_url, api_key="k", max_retries=0)
        body = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
        lines = "".join(
            f'{{"custom_id": "other{i}", "method": "POST", "url": "/v1/chat/completions", '
            f'"body": {json.dumps(body)}}}\n'
            for i in range(n)
        )
        upload = await o.files.create(file=("x.jsonl", lines.encode()), purpose="batch")
        await o.batches.create(
            input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h"
        )
        await o.close()

    asyncio.run(go())


def _batch_requests(srv: ScriptedServer) -> int:
    """How many requests the server was asked to answer by batch (all batches)."""
    return len(srv.batches.bodies)


@pytest.mark.parametrize("wire", ["anthropic", "openai"])
def test_kill_after_the_batch_is_created_before_its_id_is_written(
    tmp_path: Path, wire: str
) -> None:
    """The kill window: the provider holds the batch, the client never learned its id. On
    --resume the intent in batches.json finds it by listing; nothing is submitted twice."""
    with ScriptedServer(script(delay_ms=300)) as srv:
        _decoy(srv, wire, len(IDS))
        srv.batches.create_delay_s = 60.0  # from now on a create is answered a minute late
        config = write_project(tmp_path, url(srv, wire), cases(*IDS), target={"wire": wire})
        proc = start_batch_run(config)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(srv.batches.created) < 2:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.02)
        assert len(srv.batches.created) == 2, "the run's batch was not created"
        proc.send_signal(signal.SIGKILL)  # the create call is still waiting for its answer
        proc.wait()
        srv.batches.create_delay_s = 0
        (path,) = [d for d in iter_run_dirs(tmp_path / "runs")]
        (intent,) = read_batches(path)["batches"]
        assert intent["id"] is None and intent["token"]
        assert all(c.startswith(intent["token"] + "_") for c in intent["requests"])
        asked = _batch_requests(srv)

        outcome = run(config, resume=path, batch_poll_s=0.05)
        created = list(srv.batches.created)
        assert _batch_requests(srv) == asked  # no request submitted again
    assert len(created) == 2  # the decoy and the run's own: found, not resubmitted
    (found,) = read_batches(path)["batches"]
    assert found["id"] == created[1] and found["found_at"]
    assert outcome.status == "complete"
    assert outcome.summary["requests"] == 4  # b and c alone, twice each
    assert sorted(r.case_id for r in read_records(path)) == IDS
    assert all(r.outcome is Outcome.PASS for r in read_records(path))


@pytest.mark.parametrize("wire", ["anthropic", "openai"])
def test_an_intent_the_provider_never_received_is_submitted_on_resume(
    tmp_path: Path, wire: str
) -> None:
    """A kill before create reached the provider: the intent matches no batch (the decoy of
    the same size is someone else's) and is submitted once, under its recorded custom ids."""
    with ScriptedServer(script(delay_ms=0)) as srv:
        config = write_project(tmp_path, url(srv, wire), cases(*IDS), target={"wire": wire})
        outcome = run(config, batch=True, batch_poll_s=0.02, use_cache=False)
        path = outcome.path
        # stage the state a kill before create leaves: an intent (a token no batch on the
        # server carries), no id, no records
        data = read_batches(path)
        entry = data["batches"][0]
        entry["id"], entry["token"] = None, "ekfeedfacecafe"
        entry["requests"] = {
            f"ekfeedfacecafe_{i}": k for i, k in enumerate(entry["requests"].values())
        }
        (path / BATCHES).write_text(json.dumps(data))
        (path / "results.jsonl").write_text("")
        _decoy(srv, wire, len(IDS))
        before = list(srv.batches.created)
        again = run(config, resume=path, batch_poll_s=0.02)
        created = srv.batches.created[len(before) :]
    assert len(created) == 1  # submitted once
    (entry,) = read_batches(path)["batches"]
    assert entry["id"] == created[0] and "found_at" not in entry
    assert entry["requests"] == data["batches"][0]["requests"]
    assert again.status == "complete"
    assert sorted(r.case_id for r in read_records(path)) == IDS
