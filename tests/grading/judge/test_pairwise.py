"""Pairwise judging in both orders: an order-dependent verdict becomes a tie."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from evalkit.grading.judge import judge_pairs
from evalkit.model.outcome import Outcome
from evalkit.model.record import CaseRecord
from evalkit.report.pairwise import pairwise_markdown
from evalkit.storage.store import StoredRun, append_record, load_run, open_results, write_manifest

from .conftest import make_def


def _pref(verdict: str) -> dict[str, str]:
    return {"reasoning": f"picked {verdict}", "verdict": verdict}


PAIR_SCRIPT = {
    "default": {"text": "no verdict"},
    "responses": [
        # head better, judged consistently in both orders
        {"when": {"case": "c-head", "prompt": "v1 vs v2"}, "json": _pref("B")},
        {"when": {"case": "c-head", "prompt": "v2 vs v1"}, "json": _pref("A")},
        # position bias: whichever comes first wins -> a tie after the swap
        {"when": {"case": "c-bias"}, "json": _pref("A")},
        # base better, consistently
        {"when": {"case": "c-base", "prompt": "v1 vs v2"}, "json": _pref("A")},
        {"when": {"case": "c-base", "prompt": "v2 vs v1"}, "json": _pref("B")},
        # c-error: no rule -> the default is not a verdict
    ],
}
CASES = ("c-head", "c-bias", "c-base", "c-error")


def make_run(root: Path, run_id: str, label: str, outputs: dict[str, str | None]) -> Path:
    """A stored run written with the store helpers (one record per case)."""
    path = root / "runs" / "demo" / f"ver-{label}" / run_id
    path.mkdir(parents=True)
    write_manifest(
        path,
        {
            "run_id": run_id,
            "suite": "demo",
            "prompt_version": f"ver-{label}",
            "prompt_label": label,
            "target": {"provider": "scripted", "model": "fake-model"},
            "judge_versions": {},
            "repeats": 1,
            "status": "complete",
        },
    )
    with open_results(path) as fh:
        for case_id, output in outputs.items():
            append_record(
                fh,
                CaseRecord(
                    case_id=case_id,
                    vars={"question": f"question {case_id}?"},
                    outcome=Outcome.PASS,
                    output=output,
                ),
            )
    return path


def _runs(tmp_path: Path) -> tuple[StoredRun, StoredRun]:
    base = make_run(tmp_path, "run-base", "v1", {c: f"base says {c}" for c in CASES})
    head = make_run(tmp_path, "run-head", "v2", {c: f"head says {c}" for c in [*CASES, "new"]})
    return load_run(base), load_run(head)


def test_both_orders_position_bias_becomes_a_tie(serve, make_judge, tmp_path):
    server = serve(PAIR_SCRIPT)
    judge = make_judge(server, make_def(name="preference", scale="pairwise"))
    base, head = _runs(tmp_path)

    async def go():
        try:
            return await judge_pairs(base, head, judge)
        finally:
            await judge.aclose()

    result = asyncio.run(go())
    winners = {c.case_id: (c.winner, c.consistent) for c in result.cases}
    assert winners == {
        "c-head": ("head", True),
        "c-bias": ("tie", False),
        "c-base": ("base", True),
        "c-error": (None, None),
    }
    assert (result.n_matched, result.n_judged, result.n_errors) == (4, 3, 1)
    assert (result.head_wins, result.head_losses, result.ties) == (1, 1, 1)
    assert result.head_win_rate == result.tie_rate == 1 / 3
    assert result.position_consistency == 2 / 3
    # sided verdicts: c-head B,A; c-bias A,A; c-base A,B -> 4 of 6 picked the first position
    assert result.first_position_preference == 4 / 6
    # each matched case was asked in both orders, labelled "<A> vs <B>"
    labels = sorted(
        r.context["prompt_label"] for r in server.requests if r.context["case"] == "c-head"
    )
    assert labels == ["v1 vs v2", "v2 vs v1"]
    assert {r.context["purpose"] for r in server.requests} == {"judge:preference"}
    bias = next(c for c in result.cases if c.case_id == "c-bias")
    body = json.dumps(server.requests[0].body)
    assert "<output_a>" in body and "<output_b>" in body
    assert bias.base_first.verdict == bias.head_first.verdict == "A"
    markdown = pairwise_markdown(result)
    assert "position consistency" in markdown and "tie (order-dependent)" in markdown


PREFERENCE = """\
scale: pairwise
model: {{provider: scripted, model: claude-haiku-4-5, script: {script}, wire: openai}}
sees: [question, output]
rubric: Which reply is better?
"""


def test_compare_cli_with_pairwise(tmp_path, monkeypatch, capsys, exit_code):
    import yaml

    monkeypatch.chdir(tmp_path)
    _runs(tmp_path)
    (tmp_path / "pref.yaml").write_text(yaml.safe_dump(PAIR_SCRIPT))
    (tmp_path / "judges").mkdir()
    (tmp_path / "judges" / "preference.yaml").write_text(PREFERENCE.format(script="pref.yaml"))
    (tmp_path / "evalkit.yaml").write_text(
        "suites:\n  demo:\n    goldens: g.yaml\n    target: {provider: python, callable: m:f}\n"
    )
    argv = ["compare", "run-base", "run-head", "--pairwise", "preference"]
    assert exit_code([*argv, "--json", "c.json", "--markdown", "c.md", "--runs-dir", "runs"]) == 0
    out = capsys.readouterr().out
    assert "pairwise judge preference" in out and "position consistency 66.7%" in out
    data = json.loads((tmp_path / "c.json").read_text())
    assert data["pairwise"]["head_wins"] == 1 and data["pairwise"]["ties"] == 1
    assert "Pairwise judge `preference`" in (tmp_path / "c.md").read_text()
