"""The JSON Schema of evalkit.yaml, for editors (``evalkit schema``, YAML language server).

Built from the same models that validate the file, with every field's description from
:mod:`evalkit.report.fields` and the ``checks:`` lists typed per check (each registered type and
its ``not-`` form, with its own parameters), so an editor completes and flags what
``evalkit validate`` would.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel

from evalkit.report.fields import field_doc, field_key, nested_models, shown_fields

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _describe(schema: dict[str, Any], root: type[BaseModel]) -> None:
    """Put each field's description into the generated schema (pydantic skips ``#:`` notes)."""
    seen: list[type[BaseModel]] = []
    queue = [root]
    while queue:
        cls = queue.pop(0)
        if cls in seen:
            continue
        seen.append(cls)
        node = schema if cls is root else schema["$defs"].get(cls.__name__)
        if node is None:
            continue
        for shown, field in shown_fields(cls):
            prop = node.get("properties", {}).get(shown)
            if prop is not None:
                prop["description"] = field_doc(cls, field_key(cls, shown))
            queue += nested_models(field.annotation)
        if cls.__doc__ and cls.__doc__ != BaseModel.__doc__:
            node["description"] = cls.__doc__.strip().splitlines()[0].replace("``", "`")


def _check_schema(defs: dict[str, Any]) -> dict[str, Any]:
    """One branch per registered check type; nested checks refer back to ``#/$defs/Check``."""
    from evalkit.grading.check import REGISTRY

    branches = []
    for name in sorted(REGISTRY):
        one = copy.deepcopy(REGISTRY[name].model_json_schema())
        for def_name, definition in one.pop("$defs", {}).items():
            if def_name != "Check":
                defs.setdefault(def_name, definition)
        one.pop("title", None)
        props = one.setdefault("properties", {})
        props.pop("negate", None)
        props["type"] = {"enum": [name, f"not-{name}"]}
        one["description"] = (one.get("description") or name).replace("``", "`")
        branches.append(one)
    return {"type": "object", "required": ["type"], "anyOf": branches}


def config_schema() -> dict[str, Any]:
    """The JSON Schema of evalkit.yaml (JSON Schema 2020-12)."""
    from evalkit.model.config import ProjectConfig

    schema = ProjectConfig.model_json_schema()
    for name, field in ProjectConfig.model_fields.items():
        if field.exclude:
            schema["properties"].pop(name, None)
    _describe(schema, ProjectConfig)
    defs = schema["$defs"]
    defs["Check"] = _check_schema(defs)
    defs["SuiteConfig"]["properties"]["checks"]["items"] = {"$ref": "#/$defs/Check"}
    schema["$schema"] = SCHEMA_DIALECT
    schema["title"] = "evalkit.yaml"
    schema["description"] = "An evalkit project: suites, calibration thresholds and plugins."
    return schema
