"""``scale: likert-5``: a 1–5 score; it passes at ``pass_threshold`` (default 4) or above.

Samples vote pass/fail (the decision the run reports), not on the exact score: two samples
scoring 4 and 5 agree. The recorded score is the lower median of the majority's scores.
"""

from __future__ import annotations

import statistics
from collections.abc import Hashable, Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from evalkit.grading.judge.scale.base import Scale
from evalkit.model.outcome import Outcome


class Verdict(BaseModel):
    """A 1–5 score; the reasoning comes first so the judge argues before deciding."""

    reasoning: str = Field(description="How well the output meets the rubric, and why.")
    score: int = Field(ge=1, le=5, description="1 (fails the rubric) to 5 (fully meets it).")


class Likert5Scale(Scale):
    name = "likert-5"
    verdict_model: ClassVar[type[BaseModel]] = Verdict
    verdict_field = "score"
    text_values = "an integer from 1 to 5"
    default_threshold = 4.0

    def instructions(self, threshold: float | None) -> str:
        return (
            "Answer with `reasoning` first, then `score`: an integer from 1 (does not meet the "
            "rubric at all) to 5 (fully meets it). Use the whole range."
        )

    def parse_example(self, raw: Any) -> int:
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            raise ValueError("a likert-5 verdict is an integer from 1 to 5")
        try:
            value = int(raw)
        except ValueError:
            raise ValueError("a likert-5 verdict is an integer from 1 to 5") from None
        if not 1 <= value <= 5:
            raise ValueError("a likert-5 verdict is an integer from 1 to 5")
        return value

    def check_threshold(self, threshold: float | None) -> float | None:
        if threshold is None:
            return self.default_threshold
        if not 1 <= threshold <= 5:
            raise ValueError("pass_threshold must be between 1 and 5")
        return float(threshold)

    def vote(self, value: Any, threshold: float | None) -> Hashable:
        return self.outcome(value, threshold)[0] is Outcome.PASS

    def merge(self, values: Sequence[Any]) -> Any:
        return statistics.median_low(values)

    def outcome(self, value: Any, threshold: float | None) -> tuple[Outcome, float | None]:
        limit = self.default_threshold if threshold is None else threshold
        passed = value >= (limit or 0)
        return (Outcome.PASS if passed else Outcome.FAIL), (float(value) - 1.0) / 4.0
