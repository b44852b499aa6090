"""Deterministic checks: one module per family, all registered by name in :data:`REGISTRY`.

Importing this package registers the built-in checks (text, json, grounding, operational,
custom, compose, tools). The reference of every check is generated from the registry into
``docs/checks.md`` (``python -m evalkit.grading.check._docs``).
"""

from __future__ import annotations

from evalkit.grading.check import compose, custom, grounding, json, operational, text, tools
from evalkit.grading.check.base import (
    REGISTRY,
    CannotGrade,
    Check,
    CheckContext,
    parse_check,
    register,
)
from evalkit.grading.check.compose import score_case
from evalkit.grading.check.custom import check, load_plugins

__all__ = [
    "REGISTRY",
    "CannotGrade",
    "Check",
    "CheckContext",
    "check",
    "compose",
    "custom",
    "grounding",
    "json",
    "load_plugins",
    "operational",
    "parse_check",
    "register",
    "score_case",
    "text",
    "tools",
]
