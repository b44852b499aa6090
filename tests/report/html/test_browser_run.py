"""The run report in headless Chromium: hostile outputs stay text, filters, sorting and the
drill-down work, figures equal summary.json, no request leaves the page."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from evalkit.analysis.summary import summarize
from evalkit.analysis.synthetic import write_run
from evalkit.analysis.synthetic_report import report_records
from evalkit.base.format import pct
from evalkit.model.outcome import CheckResult, Outcome
from evalkit.model.record import CaseRecord, ErrorInfo, JudgeVerdict, Usage
from evalkit.report.html.page import shown
from evalkit.report.runfiles import write_summary_and_report
from evalkit.storage.store import REPORT_HTML, SUMMARY, load_run
from tests.hostile import HOSTILE
from tests.report.html.conftest import Opened, conversation, only_the_file

#: markup that would set a flag if it ever ran, beside the corpus's alert() payloads
PWN = {
    **HOSTILE,
    "onerror": '<img src=x onerror="window.__pwned=1">',
    "svg-onload": '"><svg onload="window.__pwned=1"></svg>',
    "iframe": '<iframe src="javascript:window.__pwned=1"></iframe>',
}


def _records() -> list[CaseRecord]:
    out = []
    for i, (name, text) in enumerate(PWN.items()):
        for repeat in range(2):
            failing = i % 2 == 0
            outcome = Outcome.FAIL if failing else Outcome.PASS
            out.append(
                CaseRecord(
                    case_id=f"h-{name}",
                    repeat=repeat,
                    tags=["hostile", text[:30]],
                    vars={"question": text, text[:20]: 1},
                    prompt=[
                        {"role": "system", "content": "You answer briefly."},
                        {"role": "user", "content": f"Q: {text}"},
                    ],
                    expected=text,
                    outcome=outcome,
                    output=text,
                    checks=[CheckResult(name="contains", outcome=outcome, reason=f"in {text!r}")],
                    judges=[
                        JudgeVerdict(name="tone", version="j", outcome=Outcome.PASS, reasoning=text)
                    ],
                    usage=Usage(input_tokens=10 + i, output_tokens=5 + i),
                    cost_usd=0.001 * i,
                    latency_ms=100.0 + 10 * i + repeat,
                    finish_reason="end_turn",
                )
            )
    out.append(
        CaseRecord(
            case_id="broken",
            tags=["hostile"],
            outcome=Outcome.ERROR,
            error=ErrorInfo(kind="server", message=HOSTILE["script"], status=500),
        )
    )
    return out


@pytest.fixture(scope="module")
def run_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("runs")
    path = write_run(root, _records(), run_id="run-h", repeats=2)
    run = load_run(path)
    write_summary_and_report(path, run.manifest, summarize(run.records, repeats=2), run.records)
    return path / REPORT_HTML, json.loads((path / SUMMARY).read_text())


#: each section's title and its table body's cells
_TABLES_JS = """hs => hs.map(h => [
    h.textContent,
    [...h.parentNode.querySelectorAll('tbody tr')].map(r => [...r.cells].map(c => c.textContent)),
])"""


def _rows(o: Opened) -> list[str]:
    return o.page.eval_on_selector_all("#case-rows tr", "rs => rs.map(r => r.dataset.case)")


def _count(o: Opened) -> str:
    return str(o.page.text_content("#count"))


def test_hostile_outputs_render_as_text(
    open_page: Callable[..., Opened], run_report: tuple[Path, dict[str, Any]]
) -> None:
    path, _ = run_report
    o = open_page(path)
    for name, text in PWN.items():
        o.page.fill("#q", "")
        o.page.click(f'tr[data-case="h-{name}"]' if '"' not in name else "tr")
        o.page.wait_for_selector("#detail:not([hidden])")
        outputs = o.page.eval_on_selector_all(
            "#detail pre.output", "ps => ps.map(p => p.textContent)"
        )
        assert outputs == [shown(text)] * 2, name
        sent = o.page.eval_on_selector_all("#detail .msg pre", "ps => ps.map(p => p.textContent)")
        assert sent == ["You answer briefly.", shown(f"Q: {text}")]
    # nothing from the data became an element or ran
    counts = o.page.evaluate(
        """() => ({
            scripts: document.scripts.length,
            injected: document.querySelectorAll('img, iframe, a, object, embed, svg *').length,
            pwned: window.__pwned === undefined ? null : window.__pwned})"""
    )
    assert counts == {"scripts": 2, "injected": 0, "pwned": None}
    only_the_file(o, path)


def test_figures_in_the_page_are_summary_json(
    open_page: Callable[..., Opened], run_report: tuple[Path, dict[str, Any]]
) -> None:
    path, summary = run_report
    o = open_page(path)
    assert o.page.text_content("#pass-rate strong") == pct(summary["pass_rate"])
    headline = str(o.page.text_content("#headline"))
    assert f"{summary['n']} outputs: {summary['pass']} pass, {summary['fail']} fail" in headline
    cells = o.page.eval_on_selector_all("section h2", _TABLES_JS)
    tables = {title: rows for title, rows in cells if title in ("Checks", "Judges", "Tags")}
    for title, key in (("Checks", "checks"), ("Judges", "judges"), ("Tags", "tags")):
        expected = {
            name: [pct(r["pass_rate"]), str(r["pass"]), str(r["fail"]), str(r["error"])]
            for name, r in summary[key].items()
        }
        got = {row[0]: [row[1], row[3], row[4], row[5]] for row in tables[title]}
        assert got == shown(expected), title


def test_filters_sorting_paging_and_drill_down(
    open_page: Callable[..., Opened], run_report: tuple[Path, dict[str, Any]]
) -> None:
    path, summary = run_report
    o = open_page(path)
    total = summary["n"]
    assert _count(o).endswith(f"of {total} outputs (of {total})")
    o.page.select_option("#outcome", "fail")
    assert f"of {summary['fail']} outputs" in _count(o)
    o.page.select_option("#outcome", "error")
    assert _rows(o) == ["broken"]
    o.page.select_option("#outcome", "")
    o.page.select_option("#check", "contains\u0000pass")
    assert f"of {summary['checks']['contains']['pass']} outputs" in _count(o)
    o.page.select_option("#check", "")
    o.page.fill("#q", "cleared your")  # text inside one output
    assert _rows(o) == ["h-ansi", "h-ansi"]
    o.page.fill("#q", "")
    o.page.click('[data-sort="latency"]')
    o.page.click('[data-sort="latency"]')  # descending
    first = _rows(o)[0]
    assert first == f"h-{list(PWN)[-1]}"
    # drill-down: both repeats side by side, with usage and finish reason
    o.page.click(f'tr[data-case="{first}"]')
    assert o.page.locator("#detail .repeat").count() == 2
    detail = str(o.page.text_content("#detail"))
    assert "finish reason" in detail and "end_turn" in detail and "rendered prompt" in detail
    assert o.page.evaluate("location.hash") == f"#case={first}"
    only_the_file(o, path)


def test_a_case_link_opens_its_drill_down_and_phones_get_no_sideways_scroll(
    open_page: Callable[..., Opened], run_report: tuple[Path, dict[str, Any]]
) -> None:
    path, _ = run_report
    o = open_page(path, width=390, hash="#case=broken")
    assert "server (HTTP 500)" in str(o.page.text_content("#detail"))
    width = o.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    bad = open_page(path, hash="#case=%E0%A4%A")  # a malformed escape in a hand-made link
    assert bad.page.is_hidden("#detail")
    only_the_file(bad, path)


def test_a_large_report_unpacks_its_gzipped_data(
    open_page: Callable[..., Opened], tmp_path: Path
) -> None:
    records = report_records(800, seed=3)
    path = write_run(tmp_path, records, run_id="big")
    run = load_run(path)
    summary = summarize(run.records)
    write_summary_and_report(path, run.manifest, summary, run.records)
    page = path / REPORT_HTML
    assert 'data-encoding="gzip+base64"' in page.read_text()
    o = open_page(page)
    assert _count(o) == "showing 1–100 of 800 outputs (of 800)"
    assert o.page.text_content("#pass-rate strong") == pct(summary["pass_rate"])
    o.page.select_option("#judge", "helpful\u0000fail")
    assert f"of {summary['judges']['helpful']['fail']} outputs" in _count(o)
    only_the_file(o, page)


@pytest.fixture(scope="module")
def agent_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A conversation case whose tool name, arguments and result are hostile, over two repeats."""
    records = [
        CaseRecord(
            case_id="agent",
            repeat=repeat,
            outcome=Outcome.FAIL,
            output="done: " + PWN["onerror"],
            trajectory=conversation(
                PWN["svg-onload"], PWN["close-script"], PWN["onerror"], reached=repeat == 1
            ),
        )
        for repeat in range(2)
    ]
    path = write_run(tmp_path_factory.mktemp("agent"), records, run_id="run-a", repeats=2)
    run = load_run(path)
    write_summary_and_report(path, run.manifest, summarize(run.records, repeats=2), run.records)
    return path / REPORT_HTML


def test_a_conversation_cases_drill_down_shows_its_trajectory(
    open_page: Callable[..., Opened], agent_report: Path
) -> None:
    o = open_page(agent_report, hash="#case=agent")
    repeats = o.page.locator("#detail .repeat")
    assert repeats.count() == 2
    for i in range(2):
        traj = repeats.nth(i).locator(".traj")
        assert "2 model turn(s), 2 tool call(s)" in str(traj.locator("h5").first.text_content())
        # turn 1's text; turn 2's is the final answer, shown once below
        assert traj.locator("pre.said").all_text_contents() == ["let me look"]
        names = traj.locator("code.tool").all_text_contents()
        assert names == [PWN["svg-onload"], "refund"]
        args = traj.locator("pre.args").all_text_contents()
        assert args == [json.dumps({"q": PWN["close-script"]}), "{not json"]
        assert traj.locator("pre.result").all_text_contents() == [
            json.dumps({"found": PWN["onerror"]}),
            PWN["onerror"],
        ]
        sources = traj.locator(".src").all_text_contents()
        assert sources == [
            "result from the case's tool_results (rule 0)",
            "error result from the tool runner, which raised",
        ]
        assert traj.locator("pre.final").text_content() == "done: " + PWN["onerror"]
        stop = traj.locator(".stop")
        assert stop.count() == i  # only repeat 1 hit max_turns
    assert "reached max_turns (4)" in str(repeats.nth(1).locator(".stop").text_content())
    # the search finds a case by a tool it called
    o.page.fill("#q", "refund")
    assert _rows(o) == ["agent", "agent"]
    injected = o.page.evaluate(
        "() => [document.querySelectorAll('img, iframe, svg *').length, window.__pwned]"
    )
    assert injected == [0, None]
    only_the_file(o, agent_report)
