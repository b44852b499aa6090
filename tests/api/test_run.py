"""The run loop end to end: real SDK clients against the loopback server, faults included."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from evalkit.api.project import load_config, load_suite
from evalkit.api.run import RunOptions, run_suite
from evalkit.base.exceptions import AuthError, RunAborted
from evalkit.execution.provider.retry import RetryPolicy
from evalkit.model.outcome import Outcome
from evalkit.scripted import ScriptedServer
from evalkit.storage.store import read_manifest, read_records

FAST = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05)
KEY = "sk-ant-api03-engine-test-secret-0123456789"


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    script = {
        "default": {"text": "ok fine"},
        "responses": [
            {"when": {"case": "b"}, "text": "nope"},
            {
                "when": {"case": "rl"},
                "text": "ok after wait",
                "fault": {"status": 429, "retry_after_ms": 30, "times": 1},
            },
            {"when": {"case": "boom"}, "text": "never", "fault": {"status": 500}},
            {"when": {"case": "busy"}, "text": "never", "fault": {"status": 529}},
            {"when": {"case": "junk"}, "text": "never", "fault": {"malformed": True}},
            {"when": {"case": "slow"}, "text": "late", "fault": {"hang": 2}},
        ],
    }
    srv = ScriptedServer(script).start()
    yield srv
    srv.stop()


def write_project(root: Path, server_url: str, cases: list[dict[str, Any]], **suite: Any) -> Path:
    # provider scripted + base_url: the real Anthropic SDK client against the test's server,
    # sending the case id in headers so the server can count requests per case
    target = {
        "provider": "scripted",
        "wire": "anthropic",
        "model": "claude-test",
        "prompt": "prompts/p.yaml",
        "base_url": server_url,
        "timeout": 1.0,
        "params": {"temperature": 0, "max_tokens": 64},
    }
    target.update(suite.pop("target", {}))
    config = {
        "suites": {
            "demo": {
                "goldens": "goldens.yaml",
                "target": target,
                "checks": [{"type": "contains", "value": "ok"}],
                "concurrency": 4,
                **suite,
            }
        }
    }
    (root / "evalkit.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    (root / "goldens.yaml").write_text(yaml.safe_dump(cases, sort_keys=False))
    (root / "prompts").mkdir(exist_ok=True)
    (root / "prompts" / "p.yaml").write_text('label: v1\nuser: "Q: {{ q }}"\n')
    return root / "evalkit.yaml"


def cases(*ids: str) -> list[dict[str, Any]]:
    return [{"id": i, "vars": {"q": f"question {i}"}, "tags": ["t"]} for i in ids]


def run(config: Path, **options: Any) -> Any:
    suite = load_suite(load_config(config))
    options.setdefault("retry", FAST)
    options.setdefault("progress", False)
    return run_suite(suite, RunOptions(**options))


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALKIT_ENGINE_KEY", KEY)


def test_run_records_every_case(tmp_path: Path, server: ScriptedServer) -> None:
    config = write_project(tmp_path, server.url, cases("a", "b", "c"))
    outcome = run(config)
    records = {r.case_id: r for r in read_records(outcome.path)}
    assert set(records) == {"a", "b", "c"}
    assert records["a"].outcome is Outcome.PASS and records["b"].outcome is Outcome.FAIL
    assert records["a"].usage.output_tokens > 0 and records["a"].attempts == 1
    manifest = read_manifest(outcome.path)
    assert manifest["status"] == "complete" and manifest["prompt_label"] == "v1"
    assert outcome.path.parent.name == manifest["prompt_version"]
    assert manifest["target"]["model"] == "claude-test"
    assert outcome.summary["pass"] == 2 and outcome.summary["fail"] == 1
    assert server.count() == 3


@pytest.mark.parametrize("wire", ["anthropic", "openai"])
def test_real_provider_with_a_key_stores_no_secret(tmp_path: Path, wire: str) -> None:
    srv = ScriptedServer(
        {
            "default": {"text": "ok"},
            "responses": [
                {"when": {"contains": "question b"}, "text": "no", "fault": {"status": 401}}
            ],
        }
    ).start()
    try:
        url = srv.url if wire == "anthropic" else srv.openai_base_url
        config = write_project(
            tmp_path,
            url,
            cases("a", "b"),
            concurrency=1,
            target={"provider": wire, "api_key_env": "EVALKIT_ENGINE_KEY"},
        )
        with pytest.raises(AuthError) as err:
            run(config)
    finally:
        srv.stop()
    assert KEY not in str(err.value)
    (run_path,) = (tmp_path / "runs" / "demo").glob("*/*")
    records = read_records(run_path)
    assert [r.case_id for r in records] == ["a"] and records[0].output == "ok"
    for f in run_path.iterdir():
        assert KEY not in f.read_text(), f.name


@pytest.mark.parametrize(
    ("case", "kind", "requests"),
    [("boom", "server", 3), ("busy", "overloaded", 3), ("junk", "malformed", 2)],
)
@pytest.mark.parametrize("wire", ["anthropic", "openai"])
def test_provider_failures_become_error_outcomes(
    tmp_path: Path, server: ScriptedServer, case: str, kind: str, requests: int, wire: str
) -> None:
    url = server.url if wire == "anthropic" else server.openai_base_url
    config = write_project(
        tmp_path, url, cases("a", case, "c"), error_budget=0.5, target={"wire": wire}
    )
    outcome = run(config)
    records = {r.case_id: r for r in read_records(outcome.path)}
    assert len(records) == 3  # nothing lost
    bad = records[case]
    assert bad.outcome is Outcome.ERROR and bad.error is not None
    assert bad.error.kind == kind and bad.attempts == requests
    assert bad.output is None and bad.checks == []
    assert server.count(case=case) == requests
    assert records["a"].outcome is Outcome.PASS
    assert outcome.summary["error"] == 1 and outcome.summary["pass_rate"] == 1.0


@pytest.mark.parametrize("wire", ["anthropic", "openai"])
def test_rate_limit_is_retried_after_the_servers_delay(
    tmp_path: Path, server: ScriptedServer, wire: str
) -> None:
    url = server.url if wire == "anthropic" else server.openai_base_url
    config = write_project(tmp_path, url, cases("rl"), target={"wire": wire})
    outcome = run(config)
    (record,) = read_records(outcome.path)
    assert record.outcome is Outcome.PASS and record.attempts == 2
    assert record.latency_ms is not None and record.latency_ms >= 30
    assert server.count(case="rl") == 2


@pytest.mark.parametrize("wire", ["anthropic", "openai"])
def test_hang_past_timeout_is_a_timeout_error(
    tmp_path: Path, server: ScriptedServer, wire: str
) -> None:
    url = server.url if wire == "anthropic" else server.openai_base_url
    config = write_project(
        tmp_path,
        url,
        cases("slow", "a"),
        target={"timeout": 0.3, "wire": wire},
        error_budget=0.5,
    )
    outcome = run(config, retry=RetryPolicy(max_attempts=2, base_delay=0.01))
    records = {r.case_id: r for r in read_records(outcome.path)}
    assert records["slow"].outcome is Outcome.ERROR
    assert records["slow"].error is not None and records["slow"].error.kind == "timeout"
    assert records["slow"].attempts == 2 and records["a"].outcome is Outcome.PASS


def test_connection_refused_over_budget_aborts_and_keeps_records(
    tmp_path: Path, closed_url: str
) -> None:
    config = write_project(
        tmp_path, closed_url, cases(*"abcdefgh"), error_budget=0.25, concurrency=1
    )
    with pytest.raises(RunAborted) as err:
        run(config)
    assert "error budget" in str(err.value) and "connection" in str(err.value)
    (run_path,) = (tmp_path / "runs" / "demo").glob("*/*")
    records = read_records(run_path)
    # budget 0.25 * 8 = 2 errors allowed: the third error stops the run
    assert len(records) == 3
    assert all(r.error is not None and r.error.kind == "connection" for r in records)
    assert read_manifest(run_path)["status"] == "aborted"


def test_auth_failure_stops_at_once(tmp_path: Path) -> None:
    srv = ScriptedServer(
        {"responses": [{"when": {}, "text": "x", "fault": {"status": 401}}]}
    ).start()
    try:
        config = write_project(
            tmp_path, srv.url, cases(*[f"c{i}" for i in range(30)]), concurrency=2, error_budget=1.0
        )
        with pytest.raises(AuthError) as err:
            run(config)
        assert "credentials" in str(err.value) and KEY not in str(err.value)
        assert srv.count() <= 2  # not one request per case
    finally:
        srv.stop()
    (run_path,) = (tmp_path / "runs" / "demo").glob("*/*")
    assert read_manifest(run_path)["status"] == "aborted"


def test_cache_second_run_makes_no_requests_and_changes_invalidate(
    tmp_path: Path, server: ScriptedServer
) -> None:
    config = write_project(tmp_path, server.url, cases("a", "b"))
    first = run(config)
    assert server.count() == 2 and first.requests == 2
    second = run(config)
    assert server.count() == 2 and second.requests == 0
    assert second.summary["cached"] == 2
    assert [r.output for r in read_records(second.path)] != []
    # a prompt edit changes the rendered messages
    (tmp_path / "prompts" / "p.yaml").write_text('label: v1\nuser: "Question: {{ q }}"\n')
    run(config)
    assert server.count() == 4
    # a params change too
    write_project(
        tmp_path,
        server.url,
        cases("a", "b"),
        target={"params": {"temperature": 0.5, "max_tokens": 64}},
    )
    (tmp_path / "prompts" / "p.yaml").write_text('label: v1\nuser: "Question: {{ q }}"\n')
    run(config)
    assert server.count() == 6
    run(config, use_cache=False)
    assert server.count() == 8


def test_repeats_are_independent_samples(tmp_path: Path, server: ScriptedServer) -> None:
    config = write_project(tmp_path, server.url, cases("a", "b"), repeats=3)
    outcome = run(config)
    records = read_records(outcome.path)
    assert sorted((r.case_id, r.repeat) for r in records) == [
        ("a", 0),
        ("a", 1),
        ("a", 2),
        ("b", 0),
        ("b", 1),
        ("b", 2),
    ]
    assert server.count(case="a") == 3  # each repeat is its own cache entry
    assert outcome.summary["pass_all_k"] == 0.5 and outcome.summary["pass_any_k"] == 0.5


def test_resume_refuses_a_changed_prompt(tmp_path: Path, server: ScriptedServer) -> None:
    from evalkit.base.exceptions import InputError

    config = write_project(tmp_path, server.url, cases("a"))
    first = run(config)
    (tmp_path / "prompts" / "p.yaml").write_text('label: v1\nuser: "Other {{ q }}"\n')
    with pytest.raises(InputError) as err:
        run(config, resume=first.path)
    assert "prompt version" in str(err.value)


def test_summary_json_matches_records(tmp_path: Path, server: ScriptedServer) -> None:
    config = write_project(tmp_path, server.url, cases("a", "b", "c"))
    outcome = run(config)
    summary = json.loads((outcome.path / "summary.json").read_text())
    assert summary["n"] == 3 and summary["checks"]["contains"]["fail"] == 1
    assert summary["tags"]["t"]["pass"] == 2
    report = (outcome.path / "report.md").read_text()
    assert "| b | 0 | check contains: missing 'ok'" in report


def test_python_callable_target_gets_vars_and_errors_are_outcomes(tmp_path: Path) -> None:
    (tmp_path / "mybot.py").write_text(
        "def answer(vars):\n"
        "    if vars['q'] == 'question crash':\n"
        "        raise RuntimeError('database down')\n"
        "    return 'ok: ' + vars['q']\n"
    )
    config = {
        "suites": {
            "demo": {
                "goldens": "goldens.yaml",
                "target": {"provider": "python", "callable": "mybot:answer"},
                "checks": [{"type": "contains", "value": "ok"}],
                "error_budget": 0.5,
            }
        }
    }
    (tmp_path / "evalkit.yaml").write_text(yaml.safe_dump(config))
    (tmp_path / "goldens.yaml").write_text(yaml.safe_dump(cases("a", "crash")))
    outcome = run(tmp_path / "evalkit.yaml")
    records = {r.case_id: r for r in read_records(outcome.path)}
    assert records["a"].output == "ok: question a" and records["a"].outcome is Outcome.PASS
    crash = records["crash"]
    assert crash.outcome is Outcome.ERROR and crash.error is not None
    assert crash.error.kind == "callable" and "database down" in crash.error.message
    assert outcome.path.parent.name == "no-prompt"


def test_a_price_file_broken_after_loading_is_an_input_error_leaving_no_run(
    tmp_path: Path, server: ScriptedServer
) -> None:
    """A notebook loads the suite, then the price file is edited badly before it runs it: the
    run names the file and line, starts no run, and the next run (file mended) goes ahead."""
    from evalkit.base.exceptions import InputError

    config = write_project(tmp_path, server.url, cases("a"))
    raw = yaml.safe_load(config.read_text())
    config.write_text(yaml.safe_dump({"prices": "prices.yaml", **raw}, sort_keys=False))
    prices = tmp_path / "prices.yaml"
    prices.write_text("claude-test: {input: 1.0, output: 2.0}\n")
    suite = load_suite(load_config(config))
    prices.write_text("claude-test: [unclosed\n")
    with pytest.raises(InputError) as err:
        run_suite(suite, RunOptions(progress=False, retry=FAST))
    assert err.value.path == str(prices) and err.value.line is not None
    assert not list(tmp_path.glob("runs/demo/*/*"))  # no run directory, no stale lock
    prices.write_text("claude-test: {input: 1.0, output: 2.0}\n")
    out = run_suite(suite, RunOptions(progress=False, retry=FAST))
    assert out.status == "complete" and out.summary["cost_usd"] is not None


def test_bad_callable_is_a_config_error(tmp_path: Path) -> None:
    from evalkit.base.exceptions import InputError

    config = {
        "suites": {
            "demo": {
                "goldens": "goldens.yaml",
                "target": {"provider": "python", "callable": "nope:fn"},
            }
        }
    }
    (tmp_path / "evalkit.yaml").write_text(yaml.safe_dump(config))
    (tmp_path / "goldens.yaml").write_text(yaml.safe_dump(cases("a")))
    with pytest.raises(InputError) as err:
        load_suite(load_config(tmp_path / "evalkit.yaml"))
    assert err.value.field == "suites.demo.target.callable" and err.value.line is not None


def test_a_check_that_raises_counts_against_the_error_budget(tmp_path: Path) -> None:
    (tmp_path / "mybot.py").write_text("def answer(vars):\n    return 'ok: ' + vars['q']\n")
    (tmp_path / "mychecks.py").write_text(
        "def picky(output, case):\n"
        "    if case.id.startswith('x'):\n"
        "        raise KeyError('missing field')\n"
        "    return True\n"
    )
    config = {
        "suites": {
            "demo": {
                "goldens": "goldens.yaml",
                "target": {"provider": "python", "callable": "mybot:answer"},
                # the first check fails x1, so x1's outcome is fail; its check error still counts
                "checks": [
                    {"type": "not-contains", "value": "x1"},
                    {"type": "python", "function": "mychecks:picky"},
                ],
                "error_budget": 0.25,
                "concurrency": 1,
            }
        }
    }
    (tmp_path / "evalkit.yaml").write_text(yaml.safe_dump(config))
    (tmp_path / "goldens.yaml").write_text(yaml.safe_dump(cases("a", "b", "x1", "x2", "x3", "c")))
    with pytest.raises(RunAborted) as err:
        run(tmp_path / "evalkit.yaml")
    # budget 0.25 * 6 = 1 error allowed: the second check error stops the run (exit 3)
    assert err.value.exit_code == 3
    assert "over the error budget of 1" in str(err.value)
    assert "check python: check raised KeyError: 'missing field'" in str(err.value)
    (run_path,) = (tmp_path / "runs" / "demo").glob("*/*")
    records = {r.case_id: r for r in read_records(run_path)}
    assert records["x1"].outcome is Outcome.FAIL and records["x2"].outcome is Outcome.ERROR
    assert "x3" not in records and read_manifest(run_path)["status"] == "aborted"
    summary = json.loads((run_path / "summary.json").read_text())
    assert summary["errors_by_kind"] == {"check": 2}


def test_truncated_outputs_are_recorded_reported_and_gated(tmp_path: Path) -> None:
    """A server that cuts at max_tokens (the ``truncating`` profile): every record says so,
    the summary and report count it, and ``max_truncated_rate`` fails the gate."""
    from evalkit.analysis.gate import evaluate_gate
    from evalkit.model.gate import Gate
    from evalkit.storage.store import load_run

    long = "The capital of France is Paris, a city on the Seine with many museums."
    script = {"profile": "truncating", "default": {"text": "ok short"}}
    script["responses"] = [{"when": {"case": "long"}, "text": "ok " + long}]
    with ScriptedServer(script) as srv:
        target = {"params": {"max_tokens": 4}, "model": "claude-unpriced-test"}
        config = write_project(tmp_path, srv.url, cases("long", "short"), target=target)
        outcome = run(config)
    records = {r.case_id: r for r in read_records(outcome.path)}
    assert records["long"].truncated and records["long"].finish_reason == "max_tokens"
    assert records["long"].output == ("ok " + long)[:16]
    assert not records["short"].truncated and records["short"].finish_reason == "end_turn"
    assert outcome.summary["truncated"] == 1 and outcome.summary["truncated_rate"] == 0.5
    report = (outcome.path / "report.md").read_text()
    assert "truncated: 1 output(s) (50.0%)" in report and "cost unknown" in report
    # no price for the model: cost unknown, named in a warning, never $0
    assert outcome.summary["cost_usd"] is None
    assert records["long"].cost_usd is None
    warnings = read_manifest(outcome.path)["warnings"]
    assert any("claude-unpriced-test" in w for w in warnings)
    stored = load_run(outcome.path)
    assert not evaluate_gate(stored, Gate(max_truncated_rate=0.1, fail_on="none")).passed
    assert evaluate_gate(stored, Gate(max_truncated_rate=0.5, fail_on="none")).passed


@pytest.mark.parametrize("wire", ["anthropic", "openai"])
def test_a_run_on_a_llama_server_like_server_gets_its_verdicts(tmp_path: Path, wire: str) -> None:
    """Target and judge on a server that ignores forced tool use and caches prompts: the
    judge settles on another mode, every verdict says which, input counts cached tokens."""
    script = {
        "profile": "llama-server",
        "default": {"text": "ok fine"},
        "responses": [
            {"when": {"purpose": "judge"}, "json": {"reasoning": "fine", "passed": True}},
        ],
    }
    with ScriptedServer(script) as srv:
        url = srv.url if wire == "anthropic" else srv.openai_base_url
        target = {"wire": wire, "base_url": url}
        config = write_project(tmp_path, url, cases("a", "b", "c"), target=target)
        data = yaml.safe_load(config.read_text())
        data["suites"]["demo"]["judges"] = ["ok"]
        config.write_text(yaml.safe_dump(data))
        (tmp_path / "judges").mkdir()
        judge = {
            "scale": "binary",
            "rubric": "PASS if fine.",
            "sees": ["output"],
            "model": {"provider": "scripted", "wire": wire, "base_url": url, "model": "gpt-4o"},
        }
        (tmp_path / "judges" / "ok.yaml").write_text(yaml.safe_dump(judge))
        outcome = run(config)
        judge_requests = srv.count(purpose="judge:ok")
    records = read_records(outcome.path)
    verdicts = [v for r in records for v in r.judges]
    assert [v.outcome for v in verdicts] == [Outcome.PASS] * 3
    fallback = {"anthropic": "json", "openai": "json_schema"}[wire]
    assert {v.output_mode for v in verdicts} == {fallback}
    assert judge_requests == 3 + 1  # one ignored tool call, then one request per case
    manifest = read_manifest(outcome.path)
    assert manifest["judge_versions"]["ok"] == verdicts[0].version


def test_run_suite_works_inside_a_running_event_loop(
    tmp_path: Path, server: ScriptedServer
) -> None:
    # a Jupyter cell runs inside an event loop, where asyncio.run refuses to start
    import asyncio

    config = write_project(tmp_path, server.url, cases("a", "b"))

    async def cell() -> Any:
        return run_suite(load_suite(load_config(config)), RunOptions(progress=False, retry=FAST))

    outcome = asyncio.run(cell())
    assert outcome.status == "complete"
    got = {r.case_id: r.outcome for r in read_records(outcome.path)}
    assert got == {"a": Outcome.PASS, "b": Outcome.FAIL}
