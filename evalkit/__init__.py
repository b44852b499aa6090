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

__version__ = "0.1.0"

from evalkit.exceptions import (
    AuthError,
    EvalkitError,
    GateFailed,
    InputError,
    ProviderError,
    RunAborted,
    TemplateError,
)
from evalkit.outcome import CheckResult, Outcome

#: public name -> module that defines it, imported when the name is first used
_LAZY: dict[str, str] = {
    "Case": "evalkit.golden",
    "load_golden": "evalkit.golden",
    "Prompt": "evalkit.prompt",
    "load_prompt": "evalkit.prompt",
    "load_config": "evalkit.config",
    "load_suite": "evalkit.config",
    "RunOptions": "evalkit.engine",
    "RunOutcome": "evalkit.engine",
    "run_suite": "evalkit.engine",
    "run_suite_async": "evalkit.engine",
    "Check": "evalkit.check",
    "CheckContext": "evalkit.check",
    "check": "evalkit.check",
    "register": "evalkit.check",
    "CaseRecord": "evalkit.record",
    "JudgeVerdict": "evalkit.record",
    "StoredRun": "evalkit.store",
    "load_run": "evalkit.store",
    "ScriptedServer": "evalkit.scripted",
    "load_judge": "evalkit.judge",
    "Judge": "evalkit.judge",
    "compare_runs": "evalkit.compare",
    "Comparison": "evalkit.compare",
    "Gate": "evalkit.gate",
    "evaluate_gate": "evalkit.gate",
    "calibrate": "evalkit.calibration",
}

if TYPE_CHECKING:
    from evalkit.calibration import calibrate
    from evalkit.check import Check, CheckContext, check, register
    from evalkit.compare import Comparison, compare_runs
    from evalkit.config import load_config, load_suite
    from evalkit.engine import RunOptions, RunOutcome, run_suite, run_suite_async
    from evalkit.gate import Gate, evaluate_gate
    from evalkit.golden import Case, load_golden
    from evalkit.judge import Judge, load_judge
    from evalkit.prompt import Prompt, load_prompt
    from evalkit.record import CaseRecord, JudgeVerdict
    from evalkit.scripted import ScriptedServer
    from evalkit.store import StoredRun, load_run


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
    "Comparison",
    "EvalkitError",
    "Gate",
    "GateFailed",
    "InputError",
    "Judge",
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
    "compare_runs",
    "evaluate_gate",
    "load_config",
    "load_golden",
    "load_judge",
    "load_prompt",
    "load_run",
    "load_suite",
    "register",
    "run_suite",
    "run_suite_async",
]
