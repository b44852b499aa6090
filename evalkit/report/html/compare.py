"""The data of a comparison page: verdict, forest plot, changed cases side by side.

Every figure is a field of :class:`evalkit.analysis.compare.Comparison` formatted by the same
functions the markdown and the terminal use (:mod:`evalkit.report.compare_md`), so the page can
never show a different number or interval than the PR comment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evalkit.analysis.compare import Comparison, MetricComparison
from evalkit.analysis.gate import GateResult
from evalkit.model.record import CaseRecord
from evalkit.report.compare_md import (
    metric_figures,
    overall_figures,
    pct,
    pts,
    resource,
    verdict_text,
)
from evalkit.report.html.page import gc_paused, render_page, shown
from evalkit.report.html.run import Texts, record_data
from evalkit.storage.lazyrun import records_of
from evalkit.storage.store import StoredRun

if TYPE_CHECKING:
    from evalkit.grading.judge.pairwise import PairwiseResult

#: changed cases shown with both outputs; the rest are listed by id (bounds the file's size)
MAX_SIDE_BY_SIDE = 2000
#: the order changed cases are shown in: what broke first
STATUS_ORDER = (
    "regressed",
    "newly erroring",
    "now failing",
    "fixed",
    "recovered",
    "still failing",
    "still erroring",
)


def _metric(m: MetricComparison) -> dict[str, Any]:
    name = "overall" if m.kind == "overall" else f"{m.kind} {m.name}"
    return {
        "label": name,
        "kind": m.kind,
        "diff": m.diff,
        "lo": m.ci_low,
        "hi": m.ci_high,
        "verdict": m.verdict,
        "texts": [*metric_figures(m), verdict_text(m)],
    }


def _headline(c: Comparison, gate: GateResult | None) -> tuple[str, str]:
    """The verdict line and its tone (bad, good, neutral): the first thing on the page."""
    o = c.overall
    if gate is not None:
        if gate.passed:
            return f"gate passed ({o.verdict})", "good"
        return f"gate failed ({gate.failures[0].rule}): {o.verdict}", "bad"
    tone = {"regressed": "bad", "improved": "good"}.get(o.verdict, "neutral")
    return o.verdict, tone


def _side(records: list[CaseRecord], texts: Texts) -> list[dict[str, Any]]:
    return [record_data(r, texts) for r in sorted(records, key=lambda r: r.repeat)]


def _pairwise_lines(pairwise: PairwiseResult) -> list[str]:
    from evalkit.report.pairwise import pairwise_summary_lines

    return pairwise_summary_lines(pairwise)


def compare_page_data(
    c: Comparison,
    base: StoredRun,
    head: StoredRun,
    gate: GateResult | None = None,
    pairwise: PairwiseResult | None = None,
) -> dict[str, Any]:
    """Everything the comparison page shows (not yet made safe: see :func:`compare_html`)."""
    o = c.overall
    verdict, tone = _headline(c, gate)
    texts = Texts()
    rank = {s: i for i, s in enumerate(STATUS_ORDER)}
    changed = sorted(c.cases, key=lambda x: rank.get(x.status, len(rank)))
    # only the records shown side by side are read whole
    shown_ids = [change.case_id for change in changed[:MAX_SIDE_BY_SIDE]]
    by_base, by_head = records_of(base, shown_ids), records_of(head, shown_ids)
    cases = []
    for i, change in enumerate(changed):
        item: dict[str, Any] = {
            "id": change.case_id,
            "status": change.status,
            "tags": change.tags,
            "rates": [pct(change.base_rate), pct(change.head_rate)],
            "counts": [list(change.base_counts), list(change.head_counts)],
            "reasons": change.reasons,
        }
        if i < MAX_SIDE_BY_SIDE:
            item["base"] = _side(by_base.get(change.case_id, []), texts)
            item["head"] = _side(by_head.get(change.case_id, []), texts)
        cases.append(item)
    suite = c.head.suite
    return {
        "title": f"evalkit compare · {suite}: {verdict}",
        "verdict": verdict,
        "tone": tone,
        "summary": f"pass rate {pct(o.base_rate)} → {pct(o.head_rate)} ({pts(o.diff)} pts) on the "
        f"{o.n} cases graded in both runs" + overall_figures(o),
        "alone": f"head alone {pct(c.head.pass_rate)} over all its graded cases; base alone "
        f"{pct(c.base.pass_rate)}",
        "runs": [
            [side, s.run_id, s.prompt_version, s.prompt_label or "", s.model]
            for side, s in (("base", c.base), ("head", c.head))
        ],
        "gate": None
        if gate is None
        else [[r.rule, "pass" if r.passed else "FAIL", r.message] for r in gate.rules],
        # the head run's own grader warnings first, as the terminal and summary.md show them
        "warnings": [*(f"head run: {w}" for w in c.head.warnings), *c.warnings],
        "metrics": [_metric(m) for m in c.metrics()],
        "tags": [_metric(m) for m in c.tags],
        "status_counts": [[k, v] for k, v in c.status_counts.items() if v],
        "added": c.added,
        "removed": c.removed,
        "resources": [
            [
                r.name,
                resource(r.base, r.unit),
                resource(r.head, r.unit),
                resource(r.diff, r.unit, sign=True),
            ]
            for r in c.resources
        ],
        "pairwise": None if pairwise is None else _pairwise_lines(pairwise),
        "cases": cases,
        "side_by_side_limit": MAX_SIDE_BY_SIDE,
        "texts": texts.items,
    }


def compare_html(
    c: Comparison,
    base: StoredRun,
    head: StoredRun,
    gate: GateResult | None = None,
    pairwise: PairwiseResult | None = None,
) -> str:
    """The comparison as one self-contained HTML file (with the pairwise judge's figures when
    one was asked for)."""
    with gc_paused():
        data = shown(compare_page_data(c, base, head, gate, pairwise))
        return render_page("compare", data["title"], data)
