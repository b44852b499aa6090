"""What a comparison of two runs says: each metric's paired test and verdict, the cases that
changed, the run-level deltas. ``Comparison.model_dump()`` is ``evalkit compare --json``; the
figures are computed in :mod:`evalkit.analysis.compare`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from evalkit.analysis.rundata import CaseStatus, RunSummary

Verdict = Literal[
    "improved",
    "regressed",
    "unchanged",
    "no significant change",
    "inconclusive, underpowered",
    "insufficient data",
    "no data",
]
MetricKind = Literal["overall", "check", "judge", "tag"]
Unit = Literal["rate", "usd", "tokens", "ms"]


class MetricComparison(BaseModel):
    """One metric's pass rates in both runs over the paired cases, and the one paired test."""

    kind: MetricKind
    name: str
    n: int = Field(description="pairs graded on both sides")
    n_excluded: int = Field(description="pairs with an error (or no result) on either side")
    base_rate: float | None
    head_rate: float | None
    diff: float | None = Field(description="mean per-case difference, head minus base")
    se: float | None
    ci_low: float | None
    ci_high: float | None
    ci_level: float | None = Field(
        description="confidence of the interval: 1 - alpha, or 1 - the row's Holm step level "
        "when adjusted (at least 1 - alpha; not a simultaneous band for the family)"
    )
    adjusted: bool = Field(description="p_adjusted and the interval are Holm-adjusted")
    base_better: int = Field(description="cases where base passed more often")
    head_better: int = Field(description="cases where head passed more often")
    p_value: float | None = Field(description="unadjusted; None when no test is valid")
    p_adjusted: float | None = Field(description="Holm-adjusted within its family")
    mde: float | None = Field(description="minimum detectable effect at the interval's level")
    cases_needed: int | None = Field(description="paired cases needed to detect |diff|")
    significant: bool
    verdict: Verdict
    ci_note: str | None = Field(
        default=None, description="why no interval or p-value is shown (None when one is)"
    )

    @property
    def p(self) -> float | None:
        """The p-value the verdict rests on (adjusted where the metric is in a family)."""
        return self.p_adjusted if self.adjusted else self.p_value


class CaseChange(BaseModel):
    """A matched case whose status is anything but passing in both runs."""

    case_id: str
    status: CaseStatus
    base_rate: float | None
    head_rate: float | None
    base_counts: tuple[int, int] = Field(description="(passed, graded) repeats in base")
    head_counts: tuple[int, int] = Field(description="(passed, graded) repeats in head")
    tags: list[str] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list, description="why head failed or errored")


class ResourceDelta(BaseModel):
    """Head minus base of a run-level figure (cost, tokens, latency, error rate)."""

    name: str
    unit: Unit
    base: float | None
    head: float | None
    diff: float | None


class Comparison(BaseModel):
    """Everything ``evalkit compare`` knows; ``model_dump()`` is the JSON output."""

    base: RunSummary
    head: RunSummary
    n_matched: int
    added: list[str]
    removed: list[str]
    status_counts: dict[str, int]
    cases: list[CaseChange]
    overall: MetricComparison
    checks: list[MetricComparison]
    judges: list[MetricComparison]
    tags: list[MetricComparison]
    resources: list[ResourceDelta]
    warnings: list[str]
    cluster_key: str | None
    n_clusters: int
    min_pairs: int
    alpha: float

    @property
    def regressed(self) -> list[CaseChange]:
        return [c for c in self.cases if c.status == "regressed"]

    def metrics(self) -> list[MetricComparison]:
        return [self.overall, *self.checks, *self.judges]
