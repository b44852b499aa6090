"""The shape of one line of ``results.jsonl``: one case × repeat, graded.

This is the stored contract that compare, calibrate, judge and report read back.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from evalkit.model.outcome import CheckResult, Outcome
from evalkit.model.trajectory import Trajectory


class ErrorInfo(BaseModel):
    """Why a case (or a judge verdict) could not be graded."""

    kind: str
    message: str
    status: int | None = None


class Usage(BaseModel):
    """Tokens of one call. ``input_tokens`` counts every input token, cached ones included;
    the two cache fields say how many of them were read from / written to a prompt cache."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0


class JudgeVerdict(BaseModel):
    """One judge's verdict on one output (filled in by evalkit.grading.judge)."""

    model_config = ConfigDict(extra="allow")

    name: str
    version: str
    outcome: Outcome
    score: float | None = None
    verdict: Any = None
    reasoning: str = ""
    error: ErrorInfo | None = None
    usage: Usage = Field(default_factory=Usage)
    #: None when the judge model has no known price ("unknown", never $0)
    cost_usd: float | None = 0.0
    samples: list[Any] = Field(default_factory=list)
    cached: bool = False
    #: the judge's samples disagreed (``samples: k`` > 1): its self-consistency, per verdict
    flip: bool = False
    #: judge model requests this verdict made (0 when it came from the cache)
    requests: int = 0
    #: the model that answered, for pricing and the self-preference warning
    model: str = ""
    #: how the verdict was asked for (tools, json_schema, json, text); see
    #: evalkit.grading.judge.modes
    output_mode: str = ""


class CaseRecord(BaseModel):
    """One graded output. ``outcome`` combines checks and judges (see
    evalkit.model.outcome.combine)."""

    model_config = ConfigDict(extra="allow")

    case_id: str
    repeat: int = 0
    tags: list[str] = Field(default_factory=list)
    vars: dict[str, Any] = Field(default_factory=dict)
    #: the messages exactly as sent to the target (rendered prompt); None in runs made before
    #: evalkit stored them, and for targets without a prompt (python callables)
    prompt: list[dict[str, Any]] | None = None
    #: the golden case's reference answer as it was when the case was graded
    expected: Any = None
    outcome: Outcome
    output: str | None = None
    error: ErrorInfo | None = None
    checks: list[CheckResult] = Field(default_factory=list)
    judges: list[JudgeVerdict] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    #: None when the model has no known price ("unknown", never $0)
    cost_usd: float | None = 0.0
    #: the server's finish / stop reason; ``truncated`` when it hit the token limit
    finish_reason: str | None = None
    truncated: bool = False
    latency_ms: float | None = None
    attempts: int = 0
    cached: bool = False
    score: float | None = None
    finished_at: str = ""
    #: conversation cases: every turn, tool call and result (None for single-prompt cases)
    trajectory: Trajectory | None = None

    @property
    def key(self) -> tuple[str, int]:
        return (self.case_id, self.repeat)
