"""JSON / structured-output checks.

Output that is not JSON makes these checks **fail** (the output is at fault) with a reason that
quotes where parsing stopped; they **error** only when they cannot run (no ``expected`` to
compare with). With ``extract: true`` the JSON is first found in fenced blocks or chatty prose,
exactly as the ``json-extract`` check does. Schema files, models and paths are loaded and
validated when the config is parsed, so a typo is a file:line error, not a failure per case.
"""

from __future__ import annotations

import contextlib
import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from evalkit.base.exceptions import InputError
from evalkit.base.files import loads_json, read_text
from evalkit.base.imports import import_object
from evalkit.base.yamlpos import load_yaml
from evalkit.grading.check._jsonparse import (
    EXTRACT_HELP,
    Parsed,
    differences,
    json_equal,
    load_output,
    snippet,
)
from evalkit.grading.check._jsonpath import JsonPath, compile_path
from evalkit.grading.check._regex import Pattern, compile_regex, search
from evalkit.grading.check.base import (
    JSON_PATH,
    Check,
    CheckContext,
    context_base_dir,
    reference,
    register,
    verdict,
)
from evalkit.grading.check.text import as_text
from evalkit.model.outcome import CheckResult

if TYPE_CHECKING:
    from jsonschema.protocols import Validator


class _JsonCheck(Check):
    """Base of checks reading the output as JSON: one parse per output, shared and memoised."""

    extract: bool = Field(default=False, description=EXTRACT_HELP)

    def _parse(self, ctx: CheckContext) -> Parsed:
        return load_output(ctx.output, self.extract)


@register("json-valid")
class JsonValid(_JsonCheck):
    """The output is valid JSON."""

    example = "- {type: json-valid}\n- {type: json-valid, extract: true}"

    def run(self, ctx: CheckContext) -> CheckResult:
        parsed = self._parse(ctx)
        if not parsed.ok:
            return CheckResult.failed(self.type_name, parsed.error)
        return CheckResult.passed(self.type_name, f"valid JSON {type(parsed.value).__name__}")


@register("json-extract")
class JsonExtract(Check):
    """A JSON object or array can be found in the output (whole, in a ``` fence, or in prose).

    The same extraction runs before any JSON check given ``extract: true``.
    """

    example = "- {type: json-extract}"

    def run(self, ctx: CheckContext) -> CheckResult:
        parsed = load_output(ctx.output, True)
        if not parsed.ok:
            return CheckResult.failed(self.type_name, parsed.error)
        start, end = parsed.span or (0, len(ctx.output))
        kind = "object" if isinstance(parsed.value, dict) else "array"
        return CheckResult.passed(self.type_name, f"found a JSON {kind} at chars {start}-{end}")


@lru_cache(maxsize=64)
def _load_schema(path: Path, mtime: float) -> Validator:
    # imported here: jsonschema costs ~25 ms at start-up and only json-schema needs it
    from jsonschema import exceptions as schema_errors
    from jsonschema.validators import validator_for

    try:
        text = read_text(path)
        schema = load_yaml(text, path)[0] if path.suffix in (".yaml", ".yml") else loads_json(text)
    except InputError as exc:
        raise ValueError(f"cannot read JSON Schema: {exc}") from None
    except ValueError as exc:
        raise ValueError(f"cannot read JSON Schema {str(path)!r}: {exc}") from None
    cls = validator_for(schema)
    try:
        cls.check_schema(schema)
    except schema_errors.SchemaError as exc:
        raise ValueError(f"invalid JSON Schema in {str(path)!r}: {exc.message}") from None
    validator: Validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    return validator


def load_schema(spec: str, base_dir: Path) -> Validator:
    """The compiled validator of a schema file, relative to the project directory."""
    path = (base_dir / spec).resolve()
    if not path.is_file():
        raise ValueError(f"schema file {spec!r} not found (looked in {base_dir})")
    return _load_schema(path, path.stat().st_mtime)


def load_model(spec: str, base_dir: Path) -> type[BaseModel]:
    obj = import_object(spec, base_dir)
    if not (isinstance(obj, type) and issubclass(obj, BaseModel)):
        raise ValueError(f"{spec!r} is not a pydantic model class")
    return obj


@register("json-schema")
class JsonSchema(_JsonCheck):
    """The output is JSON that validates against a JSON Schema file or a pydantic model.

    ``schema`` is relative to the project directory (where evalkit.yaml is); the file is read
    and checked to be a valid schema when the config loads.
    """

    example = (
        "- {type: json-schema, schema: schemas/reply.json}\n"
        '- {type: json-schema, model: "support_models:Reply", extract: true}'
    )
    no_template = frozenset({"schema_", "model"})
    schema_: str | None = Field(
        default=None, alias="schema", description="JSON Schema file (.json or .yaml)"
    )
    model: str | None = Field(default=None, description="pydantic model as `module:Class`")
    _validator: Validator | None = PrivateAttr(default=None)
    _model: type[BaseModel] | None = PrivateAttr(default=None)

    @field_validator("schema_")
    @classmethod
    def _schema_exists(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            load_schema(value, context_base_dir(info))
        return value

    @field_validator("model")
    @classmethod
    def _model_imports(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            load_model(value, context_base_dir(info))
        return value

    @model_validator(mode="after")
    def _load(self, info: ValidationInfo) -> JsonSchema:
        if (self.schema_ is None) == (self.model is None):
            raise ValueError("give exactly one of `schema` or `model`")
        base = context_base_dir(info)
        if self.schema_ is not None:
            self._validator = load_schema(self.schema_, base)
        else:
            self._model = load_model(str(self.model), base)
        return self

    def run(self, ctx: CheckContext) -> CheckResult:
        parsed = self._parse(ctx)
        if not parsed.ok:
            return CheckResult.failed(self.type_name, parsed.error)
        if self._validator is not None:
            errors = [
                f"at {e.json_path}: {e.message}"
                for e in sorted(self._validator.iter_errors(parsed.value), key=str)[:3]
            ]
        else:
            assert self._model is not None
            try:
                self._model.model_validate(parsed.value)
                errors = []
            except ValidationError as exc:
                errors = [
                    f"at $.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3]
                ]
        source = self.schema_ or self.model
        if errors:
            return CheckResult.failed(
                self.type_name, f"does not match {source}: " + "; ".join(errors)
            )
        return CheckResult.passed(self.type_name, f"matches {source}")


@register("json-path")
class JsonPathCheck(_JsonCheck):
    """A value at a JSON path exists, equals, contains or matches something.

    Give one of ``exists``, ``equals``, ``contains`` or ``matches`` (default: ``exists: true``).
    With a wildcard path (``items[*].id``) every value found must satisfy it, and a path that
    finds nothing fails (except for ``exists: false``). ``contains`` means: an element of a list,
    a substring of a string, or a key of an object.
    """

    example = (
        "- {type: json-path, path: answer, exists: true}\n"
        '- {type: json-path, path: "citations[0]", equals: policy-3}\n'
        "- {type: json-path, path: answer, contains: refund}\n"
        '- {type: json-path, path: "items[*].sku", matches: "^[A-Z]{3}-\\\\d+$"}'
    )
    no_template = frozenset({"path", "matches"})
    path: Annotated[str, JSON_PATH] = Field(
        description="JSON path, e.g. `answer`, `citations[0].id`, `items[*].sku`"
    )
    exists: bool | None = Field(default=None, description="the path finds a value (or not)")
    equals: Any = Field(default=None, description="every value found equals this")
    contains: Any = Field(default=None, description="every value found contains this")
    matches: str | None = Field(default=None, description="every value found matches this regex")
    _path: JsonPath = PrivateAttr()
    _regex: Pattern | None = PrivateAttr(default=None)
    _mode: str = PrivateAttr(default="exists")

    @model_validator(mode="after")
    def _one_assertion(self) -> JsonPathCheck:
        given = [
            k for k in ("exists", "equals", "contains", "matches") if k in self.model_fields_set
        ]
        if len(given) > 1:
            raise ValueError(f"give only one of exists, equals, contains, matches (got {given})")
        self._mode = given[0] if given else "exists"
        self._path = compile_path(self.path)
        if self.matches is not None:
            self._regex = compile_regex(self.matches)
        return self

    def run(self, ctx: CheckContext) -> CheckResult:
        parsed = self._parse(ctx)
        if not parsed.ok:
            return CheckResult.failed(self.type_name, parsed.error)
        found = self._path.find(parsed.value)
        where = self.path
        if self._mode == "exists" and self.exists is False:
            return verdict(
                self.type_name,
                not found,
                f"{where} is absent" if not found else f"{where} exists: {_show(found)}",
            )
        if not found:
            return CheckResult.failed(self.type_name, f"{where} not found in the output JSON")
        if self._mode == "exists":
            return CheckResult.passed(self.type_name, f"{where} = {_show(found)}")
        bad = [value for value in found if not self._holds(value)]
        if self._mode == "equals":
            want = f"equal {json.dumps(self.equals, ensure_ascii=False)}"
        elif self._mode == "contains":
            want = f"contain {json.dumps(self.contains, ensure_ascii=False)}"
        else:
            want = f"match /{self.matches}/"
        if bad:
            return CheckResult.failed(
                self.type_name, f"{where} = {_show(bad)}, expected it to {want}"
            )
        return CheckResult.passed(self.type_name, f"{where} = {_show(found)} ({want})")

    def _holds(self, value: Any) -> bool:
        if self._mode == "equals":
            return json_equal(value, self.equals)
        if self._mode == "contains":
            if isinstance(value, list):
                return any(json_equal(item, self.contains) for item in value)
            if isinstance(value, (str, dict)):  # a substring, or a key
                return isinstance(self.contains, str) and self.contains in value
            return False
        assert self._regex is not None
        return search(self._regex, as_text(value)) is not None


def _show(values: list[Any]) -> str:
    shown = values[0] if len(values) == 1 else values
    return snippet(json.dumps(shown, ensure_ascii=False))


@register("json-equals")
class JsonEquals(_JsonCheck):
    """The output JSON equals a reference value, ignoring key order and ``exclude``d paths.

    The reference defaults to the case's ``expected`` (a mapping, or a string holding JSON).
    """

    example = (
        '- {type: json-equals, exclude: [request_id, "items[*].updated_at"]}\n'
        "- {type: json-equals, value: {status: refunded, amount: 42}}"
    )
    no_template = frozenset({"exclude"})
    value: Any = Field(default=None, description="reference JSON value; default: `expected`")
    exclude: Annotated[list[str], JSON_PATH] = Field(
        default_factory=list, description="JSON paths to ignore"
    )
    _exclude: tuple[JsonPath, ...] = PrivateAttr(default=())

    @model_validator(mode="after")
    def _compile(self) -> JsonEquals:
        self._exclude = tuple(compile_path(p) for p in self.exclude)
        return self

    def run(self, ctx: CheckContext) -> CheckResult:
        want = reference(self.value, ctx)
        if isinstance(want, str):
            # a plain string reference compares with a JSON string output
            with contextlib.suppress(ValueError):
                want = json.loads(want)
        parsed = self._parse(ctx)
        if not parsed.ok:
            return CheckResult.failed(self.type_name, parsed.error)
        found = parsed.value
        if self._exclude:
            want, found = copy.deepcopy(want), copy.deepcopy(found)
            for path in self._exclude:
                path.delete(want)
                path.delete(found)
        if json_equal(want, found):
            return CheckResult.passed(self.type_name, "JSON equal (key order ignored)")
        diffs = differences(want, found)
        return CheckResult.failed(self.type_name, "JSON differs: " + "; ".join(diffs))
