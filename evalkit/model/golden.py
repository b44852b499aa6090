"""Golden cases and their loaders (YAML list, JSONL, CSV)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from evalkit.base.exceptions import InputError
from evalkit.base.files import DuplicateKeyError, csv_header, loads_json, read_text
from evalkit.base.yamlpos import load_yaml, pydantic_error_to_input_error
from evalkit.model.conversation import (
    DEFAULT_MAX_TURNS,
    CaseTurn,
    ToolDef,
    ToolResultRule,
    Turn,
    conversation_turns,
)
from evalkit.model.conversation_load import check_case, check_inline_tools


class ContextDoc(BaseModel):
    """A grounding document the system may cite."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    text: str


class Case(BaseModel):
    """One hand-curated golden case."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    vars: dict[str, Any] = Field(default_factory=dict)
    expected: Any = None
    context: list[ContextDoc] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    checks: list[dict[str, Any]] = Field(default_factory=list)
    judges: list[str] = Field(default_factory=list)
    skip_judges: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    # conversation cases (evalkit.model.conversation): the turns so far and the tools
    messages: list[CaseTurn] = Field(default_factory=list)
    tools: list[ToolDef] | str | None = None
    tool_results: list[ToolResultRule] = Field(default_factory=list)
    max_turns: int = Field(default=DEFAULT_MAX_TURNS, ge=1, le=100)

    @field_validator("id", mode="before")
    @classmethod
    def _id_to_str(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    def template_vars(self) -> dict[str, Any]:
        """Variables available to prompt and check templates for this case."""
        merged: dict[str, Any] = {
            "id": self.id,
            "expected": self.expected,
            "context": [doc.model_dump() for doc in self.context],
            "tags": self.tags,
        }
        merged.update(self.vars)
        return merged

    @property
    def is_conversation(self) -> bool:
        """Whether the case runs as a conversation (turns and/or tools), not one prompt."""
        return bool(self.messages) or self.tools is not None

    def tool_defs(self) -> list[ToolDef]:
        """The case's tools once resolved (a tools file reference is loaded with the suite)."""
        return self.tools if isinstance(self.tools, list) else []

    def turns(self) -> list[Turn]:
        """The conversation so far in the neutral turn shape (validated at load)."""
        return conversation_turns(self.messages)


class GoldenSet(BaseModel):
    """A loaded golden set; ``lines`` maps case id to its source line for error messages."""

    path: str
    cases: list[Case]
    lines: dict[str, int] = Field(default_factory=dict)
    sha: str = ""

    def line_of(self, case_id: str) -> int | None:
        return self.lines.get(case_id)


def load_golden(path: str | Path) -> GoldenSet:
    """Load a golden set from YAML, JSONL or CSV; errors name file, line and field.

    An empty set is an error: nothing downstream (a run, a gate) can say anything about it.
    """
    p = Path(path)
    text = read_text(p)
    suffix = p.suffix.lower()
    items: Iterable[_Item]
    if suffix in (".yaml", ".yml"):
        items = _from_yaml(p, text)
    elif suffix in (".jsonl", ".ndjson"):
        items = _from_jsonl(p, text)
    elif suffix == ".csv":
        items = _from_csv(p, text)
    else:
        raise InputError(
            f"unsupported golden set format {suffix!r} (use .yaml, .jsonl or .csv)", path=p
        )
    cases: list[Case] = []
    lines: dict[str, int] = {}
    for raw, line, positions in items:
        if not isinstance(raw, dict):
            raise InputError("each case must be a mapping with at least an `id`", path=p, line=line)
        check_inline_tools(raw, p, positions, line)
        try:
            case = Case.model_validate(raw)
        except ValidationError as exc:
            raise pydantic_error_to_input_error(exc, p, positions, default_line=line) from None
        check_case(case, p, line, positions)
        if case.id in lines:
            raise InputError(
                f"duplicate case id {case.id!r} (first defined on line {lines[case.id]})",
                path=p,
                line=line,
                field="id",
            )
        lines[case.id] = line
        cases.append(case)
    if not cases:
        raise InputError(
            "the golden set has no cases: there is nothing to run, compare or gate",
            path=p,
            line=1,
        )
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return GoldenSet(path=str(p), cases=cases, lines=lines, sha=sha)


_Item = tuple[Any, int, dict[tuple[Any, ...], int]]


def _from_yaml(path: Path, text: str) -> list[_Item]:
    data, positions = load_yaml(text, path)
    if data is None:
        return []
    if isinstance(data, dict) and "cases" in data:
        data = data["cases"]
        positions = {k[1:]: v for k, v in positions.items() if k and k[0] == "cases"}
    if not isinstance(data, list):
        raise InputError("a golden set must be a list of cases", path=path, line=1)
    per_case: dict[Any, dict[tuple[Any, ...], int]] = {}
    for key, line in positions.items():  # one pass: filtering per case is quadratic
        if key:
            per_case.setdefault(key[0], {})[key[1:]] = line
    return [
        (raw, positions.get((index,), 1), per_case.get(index, {})) for index, raw in enumerate(data)
    ]


def _from_jsonl(path: Path, text: str) -> Iterator[_Item]:
    """Lazily: each case's parsed JSON is dropped once validated (100,000 of them at once would
    double the memory a large golden set takes)."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = loads_json(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON: {exc.msg}", path=path, line=number) from None
        except DuplicateKeyError as exc:
            raise InputError(str(exc), path=path, line=number, field=exc.key) from None
        yield raw, number, {}


def _from_csv(path: Path, text: str) -> list[_Item]:
    """Columns: ``id``, ``vars.<name>``, ``expected``, ``tags`` (comma or ``|`` separated)."""
    reader = csv.DictReader(io.StringIO(text))
    csv_header(reader.fieldnames, path)
    out: list[_Item] = []
    allowed = {"id", "expected", "tags"}
    for row in reader:
        line = reader.line_num
        raw: dict[str, Any] = {"vars": {}}
        for column, value in row.items():
            if column is None:
                raise InputError("row has more cells than the header", path=path, line=line)
            column = column.strip()
            if column.startswith("vars."):
                raw["vars"][column[5:]] = value
            elif column == "tags":
                sep = "|" if "|" in (value or "") else ","
                raw["tags"] = [t.strip() for t in (value or "").split(sep) if t.strip()]
            elif column in allowed:
                if value not in (None, ""):
                    raw[column] = value
            else:
                raise InputError(
                    f"unknown column {column!r} (use id, expected, tags or vars.<name>)",
                    path=path,
                    line=1,
                    field=column,
                )
        out.append((raw, line, {}))
    return out
