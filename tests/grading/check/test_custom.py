from __future__ import annotations

from typing import Any

import pytest

from evalkit.base.exceptions import InputError
from evalkit.grading.check import REGISTRY, check, load_plugins
from evalkit.model.outcome import Outcome

from .helpers import FIXTURES, case, grade, make

PASS, FAIL, ERROR = Outcome.PASS, Outcome.FAIL, Outcome.ERROR


def py(fn: str, **params: Any) -> dict[str, Any]:
    return {"type": "python", "function": f"support_checks:{fn}", **params}


@pytest.mark.parametrize(
    ("raw", "output", "outcome", "reason"),
    [
        (py("mentions_order_id"), "Order #123456 is late", PASS, "returned True"),
        (py("mentions_order_id"), "Your order is late", FAIL, "returned False"),
        (py("max_sentences"), "One. Two.", PASS, "2 sentences (limit 3)"),
        (py("max_sentences", limit=1), "One. Two.", FAIL, "2 sentences (limit 1)"),
        (py("full_result"), "x", FAIL, "custom reason"),
        (py("bad_score"), "x", ERROR, "outside [0, 1]"),
        (py("returns_none"), "x", ERROR, "returned NoneType"),
        (py("crashes"), "x", ERROR, "RuntimeError: boom"),
        (py("is_async"), "x", ERROR, "synchronous"),
        (py("fast_enough"), "x", PASS, "returned True"),
    ],
)
def test_python_check(raw: dict[str, Any], output: str, outcome: Outcome, reason: str) -> None:
    result = grade(raw, output, latency_ms=20.0)
    assert result.outcome is outcome
    assert reason in result.reason


def test_float_scores_pass_at_half_or_threshold() -> None:
    the_case = case(expected="refund approved today")
    result = grade(py("overlap"), "refund approved", the_case)
    assert result.outcome is PASS and result.score == pytest.approx(2 / 3)
    assert grade(py("overlap", threshold=0.9), "refund approved", the_case).outcome is FAIL
    assert grade(py("overlap"), "nothing", the_case).outcome is FAIL


def test_custom_result_keeps_its_score_and_takes_the_check_name() -> None:
    result = grade({**py("full_result"), "label": "mine"}, "x")
    assert result.name == "mine" and result.score == 0.25


def test_string_params_are_templated() -> None:
    the_case = case(vars={"name": "Ada"})
    assert grade(py("says", text="Hi {{ name }}"), "Hi Ada.", the_case).outcome is PASS
    assert grade(py("says", text="Hi {{ name }}"), "Hi Bob.", the_case).outcome is FAIL


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        (py("nope"), "checks.function", "no attribute"),
        ({"type": "python", "function": "no_such_mod_y:f"}, "checks.function", "cannot import"),
        ({"type": "python", "function": "support_checks"}, "checks.function", "module:name"),
        (
            {"type": "python", "function": "support_models:NOT_A_MODEL"},
            "checks.function",
            "not callable",
        ),
        (py("mentions_order_id", limit=3), "checks", "does not accept"),
        ({"type": "python"}, "checks.function", "Field required"),
    ],
)
def test_python_bad_config(raw: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        make(raw)
    assert info.value.field == field
    assert message in info.value.message


def test_decorated_checks_are_registered_from_a_plugin_module() -> None:
    added = load_plugins(["support_checks"], FIXTURES)
    assert {"polite-reply", "mentions-var", "anything-goes"} <= set(REGISTRY)
    assert isinstance(added, list)
    assert grade({"type": "polite-reply"}, "Thank you!").outcome is PASS
    assert grade({"type": "polite-reply", "words": ["cheers"]}, "Thank you!").outcome is FAIL
    assert grade({"type": "not-polite-reply"}, "No.").outcome is PASS
    the_case = case(vars={"name": "Ada"})
    assert grade({"type": "mentions-var", "var": "name"}, "Hi Ada", the_case).outcome is PASS
    result = grade({"type": "anything-goes", "x": 1, "y": "{{ name }}"}, "o", the_case)
    assert result.outcome is PASS and "['x', 'y']" in result.reason


def test_decorated_check_params_are_validated_at_load() -> None:
    load_plugins(["support_checks"], FIXTURES)
    with pytest.raises(InputError) as info:
        make({"type": "mentions-var"})
    assert info.value.field == "checks.var"
    with pytest.raises(InputError) as info:
        make({"type": "polite-reply", "wrods": ["x"]})
    assert info.value.field == "checks.wrods" and "words" in info.value.message
    with pytest.raises(InputError):
        make({"type": "polite-reply", "words": "not a list"})


def test_decorator_forms_and_errors() -> None:
    @check
    def _tmp_plain(output: str, case: Any) -> bool:
        return output == "x"

    @check("tmp-named")
    def _tmp_named(output: str, case: Any, ctx: Any, n: int = 2) -> bool:
        return ctx.output_tokens is not None and ctx.output_tokens <= n

    try:
        assert _tmp_plain("x", None) is True  # still a plain function
        assert grade({"type": "-tmp-plain"}, "x").outcome is PASS
        assert grade({"type": "tmp-named"}, "x", output_tokens=2).outcome is PASS
        assert grade({"type": "tmp-named", "n": 1}, "x", output_tokens=2).outcome is FAIL
        with pytest.raises(TypeError, match="reserved"):
            check("tmp-bad")(lambda output, case, weight=1: True)
        with pytest.raises(TypeError, match="output, case"):
            check("tmp-bad2")(lambda output: True)
        with pytest.raises(ValueError, match="already registered"):
            check("contains")(lambda output, case: True)
    finally:
        for name in ("-tmp-plain", "tmp-named", "tmp-bad", "tmp-bad2"):
            REGISTRY.pop(name, None)


def _version(result: bool) -> Any:
    """The "same" function as a module reload makes it: same module and qualname, new object."""

    def again(output: str, case: Any) -> bool:
        return result

    return again


def test_reimporting_the_same_function_replaces_it() -> None:
    first, reloaded = _version(True), _version(False)
    assert first is not reloaded and first.__qualname__ == reloaded.__qualname__

    def other(output: str, case: Any) -> bool:
        return True

    try:
        check("tmp-again")(first)
        assert grade({"type": "tmp-again"}, "x").outcome is PASS
        check("tmp-again")(reloaded)  # no "already registered": the reload replaces it
        assert grade({"type": "tmp-again"}, "x").outcome is FAIL
        with pytest.raises(ValueError, match="already registered"):
            check("tmp-again")(other)  # a different function may not take the name
        assert grade({"type": "tmp-again"}, "x").outcome is FAIL
    finally:
        REGISTRY.pop("tmp-again", None)


def test_load_plugins_reports_import_errors() -> None:
    with pytest.raises(ValueError, match="cannot import"):
        load_plugins(["definitely_missing_plugin_mod"], FIXTURES)
