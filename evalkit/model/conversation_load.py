"""Loading and validating conversation cases: tools files, cross-field rules, tool names.

Every error is an InputError naming the golden file, the line (of the field itself when the
YAML positions are known) and the field (``case.tool_results[0].tool``), so ``evalkit
validate`` reports a bad conversation before any model is called.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from evalkit.base.exceptions import InputError
from evalkit.model.conversation import ToolDef, TurnError, conversation_turns


def load_tools_file(path: Path) -> list[ToolDef]:
    """A tools file: a YAML (or JSON) list of tool definitions, or a mapping with ``tools:``."""
    from evalkit.base.files import read_text
    from evalkit.base.yamlpos import load_yaml, pydantic_error_to_input_error

    data, positions = load_yaml(read_text(path), path)
    prefix: tuple[Any, ...] = ()
    if isinstance(data, dict) and "tools" in data:
        data, prefix = data["tools"], ("tools",)
    if not isinstance(data, list) or not data:
        raise InputError("a tools file must be a non-empty list of tools", path=path, line=1)
    tools: list[ToolDef] = []
    for index, raw in enumerate(data):
        try:
            tools.append(ToolDef.model_validate(raw))
        except ValidationError as exc:
            raise pydantic_error_to_input_error(
                exc, path, positions, prefix=(*prefix, index)
            ) from None
    duplicate = _duplicate_name(tools)
    if duplicate:
        raise InputError(f"tool {duplicate!r} is defined twice", path=path, field="name")
    return tools


def _duplicate_name(tools: list[ToolDef]) -> str | None:
    seen: set[str] = set()
    for tool in tools:
        if tool.name in seen:
            return tool.name
        seen.add(tool.name)
    return None


def check_inline_tools(
    raw: dict[str, Any], path: str | Path, positions: dict[tuple[Any, ...], int], line: int
) -> None:
    """Validate an inline ``tools:`` list on its own first, so an error points at the tool
    (``tools.0.parameters``, its line) rather than at a union of list and file name."""
    tools = raw.get("tools")
    if not isinstance(tools, list):
        return
    from evalkit.base.yamlpos import pydantic_error_to_input_error

    for index, item in enumerate(tools):
        try:
            ToolDef.model_validate(item)
        except ValidationError as exc:
            raise pydantic_error_to_input_error(
                exc, path, positions, prefix=("tools", index), default_line=line
            ) from None


class _Where:
    """Where a case's fields are: errors point at the field's own line when it is known."""

    def __init__(
        self,
        path: str | Path,
        line: int | None,
        case_id: str,
        positions: dict[tuple[Any, ...], int] | None = None,
    ) -> None:
        self.path, self.line, self.case_id = path, line, case_id
        self.positions = positions or {}

    def error(self, message: str, *key: Any) -> InputError:
        field = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in key)
        line = self.positions.get(key, self.line)
        return InputError(message, path=self.path, line=line, field=f"{self.case_id}{field}")


def check_case(
    case: Any,
    path: str | Path,
    line: int | None,
    positions: dict[tuple[Any, ...], int] | None = None,
) -> None:
    """Cross-field rules of a conversation case, as an InputError naming the field (and its
    line when ``positions``, the case's key paths to lines, are given)."""
    where = _Where(path, line, case.id, positions)
    if case.messages:
        try:
            conversation_turns(case.messages)
        except TurnError as exc:
            raise where.error(str(exc), "messages", exc.index) from None
    if case.tools is None:
        if case.tool_results:
            raise where.error(
                "`tool_results` needs `tools` (inline or a tools file)", "tool_results"
            )
        for index, turn in enumerate(case.messages):
            if turn.tool_calls:
                name = turn.tool_calls[0].name
                message = f"the conversation calls {name!r} but the case has no `tools`"
                raise where.error(message, "messages", index)
    elif isinstance(case.tools, list):
        check_tool_names(case, case.tools, where)


def check_tool_names(case: Any, tools: list[ToolDef], where: _Where) -> None:
    """Every tool the case's results and turns name is defined (a typo would never match)."""
    duplicate = _duplicate_name(tools)
    if duplicate:
        raise where.error(f"tool {duplicate!r} is defined twice", "tools")
    names = {t.name for t in tools}
    known = ", ".join(sorted(names))
    for index, rule in enumerate(case.tool_results):
        if rule.tool not in names:
            message = f"no tool {rule.tool!r} in the case's tools ({known})"
            raise where.error(message, "tool_results", index, "tool")
    for index, turn in enumerate(case.messages):
        for call in turn.tool_calls:
            if call.name not in names:
                message = f"no tool {call.name!r} in the case's tools ({known})"
                raise where.error(message, "messages", index)
    for index, raw in enumerate(case.checks):
        for name, key in _checked_tools(raw):
            if name not in names:  # `not-tool-called` on a typo would pass forever
                message = (
                    f"no tool {name!r} in the case's tools ({known}): the check could never "
                    "see a call of it"
                )
                raise where.error(message, "checks", index, *key)


#: tool checks (evalkit.grading.check.tools) and where they name tools
_TOOL_CHECKS = {"tool-called": "tool", "max-tool-calls": "tool", "tool-sequence": "tools"}


def _checked_tools(raw: Any) -> list[tuple[str, tuple[Any, ...]]]:
    """(tool name, key path) of every tool a case's tool check names (templates skipped)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        return []
    field = _TOOL_CHECKS.get(raw["type"].removeprefix("not-"), "")
    value = raw.get(field)
    found: list[tuple[Any, tuple[Any, ...]]]
    if field == "tool":
        found = [(value, (field,))]
    elif isinstance(value, list):
        found = [
            (item.get("tool") if isinstance(item, dict) else item, (field, i))
            for i, item in enumerate(value)
        ]
    else:
        found = []
    return [(n, key) for n, key in found if isinstance(n, str) and "{{" not in n]


def resolve_tools(golden: Any, root: Path) -> None:
    """Replace every case's tools-file reference by the tools it defines (each file read once).

    A missing or invalid file is an InputError at the case that names it.
    """
    loaded: dict[Path, list[ToolDef]] = {}
    for case in golden.cases:
        if not isinstance(case.tools, str):
            continue
        line = golden.line_of(case.id)
        where = Path(case.tools)
        file = where if where.is_absolute() else root / where
        if file not in loaded:
            if not file.is_file():
                raise InputError(
                    f"tools file {case.tools!r} not found (relative to {root})",
                    path=golden.path,
                    line=line,
                    field=f"{case.id}.tools",
                )
            loaded[file] = load_tools_file(file)

        check_tool_names(case, loaded[file], _Where(golden.path, line, case.id))
        case.tools = loaded[file]
