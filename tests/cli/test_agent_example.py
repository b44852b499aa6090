"""The support-agent example (suite ``agent``) through the CLI, offline, on both wires: the
checks catch agent-v1's wrong argument, wrong order, wrong refund and missing call; the cache
replays whole conversations; compare pairs the cases like any other."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from evalkit.storage.store import read_records

REPO = Path(__file__).resolve().parents[2]
ExitCode = Callable[[list[str]], int]
EXAMPLE = ["evalkit.yaml", "goldens", "prompts", "schemas", "scripts", "judges", "tools"]


@pytest.fixture(params=["anthropic", "openai"])
def example(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    for name in EXAMPLE:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name)
        else:
            shutil.copy(source, tmp_path / name)
    config = yaml.safe_load((tmp_path / "evalkit.yaml").read_text())
    config["suites"]["agent"]["target"]["wire"] = request.param
    (tmp_path / "evalkit.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _latest(root: Path) -> Path:
    runs = sorted(
        (root / "runs" / "agent").glob("*/*/manifest.json"), key=lambda p: p.stat().st_mtime
    )
    return runs[-1].parent


def _checks(record) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {f"{c.name}#{i}": c.outcome.value for i, c in enumerate(record.checks)}


def test_agent_v2_passes_and_v1_mistakes_are_caught(example: Path, exit_code: ExitCode) -> None:
    assert exit_code(["run", "agent"]) == 0
    v2 = _latest(example)
    records = {r.case_id: r for r in read_records(v2)}
    assert {r.outcome.value for r in records.values()} == {"pass"}
    refund = records["refund-lost-order"]
    assert refund.trajectory is not None
    assert [c.name for c in refund.trajectory.calls()] == ["lookup_order", "issue_refund"]
    assert refund.output == "Your refund of 89.90 EUR is on its way (refund R-1001)."
    assert refund.usage.input_tokens == sum(t.input_tokens for t in refund.trajectory.turns)
    # the record keeps the first request as sent: the prompt's system turn, then the case's
    after = records["refund-after-lookup"].prompt
    assert after is not None and [m["role"] for m in after] == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
        "user",
    ]
    assert after[2]["tool_calls"][0]["name"] == "lookup_order"

    assert exit_code(["run", "agent", "--prompt", "prompts/agent_v1.yaml"]) == 0
    v1 = _latest(example)
    records = {r.case_id: r for r in read_records(v1)}
    failed = {
        case_id: sorted({c.name for c in r.checks if c.outcome.value == "fail"})
        for case_id, r in records.items()
    }
    assert failed == {
        # refunds before looking up (wrong order) and 100 instead of 89.9 (wrong argument)
        "refund-lost-order": ["tool-called", "tool-sequence"],
        # looks up twice, refunds a delivered order (a wrong refund) for a reason not in the
        # tool's schema (invalid arguments)
        "delivered-no-refund": [
            "contains",
            "max-tool-calls",
            "not-tool-called",
            "tool-args-valid",
        ],
        "order-status": [],
        # says it refunded but never called the tool (a missing call)
        "refund-after-lookup": ["tool-called"],
    }
    wrong_arg = next(c for c in records["refund-lost-order"].checks if c.name == "tool-called")
    assert (
        '#1 issue_refund({"amount": 100, "order_id": "42", "reason": "lost"})' in wrong_arg.reason
    )
    report = (v1 / "report.md").read_text()
    assert "### Trajectories of cases that did not pass" in report
    assert '`issue_refund` `{"order_id": "77"' in report
    invalid = next(c for c in records["delivered-no-refund"].checks if c.name == "tool-args-valid")
    assert invalid.reason.startswith("#3 issue_refund(") and "changed_mind" in invalid.reason
    twice = next(
        c
        for c in records["delivered-no-refund"].checks
        if c.name == "max-tool-calls" and c.outcome.value == "fail"
    )
    assert twice.reason.startswith("2 calls to lookup_order > 1: #1 lookup_order(")

    # compare pairs conversation cases like any others: v2 (head) against v1 (base)
    out = example / "cmp.json"
    exit_code(["compare", str(v1), str(v2), "--json", str(out)])
    data = json.loads(out.read_text())
    assert data["n_matched"] == 4
    assert data["status_counts"]["fixed"] == 3 and data["status_counts"]["unchanged"] == 1
    fixed = {c["case_id"] for c in data["cases"] if c["status"] == "fixed"}
    assert fixed == {"refund-lost-order", "delivered-no-refund", "refund-after-lookup"}


def test_cache_replays_the_whole_conversation_and_keys_on_tool_results(
    example: Path, exit_code: ExitCode
) -> None:
    assert exit_code(["run", "agent"]) == 0
    first = {r.case_id: r for r in read_records(_latest(example))}
    assert exit_code(["run", "agent"]) == 0
    second = {r.case_id: r for r in read_records(_latest(example))}
    assert all(r.cached for r in second.values())
    assert {k: r.trajectory for k, r in second.items()} == {
        k: r.trajectory for k, r in first.items()
    }
    # a different tool result is a different conversation: only that case is asked again
    golden = example / "goldens" / "agent.yaml"
    golden.write_text(golden.read_text().replace('eta: "2026-12-05"', 'eta: "2026-12-06"'))
    assert exit_code(["run", "agent"]) == 0
    third = {r.case_id: r for r in read_records(_latest(example))}
    assert {k for k, r in third.items() if not r.cached} == {"order-status"}
    result = third["order-status"].trajectory.calls()[0].result  # type: ignore[union-attr]
    assert result == {"status": "shipped", "eta": "2026-12-06"}


JUDGE = """\
scale: binary
model: {provider: scripted, model: judge-model, script: scripts/refund_judge.yaml}
sees: [question, trajectory, output]
rubric: FAIL when the agent refunded more than the order total. PASS otherwise.
"""
JUDGE_SCRIPT = """\
default: {json: {reasoning: "refunds within the totals", passed: true}}
responses:
  - when: {contains: '"amount": 100'}
    json: {reasoning: "refunded 100 on an 89.90 order", passed: false}
"""


def test_run_gives_judges_the_trajectory(example: Path, exit_code: ExitCode) -> None:
    (example / "judges" / "refund-judge.yaml").write_text(JUDGE)
    (example / "scripts" / "refund_judge.yaml").write_text(JUDGE_SCRIPT)
    config = yaml.safe_load((example / "evalkit.yaml").read_text())
    config["suites"]["agent"]["judges"] = ["refund-judge"]
    (example / "evalkit.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    assert exit_code(["run", "agent", "--prompt", "prompts/agent_v1.yaml"]) == 0
    verdicts = {r.case_id: r.judges[0].outcome.value for r in read_records(_latest(example))}
    # only refund-lost-order's trajectory holds the 100 refund (its final answer does not)
    assert verdicts == {
        "refund-lost-order": "fail",
        "delivered-no-refund": "pass",
        "order-status": "pass",
        "refund-after-lookup": "pass",
    }


def test_validate_names_a_tool_runner_that_cannot_be_imported(
    example: Path, exit_code: ExitCode, capsys: pytest.CaptureFixture[str]
) -> None:
    config = yaml.safe_load((example / "evalkit.yaml").read_text())
    config["suites"]["agent"]["target"]["tool_runner"] = "no_such_module_xyz:run"
    (example / "evalkit.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    assert exit_code(["validate", "agent"]) == 2
    err = capsys.readouterr().err
    assert "evalkit.yaml:" in err and "suites.agent.target.tool_runner" in err


def test_show_prints_the_trajectory(
    example: Path, exit_code: ExitCode, capsys: pytest.CaptureFixture[str]
) -> None:
    assert exit_code(["run", "agent", "--prompt", "prompts/agent_v1.yaml"]) == 0
    capsys.readouterr()
    assert exit_code(["show", str(_latest(example)), "refund-lost-order"]) == 0
    out = capsys.readouterr().out
    assert "── trajectory" in out
    assert (
        'turn 1: call #1 issue_refund({"amount": 100, "order_id": "42", "reason": "lost"})' in out
    )
    assert out.index("── trajectory") < out.index("── output")


def test_batch_runs_leave_conversations_to_their_tool_loop(
    example: Path, exit_code: ExitCode
) -> None:
    assert exit_code(["run", "agent", "--batch"]) == 0
    records = read_records(_latest(example))
    assert {r.outcome.value for r in records} == {"pass"}
    assert all(r.trajectory is not None and r.trajectory.calls() for r in records)
