"""`evalkit schema`: a JSON Schema that accepts what evalkit validate accepts and flags typos."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from evalkit.cli import main
from evalkit.grading.check import REGISTRY
from evalkit.report.schema import config_schema

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = config_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _errors(validator: jsonschema.Draft202012Validator, config: Any) -> list[str]:
    return [e.message for e in validator.iter_errors(config)]


@pytest.mark.parametrize("path", ["evalkit.yaml", "evalkit/data/init/evalkit.yaml"])
def test_shipped_configs_are_valid(validator: jsonschema.Draft202012Validator, path: str) -> None:
    assert _errors(validator, yaml.safe_load((REPO / path).read_text())) == []


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_check_example_is_valid(
    validator: jsonschema.Draft202012Validator, name: str
) -> None:
    checks = yaml.safe_load(REGISTRY[name].example)
    config = {"suites": {"s": {"goldens": "g.yaml", "target": {"provider": "scripted"}}}}
    config["suites"]["s"]["checks"] = checks
    assert _errors(validator, config) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda s: s["checks"].append({"type": "containz", "value": "x"}), "any of"),
        (lambda s: s["checks"].append({"type": "contains", "valeu": "x"}), "any of"),
        (lambda s: s.update(repeats=0), "less than the minimum of 1"),
        (lambda s: s.update(concurency=4), "Additional properties"),
        (lambda s: s["target"].update(provider="gemini"), "is not one of"),
        (lambda s: s.update(gate={"fail_on": "maybe"}), "is not one of"),
    ],
)
def test_typos_are_flagged(
    validator: jsonschema.Draft202012Validator, change: Any, expected: str
) -> None:
    config = yaml.safe_load((REPO / "evalkit.yaml").read_text())
    change(config["suites"]["support"])
    assert any(expected in message for message in _errors(validator, config))


def test_fields_carry_their_descriptions() -> None:
    defs = config_schema()["$defs"]
    assert "retry" in defs["SuiteConfig"]["properties"]["retry"]["description"]
    assert defs["Gate"]["properties"]["max_judge_error_rate"]["description"].startswith("per judge")
    assert "root" not in config_schema()["properties"]


def test_cli_prints_the_schema_with_the_projects_plugin_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "my_checks.py").write_text(
        "import evalkit\n\n@evalkit.check\ndef shouty_free(output, case):\n"
        "    return not output.isupper()\n"
    )
    (tmp_path / "evalkit.yaml").write_text(
        "plugins: [my_checks]\nsuites:\n  s:\n    goldens: g.yaml\n"
        "    target: {provider: scripted, script: s.yaml}\n"
    )
    monkeypatch.chdir(tmp_path)
    try:
        main(["schema"])
    finally:
        REGISTRY.pop("shouty-free", None)
    schema = json.loads(capsys.readouterr().out)
    types = [b["properties"]["type"]["enum"][0] for b in schema["$defs"]["Check"]["anyOf"]]
    assert "shouty-free" in types and "contains" in types
