"""The HTML outputs and ``evalkit show`` through the real entry point and its exit codes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from evalkit.analysis.synthetic import example_pair
from evalkit.api.ci import SUMMARY_HTML, finish_ci
from evalkit.storage.store import REPORT_HTML


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    example_pair(tmp_path / "runs")
    return tmp_path


def _is_page(path: Path) -> str:
    text = path.read_text("utf-8")
    assert text.startswith("<!DOCTYPE html>") and "Content-Security-Policy" in text
    return text


def test_report_html_writes_the_page_beside_report_md_and_to_a_file(
    exit_code: Callable[[list[str]], int], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert exit_code(["report", "run-head", "--html"]) == 0
    page = next(project.glob(f"runs/support/*/run-head/{REPORT_HTML}"))
    assert capsys.readouterr().out.strip() == f"wrote {page.relative_to(project)}"
    assert '"kind":"run"' in (text := _is_page(page)) and "evalkit run run-head" in text
    assert exit_code(["report", "run-head", "--html", "out.html"]) == 0
    assert (project / "out.html").read_text("utf-8") == page.read_text("utf-8")
    assert capsys.readouterr().out.strip() == "wrote out.html"
    assert exit_code(["report", "run-head"]) == 0  # without --html: the markdown, as before
    assert capsys.readouterr().out.startswith("# evalkit run")


def test_compare_html_and_runs_html(exit_code: Callable[[list[str]], int], project: Path) -> None:
    assert exit_code(["compare", "run-base", "run-head", "--html", "cmp.html"]) == 0
    assert '"kind":"compare"' in _is_page(project / "cmp.html")
    assert exit_code(["runs", "support", "--html", "hist.html"]) == 0
    text = _is_page(project / "hist.html")
    assert '"run":"run-base"' in text and '"run":"run-head"' in text
    assert exit_code(["runs", "--html", "hist.html"]) == 2  # a history is one suite's


def test_ci_writes_summary_html_beside_the_markdown(
    exit_code: Callable[[list[str]], int], project: Path
) -> None:
    assert exit_code(["baseline", "set", "run-base"]) == 0
    out = project / "out"
    code = finish_ci(
        next(project.glob("runs/support/*/run-head")),
        project_root=project,
        suite="support",
        gate=None,
        out_dir=out,
    )
    assert code == 0
    assert (out / "summary.md").exists()
    assert '"kind":"compare"' in _is_page(out / SUMMARY_HTML)


def test_show_prints_one_case_and_an_unknown_case_is_exit_2(
    exit_code: Callable[[list[str]], int], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert exit_code(["show", "run-head", "c08"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("case c08")
    assert "judge grounded: fail" in out
    assert "claims a 30-day window the policy does not state" in out
    assert exit_code(["show", "run-head", "c8"]) == 2
    err = capsys.readouterr().err
    assert "no case 'c8' in run run-head" in err and "results.jsonl" in err
