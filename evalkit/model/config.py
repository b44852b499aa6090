"""The schema of ``evalkit.yaml``: pydantic models, with every error pointing at file:line:field.

The schema knows nothing of checks, judges or providers: resolving their names (and loading a
suite's golden set, prompt and checks) is :mod:`evalkit.api.project`, a layer above.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from evalkit.base.yamlpos import Positions, line_for, load_model
from evalkit.model.gate import Gate
from evalkit.model.golden import Case, GoldenSet
from evalkit.model.outcome import GRADER_ERROR_WARNING
from evalkit.model.prompt import Prompt
from evalkit.model.provider import Message, TargetSpec
from evalkit.model.retry import RetryPolicy

DEFAULT_CONFIG = "evalkit.yaml"


class TargetConfig(BaseModel):
    """The system under test."""

    model_config = ConfigDict(extra="forbid")

    provider: Literal["anthropic", "openai", "python", "scripted"]
    model: str = ""
    prompt: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    base_url: str | None = None
    callable: str | None = None
    api_key_env: str | None = None
    #: ``none``: the server takes no key (a local server on a routable address)
    api_key: Literal["none"] | None = None
    timeout: float = Field(default=60.0, gt=0)
    script: str | None = None
    wire: Literal["anthropic", "openai"] = "anthropic"
    tool_runner: str | None = None  # module:function answering tool calls (conversation cases)


class RetryConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_attempts: int = Field(default=4, ge=1, le=20)
    base_delay: float = Field(default=0.5, ge=0)
    max_delay: float = Field(default=20.0, ge=0)

    def policy(self) -> RetryPolicy:
        """The retry policy these settings describe (targets and judges share it)."""
        return RetryPolicy(
            max_attempts=self.max_attempts, base_delay=self.base_delay, max_delay=self.max_delay
        )


class SuiteConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    goldens: str
    target: TargetConfig
    checks: list[dict[str, Any]] = Field(default_factory=list)
    judges: list[str] = Field(default_factory=list)
    repeats: int = Field(default=1, ge=1, le=100)
    concurrency: int = Field(default=16, ge=1, le=1000)
    error_budget: float = Field(
        default=0.1, ge=0, le=1, description="max fraction of case×repeat that may error"
    )
    min_score: float | None = Field(
        default=None, ge=0, le=1, description="pass a case on its weighted check score"
    )
    grader_error_warning: float = Field(
        default=GRADER_ERROR_WARNING,
        ge=0,
        le=1,
        description="warn when a check or judge errors on more outputs",
    )
    cluster_key: str | None = None
    retry: RetryConfig = Field(default_factory=RetryConfig)
    gate: Gate = Field(default_factory=Gate)


class ThresholdsConfig(BaseModel):
    """Calibration thresholds in evalkit.yaml; unset fields fall back judge → project → default."""

    model_config = ConfigDict(extra="forbid")

    min_per_class: int | None = Field(default=None, ge=0)
    min_kappa: float | None = Field(default=None, ge=-1, le=1)
    min_tpr: float | None = Field(default=None, ge=0, le=1)
    min_tnr: float | None = Field(default=None, ge=0, le=1)

    def set_fields(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump(exclude={"judges"}).items() if v is not None}


class CalibrationConfig(ThresholdsConfig):
    """``calibration:`` of evalkit.yaml: project thresholds, and per judge under ``judges:``."""

    judges: dict[str, ThresholdsConfig] = Field(default_factory=dict)

    def thresholds_for(self, judge: str, **overrides: Any) -> dict[str, Any]:
        """Keyword arguments for ``Thresholds``: project, then judge, then non-None overrides."""
        merged = self.set_fields()
        if judge in self.judges:
            merged.update(self.judges[judge].set_fields())
        merged.update({k: v for k, v in overrides.items() if v is not None})
        return merged


class ProjectConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    suites: dict[str, SuiteConfig]
    calibration: CalibrationConfig = Field(default_factory=CalibrationConfig)
    plugins: list[str] = Field(default_factory=list, description="modules imported for @check")
    prices: str | None = None
    runs_dir: str = "runs"
    cache_dir: str = ".evalkit/cache"

    # filled by load_config
    root: Path = Field(default=Path("."), exclude=True)
    path: Path = Field(default=Path(DEFAULT_CONFIG), exclude=True)
    positions: Positions = Field(default_factory=dict, exclude=True)

    def resolve(self, relative: str | Path) -> Path:
        p = Path(relative)
        return p if p.is_absolute() else self.root / p

    def line(self, *keys: Any) -> int | None:
        """Line of ``keys`` in evalkit.yaml (or of its nearest parent)."""
        return line_for(self.positions, keys)


def read_config(path: str | Path = DEFAULT_CONFIG) -> ProjectConfig:
    """Parse and validate ``evalkit.yaml`` against the schema alone (no names resolved)."""
    p = Path(path)
    config, positions = load_model(
        p, ProjectConfig, not_a_mapping="evalkit.yaml must be a mapping with `suites:`"
    )
    config.root = p.parent.resolve() if str(p.parent) else Path.cwd()
    config.path = p
    config.positions = positions
    return config


@dataclass(slots=True)
class PreparedCase:
    """A case with its rendered messages and parsed checks, ready to run. Slotted: a run of
    100,000 cases holds 100,000 of them."""

    case: Case
    messages: list[Message]
    checks: list[Any]


@dataclass
class LoadedSuite:
    """Everything a run needs, validated."""

    name: str
    config: SuiteConfig
    project: ProjectConfig
    golden: GoldenSet
    prompt: Prompt | None
    target: TargetSpec
    cases: list[PreparedCase] = field(default_factory=list)
    judges: list[Any] = field(default_factory=list)


def target_spec(target: TargetConfig, project: ProjectConfig) -> TargetSpec:
    script = str(project.resolve(target.script)) if target.script else None
    return TargetSpec(
        provider=target.provider,
        model=target.model,
        params=dict(target.params),
        base_url=target.base_url,
        callable=target.callable,
        api_key_env=target.api_key_env,
        no_api_key=target.api_key == "none",
        timeout=target.timeout,
        script=script,
        wire=target.wire,
        project_dir=str(project.root),
        tool_runner=target.tool_runner,
    )
