"""``scale: binary``: the output meets the rubric or it does not."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, Field

from evalkit.grading.judge.scale.base import Scale
from evalkit.model.outcome import Outcome

_TRUE = {"pass", "passed", "true", "yes"}
_FALSE = {"fail", "failed", "false", "no"}


class Verdict(BaseModel):
    """A pass/fail verdict; the reasoning comes first so the judge argues before deciding."""

    reasoning: str = Field(description="Why the output does or does not meet the rubric.")
    passed: bool = Field(description="true if the output meets the rubric, false otherwise.")


class BinaryScale(Scale):
    name = "binary"
    verdict_model: ClassVar[type[BaseModel]] = Verdict
    verdict_field = "passed"
    text_values = "pass or fail"

    def instructions(self, threshold: float | None) -> str:
        return (
            "Answer with `reasoning` first, then `passed`: true if the output meets the rubric, "
            "false if it does not."
        )

    def parse_example(self, raw: Any) -> bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError("a binary verdict is pass or fail")

    def format_value(self, value: Any) -> str:
        return "pass" if value else "fail"

    def outcome(self, value: Any, threshold: float | None) -> tuple[Outcome, float | None]:
        return (Outcome.PASS, 1.0) if value else (Outcome.FAIL, 0.0)
