"""compare_runs on hand-written runs: statuses, metrics, warnings, repeats, errors, clusters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests

from evalkit._synthetic import example_pair, random_records, write_run
from evalkit.compare import cluster_of, compare_runs, summarize_run
from evalkit.outcome import CheckResult, Outcome
from evalkit.record import CaseRecord
from evalkit.store import load_run


def _rec(cid: str, outcome: str, repeat: int = 0, **kw: object) -> CaseRecord:
    checks = [CheckResult(name="c", outcome=Outcome(outcome))] if outcome != "error" else []
    return CaseRecord(case_id=cid, repeat=repeat, outcome=Outcome(outcome), checks=checks, **kw)


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
    assert o.p_value == pytest.approx(mcnemar([[6, 2], [1, 1]], exact=True).pvalue)
    assert o.verdict == "inconclusive, underpowered" and o.cases_needed and o.cases_needed > 10
    assert [m.name for m in c.checks] == ["contains", "max-length"]
    assert [m.name for m in c.judges] == ["grounded"]
    assert [m.name for m in c.tags] == ["refunds", "shipping"]
    rows = {r.name: r for r in c.resources}
    assert rows["error rate"].diff == pytest.approx(1 / 12)
    assert rows["input tokens"].diff == -120
    c.model_dump_json()  # JSON form is serialisable (no NaN)


def test_holm_across_checks_and_judges(tmp_path: Path) -> None:
    b = write_run(tmp_path, random_records(400, 4, pass_prob=0.9, seed=1), run_id="b")
    h = write_run(tmp_path, random_records(400, 4, pass_prob=0.8, seed=2), run_id="h")
    c = compare_runs(load_run(b), load_run(h))
    ps = [m.p_value for m in c.checks]
    ref = multipletests(ps, method="holm")[1]
    np.testing.assert_allclose([m.p_adjusted for m in c.checks], ref)
    assert c.overall.verdict == "regressed" and c.overall.significant
    assert c.overall.boot_low is not None and c.overall.boot_high is not None
    assert c.overall.boot_low < c.overall.diff < c.overall.boot_high < 0


def test_repeats_are_averaged_per_case(tmp_path: Path) -> None:
    base = [_rec("a", "pass", r) for r in range(3)] + [_rec("b", "pass", r) for r in range(3)]
    head = [_rec("a", "pass", 0), _rec("a", "fail", 1), _rec("a", "error", 2)]
    head += [_rec("b", "pass", r) for r in range(3)]
    c = compare_runs(
        load_run(write_run(tmp_path, base, run_id="b")),
        load_run(write_run(tmp_path, head, run_id="h")),
    )
    assert c.overall.head_rate == pytest.approx((0.5 + 1.0) / 2)  # a: 1 pass of 2 graded
    assert [(x.case_id, x.status, x.head_rate) for x in c.cases] == [("a", "regressed", 0.5)]
    assert summarize_run(load_run(write_run(tmp_path, head, run_id="h2"))).error_rate == 1 / 6


def test_identical_runs_unchanged(tmp_path: Path) -> None:
    recs = random_records(50, 2, seed=3)
    b = load_run(write_run(tmp_path, recs, run_id="b"))
    c = compare_runs(b, b)
    assert c.overall.diff == 0 and c.overall.verdict == "unchanged"
    assert "base and head are the same run" in c.warnings


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


def test_cluster_bootstrap_wider_in_compare(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    base, head = [], []
    for doc in range(20):
        p_head = float(np.clip(0.75 + rng.normal(0, 0.35), 0, 1))
        for q in range(15):
            cid, tags = f"d{doc}-q{q}", [f"doc:{doc}"]
            base.append(_rec(cid, "pass" if rng.random() < 0.75 else "fail", tags=tags))
            head.append(_rec(cid, "pass" if rng.random() < p_head else "fail", tags=tags))
    b = load_run(write_run(tmp_path, base, run_id="b"))
    h = load_run(write_run(tmp_path, head, run_id="h"))
    naive = compare_runs(b, h).overall
    clustered = compare_runs(b, h, cluster_key="tag:doc:")
    o = clustered.overall
    assert clustered.n_clusters == 20
    assert (o.boot_high - o.boot_low) > 1.3 * (naive.boot_high - naive.boot_low)
