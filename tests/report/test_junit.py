"""JUnit XML parsed back: one testcase per case × repeat, failures and errors distinguished."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from evalkit.analysis.compare import compare_runs
from evalkit.analysis.synthetic import example_pair, write_run
from evalkit.model.outcome import Outcome
from evalkit.model.record import CaseRecord, ErrorInfo
from evalkit.report.junit import junit_xml
from evalkit.storage.store import load_run


def test_junit_round_trip(tmp_path: Path) -> None:
    b, h = example_pair(tmp_path)
    head = load_run(h)
    root = ET.fromstring(junit_xml(head, compare_runs(load_run(b), head)))
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    assert suite is not None and suite.get("name") == "support"
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("12", "3", "1")
    cases = {tc.get("name"): tc for tc in suite.iter("testcase")}
    assert len(cases) == 12 and all(
        tc.get("classname") == "evalkit.support" for tc in cases.values()
    )
    assert list(cases["c01"]) == []
    failure = cases["c07"].find("failure")
    assert failure is not None and failure.get("message") == "regressed: contains"
    assert "expected 'refund' in output" in (failure.text or "")
    still = cases["c10"].find("failure")
    assert still is not None and still.get("message") == "contains"
    judged = cases["c08"].find("failure")
    assert judged is not None and "judge grounded" in (judged.get("message") or "")
    error = cases["c11"].find("error")
    assert error is not None and error.get("type") == "timeout"
    assert cases["c11"].find("failure") is None
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["run_id"] == "run-head"


def test_junit_repeats_and_escaping(tmp_path: Path) -> None:
    recs = [
        CaseRecord(case_id="a<&>", repeat=0, outcome=Outcome.PASS),
        CaseRecord(
            case_id="a<&>",
            repeat=1,
            outcome=Outcome.ERROR,
            error=ErrorInfo(kind="rate_limit", message='429 "slow down"'),
        ),
    ]
    root = ET.fromstring(junit_xml(load_run(write_run(tmp_path, recs))))
    names = [tc.get("name") for tc in root.iter("testcase")]
    assert names == ["a<&>#0", "a<&>#1"]
    error = root.find(".//error")
    assert error is not None and error.get("message") == '429 "slow down"'


def test_junit_properties_carry_the_run_pass_rate(tmp_path: Path) -> None:
    b, h = example_pair(tmp_path)
    head = load_run(h)
    for comparison in (None, compare_runs(load_run(b), head)):
        root = ET.fromstring(junit_xml(head, comparison))
        props = {p.get("name"): p.get("value") for p in root.iter("property")}
        # 8 of the head's 11 graded cases pass (one of its 12 cases errored)
        assert props["pass_rate"] == f"{8 / 11:.4f}"
        assert (props["cases"], props["graded_cases"]) == ("12", "11")
