"""The history page's data: runs oldest first, intervals or the reason there is none, the
baseline flagged, prompt versions in order of first use."""

from __future__ import annotations

from evalkit.report.html.history import history_page_data


def test_runs_sorted_with_intervals_and_the_baseline_flagged() -> None:
    runs = [
        (
            {
                "run_id": "r2",
                "started_at": "2026-01-02",
                "prompt_version": "b",
                "status": "complete",
            },
            {"pass_rate": 0.5, "pass_rate_interval": None, "pass_rate_interval_note": "few cases"},
        ),
        (
            {
                "run_id": "r1",
                "started_at": "2026-01-01",
                "prompt_version": "a",
                "prompt_label": "v1",
                "target": {"model": "m"},
            },
            {
                "pass_rate": 0.75,
                "pass_rate_interval": {"low": 0.5, "high": 0.9},
                "cases": 8,
                "error_rate": 0.125,
                "cost_usd": None,
            },
        ),
        ({"run_id": "r3", "started_at": "2026-01-03", "prompt_version": "a"}, {}),
    ]
    data = history_page_data("s", runs, "r1")
    assert [r["run"] for r in data["runs"]] == ["r1", "r2", "r3"]
    r1, r2, r3 = data["runs"]
    assert r1["texts"] == ["75.0%", "50.0%–90.0%", "12.5%", "unknown"]
    assert (r1["lo"], r1["hi"], r1["baseline"], r1["model"]) == (0.5, 0.9, True, "m")
    assert r2["texts"][1] == "not shown (few cases)" and r2["lo"] is None
    assert r3["rate"] is None and r3["texts"][0] == "n/a" and not r3["baseline"]
    assert data["versions"] == [["a", "v1"], ["b", ""]]
    assert data["baseline_found"] is True
    assert history_page_data("s", runs, "gone")["baseline_found"] is False
