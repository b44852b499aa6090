"""Three-valued outcomes: every check, judge verdict and case is pass, fail or error.

An *error* means "could not be graded" (provider failure, unparseable verdict, a check that could
not run). It is never folded into pass or fail; rates are reported side by side.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict


class Outcome(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"

    def negated(self) -> Outcome:
        """pass <-> fail; an error stays an error (negating "could not grade" grades nothing)."""
        if self is Outcome.PASS:
            return Outcome.FAIL
        if self is Outcome.FAIL:
            return Outcome.PASS
        return Outcome.ERROR


class CheckResult(BaseModel):
    """The result of one check (or judge) on one output."""

    model_config = ConfigDict(frozen=True)

    name: str
    outcome: Outcome
    score: float | None = None
    reason: str = ""
    weight: float = 1.0
    details: dict[str, Any] | None = None

    @classmethod
    def passed(cls, name: str, reason: str = "", score: float = 1.0, **kw: Any) -> CheckResult:
        return cls(name=name, outcome=Outcome.PASS, score=score, reason=reason, **kw)

    @classmethod
    def failed(cls, name: str, reason: str, score: float = 0.0, **kw: Any) -> CheckResult:
        return cls(name=name, outcome=Outcome.FAIL, score=score, reason=reason, **kw)

    @classmethod
    def errored(cls, name: str, reason: str, **kw: Any) -> CheckResult:
        return cls(name=name, outcome=Outcome.ERROR, score=None, reason=reason, **kw)


def combine(outcomes: Iterable[Outcome]) -> Outcome:
    """Overall outcome of several graders on one output.

    Any fail makes it a fail (the output is known to be wrong); otherwise any error makes it an
    error (we could not finish grading); otherwise pass. No graders at all is a pass.
    """
    seen = set(outcomes)
    if Outcome.FAIL in seen:
        return Outcome.FAIL
    if Outcome.ERROR in seen:
        return Outcome.ERROR
    return Outcome.PASS


#: a grader (check or judge) that could not grade more than this share of its outputs is called
#: out in the headline; ``grader_error_warning:`` in a suite overrides it
GRADER_ERROR_WARNING = 0.2
