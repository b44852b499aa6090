"""The contract every judge scale fulfils.

A scale owns four things, so the rest of evalkit never branches on a scale's name: the pydantic
model instructor fills (reasoning first, so the model argues before it decides; the verdict
field constrained), the sentence telling the judge how to answer, how a verdict maps to an
outcome and score, and how several samples combine (a *vote* per sample, majority wins).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, ClassVar

from pydantic import BaseModel

from evalkit.model.outcome import Outcome


class Scale:
    """Base class; subclasses set the class variables and override what differs."""

    name: ClassVar[str]
    #: the structured verdict: ``reasoning`` first, then ``verdict_field``
    verdict_model: ClassVar[type[BaseModel]]
    verdict_field: ClassVar[str]
    #: tags of the output blocks in the judge prompt (two for a comparison)
    output_blocks: ClassVar[tuple[str, ...]] = ("output_to_grade",)
    #: default ``pass_threshold`` (None: the scale has no threshold)
    default_threshold: ClassVar[float | None] = None
    #: the allowed verdict values as a ``text``-mode judge must write them
    text_values: ClassVar[str]

    @property
    def pairwise(self) -> bool:
        """Whether a verdict compares two outputs instead of grading one."""
        return len(self.output_blocks) > 1

    def instructions(self, threshold: float | None) -> str:
        """How to fill the verdict, appended to the judge's instructions."""
        raise NotImplementedError

    def value(self, parsed: BaseModel) -> Any:
        """The verdict value (bool, int, label) out of a validated verdict model."""
        return getattr(parsed, self.verdict_field)

    def parse_example(self, raw: Any) -> Any:
        """A few-shot example's ``verdict`` as a verdict value; ValueError says what is allowed."""
        raise NotImplementedError

    def format_value(self, value: Any) -> str:
        """A verdict value as the examples show it to the judge."""
        return str(value)

    def check_threshold(self, threshold: float | None) -> float | None:
        """Validate ``pass_threshold`` (ValueError) and fill in the default."""
        if threshold is not None:
            raise ValueError(f"scale {self.name!r} has no pass threshold")
        return None

    def vote(self, value: Any, threshold: float | None) -> Hashable:
        """What the majority over samples is taken on (for likert: pass or fail)."""
        return value  # type: ignore[no-any-return]

    def merge(self, values: Sequence[Any]) -> Any:
        """One value out of the samples that voted with the majority."""
        return values[0]

    def outcome(self, value: Any, threshold: float | None) -> tuple[Outcome, float | None]:
        """The outcome and a 0–1 score of one verdict value."""
        raise NotImplementedError

    def check_example_outputs(self, output: str | None, a: str | None, b: str | None) -> None:
        """ValueError when an example lacks the outputs this scale grades."""
        if output is None:
            raise ValueError("an example needs an `output`")
