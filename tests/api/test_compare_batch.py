"""`evalkit compare --pairwise JUDGE --batch`: the pairwise judge's requests through provider
batches, both wires, against the scripted server's batch endpoints (real SDKs, instructor)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from evalkit.api.batch import read_batches
from evalkit.api.compare import compare
from evalkit.api.compare_batch import STATE, comparison_dir, read_state
from evalkit.api.judge import JudgeBatching
from evalkit.api.judge_batch import judge_batches_file
from evalkit.api.project import load_config
from evalkit.base.exceptions import InputError
from evalkit.grading.judge.pairwise import PairwiseResult
from evalkit.model.outcome import Outcome
from evalkit.model.provider import TargetSpec
from evalkit.report.pairwise import pairwise_markdown, pairwise_summary_lines
from evalkit.scripted import ScriptedServer
from tests.api.test_judge_batch import judge_model
from tests.conftest import Cli
from tests.grading.judge.test_pairwise import _runs

JUDGE = "preference"
BASE, HEAD = "run-base", "run-head"
#: the live requests a judge sends (a batch request goes to .../batches instead)
LIVE = ("/v1/messages", "/chat/completions")


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def _pick(verdict: str) -> dict[str, str]:
    return {"reasoning": f"picked {verdict}", "verdict": verdict}


def _first(who: str, case: str) -> dict[str, str]:
    """Matches the request that shows ``who``'s output of ``case`` as A (a batch request has
    no per-case headers: the judge is scripted by what it judges)."""
    return {"contains": f"<output_a>\n{who} says {case}"}


def rules(
    *, answered_error: bool = False, faults: dict[str, Any] | None = None, text: bool = False
) -> dict[str, Any]:
    """c-head: head better in both orders; c-bias: whichever comes first wins (position bias);
    c-base: base better; c-error: no verdict (the default), unless ``answered_error``.
    ``faults`` maps a rule's name (case/first side) to a fault for it; ``text``: the verdicts
    as tagged text (a judge with ``output: text``)."""
    faults = faults or {}
    table = {
        "c-head/base": _pick("B"),
        "c-head/head": _pick("A"),
        "c-bias/base": _pick("A"),
        "c-bias/head": _pick("A"),
        "c-base/base": _pick("A"),
        "c-base/head": _pick("B"),
    }
    if answered_error:
        table |= {"c-error/base": _pick("tie"), "c-error/head": _pick("tie")}
    responses = []
    for name, answer in table.items():
        case, who = name.split("/")
        rule: dict[str, Any] = {"when": _first(who, case), "json": answer}
        if text:
            v = answer["verdict"]
            rule = {"when": rule["when"], "text": f"<reasoning>r</reasoning><verdict>{v}</verdict>"}
        if name in faults:
            rule["fault"] = faults[name]
        responses.append(rule)
    return {"batch_delay_ms": 50, "default": {"text": "no verdict"}, "responses": responses}


def project(root: Path, server: ScriptedServer, wire: str, output: str = "tools") -> Path:
    """Two stored runs (tests.grading.judge.test_pairwise) and a project whose pairwise judge
    is the scripted server on ``wire``."""
    _runs(root)
    url = server.url if wire == "anthropic" else server.openai_base_url
    (root / "judges").mkdir()
    (root / "prices.yaml").write_text("claude-haiku-4-5: {input: 1.0, output: 5.0}\n")
    model = judge_model(url, wire)
    (root / "judges" / f"{JUDGE}.yaml").write_text(
        "scale: pairwise\nrubric: Which reply is better?\nsees: [question, output]\n"
        f"output: {output}\nmodel: {json.dumps(model)}\n"
    )
    (root / "evalkit.yaml").write_text(
        textwrap.dedent(
            """\
            prices: prices.yaml
            suites:
              demo:
                goldens: g.yaml
                target: {provider: python, callable: m:f}
                retry: {max_attempts: 3, base_delay: 0.01, max_delay: 0.05}
            """
        )
    )
    return root / "evalkit.yaml"


def _pairwise(config: Path, **options: Any) -> PairwiseResult:
    result = compare(BASE, HEAD, project=load_config(config), pairwise_judge=JUDGE, **options)
    assert result.pairwise is not None
    return result.pairwise


def _batched(config: Path, **options: Any) -> PairwiseResult:
    return _pairwise(config, batch=JudgeBatching(poll_s=0.02), **options)


def _no_cost(value: Any) -> Any:
    """``value`` (a model_dump) without any ``cost_usd``: what must not differ by batching."""
    if isinstance(value, dict):
        return {k: _no_cost(v) for k, v in value.items() if k != "cost_usd"}
    if isinstance(value, list):
        return [_no_cost(v) for v in value]
    return value


def _live_bodies(server: ScriptedServer, since: int = 0) -> list[Any]:
    return [r.body for r in server.requests[since:] if r.path.endswith(LIVE)]


WIRE_OUTPUT = [("anthropic", "tools"), ("openai", "tools"), ("anthropic", "text")]


@pytest.mark.parametrize(("wire", "output"), WIRE_OUTPUT)
def test_batch_figures_equal_the_live_ones_at_half_the_cost(
    tmp_path: Path, wire: str, output: str
) -> None:
    with ScriptedServer(rules(text=output == "text")) as server:
        config = project(tmp_path, server, wire, output)
        live = _pairwise(config)
        live_bodies = _live_bodies(server)
        shutil.rmtree(tmp_path / ".evalkit" / "cache")  # ask again, now by batch
        before = len(server.requests)
        batched = _batched(config)
        created = list(server.batches.created)
        bodies = list(server.batches.bodies)
        alone = _live_bodies(server, before)
    # every case in both orders in the first batch; c-error's two unparseable answers are
    # re-asked twice (max_validation_retries: 2), each re-ask the next round's batch
    assert len(created) == 3 and len(bodies) == 8 + 2 + 2 and not alone
    key = lambda b: json.dumps(b, sort_keys=True)  # noqa: E731
    assert sorted(map(key, bodies)) == sorted(map(key, live_bodies))  # the live requests
    # the same verdicts, rates, position figures and request counts
    assert _no_cost(batched.model_dump(mode="json")) == _no_cost(live.model_dump(mode="json"))
    assert {c.case_id: (c.winner, c.consistent) for c in batched.cases} == {
        "c-head": ("head", True),
        "c-bias": ("tie", False),
        "c-base": ("base", True),
        "c-error": (None, None),
    }
    assert (batched.position_consistency, batched.first_position_preference) == (2 / 3, 4 / 6)
    error = next(c for c in batched.cases if c.case_id == "c-error")
    for verdict in (error.base_first, error.head_first):  # unparseable stays its own outcome
        assert verdict.outcome is Outcome.ERROR and verdict.error
        assert verdict.error.kind == "unparseable" and verdict.requests == 3
    # reported the same way (the markdown has no cost; the terminal lines differ by it only)
    assert pairwise_markdown(batched) == pairwise_markdown(live)
    assert pairwise_summary_lines(batched)[:2] == pairwise_summary_lines(live)[:2]
    # the batch discount, per verdict and in total
    assert live.cost_usd and batched.cost_usd == pytest.approx(live.cost_usd * 0.5)
    for b, w in zip(batched.cases, live.cases, strict=True):
        for mine, theirs in ((b.base_first, w.base_first), (b.head_first, w.head_first)):
            assert theirs.cost_usd and mine.cost_usd == pytest.approx(theirs.cost_usd * 0.5)
    # the batch state: beside the runs, named by the comparison, complete
    path = comparison_dir(tmp_path / "runs", BASE, HEAD, JUDGE)
    state = read_state(path)
    assert state and state["status"] == "complete" and state["batches"] == created
    record = read_batches(path, judge_batches_file(JUDGE))
    assert [b["id"] for b in record["batches"]] == created and record["wire"] == wire


@pytest.mark.parametrize(("wire", "output"), WIRE_OUTPUT)
def test_unanswered_requests_are_sent_alone_within_the_retry_budget(
    tmp_path: Path, wire: str, output: str
) -> None:
    """c-head's base-first request errors in the batch, c-base's head-first one expires: each
    is sent alone, live, under the retry policy (it fails once more there: a fault is counted
    per case, and the batch request had none) and gets its verdict. c-bias's base-first
    request always fails: after the suite's 3 attempts it is an error of the provider's kind,
    never a verdict; the case is not judged."""
    script = rules(
        faults={
            "c-head/base": {"status": 500, "times": 1},
            "c-base/head": {"drop": True, "times": 1},
            "c-bias/base": {"status": 500},
        },
        text=output == "text",
    )
    with ScriptedServer(script) as server:
        config = project(tmp_path, server, wire, output)
        result = _batched(config)
        created = list(server.batches.created)
        alone = [r.context.get("case") for r in server.requests if r.path.endswith(LIVE)]
    cases = {c.case_id: c for c in result.cases}
    assert len(created) == 3  # the first round, then c-error's two re-asks
    assert sorted(alone) == ["c-base"] * 2 + ["c-bias"] * 3 + ["c-head"] * 2
    assert (cases["c-head"].winner, cases["c-base"].winner) == ("head", "base")
    assert cases["c-head"].base_first.requests == cases["c-base"].head_first.requests == 3
    assert cases["c-head"].head_first.requests == 1
    bias = cases["c-bias"]
    assert bias.winner is None and bias.base_first.outcome is Outcome.ERROR
    assert bias.base_first.error and bias.base_first.error.kind != "unparseable"
    assert bias.base_first.requests == 1 + 3
    assert bias.head_first.outcome is Outcome.PASS and bias.head_first.verdict == "A"
    assert (result.n_judged, result.n_errors) == (2, 2)


def _ided(record: Path) -> bool:
    if not record.exists():
        return False
    batches = read_batches(record.parent, record.name)["batches"]
    return bool(batches and batches[0]["id"])


@pytest.mark.parametrize("wire", ["anthropic", "openai"])
@pytest.mark.parametrize("window", ["polling", "create"])
def test_kill_then_resume_reattaches_and_submits_nothing_twice(
    tmp_path: Path, wire: str, window: str, cli: Cli
) -> None:
    """``compare --batch`` killed while it polls, or while the provider creates the batch
    (its id not yet written); started again it is refused without ``--resume``, and
    ``--resume`` finishes it without submitting any request again."""
    with ScriptedServer(rules(answered_error=True)) as server:
        config = project(tmp_path, server, wire)
        server.batches._delay = 2.5 if window == "polling" else 0.05
        server.batches.create_delay_s = 60.0 if window == "create" else 0.0
        argv = ["compare", BASE, HEAD, "-c", str(config), "--pairwise", JUDGE]
        proc = subprocess.Popen(
            [sys.executable, "-m", "evalkit", *argv, "--batch", "--batch-poll", "0.05", "-q"],
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        path = comparison_dir(tmp_path / "runs", BASE, HEAD, JUDGE)
        record = path / judge_batches_file(JUDGE)
        deadline = time.monotonic() + 60
        ready = False
        while time.monotonic() < deadline and not ready:
            assert proc.poll() is None, proc.communicate()
            ready = record.exists() and (
                bool(server.batches.created) if window == "create" else _ided(record)
            )
            time.sleep(0.02)
        assert ready, f"no batch in {record}"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        server.batches.create_delay_s = 0.0
        assert (read_state(path) or {})["status"] == "running"
        (entry,) = read_batches(path, record.name)["batches"]
        assert bool(entry["id"]) is (window == "polling")
        asked = list(server.batches.bodies)
        assert len(asked) == 8 and len(server.batches.created) == 1

        # started again without --resume: refused, nothing sent
        code, _, err = cli([*argv, "--batch"])
        assert code == 2 and "--resume" in err and str(path) in err
        assert server.batches.bodies == asked

        code, out, err = cli([*argv, "--resume", "--batch-poll", "0.05", "--json", "c.json"])
        assert code == 0, err
        assert server.batches.bodies == asked  # not one request submitted again
        created = list(server.batches.created)
        alone = _live_bodies(server)
    assert len(created) == 1 and not alone
    assert "position consistency 75.0%" in out
    data = json.loads(Path("c.json").read_text())["pairwise"]
    assert (data["head_wins"], data["head_losses"], data["ties"]) == (1, 1, 2)
    state = read_state(path)
    assert state and state["status"] == "complete" and state["batches"] == created

    # a complete comparison has nothing to resume; a new --batch starts afresh (from the cache)
    code, _, err = cli([*argv, "--resume"])
    assert code == 2 and "is complete: nothing to resume" in err and STATE in err


def test_ctrl_c_while_polling_says_how_to_resume(tmp_path: Path) -> None:
    with ScriptedServer(rules(answered_error=True)) as server:
        config = project(tmp_path, server, "anthropic")
        server.batches._delay = 30.0
        argv = ["compare", BASE, HEAD, "-c", str(config), "--pairwise", JUDGE, "--batch"]
        proc = subprocess.Popen(
            [sys.executable, "-m", "evalkit", *argv, "--batch-poll", "0.05"],
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        path = comparison_dir(tmp_path / "runs", BASE, HEAD, JUDGE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _ided(path / judge_batches_file(JUDGE)):
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err
    assert f"Resume with `evalkit compare {BASE} {HEAD} --pairwise {JUDGE} --resume`" in err
    assert (read_state(path) or {})["status"] == "interrupted"


def test_batch_needs_a_judge_provider_with_a_batch_api(tmp_path: Path) -> None:
    """No judge definition names such a provider today; a target override (the Python API)
    can: refused before anything is written or sent."""
    with ScriptedServer(rules()) as server:
        config = project(tmp_path, server, "openai")
        with pytest.raises(InputError) as info:
            _batched(
                config, judge_target_override=lambda d: TargetSpec(provider="python", model="m")
            )
        assert not server.requests
    assert info.value.exit_code == 2 and info.value.field == "--batch"
    assert "--batch needs a provider with a batch API" in str(info.value)
    assert "pairwise judge 'preference'" in str(info.value)
    assert not (tmp_path / "runs" / ".compare").exists()


def test_batch_and_resume_need_a_pairwise_judge(tmp_path: Path, cli: Cli) -> None:
    with ScriptedServer(rules()) as server:
        config = project(tmp_path, server, "openai")
        for flag in ("--batch", "--resume"):
            code, _, err = cli(["compare", BASE, HEAD, "-c", str(config), flag])
            assert code == 2 and "add --pairwise JUDGE" in err
        code, _, err = cli(
            ["compare", BASE, HEAD, "-c", str(config), "--pairwise", JUDGE, "--resume"]
        )
        assert code == 2 and "to resume" in err and str(tmp_path / "runs" / ".compare") in err
        assert not server.requests and not server.batches.created
    with pytest.raises(ValueError, match="name a pairwise judge"):
        compare(BASE, HEAD, project=load_config(config), batch=JudgeBatching())


def test_the_state_is_no_run(tmp_path: Path) -> None:
    """`evalkit runs`, `latest` and run-id lookups never see a comparison's folder."""
    from evalkit.storage.store import iter_run_dirs

    with ScriptedServer(rules(answered_error=True)) as server:
        config = project(tmp_path, server, "anthropic")
        _batched(config)
    assert (comparison_dir(tmp_path / "runs", BASE, HEAD, JUDGE) / STATE).exists()
    assert sorted(p.name for p in iter_run_dirs(tmp_path / "runs")) == [BASE, HEAD]
