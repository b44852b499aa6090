"""Type labels in the generated references."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from evalkit.base.typenames import type_label


class Thing:
    pass


def test_labels_of_typing_forms() -> None:
    assert type_label(list[str]) == "list of string"
    assert type_label(int | None) == "integer"
    assert type_label(Literal["a", "b"]) == '"a" \\| "b"'
    assert type_label(Literal["a"], literal="`{}`") == "`a`"
    assert type_label(Annotated[float, "meta"]) == "number"
    assert type_label(dict[str, Any], mapping_values=True) == "mapping"
    assert type_label(dict[str, int]) == "mapping"
    assert type_label(dict[str, int], mapping_values=True) == "mapping of name → integer"
    assert type_label(Any) == "any"


def test_the_caller_names_its_own_classes() -> None:
    def named(cls: type) -> str | None:
        return "a thing" if cls is Thing else None

    assert type_label(list[Thing], named) == "list of a thing"
    assert type_label(Thing) == "Thing"
