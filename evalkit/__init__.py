"""evalkit: local-first regression testing for LLM systems.

Public API only; everything else is private to its module. Importing evalkit stays cheap and
never imports a model SDK (they take seconds): the names below that live in heavier modules
(the engine, judges, statistics) are loaded on first access.

    import evalkit
    project = evalkit.load_config("evalkit.yaml")
    outcome = evalkit.run_suite(evalkit.load_suite(project, "support"))
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from evalkit.base.exceptions import (
    AuthError,
    EvalkitError,
    GateFailed,
    InputError,
    ProviderError,
    RunAborted,
    TemplateError,
)
from evalkit.base.version import __version__
from evalkit.model.outcome import CheckResult, Outcome

#: public name -> module that defines it, imported when the name is first used
_LAZY: dict[str, str] = {
    "Case": "evalkit.model.golden",
    "load_golden": "evalkit.model.golden",
    "Prompt": "evalkit.model.prompt",
    "load_prompt": "evalkit.model.prompt",
    "load_config": "evalkit.api.project",
    "load_suite": "evalkit.api.project",
    "RunOptions": "evalkit.api.run",
    "RunOutcome": "evalkit.api.run",
    "run_suite": "evalkit.api.run",
    "run_suite_async": "evalkit.api.run",
    "Check": "evalkit.grading.check",
    "CheckContext": "evalkit.grading.check",
    "check": "evalkit.grading.check",
    "register": "evalkit.grading.check",
    "CaseRecord": "evalkit.model.record",
    "JudgeVerdict": "evalkit.model.record",
    "StoredRun": "evalkit.storage.store",
    "load_run": "evalkit.storage.store",
    "ScriptedServer": "evalkit.scripted",
    "load_judge": "evalkit.grading.judge",
    "Judge": "evalkit.grading.judge",
    "compare_runs": "evalkit.analysis.compare",
    "Comparison": "evalkit.analysis.compare",
    "Gate": "evalkit.model.gate",
    "evaluate_gate": "evalkit.analysis.gate",
    "calibrate": "evalkit.api.calibrate",
    "compare": "evalkit.api.compare",
    "CompareResult": "evalkit.api.compare",
    "judge_run": "evalkit.api.judge",
    "JudgeOutcome": "evalkit.api.judge",
    "JudgeBatching": "evalkit.api.judge",
    "run_ci": "evalkit.api.ci",
    "finish_ci": "evalkit.api.ci",
    "rewrite_report": "evalkit.api.report",
    "run_demo": "evalkit.api.demo",
}

if TYPE_CHECKING:
    from evalkit.analysis.compare import Comparison, compare_runs
    from evalkit.analysis.gate import evaluate_gate
    from evalkit.api.calibrate import calibrate
    from evalkit.api.ci import finish_ci, run_ci
    from evalkit.api.compare import CompareResult, compare
    from evalkit.api.demo import run_demo
    from evalkit.api.judge import JudgeBatching, JudgeOutcome, judge_run
    from evalkit.api.project import load_config, load_suite
    from evalkit.api.report import rewrite_report
    from evalkit.api.run import RunOptions, RunOutcome, run_suite, run_suite_async
    from evalkit.grading.check import Check, CheckContext, check, register
    from evalkit.grading.judge import Judge, load_judge
    from evalkit.model.gate import Gate
    from evalkit.model.golden import Case, load_golden
    from evalkit.model.prompt import Prompt, load_prompt
    from evalkit.model.record import CaseRecord, JudgeVerdict
    from evalkit.scripted import ScriptedServer
    from evalkit.storage.store import StoredRun, load_run


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'evalkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "AuthError",
    "Case",
    "CaseRecord",
    "Check",
    "CheckContext",
    "CheckResult",
    "CompareResult",
    "Comparison",
    "EvalkitError",
    "Gate",
    "GateFailed",
    "InputError",
    "Judge",
    "JudgeBatching",
    "JudgeOutcome",
    "JudgeVerdict",
    "Outcome",
    "Prompt",
    "ProviderError",
    "RunAborted",
    "RunOptions",
    "RunOutcome",
    "ScriptedServer",
    "StoredRun",
    "TemplateError",
    "__version__",
    "calibrate",
    "check",
    "compare",
    "compare_runs",
    "evaluate_gate",
    "finish_ci",
    "judge_run",
    "load_config",
    "load_golden",
    "load_judge",
    "load_prompt",
    "load_run",
    "load_suite",
    "register",
    "rewrite_report",
    "run_ci",
    "run_demo",
    "run_suite",
    "run_suite_async",
]
