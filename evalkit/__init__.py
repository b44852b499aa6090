"""evalkit: local-first regression testing for LLM systems.

Public API only; everything else is private to its module. Importing evalkit never imports a
model SDK (they take seconds): providers load them on first use.
"""

from __future__ import annotations

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

__all__ = [
    "AuthError",
    "CheckResult",
    "EvalkitError",
    "GateFailed",
    "InputError",
    "Outcome",
    "ProviderError",
    "RunAborted",
    "TemplateError",
    "__version__",
]
