"""``provider: python``: calling conventions, return shapes, errors and build-time validation."""

from __future__ import annotations

import asyncio
import textwrap

import pytest

from evalkit.base.exceptions import InputError
from evalkit.execution.provider import create_provider
from evalkit.execution.provider.python import PythonProvider
from evalkit.model.provider import CallContext, TargetSpec

BOT = """
import asyncio
import time

from evalkit.base.exceptions import ProviderError

calls = []

def echo(messages, params):
    calls.append(params)
    return "echo: " + messages[-1]["content"]

async def async_echo(msgs, p):
    await asyncio.sleep(0)
    return {"text": msgs[-1]["content"].upper(), "input_tokens": 7, "output_tokens": 2}

def by_name(vars, ctx):
    return f"{vars['question']} / {ctx.case_id} / {ctx.repeat}"

def crash(messages, params):
    raise ValueError("index out of range in retriever")

def leaky(messages, params):
    raise RuntimeError("auth failed for key sk-ant-api03-abcdefghijklmnopqrstuvwx")

def rate_limited(messages, params):
    raise ProviderError("upstream 429", kind="rate_limit", retryable=True)

def wrong_type(messages, params):
    return 42

def slow(messages, params):
    time.sleep(1)
    return "late"

def one_arg(question):
    return question

class Bot:
    async def __call__(self, messages, params):
        return "from an object"

bot = Bot()
not_callable = 3
"""


@pytest.fixture
def module(tmp_path, monkeypatch):
    """A throwaway module on sys.path, named uniquely per test."""
    name = f"evalkit_test_bot_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(BOT))
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


def _provider(module: str, fn: str, **spec: object) -> PythonProvider:
    provider = create_provider(TargetSpec(provider="python", callable=f"{module}:{fn}", **spec))  # type: ignore[arg-type]
    assert isinstance(provider, PythonProvider)
    return provider


def test_sync_callable_gets_messages_and_merged_params(module, call):
    provider = _provider(module, "echo", params={"temperature": 0})
    out = call(provider, "c1")
    assert out.completion.text == "echo: question for c1"
    assert (out.completion.input_tokens, out.completion.output_tokens) == (0, 0)
    calls = __import__(module).calls
    assert calls == [{"temperature": 0}]


def test_async_callable_returning_a_dict(module, call):
    out = call(_provider(module, "async_echo", model="my-bot"), "c2")
    assert out.completion.text == "QUESTION FOR C2"
    assert (out.completion.input_tokens, out.completion.output_tokens) == (7, 2)
    assert out.completion.model == "my-bot"


def test_async_callable_object(module, call):
    assert call(_provider(module, "bot"), "c").completion.text == "from an object"


def test_named_parameters_get_vars_and_context(module):
    provider = _provider(module, "by_name")
    ctx = CallContext(case_id="refund", repeat=2, variables={"question": "late order?"})
    assert asyncio.run(provider.complete([], {}, ctx)).text == "late order? / refund / 2"


def test_exception_becomes_a_non_retryable_callable_error(module, call):
    """A bug in the callable is an error outcome (ProviderError), not a crash of the run."""
    out = call(_provider(module, "crash"), "c")
    assert (out.error.kind, out.error.retryable, out.attempts) == ("callable", False, 1)
    assert "ValueError: index out of range in retriever" in str(out.error)
    assert isinstance(out.error.__cause__, ValueError)


def test_secrets_in_exception_messages_are_redacted(module, call):
    out = call(_provider(module, "leaky"), "c")
    assert "sk-ant-api03-abcdefghijklmnopqrstuvwx" not in str(out.error)


def test_a_provider_error_from_the_callable_keeps_its_kind(module, call):
    out = call(_provider(module, "rate_limited"), "c")
    assert out.error.kind == "rate_limit" and out.attempts == 4  # retried by the policy


def test_wrong_return_type(module, call):
    out = call(_provider(module, "wrong_type"), "c")
    assert out.error.kind == "callable" and "got int" in str(out.error)


def test_timeout_is_not_retried(module, call):
    out = call(_provider(module, "slow", timeout=0.1), "c")
    assert (out.error.kind, out.error.retryable, out.attempts) == ("timeout", False, 1)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("no_colon_here", "expected 'module:function'"),
        ("evalkit_no_such_module_xyz:fn", "cannot import module"),
        ("{module}:missing", "has no attribute 'missing'"),
        ("{module}:not_callable", "is not callable"),
        ("{module}:one_arg", "must accept (messages, params)"),
    ],
)
def test_bad_callable_spec_is_an_input_error_at_build_time(module, target, message):
    with pytest.raises(InputError) as info:
        create_provider(TargetSpec(provider="python", callable=target.format(module=module)))
    assert message in str(info.value) and info.value.field == "target.callable"


def test_missing_callable_is_an_input_error():
    with pytest.raises(InputError, match="needs 'callable"):
        create_provider(TargetSpec(provider="python"))
