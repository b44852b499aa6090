"""``evalkit.yaml`` → validated pydantic models, with every error pointing at file:line:field.

Loading a suite (:func:`load_suite`) goes further than parsing: it loads the golden set and the
prompt, parses every check, and renders every case's prompt once, so a missing template variable
or an invalid regex is reported by ``evalkit validate`` before any model is called.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from evalkit.analysis.caserates import GRADER_ERROR_WARNING
from evalkit.analysis.gate import Gate
from evalkit.base.exceptions import InputError, TemplateError
from evalkit.base.files import read_text
from evalkit.base.yamlpos import Positions, field_name, line_for, load_model
from evalkit.execution.provider.retry import RetryPolicy
from evalkit.model.golden import Case, GoldenSet, load_golden
from evalkit.model.prompt import Prompt, load_prompt
from evalkit.model.provider import Message, TargetSpec

if TYPE_CHECKING:
    from evalkit.grading.judge.definition import JudgeDef

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


def load_config(path: str | Path = DEFAULT_CONFIG) -> ProjectConfig:
    p = Path(path)
    config, positions = load_model(
        p, ProjectConfig, not_a_mapping="evalkit.yaml must be a mapping with `suites:`"
    )
    config.root = p.parent.resolve() if str(p.parent) else Path.cwd()
    config.path = p
    config.positions = positions
    _check_calibration_judges(config)
    if config.plugins:
        from evalkit.grading.check import load_plugins

        try:
            load_plugins(config.plugins, config.root)
        except Exception as exc:
            raise InputError(
                f"cannot import plugin module: {exc}",
                path=p,
                line=config.line("plugins"),
                field="plugins",
            ) from None
    return config


def _check_calibration_judges(config: ProjectConfig) -> None:
    """A threshold for a judge that does not exist is a typo: say where."""
    from evalkit.grading.judge.definition import judge_path

    for name in config.calibration.judges:
        if not judge_path(config, name).exists():
            raise InputError(
                f"no judge {name!r} (expected {judge_path(config, name)})",
                path=config.path,
                line=config.line("calibration", "judges", name),
                field=f"calibration.judges.{name}",
            )


@dataclass
class PreparedCase:
    """A case with its rendered messages and parsed checks, ready to run."""

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
    )


def load_suite(
    project: ProjectConfig,
    name: str | None = None,
    *,
    prompt_override: str | Path | None = None,
) -> LoadedSuite:
    """Load and fully validate one suite (golden set, prompt, checks, per-case rendering)."""
    from evalkit.grading.check import parse_check  # registers built-in checks

    if name is None:
        if len(project.suites) != 1:
            names = ", ".join(project.suites)
            raise InputError(f"name a suite (one of: {names})", path=project.path, field="SUITE")
        name = next(iter(project.suites))
    if name not in project.suites:
        names = ", ".join(project.suites) or "none"
        raise InputError(
            f"no suite {name!r} (defined: {names})",
            path=project.path,
            line=project.line("suites"),
            field="SUITE",
        )
    suite = project.suites[name]
    cfg_path = project.path
    target = suite.target
    _check_target(target, project, name)

    golden = load_golden(project.resolve(suite.goldens))
    prompt_path = prompt_override or target.prompt
    prompt = load_prompt(project.resolve(prompt_path)) if prompt_path else None

    suite_checks = [
        parse_check(
            raw,
            path=cfg_path,
            line=project.line("suites", name, "checks", i),
            field_prefix=f"suites.{name}.checks[{i}]",
            base_dir=project.root,
        )
        for i, raw in enumerate(suite.checks)
    ]
    suite_fields = [f"suites.{name}.checks[{i}]" for i in range(len(suite_checks))]
    prepared: list[PreparedCase] = []
    for case in golden.cases:
        line = golden.line_of(case.id)
        case_fields = [f"{case.id}.checks[{i}]" for i in range(len(case.checks))]
        case_checks = [
            parse_check(
                raw,
                path=golden.path,
                line=line,
                field_prefix=field_prefix,
                base_dir=project.root,
            )
            for raw, field_prefix in zip(case.checks, case_fields, strict=True)
        ]
        for check, where in zip(
            [*suite_checks, *case_checks], [*suite_fields, *case_fields], strict=True
        ):
            try:
                check.check_templates(case)
            except TemplateError as exc:
                raise _case_error(exc, f"check {where}", golden, case) from None
        messages: list[Message] = []
        if prompt is not None:
            try:
                messages = prompt.render(case.template_vars())
            except TemplateError as exc:
                raise _case_error(exc, f"prompt {prompt.path}", golden, case) from None
        prepared.append(
            PreparedCase(case=case, messages=messages, checks=[*suite_checks, *case_checks])
        )
    from evalkit.grading.judge import judge_names, load_judges

    judges = load_judges(project, judge_names(suite.judges, golden.cases), pairwise=False)
    _check_support_files(project, name, judges)
    spec = target_spec(target, project)
    return LoadedSuite(
        name=name,
        config=suite,
        project=project,
        golden=golden,
        prompt=prompt,
        target=spec,
        cases=prepared,
        judges=judges,
    )


def _check_target(target: TargetConfig, project: ProjectConfig, suite: str) -> None:
    where = ("suites", suite, "target")
    field_prefix = f"suites.{suite}.target"

    def fail(message: str, key: str) -> InputError:
        return InputError(
            message,
            path=project.path,
            line=project.line(*where, key),
            field=f"{field_prefix}.{key}",
        )

    if target.provider in ("anthropic", "openai", "scripted") and not target.model:
        raise fail(f"provider {target.provider!r} needs a `model`", "model")
    if target.provider == "python" and not target.callable:
        raise fail("provider 'python' needs `callable: module:function`", "callable")
    if target.provider == "scripted" and not (target.script or target.base_url):
        raise fail(
            "provider 'scripted' needs `script: path/to/script.yaml` (or the `base_url` "
            "of a running scripted server)",
            "script",
        )
    if target.provider == "python" and target.callable:
        from evalkit.execution.provider.python import load_callable

        try:
            load_callable(target.callable, project.root)
        except InputError as exc:
            raise fail(exc.message, "callable") from None
    if target.provider != "python" and not target.prompt:
        raise fail(f"provider {target.provider!r} needs a `prompt` file", "prompt")


def _case_error(exc: TemplateError, where: str, golden: GoldenSet, case: Case) -> InputError:
    """A template that cannot render for one case: pointed at the case, whose data lacks it."""
    return InputError(
        f"{exc.message} in {where} for case {case.id!r}",
        path=golden.path,
        line=golden.line_of(case.id),
        field=f"{case.id}.vars",
    )


#: where a file is named: the file naming it, the line and the field
_Where = tuple[Path, int | None, str]


def _check_support_files(project: ProjectConfig, suite: str, judges: list[JudgeDef]) -> None:
    """Read what a run reads only once it starts (scripts, the price table), so that
    ``evalkit validate`` reports their errors too, before any model call."""
    from evalkit.model.pricing import load_prices
    from evalkit.scripted.script import load_script

    def load(rel: str, read: Callable[[Path], object], where: Callable[[], _Where]) -> None:
        if not project.resolve(rel).is_file():
            path, line, field = where()
            message = f"file {rel!r} not found (relative to {project.root})"
            raise InputError(message, path=path, line=line, field=field)
        read(project.resolve(rel))

    target = project.suites[suite].target
    if target.provider == "scripted" and target.script:
        key = ("suites", suite, "target", "script")
        load(
            target.script, load_script, lambda: (project.path, project.line(*key), field_name(key))
        )
    for judge in judges:
        if judge.model.provider == "scripted" and judge.model.script:
            load(judge.model.script, load_script, partial(_judge_script_at, judge))
    if project.prices:
        load(project.prices, load_prices, lambda: (project.path, project.line("prices"), "prices"))


def _judge_script_at(judge: JudgeDef) -> _Where:
    """Where a judge file names its script (read again only to report a missing file)."""
    from evalkit.base.yamlpos import load_yaml

    _data, positions = load_yaml(read_text(judge.path), judge.path)
    return judge.path, positions.get(("model", "script")), "model.script"
