"""The run loop's data and resume rules (evalkit/api/run.py): hostile text stored losslessly,
``--resume`` re-requesting errored cases under the error budget, the ``--no-cache`` choice kept,
and a run that fails before its first record not left ``running``. Requests are counted at the
scripted server; signals and concurrent processes are in tests/cli/test_run_faults.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evalkit.base.exceptions import RunAborted
from evalkit.model.outcome import Outcome
from evalkit.scripted import ScriptedServer
from evalkit.storage.runlock import is_live
from evalkit.storage.store import RESULTS, iter_all_records, read_manifest, read_records
from tests.api.test_run import cases, run, write_project

LONE = "bad \ud800 half, \udfff other half, and a pair \U0001f600"


def test_lone_surrogates_in_a_reply_are_stored_losslessly(tmp_path: Path) -> None:
    srv = ScriptedServer(
        {"default": {"text": "ok"}, "responses": [{"when": {"case": "s"}, "text": "ok " + LONE}]}
    ).start()
    try:
        config = write_project(tmp_path, srv.url, cases("a", "s"))
        first = run(config)
        again = run(config)  # answered from the cache
        assert srv.count(case="s") == 1
    finally:
        srv.stop()
    assert first.status == "complete" and first.summary["pass"] == 2
    for outcome, cached in ((first, False), (again, True)):
        records = {r.case_id: r for r in read_records(outcome.path)}
        assert records["s"].output == "ok " + LONE  # the identical str, surrogates and all
        assert records["s"].cached is cached
    raw = (first.path / RESULTS).read_bytes()
    raw.decode("utf-8")  # the file itself stays valid UTF-8
    assert b"\\ud800" in raw
    assert (first.path / "report.md").exists()
    # resuming such a run reads it back without crashing and requests nothing
    resumed = run(config, resume=first.path)
    assert resumed.status == "complete" and resumed.requests == 0


def test_resume_requests_errored_cases_again_and_supersedes_them(tmp_path: Path) -> None:
    # "flaky" fails its first 3 requests (all attempts of the first run), then answers
    srv = ScriptedServer(
        {
            "default": {"text": "ok"},
            "responses": [
                {"when": {"case": "flaky"}, "text": "ok now", "fault": {"status": 500, "times": 3}}
            ],
        }
    ).start()
    try:
        config = write_project(tmp_path, srv.url, cases("a", "flaky", "c"), error_budget=0.5)
        first = run(config)
        assert first.status == "complete" and first.summary["error"] == 1
        assert srv.count(case="flaky") == 3
        second = run(config, resume=first.path)
        assert srv.count(case="flaky") == 4 and srv.count(case="a") == 1
    finally:
        srv.stop()
    assert second.status == "complete" and second.requests == 1
    assert second.summary["error"] == 0 and second.summary["pass"] == 3
    records = {r.case_id: r for r in read_records(first.path)}
    assert len(records) == 3 and records["flaky"].output == "ok now"
    # append-only: both lines are on disk, readers see the latest one only
    lines = [r.case_id for r in iter_all_records(first.path)]
    assert sorted(lines) == ["a", "c", "flaky", "flaky"]
    summary = json.loads((first.path / "summary.json").read_text())
    assert summary["error"] == 0 and summary["n"] == 3


def test_resume_of_a_run_over_budget_applies_the_budget_again(
    tmp_path: Path, closed_url: str
) -> None:
    port = int(closed_url.rsplit(":", 1)[1])
    config = write_project(
        tmp_path, closed_url, cases(*"abcdefgh"), error_budget=0.25, concurrency=1
    )
    with pytest.raises(RunAborted, match="error budget"):
        run(config)
    (run_path,) = (tmp_path / "runs" / "demo").glob("*/*")
    # the server is still down: the resumed run is aborted again (exit 3), not "complete"
    with pytest.raises(RunAborted, match="error budget"):
        run(config, resume=run_path)
    assert read_manifest(run_path)["status"] == "aborted"
    assert len(read_records(run_path)) == 3
    # the server comes back on the same address: every case is answered, errors superseded
    srv = ScriptedServer({"default": {"text": "ok"}}, port=port).start()
    try:
        done = run(config, resume=run_path)
        assert srv.count() == 8
    finally:
        srv.stop()
    assert done.status == "complete" and done.summary["pass"] == 8
    assert [r.outcome for r in read_records(run_path)] == [Outcome.PASS] * 8
    assert len(list(iter_all_records(run_path))) == 3 + 3 + 8


def test_resuming_a_no_cache_run_does_not_read_the_cache(tmp_path: Path) -> None:
    srv = ScriptedServer(
        {
            "default": {"text": "ok"},
            "responses": [
                {"when": {"case": "x"}, "text": "ok x", "fault": {"status": 500, "times": 3}}
            ],
        }
    ).start()
    try:
        config = write_project(tmp_path, srv.url, cases("a", "x"), error_budget=0.5)
        uncached = run(config, use_cache=False)
        assert uncached.summary["error"] == 1
        filler = run(config)  # a cached run answers "x" and fills the cache
        assert filler.summary["pass"] == 2 and srv.count(case="x") == 4
        resumed = run(config, resume=uncached.path)  # the CLI's default use_cache=True
        assert srv.count(case="x") == 5  # requested again, not served from the cache
    finally:
        srv.stop()
    assert read_manifest(uncached.path)["use_cache"] is False
    records = {r.case_id: r for r in read_records(resumed.path)}
    assert records["x"].cached is False and records["x"].outcome is Outcome.PASS


def test_a_run_failing_before_its_first_record_is_not_left_running(tmp_path: Path) -> None:
    config = write_project(tmp_path, "http://127.0.0.1:9", cases("a"), judges=["j"])
    (tmp_path / "judges").mkdir()
    (tmp_path / "judges" / "j.yaml").write_text(
        "name: j\nscale: binary\nrubric: be right\n"
        "model: {provider: anthropic, model: claude-test}\n"
    )

    def broken(judge: object) -> Any:
        raise RuntimeError("judge set-up exploded")

    with pytest.raises(RuntimeError, match="exploded"):
        run(config, judge_target_override=broken)
    (run_path,) = (tmp_path / "runs" / "demo").glob("*/*")
    manifest = read_manifest(run_path)
    assert manifest["status"] == "failed" and manifest["records"] == 0
    assert read_records(run_path) == []
    assert not is_live(run_path)  # the lock went with it: resumable at once
