"""Calibration status (stale after a rubric edit) and the corrected pass rates in reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit._synthetic import example_pair
from evalkit.calibration import calibration_file, calibration_section, calibration_status
from evalkit.calibration.labels import Label, Sampling, append_label, labels_path, output_sha
from evalkit.calibration.measure import Thresholds, measure
from evalkit.calibration.status import comparison_calibration
from evalkit.compare import compare_runs
from evalkit.judge import load_judge
from evalkit.outcome import Outcome
from evalkit.record import CaseRecord, JudgeVerdict
from evalkit.report.compare_md import comparison_markdown
from evalkit.report.markdown import run_report
from evalkit.stats.correction import rogan_gladen
from evalkit.store import load_run
from evalkit.summary import summarize
from tests.calibration.helpers import judge_yaml


def write_calibration(
    root: Path, version: str, tp: int, fn: int, fp: int, tn: int, judge: str = "grounded"
) -> None:
    """A stored calibration with this confusion matrix (30 per class needed by default)."""
    human = ["pass"] * (tp + fn) + ["fail"] * (fp + tn)
    verdict = ["pass"] * tp + ["fail"] * fn + ["pass"] * fp + ["fail"] * tn
    labels = [Label(case_id=f"l{i}", output=f"o{i}", label=h) for i, h in enumerate(human)]
    verdicts = [JudgeVerdict(name=judge, version=version, outcome=Outcome(v)) for v in verdict]
    result = measure(
        labels,
        verdicts,
        judge=judge,
        judge_version=version,
        scale="binary",
        thresholds=Thresholds(),
        n_boot=200,
    )
    path = calibration_file(root, judge)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(result.model_dump_json(), "utf-8")


def test_status_states(tmp_path: Path) -> None:
    s = calibration_status("grounded", "v1", tmp_path)
    assert s.state == "uncalibrated" and "evalkit calibrate grounded" in s.detail
    write_calibration(tmp_path, "v1", tp=36, fn=4, fp=6, tn=34)
    s = calibration_status("grounded", "v1", tmp_path)
    assert s.calibrated and s.state == "calibrated"
    assert s.detail.startswith("calibrated (80 labels, kappa 0.75")
    assert (s.tp, s.n_pos, s.tn, s.n_neg) == (36, 40, 34, 40)
    assert calibration_status("grounded", "v2", tmp_path).state == "stale"
    write_calibration(tmp_path, "v1", tp=18, fn=2, fp=3, tn=17)
    assert calibration_status("grounded", "v1", tmp_path).state == "insufficient labels"
    write_calibration(tmp_path, "v1", tp=25, fn=15, fp=14, tn=26)
    low = calibration_status("grounded", "v1", tmp_path)
    assert low.state == "below thresholds" and "kappa" in low.detail
    calibration_file(tmp_path, "grounded").write_text("{oops", "utf-8")
    broken = calibration_status("grounded", "v1", tmp_path)
    assert broken.state == "uncalibrated" and "corrupt calibration file" in broken.detail


def test_a_rubric_edit_makes_a_calibrated_judge_stale(tmp_path: Path) -> None:
    judge_file = tmp_path / "judges" / "grounded.yaml"
    judge_file.parent.mkdir()
    judge_file.write_text(judge_yaml("PASS if every claim is in the documents."), "utf-8")
    before = load_judge(judge_file).version
    write_calibration(tmp_path, before, tp=36, fn=4, fp=6, tn=34)
    assert calibration_status("grounded", before, tmp_path).state == "calibrated"
    judge_file.write_text(judge_yaml("PASS if every claim is in the documents. Be strict."))
    after = load_judge(judge_file).version
    assert after != before
    stale = calibration_status("grounded", after, tmp_path)
    assert stale.state == "stale" and not stale.calibrated
    assert f"calibrated version {before}" in stale.detail


def _records(verdicts: list[str], judge: str = "grounded", version: str = "v1") -> list[CaseRecord]:
    return [
        CaseRecord(
            case_id=f"c{i}",
            outcome=Outcome(v),
            output=f"out {i}",
            judges=[JudgeVerdict(name=judge, version=version, outcome=Outcome(v))],
        )
        for i, v in enumerate(verdicts)
    ]


def test_section_corrects_a_calibrated_judge(tmp_path: Path) -> None:
    write_calibration(tmp_path, "v1", tp=36, fn=4, fp=6, tn=34)
    recs = _records(["pass"] * 70 + ["fail"] * 28 + ["error"] * 2)
    section = calibration_section(recs, tmp_path, run_id="run-1")
    g = section["grounded"]
    assert (g["status"], g["n"], g["errors"]) == ("calibrated", 98, 2)
    assert g["pass_rate"] == pytest.approx(70 / 98)
    expected = rogan_gladen(70, 98, 36, 40, 34, 40)
    assert g["corrected"]["estimate"] == pytest.approx(expected.estimate)
    assert g["corrected"]["interval"]["low"] == pytest.approx(expected.interval.low)  # type: ignore[union-attr]
    assert g["ppi"] is None  # no labels from this run
    text = run_report({"run_id": "run-1"}, {**summarize(recs), "calibration": section}, recs)
    assert "### Judge calibration" in text
    row = next(line for line in text.splitlines() if line.startswith("| `grounded`"))
    assert "calibrated (80 labels" in row and f"{100 * expected.estimate:.1f}%" in row  # type: ignore[operator]


def test_section_for_uncalibrated_stale_and_unstable_judges(tmp_path: Path) -> None:
    recs = _records(["pass"] * 5 + ["fail"] * 5)
    g = calibration_section(recs, tmp_path)["grounded"]
    assert g["status"] == "uncalibrated" and g["corrected"] is None
    write_calibration(tmp_path, "v0", tp=36, fn=4, fp=6, tn=34)
    assert calibration_section(recs, tmp_path)["grounded"]["status"] == "stale"
    # a judge barely better than chance passes the thresholds only if they are set low:
    human = ["pass"] * 40 + ["fail"] * 40
    verdict = ["pass"] * 22 + ["fail"] * 18 + ["pass"] * 18 + ["fail"] * 22
    labels = [Label(case_id=f"l{i}", output=f"o{i}", label=h) for i, h in enumerate(human)]
    vs = [JudgeVerdict(name="grounded", version="v1", outcome=Outcome(v)) for v in verdict]
    loose = Thresholds(min_kappa=0.0, min_tpr=0.5, min_tnr=0.5)
    result = measure(
        labels,
        vs,
        judge="grounded",
        judge_version="v1",
        scale="binary",
        thresholds=loose,
        n_boot=100,
    )
    calibration_file(tmp_path, "grounded").write_text(result.model_dump_json(), "utf-8")
    g = calibration_section(recs, tmp_path)["grounded"]
    assert g["status"] == "calibrated" and g["corrected"]["estimate"] is None
    text = run_report({}, {**summarize(recs), "calibration": {"grounded": g}}, recs)
    assert "unstable: TPR + TNR − 1 = 0.10" in text


def test_ppi_uses_only_random_labels_from_the_same_run(tmp_path: Path) -> None:
    write_calibration(tmp_path, "v1", tp=36, fn=4, fp=6, tn=34)
    recs = _records(["pass"] * 30 + ["fail"] * 10)
    path = labels_path(tmp_path, "grounded")
    for i in range(0, 40, 4):  # 10 labelled at random; the judge is wrong on two of them
        human = "fail" if i in (0, 4) else recs[i].outcome.value
        append_label(
            path,
            Label(
                case_id=f"c{i}",
                output=f"out {i}",
                label=human,
                run_id="run-1",
                sampling=Sampling(mode="random", seed=1),
            ),
        )
    append_label(
        path,
        Label(
            case_id="c1",
            output="out 1",
            label="fail",
            run_id="run-1",
            sampling=Sampling(mode="stratified", stratum="pass", stratum_size=30),
        ),
    )
    g = calibration_section(recs, tmp_path, run_id="run-1")["grounded"]
    assert g["ppi"]["n_labeled"] == 10 and g["ppi"]["n_unlabeled"] == 30
    assert g["ppi"]["estimate"] < 30 / 40  # the labels say the judge is too lenient
    assert calibration_section(recs, tmp_path, run_id="run-2")["grounded"]["ppi"] is None
    assert output_sha("out 0") in path.read_text()


def test_comparison_markdown_shows_both_runs(tmp_path: Path) -> None:
    base_path, head_path = example_pair(tmp_path / "runs")
    base, head = load_run(base_path), load_run(head_path)
    write_calibration(tmp_path, "j", tp=36, fn=4, fp=6, tn=34)
    cal = comparison_calibration((base.records, base.run_id), (head.records, head.run_id), tmp_path)
    text = comparison_markdown(compare_runs(base, head), calibration=cal)
    assert "### Judge calibration" in text
    rows = [line for line in text.splitlines() if line.startswith("| `grounded` |")]
    assert [r.split("|")[2].strip() for r in rows] == ["base", "head"]
    assert all("calibrated (80 labels" in r for r in rows)
    assert "### Judge calibration" not in comparison_markdown(compare_runs(base, head))
