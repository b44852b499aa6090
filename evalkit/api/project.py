"""Load a project: ``evalkit.yaml`` read against its schema, then every name in it resolved.

Resolving is what the schema cannot do alone: checks by their registered names, plugins,
judges under ``judges/``, Python callables, scripted-model scripts and the price table. Every
failure names the file, line and field, so ``evalkit validate`` reports it before a model call.
Loading a suite (:func:`load_suite`) goes further: it loads the golden set and the prompt, parses
every check, and renders every case's prompt once, so a missing template variable or an invalid
regex is reported before any model is called.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from evalkit.base.exceptions import InputError, TemplateError
from evalkit.base.files import read_text
from evalkit.base.yamlpos import field_name
from evalkit.model.config import (
    DEFAULT_CONFIG,
    LoadedSuite,
    PreparedCase,
    ProjectConfig,
    TargetConfig,
    read_config,
    target_spec,
)
from evalkit.model.conversation_load import resolve_tools
from evalkit.model.golden import Case, GoldenSet, load_golden
from evalkit.model.prompt import load_prompt
from evalkit.model.provider import Message

if TYPE_CHECKING:
    from evalkit.grading.judge.definition import JudgeDef


def load_config(path: str | Path = DEFAULT_CONFIG) -> ProjectConfig:
    """Read ``evalkit.yaml`` and resolve the names it gives (plugins, calibrated judges)."""
    p = Path(path)
    config = read_config(p)
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
    resolve_tools(golden, project.root)  # tools-file references of conversation cases
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
    # cases share an identical rendered system prompt and, without checks of their own, the
    # suite's list of checks: 100,000 cases would otherwise hold 100,000 copies
    shared: dict[str, Message] = {}
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
        messages = [
            shared.setdefault(m["content"], m)
            if m["role"] == "system" and isinstance(m["content"], str)
            else m
            for m in messages
        ]
        checks = [*suite_checks, *case_checks] if case_checks else suite_checks
        prepared.append(PreparedCase(case=case, messages=messages, checks=checks))
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
    from evalkit.execution.provider.python import load_callable

    named = {"callable": target.callable if target.provider == "python" else None}
    named["tool_runner"] = target.tool_runner  # answers tool calls of conversation cases
    for key, code in named.items():
        try:
            if code:
                load_callable(code, project.root)
        except InputError as exc:
            raise fail(exc.message, key) from None
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


def suites_for_run(
    project: ProjectConfig,
    suite: str | None = None,
    *,
    prompt: str | Path | None = None,
    resume: str | Path | None = None,
) -> tuple[list[LoadedSuite], Path | None]:
    """The suites ``evalkit run`` runs, all loaded (validated) before the first request so a
    typo fails fast: ``suite``, every suite when none is named, or the suite (and prompt) of
    the run being resumed; and the resumed run's directory."""
    from evalkit.storage.store import read_manifest, resolve_run

    resume_path = None
    if resume is not None:
        resume_path = resolve_run(str(resume), project.resolve(project.runs_dir))
        manifest = read_manifest(resume_path)
        suite = suite or manifest.get("suite")
        if prompt is None and manifest.get("prompt_path"):
            prompt = project.resolve(manifest["prompt_path"])
    if suite is None and len(project.suites) > 1 and prompt is not None:
        raise InputError(
            "--prompt replaces one suite's prompt: name the SUITE", path=project.path, field="SUITE"
        )
    names = [suite] if suite is not None else list(project.suites)
    return [load_suite(project, name, prompt_override=prompt) for name in names], resume_path
