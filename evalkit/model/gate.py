"""The gate's rules as written in ``evalkit.yaml`` (``suites.<name>.gate``).

Only the schema lives here, so that reading a config needs no statistics; evaluating the rules
against a run or a comparison is :mod:`evalkit.analysis.gate`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

FailOn = Literal["significant-regression", "any-regression", "none"]
_Rate = Annotated[float, Field(ge=0, le=1)]


class Gate(BaseModel):
    """Gate rules; every field is optional and an empty gate passes any run that has cases."""

    model_config = ConfigDict(extra="forbid")

    min_pass_rate: float | None = Field(default=None, ge=0, le=1)
    max_error_rate: float | None = Field(default=None, ge=0, le=1)
    min_tag_pass_rate: dict[str, _Rate] = Field(default_factory=dict)
    #: per judge: the share of its verdicts that could not be obtained (unparseable, refused,
    #: provider errors); a judge that cannot judge should fail the gate, not pass quietly
    max_judge_error_rate: float | None = Field(default=None, ge=0, le=1)
    #: per check: the share of outputs it could not grade (an exception inside the check counts
    #: like a provider error)
    max_check_error_rate: float | None = Field(default=None, ge=0, le=1)
    #: the share of outputs cut off at the token limit (finish reason length / max_tokens)
    max_truncated_rate: float | None = Field(default=None, ge=0, le=1)
    fail_on: FailOn = "significant-regression"


__all__ = ["FailOn", "Gate"]
