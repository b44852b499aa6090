"""Calibration status (stale after a rubric edit) and the corrected pass rates in reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.analysis.calibration import calibration_file, calibration_section, calibration_status
from evalkit.analysis.calibration.labels import (
    Label,
    Sampling,
    append_label,
    labels_path,
    output_sha,
)
from evalkit.analysis.calibration.measure import Thresholds, measure
from evalkit.analysis.calibration.status import comparison_calibration
from evalkit.analysis.compare import compare_runs
from evalkit.analysis.stats.correction import rogan_gladen
from evalkit.analysis.summary import summarize
from evalkit.analysis.synthetic import example_pair
from evalkit.grading.judge import judge_version, load_judge
from evalkit.model.outcome import Outcome
from evalkit.model.record import CaseRecord, JudgeVerdict
from evalkit.report.compare_md import comparison_markdown
from evalkit.report.markdown import run_report
from evalkit.storage.store import load_run
from tests.analysis.calibration.helpers import judge_yaml
from tests.hand import mover_rogan_gladen


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
    before = judge_version(load_judge(judge_file))
    write_calibration(tmp_path, before, tp=36, fn=4, fp=6, tn=34)
    assert calibration_status("grounded", before, tmp_path).state == "calibrated"
    judge_file.write_text(judge_yaml("PASS if every claim is in the documents. Be strict."))
    after = judge_version(load_judge(judge_file))
    assert after != before
    stale = calibration_status("grounded", after, tmp_path)
    assert stale.state == "stale" and not stale.calibrated
    assert f"calibrated version {before}" in stale.detail


def _records(
    verdicts: list[str], judge: str = "grounded", version: str = "v1", mode: str = ""
) -> list[CaseRecord]:
    return [
        CaseRecord(
            case_id=f"c{i}",
            outcome=Outcome(v),
            output=f"out {i}",
            judges=[
                JudgeVerdict(name=judge, version=version, outcome=Outcome(v), output_mode=mode)
            ],
        )
        for i, v in enumerate(verdicts)
    ]


def test_a_0_1_0_calibration_holds_in_tools_mode_and_says_why_it_is_stale_in_another(
    tmp_path: Path,
) -> None:
    """0.1.0 asked every verdict in tools mode and wrote no ``output_mode``: a judge still
    answering in tools mode keeps that calibration; one that `auto` moved to json_schema is
    stale, and the message names the mode change and the command to run."""
    import json

    judge_file = tmp_path / "judges" / "grounded.yaml"
    judge_file.parent.mkdir()
    judge_file.write_text(judge_yaml("PASS if every claim is in the documents."), "utf-8")
    definition = load_judge(judge_file)
    tools, schema = (judge_version(definition, mode=m) for m in ("tools", "json_schema"))
    write_calibration(tmp_path, tools, tp=36, fn=4, fp=6, tn=34)
    path = calibration_file(tmp_path, "grounded")
    stored = json.loads(path.read_text("utf-8"))
    del stored["output_mode"]  # as 0.1.0 wrote it
    path.write_text(json.dumps(stored), "utf-8")
    verdicts = ["pass"] * 5 + ["fail"] * 5
    kept = calibration_section(_records(verdicts, version=tools, mode="tools"), tmp_path)
    assert kept["grounded"]["status"] == "calibrated"
    moved = calibration_section(_records(verdicts, version=schema, mode="json_schema"), tmp_path)
    assert moved["grounded"]["status"] == "stale"
    assert moved["grounded"]["detail"] == (
        f"stale: calibrated version {tools}, this is {schema}: the judge now answers in output "
        "mode 'json_schema' and was calibrated in 'tools' (the mode is part of the judge "
        "version: `output: auto` moves off tools when the server ignores or rejects tool "
        "calls); re-run `evalkit calibrate grounded` to measure this version against the labels"
    )
    # same mode, other rubric: the message does not blame the mode
    judge_file.write_text(judge_yaml("PASS if every claim is in the documents. Be strict."))
    edited = judge_version(load_judge(judge_file), mode="tools")
    stale = calibration_status("grounded", edited, tmp_path, "tools")
    assert stale.state == "stale" and "output mode" not in stale.detail
    assert "rubric" in stale.detail and "re-run `evalkit calibrate grounded`" in stale.detail


def test_section_corrects_a_calibrated_judge(tmp_path: Path) -> None:
    write_calibration(tmp_path, "v1", tp=36, fn=4, fp=6, tn=34)
    recs = _records(["pass"] * 70 + ["fail"] * 28 + ["error"] * 2)
    section = calibration_section(recs, tmp_path, run_id="run-1")
    g = section["grounded"]
    assert (g["status"], g["n"], g["errors"]) == ("calibrated", 98, 2)
    assert g["pass_rate"] == pytest.approx(70 / 98)
    estimate = (70 / 98 + 34 / 40 - 1) / (36 / 40 + 34 / 40 - 1)  # Rogan–Gladen by hand
    by_hand = mover_rogan_gladen(70, 98, 36, 40, 34, 40)
    assert g["corrected"]["estimate"] == pytest.approx(estimate)
    interval = g["corrected"]["interval"]
    assert by_hand is not None and by_hand[1] < 1.0
    assert (interval["low"], interval["high"]) == pytest.approx(by_hand, abs=1e-9)
    assert g["ppi"] is None  # no labels from this run
    text = run_report({"run_id": "run-1"}, {**summarize(recs), "calibration": section}, recs)
    assert "### Judge calibration" in text
    row = next(line for line in text.splitlines() if line.startswith("| `grounded`"))
    assert "calibrated (80 labels" in row and f"{100 * estimate:.1f}%" in row


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
    recs = _records(["pass"] * 300 + ["fail"] * 100)
    path = labels_path(tmp_path, "grounded")

    def label(i: int, human: str, run_id: str = "run-1", **sampling: object) -> None:
        append_label(
            path,
            Label(
                case_id=f"c{i}",
                output=f"out {i}",
                label=human,
                run_id=run_id,
                sampling=Sampling(**sampling),  # type: ignore[arg-type]
            ),
        )

    for i in range(0, 400, 4):  # 100 labelled at random; the judge is too lenient on 8
        label(i, "fail" if i < 32 else recs[i].outcome.value, mode="random", seed=1)
    label(1, "fail", mode="stratified", stratum="pass", stratum_size=300)
    g = calibration_section(recs, tmp_path, run_id="run-1")["grounded"]
    assert g["ppi"]["n_labeled"] == 100 and g["ppi"]["n_unlabeled"] == 300
    assert g["ppi"]["estimate"] < 300 / 400  # the labels say the judge is too lenient
    assert calibration_section(recs, tmp_path, run_id="run-2")["grounded"]["ppi"] is None
    assert output_sha("out 0") in path.read_text()
    # too few labels from the run: no PPI++ figure, the reason instead, the correction stays
    for i in range(1, 41, 2):
        label(i, recs[i].outcome.value, run_id="run-3", mode="random", seed=1)
    g = calibration_section(recs, tmp_path, run_id="run-3")["grounded"]
    assert g["ppi"]["estimate"] is None and g["ppi"]["reason"] == "too few labels (20, need 100)"
    assert g["corrected"]["estimate"] is not None
    text = run_report({}, {**summarize(recs), "calibration": {"grounded": g}}, recs)
    row = next(line for line in text.splitlines() if line.startswith("| `grounded`"))
    assert row.rstrip().endswith("| too few labels (20, need 100) |")


def test_correction_does_not_depend_on_passing_the_thresholds(tmp_path: Path) -> None:
    """The same labels decide "calibrated" and correct the rate: showing the figure only when
    they passed would select lucky calibrations (post-selection). It is shown either way."""
    recs = _records(["pass"] * 60 + ["fail"] * 40)
    write_calibration(tmp_path, "v1", tp=33, fn=7, fp=13, tn=27)  # TNR 0.675 < 0.7
    g = calibration_section(recs, tmp_path)["grounded"]
    assert g["status"] == "below thresholds"
    assert g["corrected"]["estimate"] == pytest.approx(
        (0.6 + 27 / 40 - 1) / (33 / 40 + 27 / 40 - 1)
    )
    by_hand = mover_rogan_gladen(60, 100, 33, 40, 27, 40)
    interval = g["corrected"]["interval"]
    assert (interval["low"], interval["high"]) == pytest.approx(by_hand, abs=1e-9)
    write_calibration(tmp_path, "v1", tp=17, fn=2, fp=3, tn=17)  # 19 human passes: too few
    g = calibration_section(recs, tmp_path)["grounded"]
    assert g["status"] == "insufficient labels" and g["corrected"]["estimate"] is None
    assert g["corrected"]["reason"] == "too few labels (19 pass, 20 fail; need 20 per class)"


def test_repeats_widen_the_corrected_interval(tmp_path: Path) -> None:
    """Three repeats per case whose verdicts agree: 300 outputs, 100 cases' worth of evidence."""
    write_calibration(tmp_path, "v1", tp=36, fn=4, fp=6, tn=34)
    verdicts = ["pass"] * 60 + ["fail"] * 40
    recs = [
        CaseRecord(
            case_id=f"c{i}",
            outcome=Outcome(v),
            output=f"out {i} {r}",
            judges=[JudgeVerdict(name="grounded", version="v1", outcome=Outcome(v))],
        )
        for i, v in enumerate(verdicts)
        for r in range(3)
    ]
    g = calibration_section(recs, tmp_path)["grounded"]
    assert g["n"] == 300 and g["pass_rate"] == pytest.approx(0.6)
    naive = rogan_gladen(180, 300, 36, 40, 34, 40)  # records taken as independent
    per_case = rogan_gladen(60, 100, 36, 40, 34, 40)  # one output per case: all there is
    assert g["corrected"]["estimate"] == pytest.approx(naive.estimate)
    width = g["corrected"]["interval"]["high"] - g["corrected"]["interval"]["low"]
    assert naive.interval is not None and per_case.interval is not None
    assert width == pytest.approx(per_case.interval.high - per_case.interval.low, abs=0.002)
    assert width > naive.interval.high - naive.interval.low + 0.01


def test_section_pass_rate_is_the_judges_table_figure_with_repeats(tmp_path: Path) -> None:
    """Unequal graded repeats: pooled verdicts (150 of 200 = 75%) and the per-case mean (50%)
    differ; the calibration section, its corrected ``observed`` and report.md use the latter."""
    write_calibration(tmp_path, "v1", tp=36, fn=4, fp=6, tn=34)

    def rec(i: int, r: int, outcome: str) -> CaseRecord:
        verdict = JudgeVerdict(name="grounded", version="v1", outcome=Outcome(outcome))
        return CaseRecord(
            case_id=f"c{i}", outcome=Outcome(outcome), output=f"out {i} {r}", judges=[verdict]
        )

    # 50 cases pass all 3 repeats; 50 fail once and the other 2 repeats' judge errored
    recs = [rec(i, r, "pass") for i in range(50) for r in range(3)]
    recs += [rec(i, r, "fail" if r == 0 else "error") for i in range(50, 100) for r in range(3)]
    summary = summarize(recs, repeats=3, project_root=tmp_path, run_id="run-1")
    table = summary["judges"]["grounded"]
    g = summary["calibration"]["grounded"]
    assert table["pass_rate"] == pytest.approx(0.5)
    assert g["pass_rate"] == table["pass_rate"]
    assert (g["n"], g["errors"]) == (200, 100)
    assert g["corrected"]["observed"] == pytest.approx(0.5)
    # Rogan–Gladen of the per-case rate (TPR 0.9, TNR 0.85), not of the pooled 75%
    assert g["corrected"]["estimate"] == pytest.approx((0.5 + 0.85 - 1) / 0.75)
    text = run_report({"run_id": "run-1"}, summary, recs)
    calib = text[text.index("### Judge calibration") :]
    assert "| `grounded` | 50.0% |" in calib and "75.0%" not in calib


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


def test_stratified_calibration_near_zero_counts_the_run_as_a_sample(tmp_path: Path) -> None:
    """Labels drawn 30 per judge verdict from a run of 100 passes and 900 fails: TNR rests on
    the 27 human fails among 30 judge fails standing for 810 outputs, so the design credits
    far more than the 32 human fails labelled, but never more than the run's ~827 human fails
    (a sample of the judge's outputs themselves: the first of two phases); the corrected rate
    is the MOVER interval on those effective counts, taken unrounded."""
    human = ["pass"] * 25 + ["fail"] * 5 + ["pass"] * 3 + ["fail"] * 27
    verdict = ["pass"] * 30 + ["fail"] * 30
    labels = [
        Label(
            case_id=f"l{i}",
            output=f"o{i}",
            label=h,
            run_id="cal",
            sampling=Sampling(
                mode="stratified", stratum=v, stratum_size=100 if v == "pass" else 900
            ),
        )
        for i, (h, v) in enumerate(zip(human, verdict, strict=True))
    ]
    verdicts = [JudgeVerdict(name="grounded", version="v1", outcome=Outcome(v)) for v in verdict]
    result = measure(labels, verdicts, judge="grounded", judge_version="v1", scale="binary")
    assert result.reweighted and result.overall.rates_correlation is not None
    tpr, tnr = result.overall.tpr, result.overall.tnr
    assert tpr is not None and tnr is not None
    fails_in_run = 5 * 100 / 30 + 27 * 900 / 30  # Horvitz–Thompson: 826.7
    assert 32 < tnr.n < fails_in_run and tpr.n < 100 * 25 / 30 + 900 * 3 / 30
    path = calibration_file(tmp_path, "grounded")
    path.parent.mkdir(parents=True)
    path.write_text(result.model_dump_json(), "utf-8")
    low = calibration_section(_records(["pass"] * 3 + ["fail"] * 97), tmp_path)["grounded"]
    fixed = low["corrected"]
    assert fixed["estimate"] < 0.15 and "caveat" not in fixed
    by_hand = mover_rogan_gladen(
        3, 100, tpr.estimate * tpr.n, tpr.n, tnr.estimate * tnr.n, tnr.n,
        result.overall.rates_correlation,
    )  # fmt: skip
    assert by_hand is not None
    assert (fixed["interval"]["low"], fixed["interval"]["high"]) == pytest.approx(
        (min(by_hand[0], fixed["estimate"]), by_hand[1]), abs=1e-9
    )
