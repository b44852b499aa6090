"""compare_runs on hand-written runs: statuses, the one paired test, Holm families, verdicts,
warnings, repeats, errors, clusters. Figures are checked against statsmodels/scipy."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from statsmodels.regression.linear_model import OLS
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.weightstats import DescrStatsW

from evalkit.analysis.compare import Comparison, cluster_of, compare_runs, summarize_run
from evalkit.analysis.stats import paired
from evalkit.analysis.synthetic import example_pair, random_records, write_run
from evalkit.model.outcome import CheckResult, Outcome
from evalkit.model.record import CaseRecord, JudgeVerdict
from evalkit.storage.store import load_run


def _rec(cid: str, outcome: str, repeat: int = 0, **kw: object) -> CaseRecord:
    checks = [CheckResult(name="c", outcome=Outcome(outcome))] if outcome != "error" else []
    return CaseRecord(case_id=cid, repeat=repeat, outcome=Outcome(outcome), checks=checks, **kw)


def _graded(cid: str, checks: dict[str, bool], judges: dict[str, bool | None]) -> CaseRecord:
    """A record with named checks and judges (``None``: the judge errored)."""

    def o(ok: bool | None) -> Outcome:
        return Outcome.ERROR if ok is None else Outcome.PASS if ok else Outcome.FAIL

    ok = all(checks.values()) and all(v is not False for v in judges.values())
    return CaseRecord(
        case_id=cid,
        outcome=Outcome.PASS if ok else Outcome.FAIL,
        tags=[f"t{int(cid[1:]) % 3}"],
        checks=[CheckResult(name=k, outcome=o(v)) for k, v in checks.items()],
        judges=[JudgeVerdict(name=k, version="v", outcome=o(v)) for k, v in judges.items()],
    )


def _compare(tmp_path: Path, base: list[CaseRecord], head: list[CaseRecord], **kw: object):
    b = load_run(write_run(tmp_path, base, run_id="b"))
    h = load_run(write_run(tmp_path, head, run_id="h"))
    return compare_runs(b, h, **kw)  # type: ignore[arg-type]


def _reference(d: np.ndarray, alpha: float = 0.05) -> tuple[float, tuple[float, float]]:
    """p and interval of the data plus Agresti–Min pseudo-pairs, by statsmodels."""
    ref = DescrStatsW(np.r_[d, 1.0, -1.0, 0.0], weights=np.r_[np.ones(d.size), 0.5, 0.5, 1.0])
    return float(ref.ttest_mean(0)[1]), tuple(ref.tconfint_mean(alpha))


def _assert_consistent(c: Comparison) -> None:
    """Interval, p-value, verdict and power never disagree, for every metric shown."""
    for m in [*c.metrics(), *c.tags]:
        if m.verdict in ("no data", "insufficient data"):
            assert m.ci_low is None and m.p_value is None and not m.significant
            continue
        if m.base_better + m.head_better < paired.MIN_CHANGED:  # too few changes: no figures
            assert m.ci_low is None and m.p_value is None and m.p_adjusted is None
            assert not m.significant and m.ci_note and "cases changed" in m.ci_note
            assert m.verdict in ("unchanged", "inconclusive, underpowered", "no significant change")
            continue
        assert m.ci_low is not None and m.ci_high is not None and m.p is not None
        assert m.ci_high > m.ci_low  # never a zero-width interval
        excludes = m.ci_low > 0 or m.ci_high < 0
        assert excludes == m.significant == (m.p < c.alpha)
        assert m.significant == (m.verdict in ("regressed", "improved"))
        if m.verdict == "regressed":
            assert m.diff is not None and m.diff < 0 and m.ci_high < 0
        if m.verdict == "inconclusive, underpowered":
            assert not excludes and m.diff is not None and m.mde is not None
            assert 0 < abs(m.diff) < m.mde


def test_example_pair_statuses_and_warnings(tmp_path: Path) -> None:
    b, h = example_pair(tmp_path)
    c = compare_runs(load_run(b), load_run(h))
    assert c.added == ["c13"] and c.removed == ["c12"] and c.n_matched == 11
    by_id = {x.case_id: x.status for x in c.cases}
    assert by_id == {
        "c07": "regressed",
        "c08": "regressed",
        "c09": "fixed",
        "c10": "still failing",
        "c11": "newly erroring",
    }
    assert c.status_counts["unchanged"] == 6
    assert [x.case_id for x in c.regressed] == ["c07", "c08"]
    assert "expected 'refund' in output" in c.regressed[0].reasons[0]
    assert "30-day window" in c.regressed[1].reasons[0]
    assert any("judge 'grounded'" in w and "evalkit judge run-base" in w for w in c.warnings)
    o = c.overall
    assert (o.n, o.n_excluded) == (10, 1)  # c11 errored in head: excluded pairwise
    assert (o.base_rate, o.head_rate) == pytest.approx((0.8, 0.7))
    assert (o.base_better, o.head_better) == (2, 1)
    # 3 changed cases: no interval or p-value (they would rest on 3 changes), still a verdict
    assert (
        o.ci_low is None
        and o.p_value is None
        and o.ci_note
        == (
            "only 3 of 10 cases changed: an interval needs 5; on fewer it understates the "
            "uncertainty, and no test could call the change significant"
        )
    )
    assert o.verdict == "inconclusive, underpowered" and o.cases_needed and o.cases_needed > 10
    assert [m.name for m in c.checks] == ["contains", "max-length"]
    assert [m.name for m in c.judges] == ["grounded"]
    assert [m.name for m in c.tags] == ["refunds", "shipping"]
    assert all(m.verdict == "insufficient data" for m in c.tags)  # 5 paired cases each
    rows = {r.name: r for r in c.resources}
    assert rows["error rate"].diff == pytest.approx(1 / 12)
    assert rows["input tokens"].diff == -120
    _assert_consistent(c)
    c.model_dump_json()  # JSON form is serialisable (no NaN)


def _family_runs(tmp_path: Path, n: int = 120) -> Comparison:
    """Two checks and two judges; ``c-drop`` and ``j-drop`` get worse in head."""
    rng = np.random.default_rng(8)
    base, head = [], []
    for i in range(n):
        p = {"c-same": 0.9, "c-drop": 0.9, "j-same": 0.85, "j-drop": 0.9}
        q = {"c-same": 0.9, "c-drop": 0.75, "j-same": 0.85, "j-drop": 0.8}
        b = {k: bool(rng.random() < v) for k, v in p.items()}
        h = {k: bool(rng.random() < v) for k, v in q.items()}
        base.append(
            _graded(
                f"c{i}",
                {k: b[k] for k in p if k[0] == "c"},
                {"j-same": b["j-same"], "j-drop": b["j-drop"]},
            )
        )
        head.append(
            _graded(
                f"c{i}",
                {k: h[k] for k in q if k[0] == "c"},
                {"j-same": h["j-same"], "j-drop": h["j-drop"]},
            )
        )
    return _compare(tmp_path, base, head)


def test_holm_family_is_checks_and_judges_together(tmp_path: Path) -> None:
    c = _family_runs(tmp_path)
    family = [*c.checks, *c.judges]
    raw = [m.p_value for m in family]
    ref = multipletests(raw, method="holm")[1]
    np.testing.assert_allclose([m.p_adjusted for m in family], ref)
    assert not c.overall.adjusted and c.overall.p_adjusted is None
    levels = multipletests(raw, method="holm")[0]  # what Holm rejects
    for m, rejected in zip(family, levels, strict=True):
        assert m.adjusted and m.ci_level is not None and m.ci_level > 0.95
        assert m.significant == rejected
    assert {m.name for m in family if m.significant} == {"c-drop", "j-drop"}
    _assert_consistent(c)


def test_tags_are_their_own_holm_family(tmp_path: Path) -> None:
    c = _family_runs(tmp_path)
    raw = [m.p_value for m in c.tags]
    assert len(raw) == 3
    np.testing.assert_allclose([m.p_adjusted for m in c.tags], multipletests(raw, method="holm")[1])
    # not adjusted together with the checks and judges
    joint = multipletests(raw + [m.p_value for m in (*c.checks, *c.judges)], method="holm")[1]
    assert not np.allclose([m.p_adjusted for m in c.tags], joint[:3])


def test_mde_at_the_holm_level(tmp_path: Path) -> None:
    """The minimum detectable effect uses the row's Holm level, like its interval."""
    c = _family_runs(tmp_path)
    for m in [*c.checks, *c.judges, *c.tags]:
        assert m.ci_level is not None and m.mde is not None
        level = 1 - m.ci_level
        discordant = m.base_better + m.head_better  # binary: mean squared difference
        assert discordant >= 5
        z = stats.norm.ppf(1 - level / 2) + stats.norm.ppf(0.8)
        assert m.mde == pytest.approx(z * math.sqrt(discordant / m.n / m.n))
        if level < 0.05:  # adjusted: larger than the unadjusted MDE
            assert m.mde > (stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * math.sqrt(
                discordant / m.n / m.n
            )


def test_direction_and_significance_from_one_statistic(tmp_path: Path) -> None:
    """25 cases slip from 3/3 to 2/3, 8 go from 0/3 to 3/3: the mean barely moves, so this is
    not a regression, although a sign test (25 against 8, p = 0.005) would call it one."""
    base, head = [], []
    for i in range(33):
        slip = i < 25
        for r in range(3):
            base.append(_rec(f"c{i}", "pass" if slip else "fail", r))
            head.append(_rec(f"c{i}", "fail" if slip and r == 0 else "pass", r))
    c = _compare(tmp_path, base, head)
    o = c.overall
    assert (o.base_better, o.head_better) == (25, 8)
    assert stats.binomtest(25, 33).pvalue < 0.01  # what the old sign test said
    d = np.array([-1 / 3] * 25 + [1.0] * 8)
    p, ci = _reference(d)
    assert o.diff == pytest.approx(d.mean()) and o.p_value == pytest.approx(p)
    assert (o.ci_low, o.ci_high) == pytest.approx(ci)
    assert o.verdict != "regressed" and not o.significant
    _assert_consistent(c)


def test_repeats_are_averaged_per_case(tmp_path: Path) -> None:
    base = [_rec("a", "pass", r) for r in range(3)] + [_rec("b", "pass", r) for r in range(3)]
    head = [_rec("a", "pass", 0), _rec("a", "fail", 1), _rec("a", "error", 2)]
    head += [_rec("b", "pass", r) for r in range(3)]
    c = _compare(tmp_path, base, head)
    assert c.overall.head_rate == pytest.approx((0.5 + 1.0) / 2)  # a: 1 pass of 2 graded
    assert [(x.case_id, x.status, x.head_rate) for x in c.cases] == [("a", "regressed", 0.5)]
    assert c.cases[0].base_counts == (3, 3) and c.cases[0].head_counts == (1, 2)
    assert summarize_run(load_run(write_run(tmp_path, head, run_id="h2"))).error_rate == 1 / 6


def test_identical_runs_unchanged(tmp_path: Path) -> None:
    recs = random_records(50, 2, seed=3)
    b = load_run(write_run(tmp_path, recs, run_id="b"))
    c = compare_runs(b, b)
    o = c.overall
    assert o.diff == 0 and o.verdict == "unchanged"
    assert o.ci_low is None and o.ci_note and o.ci_note.startswith("only 0 of 50 cases changed")
    assert "base and head are the same run" in c.warnings


def test_rare_discordance_has_an_interval_of_positive_width(tmp_path: Path) -> None:
    """n = 30 with 5 discordant pairs, all one way: not a degenerate interval but
    Agresti–Min's, from statsmodels."""
    base = [_rec(f"c{i}", "pass") for i in range(30)]
    head = [_rec(f"c{i}", "fail" if i < 5 else "pass") for i in range(30)]
    o = _compare(tmp_path, base, head).overall
    p, ci = _reference(np.array([-1.0] * 5 + [0.0] * 25))
    assert (o.ci_low, o.ci_high) == pytest.approx(ci) and o.ci_high - o.ci_low > 0.1
    assert o.p_value == pytest.approx(p)


@pytest.mark.parametrize("changed", [1, 4])
def test_too_few_changed_cases_show_no_interval(tmp_path: Path, changed: int) -> None:
    """300 cases, a handful changed: the t interval would rest on those few changes (it
    covered 77% in simulation), so none is shown and the metric is never significant."""
    base = [_rec(f"c{i}", "pass") for i in range(300)]
    head = [_rec(f"c{i}", "fail" if i < changed else "pass") for i in range(300)]
    c = _compare(tmp_path, base, head)
    o = c.overall
    assert o.ci_low is None and o.p_value is None and not o.significant
    assert o.verdict == "inconclusive, underpowered" and o.mde is not None
    assert o.ci_note is not None and o.ci_note.startswith(f"only {changed} of 300 cases changed")
    # the exact sign test agrees that so few changes cannot be significant
    assert stats.binomtest(changed, changed).pvalue > 0.05
    _assert_consistent(c)


def test_one_paired_case_is_insufficient_data(tmp_path: Path) -> None:
    c = _compare(tmp_path, [_rec("a", "pass")], [_rec("a", "pass")])
    o = c.overall
    assert o.n == 1 and o.verdict == "insufficient data"
    assert o.ci_low is None and o.p_value is None and o.mde is None
    assert any("only 1 paired cases" in w for w in c.warnings)


def test_minimum_pairs_boundary(tmp_path: Path) -> None:
    def run(n: int) -> str:
        recs = [_rec(f"c{i}", "pass") for i in range(n)]
        return _compare(tmp_path / str(n), recs, recs).overall.verdict

    assert run(paired.MIN_PAIRS - 1) == "insufficient data"
    assert run(paired.MIN_PAIRS) == "unchanged"


def test_error_then_fail_is_not_recovered(tmp_path: Path) -> None:
    base = [_rec("a", "error"), _rec("b", "error")] + [_rec(f"c{i}", "pass") for i in range(10)]
    head = [_rec("a", "fail"), _rec("b", "pass")] + [_rec(f"c{i}", "pass") for i in range(10)]
    c = _compare(tmp_path, base, head)
    by_id = {x.case_id: x for x in c.cases}
    assert by_id["a"].status == "now failing" and by_id["b"].status == "recovered"
    assert c.status_counts["now failing"] == 1 and c.status_counts["recovered"] == 1


def test_warns_when_a_judge_errored_on_most_cases(tmp_path: Path) -> None:
    base = [_graded(f"c{i}", {"k": True}, {"j": True}) for i in range(12)]
    head = [_graded(f"c{i}", {"k": True}, {"j": None if i < 7 else True}) for i in range(12)]
    c = _compare(tmp_path, base, head)
    assert any(
        "judge 'j' has no verdict on 7 of 12 shared cases in the head run" in w for w in c.warnings
    )
    assert c.judges[0].n == 5 and c.judges[0].verdict == "insufficient data"
    head_ok = [_graded(f"c{i}", {"k": True}, {"j": None if i < 6 else True}) for i in range(12)]
    assert not any("no verdict" in w for w in _compare(tmp_path / "x", base, head_ok).warnings)


def test_warns_when_the_runs_share_few_cases(tmp_path: Path) -> None:
    base = [_rec(f"c{i}", "pass") for i in range(30)]
    head = [_rec(f"c{i}", "pass") for i in range(12)] + [_rec(f"n{i}", "pass") for i in range(20)]
    c = _compare(tmp_path, base, head)
    assert "the runs share only 12 cases (base has 30, head 32)" in c.warnings


def test_golden_sha_warning_and_no_overlap(tmp_path: Path) -> None:
    b = write_run(tmp_path, [_rec("a", "pass")], run_id="b", golden_sha="x")
    h = write_run(tmp_path, [_rec("z", "pass")], run_id="h", golden_sha="y")
    c = compare_runs(load_run(b), load_run(h))
    assert any("golden sets differ" in w for w in c.warnings)
    assert any("no case ids in common" in w for w in c.warnings)
    assert c.overall.verdict == "no data" and c.overall.n == 0


def test_cluster_key_forms() -> None:
    rec = CaseRecord.model_validate(
        {
            "case_id": "a",
            "outcome": "pass",
            "tags": ["x", "doc:p3"],
            "vars": {"document": "policy-3"},
        }
    )
    assert cluster_of(rec, "tag:doc:") == "p3"
    assert cluster_of(rec, "vars.document") == "policy-3"
    assert cluster_of(rec, "vars.missing") is None
    assert cluster_of(rec, "tag:thread:") is None


def _clustered_runs(tmp_path: Path, docs: int, per_doc: int) -> tuple[list[CaseRecord], ...]:
    rng = np.random.default_rng(0)
    base, head = [], []
    for doc in range(docs):
        p_head = float(np.clip(0.6 + rng.normal(0, 0.35), 0, 1))
        for q in range(per_doc):
            cid, tags = f"d{doc}-q{q}", [f"doc:{doc}"]
            base.append(_rec(cid, "pass" if rng.random() < 0.75 else "fail", tags=tags))
            head.append(_rec(cid, "pass" if rng.random() < p_head else "fail", tags=tags))
    return base, head


def test_cluster_key_changes_the_p_value_cluster_robustly(tmp_path: Path) -> None:
    base, head = _clustered_runs(tmp_path, 24, 15)
    naive = _compare(tmp_path, base, head).overall
    c = _compare(tmp_path / "c", base, head, cluster_key="tag:doc:")
    o = c.overall
    assert c.n_clusters == 24
    # independent: statsmodels' cluster-robust OLS on the per-case differences (equal clusters:
    # CR1 = CR2), t with G - 1 degrees of freedom, centred at the Agresti–Min mean
    d = np.array(
        [
            (r2.outcome == "pass") - (r1.outcome == "pass")
            for r1, r2 in zip(base, head, strict=True)
        ],
        dtype=float,
    )
    groups = np.repeat(np.arange(24), 15)
    fit = OLS(d, np.ones(d.size)).fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    se = float(fit.bse[0])
    centre = d.sum() / (d.size + 2)
    assert o.se == pytest.approx(se)
    assert o.p_value == pytest.approx(2 * stats.t.sf(abs(centre) / se, 23))
    assert o.p_value > naive.p_value and (o.ci_high - o.ci_low) > 1.3 * (
        naive.ci_high - naive.ci_low
    )
    assert not any("clusters" in w for w in c.warnings)  # 24 clusters: no warning
    _assert_consistent(c)


def test_few_clusters_warn_and_too_few_give_no_verdict(tmp_path: Path) -> None:
    base, head = _clustered_runs(tmp_path, 8, 10)
    c = _compare(tmp_path, base, head, cluster_key="tag:doc:")
    assert any("only 8 clusters" in w and "small-sample correction" in w for w in c.warnings)
    assert c.overall.se is not None
    base, head = _clustered_runs(tmp_path, 3, 10)
    c = _compare(tmp_path / "few", base, head, cluster_key="tag:doc:")
    assert c.overall.verdict == "insufficient data" and c.overall.ci_low is None
    assert any("only 3 clusters" in w and "no verdict" in w for w in c.warnings)


def test_significant_regression_is_consistent(tmp_path: Path) -> None:
    b = write_run(tmp_path, random_records(400, 4, pass_prob=0.9, seed=1), run_id="b")
    h = write_run(tmp_path, random_records(400, 4, pass_prob=0.8, seed=2), run_id="h")
    c = compare_runs(load_run(b), load_run(h))
    assert c.overall.verdict == "regressed" and c.overall.significant
    assert c.overall.ci_high is not None and c.overall.ci_high < 0
    _assert_consistent(c)
