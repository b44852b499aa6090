"""``scale: pairwise``: which of two outputs (A or B) is better, or a tie.

A single pairwise verdict has no pass or fail: its outcome is *pass* when a verdict was
obtained, and the preference is the value (score 1 for A, 0 for B, 0.5 for a tie). Position
bias is handled one level up, in :mod:`evalkit.grading.judge.pairwise`, by judging both orders.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field

from evalkit.grading.judge.scale.base import Scale
from evalkit.model.outcome import Outcome

_SCORES = {"A": 1.0, "B": 0.0, "tie": 0.5}


class Verdict(BaseModel):
    """A preference; the reasoning comes first so the judge compares before deciding."""

    reasoning: str = Field(description="How the two outputs compare under the rubric.")
    verdict: Literal["A", "B", "tie"] = Field(
        description='"A" if output A is better, "B" if output B is better, "tie" if neither.'
    )


class PairwiseScale(Scale):
    name = "pairwise"
    verdict_model: ClassVar[type[BaseModel]] = Verdict
    verdict_field = "verdict"
    text_values = "A, B or tie"
    output_blocks = ("output_a", "output_b")

    def instructions(self, threshold: float | None) -> str:
        return (
            'Answer with `reasoning` first, then `verdict`: "A" if the output in <output_a> is '
            'better under the rubric, "B" if the output in <output_b> is, "tie" if neither is '
            "clearly better. The order of the outputs and their length are not evidence."
        )

    def parse_example(self, raw: Any) -> str:
        text = str(raw).strip()
        label = {"a": "A", "b": "B", "tie": "tie"}.get(text.lower())
        if label is None:
            raise ValueError("a pairwise verdict is A, B or tie")
        return label

    def outcome(self, value: Any, threshold: float | None) -> tuple[Outcome, float | None]:
        return Outcome.PASS, _SCORES[str(value)]

    def check_example_outputs(self, output: str | None, a: str | None, b: str | None) -> None:
        if a is None or b is None:
            raise ValueError("a pairwise example needs `output_a` and `output_b`")
