"""The run page's data: the summary's own formatted figures, compact records, a shared prompt
stored once, and a 10,000-case report under 15 MB."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

from evalkit.analysis.summary import summarize
from evalkit.analysis.synthetic import manifest
from evalkit.analysis.synthetic_report import SYSTEM, report_records
from evalkit.base.format import pct, usd
from evalkit.model.outcome import CheckResult, Outcome
from evalkit.model.record import CaseRecord, ErrorInfo, JudgeVerdict
from evalkit.report.headline import pass_rate_line
from evalkit.report.html.page import GZIP_OVER, MAX_TEXT, shown
from evalkit.report.html.run import Texts, record_data, run_html, run_html_chunks, run_page_data


def test_figures_are_the_summarys_formatted_by_the_shared_formatters() -> None:
    records = report_records(60, repeats=2, seed=1)
    summary = summarize(records, repeats=2)
    data = run_page_data(manifest("s", "p", "r"), summary, records)
    assert data["headline"] == pass_rate_line(summary)
    assert data["figures"]["pass_rate"] == pct(summary["pass_rate"])
    iv = summary["pass_rate_interval"]
    assert data["figures"]["interval"] == [pct(iv["low"]), pct(iv["high"]), "95%"]
    for key in ("checks", "judges", "tags"):
        assert [row[:6] for row in data[key]] == [
            [n, pct(r["pass_rate"]), r["pass"], r["fail"], r["error"], pct(r["error_rate"])]
            for n, r in summary[key].items()
        ]
    meta = dict(data["meta"])
    assert meta["cost"].startswith(usd(summary["cost_usd"]))
    assert any(k.startswith("pass^2") for k in meta)
    assert len(data["records"]) == 120


def test_the_shared_system_prompt_is_stored_once() -> None:
    records = report_records(50)
    data = run_page_data(manifest("s", "p", "r"), summarize(records), records)
    assert data["texts"].count(SYSTEM) == 1
    assert len(data["texts"]) == 51  # one system prompt, fifty user messages
    first = data["records"][0]
    assert [data["texts"][i] for _, i in first["prompt"]] == [
        m["content"] for m in records[0].prompt or []
    ]


def test_record_data_keeps_every_field_the_drill_down_shows() -> None:
    rec = CaseRecord(
        case_id="c1",
        repeat=1,
        tags=["t"],
        vars={"q": "x"},
        prompt=[{"role": "user", "content": [{"type": "text", "text": "block"}]}],
        expected={"a": 1},
        outcome=Outcome.ERROR,
        error=ErrorInfo(kind="server", message="boom", status=503),
        checks=[CheckResult(name="contains", outcome=Outcome.FAIL, reason="why", score=0.0)],
        judges=[
            JudgeVerdict(
                name="j",
                version="1",
                outcome=Outcome.ERROR,
                reasoning="",
                error=ErrorInfo(kind="parse", message="bad json"),
                flip=True,
                cost_usd=None,
            )
        ],
        cost_usd=None,
        latency_ms=12.345,
        finish_reason="max_tokens",
        truncated=True,
        attempts=3,
        cached=True,
    )
    texts = Texts()
    d = record_data(rec, texts)
    assert d["err"] == "server (HTTP 503): boom"
    assert d["ch"] == [["contains", "fail", "why", 0.0]]
    assert d["jd"][0]["err"] == "parse: bad json" and d["jd"][0]["flip"] is True
    assert d["jd"][0]["cost"] == "unknown"  # a missing price is not $0
    assert d["cost"] is None and d["lat"] == 12.3 and d["fin"] == "max_tokens"
    assert d["trunc"] is True and d["att"] == 3 and d["cached"] is True
    assert d["exp"] == {"a": 1} and "out" not in d
    # structured content (tool turns) is shown as its JSON
    assert json.loads(texts.items[d["prompt"][0][1]]) == [{"type": "text", "text": "block"}]


def test_a_5_mb_output_is_cut_in_the_page_and_says_so() -> None:
    huge = "x" * 5_000_000
    rec = CaseRecord(case_id="big", outcome=Outcome.PASS, output=huge)
    page = run_html(manifest("s", "p", "r"), summarize([rec]), [rec])
    assert len(page) < 1_000_000
    assert f"… ({5_000_000 - MAX_TEXT} more characters)" in page


def test_a_10000_case_report_is_under_15_mb() -> None:
    records = report_records(10_000, seed=2)
    page = run_html(manifest("s", "p", "r"), summarize(records), records)
    size = len(page.encode("utf-8"))
    assert size < 15_000_000, size


def test_a_hostile_suite_name_is_text_in_the_title_too() -> None:
    rec = CaseRecord(case_id="c", outcome=Outcome.PASS, output="ok")
    m = manifest("</title><script>alert(1)</script>\x1b[2J", "p", "r")
    page = run_html(m, summarize([rec]), [rec])
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "<" not in title and "\x1b" not in title
    assert "&lt;/title&gt;&lt;script&gt;" in title and "\\x1b[2J" in title
    assert page.count("<script") == 2  # the data block and the page's own script


def _payload(page: str) -> dict[str, Any]:
    start = page.index('id="evalkit-data"')
    body = page[page.index(">", start) + 1 : page.index("</script>", start)]
    if 'data-encoding="gzip+base64"' in page[start : page.index(">", start)]:
        body = gzip.decompress(base64.b64decode(body)).decode("utf-8")
    data: dict[str, Any] = json.loads(body)
    return data


def test_a_streamed_page_holds_the_same_data_as_the_whole_one() -> None:
    """report.html is written piece by piece from records read once; past GZIP_OVER it is
    gzipped as it goes. Its data equals the page data built from the list."""
    records = report_records(3_000, repeats=2, seed=3)
    summary, m = summarize(records, repeats=2), manifest("s", "p", "r")
    once = iter(records)
    chunks = list(run_html_chunks(m, summary, once))
    assert next(once, None) is None and len(chunks) > 3
    page = "".join(chunks)
    assert page == run_html(m, summary, records)
    data = _payload(page)
    expected = shown(run_page_data(m, summary, records))
    assert len(json.dumps(expected)) > GZIP_OVER and 'data-encoding="gzip+base64"' in page
    assert data == {"kind": "run", **expected}
    small = run_html(m, summary, records[:3])
    assert 'data-encoding="gzip' not in small
    assert _payload(small) == {"kind": "run", **shown(run_page_data(m, summary, records[:3]))}
