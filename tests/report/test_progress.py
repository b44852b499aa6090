"""The run's progress line: counts, and the adaptive concurrency with the 429 count."""

from __future__ import annotations

import pytest

from evalkit.model.outcome import Outcome
from evalkit.model.record import CaseRecord
from evalkit.report.progress import RunProgress


def test_progress_line_shows_concurrency_and_429s(capsys: pytest.CaptureFixture[str]) -> None:
    counts = {"pass": 0, "fail": 0, "error": 0}
    live = {"text": "concurrency 8/100 · 429s 0"}
    with RunProgress(True, 2, "demo", counts, status=lambda: live["text"]) as advance:
        counts["pass"] += 1
        live["text"] = "concurrency 17/100 · 429s 3"
        advance(CaseRecord(case_id="a", outcome=Outcome.PASS))
        counts["fail"] += 1
        advance(CaseRecord(case_id="b", outcome=Outcome.FAIL))
    out = capsys.readouterr()
    text = out.out + out.err
    assert "2/2" in text and "concurrency 17/100 · 429s 3" in text


def test_disabled_progress_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    counts = {"pass": 0, "fail": 0, "error": 0}
    with RunProgress(False, 1, "demo", counts, status=lambda: "concurrency 1/1") as advance:
        advance(CaseRecord(case_id="a", outcome=Outcome.PASS))
    out = capsys.readouterr()
    assert out.out == out.err == ""
