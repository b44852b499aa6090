"""Providers: how evalkit reaches a model or a callable.

:data:`REGISTRY` maps a ``provider:`` name to ``"module:Class"``; the module is imported only
when a provider of that name is created, so importing this package never imports a model SDK.
Adding a provider is one file plus one line here. Each class takes a
:class:`~evalkit.model.provider.TargetSpec` and satisfies
:class:`~evalkit.model.provider.Provider`.
"""

from __future__ import annotations

import importlib
from typing import cast

from evalkit.base.exceptions import InputError
from evalkit.model.provider import CallContext, Completion, Message, Provider, TargetSpec

REGISTRY: dict[str, str] = {
    "anthropic": "evalkit.execution.provider.anthropic:AnthropicProvider",
    "openai": "evalkit.execution.provider.openai:OpenAIProvider",
    "python": "evalkit.execution.provider.python:PythonProvider",
    "scripted": "evalkit.execution.provider.scripted:ScriptedProvider",
}


def create_provider(spec: TargetSpec) -> Provider:
    """Build the provider ``spec.provider`` names; an unknown name is an InputError."""
    try:
        module_name, class_name = REGISTRY[spec.provider].split(":")
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise InputError(
            f"unknown provider {spec.provider!r} (known: {known})", field="target.provider"
        ) from None
    cls = getattr(importlib.import_module(module_name), class_name)
    return cast(Provider, cls(spec))


__all__ = [
    "REGISTRY",
    "CallContext",
    "Completion",
    "Message",
    "Provider",
    "TargetSpec",
    "create_provider",
]
