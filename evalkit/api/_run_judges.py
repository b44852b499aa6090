"""A run's judges: built to share the run's cache, prices and retry policy, and their versions
and warnings (self-preference, unpriced models) noted in its manifest."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from evalkit.execution.cache import ResponseCache
from evalkit.grading.answer import Grader
from evalkit.model.config import LoadedSuite
from evalkit.model.pricing import PriceTable, unpriced_warning
from evalkit.model.provider import TargetSpec
from evalkit.model.retry import RetryPolicy

if TYPE_CHECKING:
    from evalkit.grading.judge import JudgeDef


def build_run_judges(
    suite: LoadedSuite,
    target_override: Callable[[JudgeDef], TargetSpec] | None,
    cache: ResponseCache,
    prices: PriceTable,
    policy: RetryPolicy,
    manifest: dict[str, Any],
) -> list[Grader]:
    """The suite's judges, sharing the run's cache, prices and retry policy."""
    if not suite.judges:
        return []
    from evalkit.grading.judge import build_judges, self_preference_warning

    judges = build_judges(
        suite.judges,
        project=suite.project,
        cache=cache,
        prices=prices,
        policy=policy,
        target_override=target_override,
    )
    manifest["judge_versions"] = {j.name: j.version for j in judges}
    warning = self_preference_warning(suite.target, suite.judges)
    if warning:
        manifest.setdefault("warnings", []).append(warning)
        print(f"warning: {warning}", file=sys.stderr)
    return list(judges)


def note_judges_and_prices(
    manifest: dict[str, Any], graders: list[Grader], prices: PriceTable
) -> None:
    """At the end of a run: judge versions of the output modes ``auto`` settled on, and one
    warning naming the models without a price (their cost is unknown, not $0)."""
    if graders:
        manifest["judge_versions"] = {g.name: g.version for g in graders}
    warning = unpriced_warning(prices.unpriced())
    if warning:
        manifest.setdefault("warnings", []).append(warning)
        print(f"warning: {warning}", file=sys.stderr)
