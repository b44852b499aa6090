"""Deterministic checks: one module per family, all registered by name in :data:`REGISTRY`.

Importing this package registers the built-in checks (text, json, grounding, operational,
custom, compose). The reference of every check is generated from the registry into
``docs/checks.md`` (``python -m evalkit.check._docs``).
"""

from __future__ import annotations

import sys
import types
from typing import Any

from evalkit.check import compose, custom, grounding, json, operational, text
from evalkit.check.base import (
    REGISTRY,
    CannotGrade,
    Check,
    CheckContext,
    parse_check,
    register,
)
from evalkit.check.compose import score_case
from evalkit.check.custom import check, load_plugins


class _CallableModule(types.ModuleType):
    """``evalkit.check`` is both this subpackage and the ``@check`` decorator.

    Importing the subpackage binds ``evalkit.check`` to the module (the import system sets the
    attribute on the parent package), so ``@evalkit.check`` would otherwise fail with "'module'
    object is not callable". Calling the module calls the decorator instead.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return check(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

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
]
