"""Judge definitions: ``judges/<name>.yaml`` → :class:`JudgeDef`, and the judge version.

A judge file::

    scale: binary                  # binary | likert-5 | pairwise (see evalkit.grading.judge.scale)
    model: {provider: anthropic, model: claude-haiku-4-5, params: {temperature: 0}}
    sees: [question, context, output]
    rubric: |
      PASS if every factual claim is supported by the documents ...
    examples:                      # optional few-shot examples
      - {input: "...", output: "...", verdict: fail, critique: "..."}
    samples: 1                     # ask k times, take the majority
    pass_threshold: 4              # likert-5 only (default 4)
    max_validation_retries: 2      # re-asks after an invalid verdict
    output: auto                   # auto | tools | json_schema | json | text (judge.modes)

What the judge sees (``sees``): ``question`` is the case's ``vars.question`` (or, when the case
has no such variable, all its vars), ``input`` is all the case's vars, ``context`` its grounding
documents, ``expected`` its reference answer, ``output`` the output under judgement (required).

The **judge version** is a short hash of everything that changes verdicts: rubric, model,
params, endpoint, scale, examples, sees, samples, threshold, output mode (the one used, for a
verdict; ``tools``, the only mode before there were modes, leaves the version unchanged) and
:data:`PROMPT_TEMPLATE_VERSION` (evalkit's own judge prompt). Comments and key order do not
change it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from evalkit.base.exceptions import InputError
from evalkit.base.files import read_text
from evalkit.base.yamlpos import Positions, load_yaml, pydantic_error_to_input_error
from evalkit.grading.judge.modes import OutputMode
from evalkit.grading.judge.scale import REGISTRY, Scale, get_scale

Seen = Literal["question", "input", "context", "expected", "trajectory", "output"]
DEFAULT_SEES: list[Seen] = ["question", "context", "expected", "output"]
JUDGES_DIR = "judges"


class JudgeModel(BaseModel):
    """The model that judges: any provider evalkit speaks structured output with."""

    model_config = ConfigDict(extra="forbid")

    provider: Literal["anthropic", "openai", "scripted"]
    model: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    base_url: str | None = None
    api_key_env: str | None = None
    #: ``none``: the server takes no key (a local server on a routable address)
    api_key: Literal["none"] | None = None
    timeout: float = Field(default=60.0, gt=0)
    # scripted provider only (offline tests and the demo)
    script: str | None = None
    wire: Literal["anthropic", "openai"] = "anthropic"


class JudgeExample(BaseModel):
    """A few-shot example: a graded output (or pair, for pairwise) with its verdict."""

    model_config = ConfigDict(extra="forbid")

    input: str = ""
    output: str | None = None
    output_a: str | None = None
    output_b: str | None = None
    verdict: Any
    critique: str = ""


class JudgeDef(BaseModel):
    """A validated judge file. ``pass_threshold`` is filled with the scale's default."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    scale: str
    model: JudgeModel
    rubric: str = Field(min_length=1)
    sees: list[Seen] = Field(default_factory=lambda: list(DEFAULT_SEES), min_length=1)
    examples: list[JudgeExample] = Field(default_factory=list)
    samples: int = Field(default=1, ge=1, le=25)
    pass_threshold: float | None = Field(default=None, validate_default=True)
    max_validation_retries: int = Field(default=2, ge=0, le=10)
    #: how the verdict is asked for; ``auto`` picks the best mode the server honours (with
    #: ``judge --batch``: the best mode first, a second batch where it was not honoured)
    output: OutputMode = "auto"

    path: Path = Field(default=Path("."), exclude=True)

    @field_validator("scale")
    @classmethod
    def _known_scale(cls, value: str) -> str:
        if value not in REGISTRY:
            raise ValueError(f"unknown scale {value!r} (known: {', '.join(sorted(REGISTRY))})")
        return value

    @field_validator("pass_threshold")
    @classmethod
    def _threshold(cls, value: float | None, info: ValidationInfo) -> float | None:
        scale = info.data.get("scale")
        return get_scale(scale).check_threshold(value) if scale else value

    @field_validator("sees")
    @classmethod
    def _sees_output(cls, value: list[Seen]) -> list[Seen]:
        if "output" not in value:
            raise ValueError("a judge must see the `output` it grades")
        return list(dict.fromkeys(value))

    @property
    def scale_impl(self) -> Scale:
        return get_scale(self.scale)


def load_judge(path: str | Path) -> JudgeDef:
    """Read and validate one judge file; every error names file, line and field."""
    p = Path(path)
    data, positions = load_yaml(read_text(p), p)
    if not isinstance(data, dict):
        raise InputError("a judge file must be a mapping with `rubric`, `model`, `scale`", path=p)
    data = {"name": p.stem, **data}
    try:
        definition = JudgeDef.model_validate(data)
    except ValidationError as exc:
        raise pydantic_error_to_input_error(exc, p, positions, default_line=1) from None
    definition.path = p
    if definition.name != p.stem:
        raise InputError(
            f"name {definition.name!r} differs from the file name {p.stem!r}; suites refer to "
            "a judge by its file name",
            path=p,
            line=positions.get(("name",)),
            field="name",
        )
    _check_semantics(definition, p, positions)
    return definition


def _check_semantics(definition: JudgeDef, path: Path, positions: Positions) -> None:
    """What needs the scale (example outputs and verdicts) and the model fields per provider."""
    scale = definition.scale_impl

    def fail(message: str, *loc: Any) -> InputError:
        field = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in loc)
        return InputError(
            message,
            path=path,
            line=positions.get(tuple(loc)) or positions.get(loc[:1]) or 1,
            field=field.replace(".[", "["),
        )

    for i, example in enumerate(definition.examples):
        try:
            scale.check_example_outputs(example.output, example.output_a, example.output_b)
        except ValueError as exc:
            raise fail(str(exc), "examples", i) from None
        try:
            scale.parse_example(example.verdict)
        except ValueError as exc:
            raise fail(f"{exc}, got {example.verdict!r}", "examples", i, "verdict") from None
    m = definition.model
    if m.provider in ("anthropic", "openai") and not m.model:
        raise fail(f"provider {m.provider!r} needs a `model`", "model", "model")
    anthropic_wire = m.provider == "anthropic" or (m.provider == "scripted" and m.wire != "openai")
    if definition.output == "json_schema" and anthropic_wire:
        raise fail(
            "output json_schema is OpenAI's response_format; on the Anthropic wire use "
            "tools, json, text or auto",
            "output",
        )
    if m.provider == "scripted" and not (m.script or m.base_url):
        raise fail("provider 'scripted' needs `script: path/to/script.yaml`", "model", "script")


def judge_path(project: Any, name: str) -> Path:
    """``judges/<name>.yaml`` (or ``.yml``) under the project root."""
    folder = Path(project.resolve(JUDGES_DIR))
    for suffix in (".yaml", ".yml"):
        candidate = folder / f"{name}{suffix}"
        if candidate.exists():
            return candidate
    return folder / f"{name}.yaml"


def _where_listed(project: Any, name: str) -> tuple[int | None, str]:
    """Line and field of the first suite that lists judge ``name`` in evalkit.yaml."""
    for suite_name, suite in project.suites.items():
        if name in suite.judges:
            i = suite.judges.index(name)
            return project.line("suites", suite_name, "judges", i), f"suites.{suite_name}.judges"
    return None, "judges"


def load_judges(project: Any, names: list[str], *, pairwise: bool | None = None) -> list[JudgeDef]:
    """Load judges by name from the project's ``judges/`` folder, in order, without duplicates.

    A missing file is an InputError pointing at the evalkit.yaml line that names the judge.
    ``pairwise=False`` refuses pairwise judges (a suite grades one output at a time),
    ``pairwise=True`` requires them (``evalkit compare --pairwise``).
    """
    out: list[JudgeDef] = []
    for name in dict.fromkeys(names):
        path = judge_path(project, name)
        if not path.exists():
            line, field = _where_listed(project, name)
            raise InputError(
                f"no judge file {path} for judge {name!r}",
                path=project.path,
                line=line,
                field=field,
            )
        definition = load_judge(path)
        is_pairwise = definition.scale_impl.pairwise
        if pairwise is False and is_pairwise:
            line, field = _where_listed(project, name)
            raise InputError(
                f"judge {name!r} is pairwise: it compares two runs (evalkit compare --pairwise "
                f"{name}) and cannot grade a single output",
                path=project.path,
                line=line,
                field=field,
            )
        if pairwise is True and not is_pairwise:
            raise InputError(
                f"judge {name!r} has scale {definition.scale!r}, not pairwise", path=path, line=1
            )
        out.append(definition)
    return out
