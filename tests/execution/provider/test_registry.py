"""The provider registry: lazy, complete, and strict about unknown names."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from evalkit.base.exceptions import InputError
from evalkit.execution.provider import REGISTRY, create_provider
from evalkit.model.provider import TargetSpec


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_registry_entry_names_a_provider_class(name):
    module, cls = REGISTRY[name].split(":")
    provider_cls = getattr(importlib.import_module(module), cls)
    assert provider_cls.name == name
    assert callable(provider_cls.complete) and callable(provider_cls.aclose)


def test_unknown_provider_is_an_input_error():
    with pytest.raises(InputError) as info:
        create_provider(TargetSpec(provider="bard"))
    assert info.value.field == "target.provider" and "anthropic" in str(info.value)


def test_importing_providers_and_scripted_server_does_not_import_the_sdks():
    code = (
        "import sys, evalkit, evalkit.execution.provider, evalkit.execution.provider.anthropic, "
        "evalkit.execution.provider.openai, evalkit.execution.provider.python, "
        "evalkit.execution.provider.scripted, "
        "evalkit.execution.provider.retry, evalkit.scripted\n"
        "roots = {m.split('.')[0] for m in sys.modules}\n"
        "print(sorted(roots & {'anthropic', 'openai', 'instructor'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
