"""``measure``: a fixed label set against scikit-learn and statsmodels, and what it adds."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic_core import PydanticSerializationError
from scipy.stats import spearmanr
from sklearn.metrics import cohen_kappa_score, confusion_matrix
from statsmodels.stats.proportion import proportion_confint

from evalkit.analysis.calibration.labels import (
    Label,
    LabelValue,
    append_label,
    labels_path,
    output_sha,
    read_labels,
)
from evalkit.analysis.calibration.measure import (
    Thresholds,
    calibration_file,
    measure,
    write_calibration,
)
from evalkit.analysis.calibration.status import calibration_status, load_calibration
from evalkit.analysis.stats.split import split_of
from evalkit.model.outcome import Outcome
from evalkit.model.record import ErrorInfo, JudgeVerdict

# 20 labelled outputs: human label, judge verdict (fixed, with 3 disagreements)
HUMAN = ["pass"] * 12 + ["fail"] * 8
JUDGE = ["pass"] * 10 + ["fail"] * 2 + ["fail"] * 7 + ["pass"]


def _labels(values: list[LabelValue]) -> list[Label]:
    out = []
    for i, v in enumerate(values):
        text = f"output {i}"
        out.append(
            Label(
                case_id=f"case-{i}",
                output=text,
                output_sha=output_sha(text),
                label=v,
                critique=f"human says {v} because {i}",
            )
        )
    return out


def _verdict(value: str, i: int) -> JudgeVerdict:
    return JudgeVerdict(
        name="j", version="v1", outcome=Outcome(value), reasoning=f"judge reasoning {i}"
    )


def test_binary_figures_match_sklearn_and_statsmodels() -> None:
    verdicts = [_verdict(v, i) for i, v in enumerate(JUDGE)]
    r = measure(_labels(list(HUMAN)), verdicts, judge="j", judge_version="v1", scale="binary")
    s = r.overall
    (tn, fp), (fn, tp) = confusion_matrix(HUMAN, JUDGE, labels=["fail", "pass"])
    assert (s.confusion.tp, s.confusion.fn, s.confusion.fp, s.confusion.tn) == (tp, fn, fp, tn)
    assert s.labels_per_class == {"pass": 12, "fail": 8}
    assert s.prevalence == pytest.approx(12 / 20)
    assert s.agreement == pytest.approx(17 / 20)
    assert s.kappa == pytest.approx(cohen_kappa_score(HUMAN, JUDGE))
    assert s.kappa_interval is not None and s.kappa_interval.low < s.kappa < s.kappa_interval.high
    low, high = proportion_confint(10, 12, method="wilson")
    assert s.tpr is not None and s.tpr.estimate == pytest.approx(10 / 12)
    assert (s.tpr.interval.low, s.tpr.interval.high) == pytest.approx((low, high))
    low, high = proportion_confint(7, 8, method="wilson")
    assert s.tnr is not None and (s.tnr.interval.low, s.tnr.interval.high) == pytest.approx(
        (low, high)
    )
    assert s.coverage == s.tnr.estimate and s.false_failure_rate == pytest.approx(2 / 12)
    # the dev/holdout split is split_of(case_id) and partitions the labels
    n_dev = sum(split_of(f"case-{i}") == "dev" for i in range(20))
    assert (r.dev.n, r.holdout.n) == (n_dev, 20 - n_dev)
    assert r.n_labels == r.n_used == 20 and not r.reweighted


def test_disagreements_pair_the_critique_with_the_judge_reasoning() -> None:
    verdicts = [_verdict(v, i) for i, v in enumerate(JUDGE)]
    r = measure(_labels(list(HUMAN)), verdicts, judge="j", judge_version="v1", scale="binary")
    assert [(d.case_id, d.human, d.judge) for d in r.disagreements] == [
        ("case-10", "pass", "fail"),
        ("case-11", "pass", "fail"),
        ("case-19", "fail", "pass"),
    ]
    d = r.disagreements[0]
    assert d.critique == "human says pass because 10" and d.reasoning == "judge reasoning 10"
    assert d.split == split_of("case-10")


def test_judge_errors_and_unknown_cases_are_excluded_and_counted() -> None:
    verdicts: list[JudgeVerdict | None] = [_verdict(v, i) for i, v in enumerate(JUDGE)]
    verdicts[0] = JudgeVerdict(
        name="j",
        version="v1",
        outcome=Outcome.ERROR,
        error=ErrorInfo(kind="unparseable", message="no verdict in reply"),
    )
    verdicts[19] = None
    r = measure(_labels(list(HUMAN)), verdicts, judge="j", judge_version="v1", scale="binary")
    assert (r.n_labels, r.n_used, r.n_judge_errors, r.n_missing_case) == (20, 18, 1, 1)
    assert r.judge_errors[0].message == "no verdict in reply"
    assert r.overall.labels_per_class == {"pass": 11, "fail": 7}  # neither pass nor fail
    assert any("could not grade 1" in w for w in r.warnings)


def test_states_follow_the_thresholds() -> None:
    verdicts = [_verdict(v, i) for i, v in enumerate(JUDGE)]
    args = {"judge": "j", "judge_version": "v1", "scale": "binary"}
    few = measure(_labels(list(HUMAN)), verdicts, **args)  # type: ignore[arg-type]
    assert few.state == "insufficient labels" and not few.calibrated
    assert any("only 8 human 'fail' labels" in r for r in few.reasons)
    ok = measure(_labels(list(HUMAN)), verdicts, thresholds=Thresholds(min_per_class=5), **args)  # type: ignore[arg-type]
    assert ok.state == "calibrated" and ok.calibrated and ok.reasons == []
    strict = Thresholds(min_per_class=5, min_kappa=0.9)
    low = measure(_labels(list(HUMAN)), verdicts, thresholds=strict, **args)  # type: ignore[arg-type]
    assert low.state == "below thresholds" and low.reasons[0].startswith("kappa 0.")


def _gap_result(n: int, every: int) -> list[str]:
    """Warnings of ``n`` labels where the judge is right on every dev case and wrong on every
    ``every``-th holdout one."""
    human: list[LabelValue] = ["pass" if i % 2 else "fail" for i in range(n)]
    judge = [
        h if split_of(f"case-{i}") == "dev" or i % every else ("fail" if h == "pass" else "pass")
        for i, h in enumerate(human)
    ]
    verdicts = [_verdict(str(v), i) for i, v in enumerate(judge)]
    r = measure(_labels(human), verdicts, judge="j", judge_version="v1", scale="binary")
    assert r.dev.agreement == 1.0 and r.holdout.agreement is not None
    assert r.holdout.agreement < 0.95  # a gap of more than 5 points in every case below
    return r.warnings


def test_holdout_gap_warning_needs_an_interval_clear_of_zero() -> None:
    # 200 labels, a third of holdout wrong: the gap's interval is far above 0
    warnings = _gap_result(200, 3)
    assert any("below dev" in w and "interval for the gap" in w for w in warnings)
    # 20 labels, a 29-point gap from 7 holdout labels: within noise, no warning
    assert _gap_result(20, 3) == []


def test_likert_figures() -> None:
    human: list[LabelValue] = [1, 2, 3, 4, 5, 5, 4, 3, 2, 1, 4, 5]
    judge = [1, 3, 3, 4, 4, 5, 5, 2, 2, 1, 3, 5]
    verdicts = [
        JudgeVerdict(
            name="j",
            version="v",
            outcome=Outcome.PASS if v >= 4 else Outcome.FAIL,
            verdict=v,
            score=(v - 1) / 4,
        )
        for v in judge
    ]
    r = measure(_labels(human), verdicts, judge="j", judge_version="v", scale="likert-5")
    s = r.overall
    assert s.weighted_kappa == pytest.approx(
        cohen_kappa_score(human, judge, weights="quadratic", labels=[1, 2, 3, 4, 5])
    )
    assert s.spearman == pytest.approx(spearmanr(human, judge).statistic)
    assert r.pass_at == 4 and s.n_pass == sum(h >= 4 for h in human)  # type: ignore[operator]
    assert [d.judge for d in r.disagreements][:1] == [3]


def test_a_lone_surrogate_in_labels_is_written_and_read_back_identically(tmp_path: Path) -> None:
    """Outputs are hostile text: a lone surrogate (valid JSON ``"\\ud800"``) in a labelled
    output, critique and judge reasoning survives the labels file and calibration.json."""
    bad = "tricky \ud800 text \udfff"
    labels = _labels(list(HUMAN))
    labels[11] = labels[11].model_copy(
        update={"output": bad, "output_sha": output_sha(bad), "critique": bad}
    )
    path = labels_path(tmp_path, "j")
    for lab in labels:
        append_label(path, lab)
    read_back = read_labels(path, "binary")
    assert read_back[11].output == bad and read_back[11].critique == bad
    assert [lab.line() for lab in read_back] == [lab.line() for lab in labels]
    verdicts = [_verdict(v, i) for i, v in enumerate(JUDGE)]
    verdicts[11] = verdicts[11].model_copy(update={"reasoning": bad})
    result = measure(read_back, verdicts, judge="j", judge_version="v1", scale="binary")
    assert any(d.output == bad and d.reasoning == bad for d in result.disagreements)
    with pytest.raises(PydanticSerializationError):
        result.model_dump_json()  # what measure.py used to write with
    written = write_calibration(tmp_path, result)
    assert written == calibration_file(tmp_path, "j")
    loaded = load_calibration(tmp_path, "j")
    assert loaded == result
    assert calibration_status("j", "v1", tmp_path).n_labels == result.n_used
