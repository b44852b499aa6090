"""YAML loading (safe only) that remembers the line of every node, for precise error messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from evalkit.base.exceptions import InputError
from evalkit.base.files import read_text

M = TypeVar("M", bound=BaseModel)

Positions = dict[tuple[Any, ...], int]
_MERGE_TAG = "tag:yaml.org,2002:merge"
#: libyaml's parser when PyYAML was built with it (about 10x faster on a large golden set);
#: construction, and so what is accepted, is the same safe constructor either way
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str, path: str | Path) -> tuple[Any, Positions]:
    """Every YAML file evalkit reads goes through here: safe loading only, duplicate keys and
    unprintable characters rejected with their lines, and a map from key path (tuple of
    keys/indices) to 1-based line.

    PyYAML keeps the last of two equal keys without a word, so a pasted second ``rubric:`` or a
    repeated case field would silently replace the first; evalkit refuses instead.
    """
    loader: yaml.SafeLoader | yaml.CSafeLoader | None = None
    try:
        loader = _Loader(text)  # checks the characters first
        node = loader.get_single_node()
        positions: Positions = {}
        if node is not None:
            _walk(node, (), positions, path)
        data = loader.construct_document(node) if node is not None else None
    except yaml.reader.ReaderError as exc:
        char = chr(exc.character) if isinstance(exc.character, int) else exc.character
        at = text.count("\n", 0, max(text.find(char), 0)) + 1
        what = "a NUL byte" if char == "\0" else f"unprintable character {char!r}"
        raise InputError(f"invalid YAML: {what} is not allowed", path=path, line=at) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise InputError(f"invalid YAML: {exc.problem or exc}", path=path, line=line) from None
    except yaml.YAMLError as exc:
        raise InputError(f"invalid YAML: {exc}", path=path) from None
    finally:
        if loader is not None:
            loader.dispose()
    return data, positions


def _walk(node: yaml.Node, prefix: tuple[Any, ...], out: Positions, path: str | Path) -> None:
    out[prefix] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: dict[tuple[str, str], int] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + 1
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != _MERGE_TAG:
                ident = (key_node.tag, key)
                if ident in seen:
                    first = seen[ident]
                    where = (
                        f"twice on line {line}" if first == line else f"on lines {first} and {line}"
                    )
                    raise InputError(
                        f"duplicate key {key!r} {where} (YAML would silently keep only the last)",
                        path=path,
                        line=line,
                        field=field_name((*prefix, key)),
                    )
                seen[ident] = line
            out[(*prefix, key)] = line
            _walk(value_node, (*prefix, key), out, path)
            out[(*prefix, key)] = line
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*prefix, index), out, path)


def field_name(loc: tuple[Any, ...]) -> str:
    """``suites.demo.checks[0].type``: keys joined by dots, list indices in brackets."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out


def line_for(positions: Positions, loc: tuple[Any, ...], default: int | None = None) -> int | None:
    """Line of the deepest known prefix of ``loc`` (YAML keys are strings, loc ints stay ints)."""
    loc = tuple(str(part) if not isinstance(part, int) else part for part in loc)
    for end in range(len(loc), -1, -1):
        line = positions.get(loc[:end])
        if line is not None:
            return line
    return default


def pydantic_error_to_input_error(
    exc: ValidationError,
    path: str | Path,
    positions: Positions,
    *,
    prefix: tuple[Any, ...] = (),
    default_line: int | None = None,
) -> InputError:
    """Turn the first pydantic error into an InputError pointing at the offending line."""
    err = exc.errors()[0]
    loc = tuple(err["loc"])
    field = ".".join(str(p) for p in (*prefix, *loc)) or None
    line = line_for(positions, (*prefix, *loc), default_line)
    message = err["msg"]
    if err["type"] == "extra_forbidden":
        message = "unknown field"
    elif err["type"] == "missing":
        message = "required field is missing"
    more = len(exc.errors()) - 1
    if more:
        message += f" (and {more} more error{'s' if more > 1 else ''})"
    return InputError(message, path=path, line=line, field=field)


def load_model(
    path: str | Path,
    model: type[M],
    *,
    not_a_mapping: str,
    defaults: dict[str, Any] | None = None,
    empty_ok: bool = False,
) -> tuple[M, Positions]:
    """Read a YAML file that holds one mapping and validate it as ``model``.

    Every error names the file, and the line and field where pydantic found the problem;
    ``not_a_mapping`` is the message when the document is not a mapping at all.
    """
    p = Path(path)
    data, positions = load_yaml(read_text(p), p)
    if data is None and empty_ok:
        data = {}
    if not isinstance(data, dict):
        raise InputError(not_a_mapping, path=p, line=1)
    try:
        return model.model_validate({**(defaults or {}), **data}), positions
    except ValidationError as exc:
        raise pydantic_error_to_input_error(exc, p, positions, default_line=1) from None
