from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from evalkit.base.exceptions import InputError, TemplateError
from evalkit.grading.check import REGISTRY, Check, CheckContext, parse_check, register
from evalkit.grading.check._docs import generate
from evalkit.model.outcome import Outcome

from .helpers import FIXTURES, POLICY, case, ctx, grade, make

PASS, FAIL, ERROR = Outcome.PASS, Outcome.FAIL, Outcome.ERROR
ROOT = Path(__file__).resolve().parents[3]
BUILTIN = sorted(
    n for n, c in REGISTRY.items() if c.__module__.startswith("evalkit.grading.check.")
)
EXPECTED_TYPES = {
    "equals", "contains", "icontains", "contains-any", "contains-all", "starts-with",
    "ends-with", "regex", "similar", "length", "rouge-l", "json-valid", "json-schema",
    "json-extract", "json-path", "json-equals", "citations", "quotes-grounded", "no-pii",
    "refusal", "latency", "cost", "tokens", "python", "all", "any",
}  # fmt: skip


def examples(name: str) -> list[dict[str, Any]]:
    items = yaml.safe_load(REGISTRY[name].example)
    assert isinstance(items, list) and items, f"{name} has no YAML example list"
    return items


def test_every_listed_check_is_registered() -> None:
    assert set(BUILTIN) >= EXPECTED_TYPES


@pytest.mark.parametrize("name", BUILTIN)
def test_every_check_is_documented_with_parsing_examples(name: str) -> None:
    cls = REGISTRY[name]
    assert (cls.__doc__ or "").strip(), f"{name} has no docstring"
    for field_name, field in cls.model_fields.items():
        if field_name not in Check.model_fields:
            assert field.description, f"{name}.{field_name} has no description"
    for raw in examples(name):
        check = make(raw)
        assert check.type_name == name


def test_docs_are_generated_from_the_registry() -> None:
    committed = (ROOT / "docs" / "checks.md").read_text(encoding="utf-8")
    assert committed == generate(), "run: python -m evalkit.grading.check._docs > docs/checks.md"


GOOD = ctx(
    json.dumps({"answer": "Orders over 7 days late are refundable.", "citations": ["policy-3"]}),
    case(expected={"answer": "x"}, context=POLICY, vars={"question": "refund?"}),
    latency_ms=120.0,
    cost_usd=0.001,
    input_tokens=300,
    output_tokens=60,
)
PROSE = ctx(
    "I'm unable to share that. Email me at a@b.co, order #123456. " * 3,
    case(expected="Refund approved", context=POLICY),
    latency_ms=9000.0,
    cost_usd=1.0,
    input_tokens=10_000,
    output_tokens=5_000,
)
BROKEN = CheckContext(output=None, case=case(), base_dir=FIXTURES)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", BUILTIN)
@pytest.mark.parametrize("context", [GOOD, PROSE, BROKEN], ids=["good", "prose", "broken"])
def test_negation_of_every_check(name: str, context: CheckContext) -> None:
    for raw in examples(name):
        base_type = raw["type"].removeprefix("not-")
        plain = make({**raw, "type": base_type})
        negated = make({**raw, "type": f"not-{base_type}"})
        a, b = plain.evaluate(context), negated.evaluate(context)
        assert b.outcome is a.outcome.negated(), (raw, a.reason, b.reason)
        assert b.name == f"not-{base_type}"
        if a.score is None:
            assert b.score is None
        else:
            assert b.score == pytest.approx(1 - a.score)


@pytest.mark.parametrize("name", BUILTIN)
def test_a_check_that_cannot_run_errors_instead_of_crashing(name: str) -> None:
    for raw in examples(name):
        result = make(raw).evaluate(BROKEN)
        assert result.outcome is ERROR, (raw, result.reason)
        assert result.score is None and result.reason


@pytest.mark.parametrize("name", BUILTIN)
def test_every_check_grades_real_outputs(name: str) -> None:
    for raw in examples(name):
        for context in (GOOD, PROSE):
            result = make(raw).evaluate(context)
            assert result.reason
            assert result.score is None or 0.0 <= result.score <= 1.0


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ({"type": "contians", "value": "x"}, "checks.type", "unknown check type 'contians'"),
        ({"type": "not-nope"}, "checks.type", "unknown check type 'not-nope'"),
        ({"value": "x"}, "checks.type", "no `type`"),
        ({"type": "contains", "valeu": "x"}, "checks.valeu", "unknown parameter"),
        ({"type": "regex", "pattern": "a(b"}, "checks.pattern", "invalid regex"),
        ({"type": "json-schema", "schema": "nope.json"}, "checks.schema", "not found"),
        ({"type": "json-path", "path": "a.[0"}, "checks.path", "invalid JSON path"),
        ({"type": "contains", "value": "x", "weight": -1}, "checks.weight", "greater than"),
    ],
)
def test_parse_errors_name_file_line_and_field(raw: Any, field: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        parse_check(
            raw, path="goldens/support.yaml", line=12, field_prefix="checks", base_dir=FIXTURES
        )
    err = info.value
    assert (err.path, err.line, err.field) == ("goldens/support.yaml", 12, field)
    assert message in err.message
    assert str(err).startswith(f"goldens/support.yaml:12: {field}: ")


def test_unknown_parameter_lists_the_known_ones() -> None:
    with pytest.raises(InputError) as info:
        make({"type": "contains", "valeu": "x"})
    assert "value" in info.value.message and "ignore_case" in info.value.message


def test_not_a_mapping() -> None:
    with pytest.raises(InputError, match="must be a mapping"):
        make("contains")  # type: ignore[arg-type]


def test_field_prefix_is_used() -> None:
    with pytest.raises(InputError) as info:
        parse_check({"type": "regex", "pattern": "("}, field_prefix="suites.support.checks.2")
    assert info.value.field == "suites.support.checks.2.pattern"


def test_templating_threshold_weight_and_label() -> None:
    the_case = case(expected="refund approved", vars={"word": "refund"})
    assert grade({"type": "contains", "value": "{{ word }}"}, "a refund", the_case).outcome is PASS
    result = grade({"type": "contains", "value": "{{ missing }}"}, "x", the_case)
    assert result.outcome is ERROR and "missing" in result.reason
    result = grade({"type": "similar", "threshold": 0.95}, "refund aproved", the_case)
    assert result.outcome is FAIL and "< threshold 0.95" in result.reason
    result = grade(
        {"type": "similar", "threshold": 0.3, "weight": 3, "label": "close"}, "refund", the_case
    )
    assert (result.outcome, result.weight, result.name) == (PASS, 3, "close")
    assert grade({"type": "equals", "value": "{{ output }}"}, "xyz", the_case).outcome is PASS


def test_negate_flag_and_prefix_are_equivalent() -> None:
    a = grade({"type": "contains", "value": "x", "negate": True}, "abc")
    b = grade({"type": "not-contains", "value": "x"}, "abc")
    assert a.outcome is b.outcome is PASS


def test_register_rules() -> None:
    with pytest.raises(ValueError, match="not-"):
        register("not-thing")(Check)
    with pytest.raises(ValueError, match="already registered"):
        register("contains")(type("Other", (Check,), {}))


def test_parsed_checks_are_frozen_and_reusable() -> None:
    check = make({"type": "regex", "pattern": "a+"})
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen error type varies
        check.pattern = "b"  # type: ignore[misc]
    assert [check.evaluate(ctx(o)).outcome for o in ("aa", "b", "a")] == [PASS, FAIL, PASS]


def test_check_templates_names_a_variable_the_case_lacks() -> None:
    check = make({"type": "contains", "value": "{{ answer }}"})
    check.check_templates(case(vars={"answer": "refund"}))
    with pytest.raises(TemplateError, match="'answer' is undefined"):
        check.check_templates(case(vars={"question": "q"}))


def test_check_templates_reaches_nested_checks() -> None:
    group = make({"type": "any", "checks": [{"type": "contains", "value": "{{ nope }}"}]})
    with pytest.raises(TemplateError, match="'nope' is undefined"):
        group.check_templates(case())


def test_check_templates_accepts_output_and_case_fields() -> None:
    check = make({"type": "contains", "value": "{{ id }} {{ expected }} {{ output }}"})
    check.check_templates(case(expected="x"))
    # a failure that depends on the output is the run's to grade, not validate's to refuse
    make({"type": "contains", "value": "{{ output.split()[0] }}"}).check_templates(case())


def test_template_syntax_error_in_a_parameter_is_reported_at_parse() -> None:
    with pytest.raises(InputError) as err:
        make({"type": "contains", "value": "{{ answer"})
    assert (err.value.path, err.value.line, err.value.field) == ("evalkit.yaml", 7, "checks.value")
    assert "template syntax error" in err.value.message


def test_check_templates_renders_case_data_but_not_jinja_globals() -> None:
    nested = make({"type": "contains", "value": "{{ meta.region }}"})
    nested.check_templates(case(vars={"meta": {"region": "eu"}}))
    with pytest.raises(TemplateError, match="has no attribute 'region'"):
        nested.check_templates(case(vars={"meta": {}}))
    make({"type": "contains", "value": "{{ range(2) | list }}"}).check_templates(case())


@pytest.mark.parametrize(
    ("extra", "name", "weight"),
    [({}, "contains", 1.0), ({"label": "mentions-policy"}, "mentions-policy", 1.0),
     ({"weight": 2.5}, "contains", 2.5)],
)  # fmt: skip
def test_the_result_carries_the_checks_label_and_weight(
    extra: dict[str, Any], name: str, weight: float
) -> None:
    for output, outcome in (("refundable", PASS), ("no", FAIL)):
        check = make({"type": "contains", "value": "refundable", **extra})
        result = check.evaluate(ctx(output))
        assert (result.name, result.weight, result.outcome) == (name, weight, outcome)
        assert result.reason  # what the check found or missed


def test_private_state_reads_as_pydantic_stores_it() -> None:
    check = make({"type": "json-path", "path": "answer", "contains": "refundable"})
    private = check.__pydantic_private__
    assert private is not None
    assert check._path is private["_path"]  # type: ignore[attr-defined]
    assert check._mode == "contains"  # type: ignore[attr-defined]
    with pytest.raises(AttributeError, match="no_such_thing"):
        check.no_such_thing  # type: ignore[attr-defined]  # noqa: B018
    with pytest.raises(AttributeError, match="_no_such_private"):
        check._no_such_private  # type: ignore[attr-defined]  # noqa: B018
