"""Sampling, and the reweighting that keeps stratified labels from biasing TPR, TNR and kappa."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import cohen_kappa_score, confusion_matrix
from statsmodels.stats.proportion import proportion_confint

from evalkit.analysis.calibration.labels import Label, Sampling
from evalkit.analysis.calibration.sampling import Candidate, candidates, draw_sample
from evalkit.analysis.calibration.weights import (
    inclusion_weights,
    sampling_strata,
    sampling_weights,
    weighted_summary,
)
from evalkit.analysis.stats.agreement import calibration_summary
from evalkit.analysis.stats.correction import corrected_pass_rate
from evalkit.model.outcome import Outcome
from evalkit.model.record import CaseRecord, JudgeVerdict


def _record(i: int, verdict: str, output: str | None = None) -> CaseRecord:
    return CaseRecord(
        case_id=f"c{i}",
        outcome=Outcome(verdict),
        output=output if output is not None else f"out {i}",
        judges=[JudgeVerdict(name="j", version="v", outcome=Outcome(verdict))],
    )


def test_candidates_are_distinct_outputs_with_the_run_verdict() -> None:
    recs = [_record(0, "pass"), _record(1, "fail"), _record(2, "pass", output="out 0")]
    pool = candidates(recs, "j")
    assert [(c.record.case_id, c.verdict) for c in pool] == [("c0", "pass"), ("c1", "fail")]
    assert candidates(recs, "other")[0].verdict == "none"


def test_random_draw_is_seeded_and_skips_labelled_outputs() -> None:
    pool = candidates([_record(i, "pass") for i in range(20)], "j")
    done = {pool[0].sha, pool[1].sha}
    a = draw_sample(pool, 5, "random", seed=7, exclude=done)
    b = draw_sample(pool, 5, "random", seed=7, exclude=done)
    assert [d.candidate.sha for d in a] == [d.candidate.sha for d in b]
    assert len(a) == 5 and not {d.candidate.sha for d in a} & done
    assert all(d.sampling.mode == "random" and d.sampling.population == 20 for d in a)
    assert len(draw_sample(pool, 100, "random", seed=1)) == 20


def test_stratified_draw_takes_equal_shares_and_fills_from_the_larger_stratum() -> None:
    pool = candidates([_record(i, "pass" if i < 17 else "fail") for i in range(20)], "j")
    drawn = draw_sample(pool, 10, "stratified", seed=1)
    got = sorted((d.sampling.stratum, d.sampling.stratum_size) for d in drawn)
    assert got.count(("fail", 3)) == 3 and got.count(("pass", 17)) == 7


def _population(n: int, prevalence: float, tpr: float, tnr: float, seed: int) -> list[Candidate]:
    """Outputs with a known human truth (in case_id) and a judge verdict with known TPR/TNR."""
    rng = np.random.default_rng(seed)
    human = rng.random(n) < prevalence
    judge = np.where(human, rng.random(n) < tpr, rng.random(n) >= tnr)
    recs = [
        _record(i, "pass" if j else "fail", output=f"{'P' if h else 'F'} {i}")
        for i, (h, j) in enumerate(zip(human, judge, strict=True))
    ]
    return candidates(recs, "j")


def test_stratified_sample_does_not_bias_tpr_tnr_or_kappa() -> None:
    """Prevalence 0.8, TPR 0.9, TNR 0.7: drawn equally per judge verdict, unweighted TPR is
    ≈0.72 and TNR ≈0.93; reweighted they come back to the truth (averaged over 40 draws)."""
    pool = _population(20_000, 0.8, 0.9, 0.7, seed=0)
    truth_h = [c.record.output.startswith("P") for c in pool]  # type: ignore[union-attr]
    truth_j = [c.verdict == "pass" for c in pool]
    true_kappa = cohen_kappa_score(truth_h, truth_j)
    raw, fixed = [], []
    for seed in range(40):
        drawn = draw_sample(pool, 400, "stratified", seed=seed)
        labels = [
            Label(
                case_id=d.candidate.record.case_id,
                output=d.candidate.record.output or "",
                label="pass" if d.candidate.record.output.startswith("P") else "fail",  # type: ignore[union-attr]
                run_id="r",
                sampling=d.sampling,
            )
            for d in drawn
        ]
        weights, notes = sampling_weights(labels)
        assert "reweighted" in notes[0]
        human = [lab.label for lab in labels]
        judge = [d.candidate.verdict for d in drawn]
        s_raw = calibration_summary(human, judge, n_boot=100)
        s_fix = weighted_summary(human, judge, weights, scale="binary", n_boot=200, seed=seed)
        raw.append((s_raw.tpr.estimate, s_raw.tnr.estimate, s_raw.kappa))  # type: ignore[union-attr]
        fixed.append((s_fix.tpr.estimate, s_fix.tnr.estimate, s_fix.kappa))  # type: ignore[union-attr]
    raw_m, fixed_m = np.mean(raw, axis=0), np.mean(fixed, axis=0)
    assert raw_m[0] < 0.8 and raw_m[1] > 0.85  # the bias being corrected
    assert fixed_m[0] == pytest.approx(0.9, abs=0.015)
    assert fixed_m[1] == pytest.approx(0.7, abs=0.03)
    assert fixed_m[2] == pytest.approx(true_kappa, abs=0.03)


def test_weighted_figures_match_sklearn_sample_weight() -> None:
    rng = np.random.default_rng(3)
    h = rng.random(120) < 0.6
    j = np.where(rng.random(120) < 0.8, h, ~h)
    w = rng.choice([0.5, 1.0, 3.0], size=120)
    s = weighted_summary(list(h), list(j), list(w), scale="binary", n_boot=300)
    (tn, fp), (fn, tp) = confusion_matrix(h, j, sample_weight=w)
    assert s.tpr.estimate == pytest.approx(tp / (tp + fn))  # type: ignore[union-attr]
    assert s.tnr.estimate == pytest.approx(tn / (tn + fp))  # type: ignore[union-attr]
    assert s.agreement == pytest.approx((tp + tn) / w.sum())
    assert s.kappa == pytest.approx(cohen_kappa_score(h, j, sample_weight=w))
    assert s.kappa_interval is not None and s.kappa_interval.low < s.kappa < s.kappa_interval.high
    assert s.confusion.n == 120  # raw label counts are kept for the "enough labels" test
    hs = rng.integers(1, 6, 80)
    js = np.clip(hs + rng.integers(-1, 2, 80), 1, 5)
    wl = rng.choice([1.0, 2.0], size=80)
    sl = weighted_summary(list(hs), list(js), list(wl), scale="likert-5", n_boot=100)
    expected = cohen_kappa_score(
        hs, js, weights="quadratic", sample_weight=wl, labels=[1, 2, 3, 4, 5]
    )
    assert sl.weighted_kappa == pytest.approx(expected)


def test_equal_weights_are_exactly_the_plain_summary() -> None:
    human = ["pass", "fail", "pass", "pass", "fail", "fail", "pass"]
    judge = ["pass", "fail", "fail", "pass", "pass", "fail", "pass"]
    plain = calibration_summary(human, judge)
    assert weighted_summary(human, judge, [1.0] * 7, scale="binary") == plain


def test_unsized_or_unstratified_labels_weigh_one() -> None:
    labels = [
        Label(case_id="a", output="x", label="pass"),
        Label(case_id="b", output="y", label="pass", sampling=Sampling(mode="stratified")),
    ]
    weights, notes = sampling_weights(labels)
    assert weights == [1.0, 1.0]
    assert "without stratum sizes" in notes[0]


def _stratified_labels(k_p: int, n_p: int, k_f: int, n_f: int) -> tuple[list, list, list, list]:
    """Labels drawn from a run of 780 judge passes and 220 judge fails: ``k_s`` human passes
    among the ``n_s`` labels of each stratum; (human, judge, weights, strata)."""
    labels = [
        Label(
            case_id=f"c{stratum}{i}",
            output=f"o{stratum}{i}",
            label="pass" if i < k else "fail",
            run_id="r",
            sampling=Sampling(mode="stratified", stratum=stratum, stratum_size=size),
        )
        for stratum, k, n, size in (("pass", k_p, n_p, 780), ("fail", k_f, n_f, 220))
        for i in range(n)
    ]
    weights, _ = sampling_weights(labels)
    judge = [lab.sampling.stratum for lab in labels]
    return [lab.label for lab in labels], judge, weights, sampling_strata(labels)


def test_inclusion_weights_are_outputs_per_label() -> None:
    """Stratum size / labels drawn from it (Horvitz–Thompson); 1 for a random label; the
    sampling weights are the same normalised per run."""
    labels = [
        Label(
            case_id=f"c{i}", output=f"o{i}", label="pass", run_id="r",
            sampling=Sampling(mode="stratified", stratum=st, stratum_size=size),
        )
        for i, (st, size) in enumerate([("pass", 780)] * 3 + [("fail", 220)] * 2)
    ] + [Label(case_id="x", output="ox", label="fail")]  # fmt: skip
    raw = inclusion_weights(labels)
    assert raw == pytest.approx([260, 260, 260, 110, 110, 1])
    weights, _ = sampling_weights(labels)
    assert weights == pytest.approx([w * 5 / 1000 for w in raw[:5]] + [1.0])


def _tpr_n_by_hand(k_p: int, n_p: int, k_f: int, n_f: int) -> tuple[float, float, float]:
    """TPR's effective size for :func:`_stratified_labels` by hand: (the design's, the first
    phase's class size, both phases). The design: shares b_s over m_s = n_s + 2 labels (one
    pseudo human pass and fail per stratum) at weight ∝ N_s/n_s, the delta method, shrunk by
    (z/t)² on Satterthwaite's degrees of freedom; the first phase: the human passes in the
    run, N_pass = Σ N_s·k_s/n_s; together 1/n = 1/n_design + 1/N_pass."""
    m_p, m_f = n_p + 2, n_f + 2
    b_p, b_f = (k_p + 1) / m_p, (k_f + 1) / m_f
    a_p, a_f = 780 / n_p * m_p, 220 / n_f * m_f
    d = a_p * b_p + a_f * b_f
    r = a_p * b_p / d
    var_p = (a_p * a_f * b_f / d**2) ** 2 * b_p * (1 - b_p) / (m_p - 1)
    var_f = (a_p * b_p * a_f / d**2) ** 2 * b_f * (1 - b_f) / (m_f - 1)
    design = r * (1 - r) / (var_p + var_f) * (m_p + m_f) / (m_p + m_f - 1)
    # Satterthwaite: the degrees of freedom of a sum of the strata's variance estimates
    df = (var_p + var_f) ** 2 / (var_p**2 / (m_p - 1) + var_f**2 / (m_f - 1))
    z, t = stats.norm.ppf(0.975), stats.t.ppf(0.975, df)
    design *= (z / t) ** 2
    class_size = 780 * k_p / n_p + 220 * k_f / n_f
    return design, class_size, 1 / (1 / design + 1 / class_size)


def test_stratified_intervals_use_the_design_not_kish() -> None:
    human, judge, weights, strata = _stratified_labels(46, 50, 15, 40)
    labels_inclusion = [780 / 50] * 50 + [220 / 40] * 40
    s = weighted_summary(
        human, judge, weights, strata=strata, inclusion=labels_inclusion, scale="binary",
        n_boot=100,
    )  # fmt: skip
    assert s.tpr is not None
    # TPR = 780·a_P / (780·a_P + 220·a_F) with a_s the human-pass share of stratum s
    assert s.tpr.estimate == pytest.approx(780 * 46 / 50 / (780 * 46 / 50 + 220 * 15 / 40))
    w = np.array(weights)
    h = np.array([x == "pass" for x in human])
    kish = w[h].sum() ** 2 / (w[h] ** 2).sum()  # the effective size used before
    design, class_size, both = _tpr_n_by_hand(46, 50, 15, 40)
    # the strata pin TPR down (the verdict counts are known); the run's own 800 human passes
    # are a sample of the judge's outputs too
    assert s.tpr.n == round(both) and kish < both < min(design, class_size)
    n = s.tpr.n  # the interval is Wilson's at the unrounded size; n is stored rounded
    wilson = proportion_confint(s.tpr.estimate * both, both, alpha=0.05, method="wilson")
    assert (s.tpr.interval.low, s.tpr.interval.high) == pytest.approx(wilson, abs=1e-9)
    assert abs(n - both) <= 0.5
    assert s.rates_correlation is not None and s.rates_correlation > 0.1
    assert calibration_summary(human, judge, n_boot=10).rates_correlation is None
    # without inclusion weights the labels stand for no more than themselves: wider
    alone = weighted_summary(human, judge, weights, strata=strata, scale="binary", n_boot=10)
    assert alone.tpr is not None and alone.tpr.n < s.tpr.n


def test_a_stratum_where_every_label_agrees_still_has_variance() -> None:
    """No human pass among 40 judge fails: TPR's estimate is 1 and its linearised variance 0,
    yet the fail stratum (220 of 1000 outputs) could hold a few human passes. Each stratum gets
    one pseudo human pass and one pseudo human fail (Agresti–Coull's +1/+1) for the variance."""
    human, judge, weights, strata = _stratified_labels(46, 50, 0, 40)
    inclusion = [780 / 50] * 50 + [220 / 40] * 40
    s = weighted_summary(
        human, judge, weights, strata=strata, inclusion=inclusion, scale="binary", n_boot=100
    )
    assert s.tpr is not None and s.tpr.estimate == 1.0
    design, _, both = _tpr_n_by_hand(46, 50, 0, 40)
    assert design > 46 and s.tpr.n == round(both)
    # the rule of three allows up to 3/40 human passes in the fail stratum: TPR ≥ 0.9775
    assert s.tpr.interval.low < 780 * 0.92 / (780 * 0.92 + 220 * 3 / 40)


def test_stratified_summary_counts_its_labels_per_judge_verdict() -> None:
    """The correction's minimum counts stratified labels per judge verdict (the design fixes
    them): 20 of each verdict with only 14 human passes among them still gives a figure, where
    a human-class count would have withheld it (and shown it only in the calibrations that
    happened to draw more human passes, which covered 78%)."""
    human, judge, weights, strata = _stratified_labels(13, 20, 1, 20)
    s = weighted_summary(human, judge, weights, strata=strata, scale="binary", n_boot=50)
    assert s.labels_per_verdict == {"pass": 20, "fail": 20}
    assert s.n_pass == 14 < 20
    verdicts = [True] * 80 + [False] * 20  # like the calibration run's 78% (TNR is 0.43)
    r = corrected_pass_rate(verdicts, s)
    assert r.interval is not None and r.reason is None
    human, judge, weights, strata = _stratified_labels(13, 19, 1, 21)
    few = weighted_summary(human, judge, weights, strata=strata, scale="binary", n_boot=50)
    withheld = corrected_pass_rate(verdicts, few)
    assert withheld.interval is None and withheld.reason is not None
    assert "19 the judge passed" in withheld.reason and "per judge verdict" in withheld.reason
    # labels drawn at random keep the rule per human class
    plain = calibration_summary(human, judge, n_boot=10)
    assert plain.labels_per_verdict is None
    assert "per class" in (corrected_pass_rate(verdicts, plain).reason or "")
