"""Judge scales: what a verdict looks like and how it becomes an outcome.

:data:`REGISTRY` maps a ``scale:`` name to ``"module:Class"``; adding a scale is one file (a
:class:`~evalkit.grading.judge.scale.base.Scale` subclass) plus one line here.
"""

from __future__ import annotations

import importlib
from functools import cache

from evalkit.grading.judge.scale.base import Scale

REGISTRY: dict[str, str] = {
    "binary": "evalkit.grading.judge.scale.binary:BinaryScale",
    "likert-5": "evalkit.grading.judge.scale.likert:Likert5Scale",
    "pairwise": "evalkit.grading.judge.scale.pairwise:PairwiseScale",
}


@cache
def get_scale(name: str) -> Scale:
    """The scale registered as ``name``; a KeyError names the known ones."""
    try:
        module_name, class_name = REGISTRY[name].split(":")
    except KeyError:
        raise KeyError(f"unknown scale {name!r} (known: {', '.join(sorted(REGISTRY))})") from None
    scale: Scale = getattr(importlib.import_module(module_name), class_name)()
    return scale


__all__ = ["REGISTRY", "Scale", "get_scale"]
