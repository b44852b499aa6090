"""A conversation case's trajectory in the run page's data: every turn, call, argument, result
and its source, the max_turns stop and the final answer; hostile strings stay inert, and runs
without trajectories carry no trajectory field at all."""

from __future__ import annotations

import json

from evalkit.analysis.summary import summarize
from evalkit.analysis.synthetic import manifest
from evalkit.analysis.synthetic_report import report_records
from evalkit.model.outcome import Outcome
from evalkit.model.record import CaseRecord
from evalkit.model.trajectory import Trajectory
from evalkit.report.html.page import embed_json, shown
from evalkit.report.html.run import Texts, record_data, run_html, run_page_data
from evalkit.report.html.trajectory import trajectory_data
from tests.hostile import HOSTILE
from tests.report.html.conftest import conversation


def test_every_turn_call_result_and_source_is_in_the_record_data() -> None:
    traj = conversation("lookup", "order 7", "shipped", reached=True)
    rec = CaseRecord(case_id="a", outcome=Outcome.FAIL, output=traj.final, trajectory=traj)
    d = record_data(rec, Texts())["traj"]
    first, second = d["turns"]
    assert first["text"] == "let me look" and first["fin"] == "tool_use" and first["tok"] == [12, 3]
    assert first["calls"][0] == {
        "id": "t1",
        "name": "lookup",
        "args": '{"q": "order 7"}',
        "res": '{"found": "shipped"}',
        "src": "the case's tool_results (rule 0)",
    }
    assert first["calls"][1] == {
        "name": "refund",
        "args": "{not json",  # arguments that were not JSON are shown as sent
        "res": "shipped",
        "src": "the tool runner, which raised",
        "err": True,
    }
    assert second == {"tok": [20, 4], "text": "done: shipped"}
    assert d["final"] == "done: shipped" and d["max_turns"] == 4 and d["reached"] is True
    assert trajectory_data(Trajectory(final="x"))["reached"] is False


def test_hostile_tool_names_arguments_and_results_stay_inert() -> None:
    records = [
        CaseRecord(
            case_id=f"h-{key}",
            outcome=Outcome.PASS,
            output="ok",
            trajectory=conversation(text, text, text),
        )
        for key, text in HOSTILE.items()
    ]
    page = run_html(manifest("s", "p", "r"), summarize(records), records)
    assert 'data-encoding="gzip+base64"' not in page  # plain JSON: the checks below see it
    assert page.count("<script") == 2 and "</script><img" not in page
    assert "\x1b" not in page and "\u202e" not in page
    data = shown(run_page_data(manifest("s", "p", "r"), summarize(records), records))
    for key, text in HOSTILE.items():
        rec = next(r for r in data["records"] if r["id"] == f"h-{key}")
        call = rec["traj"]["turns"][0]["calls"][0]
        assert call["name"] == shown(text), key
        assert call["args"] == shown(json.dumps({"q": text}, ensure_ascii=False)), key
        assert rec["traj"]["turns"][0]["calls"][1]["res"] == shown(text), key
        # the embedded JSON cannot close the script element
        assert "<" not in embed_json(rec["traj"])


def test_runs_without_trajectories_carry_no_trajectory_field() -> None:
    records = report_records(200, seed=4)
    data = run_page_data(manifest("s", "p", "r"), summarize(records), records)
    assert all("traj" not in r for r in data["records"])
