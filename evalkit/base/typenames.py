"""Reader-facing names of type annotations, for the generated reference docs.

One walk over ``typing`` forms serves the check reference and the file reference; each says
how it names its own classes (a check, a linked model) and literals.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from typing import Any, Literal

_SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean"}


def type_label(
    annotation: Any,
    named: Callable[[type], str | None] = lambda _cls: None,
    *,
    literal: str = '"{}"',
    mapping_values: bool = False,
) -> str:
    """``list of string``, ``"a" \\| "b"``, ``mapping of name → X``: what a field holds.

    ``named`` names a class its caller knows (or returns None); ``literal`` formats each
    literal value; ``mapping_values`` names a mapping's value type unless it is ``Any``.
    """

    def label(a: Any) -> str:
        return type_label(a, named, literal=literal, mapping_values=mapping_values)

    if annotation is Any:
        return "any"
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    if isinstance(annotation, type) and (name := named(annotation)) is not None:
        return name
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return label(args[0])
    if origin is Literal:
        return " \\| ".join(literal.format(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(label(a) for a in args if a is not type(None))
    if origin is list:
        return f"list of {label(args[0])}" if args else "list"
    if origin is dict:
        if mapping_values and args and args[1] is not Any:
            return f"mapping of name → {label(args[1])}"
        return "mapping"
    return getattr(annotation, "__name__", str(annotation))
