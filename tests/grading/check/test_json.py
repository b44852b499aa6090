from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.base.exceptions import InputError
from evalkit.grading.check import parse_check
from evalkit.grading.check._jsonparse import extract_json
from evalkit.model.outcome import Outcome

from .helpers import FIXTURES, case, ctx, grade, make

PASS, FAIL, ERROR = Outcome.PASS, Outcome.FAIL, Outcome.ERROR
REPLY = {"answer": "Yes, refundable.", "citations": ["policy-3"]}
TEXT = json.dumps(REPLY)
CHATTY = f"Sure! Here is the reply [1]:\n```json\n{json.dumps(REPLY, indent=2)}\n```\nThanks."
PROSE = f"Sure! Here is the reply [1]: {TEXT} Hope that helps {{not json}}."


@pytest.mark.parametrize(
    ("raw", "output", "outcome"),
    [
        ({"type": "json-valid"}, TEXT, PASS),
        ({"type": "json-valid"}, "[1, 2]", PASS),
        ({"type": "json-valid"}, CHATTY, FAIL),
        ({"type": "json-valid", "extract": True}, CHATTY, PASS),
        ({"type": "json-valid", "extract": True}, "no json here", FAIL),
        ({"type": "json-extract"}, CHATTY, PASS),
        ({"type": "json-extract"}, PROSE, PASS),
        ({"type": "json-extract"}, "just words {oops", FAIL),
        ({"type": "json-schema", "schema": "schemas/reply.json"}, TEXT, PASS),
        ({"type": "json-schema", "schema": "schemas/reply.json"}, '{"answer": 3}', FAIL),
        ({"type": "json-schema", "schema": "schemas/reply.json"}, CHATTY, FAIL),
        ({"type": "json-schema", "schema": "schemas/reply.json", "extract": True}, CHATTY, PASS),
        ({"type": "json-schema", "model": "support_models:Reply"}, TEXT, PASS),
        ({"type": "json-schema", "model": "support_models:Reply"}, '{"answer": "x"}', FAIL),
        ({"type": "json-path", "path": "answer"}, TEXT, PASS),
        ({"type": "json-path", "path": "missing"}, TEXT, FAIL),
        ({"type": "json-path", "path": "missing", "exists": False}, TEXT, PASS),
        ({"type": "json-path", "path": "answer", "exists": False}, TEXT, FAIL),
        ({"type": "json-path", "path": "citations[0]", "equals": "policy-3"}, TEXT, PASS),
        ({"type": "json-path", "path": "$.citations[-1]", "equals": "policy-4"}, TEXT, FAIL),
        ({"type": "json-path", "path": "citations", "contains": "policy-3"}, TEXT, PASS),
        ({"type": "json-path", "path": "answer", "contains": "refund"}, TEXT, PASS),
        ({"type": "json-path", "path": "answer", "contains": "credit"}, TEXT, FAIL),
        ({"type": "json-path", "path": "answer", "matches": "^Yes"}, TEXT, PASS),
        ({"type": "json-path", "path": "answer", "matches": "^No"}, TEXT, FAIL),
        ({"type": "json-path", "path": "answer"}, "not json", FAIL),
        ({"type": "json-path", "path": "answer", "extract": True}, PROSE, PASS),
        (
            {
                "type": "json-equals",
                "value": {"citations": ["policy-3"], "answer": "Yes, refundable."},
            },
            TEXT,
            PASS,
        ),
        ({"type": "json-equals", "value": {"answer": "No"}}, TEXT, FAIL),
        ({"type": "json-equals", "value": REPLY}, "oops", FAIL),
    ],
)
def test_pass_and_fail(raw: dict[str, Any], output: str, outcome: Outcome) -> None:
    result = grade(raw, output)
    assert result.outcome is outcome, result.reason
    assert result.reason


def test_not_json_is_a_fail_with_position() -> None:
    result = grade({"type": "json-valid"}, '{"answer": "x",}')
    assert result.outcome is FAIL
    assert "not valid JSON" in result.reason and "column" in result.reason


def test_schema_failure_names_the_field() -> None:
    result = grade({"type": "json-schema", "schema": "schemas/reply.json"}, '{"answer": 3}')
    assert "$.answer" in result.reason and "citations" in result.reason


def test_model_failure_names_the_field() -> None:
    result = grade({"type": "json-schema", "model": "support_models:Reply"}, '{"answer": "x"}')
    assert "$.citations" in result.reason


def test_json_path_wildcards_require_every_value() -> None:
    doc = json.dumps({"items": [{"sku": "ABC-1"}, {"sku": "ABC-2"}, {"sku": "x"}]})
    raw = {"type": "json-path", "path": "items[*].sku", "matches": r"^[A-Z]{3}-\d+$"}
    result = grade(raw, doc)
    assert result.outcome is FAIL and '"x"' in result.reason
    assert grade({"type": "json-path", "path": "items.*.sku"}, doc).outcome is PASS
    assert (
        grade({"type": "json-path", "path": "items.1.sku", "equals": "ABC-2"}, doc).outcome is PASS
    )


def test_json_path_equals_respects_json_types() -> None:
    doc = '{"flag": true, "n": 1, "key with space": 2}'
    assert grade({"type": "json-path", "path": "n", "equals": True}, doc).outcome is FAIL
    assert grade({"type": "json-path", "path": "flag", "equals": True}, doc).outcome is PASS
    assert grade({"type": "json-path", "path": "n", "equals": 1.0}, doc).outcome is PASS
    raw = {"type": "json-path", "path": '["key with space"]', "equals": 2}
    assert grade(raw, doc).outcome is PASS


def test_json_path_templated_equals() -> None:
    the_case = case(expected="policy-3")
    raw = {"type": "json-path", "path": "citations[0]", "equals": "{{ expected }}"}
    assert grade(raw, TEXT, the_case).outcome is PASS


def test_json_equals_ignores_order_and_excluded_paths() -> None:
    want = {"status": "ok", "items": [{"id": 1, "ts": "a"}], "request_id": "r1"}
    got = json.dumps({"request_id": "r2", "items": [{"ts": "b", "id": 1}], "status": "ok"})
    raw: dict[str, Any] = {"type": "json-equals", "value": want}
    result = grade(raw, got)
    assert result.outcome is FAIL
    assert "$.items[0].ts" in result.reason and "$.request_id" in result.reason
    raw["exclude"] = ["request_id", "items[*].ts"]
    assert grade(raw, got).outcome is PASS
    assert want["request_id"] == "r1"  # the reference is not mutated by exclusion


def test_json_equals_defaults_to_expected_and_parses_string_expected() -> None:
    assert grade({"type": "json-equals"}, TEXT, case(expected=REPLY)).outcome is PASS
    assert grade({"type": "json-equals"}, TEXT, case(expected=TEXT)).outcome is PASS
    result = grade({"type": "json-equals"}, TEXT)
    assert result.outcome is ERROR and "no `expected`" in result.reason


def test_schema_resolves_relative_to_base_dir(tmp_path: Path) -> None:
    (tmp_path / "s.json").write_text('{"type": "array"}')
    check = parse_check({"type": "json-schema", "schema": "s.json"}, base_dir=tmp_path)
    assert check.evaluate(ctx("[1]")).outcome is PASS
    assert check.evaluate(ctx("{}")).outcome is FAIL


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ({"type": "json-schema", "schema": "schemas/missing.json"}, "checks.schema", "not found"),
        (
            {"type": "json-schema", "schema": "schemas/broken.json"},
            "checks.schema",
            "invalid JSON Schema",
        ),
        ({"type": "json-schema", "model": "support_models:Nope"}, "checks.model", "no attribute"),
        (
            {"type": "json-schema", "model": "support_models:NOT_A_MODEL"},
            "checks.model",
            "not a pydantic",
        ),
        ({"type": "json-schema", "model": "no_such_module_x:M"}, "checks.model", "cannot import"),
        ({"type": "json-schema"}, "checks", "exactly one"),
        ({"type": "json-path", "path": "a..b"}, "checks.path", "invalid JSON path"),
        ({"type": "json-path", "path": "a[x]"}, "checks.path", "invalid JSON path"),
        ({"type": "json-path", "path": "a", "equals": 1, "exists": True}, "checks", "only one"),
        ({"type": "json-path", "path": "a", "matches": "("}, "checks", "invalid regex"),
        ({"type": "json-equals", "exclude": ["ok", "[bad"]}, "checks.exclude", "invalid JSON path"),
    ],
)
def test_bad_parameters_fail_at_load(raw: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        make(raw)
    assert info.value.field == field
    assert message in info.value.message


def test_json_schema_fields_exist_as_documented() -> None:
    assert (FIXTURES / "schemas" / "reply.json").is_file()


# --- json-extract properties -------------------------------------------------------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
_objects = st.dictionaries(st.text(max_size=6), _json, min_size=1, max_size=4)
# prose without brackets or braces: anything else (quotes, backticks, newlines, unicode) goes
_prose = st.text(
    st.characters(blacklist_characters="{}[]", blacklist_categories=("Cs",)), max_size=60
)


@settings(max_examples=150, deadline=None)
@given(_objects, _prose, _prose, st.sampled_from(["plain", "fence", "json-fence"]), st.booleans())
def test_extract_recovers_embedded_object(
    obj: dict[str, Any], before: str, after: str, wrap: str, indent: bool
) -> None:
    body = json.dumps(obj, indent=2 if indent else None, ensure_ascii=bool(len(before) % 2))
    if wrap == "fence":
        body = f"```\n{body}\n```"
    elif wrap == "json-fence":
        body = f"```json\n{body}\n```"
    found = extract_json(f"{before}\n{body}\n{after}")
    assert found.ok
    assert found.value == obj


def test_yaml_schema_with_a_duplicate_key_names_the_schema_line(tmp_path: Path) -> None:
    schema = tmp_path / "s.yaml"
    schema.write_text("type: object\nrequired: [answer]\ntype: array\n")
    with pytest.raises(InputError) as err:
        parse_check(
            {"type": "json-schema", "schema": "s.yaml"},
            path="evalkit.yaml",
            line=7,
            base_dir=tmp_path,
        )
    assert (err.value.line, err.value.field) == (7, "checks.schema")
    assert f"{schema}:3: type: duplicate key 'type' on lines 1 and 3" in err.value.message


def test_json_schema_with_a_duplicate_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / "s.json").write_text('{"type": "object", "type": "array"}')
    with pytest.raises(InputError) as err:
        parse_check({"type": "json-schema", "schema": "s.json"}, base_dir=tmp_path)
    assert err.value.field == "checks.schema"
    assert "duplicate key 'type'" in err.value.message
