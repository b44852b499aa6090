"""The gate: turn a comparison (or a lone run) into pass/fail with the reason and the margin.

Embedded in ``evalkit.yaml`` as ``suites.<name>.gate``::

    gate:
      min_pass_rate: 0.85            # head pass rate over graded cases
      max_error_rate: 0.05           # share of outputs that could not be graded: the provider
                                     # failed, or a check or judge errored and none failed it
      min_tag_pass_rate: {refunds: 0.9}
      max_judge_error_rate: 0.02     # per judge: verdicts that could not be obtained
      max_check_error_rate: 0        # per check: outputs it could not grade (it raised)
      max_truncated_rate: 0.0        # outputs cut off at the token limit
      fail_on: significant-regression   # | any-regression | none

``significant-regression`` fails when the overall pass rate, or any check or judge after Holm's
correction, is significantly worse than the baseline (the comparison's verdict "regressed": its
interval lies below 0); ``any-regression`` fails when any single case passed less often than in
the base (pass → fail, or 3/3 → 2/3 with repeats). Without a baseline only the thresholds apply,
so the first CI run of a new suite is still gated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel

from evalkit.analysis.rundata import RunSummary, summarize_run
from evalkit.base.exceptions import GateFailed
from evalkit.base.format import pct as _pct
from evalkit.model.gate import FailOn, Gate
from evalkit.storage.store import StoredRun

if TYPE_CHECKING:  # at run time only its instances are needed: keeps scipy out of config loading
    from evalkit.analysis.compare import CaseChange, Comparison

_SHOW_CASES = 5


class RuleResult(BaseModel):
    """One rule's outcome; ``margin`` is how far inside (+) or outside (-) the threshold."""

    rule: str
    passed: bool
    actual: float | None = None
    threshold: float | None = None
    margin: float | None = None
    message: str


class GateResult(BaseModel):
    passed: bool
    rules: list[RuleResult]

    @property
    def failures(self) -> list[RuleResult]:
        return [r for r in self.rules if not r.passed]

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else GateFailed.exit_code

    def raise_if_failed(self) -> None:
        if not self.passed:
            raise GateFailed("; ".join(r.message for r in self.failures))


def _pts(x: float) -> str:
    return f"{100 * abs(x):.1f} pts"


def _minimum(
    rule: str, what: str, actual: float | None, threshold: float, over: str = ""
) -> RuleResult:
    if actual is None:
        return RuleResult(
            rule=rule,
            passed=False,
            threshold=threshold,
            message=f"{what}: no graded cases (minimum {_pct(threshold)})",
        )
    margin = actual - threshold
    ok = margin >= 0
    how = "above" if ok else "below"
    return RuleResult(
        rule=rule,
        passed=ok,
        actual=actual,
        threshold=threshold,
        margin=margin,
        message=f"{what} {_pct(actual)}{over} is {_pts(margin)} {how} the minimum "
        f"{_pct(threshold)}",
    )


def _maximum(rule: str, what: str, actual: float, threshold: float, detail: str = "") -> RuleResult:
    margin = threshold - actual
    ok = margin >= 0
    how = "under" if ok else "over"
    return RuleResult(
        rule=rule,
        passed=ok,
        actual=actual,
        threshold=threshold,
        margin=margin,
        message=f"{what} {_pct(actual)}{detail} is {_pts(margin)} {how} the maximum "
        f"{_pct(threshold)}",
    )


def _error_detail(head: RunSummary) -> str:
    """`` (3 of 40 outputs could not be graded: 1 provider, 2 judge)``: the error rate counts
    grader errors as the headline does (:func:`evalkit.analysis.caserates.error_source`)."""
    total = sum(head.n_errors.values())
    if not total:
        return ""
    sources = ", ".join(f"{n} {source}" for source, n in head.n_errors.items())
    return f" ({total} of {head.n_records} outputs could not be graded: {sources})"


def _thresholds(head: RunSummary, gate: Gate) -> list[RuleResult]:
    rules: list[RuleResult] = []
    if gate.min_pass_rate is not None:
        over = f" over {head.n_graded_cases} graded cases" if head.n_graded_cases else ""
        rules.append(
            _minimum("min_pass_rate", "pass rate", head.pass_rate, gate.min_pass_rate, over)
        )
    if gate.max_error_rate is not None:
        rules.append(
            _maximum(
                "max_error_rate",
                "error rate",
                head.error_rate,
                gate.max_error_rate,
                _error_detail(head),
            )
        )
    if gate.max_truncated_rate is not None:
        rules.append(
            _maximum(
                "max_truncated_rate", "truncated rate", head.truncated_rate, gate.max_truncated_rate
            )
        )
    for kind, limit, grader_rates in (
        ("check", gate.max_check_error_rate, head.check_error_rates),
        ("judge", gate.max_judge_error_rate, head.judge_error_rates),
    ):
        if limit is not None:
            rules += [
                _maximum(
                    f"max_{kind}_error_rate.{name}", f"{kind} {name!r} error rate", rate, limit
                )
                for name, rate in grader_rates.items()
            ]
    for tag, minimum in sorted(gate.min_tag_pass_rate.items()):
        rules.append(
            _minimum(
                f"min_tag_pass_rate.{tag}",
                f"tag {tag!r} pass rate",
                head.tag_pass_rates.get(tag),
                minimum,
            )
        )
    return rules


def _case_change(c: CaseChange) -> str:
    """``c07 (pass → fail)`` for single samples, ``c07 (3/3 → 2/3 passed)`` with repeats."""
    (bp, bn), (hp, hn) = c.base_counts, c.head_counts
    if (bp, bn, hp, hn) == (1, 1, 0, 1):
        return f"{c.case_id} (pass → fail)"
    return f"{c.case_id} ({bp}/{bn} → {hp}/{hn} passed)"


def _regression_rule(comparison: Comparison | None, fail_on: FailOn) -> RuleResult | None:
    if fail_on == "none":
        return None
    rule = f"fail_on: {fail_on}"
    if comparison is None:
        return RuleResult(rule=rule, passed=True, message="no baseline: regression rule skipped")
    if fail_on == "any-regression":
        regressed = comparison.regressed
        shown = ", ".join(_case_change(c) for c in regressed[:_SHOW_CASES])
        shown += " …" if len(regressed) > _SHOW_CASES else ""
        return RuleResult(
            rule=rule,
            passed=not regressed,
            actual=float(len(regressed)),
            threshold=0.0,
            margin=-float(len(regressed)),
            message=f"{len(regressed)} case(s) passed less often than in the base: {shown}"
            if regressed
            else "no case regressed",
        )
    worse = [m for m in comparison.metrics() if m.verdict == "regressed"]
    if not worse:
        return RuleResult(
            rule=rule,
            passed=True,
            actual=comparison.overall.diff,
            message="no significant regression",
        )
    parts = []
    for m in worse:
        label = "overall pass rate" if m.kind == "overall" else f"{m.kind} {m.name!r}"
        p = f"Holm-adjusted p = {m.p_adjusted:.3g}" if m.adjusted else f"p = {m.p_value:.3g}"
        parts.append(
            f"{label} down {_pts(m.diff or 0.0)} ({_pct(m.base_rate)} → {_pct(m.head_rate)}, {p})"
        )
    return RuleResult(
        rule=rule,
        passed=False,
        actual=worse[0].diff,
        threshold=0.0,
        margin=worse[0].diff,
        message="significant regression: " + "; ".join(parts),
    )


def _no_cases(head: RunSummary) -> list[RuleResult]:
    """A run of zero cases tells nothing: the gate fails rather than pass on nothing."""
    if head.n_cases > 0:
        return []
    message = "the run has no cases: a gate never passes on zero cases"
    return [RuleResult(rule="cases", passed=False, actual=0.0, message=message)]


def evaluate_gate(subject: Comparison | RunSummary | StoredRun, gate: Gate) -> GateResult:
    """Apply every rule of ``gate``; thresholds look at the head run (or the lone run)."""
    comparison: Comparison | None = None
    if isinstance(subject, RunSummary):
        head = subject
    elif isinstance(subject, StoredRun):
        head = summarize_run(subject)
    else:
        comparison, head = subject, subject.head
    rules = [*_no_cases(head), *_thresholds(head, gate)]
    regression = _regression_rule(comparison, gate.fail_on)
    if regression is not None:
        rules.append(regression)
    return GateResult(passed=all(r.passed for r in rules), rules=rules)
